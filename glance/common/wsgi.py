"""WSGI plumbing: requests, resources, routers and filters.

A `Router` matches a path with Routes and hands the request to a
`Resource`, which runs deserializer -> controller -> serializer and turns
the project's exceptions into HTTP errors (`HTTP_ERRORS`).
"""
import io
import json
import re

from oslo_log import log as logging
import routes
import routes.middleware
import webob
import webob.dec
import webob.exc

from glance.common import exception

LOG = logging.getLogger(__name__)

try:
    # Only there inside a uwsgi process.
    import uwsgi
except ImportError:
    uwsgi = None

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
# No request body of this API nests deeper than a few levels (a location's
# metadata in a patch is the deepest); far deeper documents are refused
# before code that walks them recursively (validation, str()) meets them.
MAX_JSON_DEPTH = 64
DECODING_ERROR = ('Error decoding your request. Either the URL or the '
                  'request body contained characters that could not be '
                  'decoded by Glance')


def to_http_error(error, headers=None):
    """The webob HTTP error for one of the project's exceptions."""
    for cls in type(error).__mro__:
        if cls in HTTP_ERRORS:
            if error.as_detail:
                return HTTP_ERRORS[cls](detail=str(error), headers=headers)
            return HTTP_ERRORS[cls](explanation=str(error), headers=headers)
    return webob.exc.HTTPInternalServerError()


class Request(webob.Request):
    """A webob request that knows the request context the filters built."""

    @property
    def context(self):
        return self.environ['glance.context']

    def has_body(self):
        """Whether the request has a body; one sent without Content-Length
        (chunked) is then readable from body_file to its end."""
        encoding = self.headers.get('Transfer-Encoding', '').lower()
        if encoding in BODY_TRANSFER_ENCODINGS and self.method in BODY_METHODS:
            if self.content_length is not None or not self.is_body_readable:
                self._accept_unsized_body(encoding)
            return True
        return bool(self.content_length)

    def _accept_unsized_body(self, encoding):
        # A Transfer-Encoding overrides any Content-Length (RFC 9112 6.3):
        # under uwsgi, which passes both on, the length would count the
        # chunks' framing as data.
        self.content_length = None
        # webob reads nothing without Content-Length unless the server
        # says wsgi.input ends with the body (gunicorn, eventlet). uwsgi
        # does not, and its wsgi.input holds none of a chunked body: that
        # comes from its chunked-input API.
        if (encoding == 'chunked' and uwsgi is not None
                and 'uwsgi.version' in self.environ):
            # Buffered: a read(n) returns n bytes (or the rest), however
            # small the client's chunks.
            self.body_file_raw = io.BufferedReader(
                ChunkedInput(uwsgi.chunked_read))
        self.is_body_readable = True

    def json_body_or_error(self):
        """The JSON document in the body, or 400 as upstream words it.

        Also 400 (where upstream fails) for a body that ends before its
        length, a document nested deeper than MAX_JSON_DEPTH, and text
        with a lone surrogate (\\ud800: valid JSON, but no Unicode
        character, which no database can store) or NUL.
        """
        try:
            body = self.body
        # The server's errors too: webob's DisconnectionError for a body
        # cut short, gunicorn's plain Exceptions for a malformed chunk.
        except Exception as error:
            raise webob.exc.HTTPBadRequest(
                explanation='Error reading the request body: %s' % error)
        try:
            document = json.loads(body)
        except RecursionError:
            raise _too_deep()
        except ValueError:
            raise webob.exc.HTTPBadRequest(
                explanation='Malformed JSON in request body.')
        if not isinstance(document, (dict, list)):
            raise webob.exc.HTTPBadRequest(
                explanation='Unexpected body type. Expected list/dict.')
        _check_json_document(body, document)
        return document


def _too_deep():
    return webob.exc.HTTPBadRequest(
        explanation='JSON in request body nested deeper than %d levels.'
                    % MAX_JSON_DEPTH)


def _check_text(text):
    """400 for text no database stores: a lone surrogate (not Unicode),
    NUL (PostgreSQL refuses it in text)."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise webob.exc.HTTPBadRequest(explanation=DECODING_ERROR)
    if '\x00' in text:
        raise webob.exc.HTTPBadRequest(explanation=DECODING_ERROR)


# In a JSON body, what a lone surrogate or NUL can come from: an escape,
# the UTF-8 form of a surrogate (json decodes with surrogatepass), or a
# body in UTF-16 or UTF-32.
_MAYBE_UNSTORABLE = re.compile(rb'\\u|\xed[\xa0-\xbf]|\x00')


def _check_json_document(body, document):
    """400 for a document (parsed from `body`) nested too deep or with
    text _check_text refuses (walked without recursion: that is what it
    guards against)."""
    if (body.count(b'{') + body.count(b'[') <= MAX_JSON_DEPTH
            and not _MAYBE_UNSTORABLE.search(body)):
        # The usual body, found harmless without the walk (which cost a
        # create 2% of its instructions, measured).
        return
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if isinstance(value, dict):
            for key in value:
                _check_text(key)
            items = value.values()
        elif isinstance(value, list):
            items = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        pending.extend((item, depth + 1) for item in items)


def _path_variable(value):
    """A path variable as the client wrote it. Routes matches the path as
    the server hands it over, one character per byte (PEP 3333): the
    bytes are UTF-8 (UnicodeDecodeError if not)."""
    if value.__class__ is not str:
        return value
    if value.isascii():  # the usual path (an id), at a third of the cost
        if '\x00' in value:
            raise webob.exc.HTTPBadRequest(explanation=DECODING_ERROR)
        return value
    text = value.encode('latin-1').decode('utf-8')
    _check_text(text)
    return text


# Set in the environ by a server that has refused every header value
# holding a control character (glance-api's daemon): the scan below,
# 3% of a GET's bytecodes (measured), is then not needed.
HEADERS_CHECKED = 'glance.header_values_checked'


def _check_query_and_headers(request):
    # The query is decoded by webob (UnicodeDecodeError if not UTF-8);
    # header values are latin-1 text, where NUL is just as unwelcome
    # (RFC 9110 5.5 lets a recipient refuse it).
    environ = request.environ
    if environ.get('QUERY_STRING'):
        for name, value in request.GET.items():
            _check_text(name)
            _check_text(value)
    if environ.get(HEADERS_CHECKED):
        return
    # The environ itself, not webob's header view: a tenth of the cost
    # on every request (measured).
    for key, value in environ.items():
        if key[:5] == 'HTTP_' and value.__class__ is str and '\x00' in value:
            raise webob.exc.HTTPBadRequest(explanation=DECODING_ERROR)


class ChunkedInput(io.RawIOBase):
    """A file over a function that returns the body's next chunk, b'' at
    its end (and raises OSError if the client stops short)."""

    def __init__(self, read_chunk):
        self._read_chunk = read_chunk
        self._pending = memoryview(b'')
        self._ended = False

    def readable(self):
        return True

    def readinto(self, buffer):
        if not buffer:
            return 0
        if not self._pending and not self._ended:
            chunk = self._read_chunk()
            self._ended = not chunk
            self._pending = memoryview(chunk or b'')
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def json_response(response, document, status=200):
    response.status_int = status
    response.content_type = 'application/json'
    response.charset = None
    response.body = json.dumps(document).encode('utf-8')


class Deserializer:
    """Request parsing. An action that takes a body (or reads nothing of
    the request but ignores a body, as the lists do) has a method of its
    own; every other action falls back to `default`, which refuses a
    body: one rule for every route, as upstream's body_reject."""

    def default(self, request):
        if request.has_body():
            raise webob.exc.HTTPBadRequest(
                explanation='A body is not expected with this request.')
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

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self._respond(request)
        except webob.exc.HTTPException as error:
            response = error
        except Exception:
            # A bug or a broken dependency (the database, say): the
            # traceback goes to the log at ERROR, with the request id of
            # the context, and the client gets webob's 500 as upstream.
            LOG.exception('Unexpected error answering %s %s',
                          request.method, request.path_qs)
            response = webob.exc.HTTPInternalServerError()
        return response(environ, start_response)

    def _respond(self, request):
        args = dict(request.environ['wsgiorg.routing_args'][1])
        for key in ('controller', 'format'):
            args.pop(key, None)
        action = args.pop('action')
        try:
            if args:
                args = {name: _path_variable(value)
                        for name, value in args.items()}
            _check_query_and_headers(request)
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
            return webob.exc.HTTPBadRequest(explanation=DECODING_ERROR)

    @staticmethod
    def _dispatch(obj, action, *args):
        method = getattr(obj, action, None) or obj.default
        return method(*args)


class RejectMethodDeserializer(Deserializer):
    """A wrong method is 405 whatever the body."""

    def reject(self, request):
        return {}


class RejectMethodController:
    """Answers 405 with the methods a known path does accept."""

    def reject(self, request, allowed_methods, **path_variables):
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
        # Not a singleton: nothing here reads Routes' thread-local
        # request config, which would cost every request its setting.
        self._router = routes.middleware.RoutesMiddleware(
            self._dispatch, self.map, singleton=False)

    @staticmethod
    def connect_methods(mapper, path, resource, actions):
        """Route each method of `actions` ({method: action}) on `path`;
        any other method on the path gets 405 with an Allow header."""
        for method, action in actions.items():
            mapper.connect(path, controller=resource, action=action,
                           conditions={'method': [method]})
        mapper.connect(path, controller=Router._reject_resource,
                       action='reject',
                       allowed_methods=', '.join(actions))

    _reject_resource = Resource(RejectMethodController(),
                                RejectMethodDeserializer())

    @staticmethod
    def redirect_to_slash(mapper):
        """The application's bare root (/v2) answers, for any method, a
        302 to its root with a slash, as an absolute address."""
        mapper.connect('', controller=Router._redirect_to_slash)

    @staticmethod
    def _redirect_to_slash(environ, start_response):
        location = webob.Request(environ).application_url + '/'
        return webob.exc.HTTPFound(location=location)(environ,
                                                      start_response)

    def __call__(self, environ, start_response):
        return self._router(environ, start_response)

    @staticmethod
    def _dispatch(environ, start_response):
        match = environ['wsgiorg.routing_args'][1]
        if match:
            application = match['controller']
        elif environ['REQUEST_METHOD'] not in IMPLEMENTED_METHODS:
            application = webob.exc.HTTPNotImplemented()
        else:
            application = webob.exc.HTTPNotFound()
        return application(environ, start_response)


class Middleware:
    """A paste filter: `process_request` may answer early, and
    `response_headers` may add headers to the application's answer.

    The answer itself passes through untouched (no copy of it in a
    webob Response on the way back: this runs on every request).
    """

    def __init__(self, application):
        self.application = application

    def process_request(self, request):
        """None to go on to the application, or an answer of its own."""
        return None

    def response_headers(self, request):
        """Headers to add to the application's answer."""
        return []

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.process_request(request)
        except webob.exc.HTTPException as error:
            response = error
        except UnicodeDecodeError:
            # webob decodes the path and query as UTF-8 (%FF is none).
            response = webob.exc.HTTPBadRequest(explanation=DECODING_ERROR)
        if response is not None:
            return response(environ, start_response)
        headers = self.response_headers(request)
        if not headers:
            return self.application(environ, start_response)

        def start_with_headers(status, response_headers, exc_info=None):
            return start_response(status, response_headers + headers,
                                  exc_info)

        return self.application(environ, start_with_headers)
