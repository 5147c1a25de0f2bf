"""oslo.middleware's CORS filter, configured from glance-api.conf [cors].

Its own paste factory would read a separate copy of the configuration
files; this one hands it the configuration glance-api already parsed.
"""
from oslo_config import cfg
from oslo_middleware import cors


def filter_factory(global_conf, **local_conf):
    return lambda application: cors.CORS(application, cfg.CONF)
