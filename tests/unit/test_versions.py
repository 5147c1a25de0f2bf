"""The versions document, version negotiation and routing outside the
resources: what a client meets before it reaches an image."""
import pytest

from glance.api import versions

# Upstream's order of the v2 versions (not sorted); a service lists the
# ones whose features it has, in this order.
UPSTREAM_ORDER = ['v2.15', 'v2.9', 'v2.17', 'v2.7', 'v2.6', 'v2.5', 'v2.4',
                  'v2.3', 'v2.2', 'v2.1', 'v2.0']
# The features this service has at the time of writing, and what they make
# it advertise.
TODAYS_FEATURES = frozenset(['images', 'members', 'deactivate',
                             'community-visibility', 'hidden', 'multihash'])
TODAYS_VERSIONS = [('v2.7', 'CURRENT'), ('v2.5', 'SUPPORTED'),
                   ('v2.3', 'SUPPORTED'), ('v2.1', 'SUPPORTED'),
                   ('v2.0', 'SUPPORTED'), ('v1.1', 'SUPPORTED'),
                   ('v1.0', 'SUPPORTED')]
# The classic API, listed after v2 while enable_v1_api is on (the default).
V1_VERSIONS = ['v1.1', 'v1.0']


def entry(version_id, status, base='http://localhost'):
    major = version_id.split('.')[0]
    return {'id': version_id, 'status': status,
            'links': [{'rel': 'self', 'href': f'{base}/{major}/'}]}


def version_key(version_id):
    return tuple(int(part) for part in version_id[1:].split('.'))


def listed_ids(response):
    return [entry['id'] for entry in response.json['versions']]


def accepted_ids():
    return [entry['id'] for entry in
            versions.versions_document('http://h')['versions']]


# --- the document ------------------------------------------------------------

def test_root_answers_multiple_choices_with_the_versions(client):
    response = client.get('/')
    assert response.status_int == 300
    assert response.content_type == 'application/json'
    assert 'versions' in response.json


def test_versions_path_answers_ok_with_the_same_document(client):
    root = client.get('/')
    response = client.get('/versions')
    assert response.status_int == 200
    assert response.content_type == 'application/json'
    assert response.json == root.json


def test_document_lists_todays_features_exactly(client, monkeypatch):
    monkeypatch.setattr(versions, 'FEATURES', TODAYS_FEATURES)
    response = client.get('/versions')
    assert [(v['id'], v['status']) for v in response.json['versions']] \
        == TODAYS_VERSIONS


def test_document_is_exactly_todays(client, monkeypatch):
    monkeypatch.setattr(versions, 'FEATURES', TODAYS_FEATURES)
    response = client.get('/versions')
    assert response.json == {'versions': [
        entry(version_id, status) for version_id, status in TODAYS_VERSIONS]}


def test_document_entries_have_id_status_and_a_self_link(client):
    for listed in client.get('/versions').json['versions']:
        assert sorted(listed) == ['id', 'links', 'status']
        major = listed['id'].split('.')[0]
        assert listed['links'] == [{'rel': 'self',
                                    'href': f'http://localhost/{major}/'}]


def test_document_follows_upstream_order_then_v1(client):
    ids = listed_ids(client.get('/versions'))
    v2_ids = [v for v in ids if v.startswith('v2')]
    assert v2_ids == [v for v in UPSTREAM_ORDER if v in ids]
    assert ids == v2_ids + V1_VERSIONS


def test_exactly_the_highest_version_is_current(client):
    entries = client.get('/versions').json['versions']
    current = [e['id'] for e in entries if e['status'] == 'CURRENT']
    assert current == [max((e['id'] for e in entries), key=version_key)]
    assert {e['status'] for e in entries} == {'CURRENT', 'SUPPORTED'}


def test_base_versions_are_always_listed(client):
    ids = listed_ids(client.get('/versions'))
    assert {'v2.0', 'v2.1', 'v2.3', 'v2.5', 'v2.7'} <= set(ids)


def test_versions_without_their_features_are_not_listed(client):
    # No import, locations API, multi-store or cache here.
    ids = listed_ids(client.get('/versions'))
    for absent in ('v2.6', 'v2.9', 'v2.15', 'v2.17'):
        assert absent not in ids


def test_links_follow_the_request_host(client):
    response = client.get('/versions',
                          headers={'Host': 'images.example.org:8080'})
    hrefs = {e['links'][0]['href'] for e in response.json['versions']}
    assert hrefs == {'http://images.example.org:8080/v2/',
                     'http://images.example.org:8080/v1/'}


def test_links_use_public_endpoint_when_configured(client_with):
    client = client_with(
        '[DEFAULT]\npublic_endpoint = https://glance.example.com:443/img\n')
    hrefs = {e['links'][0]['href']
             for e in client.get('/').json['versions']}
    assert hrefs == {'https://glance.example.com:443/img/v2/',
                     'https://glance.example.com:443/img/v1/'}


# --- negotiation -------------------------------------------------------------

def test_plain_v2_prefix_reaches_the_api(client):
    response = client.get('/v2/images')
    assert response.status_int == 200
    assert response.json['images'] == []


@pytest.mark.parametrize('version', ['v2.0', 'v2.1', 'v2.3', 'v2.5',
                                     'v2.7'])
def test_listed_minor_version_in_path_reaches_v2(client, version):
    image = client.create_image(name='seen')
    response = client.get(f'/{version}/images')
    assert response.status_int == 200
    assert [i['id'] for i in response.json['images']] == [image['id']]


def test_every_listed_version_is_accepted_in_the_path(client):
    for version_id in accepted_ids():
        response = client.get(f'/{version_id}/images')
        assert response.status_int == 200, version_id


def test_minor_version_path_keeps_the_rest_of_the_path(client):
    image = client.create_image(name='deep')
    response = client.get(f"/v2.1/images/{image['id']}")
    assert response.status_int == 200
    assert response.json['name'] == 'deep'


@pytest.mark.parametrize('version', ['v2', 'v2.0', 'v2.7'])
def test_accept_media_type_selects_the_api(client, version):
    response = client.get(
        '/images',
        headers={'Accept': f'application/vnd.openstack.images-{version}'})
    assert response.status_int == 200
    assert response.json['schema'] == '/v2/schemas/images'


@pytest.mark.parametrize('path', ['/v3/images', '/v1.2/images',
                                  '/v2.99/images', '/v2.17/images',
                                  '/v2.6/images', '/v2.2/images', '/images',
                                  '/v/images', '/2/images'])
def test_unknown_version_in_path_gets_multiple_choices(client, path):
    response = client.get(path)
    assert response.status_int == 300
    assert listed_ids(response) == listed_ids(client.get('/versions'))


def test_unknown_version_in_accept_gets_multiple_choices(client):
    response = client.get(
        '/images',
        headers={'Accept': 'application/vnd.openstack.images-v2.99'})
    assert response.status_int == 300
    assert 'versions' in response.json


def test_unknown_version_for_any_method_gets_multiple_choices(client):
    response = client.post('/v3/images', {'name': 'x'})
    assert response.status_int == 300
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('path', ['/v2', '/v2.1', '/v2.7'])
def test_version_without_slash_redirects_to_v2_slash(client, path):
    response = client.get(path)
    assert response.status_int == 302
    assert response.location == 'http://localhost/v2/'


def test_versions_answers_any_method(client):
    response = client.post('/versions')
    assert response.status_int == 200
    assert 'versions' in response.json


@pytest.mark.parametrize('path', ['/v1/images', '/v1.1/images',
                                  '/v1.0/images'])
def test_v1_is_routed_by_default(client, path):
    response = client.get(path)
    assert response.status_int == 200
    assert response.json == {'images': []}


def test_v1_media_type_selects_v1(client):
    response = client.get(
        '/images', headers={'Accept': 'application/vnd.openstack.images-v1'})
    assert response.status_int == 200
    assert response.json == {'images': []}


def test_disabled_v1_is_neither_listed_nor_routed(client_with):
    client = client_with('[DEFAULT]\nenable_v1_api = false\n')
    document = client.get('/versions').json
    assert [v for v in listed_ids(client.get('/versions'))
            if v.startswith('v1')] == []
    for path in ('/v1/images', '/v1.1/images', '/v1/images/detail'):
        response = client.get(path)
        assert response.status_int == 300
        assert response.json == document


def test_disabled_v2_leaves_exactly_v1(client_with):
    client = client_with('[DEFAULT]\nenable_v2_api = false\n')
    assert client.get('/versions').json == {'versions': [
        entry('v1.1', 'SUPPORTED'), entry('v1.0', 'SUPPORTED')]}
    assert client.get('/v2/images').status_int == 300


# --- routing errors ----------------------------------------------------------

@pytest.mark.parametrize('path', ['/v2/', '/v2/foo', '/v2/images/x/bogus',
                                  '/v2/images/x/file/more',
                                  '/v2/images/x/actions/explode'])
def test_unknown_path_is_not_found(client, path):
    response = client.get(path)
    assert response.status_int == 404
    assert response.body == (b'404 Not Found\n\nThe resource could not be '
                             b'found.\n\n   ')


@pytest.mark.parametrize('method, path, allowed', [
    ('PUT', '/v2/images', 'GET, POST'),
    ('DELETE', '/v2/images', 'GET, POST'),
    ('POST', '/v2/images/x', 'GET, PATCH, DELETE'),
    ('PUT', '/v2/images/x', 'GET, PATCH, DELETE'),
    ('POST', '/v2/images/x/file', 'GET, PUT'),
    ('GET', '/v2/images/x/tags/t', 'PUT, DELETE'),
    ('GET', '/v2/images/x/actions/deactivate', 'POST'),
    ('POST', '/v2/schemas/image', 'GET'),
])
def test_wrong_method_on_known_path_is_405_with_allow(client, method, path,
                                                       allowed):
    response = client.request(method, path)
    assert response.status_int == 405
    assert response.headers['Allow'] == allowed
    assert (f'The method {method} is not allowed for this resource.'
            in response.text)


def test_head_is_not_routed(client):
    # As upstream: no route takes HEAD, so a known path answers 405.
    response = client.request('HEAD', '/v2/images')
    assert response.status_int == 405
    assert response.headers['Allow'] == 'GET, POST'
    assert response.body == b''


def test_unknown_method_on_unknown_path_is_not_implemented(client):
    response = client.request('FOO', '/v2/foo')
    assert response.status_int == 501
    assert 'The request method FOO is not implemented' in response.text


def test_healthcheck_answers_ok(client):
    response = client.get('/healthcheck')
    assert response.status_int == 200
    assert response.body == b'OK'


def test_responses_carry_a_request_id(client):
    response = client.get('/v2/images')
    assert response.headers['x-openstack-request-id'].startswith('req-')
