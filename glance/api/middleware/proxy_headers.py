"""oslo.middleware's HTTPProxyToWSGI filter: behind a TLS-terminating
proxy, X-Forwarded-Proto / Forwarded headers give the URLs the service
writes (Location, versions links) their real scheme and host.

It acts only when [oslo_middleware] enable_proxy_headers_parsing is on;
otherwise it would cost time on every request for nothing, so it then
steps aside.
"""
from oslo_config import cfg
from oslo_middleware import http_proxy_to_wsgi

CONF = cfg.CONF
CONF.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')


def filter_factory(global_conf, **local_conf):
    if not CONF.oslo_middleware.enable_proxy_headers_parsing:
        return lambda application: application
    return lambda application: http_proxy_to_wsgi.HTTPProxyToWSGI(
        application, CONF)
