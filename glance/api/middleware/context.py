"""Filters that build the request context from who is asking.

`context` (keystone flavor) reads the headers keystonemiddleware's
auth_token sets (X-Identity-Status, X-User-Id, X-Project-Id, X-Roles,
X-Service-Catalog, ...); `unauthenticated-context` (default flavor) makes
every request the service admin. Both put the request id on the response.
"""
import json

from oslo_config import cfg
import webob.exc

from glance import context
from glance.common import wsgi

CONF = cfg.CONF

context_opts = [
    cfg.BoolOpt('allow_anonymous_access', default=False,
                help='Let requests without a valid token through as an '
                     'anonymous, read-only caller instead of answering 401 '
                     '(keystone flavor only).'),
    cfg.IntOpt('max_request_id_length', default=64, min=0, max=16384,
               help='Longest request id accepted from a client.'),
]
CONF.register_opts(context_opts)

REQUEST_ID_HEADER = 'x-openstack-request-id'


class BaseContextMiddleware(wsgi.Middleware):

    def response_headers(self, request):
        request_context = request.environ.get('glance.context')
        if request_context is None:
            return []
        request_id = request_context.request_id
        if not request_id.startswith('req-'):
            request_id = 'req-' + request_id
        return [(REQUEST_ID_HEADER, request_id)]


class ContextMiddleware(BaseContextMiddleware):
    """The context of a caller keystonemiddleware has authenticated."""

    def process_request(self, request):
        if request.headers.get('X-Identity-Status') == 'Confirmed':
            request_context = self._authenticated_context(request)
        elif CONF.allow_anonymous_access:
            request_context = context.RequestContext(
                user_id=None, project_id=None, roles=[], is_admin=False,
                read_only=True)
        else:
            raise webob.exc.HTTPUnauthorized()
        request.environ['glance.context'] = request_context

    def _authenticated_context(self, request):
        catalog = request.headers.get('X-Service-Catalog')
        if catalog is not None:
            try:
                catalog = json.loads(catalog)
            except ValueError:
                raise webob.exc.HTTPInternalServerError(
                    'Invalid service catalog json.')
        request_id = request.headers.get('X-Openstack-Request-ID')
        if request_id and 0 < CONF.max_request_id_length < len(request_id):
            raise webob.exc.HTTPRequestHeaderFieldsTooLarge(
                comment='x-openstack-request-id is too long, max size %s'
                        % CONF.max_request_id_length)
        return context.RequestContext.from_environ(
            request.environ, service_catalog=catalog)


class UnauthenticatedContextMiddleware(BaseContextMiddleware):
    """Everyone is the service admin (no authentication configured)."""

    def process_request(self, request):
        request.environ['glance.context'] = context.get_admin_context(
            request.environ.get('openstack.request_id'))


def filter_factory(global_conf, **local_conf):
    return ContextMiddleware


def unauthenticated_filter_factory(global_conf, **local_conf):
    return UnauthenticatedContextMiddleware
