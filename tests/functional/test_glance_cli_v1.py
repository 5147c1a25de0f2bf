"""The `glance` command line client, Image API v1 (`--os-image-api-version
1`), against the real glance-api daemon (default flavor: no
authentication, the caller is the admin).

The v1 client looks at its standard input to decide whether image data
is being piped in, so each command runs with a terminal (a pty) as stdin:
data comes only from --file, as a user at a shell would give it.
"""
import hashlib
import os
import pty
import subprocess
import uuid

import pytest
import requests

from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import GLANCE
from tests.helpers import NO_PROXY
from tests.helpers import WebServer
from tests.helpers import get_json
from tests.helpers import parse_show
from tests.helpers import parse_table

TIMEOUT = 60

pytestmark = pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                                reason='python-glanceclient not installed')


@pytest.fixture(scope='module')
def glance_api(tmp_path_factory):
    """The daemon, reaching the test's web server on loopback directly."""
    with serving(GlanceApi(tmp_path_factory.mktemp('glance-api'),
                           workers=2, env=NO_PROXY)) as api:
        yield api


class GlanceV1:
    """Runs `glance --os-image-api-version 1 ...` against one server."""

    def __init__(self, api, home):
        self.api = api
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith('OS_')}
        self.env.update(NO_PROXY, HOME=str(home))

    def run(self, *args, check=True):
        controller, terminal = pty.openpty()
        try:
            result = subprocess.run(
                [GLANCE, '--os-image-url', self.api.url, '--os-auth-token',
                 'x', '--os-image-api-version', '1', *args],
                stdin=terminal, capture_output=True, text=True,
                env=self.env, timeout=TIMEOUT)
        finally:
            os.close(controller)
            os.close(terminal)
        if check:
            assert result.returncode == 0, (
                f'glance {" ".join(args)} failed ({result.returncode}):\n'
                f'{result.stdout}\n{result.stderr}')
        return result

    def show(self, *args):
        return parse_show(self.run(*args).stdout)

    def list(self, *args):
        """The (ID, Name, Status) rows of image-list."""
        return [(row['ID'], row['Name'], row['Status'])
                for row in parse_table(self.run('image-list', *args).stdout)]

    def create(self, name, *args):
        return self.show('image-create', '--name', name, '--disk-format',
                         'raw', '--container-format', 'bare', *args)


@pytest.fixture(scope='module')
def glance(glance_api, tmp_path_factory):
    return GlanceV1(glance_api, tmp_path_factory.mktemp('home'))


@pytest.fixture
def unique():
    return 'cli-v1-' + uuid.uuid4().hex[:12]


@pytest.fixture
def data_file(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    return path, data


def test_create_with_file_show_list_and_download(glance, glance_api,
                                                 data_file, unique,
                                                 tmp_path):
    path, data = data_file

    created = glance.create(unique, '--file', str(path), '--is-public',
                            'True', '--property', 'os_distro=cirros',
                            '--min-ram', '128')

    assert created['name'] == unique
    assert created['status'] == 'active'
    assert created['size'] == str(len(data))
    assert created['checksum'] == hashlib.md5(data).hexdigest()
    assert created['is_public'] == 'True'
    assert created['min_ram'] == '128'
    assert created["Property 'os_distro'"] == 'cirros'

    shown = glance.show('image-show', created['id'])
    assert {key: shown[key] for key in shown if key != 'updated_at'} == {
        key: created[key] for key in shown if key != 'updated_at'}
    assert (created['id'], unique, 'active') in glance.list()

    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), created['id'])
    assert downloaded.read_bytes() == data

    v2 = get_json(glance_api, f'/v2/images/{created["id"]}')
    assert (v2['visibility'], v2['status'], v2['size']) == ('public',
                                                           'active',
                                                           len(data))
    assert v2['checksum'] == created['checksum']
    assert v2['os_hash_value'] == hashlib.sha512(data).hexdigest()
    assert (v2['os_distro'], v2['min_ram']) == ('cirros', 128)


def test_create_queued_then_upload_and_update(glance, glance_api,
                                              data_file, unique):
    path, data = data_file
    created = glance.create(unique, '--property', 'keep=1')
    assert (created['status'], created['is_public']) == ('queued', 'False')

    uploaded = glance.show('image-update', created['id'], '--file',
                           str(path))
    assert (uploaded['status'], uploaded['size']) == ('active',
                                                      str(len(data)))
    assert uploaded["Property 'keep'"] == '1'

    updated = glance.show('image-update', created['id'], '--name',
                          unique + '-renamed', '--property', 'added=2',
                          '--min-disk', '3')
    assert updated['name'] == unique + '-renamed'
    assert (updated["Property 'keep'"], updated["Property 'added'"]) == (
        '1', '2')
    assert updated['min_disk'] == '3'

    purged = glance.show('image-update', created['id'], '--property',
                         'only=3', '--purge-props')
    assert [key for key in purged if key.startswith('Property')] == [
        "Property 'only'"]

    v2 = get_json(glance_api, f'/v2/images/{created["id"]}')
    assert (v2['name'], v2['min_disk'], v2['only'], v2['visibility']) == (
        unique + '-renamed', 3, '3', 'shared')
    assert 'keep' not in v2


def test_uploading_to_an_active_image_is_refused(glance, data_file, unique):
    path, _ = data_file
    created = glance.create(unique, '--file', str(path))
    result = glance.run('image-update', created['id'], '--file', str(path),
                        check=False)
    assert result.returncode != 0


def test_members(glance, glance_api, unique):
    created = glance.create(unique)

    glance.run('member-create', created['id'], 'project-a')
    glance.run('member-create', '--can-share', created['id'], 'project-b')

    rows = parse_table(glance.run('member-list', '--image-id',
                                  created['id']).stdout)
    assert [(row['Member ID'], row['Can Share']) for row in rows] == [
        ('project-a', ''), ('project-b', 'True')]
    rows = parse_table(glance.run('member-list', '--tenant-id',
                                  'project-b').stdout)
    assert [row['Image ID'] for row in rows] == [created['id']]

    v2 = get_json(glance_api, f'/v2/images/{created["id"]}/members')
    assert sorted((m['member_id'], m['status']) for m in v2['members']) == [
        ('project-a', 'accepted'), ('project-b', 'accepted')]

    glance.run('member-delete', created['id'], 'project-a')

    rows = parse_table(glance.run('member-list', '--image-id',
                                  created['id']).stdout)
    assert [row['Member ID'] for row in rows] == ['project-b']


def test_delete(glance, glance_api, unique):
    created = glance.create(unique, '--is-public', 'True')

    glance.run('image-delete', created['id'])

    # The admin still finds it, deleted; v2 does not.
    assert glance.show('image-show', created['id'])['status'] == 'deleted'
    assert requests.get(f'{glance_api.url}/v2/images/{created["id"]}',
                        timeout=TIMEOUT).status_code == 404
    assert created['id'] not in [row[0] for row in glance.list()]
    result = glance.run('image-delete', created['id'], check=False)
    assert 'No image with an ID of' in result.stderr


def test_list_filters_and_all_tenants(glance, unique):
    public = glance.create(unique + '-pub', '--is-public', 'True',
                           '--property', f'group={unique}')
    private = glance.create(unique + '-priv', '--property',
                            f'group={unique}')

    mine = ('--property-filter', f'group={unique}')
    assert [row[0] for row in glance.list(*mine)] == [public['id']]
    assert sorted(row[0] for row in glance.list(*mine, '--all-tenants')) \
        == sorted([public['id'], private['id']])
    assert [row[0] for row in glance.list(*mine, '--is-public',
                                          'False')] == [private['id']]
    assert [row[0] for row in glance.list('--name', unique + '-pub')] == [
        public['id']]


def test_a_v2_image_through_the_v1_cli(glance, glance_api, unique):
    response = requests.post(glance_api.url + '/v2/images', json={
        'name': unique, 'disk_format': 'ploop', 'container_format': 'bare',
        'visibility': 'public', 'os_distro': 'fedora'}, timeout=TIMEOUT)
    assert response.status_code == 201
    image = response.json()
    response = requests.put(
        f'{glance_api.url}/v2/images/{image["id"]}/file', data=b'v2 data',
        headers={'Content-Type': 'application/octet-stream'},
        timeout=TIMEOUT)
    assert response.status_code == 204

    shown = glance.show('image-show', image['id'])

    assert (shown['name'], shown['is_public'], shown['status']) == (
        unique, 'True', 'active')
    assert shown['disk_format'] == 'ploop'
    assert shown["Property 'os_distro'"] == 'fedora'
    assert shown['size'] == str(len(b'v2 data'))


@pytest.fixture
def web():
    server = WebServer({'/remote.raw': b'remote bytes ' * 1000}).start()
    yield server
    server.stop()


def test_location_and_copy_from(glance, glance_api, unique, web, tmp_path):
    url = web.url + '/remote.raw'
    expected = web.files['/remote.raw']

    located = glance.create(unique + '-loc', '--location', url)
    copied = glance.create(unique + '-copy', '--copy-from', url)

    assert (located['status'], located['size']) == ('active',
                                                    str(len(expected)))
    assert (copied['status'], copied['checksum']) == (
        'active', hashlib.md5(expected).hexdigest())
    web.stop()
    copy = tmp_path / 'copy'
    glance.run('image-download', '--file', str(copy), copied['id'])
    assert copy.read_bytes() == expected
