"""PATCH /v2/images/{id} on /locations (add, remove, replace) with
show_multiple_locations and show_image_direct_url on: upstream's rules
(v2.4), statuses and messages, against the real paste application, its
filesystem store and a web server on loopback (the http store)."""
import hashlib
import os
import threading
import time

import pytest

from glance.common import config
import glance.db
from tests.helpers import PATCH_TYPE
from tests.helpers import TRUSTED_HEADERS_PASTE
from tests.helpers import Client
from tests.helpers import FileHandler
from tests.helpers import WebServer
from tests.helpers import assert_error
from tests.helpers import configure
from tests.helpers import identity_headers
from tests.helpers import show

DATA = b'image bytes kept on a web server'
OTHER = b'other bytes'
DATA_MD5 = hashlib.md5(DATA).hexdigest()
DATA_SHA512 = hashlib.sha512(DATA).hexdigest()
SHOWN = """
[DEFAULT]
show_multiple_locations = True
show_image_direct_url = True
[import_filtering_opts]
# The test's web server listens on loopback, on any port.
allowed_hosts = [127.0.0.1]
allowed_ports = []
"""


def add(path, value):
    return {'op': 'add', 'path': path, 'value': value}


def replace(value):
    return {'op': 'replace', 'path': '/locations', 'value': value}


def remove(path):
    return {'op': 'remove', 'path': path}


def loc(url, **metadata):
    return {'url': url, 'metadata': metadata}


def patch(client, image_id, *changes):
    return client.patch(f'/v2/images/{image_id}', list(changes),
                        content_type=PATCH_TYPE)


@pytest.fixture
def no_proxies(monkeypatch):
    for name in ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def web(no_proxies):
    server = WebServer({'/image.raw': DATA, '/other.raw': OTHER,
                        '/empty.raw': b''}).start()
    server.image = server.url + '/image.raw'
    server.other = server.url + '/other.raw'
    yield server
    server.stop()


@pytest.fixture
def client(client_with):
    return client_with(SHOWN)


@pytest.fixture
def as_project(tmp_path):
    """as_project('p1', roles=...) -> a Client acting for that project,
    with locations shown."""
    paste_file = tmp_path / 'trusted-paste.ini'
    paste_file.write_text(TRUSTED_HEADERS_PASTE)
    configure(tmp_path, '[paste_deploy]\nflavor = trusted\nconfig_file = %s\n'
              % paste_file + SHOWN)
    app = config.load_paste_app('glance-api')

    def make(project, roles=('member', 'reader')):
        return Client(app, identity_headers(project, roles))
    yield make
    glance.db.reset()


def active_with(client, *urls):
    """An image made active by adding the locations `urls`."""
    image = client.create_image()
    for url in urls:
        response = patch(client, image['id'], add('/locations/-', loc(url)))
        assert response.status_int == 200, response.body
    return show(client, image['id'])


def uploaded(client, data=OTHER):
    image = client.create_image()
    assert client.upload(image['id'], data).status_int == 204
    return show(client, image['id'])


# --- add ---------------------------------------------------------------------

def test_adding_a_location_makes_a_queued_image_active(client, web):
    image = client.create_image()
    assert image['locations'] == []

    response = patch(client, image['id'],
                     add('/locations/-', loc(web.image, foo='bar')))

    assert response.status_int == 200, response.body
    body = response.json
    assert body['locations'] == [loc(web.image, foo='bar')]
    assert body['direct_url'] == web.image
    shown = show(client, image['id'])
    assert (shown['status'], shown['size']) == ('active', len(DATA))
    # Nothing is hashed: the data is the web server's.
    assert (shown['checksum'], shown['os_hash_algo'],
            shown['os_hash_value']) == (None, None, None)
    assert shown['locations'] == [loc(web.image, foo='bar')]
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA
    # Checked with a HEAD, then read on download.
    assert [r[0] for r in web.requests][:1] == ['HEAD']


def test_validation_data_fills_the_hashes_of_a_queued_image(client, web):
    image = client.create_image()
    value = dict(loc(web.image), validation_data={
        'checksum': DATA_MD5, 'os_hash_algo': 'sha512',
        'os_hash_value': DATA_SHA512})

    response = patch(client, image['id'], add('/locations/-', value))

    assert response.status_int == 200, response.body
    shown = show(client, image['id'])
    assert (shown['checksum'], shown['os_hash_algo'],
            shown['os_hash_value']) == (DATA_MD5, 'sha512', DATA_SHA512)
    assert shown['locations'] == [loc(web.image)]
    assert 'validation_data' not in response.json['locations'][0]


def test_a_second_location_with_the_same_validation_data(client, web):
    image = client.create_image()
    data = {'checksum': DATA_MD5, 'os_hash_algo': 'sha512',
            'os_hash_value': DATA_SHA512}
    for url in (web.image, web.image + '#copy'):
        response = patch(client, image['id'], add(
            '/locations/-', dict(loc(url), validation_data=data)))
        assert response.status_int == 200, response.body
    assert len(show(client, image['id'])['locations']) == 2


HASH = 'ab' * 64


@pytest.mark.parametrize('data, message', [
    ({'checksum': 'z' * 32, 'os_hash_algo': 'sha512', 'os_hash_value': HASH},
     'checksum (' + 'z' * 32 + ') is not a valid hexadecimal value'),
    ({'checksum': 'a' * 32, 'os_hash_algo': 'sha256', 'os_hash_value': HASH},
     'os_hash_algo must be sha512, not sha256'),
    ({'os_hash_algo': 'sha512', 'os_hash_value': 'xy' * 64},
     'os_hash_value (' + 'xy' * 64 + ') is not a valid hexadecimal value'),
    ({'os_hash_algo': 'sha512', 'os_hash_value': 'ab' * 32},
     'os_hash_value (' + 'ab' * 32 + ') is not the correct size for sha512 '
     '(should be 64 bytes)'),
])
def test_bad_validation_data_conflicts(client, web, data, message):
    image = client.create_image()
    response = patch(client, image['id'], add(
        '/locations/-', dict(loc(web.image), validation_data=data)))
    assert_error(response, 409, message)
    assert show(client, image['id'])['status'] == 'queued'


def test_validation_data_differing_from_the_image_conflicts(client, web):
    image = client.create_image()
    data = {'checksum': DATA_MD5, 'os_hash_algo': 'sha512',
            'os_hash_value': DATA_SHA512}
    patch(client, image['id'], add('/locations/-',
                                   dict(loc(web.image), validation_data=data)))

    response = patch(client, image['id'], add('/locations/-', dict(
        loc(web.other), validation_data=dict(data, checksum='2' * 32))))

    assert_error(response, 409, 'checksum is already set with a different '
                                'value')
    assert len(show(client, image['id'])['locations']) == 1


def test_new_validation_data_needs_a_queued_image(client, web):
    image = uploaded(client)
    response = patch(client, image['id'], add('/locations/-', dict(
        loc(web.image), validation_data={'os_hash_algo': 'sha512',
                                         'os_hash_value': HASH})))
    # An uploaded image has both hashes: they differ.
    assert_error(response, 409, 'os_hash_value is already set with a '
                                'different value')

    image = active_with(client, web.image)
    response = patch(client, image['id'], add('/locations/-', dict(
        loc(web.other), validation_data={'os_hash_algo': 'sha512',
                                         'os_hash_value': HASH})))
    assert_error(response, 409, "New value(s) for os_hash_algo, os_hash_value"
                                " may only be provided when image status is "
                                "'queued'")


def test_conflicting_validation_data_in_one_replace(client, web):
    image = client.create_image()
    first = dict(loc(web.image), validation_data={
        'os_hash_algo': 'sha512', 'os_hash_value': DATA_SHA512})
    second = dict(loc(web.other), validation_data={
        'os_hash_algo': 'sha512', 'os_hash_value': HASH})
    response = patch(client, image['id'], replace([first, second]))
    assert_error(response, 409, 'Conflicting values for os_hash_value')


@pytest.mark.parametrize('value, detail', [
    ({'url': 'http://a/b'}, "'metadata' is a required property"),
    ({'metadata': {}}, "'url' is a required property"),
    ({'url': 'http://a/' + 'b' * 255, 'metadata': {}}, 'is too long'),
    ({'url': 'http://a/b', 'metadata': {},
      'validation_data': {'os_hash_algo': 'sha512'}},
     "'os_hash_value' is a required property"),
    ({'url': 'http://a/b', 'metadata': {},
      'validation_data': {'os_hash_algo': 'sha512', 'os_hash_value': 'ab',
                          'size': '1'}},
     'Additional properties are not allowed'),
])
def test_a_location_violating_the_schema_is_bad_request(client, value,
                                                        detail):
    image = client.create_image()
    response = patch(client, image['id'], add('/locations/-', value))
    assert_error(response, 400, "Provided object does not match schema "
                                "'image': ")
    assert detail in response.text


@pytest.mark.parametrize('url', [
    'gopher://info.cern.ch',        # no store for the scheme
    'file:///etc/passwd',           # restricted
    'swift+config://ref/container/obj',
    'http://',
])
def test_locations_no_user_may_give(client, url):
    image = client.create_image()
    response = patch(client, image['id'], add('/locations/-', loc(url)))
    assert_error(response, 400, 'Invalid location')
    assert show(client, image['id'])['status'] == 'queued'


def test_a_location_without_data_is_invalid(client, web):
    image = client.create_image()
    for url in (web.url + '/missing.raw', web.url + '/empty.raw'):
        response = patch(client, image['id'], add('/locations/-', loc(url)))
        assert_error(response, 400, 'Invalid location')


def test_http_locations_go_through_the_import_filtering_rules(
        client_with, web):
    # The defaults: ports 80 and 443 only, never loopback.
    client = client_with('[DEFAULT]\nshow_multiple_locations = True\n')
    image = client.create_image()
    response = patch(client, image['id'], add('/locations/-', loc(web.image)))
    assert_error(response, 400, 'Invalid location')
    # Refused before any request goes out.
    assert web.requests == []


def test_a_location_metadata_must_hold_strings(client, web):
    image = client.create_image()
    response = patch(client, image['id'], add(
        '/locations/-', {'url': web.image, 'metadata': {'n': 1}}))
    assert_error(response, 400, "The image metadata key n has an invalid type "
                                "of int. Only dict, list, and "
                                "unicode are supported.")


def test_the_same_location_twice_is_refused(client, web):
    image = active_with(client, web.image)
    response = patch(client, image['id'], add('/locations/-', loc(web.image)))
    assert_error(response, 400, f'The location {web.image} already exists')
    # The same URL with other metadata is another location.
    response = patch(client, image['id'],
                     add('/locations/-', loc(web.image, copy='2')))
    assert response.status_int == 200


def test_add_positions(client, web):
    image = active_with(client, web.image)
    response = patch(client, image['id'], add('/locations/x', loc(web.other)))
    assert_error(response, 400, 'Invalid position for adding a location.')
    response = patch(client, image['id'], add('/locations/-1',
                                              loc(web.other)))
    assert_error(response, 400, 'Invalid position for adding a location.')

    # At the head of the list in the answer; past the end appends.
    response = patch(client, image['id'], add('/locations/0', loc(web.other)))
    assert [each['url'] for each in response.json['locations']] == [web.other,
                                                              web.image]
    response = patch(client, image['id'],
                     add('/locations/7', loc(web.image, n='3')))
    assert response.json['locations'][-1] == loc(web.image, n='3')


def test_adding_keeps_the_size_of_an_image_with_data(client, web):
    image = uploaded(client, OTHER)
    response = patch(client, image['id'], add('/locations/-', loc(web.image)))
    assert response.status_int == 200
    shown = show(client, image['id'])
    assert shown['size'] == len(OTHER)
    assert shown['checksum'] == hashlib.md5(OTHER).hexdigest()


@pytest.mark.parametrize('op', ['add', 'replace'])
def test_locations_need_an_active_or_queued_image(client, web, op):
    image = active_with(client, web.image)
    client.post(f"/v2/images/{image['id']}/actions/deactivate")
    change = add('/locations/-', loc(web.other)) if op == 'add' \
        else replace([loc(web.image)])
    response = patch(client, image['id'], change)
    assert_error(response, 409, f"It's not allowed to {op} locations if image "
                                "status is deactivated.")


def test_image_location_quota(client_with, web):
    client = client_with(SHOWN + '[DEFAULT]\nimage_location_quota = 1\n')
    image = active_with(client, web.image)
    response = patch(client, image['id'], add('/locations/-', loc(web.other)))
    assert_error(response, 413, 'The limit has been exceeded on the number of '
                                'allowed image locations. Attempted: 2, '
                                'Maximum: 1')
    response = patch(client, image['id'],
                     replace([loc(web.image), loc(web.other)]))
    assert response.status_int == 413


def test_user_storage_quota_counts_each_location(client_with, web):
    client = client_with(SHOWN + '[DEFAULT]\nuser_storage_quota = %d\n'
                         % (len(DATA) + 1))
    image = active_with(client, web.image)
    response = patch(client, image['id'],
                     add('/locations/-', loc(web.image + '#2')))
    assert_error(response, 413, 'Denying attempt to upload image because it '
                                'exceeds the quota: ')


# --- remove ------------------------------------------------------------------

def test_remove_a_location_deletes_its_data(client, web, tmp_path):
    image = uploaded(client, DATA)
    stored = image['locations'][0]['url']
    assert stored.startswith('file://')
    patch(client, image['id'], add('/locations/-', loc(web.image)))

    response = patch(client, image['id'], remove('/locations/0'))

    assert response.status_int == 200, response.body
    assert response.json['locations'] == [loc(web.image)]
    assert response.json['direct_url'] == web.image
    assert not os.path.exists(stored[len('file://'):])
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA


def test_remove_rules(client, web):
    image = active_with(client, web.image)
    response = patch(client, image['id'], remove('/locations/0'))
    assert_error(response, 403, 'Cannot remove last location in the image.')

    patch(client, image['id'], add('/locations/-', loc(web.other)))
    for position in ('2', 'x'):
        response = patch(client, image['id'],
                         remove('/locations/' + position))
        assert_error(response, 400, 'Invalid position for removing a '
                                    'location.')
    # '-' is the last one.
    response = patch(client, image['id'], remove('/locations/-'))
    assert response.json['locations'] == [loc(web.image)]

    queued = client.create_image()
    response = patch(client, queued['id'], remove('/locations/0'))
    assert_error(response, 409, "It's not allowed to remove locations if "
                                "image status is queued.")


def test_only_admins_remove_locations(as_project, web):
    owner = as_project('owner-project')
    image = active_with(owner, web.image, web.other)
    response = patch(owner, image['id'], remove('/locations/0'))
    assert response.status_int == 403
    assert len(show(owner, image['id'])['locations']) == 2
    admin = as_project('admin-project', roles=('admin', 'member', 'reader'))
    assert patch(admin, image['id'], remove('/locations/0')).status_int == 200


def test_location_policies_for_other_projects(as_project, web):
    owner = as_project('owner-project')
    private = owner.create_image()
    public = owner.create_image(visibility='community')
    stranger = as_project('stranger-project')
    # Not visible: 404, as if it did not exist.
    response = patch(stranger, private['id'], add('/locations/-',
                                                  loc(web.image)))
    assert response.status_int == 404
    response = patch(stranger, public['id'], add('/locations/-',
                                                 loc(web.image)))
    assert response.status_int == 403
    reader = as_project('owner-project', roles=('reader',))
    response = patch(reader, private['id'], add('/locations/-',
                                                loc(web.image)))
    assert response.status_int == 403
    assert show(owner, private['id'])['status'] == 'queued'


# --- replace -----------------------------------------------------------------

def test_replace_reorders_and_changes_metadata(client, web):
    copy = web.image + '#copy'
    image = active_with(client, web.image, copy)
    locations = [loc(copy, speed='88mph'), loc(web.image)]

    response = patch(client, image['id'], replace(locations))

    assert response.status_int == 200, response.body
    assert show(client, image['id'])['locations'] == locations
    # The data stays: the same locations.
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA


def test_replace_may_not_change_the_urls(client, web):
    image = active_with(client, web.image, web.other)
    for value in ([loc(web.image)],
                  [loc(web.image), loc(web.image + '#new')]):
        response = patch(client, image['id'], replace(value))
        assert_error(response, 400, 'Original locations is not empty: ')
    shown = show(client, image['id'])['locations']
    assert [each['url'] for each in shown] == [web.image, web.other]


def test_replace_sets_the_locations_of_a_queued_image(client, web):
    image = client.create_image()
    response = patch(client, image['id'],
                     replace([loc(web.image), loc(web.other)]))
    assert response.status_int == 200, response.body
    shown = show(client, image['id'])
    assert (shown['status'], shown['size']) == ('active', len(DATA))

    queued = client.create_image()
    response = patch(client, queued['id'],
                     replace([loc(web.image), loc(web.image)]))
    assert_error(response, 400, f'The location {web.image} already exists')
    response = patch(client, queued['id'],
                     replace([loc(web.image), loc('gopher://x/y')]))
    assert_error(response, 400, 'Invalid location')
    assert show(client, queued['id'])['status'] == 'queued'


def test_replace_with_nothing_is_forbidden(client, web):
    image = active_with(client, web.image)
    response = patch(client, image['id'], replace([]))
    assert_error(response, 403, 'Cannot set locations to empty list.')


def test_a_failed_change_changes_nothing(client, web):
    image = client.create_image(name='before')
    response = patch(client, image['id'],
                     {'op': 'replace', 'path': '/name', 'value': 'after'},
                     add('/locations/-', loc(web.image)),
                     add('/locations/-', loc('gopher://x/y')))
    assert response.status_int == 400
    shown = show(client, image['id'])
    assert (shown['name'], shown['status'], shown['locations']) == \
        ('before', 'queued', [])


# --- hidden locations --------------------------------------------------------

def test_without_show_multiple_locations(client_with, web):
    client = client_with('[DEFAULT]\nshow_image_direct_url = True\n'
                         '[import_filtering_opts]\nallowed_hosts = [127.0.0.1]'
                         '\nallowed_ports = []\n')
    image = uploaded(client)
    assert 'locations' not in image
    assert image['direct_url'].startswith('file://')
    response = patch(client, image['id'], add('/locations/-', loc(web.image)))
    assert_error(response, 403, "It's not allowed to add locations if "
                                "locations are invisible.")


# --- no write waits on a location's store ------------------------------------

class SlowHead(FileHandler):
    """Answers HEAD only once the test lets it (server.release)."""

    def do_HEAD(self):
        self.server.heads.set()
        self.server.release.wait(20)
        super().do_HEAD()


def test_writes_go_on_while_a_new_location_is_checked(client):
    server = WebServer({'/image.raw': DATA}, handler=SlowHead)
    server.server.heads = threading.Event()
    server.server.release = threading.Event()
    server.start()
    image = client.create_image()
    answers = []
    patching = threading.Thread(target=lambda: answers.append(patch(
        client, image['id'], add('/locations/-', loc(server.url
                                                     + '/image.raw')))))
    try:
        patching.start()
        assert server.server.heads.wait(30)
        # While the store is asked, another image is created and changed
        # (at once: no write lock is held meanwhile).
        started = time.monotonic()
        other = client.create_image(name='meanwhile')
        assert patch(client, other['id'], {'op': 'add', 'path': '/x',
                                           'value': 'y'}).status_int == 200
        assert time.monotonic() - started < 10
    finally:
        server.server.release.set()
        patching.join(30)
        server.stop()
    assert answers[0].status_int == 200, answers[0].body
    assert show(client, image['id'])['status'] == 'active'
    # Asked once: the write takes the size the check found.
    assert [r[0] for r in server.requests] == ['HEAD']
