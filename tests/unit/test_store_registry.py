"""Unit tests for the store registry (glance.store.registry), its
publication by glance.store.create_stores(), and what the glance.store API
does whatever the driver: the stores configured, unknown schemes and
malformed locations. The drivers' own tests: test_store_filesystem.py,
test_store_http.py.

Drivers are real: filesystem stores write to temporary directories.
"""
import os

from oslo_config import cfg
import pytest

from glance import store
from glance.common import exception
from glance.store import registry
from glance.store.drivers import filesystem
from glance.store.drivers import http as http_store
from tests import helpers

IMAGE_ID = '0f4b3c2e-7d44-4a57-9a3e-2b1c9d8e7f60'


pytestmark = pytest.mark.usefixtures('isolated_registry')


def test_before_create_stores_nothing_is_served():
    empty = store.current_registry()
    assert empty.known_schemes() == ()
    assert empty.backends == {}
    assert empty.default_backend is None
    with pytest.raises(exception.UnknownScheme):
        store.get_from_backend('file:///images/x')
    with pytest.raises(exception.StoreUnavailable):
        store.add_to_backend(IMAGE_ID, [b'data'])


def test_create_stores_publishes_a_new_registry_and_leaves_the_old_whole(
        tmp_path, set_option):
    set_option('filesystem_store_datadir', str(tmp_path / 'first'))
    store.create_stores()
    first = store.current_registry()
    first_uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [b'one'])

    set_option('stores', ['file'])
    set_option('filesystem_store_datadir', str(tmp_path / 'second'))
    store.create_stores()
    second = store.current_registry()

    assert second is not first
    assert list(second.backends) == ['file']
    assert second.known_schemes() == ('file',)
    with pytest.raises(exception.UnknownScheme):
        store.get_size_from_backend('http://example.com/image')
    second_uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [b'two'])
    assert second_uri == f'file://{tmp_path}/second/{IMAGE_ID}'
    # A request that took the first registry before the reload still sees
    # the configuration it started with.
    assert list(first.backends) == ['file', 'http']
    assert first.known_schemes() == ('file', 'http', 'https')
    assert first.driver('file').datadir == str(tmp_path / 'first')
    assert first_uri == f'file://{tmp_path}/first/{IMAGE_ID}'
    iterator, _total = first.get(first_uri)
    assert b''.join(iterator) == b'one'


@pytest.mark.parametrize('bad_option, value, message', [
    ('stores', ['file', 'rbd'], 'rbd'),
    ('default_store', 'http', 'default_store'),
    ('https_ca_certificates_file', '/nonexistent/ca.pem', 'ca.pem'),
])
def test_a_failing_create_stores_leaves_the_old_registry_serving(
        tmp_path, set_option, bad_option, value, message):
    set_option('filesystem_store_datadir', str(tmp_path / 'images'))
    store.create_stores()
    before = store.current_registry()
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [b'data'])

    set_option(bad_option, value)
    if bad_option == 'default_store':
        set_option('stores', ['file'])
    with pytest.raises(exception.BadStoreConfiguration, match=message):
        store.create_stores()

    assert store.current_registry() is before
    assert store.get_known_schemes() == ('file', 'http', 'https')
    assert store.get_size_from_backend(uri) == 4
    store.delete_from_backend(uri)
    assert os.listdir(tmp_path / 'images') == []


def test_a_driver_that_fails_to_configure_publishes_nothing(tmp_path,
                                                            set_option):
    # The file store configures first and succeeds (creating its
    # directory); the http store then fails, and none of it is published.
    set_option('filesystem_store_datadir', str(tmp_path / 'images'))
    store.create_stores()
    before = store.current_registry()
    set_option('filesystem_store_datadir', str(tmp_path / 'other'))
    set_option('https_ca_certificates_file', str(tmp_path / 'missing.pem'))

    with pytest.raises(exception.BadStoreConfiguration):
        store.create_stores()

    assert store.current_registry() is before
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [b'data'])
    assert uri == f'file://{tmp_path}/images/{IMAGE_ID}'


def test_backend_ids_are_the_store_type_names(tmp_path, set_option):
    set_option('filesystem_store_datadir', str(tmp_path / 'images'))
    set_option('stores', ['filesystem', 'https', 'file'])
    set_option('default_store', 'filesystem')
    store.create_stores()
    current = store.current_registry()

    assert list(current.backends) == ['file', 'http']
    assert current.default_backend == 'file'
    assert isinstance(current.driver('file'), filesystem.Store)
    assert current.driver('file').backend_id == 'file'
    assert isinstance(current.driver('http'), http_store.Store)
    with pytest.raises(exception.UnknownScheme,
                       match='Store for identifier swift not found'):
        current.driver('swift')
    with pytest.raises(exception.UnknownScheme, match='swift'):
        current.add(IMAGE_ID, [b'data'], backend='swift')
    with pytest.raises(exception.StoreAddDisabled):
        current.add(IMAGE_ID, [b'data'], backend='http')
    assert os.listdir(tmp_path / 'images') == []


def test_schemes_lead_to_their_driver_and_location_class(tmp_path,
                                                         set_option):
    set_option('filesystem_store_datadir', str(tmp_path / 'images'))
    store.create_stores()
    current = store.current_registry()

    driver, file_location = current.locate(f'FILE://{tmp_path}/x')
    assert driver is current.driver('file')
    assert type(file_location) is filesystem.FileLocation
    assert file_location.path == f'{tmp_path}/x'
    for uri in ('http://example.com/x', 'https://example.com/x'):
        driver, web_location = current.locate(uri)
        assert driver is current.driver('http')
        assert type(web_location) is http_store.HttpLocation
        assert web_location.url == uri
    assert store.validate_location('https://example.com/x').url == \
        'https://example.com/x'
    # Asked of a given backend, a scheme it does not handle is unknown.
    with pytest.raises(exception.UnknownScheme, match="'file'"):
        current.locate('http://example.com/x', backend='file')
    assert current.locate(f'file://{tmp_path}/x', backend='file')[0] is \
        current.driver('file')


@pytest.mark.parametrize('uri, scheme', [
    ('swift://container/image', 'swift'),
    ('rbd://fsid/pool/image/snap', 'rbd'),
    ('image-id', ''),
    ('', ''),
])
def test_unknown_schemes_are_refused_everywhere(tmp_path, set_option, uri,
                                                scheme):
    set_option('filesystem_store_datadir', str(tmp_path / 'images'))
    store.create_stores()
    expected = f"Unknown scheme '{scheme}' found in URI"

    for call in (store.get_from_backend, store.get_size_from_backend,
                 store.delete_from_backend, store.validate_location):
        with pytest.raises(exception.UnknownScheme) as raised:
            call(uri)
        assert str(raised.value) == expected
    assert not store.validate_external_location(uri)
    assert scheme not in store.get_known_schemes()


def test_external_locations_exclude_the_servers_own_files(tmp_path,
                                                          set_option):
    set_option('filesystem_store_datadir', str(tmp_path / 'images'))
    store.create_stores()
    current = store.current_registry()

    assert current.is_external_location_allowed('https://example.com/x')
    assert current.is_external_location_allowed('http://example.com/x')
    assert not current.is_external_location_allowed(f'file://{tmp_path}/x')
    assert not current.is_external_location_allowed('http://')


# Several backends of one type, as upstream's enabled_backends configures
# them: each driver reads its own section.


@pytest.fixture
def two_file_backends(tmp_path):
    conf = cfg.ConfigOpts()
    for group in ('fast', 'slow'):
        conf.register_opts(filesystem.filesystem_opts, group=group)
        conf.set_override('filesystem_store_datadir', str(tmp_path / group),
                          group=group)
    conf([])
    backends = {}
    for backend_id in ('fast', 'slow'):
        driver = filesystem.Store(conf, backend_id, group=backend_id)
        driver.configure()
        backends[backend_id] = driver
    return registry.Registry(backends, default_backend='slow'), tmp_path


def test_several_backends_of_one_type(two_file_backends):
    current, tmp_path = two_file_backends

    assert current.known_schemes() == ('file',)
    assert current.driver('fast').datadir == str(tmp_path / 'fast')
    assert current.driver('slow').datadir == str(tmp_path / 'slow')
    default_uri, _size, _metadata = current.add(IMAGE_ID, [b'default'])
    fast_uri, _size, _metadata = current.add(IMAGE_ID, [b'fast'],
                                             backend='fast')

    assert default_uri == f'file://{tmp_path}/slow/{IMAGE_ID}'
    assert fast_uri == f'file://{tmp_path}/fast/{IMAGE_ID}'
    # A URI alone goes to the backend whose data directory holds it (as
    # upstream matches URL prefixes), else to the default backend first.
    assert current.locate(fast_uri)[0] is current.driver('fast')
    assert current.locate(default_uri)[0] is current.driver('slow')
    assert current.locate('file:///elsewhere/x')[0] is current.driver('slow')
    iterator, _total = current.get(fast_uri, backend='fast')
    assert b''.join(iterator) == b'fast'
    assert current.get_size(default_uri, backend='slow') == len(b'default')
    current.delete(fast_uri, backend='fast')
    assert os.listdir(tmp_path / 'fast') == []
    with pytest.raises(exception.UnknownScheme):
        current.get(default_uri, backend='cheap')


def test_a_backends_configuration_error_names_its_id(tmp_path):
    conf = cfg.ConfigOpts()
    conf.register_opts(filesystem.filesystem_opts, group='fast')
    not_a_dir = tmp_path / 'file'
    not_a_dir.write_bytes(b'')
    conf.set_override('filesystem_store_datadir', str(not_a_dir),
                      group='fast')
    conf([])

    with pytest.raises(exception.BadStoreConfiguration,
                       match='^Store fast could not be configured'):
        filesystem.Store(conf, 'fast', group='fast').configure()


# Through the glance.store API: configuration, schemes, locations

def test_create_stores_registers_file_http_and_https(datadir):
    assert not datadir.exists()

    assert store.create_stores() == 3

    current = store.current_registry()
    file_store, file_location = current.locate('file:///images/x')
    assert isinstance(file_store, filesystem.Store)
    assert type(file_location) is filesystem.FileLocation
    http_driver, _location = current.locate('http://example.com/x')
    assert isinstance(http_driver, http_store.Store)
    https_driver, https_location = current.locate('https://example.com/x')
    assert https_driver is http_driver
    assert type(https_location) is http_store.HttpLocation
    assert datadir.is_dir()
    assert store.get_known_schemes() == ('file', 'http', 'https')


def test_create_stores_again_rebuilds_the_registry(stores, set_option):
    old_file_store = store.current_registry().driver('file')
    set_option('stores', ['filesystem'])

    assert store.create_stores() == 1

    assert store.get_known_schemes() == ('file',)
    assert store.current_registry().driver('file') is not old_file_store
    with pytest.raises(exception.UnknownScheme):
        store.get_from_backend('http://127.0.0.1/image')


def test_default_store_must_be_enabled(stores, set_option):
    before = store.current_registry()
    set_option('stores', ['http'])

    with pytest.raises(exception.BadStoreConfiguration) as raised:
        store.create_stores()

    assert 'default_store' in str(raised.value)
    # A failed reload keeps the working stores.
    assert store.current_registry() is before


def test_unknown_store_name_is_a_configuration_error(datadir, set_option):
    set_option('stores', ['file', 'rbd'])
    with pytest.raises(exception.BadStoreConfiguration, match='rbd'):
        store.create_stores()


def test_list_opts_lists_every_store_option():
    [(default_group, multistore_opts), (group, opts)] = store.list_opts()
    assert (default_group, group) == ('DEFAULT', 'glance_store')
    assert [opt.name for opt in multistore_opts] == ['enabled_backends']
    assert {opt.name for opt in opts} == {
        'stores', 'default_store', 'default_backend',
        'filesystem_store_datadir', 'filesystem_store_datadirs',
        'filesystem_store_metadata_file',
        'filesystem_store_file_perm', 'filesystem_store_chunk_size',
        'filesystem_store_direct_io',
        'http_store_timeout', 'https_insecure',
        'https_ca_certificates_file', 'http_proxy_information',
        's3_store_host', 's3_store_region_name', 's3_store_access_key',
        's3_store_secret_key', 's3_store_bucket',
        's3_store_create_bucket_on_put', 's3_store_bucket_url_format',
        's3_store_large_object_size', 's3_store_large_object_chunk_size',
        's3_store_thread_pools', 's3_store_cacert',
        's3_store_enable_data_integrity_protection',
        's3_store_request_checksum_calculation',
        's3_store_response_checksum_validation',
        *SWIFT_OPTION_NAMES}


# glance_store's swift options, every one (upstream-glance-part2.md 1.6).
SWIFT_OPTION_NAMES = {
    'swift_store_auth_insecure', 'swift_store_cacert', 'swift_store_region',
    'swift_store_endpoint', 'swift_store_endpoint_type',
    'swift_store_service_type', 'swift_store_container',
    'swift_store_large_object_size', 'swift_store_large_object_chunk_size',
    'swift_store_create_container_on_put', 'swift_store_multi_tenant',
    'swift_store_multiple_containers_seed', 'swift_store_admin_tenants',
    'swift_store_ssl_compression', 'swift_store_retry_get_count',
    'swift_store_expire_soon_interval', 'swift_store_use_trusts',
    'swift_buffer_on_upload', 'swift_upload_buffer_dir',
    'default_swift_reference', 'swift_store_config_file',
    'swift_store_auth_version', 'swift_store_auth_address',
    'swift_store_user', 'swift_store_key',
    'swift_store_application_credential_id',
    'swift_store_application_credential_secret',
    'swift_store_project_name', 'swift_store_project_id'}


def test_add_before_create_stores_fails():
    with pytest.raises(exception.StoreUnavailable):
        store.add_to_backend(IMAGE_ID, [b'data'])


@pytest.mark.parametrize('uri', ['swift://container/image', 'image-id', ''])
def test_unknown_scheme(stores, uri):
    helpers.assert_store_refuses(uri, exception.UnknownScheme)
    with pytest.raises(exception.UnknownScheme):
        store.validate_location(uri)


@pytest.mark.parametrize('uri', [
    'file://relative/path', 'file:///var/lib/glance/images/../../etc/passwd',
    'http://', 'https:///no-host',
])
def test_malformed_locations_are_invalid(stores, uri):
    with pytest.raises(exception.Invalid):
        store.validate_location(uri)
    with pytest.raises(exception.Invalid):
        store.get_from_backend(uri)


def test_validate_external_location(stores):
    assert store.validate_external_location('https://example.com/image')
    assert not store.validate_external_location(
        f'file://{stores}/{IMAGE_ID}')
    assert not store.validate_external_location('swift://container/image')
    assert not store.validate_external_location('http://')
