"""alembic environment: migrate the database [database] connection names."""
from alembic import context
from sqlalchemy import event

import glance.db
from glance.db import models


def run_migrations():
    engine = glance.db.get_engine()
    with engine.connect() as connection:
        if engine.dialect.name == 'sqlite':
            # Each migration in an SQLite transaction of its own.
            event.listen(connection, 'begin', glance.db.sqlite_begin)
        context.configure(connection=connection,
                          target_metadata=models.Base.metadata,
                          render_as_batch=engine.dialect.name == 'sqlite')
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
