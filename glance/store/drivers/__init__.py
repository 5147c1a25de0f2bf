"""The store drivers, one module each, known by their type names."""
from glance.common import exception
from glance.store.drivers import filesystem
from glance.store.drivers import http
from glance.store.drivers import s3
from glance.store.drivers import swift

# Type name (a driver's NAME) -> driver class.
DRIVERS = {driver.NAME: driver
           for driver in (filesystem.Store, http.Store, s3.Store, swift.Store)}

# Other names the single-store `stores` and `default_store` options accept.
ALIASES = {'filesystem': 'file', 'https': 'http', 'swift+http': 'swift',
           'swift+https': 'swift', 'swift+config': 'swift'}


def driver_class(name):
    """The driver class for a type name or alias; BadStoreConfiguration
    when there is none."""
    type_name = name.strip().lower()
    try:
        return DRIVERS[ALIASES.get(type_name, type_name)]
    except KeyError:
        raise exception.BadStoreConfiguration(
            store_name=name,
            reason='there is no such store; known stores are '
                   + ', '.join(sorted([*DRIVERS, *ALIASES])))


def list_opts():
    """The options of every driver (all in one section for now)."""
    return (filesystem.filesystem_opts + http.http_opts + s3.s3_opts
            + swift.swift_opts)
