"""The glance-api daemon: the Image API served by eventlet workers.

    glance-api --config-file /etc/glance/glance-api.conf

SIGHUP reloads the configuration and restarts the workers; SIGTERM stops
after the requests in progress are done. See glance.common.server.Server.
"""
import sys

from oslo_log import log as logging

from glance import store
from glance.common import config
from glance.common import server as api_server

LOG = logging.getLogger(__name__)

DEFAULT_PORT = 9292


def _reload():
    """Rebuild the application after the configuration was read again."""
    store.create_stores()
    return config.load_paste_app('glance-api')


def main():
    try:
        config.parse_args()
        config.setup_logging()
        store.create_stores()
        server = api_server.Server(app_loader=_reload)
        server.start(config.load_paste_app('glance-api'),
                     default_port=DEFAULT_PORT)
    except Exception as error:
        # The operator gets one line; the traceback is in the log at debug.
        LOG.debug('glance-api failed to start', exc_info=True)
        sys.exit(f'glance-api: ERROR: {error}')
    server.wait()


if __name__ == '__main__':
    main()
