"""The base class every store driver derives from.

A driver knows bytes and locations only: it stores an iterable of byte
chunks under an image id, and streams, measures or deletes the bytes at a
location. It never sees image metadata.
"""
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

    def __init__(self, conf, backend_id=None, group='glance_store'):
        """A driver for the backend `backend_id` (its type name when
        omitted), reading its options from the section `group`."""
        self.conf = conf
        self.backend_id = backend_id or self.NAME
        self.group = group

    @property
    def store_conf(self):
        return self.conf[self.group]

    def configure(self):
        """Check the configuration and prepare the backend.

        Raises BadStoreConfiguration when the store cannot be used.
        """

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
