"""Unit tests for the swift store driver (glance.store.drivers.swift): its
location URIs, glance-swift.conf, configuration checks and the pieces of
its writes that need no server. Against a real Swift:
tests/functional/test_swift_store.py."""
import http.server
import os

import oslo_context.context
import pytest

from glance import store
from glance.common import exception
from glance.context import RequestContext
from glance.store.drivers import swift
from tests.helpers import WebServer

IMAGE_ID = '8a9e3c3e-67f0-4a43-a5a0-2b8e6a1a7b1f'

pytestmark = pytest.mark.usefixtures('clean_config', 'isolated_registry')


# Location URIs, as glance_store writes and reads them


@pytest.mark.parametrize('uri, fields', [
    ('swift+config://ref1/glance/' + IMAGE_ID,
     {'reference': 'ref1', 'auth_address': None, 'user': None,
      'container': 'glance', 'obj': IMAGE_ID}),
    ('swift+https://service%3Aglance:s%40cret@keystone.example.com:5000/v3/'
     'images/' + IMAGE_ID,
     {'reference': None, 'auth_address': 'https://keystone.example.com:5000'
      '/v3', 'user': 'service:glance', 'key': 's@cret',
      'container': 'images', 'obj': IMAGE_ID}),
    # Upstream's old form: the user is everything before the last colon.
    ('swift://account:user:pass@auth.example.com/v3/c/o',
     {'auth_address': 'https://auth.example.com/v3', 'user': 'account:user',
      'key': 'pass', 'container': 'c', 'obj': 'o'}),
    ('swift+http://127.0.0.1:8080/v1/AUTH_p/glance_%s/%s'
     % (IMAGE_ID, IMAGE_ID),
     {'auth_address': 'http://127.0.0.1:8080/v1/AUTH_p', 'user': None,
      'container': 'glance_' + IMAGE_ID, 'obj': IMAGE_ID}),
])
def test_locations_parse_as_upstream_writes_them(uri, fields):
    loc = swift.SwiftLocation(uri)
    for name, value in fields.items():
        assert getattr(loc, name) == value, name


@pytest.mark.parametrize('uri', [
    'swift://user:key@http://auth.example.com/v1/c/o',
    'swift+https://auth.example.com/c',
    'swift+config://ref1/glance/',
    'swift+https://nocolon@auth.example.com/v3/c/o',
])
def test_malformed_locations_are_invalid(uri):
    with pytest.raises(exception.Invalid):
        swift.SwiftLocation(uri)


def test_a_second_scheme_gets_upstreams_advice():
    with pytest.raises(exception.Invalid, match='swift\\+http:// scheme'):
        swift.SwiftLocation('swift://u:k@http://auth/v1/c/o')


def test_written_uris_quote_credentials_and_read_back():
    uri = swift.location_uri('swift+https', 'auth.example.com/v3', 'glance',
                             IMAGE_ID, 'service:glance', 'p@ss:/word')
    assert uri.startswith('swift+https://service%3Aglance:p%40ss%3A%2Fword@'
                          'auth.example.com/v3/glance/')
    loc = swift.SwiftLocation(uri)
    assert (loc.user, loc.key, loc.auth_address) == (
        'service:glance', 'p@ss:/word', 'https://auth.example.com/v3')


def test_messages_do_not_show_credentials():
    with pytest.raises(exception.Invalid) as error:
        swift.SwiftLocation('swift+https://u:secret@auth.example.com/c')
    assert 'secret' not in str(error.value)


# glance-swift.conf


def test_references_are_read_with_quotes_and_default_domains(tmp_path):
    path = tmp_path / 'glance-swift.conf'
    path.write_text(
        '[ref1]\nuser = "service:glance"\nkey = \'se cret\'\n'
        'auth_address = keystone.example.com:5000/v3\n'
        '[ref2]\napplication_credential_id = 1a2b\n'
        'application_credential_secret = s3\n'
        'auth_address = http://keystone.internal:5000/v3\n'
        'user_domain_name = Users\nproject_domain_id = projects\n'
        '[incomplete]\nuser = a:b\n')
    refs = swift.read_references(str(path))
    assert sorted(refs) == ['ref1', 'ref2']
    ref1, ref2 = refs['ref1'], refs['ref2']
    assert (ref1.user, ref1.key) == ('service:glance', 'se cret')
    # No scheme: TLS, as upstream assumes.
    assert ref1.auth_address == 'https://keystone.example.com:5000/v3'
    assert (ref1.user_domain_id, ref1.project_domain_id) == (
        'default', 'default')
    assert ref2.auth_address == 'http://keystone.internal:5000/v3'
    assert (ref2.user_domain_id, ref2.user_domain_name) == (None, 'Users')
    assert ref2.project_domain_id == 'projects'
    auth = ref2.keystone_auth()
    assert type(auth).__name__ == 'ApplicationCredential'
    password = ref1.keystone_auth()
    assert type(password).__name__ == 'Password'
    [method] = password.auth_methods
    assert (method.username, method.password) == ('glance', 'se cret')
    assert password.project_name == 'service'


def test_an_unclosed_quote_is_an_error(tmp_path):
    path = tmp_path / 'glance-swift.conf'
    path.write_text('[ref1]\nuser = "a:b\nkey = k\nauth_address = x\n')
    with pytest.raises(ValueError, match='unclosed quote'):
        swift.read_references(str(path))


# Configuration, through the registry


@pytest.fixture
def swift_stores(datadir, set_option):
    set_option('stores', ['file', 'swift'])
    return set_option


def test_without_credentials_swift_is_a_configuration_error(swift_stores):
    with pytest.raises(exception.BadStoreConfiguration,
                       match='A value for swift_store_auth_address is '
                             'required.'):
        store.create_stores()


def test_without_a_key_swift_is_a_configuration_error(swift_stores):
    swift_stores('swift_store_auth_address', 'http://127.0.0.1:1/v3')
    swift_stores('swift_store_user', 'service:glance')
    with pytest.raises(exception.BadStoreConfiguration,
                       match='swift_store_ref_params'):
        store.create_stores()


def test_an_unreadable_config_file_is_a_configuration_error(swift_stores,
                                                            tmp_path):
    swift_stores('swift_store_config_file', str(tmp_path / 'missing.conf'))
    with pytest.raises(exception.BadStoreConfiguration,
                       match='missing.conf'):
        store.create_stores()


def test_multi_tenant_refuses_a_config_file(swift_stores, tmp_path):
    path = tmp_path / 'glance-swift.conf'
    path.write_text('[ref1]\nuser = a:b\nkey = k\nauth_address = x\n')
    swift_stores('swift_store_config_file', str(path))
    swift_stores('swift_store_multi_tenant', True)
    with pytest.raises(exception.BadStoreConfiguration,
                       match='multi-tenant store cannot be configured to '
                             'work with swift\\+config'):
        store.create_stores()


def test_default_store_may_be_a_swift_scheme(swift_stores):
    swift_stores('swift_store_auth_address', 'http://127.0.0.1:1/v3')
    swift_stores('swift_store_user', 'service:glance')
    swift_stores('swift_store_key', 'secret')
    swift_stores('default_store', 'swift+https')
    store.create_stores()
    registry = store.current_registry()
    assert registry.default_backend == 'swift'
    backend = registry.driver('swift')
    assert backend.properties() == {
        'container': 'glance', 'large_object_size': 5120 * 1000 * 1024,
        'large_object_chunk_size': 200 * 1000 * 1024}
    # Its own locations are told from other accounts' and containers'.
    own = backend.leftovers(IMAGE_ID, 'a1')[1]
    assert own == ('swift+http://service%3Aglance:secret@127.0.0.1:1/v3/'
                   'glance/' + IMAGE_ID)
    assert backend.owns(own)
    assert not backend.owns(own.replace('/glance/', '/other/'))
    assert not backend.owns(own.replace('127.0.0.1:1', '127.0.0.1:2'))
    assert store.validate_location(own).obj == IMAGE_ID


@pytest.mark.parametrize('seed, container', [
    (0, 'glance'),
    (3, 'glance_8a9'),
    # Dashes are kept but not counted.
    (9, 'glance_8a9e3c3e-6'),
    (32, 'glance_' + IMAGE_ID),
])
def test_multiple_containers_seed(swift_stores, seed, container):
    swift_stores('swift_store_auth_address', 'http://127.0.0.1:1/v3')
    swift_stores('swift_store_user', 'service:glance')
    swift_stores('swift_store_key', 'secret')
    swift_stores('swift_store_multiple_containers_seed', seed)
    store.create_stores()
    backend = store.current_registry().driver('swift')
    [segments, final] = backend.leftovers(IMAGE_ID, 'a1')
    assert swift.SwiftLocation(final).container == container
    assert swift.SwiftLocation(segments).obj == IMAGE_ID + '.a1-'


def test_config_file_locations_carry_no_credentials(swift_stores, tmp_path):
    path = tmp_path / 'glance-swift.conf'
    path.write_text('[store2]\nuser = a:b\nkey = k\n'
                    'auth_address = http://127.0.0.1:1/v3\n')
    swift_stores('swift_store_config_file', str(path))
    swift_stores('default_swift_reference', 'store2')
    store.create_stores()
    backend = store.current_registry().driver('swift')
    assert backend.leftovers(IMAGE_ID, 'a1')[1] == (
        'swift+config://store2/glance/' + IMAGE_ID)
    # An unknown reference is upstream's BadStoreUri.
    with pytest.raises(exception.Invalid, match='Credentials not found'):
        backend._connection_for(
            swift.SwiftLocation('swift+config://nope/glance/x'))


def test_a_forked_process_makes_its_own_keystone_session(swift_stores,
                                                         tmp_path):
    """glance-api's master sweeps the stores before it forks: a worker
    must not share the master's pooled connections."""
    path = tmp_path / 'glance-swift.conf'
    path.write_text('[ref1]\nuser = a:b\nkey = k\n'
                    'auth_address = http://127.0.0.1:1/v3\n')
    swift_stores('swift_store_config_file', str(path))
    swift_stores('default_swift_reference', 'ref1')
    store.create_stores()
    backend = store.current_registry().driver('swift')
    reference = backend.references['ref1']
    parent_session = backend._session(reference)
    assert backend._session(reference) is parent_session

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answers whether it got a session of its own
        try:
            child_session = backend._session(reference)
            os.write(write_end, b'own' if child_session is not parent_session
                     and backend._session(reference) is child_session
                     else b'shared')
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 10)
    os.waitpid(pid, 0)
    assert answer == b'own'


def test_multi_tenant_uses_the_users_catalog(swift_stores):
    swift_stores('swift_store_multi_tenant', True)
    store.create_stores()
    backend = store.current_registry().driver('swift')
    catalog = [{'type': 'identity', 'endpoints': [
                   {'publicURL': 'http://127.0.0.1:1/v3'}]},
               {'type': 'object-store', 'endpoints': [
                   {'region': 'RegionOne',
                    'publicURL': 'http://127.0.0.1:2/v1/AUTH_p1',
                    'internalURL': 'http://10.0.0.1/v1/AUTH_p1'}]}]
    RequestContext(auth_token='tok', project_id='p1',
                   service_catalog=catalog, is_admin=False)
    try:
        [segments, final] = backend.leftovers(IMAGE_ID, 'a1')
    finally:
        oslo_context.context._request_store.context = None
    assert final == ('swift+http://127.0.0.1:2/v1/AUTH_p1/glance_%s/%s'
                     % (IMAGE_ID, IMAGE_ID))
    assert backend.owns(final)
    # Without a user nor service credentials there is nothing to use.
    with pytest.raises(exception.StoreUnavailable, match='context'):
        backend.leftovers(IMAGE_ID, 'a1')
    with pytest.raises(exception.StoreUnavailable, match='context'):
        backend.delete(swift.SwiftLocation(final))


def test_the_v3_catalog_form_is_read_too(swift_stores):
    swift_stores('swift_store_multi_tenant', True)
    swift_stores('swift_store_endpoint_type', 'internalURL')
    store.create_stores()
    backend = store.current_registry().driver('swift')
    request = RequestContext(
        auth_token='tok', is_admin=False, overwrite=False,
        service_catalog=[{'type': 'object-store', 'endpoints': [
            {'interface': 'public', 'url': 'http://public/v1/AUTH_p'},
            {'interface': 'internal', 'url': 'http://internal/v1/AUTH_p'}]}])
    assert backend._catalog_url(request) == 'http://internal/v1/AUTH_p'


# Writing, without a server


def test_segments_are_cut_at_the_limit_without_joining_chunks():
    chunks = [b'a' * 7, b'', b'b' * 3, b'c' * 12]
    rechunker = swift._Rechunker(iter(chunks), 5)
    segments = []
    while (segment := rechunker.next_segment()) is not None:
        pieces = list(segment)
        assert max(len(p) for p in pieces) <= 5
        segments.append(b''.join(pieces))
    assert segments == [b'aaaaa', b'aabbb', b'ccccc', b'ccccc', b'cc']


def test_sweeps_never_take_upstreams_segments_for_ours():
    ours = swift._OUR_SEGMENT.match(IMAGE_ID + '.1f2e3d-00002')
    assert ours and ours['prefix'] == IMAGE_ID + '.1f2e3d-'
    assert swift._OUR_SEGMENT.match(IMAGE_ID + '-00001') is None
    assert swift._SEGMENT_SET.match(IMAGE_ID + '.1f2e3d-')
    assert not swift._SEGMENT_SET.match(IMAGE_ID)


# Downloads Swift cuts short (a Swift that drops the connection is not
# something the real one does on demand: a small web server plays it)


class CuttingSwift(http.server.BaseHTTPRequestHandler):
    """v1 auth, then GETs of `data` that send only `cut` bytes of each
    answer before closing the connection; Range requests honoured."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        if self.path == '/auth/v1.0':
            self.send_response(200)
            self.send_header('X-Storage-Url', f'http://127.0.0.1:'
                             f'{server.server_address[1]}/v1/AUTH_t')
            self.send_header('X-Auth-Token', 'tok')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        server.ranges.append(self.headers.get('Range'))
        start, end = 0, len(server.data) - 1
        if self.headers.get('Range'):
            first, _, last = self.headers['Range'][6:].partition('-')
            start, end = int(first), int(last) if last else end
        self.send_response(206 if self.headers.get('Range') else 200)
        self.send_header('Content-Length', str(end - start + 1))
        self.send_header('ETag', 'e1')
        if self.headers.get('Range'):
            self.send_header('Content-Range',
                             f'bytes {start}-{end}/{len(server.data)}')
        self.end_headers()
        self.wfile.write(server.data[start:min(end + 1, start + server.cut)])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def cutting_swift(swift_stores):
    web = WebServer(handler=CuttingSwift).start()
    web.server.data = bytes(range(256)) * 1000
    web.server.cut = 100_000
    web.server.ranges = []
    swift_stores('swift_store_auth_version', '1')
    swift_stores('swift_store_auth_address', web.url + '/auth/v1.0')
    swift_stores('swift_store_user', 'test:tester')
    swift_stores('swift_store_key', 'testing')
    yield web.server
    web.stop()


def test_a_cut_download_resumes_with_ranged_gets(cutting_swift,
                                                 swift_stores):
    swift_stores('swift_store_retry_get_count', 3)
    store.create_stores()
    backend = store.current_registry().driver('swift')
    uri = backend.leftovers(IMAGE_ID, 'a1')[1]
    chunks, total = store.get_from_backend(uri, offset=10)
    assert total == len(cutting_swift.data)
    assert b''.join(chunks) == cutting_swift.data[10:]
    # From where each answer stopped.
    assert cutting_swift.ranges == [
        'bytes=10-', 'bytes=100010-', 'bytes=200010-']


def test_without_retries_a_cut_ranged_download_fails(cutting_swift):
    store.create_stores()
    backend = store.current_registry().driver('swift')
    uri = backend.leftovers(IMAGE_ID, 'a1')[1]
    chunks, _total = store.get_from_backend(uri, offset=10)
    with pytest.raises(exception.StoreUnavailable):
        b''.join(chunks)
    assert cutting_swift.ranges == ['bytes=10-']


def test_whole_downloads_are_resumed_by_swiftclient_anyway(cutting_swift):
    # As upstream's: swiftclient itself resumes a GET of a whole object
    # (If-Match its ETag), whatever swift_store_retry_get_count says.
    store.create_stores()
    backend = store.current_registry().driver('swift')
    uri = backend.leftovers(IMAGE_ID, 'a1')[1]
    chunks, _total = store.get_from_backend(uri)
    assert b''.join(chunks) == cutting_swift.data
    assert cutting_swift.ranges == [None, 'bytes=100000-', 'bytes=200000-']
