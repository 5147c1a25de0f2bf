"""Image locations on the real glance-api daemon in the multi-store mode
(two file stores and the read-only http store "web") with
show_multiple_locations and show_image_direct_url on: the `glance`
command line client (location-add, location-update, location-delete),
openstacksdk, and plain HTTP for upstream's statuses and messages."""
import hashlib
import html
import json
import os

import openstack
import pytest
import requests

from tests.functional import daemon
from tests.functional.process import serving
from tests.helpers import GLANCE
from tests.helpers import NO_PROXY
from tests.helpers import PATCH_TYPE
from tests.helpers import Glance
from tests.helpers import WebServer
from tests.helpers import create_image

TIMEOUT = 60
DATA = os.urandom(256 * 1024 + 5)


def config(directory):
    return f"""
[DEFAULT]
enabled_backends = fast:file, cheap:file, web:http
show_multiple_locations = True
show_image_direct_url = True
[glance_store]
default_backend = fast
[fast]
weight = 10
filesystem_store_datadir = {directory}/fast
[cheap]
weight = 20
filesystem_store_datadir = {directory}/cheap
[os_glance_staging_store]
filesystem_store_datadir = {directory}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {directory}/tasks
[import_filtering_opts]
# The test's web server: loopback, any port.
allowed_hosts = [127.0.0.1]
allowed_ports = []
"""


@pytest.fixture(scope='module')
def web():
    server = WebServer({'/image.raw': DATA, '/empty.raw': b''}).start()
    server.image = server.url + '/image.raw'
    yield server
    server.stop()


@pytest.fixture(scope='module')
def api(tmp_path_factory):
    directory = tmp_path_factory.mktemp('locations')
    with serving(daemon.GlanceApi(directory, workers=1, env=NO_PROXY,
                                  extra_config=config(directory))) as server:
        server.store_root = directory
        yield server


@pytest.fixture(scope='module')
def glance(api, tmp_path_factory):
    client = Glance(api, tmp_path_factory.mktemp('home'))
    client.env.update(NO_PROXY)
    return client


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    for name, value in NO_PROXY.items():
        monkeypatch.setenv(name, value)


def patch(api, image_id, *changes):
    return requests.patch(f'{api.url}/v2/images/{image_id}',
                          data=json.dumps(list(changes)),
                          headers={'Content-Type': PATCH_TYPE},
                          timeout=TIMEOUT)


def show(api, image_id):
    response = requests.get(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def add(url, **metadata):
    return {'op': 'add', 'path': '/locations/-',
            'value': {'url': url, 'metadata': metadata}}


needs_cli = pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                               reason='python-glanceclient not installed')


@needs_cli
def test_glance_location_add_update_delete(glance, api, web, tmp_path):
    image = create_image(api, name='by-url')
    image_id = image['id']
    assert image['locations'] == []

    glance.run('location-add', '--url', web.image, '--metadata',
               '{"purpose": "test"}', image_id)

    shown = show(api, image_id)
    assert (shown['status'], shown['size']) == ('active', len(DATA))
    assert shown['checksum'] is None
    # The http store "web" holds http URLs: its id is recorded.
    assert shown['locations'] == [
        {'url': web.image, 'metadata': {'purpose': 'test', 'store': 'web'}}]
    assert (shown['stores'], shown['direct_url']) == ('web', web.image)
    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), image_id)
    assert downloaded.read_bytes() == DATA

    copy = web.image + '#copy'
    glance.run('location-add', '--url', copy, '--metadata', '{}', image_id)
    glance.run('location-update', '--url', copy, '--metadata',
               '{"speed": "88mph"}', image_id)
    assert [loc['metadata'] for loc in show(api, image_id)['locations']] == \
        [{'purpose': 'test', 'store': 'web'},
         {'speed': '88mph', 'store': 'web'}]

    glance.run('location-delete', '--url', web.image, image_id)
    assert [loc['url'] for loc in show(api, image_id)['locations']] == [copy]
    last = glance.run('location-delete', '--url', copy, image_id,
                      check=False)
    assert last.returncode != 0
    assert 'Cannot remove last location in the image.' in \
        last.stdout + last.stderr


@needs_cli
def test_glance_location_add_refuses_what_users_may_not_give(glance, api,
                                                             web):
    image_id = create_image(api, name='refused')['id']
    for url in (f'file://{api.store_root}/fast/{image_id}',
                'swift+config://ref1/container/object',
                web.url + '/empty.raw'):
        result = glance.run('location-add', '--url', url, image_id,
                            check=False)
        assert result.returncode != 0
        assert '400 Bad Request' in result.stdout + result.stderr
        assert 'Invalid location' in result.stdout + result.stderr
    assert show(api, image_id)['status'] == 'queued'


def test_uploaded_data_and_a_web_location(api, web):
    image_id = create_image(api, name='both')['id']
    response = requests.put(
        f'{api.url}/v2/images/{image_id}/file', data=DATA,
        headers={'Content-Type': 'application/octet-stream',
                 'X-Image-Meta-Store': 'cheap'}, timeout=TIMEOUT)
    assert response.status_code == 204, response.text

    response = patch(api, image_id, add(web.image))

    assert response.status_code == 200, response.text
    shown = show(api, image_id)
    # Shown and tried by store weight: cheap (20) before web (0).
    assert shown['stores'] == 'cheap,web'
    assert shown['direct_url'] == shown['locations'][0]['url']
    assert shown['direct_url'].startswith(f'file://{api.store_root}/cheap/')
    assert shown['checksum'] == hashlib.md5(DATA).hexdigest()

    # Removing the uploaded copy (admin here) deletes its file.
    stored = api.store_root / 'cheap' / image_id
    assert stored.exists()
    response = patch(api, image_id, {'op': 'remove',
                                     'path': '/locations/0'})
    assert response.status_code == 200, response.text
    assert not stored.exists()
    assert show(api, image_id)['stores'] == 'web'
    download = requests.get(f'{api.url}/v2/images/{image_id}/file',
                            timeout=TIMEOUT)
    assert download.content == DATA


@pytest.mark.parametrize('change, status, message', [
    (add('gopher://info.cern.ch'), 400, 'Invalid location'),
    (add('http://169.254.169.254/latest/meta-data'), 400,
     'Invalid location'),
    ({'op': 'add', 'path': '/locations/x',
      'value': {'url': 'http://127.0.0.1/', 'metadata': {}}}, 400,
     'Invalid position for adding a location.'),
    ({'op': 'replace', 'path': '/locations', 'value': []}, 403,
     'Cannot set locations to empty list.'),
    ({'op': 'remove', 'path': '/locations/0'}, 409,
     "It's not allowed to remove locations if image status is queued."),
    ({'op': 'add', 'path': '/locations/-',
      'value': {'url': 'http://127.0.0.1/', 'metadata': {},
                'validation_data': {'os_hash_algo': 'md5',
                                    'os_hash_value': 'ab' * 16}}}, 409,
     'os_hash_algo must be sha512, not md5'),
])
def test_statuses_and_messages(api, change, status, message):
    image_id = create_image(api, name='errors')['id']
    response = patch(api, image_id, change)
    assert response.status_code == status, response.text
    assert message in html.unescape(response.text)
    assert show(api, image_id)['status'] == 'queued'


def test_openstacksdk_sets_and_reads_locations(api, web):
    conn = openstack.connect(
        auth_type='none', image_endpoint_override=api.url,
        load_yaml_config=False, load_envvars=False, api_timeout=TIMEOUT)
    image = conn.image.create_image(name='sdk-location', disk_format='raw',
                                    container_format='bare')
    assert image.locations == []

    # The SDK sends the difference as a JSON patch (add /locations/0).
    conn.image.update_image(image, locations=[
        {'url': web.image, 'metadata': {'by': 'sdk'}}])

    image = conn.image.get_image(image.id)
    assert image.status == 'active'
    assert image.size == len(DATA)
    assert image.direct_url == web.image
    assert image.locations == [
        {'url': web.image, 'metadata': {'by': 'sdk', 'store': 'web'}}]
    assert b''.join(conn.image.download_image(image, stream=True)
                    .iter_content(65536)) == DATA
    conn.close()
