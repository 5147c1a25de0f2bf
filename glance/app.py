"""The start-up of glance-api: one sequence for every way it is served.

    load_app()     parse the configuration, then build_app()
    build_app()    logging, option values, stores, database schema, the
                   sweep of unfinished uploads, and the paste application

The daemon (glance.cmd.api) and the WSGI entry point (glance.wsgi.api) call
load_app(); on SIGHUP the daemon reads the files again
(glance.common.config.reload_config) and calls build_app().
"""
from glance import store
from glance.common import config
import glance.db
from glance.images import legacy_import  # noqa: F401 (its sweep)
from glance.images import uploads
import glance.opts  # noqa: F401 (every option registered: see build_app)

APP_NAME = 'glance-api'


def load_app(args=None, default_config_files=None):
    """Parse the command line (None: sys.argv) and the configuration
    files, and build the application."""
    config.parse_args(args=args, prog=APP_NAME,
                      default_config_files=default_config_files)
    return build_app()


def build_app():
    """The application for the configuration in CONF.

    Raises, with a message of one line, when a setting is invalid, a
    store is unusable or the database is unreachable or lacks the schema.
    """
    config.setup_logging()
    # Every option of the service is registered (glance.opts imports the
    # modules declaring them): each value is checked now.
    config.check_values()
    store.create_stores()
    glance.db.ensure_schema()
    # Uploads (and deletions) a dead process left unfinished end now.
    uploads.sweep_at_start()
    return uploads.KeeperStarter(config.load_paste_app(APP_NAME))
