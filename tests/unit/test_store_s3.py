"""Unit tests for the s3 store driver (glance.store.drivers.s3): its
configuration in both modes, location URIs as glance_store writes and
reads them, and the pieces of its uploads. Nothing here talks to an S3
server (tests/functional/test_s3_store.py does, to a real Swift); where
a test needs a request, botocore's own event hook answers it before it
leaves, to see what botocore would send."""
import pytest

from glance import store
from glance.common import exception
from glance.store.drivers import s3
from tests import helpers

IMAGE_ID = 'a5e2f0f4-1a7e-4d0e-9d55-0c0a1b6f1c11'
MiB = 1024 * 1024


def s3_section(**options):
    values = {'s3_store_host': 'http://127.0.0.1:9',
              's3_store_access_key': 'access',
              's3_store_secret_key': 'secret',
              's3_store_bucket': 'images'}
    values.update(options)
    return ''.join(f'{key} = {value}\n' for key, value in values.items()
                   if value is not None)


def multistore(tmp_path, section='', defaults=''):
    return f"""
[DEFAULT]
enabled_backends = local:file, objects:s3
[glance_store]
default_backend = objects
[local]
filesystem_store_datadir = {tmp_path}/local
[objects]
store_description = Object storage
{section}
[backend_defaults]
{defaults}
[os_glance_staging_store]
filesystem_store_datadir = {tmp_path}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {tmp_path}/tasks
"""


@pytest.fixture
def objects(tmp_path, clean_config):
    """configure(section, defaults) -> the configured s3 backend."""
    def configure(section=None, defaults=''):
        helpers.configure(tmp_path, multistore(
            tmp_path, s3_section() if section is None else section,
            defaults))
        return store.current_registry().driver('objects')
    yield configure
    store._registry = store.registry.Registry()


def last_request(backend, call, *args, **kwargs):
    """The request botocore would send for backend.client.call(...)
    (answered here with an empty 200, before any connection)."""
    from botocore.awsrequest import AWSResponse

    seen = []

    def answer(request, **_):
        seen.append(request)
        return AWSResponse(request.url, 200, {}, None)

    events = backend.client.meta.events
    events.register_first('before-send.s3', answer)
    try:
        try:
            getattr(backend.client, call)(*args, **kwargs)
        except Exception:
            pass  # the empty answer may not parse: only the request matters
    finally:
        events.unregister('before-send.s3', answer)
    return seen[-1]


# Options


def test_options_have_glance_stores_names_and_defaults():
    defaults = {opt.name: opt.default for opt in s3.s3_opts}
    assert defaults == {
        's3_store_host': None, 's3_store_region_name': '',
        's3_store_access_key': None, 's3_store_secret_key': None,
        's3_store_bucket': None, 's3_store_create_bucket_on_put': False,
        's3_store_bucket_url_format': 'auto',
        's3_store_large_object_size': 100,
        's3_store_large_object_chunk_size': 10,
        's3_store_thread_pools': 10, 's3_store_cacert': '',
        's3_store_enable_data_integrity_protection': False,
        's3_store_request_checksum_calculation': 'when_required',
        's3_store_response_checksum_validation': 'when_required'}
    secret = {opt.name for opt in s3.s3_opts if opt.secret}
    assert secret == {'s3_store_access_key', 's3_store_secret_key'}


def test_a_configured_backend(objects):
    backend = objects(s3_section(s3_store_large_object_size=64,
                                 s3_store_large_object_chunk_size=8,
                                 s3_store_thread_pools=3))
    assert backend.writable
    assert (backend.scheme, backend.service, backend.bucket) == (
        's3', '127.0.0.1:9', 'images')
    assert backend.properties() == {
        's3_store_large_object_size': 64 * MiB,
        's3_store_large_object_chunk_size': 8 * MiB,
        's3_store_thread_pools': 3}
    assert backend.client.meta.endpoint_url == 'http://127.0.0.1:9'
    assert backend.client.meta.config.s3['payload_signing_enabled'] is False
    assert backend.client.meta.region_name == 'us-east-1'
    listed = {s['id']: s for s in store.stores_info(detail=True)}
    assert listed['objects']['type'] == 's3'
    assert listed['objects']['description'] == 'Object storage'


def test_options_fall_back_to_backend_defaults(objects):
    backend = objects(s3_section(s3_store_thread_pools=4),
                      defaults='s3_store_large_object_chunk_size = 6\n'
                               's3_store_thread_pools = 7\n')
    assert backend.part_size == 6 * MiB
    assert backend.thread_pools == 4
    assert backend.large_object_size == 100 * MiB


@pytest.mark.parametrize('option, value, reason', [
    ('s3_store_host', None,
     'Could not find s3_store_host in configuration options.'),
    ('s3_store_access_key', None,
     'Could not find s3_store_access_key in configuration options.'),
    ('s3_store_bucket', None,
     'Could not find s3_store_bucket in configuration options.'),
    ('s3_store_large_object_chunk_size', 4,
     's3_store_large_object_chunk_size must be at least 5 MB.'),
    ('s3_store_thread_pools', 0,
     's3_store_thread_pools must be a positive integer. 0'),
    ('s3_store_bucket_url_format', 'sideways',
     'Invalid s3_store_bucket_url_format sideways'),
])
def test_a_bad_option_leaves_the_store_read_only(objects, option, value,
                                                 reason):
    backend = objects(s3_section(**{option: value}))
    assert not backend.writable
    assert reason in backend.add_disabled_reason
    with pytest.raises(exception.StoreAddDisabled):
        store.add_to_backend(IMAGE_ID, [b'data'], backend='objects')


def test_reads_of_a_store_without_credentials_fail_cleanly(objects):
    backend = objects(s3_section(s3_store_secret_key=None))
    location = s3.S3Location(f's3://127.0.0.1:9/images/{IMAGE_ID}')
    with pytest.raises(exception.BadStoreConfiguration,
                       match='s3_store_secret_key'):
        backend.get(location)
    assert backend.stray_partials() == []


def test_virtual_addressing_needs_a_dns_name(objects):
    backend = objects(s3_section(s3_store_bucket='Not_DNS',
                                 s3_store_bucket_url_format='virtual'))
    assert 'not a valid DNS name' in backend.add_disabled_reason


@pytest.mark.parametrize('url_format, url', [
    ('path', f'http://s3.example.com:8080/images/{IMAGE_ID}'),
    ('virtual', f'http://images.s3.example.com:8080/{IMAGE_ID}'),
    # botocore's choice for an endpoint other than Amazon's.
    ('auto', f'http://s3.example.com:8080/images/{IMAGE_ID}'),
])
def test_bucket_url_format(objects, url_format, url):
    backend = objects(s3_section(s3_store_host='s3.example.com:8080',
                                 s3_store_bucket_url_format=url_format))
    request = last_request(backend, 'head_object', Bucket='images',
                           Key=IMAGE_ID)
    assert request.url == url


def test_requests_are_signed_with_sigv4_for_the_region(objects):
    backend = objects(s3_section(s3_store_region_name='eu-central-9'))
    request = last_request(backend, 'head_object', Bucket='images',
                           Key=IMAGE_ID)
    authorization = request.headers['Authorization'].decode()
    assert authorization.startswith(
        'AWS4-HMAC-SHA256 Credential=access/')
    assert '/eu-central-9/s3/aws4_request' in authorization


def test_an_amazon_host_gives_the_region(objects):
    backend = objects(s3_section(
        s3_store_host='https://s3.eu-west-3.amazonaws.com'))
    assert backend.client.meta.region_name == 'eu-west-3'
    assert backend.scheme == 's3+https'
    assert backend.service == 's3.eu-west-3.amazonaws.com'


def test_data_integrity_options(objects):
    backend = objects(s3_section(
        s3_store_enable_data_integrity_protection='true',
        s3_store_request_checksum_calculation='when_supported'))
    config = backend.client.meta.config
    assert config.request_checksum_calculation == 'when_supported'
    assert config.response_checksum_validation == 'when_required'
    plain = objects(s3_section(
        s3_store_request_checksum_calculation='when_supported'))
    assert plain.client.meta.config.request_checksum_calculation == \
        'when_required'


def test_single_store_mode(tmp_path):
    helpers.configure(tmp_path, '[glance_store]\nstores = file, s3\n'
                      'default_store = s3\n' + s3_section())
    try:
        registry = store.current_registry()
        assert registry.default_backend == 's3'
        assert registry.driver('s3').bucket == 'images'
        assert set(registry.known_schemes()) >= {'file', 's3', 's3+https'}
    finally:
        store._registry = store.registry.Registry()


# Locations


@pytest.mark.parametrize('uri, service, bucket, key', [
    # As glance_store 5.7 writes them.
    (f's3://s3.example.com/images/{IMAGE_ID}', 's3.example.com', 'images',
     IMAGE_ID),
    (f's3+https://s3.example.com:8443/images/{IMAGE_ID}',
     's3.example.com:8443', 'images', IMAGE_ID),
    (f's3+http://10.0.0.1:8080/images/{IMAGE_ID}', '10.0.0.1:8080',
     'images', IMAGE_ID),
    # As older ones wrote them: credentials (a secret may hold '/').
    (f's3://AKIA:se/cr+et@s3.example.com/images/{IMAGE_ID}',
     's3.example.com', 'images', IMAGE_ID),
    # A service URL with a path.
    (f's3://example.com/s3/images/{IMAGE_ID}', 'example.com/s3', 'images',
     IMAGE_ID),
])
def test_locations_parse(uri, service, bucket, key):
    location = s3.S3Location(uri)
    assert (location.service, location.bucket, location.key) == (
        service, bucket, key)
    assert not location.uploads


@pytest.mark.parametrize('uri', [
    f's3://images/{IMAGE_ID}',  # no service URL
    's3://s3.example.com/images/',  # no key
    f's3://ak:sk@https://s3.example.com/images/{IMAGE_ID}',
    f's3://noseparator@s3.example.com/images/{IMAGE_ID}',
    f'swift://s3.example.com/images/{IMAGE_ID}',
])
def test_malformed_locations(uri):
    with pytest.raises(exception.Invalid,
                       match='The Store URI was malformed'):
        s3.S3Location(uri)


def test_locations_written_as_glance_store_does(objects):
    backend = objects(s3_section(s3_store_host='https://s3.example.com/'))
    assert backend.leftovers(IMAGE_ID, 'abc123') == [
        f's3+https://s3.example.com/images/{IMAGE_ID}',
        f's3+https://s3.example.com/images/{IMAGE_ID}?uploads']
    plain = objects(s3_section(s3_store_host='s3.example.com'))
    assert plain._uri(IMAGE_ID) == f's3://s3.example.com/images/{IMAGE_ID}'
    assert s3.S3Location(plain._uri(IMAGE_ID, uploads=True)).uploads


def test_owns_its_bucket_with_or_without_credentials(objects):
    backend = objects()
    assert backend.owns(f's3://127.0.0.1:9/images/{IMAGE_ID}')
    assert backend.owns(f's3+http://127.0.0.1:9/images/{IMAGE_ID}')
    assert backend.owns(f's3://ak:sk@127.0.0.1:9/images/{IMAGE_ID}')
    assert not backend.owns(f's3://127.0.0.1:9/other/{IMAGE_ID}')
    assert not backend.owns(f's3://10.0.0.1:9/images/{IMAGE_ID}')
    assert not backend.owns(f's3+https://127.0.0.1:9/images/{IMAGE_ID}')
    assert not backend.owns('file:///images/x')


def test_an_upstream_location_resolves_to_the_s3_backend(objects):
    objects()
    uri = f's3://ak:sk@127.0.0.1:9/images/{IMAGE_ID}'
    assert store.current_registry().backend_of(uri) == 'objects'
    ordered = store.ordered_locations([{'url': uri, 'metadata': {}}])
    assert ordered[0]['metadata'] == {'store': 'objects'}


@pytest.mark.parametrize('image_id', ['', 'a/b', 'a?uploads', 'a\0b'])
def test_bad_image_ids_are_refused(objects, image_id):
    with pytest.raises(exception.Invalid):
        objects().leftovers(image_id, 'abc')


# The pieces of an upload


def test_stream_reader_gives_what_was_announced():
    reader = s3._StreamReader(iter([b'abc', b'defg']), 7)
    assert reader.read(2) == b'ab'
    assert reader.read(100) == b'c'
    assert reader.read(100) == b'defg'
    assert reader.read(100) == b''


def test_stream_reader_refuses_more_or_less():
    long = s3._StreamReader(iter([b'abc', b'defg']), 4)
    assert long.read(10) == b'abc'
    with pytest.raises(exception.Invalid, match='Size exceeds: expected 4 '
                       'bytes, got 7 bytes'):
        long.read(10)
    short = s3._StreamReader(iter([b'abc']), 5)
    assert short.read(10) == b'abc'
    with pytest.raises(exception.Invalid, match='Size mismatch: expected 5 '
                       'bytes, got 3 bytes'):
        short.read(10)
    assert isinstance(short.error, exception.Invalid)


def test_stream_reader_keeps_the_datas_own_error():
    class ClientGone(Exception):
        pass

    def chunks():
        yield b'abc'
        raise ClientGone()

    reader = s3._StreamReader(chunks(), 10)
    reader.read(10)
    with pytest.raises(ClientGone):
        reader.read(10)
    assert isinstance(reader.error, ClientGone)


def test_parts_fill_reused_buffers():
    buffers = s3._Buffers()
    chunks = [b'abc'] * 7  # 21 bytes
    sizes = iter([5, 5, 5, 5, 5])
    parts = []
    for buffer, filled in s3._parts(iter(chunks), sizes, buffers):
        parts.append(bytes(buffer[:filled]))
        buffers.give(buffer)  # sent: the next part may reuse it
    assert parts == [b'abcab', b'cabca', b'bcabc', b'abcab', b'c']
    assert len(buffers.free) == 1
    assert list(s3._parts(iter([]), iter([5]), s3._Buffers())) == []


def test_part_body_hands_out_views():
    body = s3._PartBody(bytearray(b'x' * 3 * MiB + b'tail'), 3 * MiB + 2)
    assert len(body) == 3 * MiB + 2
    first = body.read(16384)
    assert isinstance(first, memoryview) and len(first) == MiB
    assert len(body.read()) == 2 * MiB + 2
    assert body.read(10) == b''
    body.seek(0)
    assert body.tell() == 0 and len(body.read(-1)) == 3 * MiB + 2


def test_part_sizes(objects):
    backend = objects(s3_section(s3_store_large_object_chunk_size=5))
    known = backend._part_sizes(100 * 1024 * MiB)  # 100 GiB: > 10000 parts
    assert next(known) == -(-100 * 1024 * MiB // 10000)
    sizes = backend._part_sizes(None)
    unknown = [next(sizes) for _ in range(10000)]
    assert unknown[0] == unknown[999] == 5 * MiB
    assert unknown[1000] == 10 * MiB
    assert max(unknown) == 5 * MiB * 2 ** 9
    # 10000 parts of unknown data hold well over image_size_cap's 1 TiB.
    assert sum(unknown) > 4 * 1024 * 1024 * MiB


def test_parts_sent_at_once_stay_within_the_memory_budget(objects):
    backend = objects(s3_section(s3_store_large_object_chunk_size=5))
    assert backend._sending_limit(5 * MiB) == 3  # and one filling
    assert backend._sending_limit(10 * MiB) == 1
    assert backend._sending_limit(100 * MiB) == 1
    few = objects(s3_section(s3_store_large_object_chunk_size=5,
                             s3_store_thread_pools=2))
    assert few._sending_limit(5 * MiB) == 2
