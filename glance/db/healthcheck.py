"""The database as a /healthcheck backend (oslo.middleware).

`backends = database` in [app:healthcheck] of glance-api-paste.ini (entry
point group oslo.middleware.healthcheck). It extends upstream's
disable_by_file backend rather than sitting beside it: each backend adds
its reason to the answer, and one backend keeps upstream's bodies ("OK",
"DISABLED BY FILE") while adding 503 when the database cannot be read.
"""
from oslo_middleware.healthcheck import disable_by_file
from oslo_middleware.healthcheck import pluginbase
import sqlalchemy

import glance.db

# Reads the schema's own table rather than SELECT 1: on SQLite a bare
# SELECT 1 never touches the file, so a database emptied of its schema
# (or a damaged file) would still look healthy.
PROBE = sqlalchemy.text('SELECT version_num FROM alembic_version')


class DatabaseHealthcheck(disable_by_file.DisableByFileHealthcheck):
    """Unavailable (503) when disabled by file or while the database
    cannot be read."""

    def healthcheck(self, server_port):
        result = super().healthcheck(server_port)
        if not result.available:
            return result
        try:
            with glance.db.reading() as connection:
                connection.execute(PROBE).fetchall()
        except Exception as error:
            # Whatever the driver raises: the database is not usable.
            return pluginbase.HealthcheckResult(
                available=False, reason='DATABASE UNAVAILABLE',
                details=glance.db.driver_message(error))
        return result
