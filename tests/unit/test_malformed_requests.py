"""Requests no client should send, against the real application: each
gets a 4xx, never a 500 (issue 12).

- a body on a route that takes none: 400 "A body is not expected with
  this request.", on every such route of v1 and v2 (the table below is
  checked against the routers, so that a new route cannot be forgotten);
- integers no database column holds (min_disk, min_ram over 2^31 - 1; a
  filter of 2^63 or more): 400;
- a path that is not UTF-8, JSON nested 100,000 deep, a lone surrogate in
  a JSON string, NUL in text (PostgreSQL refuses it): 400; path variables
  are read as UTF-8.

What only a real server shows (a body shorter than its Content-Length) is
in tests/functional/test_malformed_requests.py.
"""
import json

import pytest

from glance.api.v1 import router as v1_router
from glance.api.v2 import router as v2_router
from glance.common import wsgi
from tests.helpers import PATCH_TYPE
from tests.helpers import assert_error
from tests.helpers import create
from tests.helpers import show
from tests.helpers import update

NO_BODY = 'A body is not expected with this request.'
DECODING_ERROR = ('Error decoding your request. Either the URL or the '
                  'request body contained characters that could not be '
                  'decoded by Glance')
TOO_DEEP = 'JSON in request body nested deeper than 64 levels.'
MEMBER = 'member-project'
TAG = 'a-tag'

# Every route of the routers, (method, path) as the router writes it.
# Routes that take no body:
BODYLESS = [
    ('GET', '/v2/schemas/image'),
    ('GET', '/v2/schemas/images'),
    ('GET', '/v2/schemas/member'),
    ('GET', '/v2/schemas/members'),
    ('GET', '/v2/images/{image_id}'),
    ('DELETE', '/v2/images/{image_id}'),
    ('GET', '/v2/images/{image_id}/file'),
    ('POST', '/v2/images/{image_id}/actions/deactivate'),
    ('POST', '/v2/images/{image_id}/actions/reactivate'),
    ('PUT', '/v2/images/{image_id}/tags/{tag_value}'),
    ('DELETE', '/v2/images/{image_id}/tags/{tag_value}'),
    ('GET', '/v2/images/{image_id}/members'),
    ('GET', '/v2/images/{image_id}/members/{member_id}'),
    ('DELETE', '/v2/images/{image_id}/members/{member_id}'),
    ('GET', '/v2/info/stores'),
    ('GET', '/v2/info/stores/detail'),
    ('DELETE', '/v2/stores/{store_id}/{image_id}'),
    ('GET', '/v1/images/{image_id}'),
    ('HEAD', '/v1/images/{image_id}'),
    ('DELETE', '/v1/images/{image_id}'),
    ('GET', '/v1/images/{image_id}/members'),
    ('GET', '/v1/images/{image_id}/members/{member_id}'),
    ('DELETE', '/v1/images/{image_id}/members/{member_id}'),
    ('GET', '/v1/shared-images/{member_id}'),
    ('GET', '/v2/schemas/task'),
    ('GET', '/v2/schemas/tasks'),
    ('GET', '/v2/tasks/{task_id}'),
    ('DELETE', '/v2/tasks/{task_id}'),
    ('GET', '/v2/images/{image_id}/tasks'),
]
# Lists, which read their query and ignore a body (upstream's too):
BODY_IGNORED = [
    ('GET', '/v2/images'),
    ('GET', '/v1/'),
    ('GET', '/v1/images'),
    ('GET', '/v1/images/detail'),
    ('HEAD', '/v1/images/detail'),
    ('GET', '/v2/tasks'),
]
# Routes that take a body:
BODY_TAKEN = [
    ('POST', '/v2/images'),
    ('PATCH', '/v2/images/{image_id}'),
    ('PUT', '/v2/images/{image_id}/file'),
    ('POST', '/v2/images/{image_id}/members'),
    ('PUT', '/v2/images/{image_id}/members/{member_id}'),
    ('POST', '/v1/images'),
    ('PUT', '/v1/images/{image_id}'),
    ('PUT', '/v1/images/{image_id}/members'),
    ('PUT', '/v1/images/{image_id}/members/{member_id}'),
    ('POST', '/v2/tasks'),
]


def routes_of(api, prefix):
    """(method, path) of each route of a router that calls an action (not
    the 405 and redirect routes)."""
    found = set()
    for route in api.factory({}).map.matchlist:
        methods = (route.conditions or {}).get('method')
        if methods:
            found.update((method, prefix + route.routepath)
                         for method in methods)
    return found


def test_the_table_holds_every_route(app):
    routes = routes_of(v1_router.API, '/v1') | routes_of(v2_router.API,
                                                          '/v2')
    table = BODYLESS + BODY_IGNORED + BODY_TAKEN

    assert len(set(table)) == len(table)
    assert routes == set(table)


@pytest.fixture
def shared_image(client):
    """A shared image with a member and a tag."""
    image = client.create_image(visibility='shared', tags=[TAG])
    response = client.post(f"/v2/images/{image['id']}/members",
                           {'member': MEMBER})
    assert response.status_int == 200, response.body
    return image


def concrete(path, image_id):
    return path.format(image_id=image_id, member_id=MEMBER, tag_value=TAG,
                       store_id='file',
                       task_id='7b9a4c36-2b8a-4c5e-9f5e-3f2d1c0b9a87')


@pytest.mark.parametrize('method, path', BODYLESS)
def test_a_body_where_none_is_expected_is_refused(client, shared_image,
                                                  method, path):
    response = client.request(method, concrete(path, shared_image['id']),
                              b'{}', content_type='application/json')

    assert response.status_int == 400, response.body
    if method != 'HEAD':
        assert NO_BODY in response.text
    # Nothing was done: the image, its member and tag are all there.
    image = show(client, shared_image['id'])
    assert (image['status'], image['tags']) == ('queued', [TAG])
    members = client.get(f"/v2/images/{image['id']}/members").json
    assert [m['member_id'] for m in members['members']] == [MEMBER]


@pytest.mark.parametrize('method, path', BODY_IGNORED)
def test_a_list_ignores_a_body(client, shared_image, method, path):
    response = client.request(method, path, b'{}',
                              content_type='application/json')

    assert response.status_int in (200, 405), response.body
    assert NO_BODY not in response.text


def test_a_wrong_method_with_a_body_is_still_405(client, shared_image):
    response = client.request('POST', f"/v2/images/{shared_image['id']}",
                              b'{}', content_type='application/json')
    assert response.status_int == 405
    assert response.headers['Allow'] == 'GET, PATCH, DELETE'


def test_a_v1_member_is_added_with_or_without_a_body(client, shared_image):
    path = f"/v1/images/{shared_image['id']}/members/"
    assert client.put(path + 'plain').status_int == 204
    response = client.put(path + 'resharer',
                          {'member': {'can_share': True}})
    assert response.status_int == 204
    members = client.get(f"/v1/images/{shared_image['id']}/members").json
    assert {m['member_id']: m['can_share'] for m in members['members']} == {
        MEMBER: False, 'plain': False, 'resharer': True}


# -- integers the database cannot hold ---------------------------------------

OUT_OF_RANGE = "'%s' value out of range, must not exceed 2147483647."
TOO_BIG = [2 ** 31, 2 ** 63, 2 ** 100]


@pytest.mark.parametrize('name', ['min_disk', 'min_ram'])
@pytest.mark.parametrize('value', TOO_BIG)
def test_v2_create_with_a_minimum_out_of_range(client, name, value):
    response = client.post('/v2/images', {name: value})

    assert_error(response, 400, OUT_OF_RANGE % name)
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('name', ['min_disk', 'min_ram'])
@pytest.mark.parametrize('value', TOO_BIG)
def test_v2_patch_with_a_minimum_out_of_range(client, name, value):
    image = client.create_image()

    response = client.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/' + name, 'value': value}])

    assert_error(response, 400, OUT_OF_RANGE % name)
    assert show(client, image['id'])[name] == 0


@pytest.mark.parametrize('name', ['min_disk', 'min_ram'])
def test_the_largest_minimum_is_kept(client, name):
    image = client.create_image(**{name: 2 ** 31 - 1})
    assert show(client, image['id'])[name] == 2 ** 31 - 1


@pytest.mark.parametrize('header', ['min-disk', 'min_ram'])
@pytest.mark.parametrize('value', TOO_BIG)
def test_v1_create_and_update_with_a_minimum_out_of_range(client, header,
                                                          value):
    name = header.replace('-', '_')
    headers = {'x-image-meta-' + header: str(value)}
    response = create(client, headers=headers, status=400)
    assert OUT_OF_RANGE % name in response.text
    assert client.get('/v2/images').json['images'] == []

    image = create(client)
    response = update(client, image['id'], headers=headers, status=400)
    assert OUT_OF_RANGE % name in response.text
    assert show(client, image['id'])[name] == 0


@pytest.mark.parametrize('value', [2 ** 63, 2 ** 100])
def test_v1_create_with_a_size_out_of_range(client, value):
    response = create(client, headers={'x-image-meta-size': str(value)},
                      status=400)
    assert 'Denying attempt to upload image larger than' in response.text


@pytest.mark.parametrize('query, message', [
    ('size_min=%d' % 2 ** 63,
     'Unable to filter on a range with a non-numeric value.'),
    ('size_max=%d' % 2 ** 63,
     'Unable to filter on a range with a non-numeric value.'),
    ('virtual_size_min=%d' % -2 ** 64,
     'Unable to filter on a range with a non-numeric value.'),
    ('min_ram=%d' % 2 ** 63, 'Invalid value for min_ram: %d' % 2 ** 63),
    ('min_disk=%d' % 2 ** 70, 'Invalid value for min_disk: %d' % 2 ** 70),
    ('size=%d' % 2 ** 63, 'Invalid value for size: %d' % 2 ** 63),
])
def test_v2_filters_out_of_range(client, query, message):
    client.create_image(min_ram=1)
    assert_error(client.get('/v2/images?' + query), 400, message)


@pytest.mark.parametrize('path', ['/v1/images', '/v1/images/detail'])
@pytest.mark.parametrize('name', ['size_min', 'size_max', 'min_ram',
                                  'min_disk'])
def test_v1_filters_out_of_range(client, path, name):
    create(client)
    value = 2 ** 63
    assert_error(client.get(f'{path}?{name}={value}'), 400,
                 f'Bad value passed to filter {name} got {value}')


def test_the_largest_filters_are_answered(client):
    image = client.create_image(min_ram=2 ** 31 - 1)
    largest = 2 ** 63 - 1

    def ids(query):
        response = client.get('/v2/images?' + query)
        assert response.status_int == 200, response.body
        return [found['id'] for found in response.json['images']]

    assert ids(f'min_ram={2 ** 31 - 1}') == [image['id']]
    assert ids(f'size_max={largest}') == []  # no data: no size
    assert ids(f'size_min={largest}') == []
    response = client.get(f'/v1/images/detail?size_max={largest}')
    assert response.status_int == 200, response.body


# -- malformed bytes --------------------------------------------------------

@pytest.mark.parametrize('method, path', [
    ('GET', '/v2/images/%FF'),
    ('DELETE', '/v2/images/%C3'),
    ('PUT', '/v2/images/{image_id}/tags/%ED%A0%80'),  # an encoded surrogate
    ('GET', '/v1/images/%FF'),
    ('HEAD', '/v1/images/%FF'),
    ('GET', '/v1/images/%FF/members'),
    ('GET', '/%FF'),
    ('GET', '/v2/%FF'),
    ('GET', '/v2/images?name=%FF'),
    # NUL, which PostgreSQL does not take in text
    ('GET', '/v2/images/a%00b'),
    ('PUT', '/v2/images/{image_id}/tags/a%00b'),
    ('GET', '/v2/images?name=a%00b'),
    ('GET', '/v1/images/detail?a%00b=1'),
    ('PUT', '/v1/images/{image_id}/members/a%00b'),
])
def test_a_path_that_is_not_utf8_is_refused(client, method, path):
    image = client.create_image()

    response = client.request(method, path.format(image_id=image['id']))

    assert response.status_int == 400, response.body
    if method != 'HEAD':
        assert DECODING_ERROR in response.text
    assert show(client, image['id'])['tags'] == []


def test_path_variables_are_utf8(client):
    image = client.create_image()
    path = f"/v2/images/{image['id']}"

    assert client.put(path + '/tags/caf%C3%A9').status_int == 204
    assert client.put(f"/v1/images/{image['id']}/members/%C3%A9").status_int \
        == 204

    assert show(client, image['id'])['tags'] == ['caf\u00e9']
    assert client.get(path + '/members').json['members'][0]['member_id'] \
        == '\u00e9'
    assert client.delete(path + '/tags/caf%C3%A9').status_int == 204
    assert_error(client.get('/v2/images/%C3%A9'), 404,
                 'No image found with ID \u00e9')


def test_nul_in_a_v1_header_is_refused(client):
    response = create(client, status=400, name='a\x00b')
    assert DECODING_ERROR in response.text
    assert client.get('/v2/images').json['images'] == []


def nested(depth, innermost='"x"'):
    return '[' * depth + innermost + ']' * depth


# (method, path, JSON text with {value} where the hostile value goes,
# content type)
JSON_BODIES = [
    ('POST', '/v2/images', '{{"name": {value}}}', None),
    ('POST', '/v2/images', '{{"custom": {value}}}', None),
    ('POST', '/v2/images', '{{"tags": [{value}]}}', None),
    ('PATCH', '/v2/images/{image_id}',
     '[{{"op": "replace", "path": "/name", "value": {value}}}]', PATCH_TYPE),
    ('PATCH', '/v2/images/{image_id}',
     '[{{"op": "add", "path": "/custom", "value": {value}}}]', PATCH_TYPE),
    ('POST', '/v2/images/{image_id}/members', '{{"member": {value}}}', None),
    ('PUT', '/v2/images/{image_id}/members/' + MEMBER,
     '{{"status": {value}}}', None),
    ('PUT', '/v1/images/{image_id}/members',
     '{{"memberships": [{{"member_id": {value}}}]}}', None),
    ('PUT', '/v1/images/{image_id}/members/' + MEMBER,
     '{{"member": {{"can_share": {value}}}}}', None),
]


def send_json(client, image_id, method, path, template, content_type, value):
    body = template.format(value=value).encode()
    return client.request(method, path.format(image_id=image_id), body,
                          content_type=content_type or 'application/json')


def assert_nothing_changed(client, image):
    """The image as it was, still alone, with its one member."""
    assert show(client, image['id']) == image
    assert [found['id'] for found in
            client.get('/v2/images').json['images']] == [image['id']]
    members = client.get(f"/v2/images/{image['id']}/members").json
    assert [m['member_id'] for m in members['members']] == [MEMBER]


@pytest.mark.parametrize('method, path, template, content_type', JSON_BODIES)
@pytest.mark.parametrize('depth, message', [
    (100000, TOO_DEEP),  # past the parser's recursion limit
    (65, TOO_DEEP),      # parsed, but deeper than any body needs
])
def test_json_nested_too_deep_is_refused(client, shared_image, method, path,
                                         template, content_type, depth,
                                         message):
    image = show(client, shared_image['id'])

    response = send_json(client, image['id'], method, path, template,
                         content_type, nested(depth))

    assert_error(response, 400, message)
    assert_nothing_changed(client, image)


def test_json_nested_as_deep_as_allowed_is_read(client):
    # The document, then lists: 64 levels of them are read (and the
    # schema refuses the name), 65 are not.
    deepest = wsgi.MAX_JSON_DEPTH - 1
    response = client.post('/v2/images', {'name': json.loads(nested(deepest))})
    assert_error(response, 400, "is not of type 'null', 'string'")

    response = client.post('/v2/images',
                           {'name': json.loads(nested(deepest + 1))})
    assert_error(response, 400, TOO_DEEP)


@pytest.mark.parametrize('method, path, template, content_type', JSON_BODIES)
@pytest.mark.parametrize('value', [
    r'"\ud800"', r'"tail \udfff"', r'"\udc00\ud800"',
    # the raw bytes of a surrogate, which Python's JSON reader lets pass
    b'"\xed\xa0\x80"'.decode('latin-1'),
    r'"a\u0000b"',  # NUL, which PostgreSQL does not take in text
])
def test_a_lone_surrogate_in_json_is_refused(client, shared_image, method,
                                             path, template, content_type,
                                             value):
    image = show(client, shared_image['id'])

    body = template.format(value=value).encode('latin-1')
    response = client.request(method, path.format(image_id=image['id']),
                              body,
                              content_type=content_type or 'application/json')

    assert_error(response, 400, DECODING_ERROR)
    assert_nothing_changed(client, image)


def test_a_lone_surrogate_in_a_property_name_is_refused(client):
    response = client.request('POST', '/v2/images', b'{"\\ud800": "x"}',
                              content_type='application/json')
    assert_error(response, 400, DECODING_ERROR)
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('encoding', ['utf-16-le', 'utf-32-be'])
def test_a_lone_surrogate_in_a_utf16_or_32_body_is_refused(client, encoding):
    # JSON's other encodings, which Python's reader takes as well: the
    # surrogate is no escape there, nor UTF-8 bytes.
    body = '{"name": "\ud800"}'.encode(encoding, 'surrogatepass')
    response = client.request('POST', '/v2/images', body,
                              content_type='application/json')
    assert_error(response, 400, DECODING_ERROR)
    assert client.get('/v2/images').json['images'] == []


def test_a_surrogate_pair_is_a_character(client):
    image = client.create_image(name='\U0001F600')  # sent as \ud83d\ude00
    assert show(client, image['id'])['name'] == '\U0001F600'
