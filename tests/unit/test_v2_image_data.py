"""API tests of image data (/v2/images/{id}/file): upload, size cap and
storage quota, download and ranges, and where the data lives."""
import datetime
import hashlib
import io
import os

import pytest
import webob

import glance.db
from glance.db import images as image_db
from tests.helpers import IMAGE_DATA as DATA
from tests.helpers import MISSING_ID
from tests.helpers import PATCH_TYPE
from tests.helpers import active_image
from tests.helpers import assert_error
from tests.helpers import download
from tests.helpers import file_path
from tests.helpers import qcow2_image
from tests.helpers import show

OCTET_STREAM = 'application/octet-stream'


def upload_chunked(client, image_id, data, headers=None):
    """PUT the data with Transfer-Encoding: chunked and no Content-Length
    (the server has already taken the chunk framing off)."""
    all_headers = {'Transfer-Encoding': 'chunked',
                   'Content-Type': OCTET_STREAM}
    all_headers.update(headers or {})
    request = webob.Request.blank(
        file_path(image_id), headers=all_headers,
        environ={'REQUEST_METHOD': 'PUT', 'wsgi.input': io.BytesIO(data)})
    assert 'CONTENT_LENGTH' not in request.environ
    return request.get_response(client.app)


# --- upload ------------------------------------------------------------------

def test_upload_answers_204_without_body(client):
    image = client.create_image()
    response = client.upload(image['id'], DATA)
    assert response.status_int == 204
    assert response.body == b''


def test_upload_makes_the_image_active_with_size_and_hashes(client):
    image = active_image(client)
    assert image['status'] == 'active'
    assert image['size'] == len(DATA)
    assert image['checksum'] == hashlib.md5(DATA).hexdigest()
    assert image['os_hash_algo'] == 'sha512'
    assert image['os_hash_value'] == hashlib.sha512(DATA).hexdigest()


def test_virtual_size_of_raw_is_the_size(client):
    image = active_image(client, disk_format='raw')
    assert image['virtual_size'] == len(DATA)


def test_upload_changes_updated_at_not_created_at(client):
    image = client.create_image()
    with glance.db.writing() as session:
        image_db.image_update(session, image['id'],
                              {'updated_at': datetime.datetime(2001, 2, 3)},
                              touch=False)
    assert client.upload(image['id'], DATA).status_int == 204
    uploaded = show(client, image['id'])
    assert uploaded['updated_at'] != '2001-02-03T00:00:00Z'
    assert uploaded['created_at'] == image['created_at']


def test_download_returns_the_bytes(client):
    image = active_image(client)
    response = download(client, image['id'])
    assert response.status_int == 200
    assert response.body == DATA
    assert response.content_type == OCTET_STREAM
    assert response.content_length == len(DATA)
    assert response.headers['Content-MD5'] == image['checksum']


def test_data_larger_than_a_chunk_round_trips(client):
    data = os.urandom(3 * 1024 * 1024 + 17)
    image = active_image(client, data=data)
    assert image['size'] == len(data)
    assert image['os_hash_value'] == hashlib.sha512(data).hexdigest()
    assert download(client, image['id']).body == data


def test_empty_data_makes_an_active_image(client):
    image = active_image(client, data=b'')
    assert (image['status'], image['size'], image['checksum']) == (
        'active', 0, hashlib.md5(b'').hexdigest())
    response = download(client, image['id'])
    assert (response.status_int, response.body) == (200, b'')


def test_hashing_algorithm_is_configurable(client_with):
    client = client_with('[DEFAULT]\nhashing_algorithm = sha256\n')
    image = active_image(client)
    assert image['os_hash_algo'] == 'sha256'
    assert image['os_hash_value'] == hashlib.sha256(DATA).hexdigest()


@pytest.mark.parametrize('content_type', ['text/plain', 'application/json'])
def test_upload_with_other_content_type_is_unsupported(client, content_type):
    image = client.create_image()
    response = client.put(file_path(image['id']), DATA,
                          content_type=content_type)
    assert response.status_int == 415
    assert response.body == (
        b'415 Unsupported Media Type\n\nThe request media type %s is not '
        b'supported by this server. \n\n Invalid content type %s'
        % (content_type.encode(), content_type.encode()))
    assert show(client, image['id'])['status'] == 'queued'


def test_upload_without_content_type_is_unsupported(client):
    image = client.create_image()
    response = client.put(file_path(image['id']), DATA)
    assert_error(response, 415, 'Invalid content type None')


def test_upload_to_active_image_is_conflict(client):
    image = active_image(client)
    response = client.upload(image['id'], b'other bytes')
    assert response.status_int == 409
    assert response.body == (b'409 Conflict\n\nImage status transition from '
                             b'active to saving is not allowed\n\n   ')
    assert download(client, image['id']).body == DATA


def test_upload_to_missing_image_is_not_found(client):
    assert_error(client.upload(MISSING_ID, DATA), 404,
                 f'No image found with ID {MISSING_ID}')


@pytest.mark.parametrize('values, message', [
    ({'disk_format': None, 'container_format': None},
     ('Properties disk_format, container_format must be set prior to saving '
      'data.')),
    ({'disk_format': 'raw', 'container_format': None},
     'Property container_format must be set prior to saving data.'),
    ({'disk_format': None, 'container_format': 'bare'},
     'Property disk_format must be set prior to saving data.'),
])
def test_upload_without_formats_is_bad_request(client, values, message):
    image = client.create_image(**values)
    response = client.upload(image['id'], DATA)
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\n%s\n\n   '
                             % message.encode())
    assert show(client, image['id'])['status'] == 'queued'


def test_formats_set_by_patch_allow_upload(client):
    image = client.create_image(disk_format=None, container_format=None)
    client.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'},
        {'op': 'replace', 'path': '/container_format', 'value': 'bare'}],
        content_type=PATCH_TYPE)
    assert client.upload(image['id'], qcow2_image(2 ** 30)).status_int == 204


def test_chunked_upload(client):
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA)
    assert response.status_int == 204, response.body
    uploaded = show(client, image['id'])
    assert uploaded['size'] == len(DATA)
    assert uploaded['checksum'] == hashlib.md5(DATA).hexdigest()
    assert download(client, image['id']).body == DATA


def test_chunked_upload_with_a_content_length_reads_the_chunks(client):
    """Transfer-Encoding wins over a Content-Length sent beside it (uwsgi
    passes both on): the body is read to its end, not to the length."""
    image = client.create_image()
    request = webob.Request.blank(
        file_path(image['id']),
        headers={'Transfer-Encoding': 'chunked', 'Content-Length': '10',
                 'Content-Type': OCTET_STREAM},
        environ={'REQUEST_METHOD': 'PUT', 'wsgi.input': io.BytesIO(DATA)})
    response = request.get_response(client.app)
    assert response.status_int == 204, response.body
    assert show(client, image['id'])['size'] == len(DATA)
    assert download(client, image['id']).body == DATA


def test_upload_with_matching_size_header(client):
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA,
                              {'x-openstack-image-size': str(len(DATA))})
    assert response.status_int == 204
    assert show(client, image['id'])['size'] == len(DATA)


@pytest.mark.parametrize('value', ['abc', '', '1.5'])
def test_upload_with_invalid_size_header_is_bad_request(client, value):
    image = client.create_image()
    response = client.put(file_path(image['id']), DATA,
                          content_type=OCTET_STREAM,
                          headers={'x-openstack-image-size': value})
    assert response.status_int == 400
    assert response.body == (b'400 Bad Request\n\nInvalid or missing image '
                             b'size in request headers.\n\n   ')
    assert show(client, image['id'])['status'] == 'queued'


@pytest.mark.parametrize('declared, message', [
    (len(DATA) + 1, 'Size mismatch: expected 1025 bytes, got 1024 bytes'),
    (len(DATA) - 1, 'Size exceeds: expected 1023 bytes, got 1024 bytes'),
])
def test_upload_of_other_size_than_declared_is_bad_request(
        client, stored_files, declared, message):
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA,
                              {'x-openstack-image-size': str(declared)})
    assert_error(response, 400, message)
    after = show(client, image['id'])
    assert (after['status'], after['size'], after['checksum']) == (
        'queued', None, None)
    assert stored_files() == []


def test_declared_size_zero_means_unknown(client):
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA,
                              {'x-openstack-image-size': '0'})
    assert response.status_int == 204
    assert show(client, image['id'])['size'] == len(DATA)


def test_upload_can_be_retried_after_a_failure(client):
    image = client.create_image()
    upload_chunked(client, image['id'], DATA, {'x-openstack-image-size': '5'})
    assert client.upload(image['id'], DATA).status_int == 204
    assert download(client, image['id']).body == DATA


# --- size cap and storage quota ----------------------------------------------

def test_upload_over_size_cap_is_too_large(client_with, stored_files):
    client = client_with('[DEFAULT]\nimage_size_cap = 1000\n')
    image = client.create_image()
    response = client.upload(image['id'], DATA)
    assert response.status_int == 413
    assert response.body == (b'413 Request Entity Too Large\n\nThe incoming '
                             b'image is too large: The provided image is too '
                             b'large.\n\n   ')
    after = show(client, image['id'])
    assert (after['status'], after['size'], after['checksum']) == (
        'queued', None, None)
    assert download(client, image['id']).status_int == 204
    assert stored_files() == []


def test_chunked_upload_over_size_cap_is_too_large(client_with, stored_files):
    client = client_with('[DEFAULT]\nimage_size_cap = 1000\n')
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA)
    assert_error(response, 413, 'The incoming image is too large')
    assert show(client, image['id'])['status'] == 'queued'
    assert stored_files() == []


def test_upload_at_size_cap_is_fine(client_with):
    client = client_with(f'[DEFAULT]\nimage_size_cap = {len(DATA)}\n')
    assert active_image(client)['size'] == len(DATA)


def test_upload_over_storage_quota_is_too_large(client_with, stored_files):
    client = client_with('[DEFAULT]\nuser_storage_quota = 1500\n')
    first = active_image(client)
    second = client.create_image()
    response = client.upload(second['id'], DATA)
    assert response.status_int == 413
    assert 'Image exceeds the storage quota' in response.text
    assert show(client, second['id'])['status'] == 'queued'
    assert stored_files() == [first['id']]


def test_chunked_upload_over_storage_quota_is_too_large(client_with):
    client = client_with('[DEFAULT]\nuser_storage_quota = 1KB\n')
    active_image(client, data=b'x' * 100)
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA)
    assert_error(response, 413, 'Image exceeds the storage quota')
    assert show(client, image['id'])['status'] == 'queued'


def test_deleting_frees_storage_quota(client_with):
    client = client_with('[DEFAULT]\nuser_storage_quota = 1500\n')
    first = active_image(client)
    client.delete(f"/v2/images/{first['id']}")
    assert active_image(client)['status'] == 'active'


def test_deleting_an_image_removes_its_data(client, stored_files):
    image = active_image(client)
    assert stored_files() == [image['id']]
    assert client.delete(f"/v2/images/{image['id']}").status_int == 204
    assert stored_files() == []


def test_declared_size_over_cap_is_refused(client_with):
    client = client_with('[DEFAULT]\nimage_size_cap = 1000\n')
    image = client.create_image()
    response = upload_chunked(client, image['id'], DATA,
                              {'x-openstack-image-size': str(len(DATA))})
    assert_error(response, 413, 'The incoming image is too large')
    assert show(client, image['id'])['status'] == 'queued'


# --- download ----------------------------------------------------------------

def test_download_of_queued_image_is_no_content(client):
    image = client.create_image()
    response = download(client, image['id'])
    assert response.status_int == 204
    assert response.body == b''


def test_download_of_missing_image_is_not_found(client):
    assert_error(download(client, MISSING_ID), 404,
                 f'No image found with ID {MISSING_ID}')


def test_download_of_deleted_image_is_not_found(client):
    image = active_image(client)
    client.delete(f"/v2/images/{image['id']}")
    assert download(client, image['id']).status_int == 404


def test_download_with_body_is_bad_request(client):
    image = active_image(client)
    response = client.get(file_path(image['id']), body=b'x',
                          content_type=OCTET_STREAM)
    assert_error(response, 400, 'A body is not expected with this request.')


@pytest.mark.parametrize('header, first, last', [
    ('bytes=0-9', 0, 9),
    ('bytes=100-199', 100, 199),
    ('bytes=1023-1023', 1023, 1023),
    ('bytes=-10', 1014, 1023),
    ('bytes=1000-', 1000, 1023),
    ('bytes=0-', 0, 1023),
    ('bytes=1000-5000', 1000, 1023),
    ('bytes=-5000', 0, 1023),
])
def test_range_download(client, header, first, last):
    image = active_image(client)
    response = download(client, image['id'], Range=header)
    assert response.status_int == 206
    assert response.headers['Content-Range'] == f'bytes {first}-{last}/1024'
    assert response.content_length == last - first + 1
    assert response.body == DATA[first:last + 1]
    assert response.headers['Content-MD5'] == image['checksum']


@pytest.mark.parametrize('header, message', [
    ('bytes=1024-', ('Invalid start position in Range header. Start position '
                     'MUST be in the inclusive range [0, 1023].')),
    ('bytes=5000-6000', 'Invalid start position in Range header.'),
    ('bytes=10-5', 'Invalid Range header.'),
    ('bytes=abc', 'Invalid Range header.'),
    ('items=0-5', 'Invalid Range header.'),
    ('0-5', 'Invalid Range header.'),
])
def test_unsatisfiable_range_is_416(client, header, message):
    image = active_image(client)
    response = download(client, image['id'], Range=header)
    assert_error(response, 416, message)


def test_range_error_body(client):
    image = active_image(client)
    response = download(client, image['id'], Range='bytes=2000-')
    assert response.text == (
        '416 Request Range Not Satisfiable\n\nThe Range requested is not '
        'available.\n\n Invalid start position in Range header. Start '
        'position MUST be in the inclusive range [0, 1023].  ')


def test_multiple_ranges_are_bad_request(client):
    image = active_image(client)
    response = download(client, image['id'], Range='bytes=0-1,5-6')
    assert response.status_int == 400
    assert response.body == (
        b'400 Bad Request\n\nRequests with multiple ranges are not supported '
        b'in Glance. You may make multiple single-range requests instead.'
        b'\n\n   ')


@pytest.mark.parametrize('header, first, last', [
    ('bytes 0-9/1024', 0, 9),
    ('bytes 0-9/*', 0, 9),
    ('bytes 1000-1023/*', 1000, 1023),
])
def test_legacy_content_range_request_header(client, header, first, last):
    image = active_image(client)
    response = download(client, image['id'], **{'Content-Range': header})
    assert response.status_int == 206
    assert response.headers['Content-Range'] == f'bytes {first}-{last}/1024'
    assert response.body == DATA[first:last + 1]


@pytest.mark.parametrize('header, message', [
    ('bytes 1000-2000/*', ('Invalid stop position in Content-Range header. '
                           'The stop position MUST be in the inclusive range '
                           '[0, 1023].')),
    # Upstream sends a Content-Length it cannot honour here.
    ('bytes 0-2000/3000', 'Invalid stop position in Content-Range header.'),
    ('bytes 2000-3000/*', 'Invalid stop position in Content-Range header.'),
    ('bogus', 'Invalid Content-Range header.'),
])
def test_bad_legacy_content_range_is_416(client, header, message):
    image = active_image(client)
    response = download(client, image['id'], **{'Content-Range': header})
    assert_error(response, 416, message)


def test_range_on_empty_image_is_416(client):
    image = active_image(client, data=b'')
    response = download(client, image['id'], Range='bytes=0-1')
    assert_error(response, 416, 'inclusive range [0, -1]')


def test_range_on_queued_image_is_no_content(client):
    image = client.create_image()
    assert download(client, image['id'], Range='bytes=0-1').status_int == 204


# --- where the data lives, when the operator shows it -----------------------

def test_direct_url_is_shown_on_show_list_and_update(client_with):
    client = client_with('[DEFAULT]\nshow_image_direct_url = true\n')
    image = client.create_image(name='located')
    assert 'direct_url' not in client.get(
        f"/v2/images/{image['id']}").json
    assert client.upload(image['id'], DATA).status_int == 204
    shown = client.get(f"/v2/images/{image['id']}").json
    assert shown['direct_url'].startswith('file:///')
    assert shown['direct_url'].endswith(image['id'])
    listed, = client.get('/v2/images').json['images']
    assert listed['direct_url'] == shown['direct_url']
    updated = client.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/name', 'value': 'moved'}]).json
    assert updated['direct_url'] == shown['direct_url']
    assert 'locations' not in updated


def test_locations_are_shown_when_multiple_locations_are(client_with):
    client = client_with('[DEFAULT]\nshow_multiple_locations = true\n')
    image = client.create_image(name='located')
    assert client.get(f"/v2/images/{image['id']}").json['locations'] == []
    client.upload(image['id'], DATA)
    listed, = client.get('/v2/images').json['images']
    location, = listed['locations']
    assert location['url'].endswith(image['id'])
    assert location['metadata'] == {}
    assert 'direct_url' not in listed
