"""The database as a /healthcheck backend (oslo.middleware).

Listed as `database` in the `backends` of [app:healthcheck] in
glance-api-paste.ini (entry point group oslo.middleware.healthcheck).
"""
from oslo_middleware.healthcheck import pluginbase
import sqlalchemy

import glance.db

# Reads the schema's own table rather than SELECT 1: on SQLite a bare
# SELECT 1 never touches the file, so a damaged or replaced file (or a
# database emptied of its schema) would still look healthy.
PROBE = sqlalchemy.text('SELECT version_num FROM alembic_version')


class DatabaseHealthcheck(pluginbase.HealthcheckBaseExtension):
    """Unavailable (503) while the database cannot be read."""

    def healthcheck(self, server_port):
        try:
            with glance.db.reading() as connection:
                connection.execute(PROBE).fetchall()
        except Exception as error:
            # Whatever the driver raises: the database is not usable.
            return pluginbase.HealthcheckResult(
                available=False, reason='DATABASE UNAVAILABLE',
                details=glance.db.driver_message(error))
        return pluginbase.HealthcheckResult(available=True,
                                            reason='OK')
