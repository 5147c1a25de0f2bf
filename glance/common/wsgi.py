"""WSGI plumbing: requests, resources, routers, and the eventlet server.

A `Router` matches a path with Routes and hands the request to a
`Resource`, which runs deserializer -> controller -> serializer and turns
the project's exceptions into HTTP errors (`HTTP_ERRORS`).
"""
import json

import routes
import routes.middleware
import webob
import webob.dec
import webob.exc

from glance.common import exception

# The one table from the project's exceptions to HTTP errors. Subclasses
# map through their nearest listed ancestor.
HTTP_ERRORS = {
    exception.BadRequest: webob.exc.HTTPBadRequest,
    exception.NotAuthenticated: webob.exc.HTTPUnauthorized,
    exception.Forbidden: webob.exc.HTTPForbidden,
    exception.NotFound: webob.exc.HTTPNotFound,
    exception.Conflict: webob.exc.HTTPConflict,
    exception.Gone: webob.exc.HTTPGone,
    exception.RequestEntityTooLarge: webob.exc.HTTPRequestEntityTooLarge,
    exception.UnsupportedMediaType: webob.exc.HTTPUnsupportedMediaType,
    exception.RangeNotSatisfiable: webob.exc.HTTPRequestRangeNotSatisfiable,
    exception.StoreError: webob.exc.HTTPServiceUnavailable,
}

IMPLEMENTED_METHODS = frozenset(
    ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'])
BODY_METHODS = frozenset(['POST', 'PUT', 'PATCH'])
BODY_TRANSFER_ENCODINGS = frozenset(
    ['chunked', 'compress', 'deflate', 'gzip', 'identity'])


def to_http_error(error, headers=None):
    """The webob HTTP error for one of the project's exceptions."""
    for cls in type(error).__mro__:
        if cls in HTTP_ERRORS:
            return HTTP_ERRORS[cls](explanation=str(error), headers=headers)
    return webob.exc.HTTPInternalServerError()


class Request(webob.Request):
    """A webob request that knows the request context the filters built."""

    @property
    def context(self):
        return self.environ['glance.context']

    def has_body(self):
        encoding = self.headers.get('Transfer-Encoding', '').lower()
        if encoding in BODY_TRANSFER_ENCODINGS and self.method in BODY_METHODS:
            self.is_body_readable = True
            return True
        return bool(self.content_length)

    def json_body_or_error(self):
        """The JSON document in the body, or 400 as upstream words it."""
        try:
            document = json.loads(self.body)
        except ValueError:
            raise webob.exc.HTTPBadRequest(
                explanation='Malformed JSON in request body.')
        if not isinstance(document, (dict, list)):
            raise webob.exc.HTTPBadRequest(
                explanation='Unexpected body type. Expected list/dict.')
        return document


def json_response(response, document, status=200):
    response.status_int = status
    response.content_type = 'application/json'
    response.charset = None
    response.body = json.dumps(document).encode('utf-8')


class Deserializer:
    """Default request parsing: the JSON body, if there is one, as `body`."""

    def default(self, request):
        if request.has_body():
            return {'body': request.json_body_or_error()}
        return {}


class Serializer:
    """Default response: the controller's result as a JSON document."""

    def default(self, response, result):
        if result is None:
            response.status_int = 204
        else:
            json_response(response, result)


class Resource:
    """Calls one action on a deserializer, a controller and a serializer.

    Each of the three may define a method named after the route's action;
    the deserializer and serializer fall back to `default`.
    """

    def __init__(self, controller, deserializer=None, serializer=None):
        self.controller = controller
        self.deserializer = deserializer or Deserializer()
        self.serializer = serializer or Serializer()

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, request):
        args = dict(request.environ['wsgiorg.routing_args'][1])
        for key in ('controller', 'format'):
            args.pop(key, None)
        action = args.pop('action')
        body_reject = args.pop('body_reject', False)
        try:
            if body_reject and request.has_body():
                raise webob.exc.HTTPBadRequest(
                    explanation='A body is not expected with this request.')
            args.update(self._dispatch(self.deserializer, action, request))
            result = getattr(self.controller, action)(request, **args)
            if isinstance(result, webob.Response):
                return result
            response = webob.Response(request=request)
            self._dispatch(self.serializer, action, response, result)
            return response
        except exception.GlanceException as error:
            return to_http_error(error)
        except UnicodeDecodeError:
            return webob.exc.HTTPBadRequest(
                explanation='Error decoding your request. Either the URL or '
                            'the request body contained characters that '
                            'could not be decoded by Glance')

    @staticmethod
    def _dispatch(obj, action, *args):
        method = getattr(obj, action, None) or obj.default
        return method(*args)


class RejectMethodController:
    """Answers 405 with the methods a known path does accept."""

    def reject(self, request, allowed_methods):
        raise webob.exc.HTTPMethodNotAllowed(
            explanation='The method %s is not allowed for this resource. '
                        % request.method,
            headers=[('Allow', allowed_methods)])


class APIMapper(routes.Mapper):
    """A Routes mapper that also matches the empty path."""

    def routematch(self, url=None, environ=None):
        if url == '':
            result = self._match('', environ)
            return result[0], result[1]
        return super().routematch(url, environ)


class Router:
    """Matches the path with Routes and calls the route's controller."""

    def __init__(self, mapper):
        self.map = mapper
        self._router = routes.middleware.RoutesMiddleware(
            self._dispatch, self.map)

    @staticmethod
    def connect_methods(mapper, path, resource, actions, body_reject=()):
        """Route each method of `actions` ({method: action}) on `path`;
        any other method on the path gets 405 with an Allow header."""
        for method, action in actions.items():
            mapper.connect(path, controller=resource, action=action,
                           conditions={'method': [method]},
                           body_reject=action in body_reject)
        mapper.connect(path, controller=Router._reject_resource,
                       action='reject',
                       allowed_methods=', '.join(actions))

    _reject_resource = Resource(RejectMethodController())

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, request):
        return self._router

    @staticmethod
    @webob.dec.wsgify(RequestClass=Request)
    def _dispatch(request):
        match = request.environ['wsgiorg.routing_args'][1]
        if not match:
            if request.method not in IMPLEMENTED_METHODS:
                return webob.exc.HTTPNotImplemented()
            return webob.exc.HTTPNotFound()
        return match['controller']


class Middleware:
    """A paste filter: `process_request` may answer early, and
    `process_response` may change the application's answer."""

    def __init__(self, application):
        self.application = application

    def process_request(self, request):
        return None

    def process_response(self, response):
        return response

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, request):
        response = self.process_request(request)
        if response is not None:
            return response
        response = request.get_response(self.application)
        return self.process_response(response)
