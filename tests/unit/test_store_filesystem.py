"""Unit tests for the filesystem store driver
(glance.store.drivers.filesystem), through the glance.store API.

The store writes to a temporary directory.
"""
import ctypes
import errno
import mmap
import os
import stat

import pytest

from glance import store
from glance.common import exception
from glance.store.drivers import filesystem
from tests import helpers
from tests.helpers import read_all

IMAGE_ID = 'a5e2f0f4-1a7e-4d0e-9d55-0c0a1b6f1c11'
DATA = bytes(range(256)) * 40  # 10240 bytes, no two neighbours equal

pytestmark = pytest.mark.usefixtures('isolated_registry')


def image_uri(datadir, image_id=IMAGE_ID):
    return f'file://{datadir}/{image_id}'


def chunks_of(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


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
    helpers.assert_store_refuses(uri, exception.ImageDataNotFound)


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
    helpers.assert_store_refuses(uri, exception.ImageDataNotFound)


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
