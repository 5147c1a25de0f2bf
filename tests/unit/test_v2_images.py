"""API tests of /v2/images and /v2/images/{id}: create, show, update
(JSON patch, both media types), delete, and the form of error bodies.

The default flavor makes every caller the admin.
"""
import datetime
import re

import pytest

import glance.db
from glance.db import images as image_db
from tests.helpers import MISSING_ID
from tests.helpers import PATCH_TYPE
from tests.helpers import assert_error
from tests.helpers import show

PATCH_V20 = 'application/openstack-images-v2.0-json-patch'
ACCEPT_PATCH = ('application/openstack-images-v2.0-json-patch, '
                'application/openstack-images-v2.1-json-patch')
IMAGE_ID = '5a1e2c3d-7b8a-4c9d-8e0f-123456789abc'
SCHEMA_ERROR = "Provided object does not match schema 'image': "
TIME_FORMAT = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
DATA = b'some image bytes'


def add(path, value):
    return {'op': 'add', 'path': path, 'value': value}


def replace(path, value):
    return {'op': 'replace', 'path': path, 'value': value}


def remove(path):
    return {'op': 'remove', 'path': path}


def patch(client, image_id, *changes, media_type=PATCH_TYPE):
    return client.patch(f'/v2/images/{image_id}', list(changes),
                        content_type=media_type)


def active_image(client, **values):
    image = client.create_image(**values)
    assert client.upload(image['id'], DATA).status_int == 204
    return show(client, image['id'])


def backdate(image_id):
    """Put the image's updated_at far in the past (timestamps shown have
    whole seconds, too coarse to see a change made in the same second)."""
    with glance.db.writing() as session:
        image_db.image_update(session, image_id,
                              {'updated_at': datetime.datetime(2001, 2, 3)},
                              touch=False)
    assert show_updated_at(image_id) == datetime.datetime(2001, 2, 3)


def show_updated_at(image_id):
    with glance.db.reading() as session:
        return image_db.image_get(session, image_id)['updated_at']


# --- create ------------------------------------------------------------------

def test_create_answers_201_with_location(client):
    response = client.post('/v2/images', {'name': 'cirros'})
    assert response.status_int == 201
    assert response.content_type == 'application/json'
    image = response.json
    assert response.location == f"http://localhost/v2/images/{image['id']}"


def test_create_defaults(client):
    image = client.post('/v2/images', {}).json
    assert image['status'] == 'queued'
    assert image['visibility'] == 'shared'
    assert image['protected'] is False
    assert image['os_hidden'] is False
    assert image['min_ram'] == 0
    assert image['min_disk'] == 0
    assert image['tags'] == []
    for name in ('name', 'size', 'virtual_size', 'checksum', 'os_hash_algo',
                 'os_hash_value', 'disk_format', 'container_format'):
        assert image[name] is None, name


def test_create_gives_a_uuid_and_links(client):
    image = client.post('/v2/images', {}).json
    assert re.match(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-'
                    r'[0-9a-f]{12}$', image['id'])
    assert image['self'] == f"/v2/images/{image['id']}"
    assert image['file'] == f"/v2/images/{image['id']}/file"
    assert image['schema'] == '/v2/schemas/image'


def test_create_timestamps(client):
    image = client.post('/v2/images', {}).json
    assert TIME_FORMAT.match(image['created_at'])
    assert image['updated_at'] == image['created_at']


def test_image_view_has_exactly_the_base_keys_and_extra_properties(client):
    image = client.post('/v2/images', {'hypervisor_type': 'kvm'}).json
    assert sorted(image) == sorted([
        'checksum', 'container_format', 'created_at', 'disk_format', 'file',
        'id', 'min_disk', 'min_ram', 'name', 'os_hash_algo', 'os_hash_value',
        'os_hidden', 'owner', 'protected', 'schema', 'self', 'size', 'status',
        'tags', 'updated_at', 'virtual_size', 'visibility',
        'hypervisor_type'])


def test_create_stores_given_attributes(client):
    image = client.create_image(
        name='full', visibility='private', protected=True, os_hidden=True,
        min_ram=512, min_disk=2, disk_format='qcow2', container_format='ovf',
        owner='project-a', tags=['t1', 't2'])
    assert show(client, image['id']) == image
    assert (image['name'], image['visibility'], image['protected'],
            image['os_hidden'], image['min_ram'], image['min_disk'],
            image['disk_format'], image['container_format'],
            image['owner'], image['tags']) == (
        'full', 'private', True, True, 512, 2, 'qcow2', 'ovf', 'project-a',
        ['t1', 't2'])


def test_create_with_extra_properties(client):
    image = client.create_image(os_distro='ubuntu', hw_disk_bus='scsi')
    assert image['os_distro'] == 'ubuntu'
    assert show(client, image['id'])['hw_disk_bus'] == 'scsi'


def test_create_with_given_id(client):
    response = client.post('/v2/images', {'id': IMAGE_ID})
    assert response.status_int == 201
    assert response.json['id'] == IMAGE_ID
    assert show(client, IMAGE_ID)['id'] == IMAGE_ID


def test_create_with_duplicate_id_is_conflict(client):
    client.create_image(id=IMAGE_ID)
    response = client.post('/v2/images', {'id': IMAGE_ID})
    assert response.status_int == 409
    assert response.body == (b'409 Conflict\n\nImage ID %s already exists!'
                             b'\n\n   ' % IMAGE_ID.encode())


def test_id_of_deleted_image_is_never_reused(client):
    client.create_image(id=IMAGE_ID)
    assert client.delete(f'/v2/images/{IMAGE_ID}').status_int == 204
    assert_error(client.post('/v2/images', {'id': IMAGE_ID}), 409,
                 f'Image ID {IMAGE_ID} already exists!')


def test_create_deduplicates_tags_keeping_order(client):
    image = client.create_image(tags=['b', 'a', 'b', 'c', 'a'])
    assert image['tags'] == ['b', 'a', 'c']
    assert show(client, image['id'])['tags'] == ['b', 'a', 'c']


def test_create_ignores_hash_values(client):
    image = client.create_image(os_hash_algo='md5')
    assert image['os_hash_algo'] is None


@pytest.mark.parametrize('visibility', ['public', 'private', 'shared',
                                        'community'])
def test_admin_creates_any_visibility(client, visibility):
    assert client.create_image(visibility=visibility)['visibility'] \
        == visibility


@pytest.mark.parametrize('name, value', [
    ('status', 'active'), ('checksum', 'x'), ('size', 1),
    ('virtual_size', 1), ('created_at', 'x'), ('updated_at', 'x'),
    ('self', 'x'), ('file', 'x'), ('schema', 'x'), ('direct_url', 'x'),
    ('stores', 'x'),
])
def test_create_with_read_only_attribute_is_forbidden(client, name, value):
    # (A value the schema refuses is refused first, with 400.)
    response = client.post('/v2/images', {name: value})
    assert response.status_int == 403
    assert response.body == (b"403 Forbidden\n\nAttribute '%s' is "
                             b"read-only.\n\n   " % name.encode())


@pytest.mark.parametrize('name', ['location', 'deleted', 'deleted_at',
                                  'os_glance_import_task', 'os_glance_x'])
def test_create_with_reserved_attribute_is_forbidden(client, name):
    response = client.post('/v2/images', {name: 'x'})
    assert response.status_int == 403
    assert response.body == (b"403 Forbidden\n\nAccess was denied to this "
                             b"resource.\n\n Attribute '%s' is reserved.  "
                             % name.encode())


def test_create_with_locations_is_forbidden(client):
    response = client.post('/v2/images', {'locations': []})
    assert response.status_int == 403
    assert "Attribute 'locations' is reserved." in response.text


def test_refused_create_leaves_no_image(client):
    client.post('/v2/images', {'name': 'x', 'status': 'active'})
    client.post('/v2/images', {'name': 'x', 'os_glance_x': 'y'})
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('body, detail', [
    ({'name': 5}, "5 is not of type 'null', 'string'"),
    ({'name': 'n' * 256}, 'is too long'),
    ({'visibility': 'bogus'}, ("'bogus' is not one of ['community', "
                               "'public', 'private', 'shared']")),
    ({'protected': 'yes'}, "'yes' is not of type 'boolean'"),
    ({'os_hidden': 1}, "1 is not of type 'boolean'"),
    ({'min_ram': '5'}, "'5' is not of type 'integer'"),
    ({'disk_format': 'floppy'}, "'floppy' is not one of [None, 'ami'"),
    ({'container_format': 'tarball'}, "'tarball' is not one of [None, "),
    ({'tags': 'abc'}, "'abc' is not of type 'array'"),
    ({'tags': ['t' * 256]}, 'is too long'),
    ({'tags': [1]}, "1 is not of type 'string'"),
    ({'id': 'not-a-uuid'}, "'not-a-uuid' does not match"),
    ({'hw_foo': 5}, "5 is not of type 'string'"),
    ({'hw_foo': None}, "None is not of type 'string'"),
])
def test_create_schema_violation_is_bad_request(client, body, detail):
    response = client.post('/v2/images', body)
    assert_error(response, 400, SCHEMA_ERROR)
    assert detail in response.text


def test_schema_error_names_the_failing_attribute(client):
    response = client.post('/v2/images', {'visibility': 'bogus'})
    assert "Failed validating 'enum' in schema['properties']['visibility']" \
        in response.text
    assert "On instance['visibility']" in response.text


def test_create_with_key_longer_than_255_is_bad_request(client):
    response = client.post('/v2/images', {'k' * 256: 'v'})
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\nCustom property should not '
                             b'be greater than 255 characters.\n\n   ')


def test_create_with_key_of_255_is_fine(client):
    assert client.create_image(**{'k' * 255: 'v'})['k' * 255] == 'v'


@pytest.mark.parametrize('name', ['min_ram', 'min_disk'])
def test_create_with_negative_minimum_is_bad_request(client, name):
    response = client.post('/v2/images', {name: -1})
    assert response.status_int == 400
    assert response.body == (b"400 Bad Request\n\nInvalid value '-1' for "
                             b"parameter '%s': Cannot be a negative value"
                             b"\n\n   " % name.encode())


def test_create_with_malformed_json_is_bad_request(client):
    response = client.post('/v2/images', b'{"name": ',
                           content_type='application/json')
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\nMalformed JSON in request '
                             b'body.\n\n   ')


def test_create_without_body_is_bad_request(client):
    response = client.post('/v2/images')
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\nBody expected in request.'
                             b'\n\n   ')


@pytest.mark.parametrize('body', [b'3', b'"name"', b'null', b'true'])
def test_create_with_scalar_json_is_bad_request(client, body):
    response = client.post('/v2/images', body,
                           content_type='application/json')
    assert_error(response, 400, 'Unexpected body type. Expected list/dict.')


@pytest.mark.parametrize('body', [b'[]', b'[{"name": "x"}]'])
def test_create_with_json_array_is_bad_request(client, body):
    # Upstream answers 500 here.
    response = client.post('/v2/images', body,
                           content_type='application/json')
    assert_error(response, 400, SCHEMA_ERROR)
    assert client.get('/v2/images').json['images'] == []


def test_create_ignores_the_content_type(client):
    response = client.post('/v2/images', b'{"name": "plain"}',
                           content_type='text/plain')
    assert response.status_int == 201
    assert response.json['name'] == 'plain'


# --- quotas on create --------------------------------------------------------

def test_property_quota_on_create(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = 2\n')
    assert client.post('/v2/images', {'a': '1', 'b': '2'}).status_int == 201
    response = client.post('/v2/images', {'a': '1', 'b': '2', 'c': '3'})
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'properties. Attempted: 3, Maximum: 2') in response.text


def test_base_attributes_do_not_count_against_property_quota(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = 0\n')
    response = client.post('/v2/images', {
        'name': 'n', 'min_ram': 1, 'visibility': 'private',
        'disk_format': 'raw', 'container_format': 'bare', 'tags': ['t']})
    assert response.status_int == 201


def test_negative_property_quota_is_unlimited(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = -1\n')
    properties = {f'p{n}': 'v' for n in range(200)}
    assert client.post('/v2/images', properties).status_int == 201


def test_tag_quota_on_create(client_with):
    client = client_with('[DEFAULT]\nimage_tag_quota = 2\n')
    response = client.post('/v2/images', {'tags': ['a', 'b', 'c']})
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'tags. Attempted: 3, Maximum: 2') in response.text
    assert client.get('/v2/images').json['images'] == []


def test_tag_quota_counts_tags_once(client_with):
    client = client_with('[DEFAULT]\nimage_tag_quota = 2\n')
    response = client.post('/v2/images', {'tags': ['a', 'b', 'a', 'b']})
    assert response.status_int == 201
    assert response.json['tags'] == ['a', 'b']


# --- show --------------------------------------------------------------------

def test_show_returns_the_created_image(client):
    image = client.create_image(name='shown', foo='bar')
    response = client.get(f"/v2/images/{image['id']}")
    assert response.status_int == 200
    assert response.content_type == 'application/json'
    assert response.json == image


def test_show_missing_image_is_not_found(client):
    response = client.get(f'/v2/images/{MISSING_ID}')
    assert response.status_int == 404
    assert response.content_type == 'text/plain'
    assert response.body == (b'404 Not Found\n\nNo image found with ID %s'
                             b'\n\n   ' % MISSING_ID.encode())


def test_show_with_a_non_uuid_id_is_not_found(client):
    assert_error(client.get('/v2/images/nope'), 404,
                 'No image found with ID nope')


def test_show_with_body_is_bad_request(client):
    image = client.create_image()
    response = client.get(f"/v2/images/{image['id']}", body=b'{}',
                          content_type='application/json')
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\nA body is not expected '
                             b'with this request.\n\n   ')


# --- error body formats ------------------------------------------------------

def test_error_body_is_json_when_asked(client):
    response = client.get(f'/v2/images/{MISSING_ID}',
                          headers={'Accept': 'application/json'})
    assert response.status_int == 404
    assert response.content_type == 'application/json'
    assert response.json == {
        'message': f'No image found with ID {MISSING_ID}<br /><br />\n\n\n',
        'code': '404 Not Found',
        'title': 'Not Found'}


def test_error_body_is_html_when_asked(client):
    response = client.get(f'/v2/images/{MISSING_ID}',
                          headers={'Accept': 'text/html'})
    assert response.status_int == 404
    assert response.content_type == 'text/html'
    assert response.text == (
        '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n'
        ' <body>\n  <h1>404 Not Found</h1>\n  No image found with ID '
        f'{MISSING_ID}'
        '<br /><br />\n\n\n\n </body>\n</html>')


def test_error_body_for_any_accept_is_html(client):
    response = client.get(f'/v2/images/{MISSING_ID}',
                          headers={'Accept': '*/*'})
    assert response.content_type == 'text/html'


def test_error_with_detail_in_json(client):
    image = client.create_image()
    response = client.patch(f"/v2/images/{image['id']}",
                            [remove('/nope')],
                            headers={'Accept': 'application/json'})
    assert response.status_int == 409
    assert response.json['code'] == '409 Conflict'
    assert 'Property nope does not exist.' in response.json['message']


# --- delete ------------------------------------------------------------------

def test_delete_answers_204_and_the_image_is_gone(client):
    image = client.create_image()
    response = client.delete(f"/v2/images/{image['id']}")
    assert response.status_int == 204
    assert response.body == b''
    assert_error(client.get(f"/v2/images/{image['id']}"), 404,
                 f"No image found with ID {image['id']}")


def test_deleted_image_is_not_listed(client):
    kept = client.create_image(name='kept')
    gone = client.create_image(name='gone')
    client.delete(f"/v2/images/{gone['id']}")
    listed = client.get('/v2/images').json['images']
    assert [i['id'] for i in listed] == [kept['id']]


def test_delete_missing_image_is_not_found(client):
    response = client.delete(f'/v2/images/{MISSING_ID}')
    assert response.status_int == 404
    assert response.body == (b'404 Not Found\n\nFailed to find image %s to '
                             b'delete\n\n   ' % MISSING_ID.encode())


def test_delete_twice_is_not_found(client):
    image = client.create_image()
    client.delete(f"/v2/images/{image['id']}")
    assert_error(client.delete(f"/v2/images/{image['id']}"), 404,
                 f"Failed to find image {image['id']} to delete")


def test_delete_protected_image_is_forbidden(client):
    image = client.create_image(protected=True)
    response = client.delete(f"/v2/images/{image['id']}")
    assert response.status_int == 403
    assert response.body == (b'403 Forbidden\n\nImage %s is protected and '
                             b'cannot be deleted.\n\n   '
                             % image['id'].encode())
    assert show(client, image['id'])['status'] == 'queued'


def test_unprotected_image_can_then_be_deleted(client):
    image = client.create_image(protected=True)
    patch(client, image['id'], replace('/protected', False))
    assert client.delete(f"/v2/images/{image['id']}").status_int == 204


def test_delete_with_body_is_bad_request(client):
    image = client.create_image()
    response = client.delete(f"/v2/images/{image['id']}", body=b'{}',
                             content_type='application/json')
    assert_error(response, 400, 'A body is not expected with this request.')
    assert show(client, image['id'])['id'] == image['id']


def test_delete_active_image(client):
    image = active_image(client)
    assert client.delete(f"/v2/images/{image['id']}").status_int == 204
    assert client.get(f"/v2/images/{image['id']}/file").status_int == 404


# --- PATCH: media types ------------------------------------------------------

@pytest.mark.parametrize('content_type', ['application/json',
                                          'application/json-patch+json',
                                          'text/plain'])
def test_patch_with_other_media_type_is_unsupported(client, content_type):
    image = client.create_image()
    response = patch(client, image['id'], replace('/name', 'x'),
                     media_type=content_type)
    assert response.status_int == 415
    assert response.headers['Accept-Patch'] == ACCEPT_PATCH
    assert response.body == (
        b'415 Unsupported Media Type\n\nThe request media type %s is not '
        b'supported by this server. \n\n Image PATCH expects Content-Type '
        b'one of: %s' % (content_type.encode(), ACCEPT_PATCH.encode()))
    assert show(client, image['id'])['name'] is None


def test_patch_without_media_type_is_unsupported(client):
    image = client.create_image()
    response = client.request('PATCH', f"/v2/images/{image['id']}",
                              b'[]')
    assert response.status_int == 415
    assert response.headers['Accept-Patch'] == ACCEPT_PATCH


def test_patch_missing_image_is_not_found(client):
    response = patch(client, MISSING_ID, replace('/name', 'x'))
    assert_error(response, 404, f'No image found with ID {MISSING_ID}')


# --- PATCH: v2.1 (RFC 6902 subset) -------------------------------------------

def test_patch_answers_200_with_the_image(client):
    image = client.create_image(name='before')
    response = patch(client, image['id'], replace('/name', 'after'))
    assert response.status_int == 200
    assert response.content_type == 'application/json'
    assert response.json['name'] == 'after'
    assert response.json == show(client, image['id'])


def test_patch_add_new_property(client):
    image = client.create_image()
    updated = patch(client, image['id'], add('/os_distro', 'fedora')).json
    assert updated['os_distro'] == 'fedora'


def test_patch_add_existing_property_replaces_it(client):
    image = client.create_image(foo='bar')
    updated = patch(client, image['id'], add('/foo', 'baz')).json
    assert updated['foo'] == 'baz'


def test_patch_add_base_attribute_replaces_it(client):
    image = client.create_image(name='old')
    assert patch(client, image['id'], add('/name', 'new')).json['name'] \
        == 'new'


def test_patch_replace_property(client):
    image = client.create_image(foo='bar')
    assert patch(client, image['id'], replace('/foo', 'qux')).json['foo'] \
        == 'qux'


def test_patch_replace_missing_property_is_conflict(client):
    image = client.create_image()
    response = patch(client, image['id'], replace('/nope', 'v'))
    assert response.status_int == 409
    assert response.body == (
        b'409 Conflict\n\nThere was a conflict when trying to complete your '
        b'request.\n\n Property nope does not exist.  ')


def test_patch_remove_property(client):
    image = client.create_image(foo='bar', keep='me')
    updated = patch(client, image['id'], remove('/foo')).json
    assert 'foo' not in updated
    assert updated['keep'] == 'me'
    assert 'foo' not in show(client, image['id'])


def test_patch_remove_missing_property_is_conflict(client):
    image = client.create_image()
    assert_error(patch(client, image['id'], remove('/nope')), 409,
                 'Property nope does not exist.')


@pytest.mark.parametrize('name, value', [
    ('name', 'renamed'), ('name', None), ('min_ram', 1024), ('min_disk', 20),
    ('protected', True), ('os_hidden', True), ('visibility', 'private'),
    ('visibility', 'community'), ('visibility', 'public'),
    ('disk_format', 'qcow2'), ('container_format', 'ova'),
])
def test_patch_replace_base_attribute(client, name, value):
    image = client.create_image()
    response = patch(client, image['id'], replace('/' + name, value))
    assert response.status_int == 200, response.body
    assert response.json[name] == value
    assert show(client, image['id'])[name] == value


def test_patch_applies_changes_in_order(client):
    image = client.create_image(foo='bar')
    updated = patch(client, image['id'], add('/x', '1'), replace('/x', '2'),
                    remove('/foo'), add('/foo', 'again')).json
    assert (updated['x'], updated['foo']) == ('2', 'again')


def test_patch_is_all_or_nothing(client):
    image = client.create_image(name='before', foo='bar')
    response = patch(client, image['id'], replace('/name', 'after'),
                     add('/new', 'v'), replace('/nope', 'v'))
    assert response.status_int == 409
    after = show(client, image['id'])
    assert after['name'] == 'before'
    assert 'new' not in after


def test_patch_with_escaped_pointer(client):
    image = client.create_image()
    updated = patch(client, image['id'], add('/a~1b', 'slash'),
                    add('/c~0d', 'tilde')).json
    assert updated['a/b'] == 'slash'
    assert updated['c~d'] == 'tilde'


def test_empty_patch_changes_nothing(client):
    image = client.create_image(name='same')
    backdate(image['id'])
    response = patch(client, image['id'])
    assert response.status_int == 200
    assert response.json['name'] == 'same'
    assert response.json['updated_at'] == '2001-02-03T00:00:00Z'


def test_patch_changes_updated_at(client):
    image = client.create_image()
    backdate(image['id'])
    updated = patch(client, image['id'], replace('/name', 'x')).json
    assert updated['updated_at'] != '2001-02-03T00:00:00Z'
    assert updated['updated_at'] >= image['created_at']
    assert updated['created_at'] == image['created_at']


def test_patch_replace_tags_deduplicates(client):
    image = client.create_image(tags=['old'])
    updated = patch(client, image['id'],
                    replace('/tags', ['a', 'b', 'a', 'c'])).json
    assert updated['tags'] == ['a', 'b', 'c']
    assert show(client, image['id'])['tags'] == ['a', 'b', 'c']


def test_patch_replace_tags_with_empty_list(client):
    image = client.create_image(tags=['x', 'y'])
    assert patch(client, image['id'], replace('/tags', [])).json['tags'] == []


def test_admin_replaces_owner(client):
    image = client.create_image(owner='project-a')
    updated = patch(client, image['id'], replace('/owner', 'project-b')).json
    assert updated['owner'] == 'project-b'


def test_non_admin_cannot_replace_owner(as_project):
    owner = as_project('p1')
    image = owner.create_image()
    response = patch(owner, image['id'], replace('/owner', 'p2'))
    assert_error(response, 403, "Owner can't be updated by non admin.")


@pytest.mark.parametrize('name', ['disk_format', 'container_format'])
def test_formats_cannot_change_once_active(client, name):
    image = active_image(client)
    response = patch(client, image['id'], replace('/' + name, 'ami'))
    assert response.status_int == 403
    assert (f'Attribute {name} can be only replaced for a queued image.'
            in response.text)
    assert show(client, image['id'])[name] != 'ami'


def test_other_attributes_can_change_once_active(client):
    image = active_image(client)
    updated = patch(client, image['id'], replace('/name', 'live'),
                    add('/foo', 'bar')).json
    assert (updated['name'], updated['foo'], updated['status']) == (
        'live', 'bar', 'active')


# --- PATCH: v2.0 (draft 4) ---------------------------------------------------

def test_draft4_add_new_property(client):
    image = client.create_image()
    response = patch(client, image['id'], {'add': '/foo', 'value': 'bar'},
                     media_type=PATCH_V20)
    assert response.status_int == 200
    assert response.json['foo'] == 'bar'


def test_draft4_add_existing_property_is_conflict(client):
    image = client.create_image(foo='bar')
    response = patch(client, image['id'], {'add': '/foo', 'value': 'baz'},
                     media_type=PATCH_V20)
    assert response.status_int == 409
    assert response.body == (
        b'409 Conflict\n\nThere was a conflict when trying to complete your '
        b'request.\n\n Property foo already present.  ')
    assert show(client, image['id'])['foo'] == 'bar'


def test_draft4_add_base_attribute_is_conflict(client):
    image = client.create_image()
    response = patch(client, image['id'], {'add': '/name', 'value': 'n'},
                     media_type=PATCH_V20)
    assert_error(response, 409, 'Property name already present.')


def test_draft4_replace_and_remove(client):
    image = client.create_image(foo='bar', gone='soon')
    updated = patch(client, image['id'], {'replace': '/foo', 'value': 'q'},
                    {'remove': '/gone'}, media_type=PATCH_V20).json
    assert updated['foo'] == 'q'
    assert 'gone' not in updated


def test_draft4_with_two_operations_in_one_object_is_bad_request(client):
    image = client.create_image()
    response = patch(client, image['id'],
                     {'add': '/a', 'replace': '/b', 'value': 'v'},
                     media_type=PATCH_V20)
    assert_error(response, 400, 'Operation objects must contain only one '
                                'member named "add", "remove", or "replace".')


def test_draft4_without_operation_is_bad_request(client):
    image = client.create_image()
    response = patch(client, image['id'], {'value': 'v'},
                     media_type=PATCH_V20)
    assert_error(response, 400, 'Operation objects must contain exactly one '
                                'member named "add", "remove", or "replace".')


def test_draft4_ops_are_not_v21_ops(client):
    image = client.create_image()
    response = patch(client, image['id'], add('/foo', 'v'),
                     media_type=PATCH_V20)
    assert_error(response, 400, 'Operation objects must contain exactly one')


# --- PATCH: refused paths ----------------------------------------------------

@pytest.mark.parametrize('name', ['status', 'id', 'checksum', 'size',
                                  'virtual_size', 'created_at', 'updated_at',
                                  'os_hash_algo', 'os_hash_value', 'self',
                                  'file', 'schema', 'direct_url'])
def test_patch_read_only_attribute_is_forbidden(client, name):
    image = client.create_image()
    response = patch(client, image['id'], replace('/' + name, 'x'))
    assert response.status_int == 403
    assert response.body == (b"403 Forbidden\n\nAttribute '%s' is read-only."
                             b"\n\n   " % name.encode())


@pytest.mark.parametrize('change', [add('/status', 'active'),
                                    remove('/status'), add('/size', 1),
                                    remove('/checksum')])
def test_add_or_remove_read_only_attribute_is_forbidden(client, change):
    image = client.create_image()
    response = patch(client, image['id'], change)
    name = change['path'][1:]
    assert response.status_int == 403
    assert response.body == (b"403 Forbidden\n\nAttribute '%s' is read-only."
                             b"\n\n   " % name.encode())


@pytest.mark.parametrize('name', ['location', 'deleted', 'deleted_at',
                                  'os_glance_import_task', 'os_glance_'])
def test_patch_reserved_attribute_is_forbidden(client, name):
    image = client.create_image()
    response = patch(client, image['id'], add('/' + name, 'x'))
    assert response.status_int == 403
    assert response.body == (b"403 Forbidden\n\nAttribute '%s' is reserved."
                             b"\n\n   " % name.encode())


@pytest.mark.parametrize('name', ['name', 'visibility', 'protected',
                                  'os_hidden', 'min_ram', 'min_disk', 'owner',
                                  'disk_format', 'container_format', 'tags'])
def test_patch_remove_base_attribute_is_forbidden(client, name):
    image = client.create_image(name='n', disk_format='raw')
    response = patch(client, image['id'], remove('/' + name))
    assert response.status_int == 403
    assert response.body == (
        b'403 Forbidden\n\nAccess was denied to this resource.\n\n Property '
        b'%s may not be removed.  ' % name.encode())


# --- PATCH: malformed changes ------------------------------------------------

@pytest.mark.parametrize('pointer, message', [
    ('foo', 'Pointer `foo` does not start with "/".'),
    ('/a/', 'Pointer `/a/` end with "/".'),
    ('/a~2', ('Pointer `/a~2` contains "~" not part of a recognized escape '
              'sequence.')),
    ('/a~', ('Pointer `/a~` contains "~" not part of a recognized escape '
             'sequence.')),
    ('/foo/bar', "Invalid JSON pointer for this resource: '/foo/bar'"),
    ('/tags/-', "Invalid JSON pointer for this resource: '/tags/-'"),
    ('/locations', "Invalid JSON pointer for this resource: '/locations'"),
])
def test_patch_bad_pointer_is_bad_request(client, pointer, message):
    image = client.create_image()
    response = patch(client, image['id'], add(pointer, 'v'))
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\n%s\n\n   '
                             % message.encode())


@pytest.mark.parametrize('change, message', [
    ({'op': 'move', 'path': '/a', 'value': 'v'},
     ('Invalid operation: `move`. It must be one of the following: add, '
      'remove, replace.')),
    ({'op': 'test', 'path': '/a', 'value': 'v'},
     'Invalid operation: `test`.'),
    ({'path': '/a', 'value': 'v'},
     ('Unable to find `op` in JSON Schema change. It must be one of the '
      'following: add, remove, replace.')),
    ({'op': 'add', 'value': 'v'},
     "Unable to find 'path' in JSON Schema change"),
    ({'op': 'add', 'path': '/a'},
     'Operation "add" requires a member named "value".'),
    ({'op': 'replace', 'path': '/name'},
     'Operation "replace" requires a member named "value".'),
])
def test_patch_malformed_operation_is_bad_request(client, change, message):
    image = client.create_image()
    assert_error(patch(client, image['id'], change), 400, message)


@pytest.mark.parametrize('body, message', [
    ({'op': 'add', 'path': '/a', 'value': 'v'},
     'Request body must be a JSON array of operation objects.'),
    (['add'], 'Operations must be JSON objects.'),
])
def test_patch_body_of_wrong_shape_is_bad_request(client, body, message):
    image = client.create_image()
    response = client.patch(f"/v2/images/{image['id']}", body)
    assert_error(response, 400, message)


def test_patch_without_body_is_bad_request(client):
    image = client.create_image()
    response = client.request('PATCH', f"/v2/images/{image['id']}",
                              content_type=PATCH_TYPE)
    assert_error(response, 400, 'Body expected in request.')


def test_patch_with_malformed_json_is_bad_request(client):
    image = client.create_image()
    response = client.request('PATCH', f"/v2/images/{image['id']}",
                              b'[{"op": ', content_type=PATCH_TYPE)
    assert_error(response, 400, 'Malformed JSON in request body.')


@pytest.mark.parametrize('name, value, detail', [
    ('min_ram', 'abc', "'abc' is not of type 'integer'"),
    ('visibility', 'bogus', "'bogus' is not one of"),
    ('protected', 'true', "'true' is not of type 'boolean'"),
    ('foo', 5, "5 is not of type 'string'"),
    ('name', 'n' * 256, 'is too long'),
    ('tags', 'x', "'x' is not of type 'array'"),
    ('disk_format', 'bogus', "'bogus' is not one of [None, 'ami'"),
])
def test_patch_value_violating_schema_is_bad_request(client, name, value,
                                                     detail):
    image = client.create_image(foo='bar')
    response = patch(client, image['id'], replace('/' + name, value))
    assert_error(response, 400, SCHEMA_ERROR)
    assert detail in response.text


@pytest.mark.parametrize('name', ['min_ram', 'min_disk'])
def test_patch_negative_minimum_is_bad_request(client, name):
    image = client.create_image()
    response = patch(client, image['id'], replace('/' + name, -5))
    assert_error(response, 400, f"Invalid value '-5' for parameter '{name}': "
                                "Cannot be a negative value")


# --- PATCH: locations (hidden while show_multiple_locations is off) ----------

@pytest.mark.parametrize('change, verb', [
    (add('/locations/-', {'url': 'http://a/b', 'metadata': {}}), 'add'),
    (add('/locations/0', {'url': 'http://a/b', 'metadata': {}}), 'add'),
    (replace('/locations', [{'url': 'http://a/b', 'metadata': {}}]),
     'update'),
    (remove('/locations/0'), 'remove'),
])
def test_location_changes_are_forbidden_while_hidden(client, change, verb):
    image = active_image(client)
    response = patch(client, image['id'], change)
    assert response.status_int == 403
    assert (f"It's not allowed to {verb} locations if locations are "
            "invisible.") in response.text


def test_emptying_locations_is_forbidden(client):
    image = active_image(client)
    response = patch(client, image['id'], replace('/locations', []))
    assert_error(response, 403, 'Cannot set locations to empty list.')
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA


def test_locations_are_not_shown_while_hidden(client):
    image = active_image(client)
    assert 'locations' not in image
    assert 'direct_url' not in image


# --- PATCH: quotas -----------------------------------------------------------

def test_property_quota_on_patch(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = 2\n')
    image = client.create_image(a='1', b='2')
    response = patch(client, image['id'], add('/c', '3'))
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'properties. Attempted: 3, Maximum: 2') in response.text
    assert 'c' not in show(client, image['id'])


def test_changing_properties_at_the_quota_is_fine(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = 2\n')
    image = client.create_image(a='1', b='2')
    response = patch(client, image['id'], replace('/a', 'x'),
                     remove('/b'), add('/c', '3'))
    assert response.status_int == 200, response.body


def test_tag_quota_on_patch(client_with):
    client = client_with('[DEFAULT]\nimage_tag_quota = 2\n')
    image = client.create_image(tags=['a'])
    response = patch(client, image['id'], replace('/tags', ['a', 'b', 'c']))
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'tags. Attempted: 3, Maximum: 2') in response.text
    assert show(client, image['id'])['tags'] == ['a']
