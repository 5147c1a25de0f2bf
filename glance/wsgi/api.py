"""The Image API as a WSGI application, for an external WSGI server:

    uwsgi --http-socket :9292 --module glance.wsgi.api:application
    gunicorn --bind :9292 glance.wsgi.api:application

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
