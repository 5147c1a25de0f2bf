"""The swift store on the real glance-api daemon against a real Swift
(tests/functional/swift.py): uploads through curl-like requests, the
`glance` CLI and openstacksdk, objects and segments checked in Swift with
swiftclient, images written the way upstream writes them, ranged
downloads, failed and killed uploads, the single-store mode.

The store here authenticates with Swift's own v1 authentication (the
fixture's tempauth); test_swift_keystone.py has the Keystone v3 ways.
"""
import hashlib
import json
import os
import socket
import sqlite3
import uuid

import pytest
import requests

from tests.functional import daemon
from tests.functional.process import serving
from tests.functional.test_upload_recovery import begin_upload
from tests.functional.test_upload_recovery import kill_all
from tests.helpers import GLANCE
from tests.helpers import Glance
from tests.helpers import create_image
from tests.helpers import parse_table
from tests.helpers import wait_for

TIMEOUT = 60
# Upstream's MB, the unit of the large-object options.
MB = 1000 * 1024
SWEEP_CONFIG = ('[DEFAULT]\n'
                'upload_lease_time = 3\n'
                'upload_sweep_interval = 1\n')


def swift_options(swift_server, container, **options):
    """A swift store's options: tempauth's account, segments from 1 MB."""
    values = {
        'swift_store_auth_version': '1',
        'swift_store_auth_address': swift_server.auth_url,
        'swift_store_user': swift_server.user,
        'swift_store_key': swift_server.key,
        'swift_store_container': container,
        'swift_store_create_container_on_put': 'true',
        'swift_store_large_object_size': '1',
        'swift_store_large_object_chunk_size': '1',
        **options}
    return ''.join(f'{key} = {value}\n' for key, value in values.items())


def multistore_config(directory, swift_server, container):
    return (f"""
[DEFAULT]
enabled_backends = local:file, objects:swift
[glance_store]
default_backend = objects
[local]
filesystem_store_datadir = {directory}/local
[objects]
store_description = Swift objects
weight = 5
""" + swift_options(swift_server, container) + f"""
[os_glance_staging_store]
filesystem_store_datadir = {directory}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {directory}/tasks
""")


@pytest.fixture(scope='module')
def container():
    return 'glance-' + uuid.uuid4().hex[:8]


@pytest.fixture(scope='module')
def swift_api(tmp_path_factory, swift_server, container):
    directory = tmp_path_factory.mktemp('swift-store')
    with serving(daemon.GlanceApi(
            directory, workers=2, extra_config=multistore_config(
                directory, swift_server, container) + SWEEP_CONFIG)) as api:
        yield api


@pytest.fixture(scope='module')
def swift(swift_server):
    connection = swift_server.connection()
    yield connection
    connection.close()


@pytest.fixture(scope='module')
def glance(swift_api, tmp_path_factory):
    if not os.access(GLANCE, os.X_OK):
        pytest.skip('python-glanceclient not installed')
    return Glance(swift_api, tmp_path_factory.mktemp('home'))


def objects(swift, container, prefix=''):
    """The names of the objects in `container` starting with `prefix`."""
    try:
        _headers, listing = swift.get_container(container, prefix=prefix,
                                                full_listing=True)
    except Exception as error:
        if getattr(error, 'http_status', None) == 404:
            return []
        raise
    return sorted(entry['name'] for entry in listing)


def locations(api, image_id):
    """(url, metadata) of the image's locations, from its database."""
    database = sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'))
    try:
        rows = database.execute(
            'SELECT url, meta_data FROM image_locations WHERE image_id = ? '
            "AND status = 'active'", (image_id,)).fetchall()
    finally:
        database.close()
    return [(url, json.loads(meta or '{}')) for url, meta in rows]


def image_of(api, image_id):
    response = requests.get(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def download(api, image_id, **headers):
    return requests.get(f'{api.url}/v2/images/{image_id}/file',
                        headers=headers, timeout=TIMEOUT)


def upload(api, image_id, data, store=None):
    headers = {'Content-Type': 'application/octet-stream'}
    if store:
        headers['X-Image-Meta-Store'] = store
    return requests.put(f'{api.url}/v2/images/{image_id}/file', data=data,
                        headers=headers, timeout=TIMEOUT)


def delete(api, image_id):
    response = requests.delete(f'{api.url}/v2/images/{image_id}',
                               timeout=TIMEOUT)
    assert response.status_code == 204, response.text


def swift_url(swift_server, container, image_id):
    """The location glance_store writes for an image in `container` of
    tempauth's test account (the credentials quoted)."""
    address = swift_server.auth_url[len('http://'):]
    return (f'swift+http://test%3Atester:testing@{address}/{container}/'
            f'{image_id}')


def stores_of(output):
    rows = parse_table(output)
    return json.loads(''.join(row['Value'] for row in rows)
                      .replace("'", '"'))


# The API and the CLI


def test_stores_info_shows_the_swift_store(glance):
    assert stores_of(glance.run('stores-info').stdout) == [
        {'id': 'local'},
        {'id': 'objects', 'description': 'Swift objects',
         'default': 'true'}]
    detail = stores_of(glance.run('stores-info', '--detail').stdout)
    assert detail[1]['type'] == 'swift'
    assert detail[1]['weight'] == 5
    assert detail[1]['properties'] == {
        'container': detail[1]['properties']['container'],
        'large_object_size': MB, 'large_object_chunk_size': MB}


@pytest.mark.parametrize('size, segments', [
    (300 * 1024, 0),          # one object
    (2 * MB + 12345, 3),      # segments of 1 MB and a manifest
])
def test_glance_image_create_and_download(glance, swift_api, swift,
                                          swift_server, container, tmp_path,
                                          size, segments):
    data = os.urandom(size)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    created = glance.show('image-create', '--name', 'in-swift',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--file', str(path), '--store', 'objects')
    image_id = created['id']
    assert created['stores'] == 'objects'
    assert created['checksum'] == hashlib.md5(data).hexdigest()
    assert created['os_hash_value'] == hashlib.sha512(data).hexdigest()
    [(url, metadata)] = locations(swift_api, image_id)
    assert metadata == {'store': 'objects'}
    # glance_store's form, credentials quoted.
    assert url == swift_url(swift_server, container, image_id)

    # In Swift: the object, or the manifest and its segments.
    stored = objects(swift, container, image_id)
    headers, body = swift.get_object(container, image_id)
    assert body == data
    if segments:
        manifest = swift.head_object(container, image_id)['x-object-manifest']
        prefix = manifest.partition('/')[2]
        assert manifest == f'{container}/{prefix}'
        assert len(stored) == segments + 1
        assert all(name.startswith(prefix) for name in stored
                   if name != image_id)
        assert [int(swift.head_object(container, name)['content-length'])
                for name in stored if name != image_id] == [
            MB, MB, size - 2 * MB]
    else:
        assert stored == [image_id]
        assert 'x-object-manifest' not in headers

    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), image_id)
    assert downloaded.read_bytes() == data

    glance.run('image-delete', image_id)
    # Neither the object nor any segment is left.
    assert objects(swift, container, image_id) == []


def test_chunked_upload_of_unknown_size_is_segmented(swift_api, swift,
                                                     container):
    data = os.urandom(MB + 100)
    image = create_image(swift_api, name='chunked')

    def body():  # no length: sent chunked
        for start in range(0, len(data), 65536):
            yield data[start:start + 65536]

    response = upload(swift_api, image['id'], body())
    assert response.status_code == 204, response.text
    stored = objects(swift, container, image['id'])
    assert len(stored) == 3  # two segments, a manifest
    assert image_of(swift_api, image['id'])['size'] == len(data)
    assert download(swift_api, image['id']).content == data
    delete(swift_api, image['id'])
    assert objects(swift, container, image['id']) == []


@pytest.mark.parametrize('first, last', [
    (0, 99), (MB - 10, MB + 9), (2 * MB, None), (5, 5)])
def test_ranged_downloads_are_ranged_gets(swift_api, first, last):
    data = os.urandom(2 * MB + 777)
    image = create_image(swift_api, name='ranges')
    assert upload(swift_api, image['id'], data).status_code == 204
    wanted = f'bytes={first}-{"" if last is None else last}'
    response = download(swift_api, image['id'], Range=wanted)
    assert response.status_code == 206, response.text
    end = len(data) - 1 if last is None else last
    assert response.content == data[first:end + 1]
    assert response.headers['Content-Range'] == \
        f'bytes {first}-{end}/{len(data)}'
    # Past the end: 416, as for the other stores.
    response = download(swift_api, image['id'],
                        Range=f'bytes={len(data)}-')
    assert response.status_code == 416
    delete(swift_api, image['id'])


def test_openstacksdk_upload_and_download(swift_api, swift, container):
    openstack = pytest.importorskip('openstack')
    connection = openstack.connect(
        auth_type='none', image_endpoint_override=swift_api.url,
        load_yaml_config=False, load_envvars=False, api_timeout=TIMEOUT)
    data = os.urandom(MB + 5)
    image = connection.image.create_image(
        name='sdk', data=data, disk_format='raw', container_format='bare',
        validate_checksum=False)
    try:
        fetched = connection.image.get_image(image.id)
        assert fetched.status == 'active'
        assert fetched.checksum == hashlib.md5(data).hexdigest()
        assert connection.image.download_image(fetched).content == data
        assert objects(swift, container, image.id)
        assert [store.id for store in connection.image.stores()] == [
            'local', 'objects']
    finally:
        connection.image.delete_image(image.id)
        connection.close()
    assert objects(swift, container, image.id) == []


# What upstream wrote


def make_active(api, image_id, url, data):
    """Point an image at data already stored, as an upstream database
    would have it: active, with its size, checksum and location."""
    database = sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'))
    with database:
        database.execute(
            "UPDATE images SET status = 'active', size = ?, checksum = ? "
            'WHERE id = ?', (len(data), hashlib.md5(data).hexdigest(),
                             image_id))
        database.execute(
            "INSERT INTO image_locations (image_id, url, meta_data, status,"
            " created_at) VALUES (?, ?, '{}', 'active', CURRENT_TIMESTAMP)",
            (image_id, url))
    database.close()


def test_an_image_upstream_wrote_as_dlo_segments(swift_api, swift,
                                                 swift_server, container):
    image = create_image(swift_api, name='from-upstream')
    image_id = image['id']
    parts = [os.urandom(MB), os.urandom(MB), os.urandom(1000)]
    # Upstream's names: <image id>-00001, ..., then the manifest.
    for number, part in enumerate(parts, 1):
        swift.put_object(container, f'{image_id}-{number:05d}', part)
    swift.put_object(container, image_id, b'',
                     headers={'X-Object-Manifest':
                              f'{container}/{image_id}-'})
    url = swift_url(swift_server, container, image_id)
    data = b''.join(parts)
    make_active(swift_api, image_id, url, data)

    assert download(swift_api, image_id).content == data
    response = download(swift_api, image_id, Range=f'bytes={MB - 1}-{MB}')
    assert response.content == data[MB - 1:MB + 1]
    # Its location is matched to the store by its URI.
    assert image_of(swift_api, image_id)['stores'] == 'objects'

    delete(swift_api, image_id)
    assert objects(swift, container, image_id) == []


def test_stores_delete_removes_the_swift_copy(glance, swift_api, swift,
                                              swift_server, container,
                                              tmp_path):
    data = os.urandom(MB + 1)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    created = glance.show('image-create', '--name', 'two-copies',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--file', str(path), '--store', 'local')
    image_id = created['id']
    # A second copy, in Swift, as copy-image would make it.
    swift.put_object(container, image_id, data)
    database = sqlite3.connect(os.path.join(swift_api.state_path,
                                            'glance.sqlite'))
    with database:
        database.execute(
            "INSERT INTO image_locations (image_id, url, meta_data, status,"
            " created_at) VALUES (?, ?, ?, 'active', CURRENT_TIMESTAMP)",
            (image_id, swift_url(swift_server, container, image_id),
             json.dumps({'store': 'objects'})))
    database.close()
    assert glance.show('image-show', image_id)['stores'] == 'objects,local'
    # The heavier store is read first.
    assert download(swift_api, image_id).content == data

    glance.run('stores-delete', '--store', 'objects', image_id)
    assert objects(swift, container, image_id) == []
    assert glance.show('image-show', image_id)['stores'] == 'local'
    assert download(swift_api, image_id).content == data
    glance.run('image-delete', image_id)


# Failures


def send_part_and_close(api, path, declared, sent, chunked=False):
    """An upload that stops after `sent` of `declared` bytes and goes."""
    connection = socket.create_connection(('127.0.0.1', api.port),
                                          timeout=TIMEOUT)
    length = ('Transfer-Encoding: chunked' if chunked
              else f'Content-Length: {declared}')
    head = (f'PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            f'Content-Type: application/octet-stream\r\n{length}\r\n\r\n')
    body = os.urandom(sent)
    if chunked:
        body = b'%x\r\n%s\r\n' % (len(body), body)
    connection.sendall(head.encode() + body)
    connection.close()


@pytest.mark.parametrize('declared, chunked', [
    (500 * 1024, False),      # one PUT, cut
    (3 * MB, False),          # segments, cut after the first
    (None, True),             # chunked, unknown size
], ids=['single', 'segmented', 'chunked'])
def test_a_failed_upload_leaves_nothing(swift_api, swift, container,
                                        declared, chunked):
    image = create_image(swift_api, name='cut')
    sent = 200 * 1024 if declared == 500 * 1024 else MB + MB // 2
    send_part_and_close(swift_api, f'/v2/images/{image["id"]}/file',
                        declared, sent, chunked)
    # The server answered the cut upload (after seeing its end).
    wait_for(lambda: f'PUT /v2/images/{image["id"]}/file' in swift_api.log(),
             'the upload to fail')
    assert image_of(swift_api, image['id'])['status'] == 'queued'
    assert objects(swift, container, image['id']) == []
    # And it can be uploaded again.
    data = os.urandom(2000)
    assert upload(swift_api, image['id'], data).status_code == 204
    assert download(swift_api, image['id']).content == data
    delete(swift_api, image['id'])


def test_a_missing_container_without_create_on_put(tmp_path, swift_server):
    directory = tmp_path / 'api'
    config = multistore_config(directory, swift_server,
                               'absent-' + uuid.uuid4().hex[:8]).replace(
        'swift_store_create_container_on_put = true',
        'swift_store_create_container_on_put = false')
    with serving(daemon.GlanceApi(directory, workers=1,
                                  extra_config=config)) as api:
        image = create_image(api, name='nowhere')
        response = upload(api, image['id'], b'data')
        assert response.status_code == 503, response.text
        assert image_of(api, image['id'])['status'] == 'queued'


@pytest.fixture
def recovering_api(tmp_path, swift_server):
    container = 'glance-kill-' + uuid.uuid4().hex[:8]
    server = daemon.GlanceApi(
        tmp_path / 'api', workers=2, extra_config=multistore_config(
            tmp_path / 'api', swift_server, container) + SWEEP_CONFIG)
    server.container = container
    with serving(server) as api:
        yield api


def test_kill_9_mid_upload_then_restart_cleans_the_segments(
        recovering_api, swift):
    api, container = recovering_api, recovering_api.container
    image = create_image(api, name='killed')
    data = os.urandom(12 * MB)
    # The daemon reads 4 MiB at a time: two reads' worth.
    connection = begin_upload(api, f'/v2/images/{image["id"]}/file', data,
                              9 * MB)
    try:
        wait_for(lambda: len(objects(swift, container, image['id'])) >= 2,
                 'segments in Swift')
        kill_all(api)
    finally:
        connection.close()
    assert objects(swift, container, image['id'])

    api.start()
    # The start's sweep reclaimed the dead upload and its segments.
    assert image_of(api, image['id'])['status'] == 'queued'
    assert objects(swift, container, image['id']) == []
    again = os.urandom(MB + 3)
    assert upload(api, image['id'], again).status_code == 204
    assert download(api, image['id']).content == again


def test_stray_segments_go_at_start_and_upstreams_stay(recovering_api,
                                                        swift):
    api, container = recovering_api, recovering_api.container
    stray = str(uuid.uuid4())
    swift.put_container(container)
    # Segments of an upload no row claims (its row was lost with its
    # node, say), and an image upstream wrote, segments and manifest.
    swift.put_object(container, f'{stray}.0badc0de-00001', b'x' * 10)
    swift.put_object(container, f'{stray}.0badc0de-00002', b'y' * 10)
    kept = str(uuid.uuid4())
    swift.put_object(container, f'{kept}-00001', b'upstream')
    swift.put_object(container, kept, b'', headers={
        'X-Object-Manifest': f'{container}/{kept}-'})
    api.stop()
    api.start()
    assert objects(swift, container, stray) == []
    assert objects(swift, container, kept) == [kept, f'{kept}-00001']


# The single-store mode


def test_single_store_mode_with_swift_as_default(tmp_path, swift_server,
                                                 swift):
    container = 'glance-single-' + uuid.uuid4().hex[:8]
    config = ('[glance_store]\nstores = file, swift\n'
              'default_store = swift\n'
              + swift_options(swift_server, container))
    with serving(daemon.GlanceApi(tmp_path / 'api', workers=1,
                                  extra_config=config)) as api:
        response = requests.get(f'{api.url}/v2/info/stores', timeout=TIMEOUT)
        assert response.status_code == 404
        data = os.urandom(3 * MB)
        image = create_image(api, name='single')
        assert upload(api, image['id'], data).status_code == 204
        [(url, metadata)] = locations(api, image['id'])
        assert url.startswith('swift+http://') and metadata == {}
        assert len(objects(swift, container, image['id'])) == 4
        assert download(api, image['id']).content == data
        delete(api, image['id'])
        assert objects(swift, container, image['id']) == []
