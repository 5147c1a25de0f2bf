"""The base class every store driver derives from.

A driver knows bytes and locations only: it stores an iterable of byte
chunks under an image id, and streams, measures or deletes the bytes at a
location. It never sees image metadata.
"""
from oslo_config import cfg

from glance.common import exception
from glance.store import location


class Store:
    """A store driver. Subclasses set the class attributes below.

    Read-only drivers only implement `get()` and `get_size()`; the
    inherited `add()` and `delete()` refuse politely.
    """

    # The driver's type name, as the `stores` and `default_store` options
    # (and upstream's `enabled_backends` values) write it.
    NAME = None
    # URI schemes whose locations this driver handles.
    SCHEMES = ()
    # Parses this driver's location URIs.
    LOCATION_CLASS = location.StoreLocation
    # The driver's options (oslo.config), under glance_store's names.
    OPTS = ()
    # Whether the driver can store new data at all.
    WRITABLE = True

    def __init__(self, conf, backend_id=None, group='glance_store'):
        """A driver for the backend `backend_id` (its type name when
        omitted), reading its options from the section `group`.

        In the single-store mode every option is in [glance_store]; in
        the multi-store mode each backend has a section of its own, where
        an option left unset takes its value from [backend_defaults].
        """
        self.conf = conf
        self.backend_id = backend_id or self.NAME
        self.group = group
        # Why new data may not be added (configure_add() failed), or None.
        self.add_disabled_reason = None

    @property
    def store_conf(self):
        if self.group == 'glance_store':
            return self.conf[self.group]
        return BackendOptions(self.conf, self.group)

    def configure(self):
        """Check the configuration and prepare the backend: reading,
        then writing (configure_add).

        Raises BadStoreConfiguration when the store cannot be used.
        """
        self.configure_read()
        if self.WRITABLE:
            self.configure_add()

    def configure_read(self):
        """Read the options reading needs. BadStoreConfiguration when the
        store cannot even be read from."""

    def configure_add(self):
        """Check and prepare what writing needs. BadStoreConfiguration
        when the store cannot take new data (the multi-store mode then
        keeps it, read-only, as upstream does)."""

    @property
    def writable(self):
        return self.WRITABLE and self.add_disabled_reason is None

    def owns(self, uri):
        """Whether `uri` is a location this backend wrote (or would
        write): how a location without a recorded backend is matched to
        one among several of the same type, as upstream matches URL
        prefixes."""
        return False

    def properties(self):
        """What GET /v2/info/stores/detail shows of this backend."""
        return {}

    def bad_configuration(self, reason):
        """The exception to raise when this store's settings are unusable."""
        return exception.BadStoreConfiguration(store_name=self.backend_id,
                                               reason=reason)

    def get(self, location, offset=0, length=None, chunk_size=None):
        """Stream the bytes at `location` (a LOCATION_CLASS instance).

        Returns (iterator, total_size): the iterator yields bytes from
        `offset` for `length` bytes (or to the end) and releases its file or
        connection once exhausted or closed; total_size is the size of the
        whole object, or None when the backend does not say.
        """
        raise NotImplementedError()

    def get_size(self, location):
        """The size in bytes of the object at `location`."""
        raise NotImplementedError()

    def add(self, image_id, data, size=None, attempt=None):
        """Write the byte chunks of `data` as the object for `image_id`.

        Returns (location_uri, bytes_written, metadata). If iterating `data`
        raises, whatever was written is removed and the exception is
        re-raised unchanged. `size`, when known, is only a hint.
        `attempt` (a token of letters and digits, or None) names the
        unfinished data, as `leftovers` says.
        """
        raise exception.StoreAddDisabled()

    def leftovers(self, image_id, attempt):
        """The location URIs where add(image_id, ..., attempt=attempt)
        may leave data if its process dies before add returns (its
        unfinished data, and the final object if it was written): what a
        sweep deletes when that upload is found dead."""
        return []

    def stray_partials(self):
        """The location URIs of all unfinished data in this backend, for
        a sweep to delete those no upload in flight claims."""
        return []

    def delete(self, location):
        """Remove the object at `location`."""
        raise exception.StoreDeleteNotSupported()


class ChunkIterator:
    """Iterates a generator of chunks and then releases what it reads from.

    `release` (closing a file or an HTTP response) runs when the chunks are
    exhausted, when reading fails, or when the consumer calls `close()`, as
    WSGI servers do with response bodies. Releasing twice is harmless.
    """

    def __init__(self, chunks, release):
        self._chunks = chunks
        self._release = release

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._chunks)
        except BaseException:
            # StopIteration included: the end of the data is the end of the
            # resource too.
            self.close()
            raise

    def close(self):
        self._chunks.close()
        self._release()


class FileChunks(ChunkIterator):
    """The chunks of a byte range of an open regular file.

    `file_range` (file, offset, length) lets a server that can hand a
    file to the kernel (sendfile) send the range without reading it
    through Python; any other consumer simply iterates.
    """

    def __init__(self, chunks, image_file, offset, length):
        super().__init__(chunks, image_file.close)
        self.file_range = (image_file, offset, length)


BACKEND_DEFAULTS = 'backend_defaults'


class BackendOptions:
    """The options of one backend in the multi-store mode: the value in
    its own section, or, when that is unset (None), the one in
    [backend_defaults], as glance_store reads them."""

    def __init__(self, conf, group):
        self._conf = conf
        self._group = group

    def __getattr__(self, name):
        value = self._conf[self._group][name]
        if value is None or value == []:  # [] is an unset multi-valued one
            try:
                value = self._conf[BACKEND_DEFAULTS][name]
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                pass
        return value

    __getitem__ = __getattr__
