"""Database engine and transactions.

One engine per process (worker processes are forked after start-up, and a
connection must never cross a fork). `reading()` and `writing()` open a
transaction. On SQLite, writers take the database write lock up front
(BEGIN IMMEDIATE) and queue on the busy timeout, and within one process only
one green thread writes at a time, so concurrent workers never fail with
"database is locked".
"""
import contextlib
import fcntl
import os
import sqlite3
import threading
import time

from oslo_config import cfg
import sqlalchemy
from sqlalchemy import event

CONF = cfg.CONF

database_opts = [
    cfg.StrOpt('connection', secret=True,
               default='sqlite:///$state_path/glance.sqlite',
               help='SQLAlchemy URL of the database, for example '
                    'postgresql+psycopg2://glance:pw@db/glance or '
                    'mysql+pymysql://glance:pw@db/glance. The default is an '
                    'SQLite file under state_path, whose schema is created '
                    'and upgraded at start-up; other databases are prepared '
                    'with "glance-manage db sync".'),
    cfg.IntOpt('max_pool_size', default=10, min=1,
               help='Connections kept open per worker process (server '
                    'databases only).'),
    cfg.IntOpt('max_overflow', default=20, min=0,
               help='Connections a worker may open beyond max_pool_size '
                    'under load (server databases only).'),
    cfg.IntOpt('connection_recycle_time', default=3600,
               help='Seconds after which a pooled connection is replaced, '
                    'so that servers closing idle connections do no harm.'),
    cfg.IntOpt('sqlite_busy_timeout', default=60, min=1,
               help='Seconds an SQLite writer waits for the write lock held '
                    'by another process before giving up.'),
    cfg.StrOpt('sqlite_synchronous', default='NORMAL',
               choices=['OFF', 'NORMAL', 'FULL'],
               help='SQLite "synchronous" setting. NORMAL with the '
                    'write-ahead log never corrupts the database; FULL also '
                    'survives a power loss right after a commit.'),
]
CONF.register_opts(database_opts, group='database')

_engine = None
_engine_pid = None
# One writer per process on SQLite (see the module docstring).
_sqlite_write_lock = threading.Lock()


# SQLite waits for a lock inside the C library, which under eventlet
# stalls every request of the worker; its own wait is kept this short. A
# writer that finds the write lock taken by another process waits in
# Python instead (sqlite_begin), where the worker's other requests go
# on meanwhile.
SQLITE_LIBRARY_WAIT = 0.005
WRITE_LOCK_FIRST_RETRY = 0.001
WRITE_LOCK_LONGEST_RETRY = 0.02


def _sqlite_engine(url):
    engine = sqlalchemy.create_engine(
        url, connect_args={'timeout': SQLITE_LIBRARY_WAIT,
                           'check_same_thread': False})

    @event.listens_for(engine, 'connect')
    def _configure(dbapi_connection, record):
        # The driver's own transaction handling off: reading() and
        # writing() send BEGIN themselves (see sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA journal_mode=WAL')
        cursor.execute(
            f'PRAGMA synchronous={CONF.database.sqlite_synchronous}')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.close()

    return engine


def sqlite_begin(connection, write=False):
    """Open the SQLite transaction of a connection SQLAlchemy has begun.

    SQLAlchemy's begin does nothing on pysqlite and its commit or
    rollback ends what is open, so BEGIN goes straight to the driver.
    (Not from a "begin" event: any engine event makes SQLAlchemy
    dispatch events around every statement, a tenth of a read.)
    A writer takes the write lock up front, waiting up to
    sqlite_busy_timeout for another process to release it.
    """
    driver_connection = connection.connection.driver_connection
    if not write:
        driver_connection.execute('BEGIN')
        return
    deadline = time.monotonic() + CONF.database.sqlite_busy_timeout
    retry_in = WRITE_LOCK_FIRST_RETRY
    while True:
        try:
            driver_connection.execute('BEGIN IMMEDIATE')
            return
        except sqlite3.OperationalError as error:
            if 'locked' not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(retry_in)  # green under eventlet
        retry_in = min(retry_in * 2, WRITE_LOCK_LONGEST_RETRY)


def _create_engine():
    url = sqlalchemy.engine.make_url(CONF.database.connection)
    if url.get_backend_name() == 'sqlite':
        if url.database:
            os.makedirs(os.path.dirname(os.path.abspath(url.database)),
                        exist_ok=True)
        return _sqlite_engine(url)
    return sqlalchemy.create_engine(
        url, pool_size=CONF.database.max_pool_size,
        max_overflow=CONF.database.max_overflow,
        pool_recycle=CONF.database.connection_recycle_time,
        pool_pre_ping=True)


def get_engine():
    """This process's engine (a forked worker builds its own)."""
    global _engine, _engine_pid
    if _engine is None or _engine_pid != os.getpid():
        if _engine is not None:
            # Inherited across fork: drop the parent's pool without
            # closing connections the parent still uses.
            _engine.dispose(close=False)
        _engine = _create_engine()
        _engine_pid = os.getpid()
    return _engine


def reset():
    """Forget the engine (configuration changed, or tests)."""
    global _engine, _engine_pid
    if _engine is not None and _engine_pid == os.getpid():
        _engine.dispose()
    _engine = None
    _engine_pid = None


# Transactions hand out SQLAlchemy Core connections: the queries are
# Core statements, and the ORM's unit of work would only add cost.

@contextlib.contextmanager
def reading():
    """A read transaction."""
    engine = get_engine()
    with engine.begin() as connection:
        if engine.dialect.name == 'sqlite':
            sqlite_begin(connection)
        yield connection


@contextlib.contextmanager
def writing(fresh_reads=False):
    """A write transaction, committed on success, rolled back on error.

    fresh_reads: every read sees what other transactions committed before
    it, not a snapshot of the transaction's first read (MySQL's default,
    REPEATABLE READ), so that what a lock guards is read after the lock
    is granted. PostgreSQL reads so anyway (READ COMMITTED) and SQLite
    writers run one at a time.
    """
    engine = get_engine()
    if engine.dialect.name != 'sqlite':
        if fresh_reads and engine.dialect.name == 'mysql':
            with engine.connect().execution_options(
                    isolation_level='READ COMMITTED') as connection, \
                    connection.begin():
                yield connection
            return
        with engine.begin() as connection:
            yield connection
        return
    with _sqlite_write_lock, engine.begin() as connection:
        sqlite_begin(connection, write=True)
        yield connection


class SchemaError(Exception):
    """The database cannot be served: unreachable, or not at the schema
    this code needs. The message is one line for the operator."""


def driver_message(error):
    """The first line of a database error in the driver's own words."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.orig:
        error = error.orig
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[0]


def ensure_schema():
    """Make sure at start-up that the database has the current schema.

    An SQLite file is created or upgraded here, as the README promises;
    several processes or nodes may start together on one file, so a lock
    file beside the database lets one of them migrate while the others
    wait. A server database (PostgreSQL, MySQL) is prepared by the
    operator with "glance-manage db sync": one that is not at the latest
    revision stops the start with SchemaError, rather than answering 500
    to every request.
    """
    from glance.db import migration
    try:
        engine = get_engine()
        if engine.dialect.name == 'sqlite':
            _upgrade_sqlite(engine, migration)
            return
        current = migration.current_version()
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise SchemaError(f'Unable to use the database: '
                          f'{driver_message(error)}') from error
    head = migration.head_version()
    if current is None:
        raise SchemaError('The database has no Glance schema: run '
                          '"glance-manage db sync"')
    if current != head:
        raise SchemaError(f'The database schema is at revision {current}, '
                          f'not {head}: run "glance-manage db sync"')


def _upgrade_sqlite(engine, migration):
    if not engine.url.database:
        # In memory: a fresh database for this process alone.
        migration.upgrade('head')
        return
    lock_path = os.path.abspath(engine.url.database) + '.migrate-lock'
    with open(lock_path, 'a') as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            if migration.current_version() != migration.head_version():
                migration.upgrade('head')
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def list_opts():
    return [('database', database_opts)]
