"""python-glanceclient's v1 client library (`glanceclient.Client('1',
...)`) and raw v1 HTTP against the real glance-api daemon (default
flavor: no authentication, the caller is the admin)."""
import hashlib
import io
import os
import uuid

import pytest
import requests

from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import NO_PROXY
from tests.helpers import WebServer
from tests.helpers import get_json

glanceclient = pytest.importorskip('glanceclient')
from glanceclient import exc  # noqa: E402

TIMEOUT = 60


@pytest.fixture(scope='module')
def glance_api(tmp_path_factory):
    """The daemon, reaching the test's web server on loopback directly."""
    with serving(GlanceApi(tmp_path_factory.mktemp('glance-api'),
                           workers=2, env=NO_PROXY)) as api:
        yield api


@pytest.fixture(scope='module')
def gc(glance_api):
    return glanceclient.Client('1', endpoint=glance_api.url, token='x')


@pytest.fixture
def unique():
    return 'lib-v1-' + uuid.uuid4().hex[:12]


@pytest.fixture
def data():
    return os.urandom(2 * 1024 * 1024 + 5)


# --- the client library ------------------------------------------------------

def test_create_get_data_and_list(gc, glance_api, data, unique):
    image = gc.images.create(name=unique, disk_format='raw',
                             container_format='bare', is_public=True,
                             data=io.BytesIO(data), min_disk=1,
                             properties={'os_distro': 'cirros'})

    assert (image.status, image.size, image.is_public) == ('active',
                                                           len(data), True)
    assert image.checksum == hashlib.md5(data).hexdigest()
    got = gc.images.get(image.id)
    assert (got.name, got.status, got.size, got.min_disk) == (
        unique, 'active', len(data), 1)
    assert got.properties == {'os_distro': 'cirros'}
    assert got.is_public is True and got.deleted is False
    body = gc.images.data(image.id)
    assert len(body) == len(data)
    assert b''.join(body) == data
    listed = {i.id: i for i in gc.images.list(filters={'name': unique})}
    assert listed[image.id].properties == {'os_distro': 'cirros'}

    v2 = get_json(glance_api, f'/v2/images/{image.id}')
    assert (v2['visibility'], v2['os_distro'], v2['min_disk']) == (
        'public', 'cirros', 1)


def test_paging_through_the_list(gc, unique):
    made = [gc.images.create(name=unique, is_public=True,
                             properties={'batch': unique}).id
            for _ in range(5)]
    listed = [i.id for i in gc.images.list(
        page_size=2, filters={'properties': {'batch': unique}})]
    assert listed == list(reversed(made))
    assert [i.id for i in gc.images.list(
        page_size=2, limit=3, sort_key='name', sort_dir='asc',
        filters={'properties': {'batch': unique}})] == made[:3]


def test_update_upload_and_properties(gc, glance_api, data, unique):
    image = gc.images.create(name=unique, disk_format='raw',
                             container_format='bare',
                             properties={'keep': '1', 'drop': '2'})
    assert image.status == 'queued'

    updated = gc.images.update(image.id, data=io.BytesIO(data))
    assert (updated.status, updated.size) == ('active', len(data))
    updated = gc.images.update(image.id, name=unique + '-2',
                               properties={'keep': 'x', 'new': 'y'},
                               purge_props=True)
    assert updated.properties == {'keep': 'x', 'new': 'y'}
    updated = gc.images.update(image.id, properties={'more': 'z'})
    assert updated.properties == {'keep': 'x', 'new': 'y', 'more': 'z'}

    v2 = get_json(glance_api, f'/v2/images/{image.id}')
    assert (v2['name'], v2['keep'], v2['more']) == (unique + '-2', 'x', 'z')
    assert 'drop' not in v2
    with pytest.raises(exc.HTTPConflict):
        gc.images.update(image.id, data=io.BytesIO(b'again'))


def test_members(gc, glance_api, unique):
    image = gc.images.create(name=unique)

    gc.image_members.create(image.id, 'project-a')
    gc.image_members.create(image.id, 'project-b', can_share=True)

    assert sorted((m.member_id, m.can_share) for m in
                  gc.image_members.list(image=image.id)) == [
        ('project-a', False), ('project-b', True)]
    assert gc.image_members.get(image.id, 'project-b').can_share is True
    assert [m.image_id for m in gc.image_members.list(
        member='project-b')] == [image.id]
    gc.image_members.replace(image.id, [{'member_id': 'project-c'}])
    assert [m.member_id for m in gc.image_members.list(image=image.id)] == [
        'project-c']
    members = get_json(glance_api, f'/v2/images/{image.id}/members')
    assert [(m['member_id'], m['status']) for m in members['members']] == [
        ('project-c', 'accepted')]
    gc.image_members.delete(image.id, 'project-c')
    assert gc.image_members.list(image=image.id) == []


def test_delete(gc, glance_api, unique):
    image = gc.images.create(name=unique, is_public=True)

    gc.images.delete(image.id)

    assert gc.images.get(image.id).status == 'deleted'
    assert requests.get(f'{glance_api.url}/v2/images/{image.id}',
                        timeout=TIMEOUT).status_code == 404
    with pytest.raises(exc.HTTPNotFound):
        gc.images.delete(image.id)


def test_errors_reach_the_client(gc, unique):
    with pytest.raises(exc.HTTPNotFound):
        gc.images.get('00000000-0000-0000-0000-000000000000')
    with pytest.raises(exc.HTTPBadRequest) as raised:
        gc.images.create(name=unique, disk_format='floppy')
    # (An HTML body, as webob answers Accept: */*: the quotes escaped.)
    assert 'Invalid disk format &#x27;floppy&#x27; for image.' \
        in str(raised.value)
    image = gc.images.create(name=unique, protected=True)
    with pytest.raises(exc.HTTPForbidden):
        gc.images.delete(image.id)


def test_a_v2_image_through_the_v1_library(gc, glance_api, unique):
    response = requests.post(glance_api.url + '/v2/images', json={
        'name': unique, 'disk_format': 'raw', 'container_format': 'bare',
        'visibility': 'private', 'owner': 'someone', 'os_distro': 'x'},
        timeout=TIMEOUT)
    assert response.status_code == 201
    image = response.json()

    got = gc.images.get(image['id'])

    assert (got.name, got.status, got.is_public, got.owner) == (
        unique, 'queued', False, 'someone')
    assert got.properties == {'os_distro': 'x'}
    assert image['id'] in [i.id for i in gc.images.list(is_public=None)]
    assert image['id'] not in [i.id for i in gc.images.list()]


def test_location_and_copy_from(gc, unique):
    server = WebServer({'/remote.raw': b'remote' * 3000}).start()
    expected = server.files['/remote.raw']
    try:
        located = gc.images.create(name=unique, disk_format='raw',
                                   container_format='bare',
                                   location=server.url + '/remote.raw')
        copied = gc.images.create(name=unique, disk_format='raw',
                                  container_format='bare',
                                  copy_from=server.url + '/remote.raw')
        assert b''.join(gc.images.data(located.id)) == expected
    finally:
        server.stop()
    assert (located.status, located.size) == ('active', len(expected))
    assert copied.checksum == hashlib.md5(expected).hexdigest()
    assert b''.join(gc.images.data(copied.id)) == expected


# --- raw HTTP ----------------------------------------------------------------

def test_headers_spelled_with_underscores_or_dashes(glance_api):
    response = requests.post(glance_api.url + '/v1/images', headers={
        'x-image-meta-disk_format': 'qcow2',
        'X-Image-Meta-Container-Format': 'ovf',
        'x-image-meta-min_ram': '32',
        'x-image-meta-property-os_distro': 'cirros'}, timeout=TIMEOUT)

    assert response.status_code == 201, response.text
    image = response.json()['image']
    assert (image['disk_format'], image['container_format'],
            image['min_ram']) == ('qcow2', 'ovf', 32)
    assert image['properties'] == {'os_distro': 'cirros'}


def test_chunked_upload_head_and_delete(glance_api):
    data = os.urandom(1024 * 1024 + 3)
    response = requests.post(
        glance_api.url + '/v1/images',
        data=iter([data[:1000], data[1000:]]),
        headers={'Content-Type': 'application/octet-stream',
                 'x-image-meta-disk_format': 'raw',
                 'x-image-meta-container_format': 'bare'},
        timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    image = response.json()['image']
    assert image['size'] == len(data)
    url = f'{glance_api.url}/v1/images/{image["id"]}'

    head = requests.head(url, timeout=TIMEOUT)
    assert head.status_code == 200
    assert head.content == b''
    assert not head.headers['Content-Type'].startswith('application/json')
    assert head.headers['ETag'] == hashlib.md5(data).hexdigest()
    assert head.headers['x-image-meta-size'] == str(len(data))

    got = requests.get(url, timeout=TIMEOUT)
    assert got.content == data
    assert got.headers['Content-Type'] == 'application/octet-stream'

    deleted = requests.delete(url, timeout=TIMEOUT)
    assert deleted.status_code == 200
    assert deleted.content == b''
    assert not deleted.headers['Content-Type'].startswith('application/json')


def test_wrong_methods(glance_api):
    response = requests.patch(glance_api.url + '/v1/images/x',
                              timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET, HEAD, PUT, DELETE'
    response = requests.head(glance_api.url + '/v1/images/detail',
                             timeout=TIMEOUT)
    assert (response.status_code, response.headers['Allow']) == (405, 'GET')


def test_versions_list_v1(glance_api):
    response = requests.get(glance_api.url + '/versions', timeout=TIMEOUT)
    ids = [v['id'] for v in response.json()['versions']]
    assert ids[-2:] == ['v1.1', 'v1.0']
    assert response.json()['versions'][-1]['links'][0]['href'] == (
        glance_api.url + '/v1/')
