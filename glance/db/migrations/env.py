"""alembic environment: migrate the database [database] connection names."""
from alembic import context

import glance.db
from glance.db import models


def run_migrations():
    engine = glance.db.get_engine()
    with engine.connect() as connection:
        context.configure(connection=connection,
                          target_metadata=models.Base.metadata,
                          render_as_batch=engine.dialect.name == 'sqlite')
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
