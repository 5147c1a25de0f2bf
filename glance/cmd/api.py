"""The glance-api daemon: the Image API served by eventlet workers.

    glance-api --config-file /etc/glance/glance-api.conf

SIGHUP reloads the configuration and restarts the workers; SIGTERM stops
after the requests in progress are done. See glance.common.server.Server.
"""
import sys

from oslo_log import log as logging

from glance import app
from glance.common import server as api_server

LOG = logging.getLogger(__name__)

DEFAULT_PORT = 9292


def main():
    try:
        application = app.load_app()
        server = api_server.Server(app_loader=app.build_app)
        server.start(application, default_port=DEFAULT_PORT)
    except Exception as error:
        # The operator gets one line; the traceback is in the log at debug.
        LOG.debug('glance-api failed to start', exc_info=True)
        sys.exit(f'glance-api: ERROR: {error}')
    server.wait()


if __name__ == '__main__':
    main()
