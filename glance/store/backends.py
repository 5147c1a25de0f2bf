"""The multi-store configuration, as upstream's operators write it.

    [DEFAULT]
    enabled_backends = fast:file, cheap:file, web:http
    [glance_store]
    default_backend = fast
    [fast]
    store_description = Local SSD
    weight = 100
    filesystem_store_datadir = /srv/fast
    [backend_defaults]
    filesystem_store_chunk_size = 65536

Each backend id has a section of its own holding its driver's options
(registered there without defaults) plus `store_description` and
`weight`; an option a backend's section leaves unset takes its value from
[backend_defaults], where every driver's options are registered with
their defaults (glance.store.driver.BackendOptions reads them so).

Two file stores are always added, for the service's own use, in the
sections [os_glance_staging_store] and [os_glance_tasks_store]; they are
not listed to users and no image is stored in them.
"""
import copy

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
from glance.common import exception
from glance.store import driver
from glance.store import drivers
from glance.store import registry

LOG = logging.getLogger(__name__)

RESERVED_PREFIX = 'os_glance_'
RESERVED_STORES = {'os_glance_staging_store': 'file',
                   'os_glance_tasks_store': 'file'}

multistore_opts = [
    cfg.DictOpt('enabled_backends',
                help='Turns on the multi-store mode: the stores, as '
                     'id:type pairs separated by commas, for example '
                     '"fast:file, cheap:file, web:http". Each id has a '
                     'section of its own for its options; types: '
                     + ', '.join(sorted(drivers.DRIVERS)) + '. Unset (the '
                     'default), [glance_store] stores and default_store '
                     'configure a single store of each type.'),
]

default_backend_opts = [
    cfg.StrOpt('default_backend',
               help='Multi-store mode: the id (in enabled_backends) of the '
                    'store new image data goes to when the request names '
                    'none.'),
]

backend_opts = [
    cfg.StrOpt('store_description',
               help='What GET /v2/info/stores says of this store.'),
    cfg.IntOpt('weight', default=0,
               help='Downloads read from the image\'s locations in the '
                    'stores of highest weight first.'),
]


def register_opts(conf):
    conf.register_opts(multistore_opts)
    conf.register_opts(default_backend_opts, group='glance_store')
    conf.register_opts(drivers.list_opts(), group=driver.BACKEND_DEFAULTS)


def _without_defaults(opts, defaults=None):
    """Copies of `opts` whose default is None (or as `defaults` says), so
    that an unset value falls back to [backend_defaults]."""
    copies = []
    for opt in opts:
        opt = copy.deepcopy(opt)
        opt.default = (defaults or {}).get(opt.dest)
        copies.append(opt)
    return copies


def _driver_class(backend_id, type_name):
    try:
        return drivers.DRIVERS[type_name.strip()]
    except KeyError:
        raise config.ConfigError(
            f"Store '{backend_id}' in enabled_backends has the type "
            f"'{type_name.strip()}', which this service has no driver for "
            f"(available: {', '.join(sorted(drivers.DRIVERS))})")


def enabled_backends(conf):
    """{backend id: driver class} of enabled_backends, in order; raises
    ConfigError as upstream refuses to start."""
    enabled = {}
    for backend_id, type_name in conf.enabled_backends.items():
        backend_id = backend_id.strip()
        if backend_id.startswith(RESERVED_PREFIX):
            raise config.ConfigError(
                "'os_glance_' prefix should not be used in enabled_backends "
                "config option. It is reserved for internal use only.")
        enabled[backend_id] = type_name or ''
    classes = {backend_id: _driver_class(backend_id, type_name)
               for backend_id, type_name in enabled.items()}
    default = conf.glance_store.default_backend
    if not default:
        raise config.ConfigError(
            "'default_backend' config option is not set.")
    if default not in classes:
        raise config.ConfigError(f'Store for identifier {default} not found')
    return classes, default


def _configure(backend):
    """Configure a backend; one whose writing side fails to configure
    stays, read-only, as upstream keeps it."""
    backend.configure_read()
    if not backend.WRITABLE:
        return
    try:
        backend.configure_add()
    except exception.BadStoreConfiguration as error:
        backend.add_disabled_reason = str(error)
        LOG.warning('%s Adding images to store %s is disabled.', error,
                    backend.backend_id)


def build_registry(conf):
    """The Registry of the multi-store configuration in `conf`."""
    classes, default = enabled_backends(conf)
    for backend_id, driver_class in classes.items():
        conf.register_opts(_without_defaults(driver_class.OPTS)
                           + backend_opts, group=backend_id)
    for name, type_name in RESERVED_STORES.items():
        conf.register_opts(_without_defaults(
            drivers.DRIVERS[type_name].OPTS,
            {'filesystem_store_datadir': f'$state_path/{name}'}),
            group=name)
    # The new sections' values are checked like every other option's.
    config.check_values(conf)

    backends = {}
    for backend_id, driver_class in classes.items():
        backend = driver_class(conf, backend_id, group=backend_id)
        backend.description = conf[backend_id].store_description
        backend.weight = conf[backend_id].weight
        _configure(backend)
        backends[backend_id] = backend
    reserved = {}
    for name, type_name in RESERVED_STORES.items():
        backend = drivers.DRIVERS[type_name](conf, name, group=name)
        _configure(backend)
        reserved[name] = backend
    return registry.Registry(backends, default, reserved=reserved,
                             multistore=True)
