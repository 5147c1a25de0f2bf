"""The Image API as a WSGI application, for an external WSGI server:

    OS_GLANCE_CONFIG_DIR=/etc/glance uwsgi --http-socket :9292 \
        --module glance.wsgi.api:application --need-app \
        --master --processes 4 --threads 2 --die-on-term \
        --add-header 'Connection: close' \
        --chunked-input-limit 16777216 --socket-timeout 30
    OS_GLANCE_CONFIG_DIR=/etc/glance gunicorn --bind :9292 \
        --workers 4 --worker-class gthread --threads 4 \
        --header-map dangerous glance.wsgi.api:application

uwsgi's --http-socket closes each connection after one answer, which
'Connection: close' tells the clients; a chunked body (the glance CLI's,
in 1 MiB chunks) is read through uwsgi's chunked-input API, whose chunks
may be at most --chunked-input-limit bytes; --socket-timeout is how long a
read of the body may wait for the client (the flags upstream documents,
--http-chunked-input --http-auto-chunked --http-raw-body, are for uwsgi's
--http router, and do nothing here). gunicorn's gthread workers keep
answering the master's timeout check while a slow upload goes on (a sync
worker is killed after --timeout); v1 clients send headers with
underscores (x-image-meta-disk_format), which gunicorn drops unless
--header-map dangerous.

The configuration is <dir>/glance-api.conf when the environment variable
OS_GLANCE_CONFIG_DIR names a directory, as with upstream Glance, and the
usual glance-api.conf otherwise; the paste file is looked up beside it.
The hosting server owns processes and concurrency: unlike glance-api,
nothing is monkey patched here.
"""
import os

from glance import app

CONFIG_DIR_VARIABLE = 'OS_GLANCE_CONFIG_DIR'


def _config_files():
    """The configuration files to read; None means the usual search."""
    config_dir = os.environ.get(CONFIG_DIR_VARIABLE, '').strip()
    if not config_dir:
        return None
    return [os.path.join(config_dir, 'glance-api.conf')]


def init_application():
    # args=[]: the command line belongs to the hosting server.
    return app.load_app(args=[], default_config_files=_config_files())


application = init_application()
