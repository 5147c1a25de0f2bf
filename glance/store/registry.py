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

from oslo_log import log as logging

from glance.common import exception
from glance.store import location

# Location URI schemes that users may not point images at: file:// would
# give them the API server's own files, swift+config:// the credentials of
# the operator's Swift accounts (upstream refuses the same three).
RESTRICTED_SCHEMES = frozenset(['file', 'filesystem', 'swift+config'])

LOG = logging.getLogger(__name__)


class Registry:
    """Backend id -> configured driver; scheme -> (driver, location class).

    `backends` maps backend ids to configured drivers, in configuration
    order; `default_backend` is the id new image data goes to (None: no
    store can take new data, as before create_stores() has run).
    `multistore`: configured by enabled_backends, where locations record
    their backend id (metadata `store`) and users may name backends;
    `reserved`: the stores of the service's own use there (staging,
    tasks), by name, never holding image data.
    """

    def __init__(self, backends=None, default_backend=None, reserved=None,
                 multistore=False):
        backends = dict(backends or {})
        self.backends = types.MappingProxyType(backends)
        self.default_backend = default_backend
        self.multistore = multistore
        self.reserved = types.MappingProxyType(dict(reserved or {}))
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
        if backend is None:
            # The backend whose locations look like this one, else the
            # default or first one of its scheme.
            entries = sorted(entries, key=lambda e: not e[1].owns(uri))
        for backend_id, driver, location_class in entries:
            if backend is None or backend == backend_id:
                return driver, location_class(uri)
        raise exception.UnknownScheme(
            scheme=scheme if backend is None or not entries else backend)

    def backend_of(self, uri):
        """The id of the backend a location URI alone leads to, or None."""
        try:
            return self.locate(uri)[0].backend_id
        except (exception.UnknownScheme, exception.Invalid):
            return None

    def weight(self, backend_id):
        driver = self.backends.get(backend_id)
        return getattr(driver, 'weight', 0)

    def ordered_locations(self, locations):
        """Copies of an image's locations (dicts with `url` and `metadata`)
        in the order downloads try them: by the weight of their backend,
        highest first (a stable sort). In the multi-store mode, one that
        does not record its backend (`store`) gets the one its URI leads
        to, as upstream fills it in."""
        ordered = []
        for loc in locations:
            loc = dict(loc, metadata=dict(loc.get('metadata') or {}))
            if self.multistore and 'store' not in loc['metadata']:
                backend_id = self.backend_of(loc['url'])
                if backend_id is not None:
                    loc['metadata']['store'] = backend_id
            ordered.append(loc)
        if self.multistore:
            ordered.sort(key=lambda loc: -self.weight(
                loc['metadata'].get('store')))
        return ordered

    def owner_of(self, uri):
        """The id of the backend whose locations look like `uri` (as
        upstream matches a store's URL prefix), or None."""
        for backend_id, driver, _cls in self._schemes.get(
                location.scheme_of(uri), ()):
            if driver.owns(uri):
                return backend_id
        return None

    def backend_of_location(self, loc):
        """The backend id recorded with a location, if it is configured."""
        backend_id = (loc.get('metadata') or {}).get('store')
        return backend_id if backend_id in self.backends else None

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

    def get_first(self, locations, offset=0, length=None, chunk_size=None):
        """Stream the data of the first of `locations` (dicts with `url`
        and `metadata`, in the order to try: see ordered_locations) whose
        store serves it; one failing (data missing, store down) passes to
        the next. Returns as get(); raises the last one's error when none
        serves."""
        error = exception.ImageDataNotFound()
        for loc in locations:
            try:
                return self.get(loc['url'], offset, length, chunk_size,
                                backend=self.backend_of_location(loc))
            except exception.RangeNotSatisfiable:
                raise
            except (exception.GlanceException, OSError) as failure:
                LOG.warning('Could not read image data at %s: %s',
                            loc['url'], failure)
                error = failure
        raise error

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
        driver = self._add_driver(backend)
        if driver.add_disabled_reason is not None:
            raise exception.StoreAddDisabled()
        uri, written, metadata = driver.add(image_id, data, size=size,
                                            attempt=attempt)
        if self.multistore:
            metadata = dict(metadata, store=driver.backend_id)
        return uri, written, metadata

    # What the API shows of the stores

    def stores_info(self, detail=False):
        """The backends as GET /v2/info/stores[/detail] lists them."""
        listed = []
        for backend_id, driver in self.backends.items():
            info = {'id': backend_id}
            if getattr(driver, 'description', None):
                info['description'] = driver.description
            if backend_id == self.default_backend:
                info['default'] = 'true'
            if not driver.WRITABLE:
                info['read-only'] = 'true'
            if detail:
                info['type'] = driver.NAME
                info['weight'] = getattr(driver, 'weight', 0)
                info['properties'] = driver.properties()
            listed.append(info)
        return listed
