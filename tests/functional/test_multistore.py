"""The multi-store mode on the real glance-api daemon, driven by the
`glance` command line client: stores-info, image-create --store,
image-download, stores-delete; a driver the service lacks stops the
start; a reload (SIGHUP) rebuilds the stores."""
import hashlib
import json
import os
import signal
import sqlite3

import pytest
import requests

from tests.functional import daemon
from tests.functional.process import serving
from tests.functional.test_start_up import run_glance_api
from tests.helpers import GLANCE
from tests.helpers import Glance
from tests.helpers import parse_table
from tests.helpers import wait_for

TIMEOUT = 60

pytestmark = pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                                reason='python-glanceclient not installed')


def multistore_config(directory, default='fast'):
    return f"""
[DEFAULT]
enabled_backends = fast:file, cheap:file, web:http
[glance_store]
default_backend = {default}
[fast]
store_description = Fast disks
weight = 10
filesystem_store_datadir = {directory}/fast
[cheap]
weight = 20
filesystem_store_datadir = {directory}/cheap
[os_glance_staging_store]
filesystem_store_datadir = {directory}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {directory}/tasks
"""


@pytest.fixture(scope='module')
def multistore_api(tmp_path_factory):
    directory = tmp_path_factory.mktemp('multistore')
    with serving(daemon.GlanceApi(
            directory, workers=1,
            extra_config=multistore_config(directory))) as api:
        api.store_root = directory
        yield api


@pytest.fixture(scope='module')
def glance(multistore_api, tmp_path_factory):
    return Glance(multistore_api, tmp_path_factory.mktemp('home'))


def stores_of(output):
    """The stores `glance stores-info` prints (JSON, wrapped in a table)."""
    rows = parse_table(output)
    return json.loads(''.join(row['Value'] for row in rows)
                      .replace("'", '"'))


def test_stores_info_lists_the_stores(glance, multistore_api):
    assert stores_of(glance.run('stores-info').stdout) == [
        {'id': 'fast', 'description': 'Fast disks', 'default': 'true'},
        {'id': 'cheap'}, {'id': 'web', 'read-only': 'true'}]
    detail = stores_of(glance.run('stores-info', '--detail').stdout)
    assert [(s['id'], s['type'], s['weight']) for s in detail] == [
        ('fast', 'file', 10), ('cheap', 'file', 20), ('web', 'http', 0)]
    assert detail[1]['properties']['data_dir'] == \
        f'{multistore_api.store_root}/cheap'


def add_copy(api, image_id, store_id, data):
    """Put an image's data in another store too, file and location row,
    as copy-image would."""
    path = api.store_root / store_id / image_id
    path.write_bytes(data)
    database = sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'))
    with database:
        database.execute(
            "INSERT INTO image_locations (image_id, url, meta_data, status,"
            " created_at) VALUES (?, ?, ?, 'active', CURRENT_TIMESTAMP)",
            (image_id, f'file://{path}', json.dumps({'store': store_id})))
    database.close()
    return path


def test_image_create_into_a_store_then_delete_one_copy(
        glance, multistore_api, tmp_path):
    data = os.urandom(1024 * 1024 + 3)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)

    created = glance.show('image-create', '--name', 'stored',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--file', str(path), '--store', 'cheap')

    assert created['stores'] == 'cheap'
    image_id = created['id']
    cheap_file = multistore_api.store_root / 'cheap' / image_id
    assert cheap_file.read_bytes() == data
    assert created['checksum'] == hashlib.md5(data).hexdigest()

    # A second copy in the fast store (as copy-image would make it).
    fast_file = add_copy(multistore_api, image_id, 'fast', data)
    assert glance.show('image-show', image_id)['stores'] == 'cheap,fast'

    glance.run('stores-delete', '--store', 'cheap', image_id)

    assert not cheap_file.exists()
    assert glance.show('image-show', image_id)['stores'] == 'fast'
    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), image_id)
    assert downloaded.read_bytes() == data

    last = glance.run('stores-delete', '--store', 'fast', image_id,
                      check=False)
    assert last.returncode != 0
    assert 'Cannot delete image data from the only store containing it' \
        in last.stdout + last.stderr
    assert fast_file.exists()


def test_openstacksdk_lists_stores_and_deletes_from_one(multistore_api):
    openstack = pytest.importorskip('openstack')
    conn = openstack.connect(
        auth_type='none', image_endpoint_override=multistore_api.url,
        load_yaml_config=False, load_envvars=False, api_timeout=TIMEOUT)
    try:
        stores = list(conn.image.stores())
        assert [(s.id, s.is_default) for s in stores] == [
            ('fast', True), ('cheap', None), ('web', None)]
        detail = {s.id: s.properties for s in conn.image.stores(details=True)}
        assert detail['web'] == {}
        assert detail['fast']['data_dir'] == \
            f'{multistore_api.store_root}/fast'

        image = conn.image.create_image(name='sdk', disk_format='raw',
                                        container_format='bare',
                                        data=b'sdk data')
        assert conn.image.get_image(image.id).properties['stores'] == 'fast'
        copy = add_copy(multistore_api, image.id, 'cheap', b'sdk data')

        conn.image.delete_image(image, store='cheap')

        assert not copy.exists()
        assert conn.image.get_image(image.id).properties['stores'] == 'fast'
        assert b''.join(conn.image.download_image(image, stream=True)
                        .iter_content(1024)) == b'sdk data'
    finally:
        conn.close()


def test_an_unknown_store_is_refused(multistore_api):
    image = requests.post(multistore_api.url + '/v2/images', timeout=TIMEOUT,
                          json={'name': 'x', 'disk_format': 'raw',
                                'container_format': 'bare'})
    assert image.headers['OpenStack-image-store-ids'] == 'fast,cheap,web'
    response = requests.put(
        multistore_api.url + f"/v2/images/{image.json()['id']}/file",
        data=b'data', timeout=TIMEOUT,
        headers={'Content-Type': 'application/octet-stream',
                 'X-Image-Meta-Store': 'nope'})
    assert response.status_code == 400
    assert 'Store for identifier nope not found' in response.text


@pytest.mark.parametrize('settings, message', [
    ('[DEFAULT]\nenabled_backends = fast:file, ceph:rbd\n'
     '[glance_store]\ndefault_backend = fast\n',
     "Store 'ceph' in enabled_backends has the type 'rbd', which this "
     "service has no driver for (available: file, http, s3, swift)"),
    ('[DEFAULT]\nenabled_backends = fast:file\n',
     "'default_backend' config option is not set."),
])
def test_a_bad_multistore_configuration_stops_the_start(tmp_path, settings,
                                                        message):
    api = daemon.GlanceApi(tmp_path, extra_config=settings)
    code, output = run_glance_api(api)
    assert (code, output) == (1, f'glance-api: ERROR: {message}')


def test_a_reload_rebuilds_the_stores(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1,
                           extra_config=multistore_config(tmp_path))
    with api:
        api.extra_config = multistore_config(tmp_path, default='cheap')
        api.write_config()
        os.kill(api.pid, signal.SIGHUP)

        def default_store():
            stores = requests.get(api.url + '/v2/info/stores',
                                  timeout=TIMEOUT).json()['stores']
            return [s['id'] for s in stores if s.get('default')]
        wait_for(lambda: default_store() == ['cheap'], 'the new default',
                 timeout=TIMEOUT)
