"""The filesystem store: one file per image in a local data directory.

Locations look like file:///var/lib/glance/images/<image_id>.

A write goes to a hidden temporary file in the data directory that is
flushed and fsynced, then given its final name and the directory fsynced,
so a crash or a failed upload never leaves a partial file under the name
readers look for.
"""
import ctypes
import errno
import json
import mmap
import os
import secrets
import stat

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import offload
from glance.store import driver
from glance.store import location

LOG = logging.getLogger(__name__)

filesystem_opts = [
    cfg.StrOpt('filesystem_store_datadir',
               default='$state_path/images/',
               help='Directory where the filesystem store keeps image '
                    'files. It is created, with its parents, when missing.'),
    cfg.MultiStrOpt('filesystem_store_datadirs',
                    help='Several data directories, each written '
                         '"path:priority" (the priority, an integer, may '
                         'be left out: 0). New images go to the directory '
                         'of highest priority, and among equals to the one '
                         'with most free space. Set either this or '
                         'filesystem_store_datadir, not both.'),
    cfg.StrOpt('filesystem_store_metadata_file',
               help='A JSON file describing the data directories: an '
                    'object, or a list of objects, each with "id" and '
                    '"mountpoint" (strings). The entry whose mountpoint '
                    'contains an image file becomes the metadata of its '
                    'location.'),
    cfg.IntOpt('filesystem_store_file_perm',
               default=0, min=0,
               help='Permissions of new image files, written as octal '
                    'digits (for example 640). 0 keeps the permissions the '
                    'process umask gives. The owner must be able to read; '
                    'group or other permissions also make the data '
                    'directories searchable (x) by group or other.'),
    cfg.BoolOpt('filesystem_store_direct_io', default=False,
                help='Write image files around the page cache (O_DIRECT), '
                     'where the filesystem allows it. Uploads then cost '
                     'less CPU (on virtual machines whose memory is mapped '
                     'in on first use, much less) and leave the page cache '
                     'to other data, but a freshly uploaded image is read '
                     'from the disk when it is first downloaded. Off (the '
                     'default), recent images stay in memory and their '
                     'downloads go at memory speed.'),
    cfg.IntOpt('filesystem_store_chunk_size',
               default=1024 * 1024, min=1,
               help='Size in bytes of the chunks read from image files '
                    'when serving image data.'),
]

PARTIAL_SUFFIX = '.partial'
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_WRITE_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_NOT_FOUND = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
# What link() says on filesystems without hard links (FAT, some network
# and FUSE filesystems).
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV)


class FileLocation(location.StoreLocation):
    """file:///absolute/path; `path` is the file's absolute path."""

    def parse_uri(self, uri):
        if self.scheme != 'file':
            raise exception.Invalid(f'Not a file location: {uri}')
        path = uri[len('file://'):]
        if not path.startswith('/'):
            raise exception.Invalid(
                f'A file location needs an absolute path (file:///...): {uri}')
        if '\0' in path or '..' in path.split('/'):
            raise exception.Invalid(f'Invalid file location: {uri}')
        self.path = path


def _raise_write_error(error):
    """Re-raise an OSError met while writing as the project's exception."""
    if error.errno in _DISK_FULL:
        raise exception.StorageFull() from error
    if error.errno in _WRITE_DENIED:
        raise exception.StorageWriteDenied() from error
    raise error


def _writing(function, *args):
    """function(*args), with an OSError raised as the project's error."""
    try:
        return function(*args)
    except OSError as error:
        _raise_write_error(error)


def _wait_quietly(writes):
    # Only called when the upload already failed: the first error stands.
    try:
        writes.wait()
    except Exception:
        pass


def _remove_quietly(path):
    """Best-effort removal of a file an error path leaves behind."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        LOG.warning('Could not remove %s: %s', path, error)


# With filesystem_store_direct_io, image files are written around the
# page cache (O_DIRECT) where the filesystem allows it: an upload then
# costs the machine no page-cache memory to fill and later reclaim (on
# virtual machines, filling fresh memory alone can cost more CPU than
# hashing the data), and evicts nothing other requests need. Direct
# writes must be aligned, so data goes through an aligned buffer.
DIRECT_ALIGNMENT = 4096
DIRECT_BUFFER_BYTES = 4 * 1024 * 1024


def _open_writer(path, direct_io=True):
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    if direct_io and hasattr(os, 'O_DIRECT'):
        try:
            # Mode 0o666 so the umask decides, unless file_perm says.
            return _DirectWriter(os.open(path, flags | os.O_DIRECT, 0o666))
        except OSError as error:
            if error.errno != errno.EINVAL:  # EINVAL: no O_DIRECT here
                _raise_write_error(error)
    try:
        return _FileWriter(os.open(path, flags, 0o666))
    except OSError as error:
        _raise_write_error(error)


def _find_sync_file_range():
    """libc's sync_file_range(2) (Linux), or None where there is none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                         ctypes.c_uint)
    return function


_sync_file_range = _find_sync_file_range()
SYNC_FILE_RANGE_WRITE = 2
# Written data is sent on its way to the disk every this many bytes, so
# the fsync that ends an upload has only the last few to wait for.
WRITEBACK_BYTES = 32 * 1024 * 1024


class _FileWriter:
    """Writes straight to a file descriptor."""

    def __init__(self, fd):
        self.fd = fd
        self.size = 0
        self.written_back = 0

    def write(self, data):
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            self.size += written
            view = view[written:]
        if _sync_file_range and \
                self.size - self.written_back >= WRITEBACK_BYTES:
            # Starts the writeback without waiting for it (ctypes lets
            # other threads run meanwhile); the pages stay cached.
            _sync_file_range(self.fd, self.written_back,
                             self.size - self.written_back,
                             SYNC_FILE_RANGE_WRITE)
            self.written_back = self.size

    def finish(self):
        """Write what is pending; returns the size of the file."""
        return self.size

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _DirectWriter(_FileWriter):
    """Writes whole aligned blocks from an aligned (mmap) buffer; the tail
    is padded to a block and the file truncated to its true size."""

    def __init__(self, fd):
        super().__init__(fd)
        self.buffer = mmap.mmap(-1, DIRECT_BUFFER_BYTES)
        self.view = memoryview(self.buffer)
        self.filled = 0

    def write(self, data):
        data = memoryview(data)
        while data:
            count = min(len(data), DIRECT_BUFFER_BYTES - self.filled)
            self.view[self.filled:self.filled + count] = data[:count]
            self.filled += count
            data = data[count:]
            if self.filled == DIRECT_BUFFER_BYTES:
                self._write_buffer(DIRECT_BUFFER_BYTES)

    def _write_buffer(self, length):
        super().write(self.view[:length])
        self.filled = 0

    def finish(self):
        true_size = self.size + self.filled
        if self.filled:
            padded = -(-self.filled // DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT
            self.view[self.filled:padded] = bytes(padded - self.filled)
            self._write_buffer(padded)
            os.ftruncate(self.fd, true_size)
            self.size = true_size
        return true_size

    def close(self):
        super().close()
        # The buffer goes with its last reference: a view an exception's
        # traceback still holds would make closing it fail.
        self.view = self.buffer = None


def _read_chunks(image_file, length, chunk_size):
    read = image_file.read
    if length is None:
        while chunk := read(chunk_size):
            yield chunk
        return
    remaining = length
    while remaining > 0:
        chunk = read(min(chunk_size, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _free_bytes(path):
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def _fsync_directory(path):
    # Persists the directory entry of the renamed file.
    dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    except OSError as error:
        # Some filesystems cannot fsync a directory (EINVAL); there is
        # nothing more to do on those.
        if error.errno != errno.EINVAL:
            raise
    finally:
        os.close(dir_fd)


class Store(driver.Store):
    NAME = 'file'
    SCHEMES = ('file',)
    LOCATION_CLASS = FileLocation
    OPTS = filesystem_opts

    # Set by configure_add(); None while the store cannot take new data.
    datadir = None

    def configure_read(self):
        store_conf = self.store_conf
        self.chunk_size = store_conf.filesystem_store_chunk_size
        self.direct_io = store_conf.filesystem_store_direct_io
        # [(path, priority)], highest priority first.
        self.datadirs = []
        self.location_metadata = {}
        self.file_mode = None

    def configure_add(self):
        store_conf = self.store_conf
        datadirs = self._configured_datadirs(store_conf)
        self.file_mode = self._file_mode(store_conf.filesystem_store_file_perm)
        for path, _priority in datadirs:
            self._prepare_datadir(path)
        self.location_metadata = self._read_metadata_file(
            store_conf.filesystem_store_metadata_file)
        self.datadirs = datadirs
        self.datadir = datadirs[0][0]

    def _configured_datadirs(self, store_conf):
        single = store_conf.filesystem_store_datadir
        several = [entry for entry in store_conf.filesystem_store_datadirs
                   or () if entry.strip()]
        if several and single and self._datadir_set_here(store_conf):
            raise self.bad_configuration(
                "Specify either 'filesystem_store_datadir' or "
                "'filesystem_store_datadirs' option")
        if not several:
            if not single:
                raise self.bad_configuration(
                    "Specify at least 'filesystem_store_datadir' or "
                    "'filesystem_store_datadirs' option")
            return [(os.path.abspath(single), 0)]
        by_path = {}
        for entry in several:
            path, priority = self._path_and_priority(entry)
            if path in by_path:
                raise self.bad_configuration(
                    f'Directory {path} is specified more than once in '
                    'filesystem_store_datadirs')
            by_path[path] = priority
        # Stable: equal priorities keep the configured order.
        return sorted(by_path.items(), key=lambda item: -item[1])

    def _datadir_set_here(self, store_conf):
        """Whether filesystem_store_datadir was written in a configuration
        file (or set), rather than left at its default."""
        groups = ([self.group] if self.group == 'glance_store'
                  else [self.group, driver.BACKEND_DEFAULTS])
        for group in groups:
            try:
                location = self.conf.get_location(
                    'filesystem_store_datadir', group)
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                continue
            if location is not None and \
                    location.location != cfg.Locations.opt_default:
                return True
        return False

    def _path_and_priority(self, entry):
        path, separator, priority = entry.strip().rpartition(':')
        if not separator:
            return os.path.abspath(entry.strip()), 0
        try:
            return os.path.abspath(path.strip()), int(priority)
        except ValueError:
            raise self.bad_configuration(
                f'Invalid priority value {priority} in '
                f'filesystem_store_datadirs entry {entry}')

    def _prepare_datadir(self, path):
        try:
            os.makedirs(path, exist_ok=True)
        except FileExistsError:
            raise self.bad_configuration(
                f'the data directory {path} exists but is not a directory')
        except OSError as error:
            raise self.bad_configuration(
                f'cannot create the data directory {path}: '
                f'{error.strerror}')
        if not os.access(path, os.W_OK | os.X_OK):
            raise self.bad_configuration(
                f'the data directory {path} is not writable')
        if self.file_mode is not None:
            self._let_readers_search(path)

    def _let_readers_search(self, path):
        # Files readable by group or other are of no use to them in a
        # directory they cannot search.
        wanted = 0
        if self.file_mode & stat.S_IRWXG:
            wanted |= stat.S_IXGRP
        if self.file_mode & stat.S_IRWXO:
            wanted |= stat.S_IXOTH
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if wanted and mode & wanted != wanted:
            try:
                os.chmod(path, mode | wanted)
            except OSError as error:
                raise self.bad_configuration(
                    f'cannot change the mode of {path}: {error.strerror}')

    def _file_mode(self, perm):
        if not perm:
            return None
        # Configuration files write the mode as they would for chmod (640),
        # which oslo.config reads as a decimal number.
        try:
            mode = int(str(perm), 8)
        except ValueError:
            mode = None
        if mode is None or mode > 0o777:
            raise self.bad_configuration(
                'filesystem_store_file_perm must be a permission in octal '
                f'digits such as 640, not {perm}')
        if not mode & stat.S_IRUSR:
            # The service itself must be able to read what it wrote.
            raise self.bad_configuration(
                "Invalid 'filesystem_store_file_perm' option.")
        return mode

    def _read_metadata_file(self, path):
        """The location metadata the file describes: a dict, or a list of
        dicts with 'id' and 'mountpoint'."""
        if not path:
            return {}
        try:
            with open(path, 'rb') as metadata_file:
                metadata = json.load(metadata_file)
        except (OSError, ValueError) as error:
            raise self.bad_configuration(
                f'The JSON in the metadata file {path} could not be '
                f'loaded: {error}')
        entries = metadata if isinstance(metadata, list) else [metadata]
        for entry in entries:
            if not isinstance(entry, dict) or not all(
                    isinstance(entry.get(key), str)
                    for key in ('id', 'mountpoint')):
                raise self.bad_configuration(
                    f'The metadata file {path} must hold an object, or a '
                    'list of objects, each with the strings "id" and '
                    '"mountpoint"')
        return metadata

    def _metadata_for(self, path):
        metadata = self.location_metadata
        if isinstance(metadata, dict):
            return dict(metadata)
        for entry in metadata:
            if path.startswith(entry['mountpoint']):
                return dict(entry)
        return {}

    def owns(self, uri):
        path = uri[len('file://'):] if uri.startswith('file://') else None
        return path is not None and any(
            path.startswith(datadir.rstrip('/') + '/')
            for datadir, _priority in self.datadirs)

    def properties(self):
        return {'data_dir': self.datadir, 'chunk_size': self.chunk_size,
                'thin_provisioning': False}

    def _check_image_id(self, image_id):
        # Image ids become file names: nothing that could escape the data
        # directory or collide with the hidden temporary files.
        if (not isinstance(image_id, str) or not image_id
                or image_id.startswith('.') or '/' in image_id
                or '\0' in image_id):
            raise exception.Invalid(f'Invalid image id {image_id!r}')

    # Reading

    def get(self, location, offset=0, length=None, chunk_size=None):
        try:
            # Closed by the ChunkIterator, after this function returns.
            image_file = open(location.path, 'rb', buffering=0)  # noqa: SIM115
        except _NOT_FOUND:
            raise exception.ImageDataNotFound()
        try:
            total_size = os.fstat(image_file.fileno()).st_size
            # Images are read front to back: a larger read-ahead.
            os.posix_fadvise(image_file.fileno(), 0, 0,
                             os.POSIX_FADV_SEQUENTIAL)
            if offset:
                image_file.seek(offset)
        except BaseException:
            image_file.close()
            raise
        chunk_size = chunk_size or self.chunk_size
        chunks = _read_chunks(image_file, length, chunk_size)
        available = max(total_size - offset, 0)
        length = available if length is None else min(length, available)
        return (driver.FileChunks(chunks, image_file, offset, length),
                total_size)

    def get_size(self, location):
        try:
            return os.stat(location.path).st_size
        except _NOT_FOUND:
            raise exception.ImageDataNotFound()

    # Writing

    def _partial_path(self, datadir, image_id, attempt):
        # Hidden and suffixed: no reader takes it for an image, and a crash
        # leaves something recognisable to clean up.
        if not attempt.isalnum():
            raise exception.Invalid(f'Invalid upload attempt {attempt!r}')
        return os.path.join(datadir, f'.{image_id}.{attempt}{PARTIAL_SUFFIX}')

    def leftovers(self, image_id, attempt):
        # Any of the directories: which one add() picks depends on the
        # free space it finds then.
        self._check_image_id(image_id)
        found = []
        for datadir, _priority in self.datadirs:
            found += ['file://' + self._partial_path(datadir, image_id,
                                                     attempt),
                      'file://' + os.path.join(datadir, image_id)]
        return found

    def stray_partials(self):
        found = []
        for datadir, _priority in self.datadirs:
            try:
                with os.scandir(datadir) as entries:
                    found += ['file://' + entry.path for entry in entries
                              if entry.name.startswith('.')
                              and entry.name.endswith(PARTIAL_SUFFIX)]
            except OSError as error:
                LOG.warning('Could not list %s: %s', datadir, error)
        return found

    def add(self, image_id, data, size=None, attempt=None):
        self._check_image_id(image_id)
        if any(os.path.lexists(os.path.join(datadir, image_id))
               for datadir, _priority in self.datadirs):
            raise self._duplicate(image_id)
        datadir = self._choose_datadir(size)
        final_path = os.path.join(datadir, image_id)

        temp_path = self._partial_path(datadir, image_id,
                                       attempt or secrets.token_hex(8))
        writer = _open_writer(temp_path, self.direct_io)
        # The chunks are written on other threads, in order, while the
        # next ones are read.
        writes = offload.Chain()
        try:
            for chunk in data:
                _writing(writes.call, writer.write, chunk)
            _writing(writes.wait)
            bytes_written = self._finish_file(writer)
            self._publish(image_id, datadir, temp_path, final_path)
        except BaseException:
            # Whatever failed (the disk, or the caller's iterator refusing
            # more data), the exception goes up as it is, once no write
            # is left to touch the file.
            _wait_quietly(writes)
            writer.close()
            _remove_quietly(temp_path)
            raise
        return ('file://' + final_path, bytes_written,
                self._metadata_for(final_path))

    def _duplicate(self, image_id):
        return exception.Duplicate(
            f'Image data for {image_id} already exists in the filesystem '
            'store')

    def _choose_datadir(self, size):
        """The directory of highest priority, and among equals the one with
        most free space, that has room for `size` bytes (when known):
        what cannot fit is refused up front, not near the end."""
        priorities = sorted({priority for _path, priority in self.datadirs},
                            reverse=True)
        for priority in priorities:
            free, datadir = max((_free_bytes(path), path)
                                for path, dir_priority in self.datadirs
                                if dir_priority == priority)
            if not size or size <= free:
                return datadir
        raise exception.StorageFull()

    def _finish_file(self, writer):
        """Make the written data durable and set its mode; returns its size."""
        try:
            bytes_written = writer.finish()
            # Before the fsync, so that the mode is as durable as the data.
            if self.file_mode is not None:
                os.fchmod(writer.fd, self.file_mode)
            os.fsync(writer.fd)
            writer.close()
        except OSError as error:
            _raise_write_error(error)
        return bytes_written

    def _publish(self, image_id, datadir, temp_path, final_path):
        """Give the finished temporary file its final name."""
        # link() fails if the name is taken, where rename() would silently
        # replace data another upload of the same image id just stored.
        try:
            os.link(temp_path, final_path)
        except FileExistsError:
            raise self._duplicate(image_id)
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                _raise_write_error(error)
            self._rename_without_link(image_id, temp_path, final_path)
        else:
            _remove_quietly(temp_path)
        try:
            _fsync_directory(datadir)
        except OSError as error:
            # The new name may not survive a crash: the upload has failed.
            _remove_quietly(final_path)
            _raise_write_error(error)

    def _rename_without_link(self, image_id, temp_path, final_path):
        if os.path.lexists(final_path):
            raise self._duplicate(image_id)
        try:
            os.rename(temp_path, final_path)
        except OSError as error:
            _raise_write_error(error)

    # Deleting

    def delete(self, location):
        try:
            os.unlink(location.path)
        except _NOT_FOUND:
            raise exception.ImageDataNotFound()
        except OSError as error:
            _raise_write_error(error)
