"""The `glance` command line client (python-glanceclient) against the real
glance-api daemon (default flavor: no authentication, the caller is admin).

Each command runs in a subprocess with a HOME of its own, so that the
client's schema cache (~/.glanceclient) is fetched from this server. The
client has no machine-readable output: its tables are parsed, and some
results are checked with a raw HTTP GET as well.
"""
import hashlib
import os
import re
import subprocess
import time
import uuid

import pytest
import requests

from tests.helpers import GLANCE
from tests.helpers import Glance
from tests.helpers import create_image
from tests.helpers import get_json
from tests.helpers import parse_table

TIMEOUT = 60

pytestmark = pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                                reason='python-glanceclient not installed')


@pytest.fixture(scope='module')
def glance(glance_api, tmp_path_factory):
    return Glance(glance_api, tmp_path_factory.mktemp('home'))


@pytest.fixture
def unique():
    """A name no other test uses."""
    return 'cli-' + uuid.uuid4().hex[:12]


@pytest.fixture
def data_file(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    return path, data


def test_create_with_file_show_and_download(glance, glance_api, data_file,
                                            unique, tmp_path):
    path, data = data_file

    created = glance.create(unique, '--file', str(path),
                            '--property', 'purpose=testing',
                            '--property', 'os_distro=cirros')

    assert created['name'] == unique
    assert created['status'] == 'active'
    assert created['size'] == str(len(data))
    assert created['purpose'] == 'testing'
    assert created['os_distro'] == 'cirros'
    assert created['checksum'] == hashlib.md5(data).hexdigest()
    assert created['os_hash_algo'] == 'sha512'
    assert created['os_hash_value'] == hashlib.sha512(data).hexdigest()

    shown = glance.show('image-show', created['id'])
    assert shown == created
    raw = get_json(glance_api, f'/v2/images/{created["id"]}')
    assert raw['checksum'] == created['checksum']
    assert raw['os_hash_value'] == created['os_hash_value']
    assert raw['size'] == len(data)

    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), created['id'])
    assert downloaded.read_bytes() == data
    got = downloaded.read_bytes()
    assert hashlib.md5(got).hexdigest() == shown['checksum']
    assert hashlib.sha512(got).hexdigest() == shown['os_hash_value']

    # The list filters on the two hashes.
    assert glance.list('--checksum', shown['checksum']) == [
        (created['id'], unique)]
    assert glance.list('--hash', shown['os_hash_value']) == [
        (created['id'], unique)]


def test_create_without_data_is_queued(glance, unique):
    created = glance.create(unique)

    assert created['status'] == 'queued'
    assert created['size'] == 'None'
    assert created['checksum'] == 'None'


def test_upload_to_a_queued_image_and_download_to_stdout(
        glance, glance_api, data_file):
    path, data = data_file
    image = create_image(glance_api, name='upload-later')

    glance.run('image-upload', '--file', str(path), image['id'])

    shown = glance.show('image-show', image['id'])
    assert (shown['status'], shown['size']) == ('active', str(len(data)))
    # Without --file the data goes to stdout (not a terminal here).
    result = subprocess.run(
        ['/bin/sh', '-c', 'exec "$0" "$@" 0<&-', GLANCE,
         '--os-image-url', glance_api.url, '--os-auth-token', 'x',
         '--os-image-api-version', '2', 'image-download', image['id']],
        capture_output=True, env=glance.env, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == data


def test_hidden_images(glance, glance_api, unique):
    shown = create_image(glance_api, name=unique + '-shown', group=unique)
    hidden = create_image(glance_api, name=unique + '-hidden', group=unique)

    assert glance.show('image-update', hidden['id'], '--hidden',
                       'True')['os_hidden'] == 'True'

    mine = ('image-list', '--property-filter', f'group={unique}')
    default, only_hidden = glance.run_all(mine, (*mine, '--hidden', 'True'))
    assert [row['ID'] for row in parse_table(default)] == [shown['id']]
    assert [row['ID'] for row in parse_table(only_hidden)] == [hidden['id']]


def test_update_name_and_properties(glance, glance_api, unique):
    image = glance.create(unique, '--property', 'keep=1',
                          '--property', 'drop=2')

    updated = glance.show('image-update', image['id'],
                          '--name', unique + '-renamed',
                          '--property', 'added=3',
                          '--property', 'keep=changed',
                          '--remove-property', 'drop',
                          '--min-disk', '2')

    assert updated['name'] == unique + '-renamed'
    assert updated['keep'] == 'changed'
    assert updated['added'] == '3'
    assert 'drop' not in updated
    assert updated['min_disk'] == '2'
    raw = get_json(glance_api, f'/v2/images/{image["id"]}')
    assert (raw['name'], raw['keep'], raw['added'], raw['min_disk']) == (
        unique + '-renamed', 'changed', '3', 2)
    assert 'drop' not in raw


def test_tags(glance, glance_api, unique):
    image = create_image(glance_api, name=unique)

    glance.run('image-tag-update', image['id'], 'alpha')
    tagged = parse_table(glance.run('image-tag-update', image['id'],
                                    'beta').stdout)
    assert tagged[0]['ID'] == image['id']
    assert sorted(get_json(glance_api, f'/v2/images/{image["id"]}')['tags']) \
        == ['alpha', 'beta']
    assert glance.list('--tag', 'alpha', '--property-filter',
                       f'name={unique}') == [(image['id'], unique)]

    glance.run('image-tag-delete', image['id'], 'alpha')

    assert get_json(glance_api, f'/v2/images/{image["id"]}')['tags'] == [
        'beta']
    assert glance.show('image-show', image['id'])['tags'] == '["beta"]'
    assert glance.list('--tag', 'alpha', '--property-filter',
                       f'name={unique}') == []
    # A tag the image does not have.
    result = glance.run('image-tag-delete', image['id'], 'gamma',
                        check=False)
    assert result.returncode != 0
    assert '404' in result.stderr


def test_list_filters_and_sorting(glance, glance_api, unique):
    for name, visibility, flavor in [('c', 'public', 'x'),
                                     ('a', 'shared', 'x'),
                                     ('b', 'private', 'y'),
                                     ('d', 'community', 'x')]:
        create_image(glance_api, name=f'{unique}-{name}',
                   visibility=visibility, group=unique, flavor=flavor)
    mine = ('image-list', '--property-filter', f'group={unique}')
    everything = (*mine, '--visibility', 'all')
    cases = [
        # Without --visibility community images are not listed (as
        # upstream: only when asked for, by 'community' or 'all'). Without
        # --sort-dir the server's default direction is desc.
        ((*mine, '--sort-key', 'name'), ['c', 'b', 'a']),
        ((*everything, '--sort-key', 'name', '--sort-dir', 'asc'),
         ['a', 'b', 'c', 'd']),
        ((*everything, '--sort-key', 'name', '--sort-dir', 'desc'),
         ['d', 'c', 'b', 'a']),
        ((*everything, '--sort', 'name:desc'), ['d', 'c', 'b', 'a']),
        ((*everything, '--sort-key', 'created_at', '--sort-dir', 'asc'),
         ['c', 'a', 'b', 'd']),
        ((*everything, '--property-filter', 'flavor=y'), ['b']),
        ((*everything, '--property-filter', 'flavor=x', '--sort-key',
          'name', '--sort-dir', 'asc'), ['a', 'c', 'd']),
        ((*mine, '--visibility', 'public'), ['c']),
        ((*mine, '--visibility', 'shared'), ['a']),
        ((*mine, '--visibility', 'private'), ['b']),
        ((*mine, '--visibility', 'community'), ['d']),
        ((*mine, '--visibility', 'community', '--property-filter',
          'flavor=y'), []),
    ]

    outputs = glance.run_all(*(args for args, _ in cases))

    for (args, expected), output in zip(cases, outputs, strict=True):
        names = [row['Name'].rsplit('-', 1)[1]
                 for row in parse_table(output)]
        assert names == expected, args


def test_list_pages_through_more_images_than_a_page(glance, glance_api,
                                                    unique):
    created = {create_image(glance_api, name=f'{unique}-{number}',
                          tags=[unique])['id'] for number in range(7)}

    listed = glance.list('--tag', unique, '--page-size', '2')

    assert len(listed) == 7
    assert {image_id for image_id, _ in listed} == created
    # It took four requests, three of them following a marker. (The
    # server logs a request once answered: give the last line a moment.)
    def requests_made():
        return re.findall(rf'"GET (/v2/images\?[^ ]*tag={unique}[^ ]*) HTTP',
                          glance_api.log())
    deadline = time.monotonic() + 10
    while len(requests_made()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(requests_made()) == 4, requests_made()
    assert sum('marker=' in line for line in requests_made()) == 3

    limited = glance.list('--tag', unique, '--page-size', '2', '--limit',
                          '5', '--sort-key', 'name', '--sort-dir', 'asc')
    assert [name for _, name in limited] == [f'{unique}-{number}'
                                             for number in range(5)]


def test_members(glance, unique):
    image = glance.create(unique, '--visibility', 'shared')

    members = parse_table(glance.run('member-create', image['id'],
                                     'project-a').stdout)
    assert members == [{'Image ID': image['id'], 'Member ID': 'project-a',
                        'Status': 'pending'}]
    glance.run('member-create', image['id'], 'project-b')

    listed = parse_table(glance.run('member-list', '--image-id',
                                    image['id']).stdout)
    assert sorted((m['Member ID'], m['Status']) for m in listed) == [
        ('project-a', 'pending'), ('project-b', 'pending')]

    updated = parse_table(glance.run('member-update', image['id'],
                                     'project-a', 'accepted').stdout)
    assert updated[0]['Status'] == 'accepted'
    glance.run('member-update', image['id'], 'project-b', 'rejected')
    listed = parse_table(glance.run('member-list', '--image-id',
                                    image['id']).stdout)
    assert sorted((m['Member ID'], m['Status']) for m in listed) == [
        ('project-a', 'accepted'), ('project-b', 'rejected')]

    glance.run('member-delete', image['id'], 'project-a')

    listed = parse_table(glance.run('member-list', '--image-id',
                                    image['id']).stdout)
    assert [m['Member ID'] for m in listed] == ['project-b']
    # A duplicate member is refused (409).
    result = glance.run('member-create', image['id'], 'project-b',
                        check=False)
    assert result.returncode != 0
    assert '409' in result.stderr


def test_members_of_a_private_image_are_refused(glance, glance_api, unique):
    image = create_image(glance_api, name=unique, visibility='private')

    result = glance.run('member-create', image['id'], 'project-a',
                        check=False)

    assert result.returncode != 0
    assert '403' in result.stderr


def test_deactivate_and_reactivate(glance, data_file, unique, tmp_path):
    path, data = data_file
    image = glance.create(unique, '--file', str(path))

    glance.run('image-deactivate', image['id'])

    assert glance.show('image-show', image['id'])['status'] == 'deactivated'
    # The default flavor makes every caller admin: admins still download.
    downloaded = tmp_path / 'while-deactivated'
    glance.run('image-download', '--file', str(downloaded), image['id'])
    assert downloaded.read_bytes() == data

    glance.run('image-reactivate', image['id'])

    assert glance.show('image-show', image['id'])['status'] == 'active'


def test_delete(glance, glance_api, unique, data_file):
    path, _ = data_file
    image = glance.create(unique, '--file', str(path))

    result = glance.run('image-delete', image['id'])
    assert result.stdout == ''

    shown = glance.run('image-show', image['id'], check=False)
    assert shown.returncode == 1
    assert '404' in shown.stderr
    assert requests.get(f'{glance_api.url}/v2/images/{image["id"]}',
                        timeout=TIMEOUT).status_code == 404
    assert glance.list('--property-filter', f'name={unique}') == []
    again = glance.run('image-delete', image['id'], check=False)
    assert again.returncode == 1
    # The bytes are gone from the store too.
    datadir = os.path.join(glance_api.state_path, 'images')
    assert image['id'] not in os.listdir(datadir)


def test_protected_image_is_not_deleted(glance, unique):
    image = glance.create(unique, '--protected', 'True')

    result = glance.run('image-delete', image['id'], check=False)

    assert result.returncode == 1
    # The client words the 403 itself.
    assert 'You are not permitted to delete the image' in result.stderr
    assert glance.show('image-show', image['id'])['status'] == 'queued'
    glance.run('image-update', image['id'], '--protected', 'False')
    glance.run('image-delete', image['id'])
