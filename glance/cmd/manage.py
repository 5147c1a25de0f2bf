"""glance-manage: prepare the database and show its schema version.

    glance-manage [--config-file FILE] db sync [VERSION]
    glance-manage [--config-file FILE] db version
    glance-manage db_sync [VERSION]      (the older, upstream spellings)
    glance-manage db_version

The database is the one `[database] connection` names. Without
--config-file the files are looked up as glance-api does (glance.conf and
glance-api.conf in ~/.glance, ~, /etc/glance, /etc, else the copy pip
installed), since that is where the [database] section lives; a
glance-manage.conf found in the same places is read after them, for
settings meant only for this tool.
"""
import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
import glance.db
from glance.db import migration

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def db_sync():
    """Upgrade the schema to the VERSION given (default: the latest)."""
    migration.upgrade(CONF.command.revision or 'head')
    print('Database is synced successfully '
          f'(revision {migration.current_version()}).')


def db_version():
    current = migration.current_version()
    if current is None:
        print('The database has no Glance schema yet; run '
              '"glance-manage db sync" to create it.')
    else:
        print(current)


def _add_sync(subparsers, name):
    parser = subparsers.add_parser(
        name, help='Create or upgrade the database schema.')
    parser.add_argument('revision', nargs='?', metavar='VERSION',
                        help='The revision to upgrade to (default: head).')
    parser.set_defaults(action=db_sync)


def _add_version(subparsers, name):
    parser = subparsers.add_parser(
        name, help='Print the revision the database schema is at.')
    parser.set_defaults(action=db_version)


def add_command_parsers(subparsers):
    db = subparsers.add_parser('db', help='Database commands.')
    db_actions = db.add_subparsers(dest='db_command', title='db commands')
    db_actions.required = True
    _add_sync(db_actions, 'sync')
    _add_version(db_actions, 'version')
    _add_sync(subparsers, 'db_sync')
    _add_version(subparsers, 'db_version')


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                help='Available commands',
                                handler=add_command_parsers)


def _default_config_files():
    """glance(-api).conf as glance-api finds them, then glance-manage.conf."""
    files = cfg.find_config_files('glance', 'glance-api')
    if not files:
        installed = os.path.join(sys.prefix, 'etc', 'glance',
                                 'glance-api.conf')
        if os.path.exists(installed):
            files = [installed]
    for path in cfg.find_config_files('glance', 'glance-manage'):
        if path not in files:
            files.append(path)
    return files


def main(args=None):
    CONF.register_cli_opt(command_opt)
    # Log lines go to stderr; stdout is the answer.
    CONF.set_default('use_stderr', True)
    try:
        config.parse_args(args, prog='glance-manage',
                          default_config_files=_default_config_files())
        config.setup_logging()
        CONF.command.action()
    except Exception as error:
        # The operator gets one line; the traceback is in the log at debug.
        LOG.debug('glance-manage failed', exc_info=True)
        sys.exit(f'glance-manage: ERROR: {glance.db.driver_message(error)}')
    finally:
        glance.db.reset()


if __name__ == '__main__':
    main()
