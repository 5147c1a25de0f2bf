"""What the query modules share: the time stamps they write, and
duplicate keys reported as the project's Duplicate.

The query modules (images, members, locations) take, as `session`, the
connection of a transaction opened with `glance.db.reading()` or
`glance.db.writing()`, and deal in plain dicts.
"""
import contextlib
import datetime

import sqlalchemy as sa

from glance.common import exception


def utcnow():
    # Not datetime.UTC: that is Python 3.11+, and 3.10 is supported.
    now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017
    return now.replace(tzinfo=None)


def _is_unique_violation(error):
    """Whether an IntegrityError is a duplicate key (not, say, NULL)."""
    orig = error.orig
    postgresql_code = getattr(orig, 'pgcode', None) or getattr(
        orig, 'sqlstate', None)
    if postgresql_code == '23505':  # PostgreSQL unique_violation
        return True
    if orig.args and orig.args[0] == 1062:  # MySQL "Duplicate entry"
        return True
    return 'UNIQUE constraint failed' in str(orig)  # SQLite


@contextlib.contextmanager
def duplicate_as(message):
    """Report a unique key violation as Duplicate(message): a concurrent
    transaction inserted the same key after our check."""
    try:
        yield
    except sa.exc.IntegrityError as error:
        if _is_unique_violation(error):
            raise exception.Duplicate(message) from error
        raise
