"""oslo.middleware's CORS filter, configured from glance-api.conf [cors].

Its own paste factory would read a separate copy of the configuration
files; this one hands it the configuration glance-api already parsed. With
no allowed origin configured the filter would do nothing but cost time on
every request, so it then steps aside.
"""
from oslo_config import cfg
from oslo_middleware import cors

CONF = cfg.CONF
CONF.register_opts(cors.OPTS, group='cors')


def filter_factory(global_conf, **local_conf):
    if not CONF.cors.allowed_origin:
        return lambda application: application
    return lambda application: cors.CORS(application, CONF)
