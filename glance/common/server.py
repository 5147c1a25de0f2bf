"""The glance-api server.

A master process binds the listening socket and forks workers that share
it; each worker serves the application with eventlet. The master only
supervises: it replaces workers that die, restarts them all with a fresh
configuration on SIGHUP, and on SIGTERM/SIGINT lets them finish the
requests in progress before it exits. Workers whose master died exit on
their own. With workers = 0 a single process serves and there is no
master. Request heads that are not plain HTTP/1.x are refused before the
application sees them, with upstream's statuses.

eventlet itself is imported only by the code that serves: loading this
module (to list its options, say) never pulls it in.
"""
import email.utils
import functools
import gc
import html
import http
import io
import logging as std_logging
import os
import re
import signal
import socket
import sys
import time

from oslo_config import cfg
from oslo_log import log as logging
import webob.exc

from glance.common import config
from glance.common import systemd
from glance.common import wsgi

LOG = logging.getLogger(__name__)
# The access log (one line per request) and eventlet's connection messages.
# The standard library's logger itself, not oslo.log's adapter: it
# writes the same lines (oslo.log's handlers and formatter) for ~4 us less
# per request.
ACCESS_LOG = std_logging.getLogger('glance.wsgi.server')


def _unknown_caller(stack_info=False, stacklevel=1):
    # What the logging module records when told not to look.
    return '(unknown file)', 0, '(unknown function)', None


# Which line of eventlet wrote an access line means nothing to its reader:
# the logger skips the walk up the stack that finds it (~8 us a line).
ACCESS_LOG.findCaller = _unknown_caller

# The last line of the traceback eventlet logs when the client went away
# while its answer was being written.
_CLIENT_GONE = re.compile(
    r'\n(BrokenPipeError|ConnectionResetError|ConnectionAbortedError)'
    r'[^\n]*\n?\Z')


class _ClientGoneFilter(std_logging.Filter):
    """eventlet logs a whole traceback when a client closes its connection
    before its answer is written: the client's doing, not a failure of
    the server. One line says so instead."""

    def filter(self, record):
        if isinstance(record.msg, str) and record.msg.startswith(
                'Traceback') and _CLIENT_GONE.search(record.msg):
            record.msg = ('The client closed the connection before its '
                          'answer was sent')
            record.args = ()
        return True


ACCESS_LOG.addFilter(_ClientGoneFilter())

server_opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='Address to listen on for API requests: an IPv4 '
                            'or IPv6 address, or a host name. The default '
                            'listens on every IPv4 interface.'),
    cfg.PortOpt('bind_port',
                help='Port to listen on. Unset (or 0) means the usual port '
                     'of the service: 9292 for glance-api.'),
    cfg.IntOpt('workers', min=0, default=os.cpu_count() or 1,
               sample_default='<number of CPUs>',
               help='Number of worker processes that serve requests. 0 '
                    'serves in the main process, without forking, which '
                    'suits debugging. A reload (SIGHUP) restarts the '
                    'workers with the new count.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Number of connections the kernel queues while every '
                    'worker is busy (the listen() backlog).'),
    cfg.IntOpt('client_socket_timeout', default=900, min=0,
               help='Seconds a client connection may stay silent, while '
                    'sending a request or between requests on a kept-alive '
                    'connection, before it is closed. 0 waits forever.'),
    cfg.BoolOpt('http_keepalive', default=True,
                help='Keep client connections open for further requests '
                     '(HTTP keep-alive). If false, every connection is '
                     'closed after one response.'),
    cfg.IntOpt('max_header_line', default=16384, min=1,
               help='Longest request header line accepted, in bytes. Large '
                    'tokens (Keystone PKI, many roles) may need more than '
                    'the default.'),
    cfg.IntOpt('tcp_keepidle', default=600, min=1,
               help='Seconds a client connection may be idle before TCP '
                    'keepalive probes check that the peer is still there. '
                    'Ignored where the platform lacks TCP_KEEPIDLE.'),
]

CONF = cfg.CONF
CONF.register_opts(server_opts)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# A worker that dies sooner than this after its start is probably failing
# at start-up: pause before replacing it rather than fork in a tight loop.
MIN_WORKER_LIFETIME = 1.0
# A stopping process first stops accepting, then gives the connections it
# has just accepted this long to get their request under way, before the
# connections still without one are closed (see _Listener).
REQUEST_START_GRACE = 1.0
# A worker whose master died (kill -9, an out-of-memory kill) stops at once
# taking connections, so that the port is free for a new glance-api, and
# gives the requests in progress this long before it exits: nobody would
# replace it, stop it or reload it any more.
ORPHANED_WORKER_GRACE = 5.0


def list_opts():
    return [(None, server_opts)]


def _ignore_signal(signum, frame):
    pass


class _SignalInbox:
    """Signals received as data, to be handled in ordinary code.

    Each signal gets a do-nothing Python handler, and `signal.set_wakeup_fd`
    makes the interpreter write the number of every signal it receives into
    a pipe. The owner waits for the pipe to become readable, then reads
    which signals arrived. Nothing runs at an arbitrary point of the
    program, and a signal that arrives just before the wait is not lost.
    There is one wakeup fd per process, hence one inbox at a time.
    """

    def __init__(self, signums):
        self._signums = signums
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in signums:
            signal.signal(signum, _ignore_signal)

    def fileno(self):
        return self._read_fd

    def received(self):
        """The signals that arrived since the last call.

        Meant to be called once the pipe is readable. One read only: a
        monkey-patched os.read would wait, not fail, on an empty pipe.
        """
        try:
            return set(os.read(self._read_fd, 4096))
        except BlockingIOError:
            return set()

    def close(self):
        """Give the signals their default actions back."""
        for signum in self._signums:
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        os.close(self._read_fd)
        os.close(self._write_fd)


# Request headers whose names may hold underscores. eventlet drops every
# such header, lest a client slip X_Roles past a proxy that strips X-Roles
# (both would land in HTTP_X_ROLES); the classic API's metadata headers
# are spelled with underscores (x-image-meta-disk_format), and there both
# spellings name the same field anyway.
UNDERSCORE_HEADER_PREFIXES = ('x-image-meta-',)


# -- the request's head: what is refused before the application sees it ----
#
# The reference is upstream's glance-api under gunicorn (upstream 33.0.0
# ships no daemon of its own; under uwsgi's --http-socket most of these
# requests get no answer at all, or a 500): the same statuses, and bodies
# in gunicorn's shape. Where we differ, the comment at the check says why.
# Every refusal closes the connection: after a head we could not read, or
# a body whose length we cannot be sure of, nothing on it can be trusted
# to start a request (request smuggling).

# RFC 9110 5.6.2: the characters of a token (a method, a header name).
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# method SP request-target SP HTTP-version CRLF (RFC 9112 3). The target
# may hold bytes above 0x7f: the application answers those.
_REQUEST_LINE = re.compile(
    _TOKEN + rb' [^\x00-\x20\x7f]+ HTTP/([0-9])\.[0-9]\r\n\Z')
_VERSION = re.compile(rb'HTTP/[0-9]\.[0-9]\r\n\Z')
_TOKEN_ONLY = re.compile(_TOKEN + rb'\Z')
# field-name ":" OWS field-value OWS CRLF (RFC 9112 5): no control
# character in the value but HTAB; obs-text (0x80-0xff) is allowed.
_HEADER_LINE = re.compile(
    _TOKEN + rb':[^\x00-\x08\x0a-\x1f\x7f]*\r\n\Z')
# A whole header block of such lines, and the empty line that ends it.
_HEADER_BLOCK = re.compile(
    rb'(?:' + _TOKEN + rb':[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*\r\n\Z')
# The fields of a header block that say how long the body is (lines
# check_header_lines has found well-formed).
_FRAMING_FIELDS = re.compile(
    rb'^(content-length|transfer-encoding):[ \t]*(.*?)[ \t]*\r$',
    re.IGNORECASE | re.M)
# Lines of a request's header block at most, the empty line that ends it
# included: the standard library's limit.
MAX_HEADER_LINES = 100
# Characters of a refusal's message at most (it may quote the request).
MAX_ECHOED = 200
# The compressions a Transfer-Encoding may name before chunked.
_COMPRESSIONS = ('compress', 'deflate', 'gzip')


class _HeadRefused(Exception):
    """A request head refused with `status` and `message`."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _invalid_header(name):
    return _HeadRefused(400, f"Invalid HTTP Header: '{name}'")


def check_request_line(line):
    """Raise _HeadRefused for a request line (bytes, with its line end)
    that is not method SP target SP HTTP/x.y CRLF, or whose HTTP major
    version is not 1."""
    match = _REQUEST_LINE.match(line)
    if match:
        if match.group(1) == b'1':
            return
        version = line.rsplit(b' ', 1)[1].strip().decode('latin-1')
        # Here we differ: gunicorn answers 400. A well-formed version
        # whose major number we do not serve is what 505 (RFC 9110
        # 15.6.6) is for, and it tells the client which fault it made.
        raise _HeadRefused(505, f"Unsupported HTTP Version: '{version}'")
    words = line.rstrip(b'\r\n').decode('latin-1')
    if (line.endswith(b'\r\n') and len(words.split(' ')) == 3
            and not _VERSION.search(line)):
        raise _HeadRefused(400, "Invalid HTTP Version: "
                                f"'{words.rsplit(' ', 1)[1]}'")
    raise _HeadRefused(400, f"Invalid HTTP request line: '{words}'")


def check_header_lines(block, lines):
    """Raise _HeadRefused unless every line of the header block (`block`,
    the bytes of `lines`, each with its line end, the empty line that
    ends the block last) is name ":" value CRLF. A line the standard
    library's parser would take otherwise (folded onto the previous
    header, split at a bare CR, or dropped with the rest of the block
    after a name holding a space) could make us see other headers than
    a proxy in front of us did."""
    if _HEADER_BLOCK.match(block):
        # The usual case, in one match; the lines one by one only to say
        # which one is wrong.
        return
    name = ''
    for line in lines[:-1]:
        if line[:1] in (b' ', b'\t'):
            raise _HeadRefused(
                400, f"Obsolete line folding is unacceptable: '{name}'")
        name_bytes = line.split(b':', 1)[0].rstrip(b'\r\n')
        name = name_bytes.decode('latin-1')
        if _HEADER_LINE.match(line):
            continue
        if b':' in line and not _TOKEN_ONLY.match(name_bytes):
            raise _HeadRefused(400, f"Invalid HTTP header name: '{name}'")
        raise _invalid_header(name)
    if lines and lines[-1] != b'\r\n':
        raise _HeadRefused(400, 'Invalid HTTP request: bare LF as line '
                                'terminator')


def check_framing(headers, http_version):
    """Raise _HeadRefused unless the body's length is beyond doubt: at most
    one Content-Length, of digits only; Transfer-Encoding, if sent, only
    chunked, once, last, in HTTP/1.1, without a Content-Length.

    `headers` are the request's Content-Length and Transfer-Encoding
    fields in order, as _FRAMING_FIELDS finds them: (name, value) pairs
    of bytes. Returns the transfer codings named, lower-cased."""
    content_length = None
    codings = []
    for name, value in headers:
        name = name.lower().decode('latin-1')
        value = value.decode('latin-1')
        if name == 'content-length':
            if content_length is not None:
                # Two, even equal: which one a proxy used is unknown.
                raise _invalid_header('CONTENT-LENGTH')
            content_length = value
        elif name == 'transfer-encoding':
            for coding in value.split(','):
                coding = coding.strip(' \t').lower()
                if coding not in ('chunked', 'identity') + _COMPRESSIONS:
                    # RFC 9112 6.1: 501 for a coding we do not know.
                    raise _HeadRefused(
                        501, f"Unsupported transfer coding: '{value}'")
                if 'chunked' in codings:
                    # Nothing may follow chunked, not even chunked again.
                    raise _invalid_header('TRANSFER-ENCODING')
                codings.append(coding)
    if codings:
        if codings[-1] != 'chunked' or http_version < (1, 1):
            # RFC 9112 6.3: with no chunked last, the body has no length
            # we can know; and 6.1: HTTP/1.0 has no chunked framing.
            raise _invalid_header('TRANSFER-ENCODING')
        if content_length is not None:
            raise _invalid_header('CONTENT-LENGTH')
        if set(codings) & set(_COMPRESSIONS):
            # Here we differ: gunicorn passes a compressed body on to the
            # application, which would store the compressed bytes as the
            # image (or answer that no body came). Nothing here decodes
            # it: 501, as RFC 9112 6.1 says for a coding not understood.
            raise _HeadRefused(501, "Unsupported transfer coding: "
                                    f"'{', '.join(codings)}'")
    elif content_length is not None and not (
            content_length.isascii() and content_length.isdigit()):
        raise _invalid_header('CONTENT-LENGTH')
    return codings


def refusal(status, message):
    """The bytes of the answer to a refused request head."""
    phrase = http.HTTPStatus(status).phrase
    body = ('<html>\n'
            '  <head>\n'
            f'    <title>{phrase}</title>\n'
            '  </head>\n'
            '  <body>\n'
            f'    <h1><p>{phrase}</p></h1>\n'
            f'    {html.escape(message[:MAX_ECHOED])}\n'
            '  </body>\n'
            '</html>\n').encode()
    return (f'HTTP/1.1 {status} {phrase}\r\n'
            'Connection: close\r\n'
            'Content-Type: text/html\r\n'
            f'Content-Length: {len(body)}\r\n'
            f'Date: {email.utils.formatdate(usegmt=True)}\r\n'
            '\r\n').encode() + body


def _http_protocol():
    """eventlet's HTTP protocol, keeping the classic API's headers, and
    refusing the request heads that are not plain HTTP/1.x."""
    import eventlet.wsgi

    class HttpProtocol(eventlet.wsgi.HttpProtocol):
        def formalize_key_naming(self, k):
            if k.lower().startswith(UNDERSCORE_HEADER_PREFIXES):
                return k.replace('-', '_').upper()
            return super().formalize_key_naming(k)

        def get_environ(self):
            environ = super().get_environ()
            environ[SEND_FILE] = functools.partial(_send_file,
                                                   self.connection)
            # check_header_lines refused control characters in values.
            environ[wsgi.HEADERS_CHECKED] = True
            return environ

        def parse_request(self):
            # Called by eventlet once the request line is read (one
            # longer than its limit is answered 414 before this), with
            # the headers still to read.
            try:
                return self._parse_and_check_request()
            except _HeadRefused as refused:
                self.send_error(refused.status, refused.message)
                return False

        def _parse_and_check_request(self):
            if not self.raw_requestline.strip():
                # An empty line: the standard library closes quietly.
                return super().parse_request()
            check_request_line(self.raw_requestline)
            # The header block as it came, before the standard library's
            # parser reshapes it.
            block = self._whole_head_in_buffer()
            if block is None:
                block = self._read_and_check_header_lines()
                if block is None:
                    return False
            socket_file, self.rfile = self.rfile, io.BytesIO(block)
            try:
                if not super().parse_request():
                    return False
            finally:
                self.rfile = socket_file
            framing = _FRAMING_FIELDS.findall(block)
            if not framing:
                return True
            major, minor = self.request_version[5:].split('.')
            codings = check_framing(framing, (int(major), int(minor)))
            if codings and codings != ['chunked']:
                # identity before chunked: eventlet reads a body chunked
                # only if that is all the header says.
                del self.headers['Transfer-Encoding']
                self.headers['Transfer-Encoding'] = 'chunked'
            return True

        def _whole_head_in_buffer(self):
            """The request's header block, consumed, when it is all in the
            socket file's buffer already, well-formed and within eventlet's
            limits: the usual request, checked in one match rather than
            line by line through eventlet's file (1% of a GET's
            instructions, measured by bench/instructions.py). Otherwise
            None, with nothing consumed."""
            socket_file = self.rfile.fp  # under eventlet's limiting file
            # Shorter than eventlet's line limit (max_header_line): no
            # line of it is longer.
            limit = min(eventlet.wsgi.MAX_HEADER_LINE,
                        eventlet.wsgi.MAX_TOTAL_HEADER_SIZE)
            buffered = socket_file.peek()
            if buffered[:2] == b'\r\n':
                size = 2  # no header at all
            else:
                size = buffered.find(b'\r\n\r\n', 0, limit)
                if size < 0:
                    return None
                size += 4
            block = buffered[:size]
            if (size >= limit
                    or block.count(b'\n') > MAX_HEADER_LINES
                    or not _HEADER_BLOCK.match(block)):
                return None
            socket_file.read(size)
            return block

        def _read_and_check_header_lines(self):
            """The header block read line by line through eventlet's file,
            which limits its size; None if the client closed first."""
            lines = []
            readline = self.rfile.readline
            while True:
                if len(lines) >= MAX_HEADER_LINES:
                    # Before the standard library's own limit (the same,
                    # with another message).
                    raise _HeadRefused(431, "Error parsing headers: "
                                            "'limit request headers "
                                            "fields'")
                try:
                    line = readline()
                except (eventlet.wsgi.HeaderLineTooLong,
                        eventlet.wsgi.HeadersTooLarge):
                    raise _HeadRefused(431, "Error parsing headers: "
                                            "'limit request headers "
                                            "fields size'")
                lines.append(line)
                if line in (b'\r\n', b'\n', b''):
                    break
            if line == b'':
                self.close_connection = True
                return None
            block = b''.join(lines)
            check_header_lines(block, lines)
            return block

        def send_error(self, code, message=None, explain=None):
            # Also what the standard library's parse_request calls for
            # the faults it finds (ours are checked first, so these should
            # not come): its own version answers a request line without a
            # valid version with a body and no status line, and logs to
            # stderr.
            self.close_connection = True
            message = message or http.HTTPStatus(code).phrase
            ACCESS_LOG.info('%s refused: %d %s (%.200r)',
                            self.client_address[0], code, message,
                            self.raw_requestline)
            self.wfile.write(refusal(code, message))

    return HttpProtocol


# environ key of the function that sends a file range on the connection.
SEND_FILE = 'glance.send_file'
SEND_FILE_BUFFER_BYTES = 4 * 1024 * 1024


def _send_file(connection, image_file, offset, length):
    """Send `length` bytes of a file from `offset` by the kernel
    (sendfile), waiting for the green socket as eventlet would."""
    from eventlet import hubs

    out_fd = connection.fileno()
    in_fd = image_file.fileno()
    # A deep send buffer: fewer waits for the socket to drain.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF,
                          SEND_FILE_BUFFER_BYTES)
    while length > 0:
        try:
            sent = os.sendfile(out_fd, in_fd, offset, length)
        except BlockingIOError:
            hubs.trampoline(out_fd, write=True,
                            timeout=connection.gettimeout(),
                            timeout_exc=TimeoutError('timed out'))
            continue
        if not sent:
            raise OSError(f'{length} bytes of the file are missing')
        offset += sent
        length -= sent


def _internal_server_error(environ, start_response, exc_info):
    def start_replacing_headers(status, headers):
        # exc_info: the application may have started a response already.
        return start_response(status, headers, exc_info)

    return webob.exc.HTTPInternalServerError()(environ,
                                               start_replacing_headers)


def _listen(host, port):
    import eventlet

    try:
        family = socket.getaddrinfo(
            host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)[0][0]
        # No SO_REUSEPORT: a second server on the same port must fail to
        # start, not quietly share the connections.
        sock = eventlet.listen((host, port), family=family,
                               backlog=CONF.backlog, reuse_port=False)
    except OSError as error:
        raise OSError(error.errno, f'Unable to listen on {host} port {port}: '
                                   f'{error.strerror or error}')
    # Accepted connections inherit these: clients that vanished without
    # closing their connection are noticed and their sockets freed.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, 'TCP_KEEPIDLE'):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE,
                        CONF.tcp_keepidle)
    # An answer larger than the write buffer leaves in two writes; with
    # Nagle's algorithm the second waits for the client's delayed ACK
    # (40 ms on Linux). Answers are written whole, so send at once.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _describe_exit(status):
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f'killed by {signal.Signals(-code).name}'
    return f'exit status {code}'


class _StopAccepting(BaseException):
    """Thrown into the server's accept() to make it stop taking connections.

    A BaseException, so that no `except Exception` on the way swallows it.
    """


class _Listener:
    """The listening socket as eventlet's server sees it.

    When eventlet's server leaves its accept loop, it at once shuts down
    every connection with no request under way, including one accepted an
    instant earlier whose request is still on its way. So a process stops
    in two steps: `stop_accepting()` parks the server in accept() and closes
    the socket; a moment later, SystemExit thrown into the server makes it
    leave its loop and wait for the requests in progress.
    """

    def __init__(self, sock):
        self._sock = sock
        self.family = sock.family
        self._accepting = True
        self._in_accept = False

    def getsockname(self):
        return self._sock.getsockname()

    def close(self):
        self._sock.close()

    def accept(self):
        import eventlet

        if self._accepting:
            self._in_accept = True
            try:
                return self._sock.accept()
            except _StopAccepting:
                pass
            finally:
                self._in_accept = False
        # Parked: an event nobody sends; the server's SystemExit ends this.
        eventlet.Event().wait()

    def stop_accepting(self, server):
        """Stop taking connections; `server` is the server's greenthread."""
        self._accepting = False
        if self._in_accept:
            server.kill(_StopAccepting)
        # Stop listening now rather than after the last request: once every
        # process has closed the socket, connections are refused instead of
        # queued and dropped.
        self._sock.close()


class _Stopper:
    """Stops a serving process once, whoever asks first (a stop signal,
    the master's death): no more connections, then the requests in
    progress finish."""

    def __init__(self, server, listener):
        self._server = server
        self._listener = listener
        self._stopping = False

    def stop(self):
        import eventlet

        if self._stopping:
            return
        self._stopping = True
        self._listener.stop_accepting(self._server)
        eventlet.sleep(REQUEST_START_GRACE)
        # eventlet's server leaves its accept loop on SystemExit, then
        # waits for the requests in progress before returning. (Twice
        # would cut that wait short.)
        self._server.kill(SystemExit)


def _watch_master(master_alive_fd, stopper):
    """Stop the worker when its master dies, and exit if its requests
    outlast ORPHANED_WORKER_GRACE.

    The master holds the only write end of a pipe, never written: the read
    end, which every worker inherits, reads end-of-file once the master
    has exited, however it died. Unlike prctl(PR_SET_PDEATHSIG) (Linux
    only, and tied to the thread that forked rather than to the process),
    it has no window between fork() and the call where the death goes
    unseen (the end-of-file stays), needs no signal handling, and works
    under any seccomp filter that allows a pipe.
    """
    import eventlet
    from eventlet import hubs

    while True:
        hubs.trampoline(master_alive_fd, read=True)
        try:
            if not os.read(master_alive_fd, 1):
                break
        except BlockingIOError:
            continue
    LOG.error('Worker %d: the master process is gone; stopping, with %g '
              'seconds for the requests in progress', os.getpid(),
              ORPHANED_WORKER_GRACE)
    deadline = eventlet.spawn_after(ORPHANED_WORKER_GRACE, _abandon_requests)
    try:
        stopper.stop()
        # Killed with the other watchers once the last request is done.
        eventlet.Event().wait()
    finally:
        deadline.cancel()


def _abandon_requests():
    LOG.error('Worker %d: requests still in progress %g seconds after the '
              'master died; exiting', os.getpid(), ORPHANED_WORKER_GRACE)
    os._exit(1)


def _send_signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _freeze_start_up_objects():
    """Set what start-up built (the application, the libraries) aside
    from the garbage collector: it lives as long as the process, yet each
    full collection walked all of it, stalling a worker's requests for
    ~70 ms, and forked workers now leave its pages shared."""
    gc.collect()
    gc.freeze()


class Server:
    """Serves a WSGI application the way the glance-api daemon does.

    `start()` binds the listening socket and, if CONF.workers is 1 or more,
    forks that many workers; `wait()` then supervises them until SIGTERM or
    SIGINT. With CONF.workers = 0, `wait()` serves in this very process.

    `threads` is the number of requests a process serves at once.
    `app_loader`, if given, is called on SIGHUP to build the application
    anew, after the configuration files have been read again (only if
    they load and every value is valid: see config.reload_config).
    """

    def __init__(self, threads=1000, app_loader=None):
        self.threads = threads
        self.app_loader = app_loader
        self.application = None
        self._socket = None
        self._inbox = None
        self._in_process = False
        self._workers = {}       # pid -> start time, of the current workers
        # (read end, write end) of the pipe that tells the workers the
        # master is alive: see _watch_master.
        self._master_alive = None
        self._retiring = set()   # workers told to finish and exit
        self._stopping = False

    def start(self, application, default_port):
        self.application = application
        self._socket = _listen(CONF.bind_host, CONF.bind_port or default_port)
        self._in_process = CONF.workers == 0
        if self._in_process:
            self._inbox = _SignalInbox(STOP_SIGNALS + (signal.SIGHUP,))
            _freeze_start_up_objects()
        else:
            self._inbox = _SignalInbox(
                STOP_SIGNALS + (signal.SIGHUP, signal.SIGCHLD))
            self._master_alive = os.pipe()
            os.set_blocking(self._master_alive[0], False)
            for _ in range(CONF.workers):
                self._start_worker()
        LOG.info('Listening on %s port %s (workers: %d)', CONF.bind_host,
                 self._socket.getsockname()[1], CONF.workers)
        systemd.notify('READY=1')

    def wait(self):
        """Serve, or supervise the workers, until told to stop."""
        if self._in_process:
            self._serve(self._inbox, reload_on_hangup=True)
            self._inbox = None
        else:
            self._supervise()

    # -- serving (in a worker, or in process when workers = 0) ------------

    def _call_application(self, environ, start_response):
        """Run the application (looked up on every request, so that when
        serving in process a reload takes effect at once); a body that is
        a range of a file goes out by sendfile."""
        writes = []

        def start_response_keeping_write(status, headers, exc_info=None):
            write = start_response(status, headers, exc_info)
            writes.append(write)
            return write

        try:
            result = self.application(environ, start_response_keeping_write)
        except Exception:
            # Raised outside the API's resources (which answer their own
            # errors), by a filter say: logged at ERROR with the
            # traceback, and webob's 500 rather than eventlet's empty one.
            LOG.exception('Unexpected error answering %s %s',
                          environ['REQUEST_METHOD'], environ['PATH_INFO'])
            return _internal_server_error(environ, start_response,
                                          sys.exc_info())
        file_range = getattr(result, 'file_range', None)
        send_file = environ.get(SEND_FILE)
        if file_range is None or send_file is None or not writes:
            return result
        try:
            writes[-1](b'')  # the status line and headers
            send_file(*file_range)
        except (BrokenPipeError, ConnectionResetError):
            # The client hung up: its answer ends here, as it would when
            # eventlet writes chunks.
            LOG.debug('Client gone during a download: %s',
                      environ.get('PATH_INFO'))
        finally:
            result.close()
        return []

    def _serve(self, inbox, reload_on_hangup, master_alive_fd=None):
        """Serve until stopped, then finish the requests in progress.

        The green threads that live as long as the serving process (here
        the watchers of signals and of the master) are spawned below and
        killed when it stops: a periodic task of each process belongs
        with them."""
        import eventlet
        import eventlet.wsgi

        # eventlet reads this module global while it parses headers.
        eventlet.wsgi.MAX_HEADER_LINE = CONF.max_header_line
        listener = _Listener(self._socket)
        server = eventlet.spawn(
            eventlet.wsgi.server, listener, self._call_application,
            custom_pool=eventlet.GreenPool(self.threads),
            log=ACCESS_LOG,
            keepalive=CONF.http_keepalive,
            socket_timeout=CONF.client_socket_timeout or None,
            protocol=_http_protocol(),
            # Tracebacks go to the log, never to the client.
            debug=False)
        stopper = _Stopper(server, listener)
        watchers = [eventlet.spawn(self._watch_signals, inbox, stopper,
                                   reload_on_hangup)]
        if master_alive_fd is not None:
            watchers.append(eventlet.spawn(
                _watch_master, master_alive_fd, stopper))
        try:
            server.wait()
        finally:
            for watcher in watchers:
                watcher.kill()
            inbox.close()

    def _watch_signals(self, inbox, stopper, reload_on_hangup):
        from eventlet import hubs

        while True:
            hubs.trampoline(inbox.fileno(), read=True)
            received = inbox.received()
            if signal.SIGHUP in received and reload_on_hangup:
                self._reload()
            if received.intersection(STOP_SIGNALS):
                LOG.info('Process %d stopping: finishing the requests in '
                         'progress', os.getpid())
                stopper.stop()
                return

    # -- the master ---------------------------------------------------------

    def _start_worker(self):
        # Signals wait until the child has its own handlers: delivered in
        # between, they would be written to the master's pipe and be lost.
        _freeze_start_up_objects()
        signal_mask = signal.pthread_sigmask(
            signal.SIG_BLOCK, STOP_SIGNALS + (signal.SIGHUP, signal.SIGCHLD))
        try:
            pid = os.fork()
            if pid == 0:
                self._run_worker(signal_mask)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, signal_mask)
        self._workers[pid] = time.monotonic()
        LOG.info('Started worker %d', pid)

    def _run_worker(self, signal_mask):
        """The life of a worker process; never returns."""
        status = 1
        try:
            # The master's death must close the pipe: only it may hold
            # the write end.
            master_alive_fd, write_end = self._master_alive
            os.close(write_end)
            import eventlet.hubs

            # A hub of its own: the inherited one shares the master's
            # epoll instance with every other worker.
            eventlet.hubs.use_hub()
            self._inbox.close()
            # Reloading is the master's business; a stray SIGHUP (a hang-up
            # of the terminal, say) must not kill the worker.
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            inbox = _SignalInbox(STOP_SIGNALS)
            signal.pthread_sigmask(signal.SIG_SETMASK, signal_mask)
            self._serve(inbox, reload_on_hangup=False,
                        master_alive_fd=master_alive_fd)
            status = 0
        except BaseException:
            LOG.exception('Worker %d failed', os.getpid())
        finally:
            # os._exit: nothing of the master (finally blocks up the stack,
            # atexit handlers) may run in the worker.
            os._exit(status)

    def _supervise(self):
        from eventlet import patcher

        # The master never runs eventlet's hub: it sleeps in the real
        # select() until a signal arrives.
        select = patcher.original('select')
        try:
            while not self._stopping or self._workers or self._retiring:
                select.select([self._inbox], [], [])
                received = self._inbox.received()
                if received.intersection(STOP_SIGNALS) and not self._stopping:
                    self._stop_workers()
                elif signal.SIGHUP in received and not self._stopping:
                    self._reload()
                self._reap_workers()
        except BaseException:
            # Leave no orphaned workers serving behind a dead master.
            for pid in list(self._workers) + list(self._retiring):
                _send_signal(pid, signal.SIGTERM)
            raise
        finally:
            self._inbox.close()
            self._inbox = None
        LOG.info('All workers have exited')

    def _reap_workers(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            started = self._workers.pop(pid, None)
            self._retiring.discard(pid)
            if started is None or self._stopping:
                LOG.info('Worker %d exited (%s)', pid, _describe_exit(status))
                continue
            LOG.error('Worker %d exited unexpectedly (%s); starting another',
                      pid, _describe_exit(status))
            if time.monotonic() - started < MIN_WORKER_LIFETIME:
                time.sleep(MIN_WORKER_LIFETIME)
            self._start_worker()

    def _stop_workers(self):
        LOG.info('Stopping: the workers finish the requests in progress')
        self._stopping = True
        systemd.notify('STOPPING=1')
        # The workers hold their own copies of the socket and close them
        # as they stop.
        self._socket.close()
        for pid in list(self._workers) + list(self._retiring):
            _send_signal(pid, signal.SIGTERM)

    # -- reloading (SIGHUP) -------------------------------------------------

    def _reload(self):
        """Read the configuration again and rebuild the application; the
        master then replaces its workers with ones running it."""
        LOG.info('SIGHUP: reloading the configuration')
        systemd.notify('RELOADING=1')
        # What the new application replaces must be collectable.
        gc.unfreeze()
        try:
            application = self._rebuild_application()
            if application is not None:
                self.application = application
                if not self._in_process:
                    self._replace_workers()
        finally:
            if self._in_process:
                _freeze_start_up_objects()
            systemd.notify('READY=1')

    def _rebuild_application(self):
        """The application for the new configuration, or None if the
        reload failed: the running configuration and application then
        keep serving, and one error line says why."""
        try:
            config.reload_config()
        except config.ConfigError as error:
            failure = f'the running configuration keeps serving: {error}'
        else:
            if self.app_loader is None:
                return self.application
            try:
                return self.app_loader()
            except Exception as error:
                LOG.debug('The application could not be rebuilt',
                          exc_info=True)
                failure = f'the running application keeps serving: {error}'
        # Outside the except clauses: a line logged there would get the
        # exception appended by oslo.log.
        LOG.error('Reload failed, %s', failure)
        return None

    def _replace_workers(self):
        # The new workers start before the old ones are told to stop, and
        # the listening socket stays open throughout: no connection is
        # refused. The old workers finish their requests in progress.
        old_workers = list(self._workers)
        self._retiring.update(old_workers)
        self._workers = {}
        for _ in range(max(CONF.workers, 1)):
            self._start_worker()
        for pid in old_workers:
            _send_signal(pid, signal.SIGTERM)
