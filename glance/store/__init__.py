"""The store layer: drivers that keep image bytes, found through a registry.

It knows bytes and locations, nothing about image metadata.

The one piece of state is the current `Registry` (glance.store.registry):
`create_stores()` builds a new one from the configuration, at startup and
after a configuration reload, and publishes it with a single assignment;
if building fails, the previous registry keeps serving. The functions
below are the API the rest of glance calls; each is one call on the
registry current at that moment. `add_to_backend()` writes to the named
or the default backend; the others find the backend that handles a
location URI by its scheme (and, among several of one type, by what its
URIs look like), or take the backend id a location recorded.

Two modes, as upstream has them: single-store ([glance_store] `stores`
and `default_store`, one backend per type, named after it) and
multi-store ([DEFAULT] `enabled_backends`: see glance.store.backends).
"""
from oslo_config import cfg

from glance.common import exception
from glance.common.config import CONF
from glance.store import backends
from glance.store import drivers
from glance.store import registry

store_opts = [
    cfg.ListOpt('stores',
                default=['file', 'http'],
                help='Store drivers to enable. "file" (or "filesystem") '
                     'keeps images in a local directory; "http" (or '
                     '"https") reads images from web servers and cannot '
                     'store new ones; "s3" keeps them in an S3 bucket, '
                     '"swift" in OpenStack Swift.'),
    cfg.StrOpt('default_store',
               default='file',
               help='The store new image data is written to. It must be '
                    'one of the enabled stores.'),
]

# Empty until create_stores() runs: every lookup fails cleanly.
_registry = registry.Registry()


def _all_opts():
    return store_opts + drivers.list_opts()


def register_opts(conf):
    conf.register_opts(_all_opts(), group='glance_store')
    backends.register_opts(conf)


register_opts(CONF)


def list_opts():
    return [('DEFAULT', backends.multistore_opts),
            ('glance_store', _all_opts() + backends.default_backend_opts)]


def _single_store_backends(store_conf):
    """The backends `stores` and `default_store` configure.

    Returns ({backend id: driver class}, default backend id). Each driver
    type is one backend, whose id is its type name ('file', 'http').
    """
    enabled = {}
    for name in store_conf.stores:
        if name.strip():
            driver_class = drivers.driver_class(name)
            enabled.setdefault(driver_class.NAME, driver_class)
    default = drivers.driver_class(store_conf.default_store).NAME
    if default not in enabled:
        raise exception.BadStoreConfiguration(
            store_name=store_conf.default_store,
            reason='default_store is not one of the enabled stores: '
                   + ', '.join(store_conf.stores))
    return enabled, default


def _single_store_registry(conf):
    driver_classes, default = _single_store_backends(conf.glance_store)
    configured = {}
    for backend_id, driver_class in driver_classes.items():
        driver = driver_class(conf, backend_id)
        driver.configure()
        configured[backend_id] = driver
    return registry.Registry(configured, default)


def create_stores(conf=CONF):
    """Configure the enabled stores and make them the current registry.

    Running it again (after a configuration reload) replaces the whole
    registry at once. Returns the number of schemes registered. Raises
    BadStoreConfiguration when a store is unknown or unusable, or when
    the default store is not enabled (ConfigError for the multi-store
    configuration's errors); the previous registry then stays.
    """
    global _registry
    register_opts(conf)
    if conf.enabled_backends:
        new_registry = backends.build_registry(conf)
    else:
        new_registry = _single_store_registry(conf)
    _registry = new_registry
    return len(new_registry.known_schemes())


def current_registry():
    """The registry in use now. An operation that makes several calls
    keeps the one it got, so a reload cannot change stores under it."""
    return _registry


def get_known_schemes():
    return _registry.known_schemes()


def validate_location(uri):
    """Check that a store handles `uri` and that it is well formed.

    Returns the parsed location. Raises UnknownScheme or Invalid.
    """
    return _registry.validate_location(uri)


def validate_external_location(uri):
    """Whether users may set `uri` as an image location themselves (as
    far as the stores are concerned: a scheme some store handles, and
    not one of the restricted ones)."""
    return _registry.is_external_location_allowed(uri)


def owner_of(uri):
    """The id of the backend whose locations look like `uri`, or None."""
    return _registry.owner_of(uri)


def get_size_of_location(uri, backend=None):
    """The size in bytes of the data at `uri`, read by the backend
    `backend` (an id) or, when None, by the one its URI leads to."""
    return _registry.get_size(uri, backend=backend)


def get_from_backend(uri, offset=0, length=None, chunk_size=None):
    """(iterator, total_size) of the data at `uri`: see Registry.get."""
    return _registry.get(uri, offset, length, chunk_size)


def get_size_from_backend(uri):
    """The size in bytes of the image data at `uri` (0 if unknown)."""
    return _registry.get_size(uri)


def delete_from_backend(uri):
    """Delete the image data at `uri`: see Registry.delete."""
    _registry.delete(uri)


def add_to_backend(image_id, data, size=None, backend=None, attempt=None):
    """Write `data` as `image_id` to `backend` (a backend id), or the
    default backend when None: see Registry.add. Returns (location_uri,
    bytes_written, metadata)."""
    return _registry.add(image_id, data, size, backend=backend,
                         attempt=attempt)


def multistore_enabled():
    """Whether enabled_backends configures the stores (the multi-store
    mode: backends have ids users see and name)."""
    return _registry.multistore


def check_backend(backend_id):
    """Raise UnknownScheme ("Store for identifier ... not found") unless
    `backend_id` is a store users may name."""
    _registry.driver(backend_id)


def ordered_locations(locations):
    """An image's locations in the order downloads try them: see
    Registry.ordered_locations."""
    return _registry.ordered_locations(locations)


def get_from_locations(locations, offset=0, length=None):
    """(iterator, total_size) of the first of `locations` that serves:
    see Registry.get_first."""
    return _registry.get_first(locations, offset, length)


def delete_from_store(location):
    """Delete the data of a location (a dict with `url` and `metadata`)
    from the backend it records, else the one its URI leads to."""
    _registry.delete(location['url'],
                     backend=_registry.backend_of_location(location))


def stores_info(detail=False):
    """The stores users see, as GET /v2/info/stores lists them."""
    return _registry.stores_info(detail)
