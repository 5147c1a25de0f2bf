"""The classic API's images: POST, HEAD, GET, PUT and DELETE on
/v1/images, metadata in x-image-meta-* headers."""
import hashlib
import os
import re

import pytest

from tests.helpers import DATA_TYPE
from tests.helpers import UNKNOWN_ID
from tests.helpers import FileHandler
from tests.helpers import WebServer
from tests.helpers import create
from tests.helpers import free_port
from tests.helpers import head
from tests.helpers import image_meta
from tests.helpers import meta_headers
from tests.helpers import post_chunked
from tests.helpers import update

DATA = b'v1 image data ' * 100
MD5 = hashlib.md5(DATA).hexdigest()
TIME = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$')
V1_FIELDS = {'id', 'name', 'disk_format', 'container_format', 'size',
             'virtual_size', 'checksum', 'status', 'is_public', 'protected',
             'min_ram', 'min_disk', 'owner', 'created_at', 'updated_at',
             'deleted_at', 'deleted', 'properties'}


def path(image):
    return '/v1/images/%s' % (image['id'] if isinstance(image, dict)
                              else image)


def status_of(client, image):
    return image_meta(head(client, image['id']))[0]['status']


# --- create ------------------------------------------------------------------

def test_create_with_data_answers_the_active_image(client):
    response = client.post('/v1/images', DATA, headers=meta_headers(
        name='cirros', disk_format='ploop', container_format='bare',
        properties={'distro': 'cirros'}), content_type=DATA_TYPE)

    assert response.status_int == 201
    assert response.content_type == 'application/json'
    image = response.json['image']
    assert set(image) == V1_FIELDS
    assert response.location == 'http://localhost/v1/images/%s' % image['id']
    assert response.headers['ETag'] == MD5
    assert image['name'] == 'cirros'
    assert image['status'] == 'active'
    assert image['size'] == len(DATA)
    assert image['checksum'] == MD5
    assert (image['disk_format'], image['container_format']) == ('ploop',
                                                                 'bare')
    assert image['is_public'] is False
    assert image['deleted'] is False
    assert image['deleted_at'] is None
    assert image['protected'] is False
    assert (image['min_ram'], image['min_disk']) == (0, 0)
    assert image['properties'] == {'distro': 'cirros'}
    assert TIME.match(image['created_at'])
    assert TIME.match(image['updated_at'])
    assert client.get(path(image)).body == DATA


def test_create_without_data_is_queued(client):
    image = create(client, name='later')

    assert image['status'] == 'queued'
    assert image['checksum'] is None
    assert 'ETag' not in client.get(path(image)).headers


def test_create_reads_attributes_and_properties(client):
    image = create(client, name='full', min_ram=512, min_disk=2,
                   protected='True', is_public='true', properties={
                       'Foo-Bar': 'x', 'os_distro': 'cirros'})

    assert (image['min_ram'], image['min_disk']) == (512, 2)
    assert image['protected'] is True
    assert image['is_public'] is True
    # Property names as upstream read them: lower case, '-' as '_'.
    assert image['properties'] == {'foo_bar': 'x', 'os_distro': 'cirros'}


def test_header_names_may_use_dashes(client):
    image = create(client, headers={'X-Image-Meta-Disk-Format': 'iso',
                                    'X-Image-Meta-Min-Ram': '64'})
    assert (image['disk_format'], image['min_ram']) == ('iso', 64)


def test_create_with_a_chunked_body(client):
    response = post_chunked(client, DATA, meta_headers(
        disk_format='raw', container_format='bare'))

    assert response.status_int == 201, response.text
    assert response.json['image']['size'] == len(DATA)
    assert response.json['image']['checksum'] == MD5


def test_declared_size_zero_without_data_is_an_active_empty_image(client):
    image = create(client, size=0)

    assert (image['status'], image['size']) == ('active', 0)
    response = client.get(path(image))
    assert response.status_int == 200
    assert response.body == b''
    assert response.content_length == 0


def test_create_with_an_id(client):
    image_id = '11111111-2222-3333-4444-555555555555'
    image = create(client, id=image_id)
    assert image['id'] == image_id

    response = create(client, id=image_id, status=409)
    assert ('An image with identifier %s already exists' % image_id
            in response.text)


def test_create_with_a_malformed_id_is_refused(client):
    response = create(client, id='not-a-uuid', status=400)
    assert 'Invalid image id format' in response.text


def test_status_and_times_given_on_create_are_ignored(client):
    image = create(client, DATA, created_at='2015-11-20T10:00:00',
                   headers={'x-image-meta-status': 'queued'})
    assert image['status'] == 'active'
    assert not image['created_at'].startswith('2015')


def test_owner_is_ignored_for_a_project_and_kept_for_an_admin(owner, admin):
    image = create(owner, owner='someone-else')
    assert image['owner'] == 'owner-project'

    image = create(admin, owner='someone-else')
    assert image['owner'] == 'someone-else'


@pytest.mark.parametrize('headers, message', [
    ({'x-image-meta-bogus': '1'}, 'Bad header: x-image-meta-bogus'),
    ({'x-image-meta-size': 'invalid'},
     "Invalid value 'invalid' for parameter 'size': Cannot convert image "
     "size 'invalid' to an integer."),
    ({'x-image-meta-size': '-10'},
     "Invalid value '-10' for parameter 'size': Cannot be a negative "
     "value."),
    ({'x-image-meta-min-disk': '-42'},
     "Invalid value '-42' for parameter 'min_disk'"),
    ({'x-image-meta-min-ram': 'lots'},
     "Invalid value 'lots' for parameter 'min_ram'"),
    ({'x-image-meta-min_ram': str(2 ** 31 + 1)},
     "'min_ram' value out of range, must not exceed 2147483647."),
    ({'x-image-meta-disk_format': 'invalid'},
     "Invalid disk format 'invalid' for image."),
    ({'x-image-meta-container_format': 'invalid'},
     "Invalid container format 'invalid' for image."),
    ({'x-image-meta-disk_format': 'aki',
      'x-image-meta-container_format': 'ami'},
     'Invalid mix of disk and container formats.'),
    ({'x-image-meta-created_at': 'foo'},
     'Invalid time format for created_at.'),
    ({'x-image-meta-created_at': '1100'},
     'Invalid time format for created_at.'),
    ({'x-image-meta-name': 'X' * 256}, 'Image name too long: 256'),
    ({'x-image-meta-checksum': 'a' * 33},
     "Invalid checksum '%s': can't exceed 32 characters" % ('a' * 33)),
])
def test_bad_metadata_is_refused(client, headers, message):
    response = client.post('/v1/images', headers=headers)

    assert response.status_int == 400
    assert message in response.text
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('header', ['x-image-meta-disk_format',
                                    'x-image-meta-container_format'])
def test_one_amazon_format_implies_the_other(client, header):
    response = client.post('/v1/images', headers={header: 'aki'})

    assert response.status_int == 201
    image = response.json['image']
    assert (image['disk_format'], image['container_format']) == ('aki',
                                                                 'aki')


def test_data_needs_octet_stream(client):
    response = client.post('/v1/images', DATA, headers=meta_headers(
        disk_format='raw', container_format='bare'),
        content_type='text/plain')

    assert response.status_int == 400
    assert 'Content-Type must be application/octet-stream' in response.text
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('missing, message', [
    ('disk_format', 'Disk format is not specified.'),
    ('container_format', 'Container format is not specified.'),
])
def test_data_needs_both_formats(client, missing, message):
    response = create(client, DATA, status=400, **{missing: None})

    assert message in response.text
    assert client.get('/v2/images').json['images'] == []


def test_no_data_needs_no_formats(client):
    image = create(client, disk_format=None, container_format=None)
    assert (image['status'], image['disk_format']) == ('queued', None)


@pytest.mark.parametrize('mismatch, message', [
    ({'size': len(DATA) + 1}, 'Size mismatch: expected %d bytes, got %d '
                              'bytes' % (len(DATA) + 1, len(DATA))),
    ({'size': len(DATA) - 1}, 'Size exceeds: expected %d bytes'
                              % (len(DATA) - 1)),
    ({'checksum': 'a' * 32}, "Supplied checksum (%s) and checksum generated "
                             "from uploaded image (%s) did not match. "
                             "Setting image status to 'killed'."
                             % ('a' * 32, MD5))])
def test_data_not_as_declared_kills_the_image(client, mismatch, message):
    response = create(client, DATA, status=400, name='mismatch', **mismatch)

    assert message in response.text
    # Killed images are listed only with changes-since.
    assert client.get('/v2/images').json['images'] == []
    [killed] = client.get('/v1/images/detail?is_public=none&changes-since='
                          '2000-01-01T00:00:00').json['images']
    assert (killed['name'], killed['status']) == ('mismatch', 'killed')
    assert status_of(client, killed) == 'killed'
    assert client.get(path(killed)).status_int == 404


@pytest.mark.parametrize('mismatch', [{'size': len(DATA) + 1},
                                      {'checksum': 'a' * 32}])
def test_data_of_a_killed_image_is_not_kept(client, tmp_path, mismatch):
    create(client, DATA, status=400, **mismatch)
    kept = create(client, DATA)
    assert os.listdir(tmp_path / 'state' / 'images') == [kept['id']]


def test_data_as_declared_is_accepted(client):
    image = create(client, DATA, size=len(DATA), checksum=MD5)
    assert (image['status'], image['size'], image['checksum']) == (
        'active', len(DATA), MD5)


def test_declared_size_over_the_cap_is_a_bad_request(client_with):
    client = client_with('[DEFAULT]\nimage_size_cap = 100\n')
    response = create(client, size=101, status=400)
    assert 'Denying attempt to upload image larger than 100 bytes.' \
        in response.text

    # Content-Length counts as declared too.
    response = create(client, b'x' * 101, status=400)
    assert client.get('/v2/images').json['images'] == []


def test_chunked_data_over_the_cap_is_too_large(client_with):
    client = client_with('[DEFAULT]\nimage_size_cap = 100\n')
    response = post_chunked(client, b'x' * 101, meta_headers(
        name='big', disk_format='raw', container_format='bare'))

    assert response.status_int == 413
    [image] = client.get('/v1/images/detail?is_public=none&changes-since='
                         '2000-01-01T00:00:00').json['images']
    assert image['status'] == 'killed'


def test_data_over_the_storage_quota_is_too_large(client_with):
    client = client_with('[DEFAULT]\nuser_storage_quota = 1000\n')
    create(client, b'x' * 600)

    response = create(client, b'x' * 500, status=413, name='over')
    assert 'exceed' in response.text
    response = create(client, b'x' * 500, headers={
        'x-image-meta-size': '0'}, status=413)

    # Killed images hold nothing: what is left still fits.
    create(client, b'x' * 400)


def test_too_many_properties_are_too_large(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = 2\n')
    response = create(client, status=413,
                      properties={'a': '1', 'b': '2', 'c': '3'})

    assert ('The limit has been exceeded on the number of allowed image '
            'properties. Attempted: 3, Maximum: 2') in response.text
    assert client.get('/v2/images').json['images'] == []


def test_unknown_store_is_refused(client):
    response = create(client, store='bad', status=400)
    assert 'Required store bad is invalid' in response.text


@pytest.mark.parametrize('headers, message', [
    ({'x-image-meta-location': ''}, 'External source should not be empty'),
    ({'x-glance-api-copy-from': ''}, 'External source should not be empty'),
    ({'x-image-meta-location': 'file:///etc/passwd'},
     "External sources are not supported: 'file:///etc/passwd'"),
    ({'x-glance-api-copy-from': 'file:///etc/passwd'},
     "External sources are not supported: 'file:///etc/passwd'"),
    ({'x-image-meta-location': 'swift+config://xxx'},
     'External sources are not supported'),
    ({'x-image-meta-location': 'http://'},
     "External sources are not supported: 'http://'"),
    ({'x-image-meta-location': 'http://127.0.0.1:1/a',
      'x-glance-api-copy-from': 'http://127.0.0.1:1/b'},
     "It's invalid to provide multiple image sources."),
])
def test_bad_external_sources_are_refused(client, headers, message):
    response = create(client, headers=headers, status=400)
    assert message in response.text
    assert client.get('/v2/images').json['images'] == []


@pytest.mark.parametrize('header', ['x-image-meta-location',
                                    'x-glance-api-copy-from'])
def test_data_and_an_external_source_are_refused(client, header):
    response = create(client, DATA, headers={header: 'http://127.0.0.1:1/a'},
                      status=400)
    assert "It's invalid to provide multiple image sources." in response.text


# --- HEAD and GET ------------------------------------------------------------

def test_head_gives_every_attribute_as_a_header(client):
    image = create(client, DATA, name='headed', min_ram=128,
                   is_public='True', properties={'Arch': 'x86_64',
                                                 'distro': 'ubuntu'})

    response = head(client, image['id'])

    assert response.body == b''
    assert not response.content_type.startswith('application/json')
    assert response.headers['ETag'] == MD5
    meta, properties = image_meta(response)
    assert meta == {
        'id': image['id'], 'name': 'headed', 'disk_format': 'raw',
        'container_format': 'bare', 'size': str(len(DATA)),
        'virtual_size': str(len(DATA)), 'checksum': MD5,
        'status': 'active', 'is_public': 'True', 'protected': 'False',
        'min_ram': '128', 'min_disk': '0',
        'created_at': image['created_at'],
        'updated_at': image['updated_at'], 'deleted': 'False'}
    assert properties == {'arch': 'x86_64', 'distro': 'ubuntu'}
    assert 'x-image-meta-location' not in response.headers


def test_head_leaves_out_what_has_no_value(client):
    image = create(client, disk_format=None, container_format=None)

    meta, properties = image_meta(head(client, image['id']))

    assert set(meta) == {'id', 'status', 'is_public', 'protected', 'min_ram',
                         'min_disk', 'created_at', 'updated_at', 'deleted'}
    assert properties == {}
    assert 'ETag' not in head(client, image['id']).headers


def test_property_values_beyond_ascii_travel_as_utf8(client):
    value = 'Ubuntu “Noble” 24.04 — ü'
    raw = value.encode('utf-8').decode('latin-1')
    image = create(client, headers={'x-image-meta-property-title': raw})

    assert image['properties'] == {'title': value}
    assert client.get('/v2/images/%s' % image['id']).json['title'] == value
    assert head(client, image['id']).headers[
        'x-image-meta-property-title'] == raw


def test_get_streams_the_data_with_the_headers(client):
    image = create(client, DATA, properties={'k': 'v'})

    response = client.get(path(image))

    assert response.status_int == 200
    assert response.body == DATA
    assert response.content_type == DATA_TYPE
    assert response.content_length == len(DATA)
    assert response.headers['ETag'] == MD5
    assert response.headers['x-image-meta-checksum'] == MD5
    assert response.headers['x-image-meta-property-k'] == 'v'


@pytest.mark.parametrize('method', ['HEAD', 'GET'])
def test_unknown_image_is_not_found(client, method):
    response = client.request(method, '/v1/images/%s' % UNKNOWN_ID)
    assert response.status_int == 404
    if method == 'GET':
        assert 'Image with identifier %s not found' % UNKNOWN_ID \
            in response.text


def test_data_of_a_queued_image_is_not_found(client):
    image = create(client)
    response = client.get(path(image))
    assert response.status_int == 404
    assert 'Image %s is not active' % image['id'] in response.text


def test_deactivated_image_data_is_forbidden_except_to_admins(owner, admin):
    image = create(owner, DATA)
    response = admin.post('/v2/images/%s/actions/deactivate' % image['id'])
    assert response.status_int == 204

    response = owner.get(path(image))
    assert response.status_int == 403
    assert 'Image %s is deactivated' % image['id'] in response.text
    assert image_meta(head(owner, image['id']))[0]['status'] == 'deactivated'
    assert admin.get(path(image)).body == DATA


def test_deleted_image_is_seen_by_admins_only(owner, admin):
    image = create(owner, DATA)
    assert owner.delete(path(image)).status_int == 200

    head(owner, image['id'], status=404)
    meta, _ = image_meta(head(admin, image['id']))
    assert (meta['status'], meta['deleted']) == ('deleted', 'True')
    assert TIME.match(meta['deleted_at'])
    assert admin.get(path(image)).status_int == 404


# --- external locations and copies -------------------------------------------

@pytest.fixture
def web(no_proxies):
    server = WebServer({'/image.raw': DATA}).start()
    yield server
    server.stop()


@pytest.fixture
def no_proxies(monkeypatch):
    for name in ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_location_registers_external_data(client, web):
    url = web.url + '/image.raw'
    image = create(client, headers={'x-image-meta-location': url})

    assert (image['status'], image['size']) == ('active', len(DATA))
    assert image['checksum'] is None
    assert 'location' not in image
    assert 'x-image-meta-location' not in head(client, image['id']).headers
    assert client.get(path(image)).body == DATA
    v2 = client.get('/v2/images/%s' % image['id']).json
    assert (v2['status'], v2['size']) == ('active', len(DATA))
    assert 'direct_url' not in v2 and 'locations' not in v2


def test_location_keeps_a_declared_checksum(client, web):
    image = create(client, headers={
        'x-image-meta-location': web.url + '/image.raw',
        'x-image-meta-checksum': MD5, 'x-image-meta-size': str(len(DATA))})
    assert (image['size'], image['checksum']) == (len(DATA), MD5)
    assert client.get(path(image)).headers['ETag'] == MD5


def test_location_size_must_match_the_stored_size(client, web):
    response = create(client, size=1, headers={
        'x-image-meta-location': web.url + '/image.raw'}, status=409)
    assert ('Provided image size must match the stored image size. '
            '(provided size: 1, stored size: %d)' % len(DATA)
            in response.text)


@pytest.mark.parametrize('header', ['x-image-meta-location',
                                    'x-glance-api-copy-from'])
def test_missing_external_data_is_not_found(client, web, header):
    response = create(client, headers={header: web.url + '/missing'},
                      status=404)
    assert response.status_int == 404
    assert client.get('/v2/images').json['images'] == []


class FailingHandler(FileHandler):
    """A web server whose every answer is 500."""

    def answer(self, send_body):
        self.send_error(500)


@pytest.mark.parametrize('header', ['x-image-meta-location',
                                    'x-glance-api-copy-from'])
@pytest.mark.parametrize('where', ['refused', 'failing'])
def test_unreadable_external_data_is_a_bad_request(client, no_proxies,
                                                   header, where):
    # Nothing listens there, or the server fails: the client's URL is bad
    # (upstream: 400), no 503, and no image is left behind.
    failing = WebServer(handler=FailingHandler).start()
    try:
        url = (f'http://127.0.0.1:{free_port()}/image.raw'
               if where == 'refused' else failing.url + '/image.raw')
        response = create(client, headers={header: url}, status=400)
    finally:
        failing.stop()
    assert 'The HTTP URL is invalid: ' in response.text
    assert client.get('/v2/images').json['images'] == []


def test_copy_from_stores_a_copy(client, web):
    image = create(client, headers={
        'x-glance-api-copy-from': web.url + '/image.raw'})

    assert (image['status'], image['size'], image['checksum']) == (
        'active', len(DATA), MD5)
    web.stop()  # the copy is this service's own
    assert client.get(path(image)).body == DATA


def test_copy_from_not_as_declared_kills_the_image(client, web):
    response = create(client, checksum='a' * 32, name='bad-copy', headers={
        'x-glance-api-copy-from': web.url + '/image.raw'}, status=400)
    assert "did not match. Setting image status to 'killed'." \
        in response.text


def test_put_location_activates_a_queued_image(client, web):
    image = create(client)

    updated = update(client, image['id'], headers={
        'x-image-meta-location': web.url + '/image.raw'})

    assert (updated['status'], updated['size']) == ('active', len(DATA))
    response = update(client, image['id'], status=400, headers={
        'x-image-meta-location': web.url + '/image.raw'})
    assert ('Attempted to update Location field for an image not in queued '
            'status.') in response.text


def test_put_copy_from_fills_a_queued_image(client, web):
    image = create(client)

    updated = update(client, image['id'], headers={
        'x-glance-api-copy-from': web.url + '/image.raw'})

    assert (updated['status'], updated['checksum']) == ('active', MD5)


# --- PUT ---------------------------------------------------------------------

def test_put_replaces_the_properties_unless_told_not_to(client):
    image = create(client, properties={'keep': '1', 'drop': '2'})

    updated = update(client, image['id'], name='renamed',
                     properties={'keep': 'changed', 'added': '3'})
    assert updated['name'] == 'renamed'
    assert updated['properties'] == {'keep': 'changed', 'added': '3'}

    updated = update(client, image['id'], properties={'more': '4'},
                     headers={'x-glance-registry-purge-props': 'false'})
    assert updated['properties'] == {'keep': 'changed', 'added': '3',
                                     'more': '4'}
    # The other attributes stay as they were.
    assert updated['name'] == 'renamed'


def test_put_answers_the_image_as_json(client):
    image = create(client, DATA)
    response = client.put(path(image), headers={'x-image-meta-name': 'n'})
    assert response.status_int == 200
    assert response.content_type == 'application/json'
    assert set(response.json['image']) == V1_FIELDS
    assert response.headers['ETag'] == MD5


def test_put_data_uploads_to_a_queued_image_keeping_properties(client):
    image = create(client, properties={'kept': 'yes'})

    updated = update(client, image['id'], DATA, size=len(DATA),
                     properties={'new': '1'})

    assert (updated['status'], updated['checksum']) == ('active', MD5)
    assert updated['properties'] == {'kept': 'yes', 'new': '1'}
    assert client.get(path(image)).body == DATA


def test_put_data_to_an_active_image_is_a_conflict(client):
    image = create(client, DATA)
    response = update(client, image['id'], b'more', status=409)
    assert 'Cannot upload to an unqueued image' in response.text


def test_put_data_not_as_declared_kills_the_image(client):
    image = create(client)
    update(client, image['id'], DATA, checksum='b' * 32, status=400)
    assert status_of(client, image) == 'killed'


@pytest.mark.parametrize('field, value', [('status', 'active'),
                                          ('id', UNKNOWN_ID)])
def test_status_and_id_cannot_change(client, field, value):
    image = create(client)

    response = update(client, image['id'], status=403,
                      headers={'x-image-meta-' + field: value})

    assert "Forbidden to modify '%s' of image." % field in response.text
    # The same value is no change.
    update(client, image['id'], headers={'x-image-meta-' + field:
                                         image[field]})


@pytest.mark.parametrize('field, value', [('size', 1), ('checksum', 'a' * 32)])
def test_size_and_checksum_of_an_active_image_are_the_admins(owner, admin,
                                                             field, value):
    image = create(owner, DATA)

    response = update(owner, image['id'], status=403, **{field: value})
    assert ("Forbidden to modify '%s' of active image." % field
            in response.text)
    update(owner, image['id'], **{field: image[field]})

    assert update(admin, image['id'], **{field: value})[field] == value


def test_put_to_a_deleted_image_is_forbidden(client):
    image = create(client)
    client.delete(path(image))
    response = update(client, image['id'], name='x', status=403)
    assert 'Forbidden to update deleted image.' in response.text


def test_put_to_an_unknown_image_is_not_found(client):
    update(client, UNKNOWN_ID, name='x', status=404)


def test_put_bad_values_are_refused(client):
    image = create(client)
    response = update(client, image['id'], min_disk=-42, status=400)
    assert "Invalid value '-42' for parameter 'min_disk'" in response.text


def test_put_too_many_properties_is_too_large(client_with):
    client = client_with('[DEFAULT]\nimage_property_quota = 2\n')
    image = create(client, properties={'a': '1'})
    update(client, image['id'], properties={'b': '2', 'c': '3'}, status=413,
           headers={'x-glance-registry-purge-props': 'false'})
    # Replacing keeps the count within the quota.
    update(client, image['id'], properties={'b': '2', 'c': '3'})


def test_is_public_false_makes_an_image_shared(client):
    image = create(client, is_public='true')
    update(client, image['id'], is_public='false')
    v2 = client.get('/v2/images/%s' % image['id']).json
    assert v2['visibility'] == 'shared'


# --- DELETE ------------------------------------------------------------------

def test_delete_answers_ok_with_an_empty_body(client):
    image = create(client, DATA)

    response = client.delete(path(image))

    assert response.status_int == 200
    assert response.body == b''
    assert not response.content_type.startswith('application/json')
    assert client.get('/v2/images/%s' % image['id']).status_int == 404


def test_deleting_a_deleted_image_is_not_found(client):
    image = create(client)
    client.delete(path(image))

    response = client.delete(path(image))

    assert response.status_int == 404
    assert 'Image %s not found.' % image['id'] in response.text
    assert status_of(client, image) == 'deleted'


def test_deleting_a_protected_image_is_forbidden(client):
    image = create(client, protected='true')
    response = client.delete(path(image))
    assert response.status_int == 403
    assert 'Image is protected' in response.text
    assert status_of(client, image) == 'queued'


def test_deleting_an_unknown_image_is_not_found(client):
    assert client.delete(path(UNKNOWN_ID)).status_int == 404


# --- routing -----------------------------------------------------------------

@pytest.mark.parametrize('method, url, allowed', [
    ('PUT', '/v1/images', 'GET, POST'),
    ('DELETE', '/v1/images', 'GET, POST'),
    ('POST', '/v1/images/x', 'GET, HEAD, PUT, DELETE'),
    ('PATCH', '/v1/images/x', 'GET, HEAD, PUT, DELETE'),
    ('PUT', '/v1/images/detail', 'GET, HEAD'),
    ('POST', '/v1/images/x/members', 'GET, PUT'),
    ('POST', '/v1/images/x/members/m', 'GET, PUT, DELETE'),
    ('PUT', '/v1/shared-images/m', 'GET'),
])
def test_wrong_method_is_405_with_allow(client, method, url, allowed):
    response = client.request(method, url)
    assert response.status_int == 405
    assert response.headers['Allow'] == allowed


def test_head_of_the_detail_list_is_not_allowed(client):
    response = client.request('HEAD', '/v1/images/detail')
    assert response.status_int == 405
    assert response.headers['Allow'] == 'GET'


@pytest.mark.parametrize('url', ['/v1/images/detail.xxx', '/v1/images.xxx',
                                 '/v1/images/x/members.xxx', '/v1/foo',
                                 '/v1/images/x/y/z'])
def test_unknown_paths_are_not_found(client, url):
    assert client.get(url).status_int == 404


def test_v1_root_lists_images(client):
    image = create(client, is_public='true')
    assert client.get('/v1/').json == client.get('/v1/images').json
    assert client.get('/v1/').json['images'][0]['id'] == image['id']
    response = client.get('/v1')
    assert response.status_int == 302
    assert response.location == 'http://localhost/v1/'


# --- policy and isolation ----------------------------------------------------

def test_a_private_image_is_invisible_to_other_projects(owner, stranger):
    image = create(owner, DATA)
    for method in ('HEAD', 'GET', 'DELETE'):
        assert stranger.request(method, path(image)).status_int == 404
    update(stranger, image['id'], name='mine', status=404)
    assert status_of(owner, image) == 'active'


def test_a_public_image_is_read_only_to_other_projects(admin, stranger):
    image = create(admin, DATA, is_public='true', owner='owner-project')

    assert stranger.get(path(image)).body == DATA
    update(stranger, image['id'], name='mine', status=403)
    assert stranger.delete(path(image)).status_int == 403
    assert status_of(stranger, image) == 'active'


def test_readers_cannot_create(as_project):
    reader = as_project('reader-project', roles=('reader',))
    response = create(reader, status=403)
    assert response.status_int == 403


def test_only_admins_publicize(owner, admin):
    response = create(owner, is_public='true', status=403)
    assert response.status_int == 403
    image = create(owner)
    update(owner, image['id'], is_public='true', status=403)
    assert update(admin, image['id'], is_public='true')['is_public'] is True


def test_upload_needs_the_upload_rule(client_with, tmp_path):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"upload_image": "!"\n')
    client = client_with('[oslo_policy]\npolicy_file = %s\n' % policy_file)

    create(client, DATA, status=403)
    assert client.get('/v2/images').json['images'] == []
    image = create(client)
    update(client, image['id'], DATA, status=403)
    assert status_of(client, image) == 'queued'
