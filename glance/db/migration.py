"""Schema migrations with alembic (used by glance-manage and at start-up)."""
import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

import glance.db

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')


def _config():
    config = alembic_config.Config()
    config.set_main_option('script_location', MIGRATIONS_DIR)
    return config


def head_version():
    return alembic_script.ScriptDirectory.from_config(
        _config()).get_current_head()


def current_version():
    """The revision the database is at, or None if it has no schema."""
    with glance.db.get_engine().connect() as connection:
        context = alembic_migration.MigrationContext.configure(connection)
        return context.get_current_revision()


def upgrade(revision='head'):
    command.upgrade(_config(), revision)
