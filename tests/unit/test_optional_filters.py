"""The CORS and proxy-header filters act only when configured."""


def test_cors_answers_an_allowed_origin_when_configured(client_with):
    client = client_with('[cors]\nallowed_origin = https://dash.example\n')
    response = client.request(
        'OPTIONS', '/v2/images',
        headers={'Origin': 'https://dash.example',
                 'Access-Control-Request-Method': 'GET'})
    assert response.headers['Access-Control-Allow-Origin'] == \
        'https://dash.example'
    response = client.get('/v2/images',
                          headers={'Origin': 'https://other.example'})
    assert 'Access-Control-Allow-Origin' not in response.headers


def test_without_allowed_origins_there_are_no_cors_headers(client):
    response = client.get('/v2/images',
                          headers={'Origin': 'https://dash.example'})
    assert response.status_int == 200
    assert 'Access-Control-Allow-Origin' not in response.headers


FORWARDED = {'X-Forwarded-Proto': 'https',
             'X-Forwarded-Host': 'glance.example'}


def test_proxy_headers_give_urls_their_scheme_when_enabled(client_with):
    client = client_with(
        '[oslo_middleware]\nenable_proxy_headers_parsing = true\n')
    response = client.post('/v2/images', {'name': 'behind a proxy'},
                           headers=FORWARDED)
    assert response.location.startswith('https://glance.example/v2/images/')
    links = client.get('/versions', headers=FORWARDED).json
    assert links['versions'][0]['links'][0]['href'].startswith(
        'https://glance.example/')


def test_proxy_headers_are_ignored_unless_enabled(client):
    response = client.post('/v2/images', {'name': 'direct'},
                           headers=FORWARDED)
    assert response.location.startswith('http://localhost/v2/images/')
