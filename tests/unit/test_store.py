"""Unit tests for the store layer (glance.store).

The filesystem store writes to a temporary directory; the HTTP store reads
from a real http.server running on 127.0.0.1 in a thread.
"""
import ctypes
import datetime
import errno
import http.server
import ipaddress
import mmap
import os
import re
import socket
import ssl
import stat
import threading
import time

import pytest
import requests

from glance import store
from glance.common import exception
from glance.common.config import CONF
from glance.store import registry
from glance.store.drivers import filesystem
from glance.store.drivers import http as http_store

IMAGE_ID = 'a5e2f0f4-1a7e-4d0e-9d55-0c0a1b6f1c11'
DATA = bytes(range(256)) * 40  # 10240 bytes, no two neighbours equal


@pytest.fixture
def set_option():
    """Set [glance_store] options for one test; they are cleared after."""
    names = []

    def set_store_option(name, value):
        CONF.set_override(name, value, group='glance_store')
        names.append(name)

    yield set_store_option
    for name in names:
        CONF.clear_override(name, group='glance_store')


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    """Give each test an empty registry and restore the previous one."""
    monkeypatch.setattr(store, '_registry', registry.Registry())


@pytest.fixture
def datadir(tmp_path, set_option):
    # Two missing levels: create_stores() must create the parents too.
    path = tmp_path / 'state' / 'images'
    set_option('filesystem_store_datadir', str(path))
    return path


@pytest.fixture
def stores(datadir):
    store.create_stores()
    return datadir


def image_uri(datadir, image_id=IMAGE_ID):
    return f'file://{datadir}/{image_id}'


def chunks_of(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


def read_all(uri, **kwargs):
    iterator, total_size = store.get_from_backend(uri, **kwargs)
    return b''.join(iterator), total_size


def open_paths():
    """The paths of the files this process has open."""
    fd_dir = '/proc/self/fd'
    paths = []
    for name in os.listdir(fd_dir):
        try:
            paths.append(os.readlink(os.path.join(fd_dir, name)))
        except OSError:
            pass
    return paths


needs_proc = pytest.mark.skipif(not os.path.isdir('/proc/self/fd'),
                                reason='needs /proc/self/fd')


# Configuration


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
    set_option('stores', ['file', 'swift'])
    with pytest.raises(exception.BadStoreConfiguration, match='swift'):
        store.create_stores()


def test_datadir_that_is_a_file_is_a_configuration_error(tmp_path,
                                                        set_option):
    not_a_dir = tmp_path / 'images'
    not_a_dir.write_bytes(b'')
    set_option('filesystem_store_datadir', str(not_a_dir))

    with pytest.raises(exception.BadStoreConfiguration,
                       match='not a directory'):
        store.create_stores()


@pytest.mark.parametrize('perm', [999, 1777])
def test_file_perm_must_be_an_octal_permission(datadir, set_option, perm):
    set_option('filesystem_store_file_perm', perm)
    with pytest.raises(exception.BadStoreConfiguration,
                       match='filesystem_store_file_perm'):
        store.create_stores()


def test_missing_ca_file_is_a_configuration_error(datadir, tmp_path,
                                                  set_option):
    set_option('https_ca_certificates_file', str(tmp_path / 'missing.pem'))
    with pytest.raises(exception.BadStoreConfiguration, match='missing.pem'):
        store.create_stores()


def test_list_opts_lists_every_store_option():
    [(group, opts)] = store.list_opts()
    assert group == 'glance_store'
    assert {opt.name for opt in opts} == {
        'stores', 'default_store', 'filesystem_store_datadir',
        'filesystem_store_file_perm', 'filesystem_store_chunk_size',
        'filesystem_store_direct_io',
        'http_store_timeout', 'https_insecure',
        'https_ca_certificates_file', 'http_proxy_information'}


def test_add_before_create_stores_fails():
    with pytest.raises(exception.StoreUnavailable):
        store.add_to_backend(IMAGE_ID, [b'data'])


# Filesystem store: reading and writing


def test_add_get_size_delete_round_trip(stores):
    uri, bytes_written, metadata = store.add_to_backend(
        IMAGE_ID, iter(chunks_of(DATA, 1000)), len(DATA))

    assert uri == image_uri(stores)
    assert bytes_written == len(DATA)
    assert metadata == {}
    assert (stores / IMAGE_ID).read_bytes() == DATA
    assert read_all(uri) == (DATA, len(DATA))
    assert store.get_size_from_backend(uri) == len(DATA)
    assert isinstance(store.current_registry().locate(uri)[0],
                      filesystem.Store)

    store.delete_from_backend(uri)

    assert os.listdir(stores) == []
    with pytest.raises(exception.ImageDataNotFound):
        store.get_from_backend(uri)
    with pytest.raises(exception.ImageDataNotFound):
        store.get_size_from_backend(uri)
    with pytest.raises(exception.ImageDataNotFound):
        store.delete_from_backend(uri)


def test_add_accepts_an_empty_image(stores):
    uri, bytes_written, _metadata = store.add_to_backend(IMAGE_ID, [])
    assert bytes_written == 0
    assert read_all(uri) == (b'', 0)


@pytest.mark.parametrize('offset, length', [
    (0, None), (100, None), (0, 10), (1000, 3000), (10239, None),
    (10000, 1000),  # runs past the end: what exists is returned
    (20000, None),  # starts past the end: nothing
    (5, 0),
])
def test_get_reads_from_offset_for_length(stores, set_option, offset, length):
    set_option('filesystem_store_chunk_size', 1024)
    store.create_stores()
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [DATA])

    iterator, total_size = store.get_from_backend(uri, offset=offset,
                                                  length=length)
    chunks = list(iterator)

    end = None if length is None else offset + length
    assert b''.join(chunks) == DATA[offset:end]
    assert total_size == len(DATA)
    assert all(0 < len(chunk) <= 1024 for chunk in chunks)


def test_get_honours_the_chunk_size_argument(stores):
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [DATA])
    iterator, _total = store.get_from_backend(uri, offset=1, chunk_size=4000)
    assert [len(chunk) for chunk in iterator] == [4000, 4000, 2239]


def test_get_rejects_negative_offset_or_length(stores):
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [DATA])
    with pytest.raises(exception.Invalid):
        store.get_from_backend(uri, offset=-1)
    with pytest.raises(exception.Invalid):
        store.get_from_backend(uri, length=-1)


@needs_proc
def test_get_iterator_closes_the_file_when_exhausted_or_closed(stores):
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [DATA])
    path = str(stores / IMAGE_ID)

    iterator, _total = store.get_from_backend(uri, chunk_size=1000)
    assert path in open_paths()
    list(iterator)
    assert path not in open_paths()

    iterator, _total = store.get_from_backend(uri, chunk_size=1000)
    next(iterator)
    iterator.close()
    assert path not in open_paths()
    with pytest.raises(StopIteration):
        next(iterator)


def test_add_writes_a_temporary_file_then_renames_it(stores):
    final_path = stores / IMAGE_ID
    seen_during_write = []

    def data():
        yield DATA[:5000]
        seen_during_write.append((final_path.exists(), os.listdir(stores)))
        yield DATA[5000:]

    store.add_to_backend(IMAGE_ID, data())

    [(final_existed, names)] = seen_during_write
    assert not final_existed
    [temp_name] = names
    assert temp_name.startswith('.') and temp_name != IMAGE_ID
    assert os.listdir(stores) == [IMAGE_ID]


def test_add_fsyncs_the_file_before_naming_it_then_the_directory(
        stores, monkeypatch):
    final_path = stores / IMAGE_ID
    real_fsync = os.fsync
    calls = []

    def recording_fsync(fd):
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        calls.append((is_dir, final_path.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', recording_fsync)
    store.add_to_backend(IMAGE_ID, [DATA])

    # (is a directory, final name exists at that moment)
    assert calls == [(False, False), (True, True)]


def test_the_file_mode_is_set_before_the_data_is_synced(
        stores, set_option, monkeypatch):
    # The mode then reaches the disk with the data, not at some later
    # journal commit.
    set_option('filesystem_store_file_perm', 640)
    store.create_stores()
    real_fsync = os.fsync
    modes = []

    def recording_fsync(fd):
        status = os.fstat(fd)
        if stat.S_ISREG(status.st_mode):
            modes.append(stat.S_IMODE(status.st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', recording_fsync)
    store.add_to_backend(IMAGE_ID, [DATA])

    assert modes == [0o640]


class _CacheStatRange(ctypes.Structure):
    _fields_ = [('offset', ctypes.c_uint64), ('length', ctypes.c_uint64)]


class _CacheStat(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        'cached', 'dirty', 'writeback', 'evicted', 'recently_evicted')]


def page_cache_state(path):
    """cachestat(2) of a whole file (Linux 6.5+): its pages in the page
    cache, and how many of them the disk does not have yet."""
    syscall = ctypes.CDLL(None, use_errno=True).syscall
    state = _CacheStat()
    fd = os.open(path, os.O_RDONLY)
    try:
        if syscall(451, fd, ctypes.byref(_CacheStatRange(0, 0)),
                   ctypes.byref(state), 0) != 0:
            error = ctypes.get_errno()
            pytest.skip(f'no cachestat(2) here: {os.strerror(error)}')
    finally:
        os.close(fd)
    return state


def skip_unless_on_a_disk(path):
    # tmpfs and the like keep pages in memory only: never written back.
    with open('/proc/mounts') as mounts:
        points = [line.split() for line in mounts]
    path = os.path.realpath(path)
    _, mount_point, kind = max(
        ((len(point), point, kind) for _, point, kind, *_ in points
         if path == point or path.startswith(point.rstrip('/') + '/')))
    if kind in ('tmpfs', 'ramfs', 'overlay'):
        pytest.skip(f'{path} is on {kind}, not on a disk')


@pytest.mark.parametrize('size', [8 * 1024 * 1024 + 1000,
                                  70 * 1024 * 1024])
def test_added_data_is_on_disk_and_still_cached(stores, size):
    # Observed in the kernel's own page cache counters: when add()
    # returns, no page of the image waits to be written (the data is on
    # the disk), and the pages stay cached for the downloads to come.
    # Below and above the writeback window.
    skip_unless_on_a_disk(stores)
    data = os.urandom(1024 * 1024) * (size // (1024 * 1024)) + b'x' * (
        size % (1024 * 1024))
    store.add_to_backend(IMAGE_ID, chunks_of(data, 4 * 1024 * 1024))

    state = page_cache_state(stores / IMAGE_ID)
    assert (state.dirty, state.writeback) == (0, 0)
    assert state.cached * mmap.PAGESIZE >= size
    assert (stores / IMAGE_ID).read_bytes() == data


def test_direct_io_data_is_on_disk_and_not_cached(stores, set_option):
    skip_unless_on_a_disk(stores)
    set_option('filesystem_store_direct_io', True)
    store.create_stores()
    data = os.urandom(8 * 1024 * 1024 + 1000)
    store.add_to_backend(IMAGE_ID, chunks_of(data, 4 * 1024 * 1024))

    state = page_cache_state(stores / IMAGE_ID)
    assert (state.dirty, state.writeback) == (0, 0)
    # At most the unaligned tail went through the cache (the truncate).
    assert state.cached <= 1



@pytest.mark.skipif(filesystem._sync_file_range is None,
                    reason='no sync_file_range(2) on this system')
def test_add_starts_writeback_as_the_data_grows(stores, monkeypatch):
    # Every WRITEBACK_BYTES written are sent to the disk without waiting,
    # so the final fsync has little left to do.
    monkeypatch.setattr(filesystem, 'WRITEBACK_BYTES', 4096)
    real_sync_file_range = filesystem._sync_file_range
    calls = []

    def recording(fd, offset, nbytes, flags):
        result = real_sync_file_range(fd, offset, nbytes, flags)
        calls.append((offset, nbytes, result))
        return result

    monkeypatch.setattr(filesystem, '_sync_file_range', recording)
    chunks = [DATA[i:i + 3000] for i in range(0, len(DATA), 3000)]
    store.add_to_backend(IMAGE_ID, chunks)

    assert (stores / IMAGE_ID).read_bytes() == DATA
    assert calls and all(result == 0 for _, _, result in calls)
    # Contiguous ranges from the start, each at least WRITEBACK_BYTES.
    offsets = [0] + [offset + nbytes for offset, nbytes, _ in calls]
    assert [offset for offset, _, _ in calls] == offsets[:-1]
    assert all(nbytes >= 4096 for _, nbytes, _ in calls)
    assert offsets[-1] > len(DATA) - 4096 - 3000

class UploadAborted(Exception):
    """What a caller's wrapper raises from inside the data iterator."""


@pytest.mark.parametrize('error', [
    UploadAborted('size limit exceeded'),
    # An OSError from the caller (client gone) is not a storage error.
    ConnectionResetError(errno.ECONNRESET, 'client disconnected'),
    PermissionError(errno.EACCES, 'not from the store'),
])
def test_failing_iterator_leaves_nothing_and_propagates_unchanged(
        stores, error):
    def data():
        yield DATA[:4000]
        yield DATA[4000:8000]
        raise error

    with pytest.raises(type(error)) as raised:
        store.add_to_backend(IMAGE_ID, data())

    assert raised.value is error
    assert os.listdir(stores) == []


def test_add_existing_image_is_a_duplicate(stores):
    store.add_to_backend(IMAGE_ID, [b'first'])

    with pytest.raises(exception.Duplicate):
        store.add_to_backend(IMAGE_ID, [b'second'])

    assert os.listdir(stores) == [IMAGE_ID]
    assert (stores / IMAGE_ID).read_bytes() == b'first'


def test_add_never_replaces_data_stored_while_it_was_writing(stores):
    # Another upload of the same image finishes first: it must win, and
    # this one must fail rather than silently replace its data.
    def data():
        yield b'second'
        (stores / IMAGE_ID).write_bytes(b'first')

    with pytest.raises(exception.Duplicate):
        store.add_to_backend(IMAGE_ID, data())

    assert os.listdir(stores) == [IMAGE_ID]
    assert (stores / IMAGE_ID).read_bytes() == b'first'


def test_add_renames_where_hard_links_are_unsupported(stores, monkeypatch):
    def no_hard_links(source, destination):
        raise OSError(errno.EPERM, 'Operation not permitted')

    monkeypatch.setattr(os, 'link', no_hard_links)
    uri, _size, _metadata = store.add_to_backend(IMAGE_ID, [DATA])

    assert os.listdir(stores) == [IMAGE_ID]
    assert read_all(uri) == (DATA, len(DATA))


@pytest.mark.parametrize('image_id', ['', '../escape', 'a/b', '.hidden'])
def test_add_rejects_ids_that_are_not_plain_file_names(stores, image_id):
    with pytest.raises(exception.Invalid):
        store.add_to_backend(image_id, [b'data'])
    assert os.listdir(stores) == []


@pytest.mark.parametrize('perm, umask, expected_mode', [
    (0, 0o027, 0o640),
    (0, 0o022, 0o644),
    (600, 0o022, 0o600),
    (640, 0o077, 0o640),
])
def test_file_mode_follows_file_perm_or_umask(datadir, set_option, perm,
                                              umask, expected_mode):
    set_option('filesystem_store_file_perm', perm)
    store.create_stores()
    old_umask = os.umask(umask)
    try:
        store.add_to_backend(IMAGE_ID, [b'data'])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(datadir / IMAGE_ID).st_mode) == expected_mode


@pytest.mark.skipif(not os.path.exists('/dev/full'), reason='needs /dev/full')
@pytest.mark.parametrize('chunk_size', [100, 1024 * 1024])
def test_disk_full_is_storage_full(stores, monkeypatch, chunk_size):
    # The temporary file is created for real, but the data goes to
    # /dev/full, where every write fails with ENOSPC: small chunks fail
    # when flushed, large ones when written.
    real_open = os.open

    def open_on_full_disk(path, flags, mode=0o777, **kwargs):
        fd = real_open(path, flags, mode, **kwargs)
        if not str(path).endswith('.partial'):
            return fd
        os.close(fd)
        return real_open('/dev/full', os.O_WRONLY)

    monkeypatch.setattr(os, 'open', open_on_full_disk)

    with pytest.raises(exception.StorageFull):
        store.add_to_backend(IMAGE_ID, [b'x' * chunk_size] * 3)

    assert os.listdir(stores) == []


def test_size_larger_than_free_space_is_refused_early(stores, monkeypatch):
    free = os.statvfs_result((4096, 4096, 100, 10, 10, 0, 0, 0, 0, 255))
    monkeypatch.setattr(os, 'statvfs', lambda path: free)
    consumed = []

    def data():
        consumed.append(True)
        yield b'data'

    with pytest.raises(exception.StorageFull):
        store.add_to_backend(IMAGE_ID, data(), size=10 * 4096 + 1)

    assert consumed == []
    assert os.listdir(stores) == []
    # What fits goes through.
    store.add_to_backend(IMAGE_ID, data(), size=10 * 4096)
    assert consumed == [True]


def test_permission_denied_is_storage_write_denied(stores, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, 'Permission denied', path)

    monkeypatch.setattr(os, 'open', denied)
    with pytest.raises(exception.StorageWriteDenied):
        store.add_to_backend(IMAGE_ID, [b'data'])


@pytest.mark.skipif(os.geteuid() == 0, reason='root ignores permissions')
def test_read_only_datadir_is_storage_write_denied(stores):
    os.chmod(stores, 0o500)
    try:
        with pytest.raises(exception.StorageWriteDenied):
            store.add_to_backend(IMAGE_ID, [b'data'])
    finally:
        os.chmod(stores, 0o700)


def test_missing_data_is_image_data_not_found(stores):
    uri = image_uri(stores, 'no-such-image')
    with pytest.raises(exception.ImageDataNotFound):
        store.get_from_backend(uri)
    with pytest.raises(exception.ImageDataNotFound):
        store.get_size_from_backend(uri)
    with pytest.raises(exception.ImageDataNotFound):
        store.delete_from_backend(uri)


@pytest.mark.parametrize('uri', ['swift://container/image', 'image-id', ''])
def test_unknown_scheme(stores, uri):
    with pytest.raises(exception.UnknownScheme):
        store.get_from_backend(uri)
    with pytest.raises(exception.UnknownScheme):
        store.get_size_from_backend(uri)
    with pytest.raises(exception.UnknownScheme):
        store.delete_from_backend(uri)
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
    assert not store.validate_external_location(image_uri(stores))
    assert not store.validate_external_location('swift://container/image')
    assert not store.validate_external_location('http://')


# HTTP store

REQUESTS_SEEN = []


class ImageServer(http.server.BaseHTTPRequestHandler):
    """Serves DATA at /image, with single-range support and some faults.

    Every request's target and headers go to REQUESTS_SEEN.
    """

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.respond(send_body=False)

    def do_GET(self):
        self.respond(send_body=True)

    def respond(self, send_body):
        path = self.path
        if path.startswith('http://'):  # asked as a proxy
            path = '/' + path.split('/', 3)[3]
        REQUESTS_SEEN.append((self.path, dict(self.headers)))
        if path == '/old':
            self.send_response(302)
            self.send_header('Location', '/image')
            self.end_headers()
        elif path == '/slow':
            time.sleep(2)
            self.send_error(500)
        elif path == '/broken':
            self.send_error(500)
        elif path in ('/image', '/norange'):
            self.send_data(send_body, ranges=path == '/image')
        else:
            self.send_error(404)

    def send_data(self, send_body, ranges):
        body = DATA
        match = re.fullmatch(r'bytes=(\d+)-(\d*)',
                             self.headers.get('Range', ''))
        if ranges and match:
            start = int(match.group(1))
            end = int(match.group(2) or len(DATA) - 1)
            if start >= len(DATA):
                self.send_response(416)
                self.send_header('Content-Range', f'bytes */{len(DATA)}')
                self.end_headers()
                return
            body = DATA[start:end + 1]
            self.send_response(206)
            self.send_header('Content-Range',
                             f'bytes {start}-{start + len(body) - 1}'
                             f'/{len(DATA)}')
        else:
            self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


@pytest.fixture
def no_env_proxies(monkeypatch):
    # Proxies from the environment would send 127.0.0.1 elsewhere.
    for name in ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def start_server(ssl_context=None):
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), ImageServer)
    server.daemon_threads = True
    if ssl_context:
        server.socket = ssl_context.wrap_socket(server.socket,
                                                server_side=True)
    # A short poll interval keeps shutdown() quick.
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    return server, thread


def stop_server(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def web_server(no_env_proxies):
    REQUESTS_SEEN.clear()
    server, thread = start_server()
    yield f'http://127.0.0.1:{server.server_address[1]}'
    stop_server(server, thread)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_http_get_streams_the_whole_object(stores, web_server):
    iterator, total_size = store.get_from_backend(f'{web_server}/image',
                                                  chunk_size=1000)
    chunks = list(iterator)
    assert b''.join(chunks) == DATA
    assert total_size == len(DATA)
    assert max(len(chunk) for chunk in chunks) <= 1000
    [(_path, headers)] = REQUESTS_SEEN
    assert 'Range' not in headers


@pytest.mark.parametrize('offset, length, expected_range', [
    (100, None, 'bytes=100-'),
    (100, 1000, 'bytes=100-1099'),
    (0, 10, 'bytes=0-9'),
])
def test_http_get_asks_for_a_range(stores, web_server, offset, length,
                                   expected_range):
    data, total_size = read_all(f'{web_server}/image', offset=offset,
                                length=length)

    end = None if length is None else offset + length
    assert data == DATA[offset:end]
    assert total_size == len(DATA)
    [(_path, headers)] = REQUESTS_SEEN
    assert headers['Range'] == expected_range


@pytest.mark.parametrize('offset, length', [(100, None), (5000, 3000),
                                            (0, 0)])
def test_http_get_slices_when_the_server_ignores_ranges(stores, web_server,
                                                        offset, length):
    data, total_size = read_all(f'{web_server}/norange', offset=offset,
                                length=length, chunk_size=1000)
    end = None if length is None else offset + length
    assert data == DATA[offset:end]
    assert total_size == len(DATA)


def test_http_range_past_the_end_is_not_satisfiable(stores, web_server):
    with pytest.raises(exception.RangeNotSatisfiable):
        store.get_from_backend(f'{web_server}/image', offset=len(DATA))


def test_http_follows_redirects(stores, web_server):
    assert read_all(f'{web_server}/old') == (DATA, len(DATA))
    assert store.get_size_from_backend(f'{web_server}/old') == len(DATA)
    paths = [path for path, _headers in REQUESTS_SEEN]
    assert paths == ['/old', '/image', '/old', '/image']


def test_http_get_size_uses_head(stores, web_server):
    assert store.get_size_from_backend(f'{web_server}/image') == len(DATA)
    assert len(REQUESTS_SEEN) == 1


def test_http_missing_object_is_image_data_not_found(stores, web_server):
    with pytest.raises(exception.ImageDataNotFound):
        store.get_from_backend(f'{web_server}/missing')
    with pytest.raises(exception.ImageDataNotFound):
        store.get_size_from_backend(f'{web_server}/missing')


def test_http_server_error_is_store_unavailable(stores, web_server):
    with pytest.raises(exception.StoreUnavailable, match='500'):
        store.get_from_backend(f'{web_server}/broken')


def test_http_connection_refused_is_store_unavailable(stores,
                                                      no_env_proxies):
    uri = f'http://127.0.0.1:{free_port()}/image'
    with pytest.raises(exception.StoreUnavailable):
        store.get_from_backend(uri)
    with pytest.raises(exception.StoreUnavailable):
        store.get_size_from_backend(uri)


def test_http_timeout_is_store_unavailable(stores, web_server, set_option):
    set_option('http_store_timeout', 0.3)
    store.create_stores()
    started = time.monotonic()
    with pytest.raises(exception.StoreUnavailable):
        store.get_from_backend(f'{web_server}/slow')
    assert time.monotonic() - started < 1.5


def test_http_credentials_stay_out_of_messages(stores, web_server):
    uri = web_server.replace('http://', 'http://user:secret@') + '/broken'
    with pytest.raises(exception.StoreUnavailable) as raised:
        store.get_from_backend(uri)
    assert 'secret' not in str(raised.value)


def test_http_iterator_releases_the_connection(stores, web_server,
                                               monkeypatch):
    closed = []

    class RecordingSession(requests.Session):
        def close(self):
            closed.append(self)
            super().close()

    monkeypatch.setattr(http_store.requests, 'Session', RecordingSession)

    iterator, _total = store.get_from_backend(f'{web_server}/image',
                                              chunk_size=1000)
    next(iterator)
    assert closed == []
    iterator.close()
    assert len(closed) == 1

    iterator, _total = store.get_from_backend(f'{web_server}/image')
    list(iterator)
    assert len(closed) == 2


def test_http_store_is_read_only(stores, web_server, set_option):
    with pytest.raises(exception.StoreDeleteNotSupported):
        store.delete_from_backend(f'{web_server}/image')

    set_option('default_store', 'http')
    store.create_stores()
    with pytest.raises(exception.StoreAddDisabled):
        store.add_to_backend(IMAGE_ID, [b'data'])


def test_http_proxy_information_is_used(stores, web_server, set_option):
    set_option('http_proxy_information', {'http': web_server})
    store.create_stores()

    data, _total = read_all('http://images.example.invalid/image')

    assert data == DATA
    [(requested, _headers)] = REQUESTS_SEEN
    assert requested == 'http://images.example.invalid/image'


@pytest.fixture
def tls_server(tmp_path, no_env_proxies):
    """An https server with a self-signed certificate for 127.0.0.1."""
    x509 = pytest.importorskip('cryptography.x509')
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME,
                                         '127.0.0.1')])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                       critical=True)
        .sign(key, hashes.SHA256()))
    cert_file = tmp_path / 'cert.pem'
    key_file = tmp_path / 'key.pem'
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    REQUESTS_SEEN.clear()
    server, thread = start_server(context)
    yield f'https://127.0.0.1:{server.server_address[1]}', str(cert_file)
    stop_server(server, thread)


def test_https_verifies_certificates_by_default(stores, tls_server):
    url, _cert_file = tls_server
    with pytest.raises(exception.StoreUnavailable):
        store.get_from_backend(f'{url}/image')


def test_https_with_ca_certificates_file(stores, tls_server, set_option):
    url, cert_file = tls_server
    set_option('https_ca_certificates_file', cert_file)
    store.create_stores()
    assert read_all(f'{url}/image', offset=10) == (DATA[10:], len(DATA))


@pytest.mark.filterwarnings(
    'ignore::urllib3.exceptions.InsecureRequestWarning')
def test_https_insecure_skips_verification(stores, tls_server, set_option):
    url, _cert_file = tls_server
    set_option('https_insecure', True)
    store.create_stores()
    assert store.get_size_from_backend(f'{url}/image') == len(DATA)


# --- writes around the page cache -------------------------------------------

BUFFER = filesystem.DIRECT_BUFFER_BYTES
ALIGN = filesystem.DIRECT_ALIGNMENT


@pytest.mark.parametrize('sizes', [
    [0], [1], [ALIGN - 1], [ALIGN], [ALIGN + 1], [BUFFER], [BUFFER + 1],
    [BUFFER - 1, 2], [3, BUFFER * 2, 5, ALIGN * 7 + 13]])
def test_every_size_is_stored_exactly(datadir, set_option, sizes):
    set_option('filesystem_store_direct_io', True)
    store.create_stores()
    stores = datadir
    chunks = [os.urandom(size) for size in sizes]
    uri, written, _ = store.add_to_backend(IMAGE_ID, chunks)
    data = b''.join(chunks)
    assert written == len(data)
    assert (stores / IMAGE_ID).read_bytes() == data


def test_a_filesystem_without_direct_io_is_written_normally(
        datadir, set_option, monkeypatch):
    set_option('filesystem_store_direct_io', True)
    store.create_stores()
    stores = datadir
    # Some filesystems refuse O_DIRECT with EINVAL: the data is then
    # written the usual way.
    real_open = os.open
    direct_refused = []

    def open_without_direct_io(path, flags, *args, **kwargs):
        if flags & getattr(os, 'O_DIRECT', 0):
            direct_refused.append(path)
            raise OSError(errno.EINVAL, 'Invalid argument')
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, 'open', open_without_direct_io)
    data = os.urandom(BUFFER + 17)
    store.add_to_backend(IMAGE_ID, [data[:5], data[5:]])
    assert direct_refused
    assert (stores / IMAGE_ID).read_bytes() == data


def _open_flags(fd):
    with open(f'/proc/self/fdinfo/{fd}') as fdinfo:
        return int(fdinfo.read().split('flags:')[1].split()[0], 8)


@pytest.mark.parametrize('direct_io', [True, False])
def test_direct_io_only_when_configured(tmp_path, direct_io):
    writer = filesystem._open_writer(str(tmp_path / 'image.partial'),
                                     direct_io)
    try:
        flags = _open_flags(writer.fd)
        if not direct_io:
            assert type(writer) is filesystem._FileWriter
            assert not flags & os.O_DIRECT
        elif isinstance(writer, filesystem._DirectWriter):
            assert flags & os.O_DIRECT
        else:  # a filesystem that refuses O_DIRECT
            assert not flags & os.O_DIRECT
    finally:
        writer.close()


@pytest.mark.parametrize('sizes', [[0], [1], [BUFFER + 1, 7]])
def test_plain_writes_store_every_size_exactly(stores, sizes):
    chunks = [os.urandom(size) for size in sizes]
    store.add_to_backend(IMAGE_ID, chunks)
    assert (stores / IMAGE_ID).read_bytes() == b''.join(chunks)
