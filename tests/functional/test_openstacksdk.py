"""openstacksdk against the real glance-api daemon (default flavor: no
authentication, the caller is admin).

openstacksdk talks to an endpoint without Keystone through the keystoneauth
'none' plugin: `openstack.connect(auth_type='none',
image_endpoint_override=URL)`. The URL is the unversioned root: the SDK
discovers /v2/ from the versions document (GET / -> 300).
"""
import hashlib
import io
import os
import uuid
import warnings

import pytest
import requests

from tests.helpers import get_json

openstack = pytest.importorskip('openstack')
from openstack import exceptions  # noqa: E402

TIMEOUT = 60


@pytest.fixture(scope='module')
def conn(glance_api):
    connection = openstack.connect(
        auth_type='none', image_endpoint_override=glance_api.url,
        load_yaml_config=False, load_envvars=False,
        api_timeout=TIMEOUT)
    yield connection
    connection.close()


@pytest.fixture
def unique():
    return 'sdk-' + uuid.uuid4().hex[:12]


@pytest.fixture
def data():
    return os.urandom(2 * 1024 * 1024 + 5)


def test_the_endpoint_is_discovered(conn, glance_api):
    assert conn.image.get_endpoint() == glance_api.url + '/v2/'
    assert conn.image.get_api_major_version() == (2, 0)


def test_a_keystoneauth_session_without_auth(glance_api, unique):
    """The other way in: a keystoneauth1 session with the noauth plugin."""
    from keystoneauth1 import noauth
    from keystoneauth1 import session

    connection = openstack.connection.Connection(
        session=session.Session(auth=noauth.NoAuth()),
        image_endpoint_override=glance_api.url)
    try:
        image = connection.image.create_image(
            name=unique, disk_format='raw', container_format='bare')
        assert [found.id for found in
                connection.image.images(name=unique)] == [image.id]
    finally:
        connection.close()


def test_cloud_create_image_from_a_file_and_wait(conn, glance_api, unique,
                                                 data, tmp_path):
    path = tmp_path / 'disk.raw'
    path.write_bytes(data)

    image = conn.create_image(
        unique, filename=str(path), disk_format='raw',
        container_format='bare', wait=True, timeout=TIMEOUT,
        validate_checksum=True, tags=['sdk', unique], purpose='testing')

    assert image.status == 'active'
    assert image.name == unique
    assert image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.hash_algo == 'sha512'
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    assert sorted(image.tags) == sorted(['sdk', unique])
    assert image.properties['purpose'] == 'testing'
    raw = get_json(glance_api, f'/v2/images/{image.id}')
    assert raw['status'] == 'active'
    assert raw['os_hash_value'] == image.hash_value
    assert raw['purpose'] == 'testing'


def test_proxy_create_image_with_data(conn, unique, data):
    image = conn.image.create_image(
        name=unique, data=io.BytesIO(data), disk_format='ploop',
        container_format='bare', visibility='private', min_ram=512,
        wait=True, timeout=TIMEOUT)

    # The proxy returns the image as the POST left it (queued), even with
    # wait=True: the upload (PUT, 204) is synchronous. Fetch it again.
    fetched = conn.image.get_image(image.id)
    assert fetched.status == 'active'
    assert fetched.size == len(data)
    assert (fetched.disk_format, fetched.visibility, fetched.min_ram) == (
        'ploop', 'private', 512)
    assert fetched.checksum == hashlib.md5(data).hexdigest()
    assert fetched.hash_value == hashlib.sha512(data).hexdigest()


def test_proxy_create_image_validates_the_checksum(conn, unique, data):
    # validate_checksum needs bytes; the proxy fetches the image to compare.
    image = conn.image.create_image(
        name=unique, data=data, disk_format='raw', container_format='bare',
        validate_checksum=True)

    fetched = conn.image.get_image(image.id)
    assert fetched.status == 'active'
    assert fetched.properties['owner_specified.openstack.md5'] == \
        hashlib.md5(data).hexdigest()
    assert fetched.properties['owner_specified.openstack.sha256'] == \
        hashlib.sha256(data).hexdigest()


def test_proxy_create_then_upload(conn, unique, data):
    image = conn.image.create_image(name=unique, disk_format='raw',
                                    container_format='bare')
    assert image.status == 'queued'

    # upload_image creates and uploads in one go; deprecated, still used.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        uploaded = conn.image.upload_image(
            container_format='bare', disk_format='raw', data=data,
            name=unique + '-uploaded')

    fetched = conn.image.get_image(uploaded.id)
    assert fetched.status == 'active'
    assert fetched.size == len(data)
    assert conn.image.get_image(image.id).status == 'queued'


def test_images_listing_with_filters_and_paging(conn, unique):
    created = []
    for number, visibility in enumerate(['public', 'shared', 'private',
                                         'public', 'shared']):
        created.append(conn.image.create_image(
            name=f'{unique}-{number}', disk_format='raw',
            container_format='bare', visibility=visibility,
            tags=[unique], group=unique))

    # The SDK follows the 'next' links: a page of 2 lists all five.
    paged = list(conn.image.images(tag=unique, limit=2))
    assert sorted(image.id for image in paged) == sorted(
        image.id for image in created)

    by_name = list(conn.image.images(tag=unique, sort_key='name',
                                     sort_dir='asc'))
    assert [image.name for image in by_name] == [
        f'{unique}-{number}' for number in range(5)]
    descending = list(conn.image.images(tag=unique, sort='name:desc'))
    assert [image.name for image in descending] == [
        f'{unique}-{number}' for number in reversed(range(5))]
    public = list(conn.image.images(tag=unique, visibility='public'))
    assert sorted(image.name for image in public) == [f'{unique}-0',
                                                      f'{unique}-3']
    assert [image.name for image in conn.image.images(
        name=f'{unique}-2')] == [f'{unique}-2']
    assert list(conn.image.images(tag=unique + '-none')) == []


def test_get_and_find_image(conn, unique):
    image = conn.image.create_image(name=unique, disk_format='raw',
                                    container_format='bare')

    assert conn.get_image(unique).id == image.id
    assert conn.get_image(image.id).name == unique
    assert conn.get_image_by_id(image.id).name == unique
    assert conn.image.find_image(unique).id == image.id
    assert conn.image.get_image(image.id).name == unique
    assert conn.get_image(unique + '-missing') is None
    assert conn.image.find_image(unique + '-missing') is None
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(str(uuid.uuid4()))


def test_update_image(conn, glance_api, unique):
    image = conn.image.create_image(name=unique, disk_format='raw',
                                    container_format='bare',
                                    keep='1', other='2')

    updated = conn.image.update_image(image, name=unique + '-renamed',
                                      min_disk=3)

    assert updated.name == unique + '-renamed'
    assert updated.min_disk == 3
    assert updated.properties['other'] == '2'
    # update_image_properties adds to the properties the image has (given
    # to update_image, properties would replace them all: the SDK sends
    # a 'remove' for every other one).
    assert conn.update_image_properties(
        image=updated, meta={'keep': 'changed', 'added': 'yes'}) is True
    raw = get_json(glance_api, f'/v2/images/{image.id}')
    assert (raw['name'], raw['min_disk'], raw['keep'], raw['other'],
            raw['added']) == (unique + '-renamed', 3, 'changed', '2', 'yes')
    assert conn.image.get_image(image.id).properties['keep'] == 'changed'


def test_download_image(conn, unique, data, tmp_path):
    image = conn.image.create_image(
        name=unique, data=data, disk_format='raw', container_format='bare',
        wait=True, timeout=TIMEOUT)

    # The proxy checks the bytes against os_hash_value as it reads them.
    response = conn.image.download_image(image)
    assert response.content == data
    streamed = conn.image.download_image(image, stream=True)
    assert b''.join(streamed.iter_content(65536)) == data
    to_path = tmp_path / 'by-proxy'
    conn.image.download_image(image, output=str(to_path))
    assert to_path.read_bytes() == data

    # The cloud layer, by name, to a path and to a file object.
    by_name = tmp_path / 'by-name'
    conn.download_image(unique, output_path=str(by_name))
    assert by_name.read_bytes() == data
    buffer = io.BytesIO()
    conn.download_image(image.id, output_file=buffer)
    assert buffer.getvalue() == data


def test_tags_members_and_deactivation(conn, unique, data):
    image = conn.image.create_image(
        name=unique, data=data, disk_format='raw', container_format='bare',
        visibility='shared', wait=True, timeout=TIMEOUT)

    conn.image.add_tag(image, 'one')
    conn.image.add_tag(image, 'two')
    conn.image.remove_tag(image, 'one')
    assert conn.image.get_image(image).tags == ['two']

    member = conn.image.add_member(image, member_id='project-x')
    assert (member.member_id, member.status) == ('project-x', 'pending')
    conn.image.update_member(member, image, status='accepted')
    assert [(m.member_id, m.status) for m in conn.image.members(image)] == [
        ('project-x', 'accepted')]
    assert conn.image.get_member('project-x', image).status == 'accepted'
    conn.image.remove_member('project-x', image)
    assert list(conn.image.members(image)) == []

    conn.image.deactivate_image(image)
    assert conn.image.get_image(image).status == 'deactivated'
    # Admin (the default flavor): the data still downloads.
    assert conn.image.download_image(image).content == data
    conn.image.reactivate_image(image)
    assert conn.image.get_image(image).status == 'active'


def test_delete_image(conn, glance_api, unique, data):
    image = conn.image.create_image(
        name=unique, data=data, disk_format='raw', container_format='bare',
        wait=True, timeout=TIMEOUT)
    other = conn.image.create_image(name=unique + '-other',
                                    disk_format='raw',
                                    container_format='bare')

    assert conn.delete_image(unique, wait=True, timeout=TIMEOUT) is True

    assert conn.get_image(image.id) is None
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(image.id)
    assert requests.get(f'{glance_api.url}/v2/images/{image.id}',
                        timeout=TIMEOUT).status_code == 404
    assert conn.delete_image(unique) is False

    conn.image.delete_image(other)
    assert conn.image.delete_image(other, ignore_missing=True) is None
    with pytest.raises(exceptions.NotFoundException):
        conn.image.delete_image(other, ignore_missing=False)
