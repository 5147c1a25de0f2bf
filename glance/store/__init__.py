"""The store layer: a registry of drivers that keep image bytes.

It knows bytes and locations, nothing about image metadata. Call
`create_stores()` at startup and again after a configuration reload; then
`add_to_backend()` writes to the default store, and the other functions
find the store that handles a location URI by its scheme.
"""
from oslo_config import cfg

from glance.common import exception
from glance.common.config import CONF
from glance.store import location
from glance.store.drivers import filesystem
from glance.store.drivers import http

store_opts = [
    cfg.ListOpt('stores',
                default=['file', 'http'],
                help='Store drivers to enable. "file" (or "filesystem") '
                     'keeps images in a local directory; "http" (or '
                     '"https") reads images from web servers and cannot '
                     'store new ones.'),
    cfg.StrOpt('default_store',
               default='file',
               help='The store new image data is written to. It must be '
                    'one of the enabled stores.'),
]

# Names accepted in `stores` and `default_store`, and their drivers.
STORE_CLASSES = {
    'file': filesystem.Store,
    'filesystem': filesystem.Store,
    'http': http.Store,
    'https': http.Store,
}

# Location URI schemes that users may not point images at: file:// would
# give them the API server's own files.
RESTRICTED_SCHEMES = frozenset(['file'])

# The store add_to_backend() writes to; set by create_stores().
_default_store = None


def _all_opts():
    return store_opts + filesystem.filesystem_opts + http.http_opts


def register_opts(conf):
    conf.register_opts(_all_opts(), group='glance_store')


register_opts(CONF)


def list_opts():
    return [('glance_store', _all_opts())]


def _store_class(name):
    try:
        return STORE_CLASSES[name.strip().lower()]
    except KeyError:
        raise exception.BadStoreConfiguration(
            store_name=name,
            reason='there is no such store; known stores are '
                   + ', '.join(sorted(STORE_CLASSES)))


def create_stores(conf=CONF):
    """Configure the enabled stores and register the schemes they handle.

    Running it again (after a configuration reload) replaces the stores.
    Returns the number of schemes registered. Raises BadStoreConfiguration
    when a store is unknown or unusable, or when the default store is not
    enabled; the previous stores then stay in place.
    """
    global _default_store
    register_opts(conf)
    store_conf = conf.glance_store

    enabled = []
    for name in store_conf.stores:
        store_class = _store_class(name) if name.strip() else None
        if store_class and store_class not in enabled:
            enabled.append(store_class)
    default_class = _store_class(store_conf.default_store)
    if default_class not in enabled:
        raise exception.BadStoreConfiguration(
            store_name=store_conf.default_store,
            reason='default_store is not one of the enabled stores: '
                   + ', '.join(store_conf.stores))

    schemes = {}
    default_store = None
    for store_class in enabled:
        store = store_class(conf)
        store.configure()
        for scheme in store_class.SCHEMES:
            schemes[scheme] = {'store': store,
                               'location_class': store_class.LOCATION_CLASS}
        if store_class is default_class:
            default_store = store

    # Updated in place, without an empty moment, as requests may be using
    # the map while it is rebuilt.
    scheme_map = location.SCHEME_TO_CLS_MAP
    scheme_map.update(schemes)
    for stale in set(scheme_map) - set(schemes):
        del scheme_map[stale]
    _default_store = default_store
    return len(schemes)


def get_known_schemes():
    return tuple(location.SCHEME_TO_CLS_MAP)


def get_store_from_scheme(scheme):
    """The store instance for `scheme`; UnknownScheme if none handles it."""
    try:
        return location.SCHEME_TO_CLS_MAP[scheme]['store']
    except KeyError:
        raise exception.UnknownScheme(scheme=scheme)


def get_store_from_uri(uri):
    """The store instance that handles `uri`; UnknownScheme if none."""
    return location.get_entry_for_uri(uri)['store']


def validate_location(uri):
    """Check that a store handles `uri` and that it is well formed.

    Returns the parsed location. Raises UnknownScheme or Invalid.
    """
    return location.get_location_from_uri(uri)


def validate_external_location(uri):
    """Whether users may set `uri` as an image location themselves."""
    if location.scheme_of(uri) in RESTRICTED_SCHEMES:
        return False
    try:
        validate_location(uri)
    except (exception.UnknownScheme, exception.Invalid):
        return False
    return True


def _store_and_location(uri):
    # One lookup, so the store and its location class always match even
    # while create_stores() rebuilds the map.
    entry = location.get_entry_for_uri(uri)
    return entry['store'], entry['location_class'](uri)


def get_from_backend(uri, offset=0, length=None, chunk_size=None):
    """Stream the image data at `uri`.

    Returns (iterator, total_size): the iterator yields bytes from `offset`
    for `length` bytes (or to the end) and closes its file or connection
    when exhausted or when its close() is called. total_size is the size of
    the whole object (not of the slice), or None if the store cannot say.
    Raises ImageDataNotFound, UnknownScheme, Invalid, StoreUnavailable.
    """
    if offset < 0 or (length is not None and length < 0):
        raise exception.Invalid('Offset and length cannot be negative.')
    store, store_location = _store_and_location(uri)
    return store.get(store_location, offset=offset, length=length,
                     chunk_size=chunk_size)


def get_size_from_backend(uri):
    """The size in bytes of the image data at `uri` (0 if unknown)."""
    store, store_location = _store_and_location(uri)
    return store.get_size(store_location)


def delete_from_backend(uri):
    """Delete the image data at `uri`.

    Raises ImageDataNotFound, StoreDeleteNotSupported, UnknownScheme.
    """
    store, store_location = _store_and_location(uri)
    store.delete(store_location)


def add_to_backend(image_id, data, size=None):
    """Write the byte chunks of `data` as `image_id` to the default store.

    Returns (location_uri, bytes_written, metadata). An exception raised
    while iterating `data` propagates unchanged after the partial data is
    removed. Checking the size and checksum is the caller's business;
    `size` is only a hint (the filesystem store refuses early what cannot
    fit). Raises Duplicate, StorageFull, StorageWriteDenied,
    StoreAddDisabled.
    """
    store = _default_store
    if store is None:
        raise exception.StoreUnavailable(
            'No store is configured: create_stores() has not run.')
    return store.add(image_id, data, size=size)
