"""The registry: the configured drivers by backend id and by URI scheme.

`glance.store.create_stores()` builds a Registry whole from the
configuration and then publishes it with one assignment. A Registry never
changes after it is built, so a request that picked it up keeps a
consistent view (drivers, default, schemes) while a reload publishes the
next one.

Several backends may share a type and so a scheme (upstream's
`enabled_backends = fast:file, slow:file`). A location found by its URI
alone goes to the default backend when that handles the scheme, else to
the first configured one that does; callers that know the location's
backend id (upstream keeps it in the location's metadata as `store`)
pass it as `backend`.
"""
import types

from glance.common import exception
from glance.store import location

# Location URI schemes that users may not point images at: file:// would
# give them the API server's own files.
RESTRICTED_SCHEMES = frozenset(['file'])


class Registry:
    """Backend id -> configured driver; scheme -> (driver, location class).

    `backends` maps backend ids to configured drivers, in configuration
    order; `default_backend` is the id new image data goes to (None: no
    store can take new data, as before create_stores() has run).
    """

    def __init__(self, backends=None, default_backend=None):
        backends = dict(backends or {})
        self.backends = types.MappingProxyType(backends)
        self.default_backend = default_backend
        self._default = (None if default_backend is None
                         else backends[default_backend])
        schemes = {}
        for backend_id, driver in backends.items():
            entry = (backend_id, driver, driver.LOCATION_CLASS)
            for scheme in driver.SCHEMES:
                entries = schemes.setdefault(scheme, [])
                if backend_id == default_backend:
                    entries.insert(0, entry)
                else:
                    entries.append(entry)
        # scheme -> ((backend id, driver, location class), ...), the
        # backend that takes a location given by its URI alone first.
        self._schemes = {scheme: tuple(entries)
                         for scheme, entries in schemes.items()}

    def __repr__(self):
        return (f'<Registry backends={list(self.backends)} '
                f'default={self.default_backend}>')

    # Lookups

    def driver(self, backend_id):
        """The driver of `backend_id`; UnknownScheme when there is none
        (upstream's error for an unknown store identifier)."""
        try:
            return self.backends[backend_id]
        except KeyError:
            raise exception.UnknownScheme(
                f'Store for identifier {backend_id} not found')

    def known_schemes(self):
        """The URI schemes some backend handles, in configuration order."""
        return tuple(self._schemes)

    def locate(self, uri, backend=None):
        """(driver, parsed location) for `uri`, from the backend `backend`
        or, when None, from the one that handles its scheme.

        Raises UnknownScheme when no backend (or not `backend`) handles
        the scheme, Invalid when the URI is malformed for its driver.
        """
        scheme = location.scheme_of(uri)
        entries = self._schemes.get(scheme, ())
        for backend_id, driver, location_class in entries:
            if backend is None or backend == backend_id:
                return driver, location_class(uri)
        raise exception.UnknownScheme(
            scheme=scheme if backend is None or not entries else backend)

    def validate_location(self, uri):
        """The parsed location of `uri`; UnknownScheme or Invalid."""
        return self.locate(uri)[1]

    def is_external_location_allowed(self, uri):
        """Whether users may set `uri` as an image location themselves."""
        if location.scheme_of(uri) in RESTRICTED_SCHEMES:
            return False
        try:
            self.locate(uri)
        except (exception.UnknownScheme, exception.Invalid):
            return False
        return True

    # Data

    def get(self, uri, offset=0, length=None, chunk_size=None,
            backend=None):
        """Stream the image data at `uri`.

        Returns (iterator, total_size): the iterator yields bytes from
        `offset` for `length` bytes (or to the end) and closes its file or
        connection when exhausted or when its close() is called.
        total_size is the size of the whole object (not of the slice), or
        None if the store cannot say. Raises ImageDataNotFound,
        UnknownScheme, Invalid, StoreUnavailable.
        """
        if offset < 0 or (length is not None and length < 0):
            raise exception.Invalid('Offset and length cannot be negative.')
        driver, store_location = self.locate(uri, backend)
        return driver.get(store_location, offset=offset, length=length,
                          chunk_size=chunk_size)

    def get_size(self, uri, backend=None):
        """The size in bytes of the image data at `uri` (0 if unknown)."""
        driver, store_location = self.locate(uri, backend)
        return driver.get_size(store_location)

    def delete(self, uri, backend=None):
        """Delete the image data at `uri`.

        Raises ImageDataNotFound, StoreDeleteNotSupported, UnknownScheme.
        """
        driver, store_location = self.locate(uri, backend)
        driver.delete(store_location)

    def _add_driver(self, backend):
        if backend is not None:
            return self.driver(backend)
        if self._default is not None:
            return self._default
        raise exception.StoreUnavailable(
            'No store is configured: create_stores() has not run.')

    def leftovers(self, image_id, attempt, backend=None):
        """The location URIs where add(image_id, ..., attempt) may leave
        data if its process dies mid-way (see Store.leftovers)."""
        return self._add_driver(backend).leftovers(image_id, attempt)

    def stray_partials(self):
        """The unfinished data every backend holds (Store.stray_partials)."""
        found = []
        for driver in self.backends.values():
            found.extend(driver.stray_partials())
        return found

    def add(self, image_id, data, size=None, backend=None, attempt=None):
        """Write the byte chunks of `data` as `image_id` to `backend`, or
        to the default backend when None.

        Returns (location_uri, bytes_written, metadata). An exception
        raised while iterating `data` propagates unchanged after the
        partial data is removed. Checking the size and checksum is the
        caller's business; `size` is only a hint (the filesystem store
        refuses early what cannot fit). Raises Duplicate, StorageFull,
        StorageWriteDenied, StoreAddDisabled, UnknownScheme (no such
        backend), StoreUnavailable (no default backend). `attempt` names
        the write's unfinished data (see Store.leftovers).
        """
        return self._add_driver(backend).add(image_id, data, size=size,
                                             attempt=attempt)
