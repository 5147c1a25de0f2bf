"""A tiny WSGI application for the server tests, and a launcher for it.

Run as a script, it serves the application with glance.common.server.Server,
the way glance-api does, and exits 1 with one line on stderr if the server
cannot start:

    python server_app.py --config-file server.conf

`app_factory` also makes it usable from a paste file, which lets the tests
run the real glance-api command with it. The application answers:

    /pid        the pid of the process serving the request
    /greeting   [test_app] greeting, as it was when the application was built
                (so a changed answer proves the application was rebuilt)
    /echo       "<length> <sha256> <Transfer-Encoding>" of the request body
    /slow?seconds=S&marker=PATH
                creates the file PATH, then answers "done" after S seconds
    /boom       raises, to check that no traceback reaches the client
"""
if __name__ == '__main__':
    # Monkey patching first, as in glance-api; not when paste loads this
    # module into glance.wsgi.api, which must stay free of eventlet.
    import glance.cmd  # noqa: F401

import hashlib
import logging
import os
import sys
import time
from urllib import parse

from oslo_config import cfg

from glance.common import server as api_server

CONF = cfg.CONF
CONF.register_opts([cfg.StrOpt('greeting', default='hello')],
                   group='test_app')


def make_app():
    greeting = CONF.test_app.greeting

    def application(environ, start_response):
        path = environ['PATH_INFO']
        query = dict(parse.parse_qsl(environ.get('QUERY_STRING', '')))
        if path == '/pid':
            body = str(os.getpid())
        elif path == '/greeting':
            body = greeting
        elif path == '/echo':
            data = environ['wsgi.input'].read()
            body = ' '.join([str(len(data)), hashlib.sha256(data).hexdigest(),
                             environ.get('HTTP_TRANSFER_ENCODING', '-')])
        elif path == '/slow':
            with open(query['marker'], 'w'):
                pass
            time.sleep(float(query['seconds']))  # green: monkey patched
            body = 'done'
        elif path == '/boom':
            raise RuntimeError('boom')
        else:
            start_response('404 Not Found', [('Content-Type', 'text/plain')])
            return [b'not found']
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [body.encode('utf-8')]

    return application


def app_factory(global_conf, **local_conf):
    return make_app()


def main():
    logging.basicConfig(
        level=logging.DEBUG, stream=sys.stderr,
        format='%(asctime)s %(process)d %(levelname)s %(name)s %(message)s',
        # oslo.log (imported by the server) gives the root a handler.
        force=True)
    CONF(sys.argv[1:], project='glance', prog='server_app',
         default_config_files=[])
    server = api_server.Server(threads=100, app_loader=make_app)
    try:
        server.start(make_app(), default_port=9292)
    except OSError as error:
        sys.exit(f'server_app: {error}')
    server.wait()


if __name__ == '__main__':
    main()
