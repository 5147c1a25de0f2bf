"""Queries on uploads in flight (image_uploads) and on the per-owner
storage lock (storage_owners).

An upload is a dict of its columns, `leftovers` decoded (a list of
location URIs).
"""
import json

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql

from glance.db import helpers
from glance.db import models

uploads = models.ImageUpload.__table__
storage_owners = models.StorageOwner.__table__

def _upload_dict(row):
    upload = dict(row._mapping)
    upload['leftovers'] = json.loads(upload['leftovers'] or '[]')
    return upload


def lock_owner(session, owner):
    """Hold the owner's storage lock until the transaction ends, so that
    the quota checks of one owner run one after another (SQLite's
    writers already do). An upsert that writes the owner's row: it takes
    the row lock at once, where a first insert racing another waits for
    it (a lock taken by reading the row after an insert-if-missing could
    deadlock MySQL's racing inserters)."""
    dialect = session.dialect.name
    if dialect == 'sqlite':
        return
    key = owner or ''
    if dialect == 'mysql':
        statement = mysql.insert(storage_owners).values(owner=key)
        statement = statement.on_duplicate_key_update(
            owner=statement.inserted.owner)
    else:
        statement = postgresql.insert(storage_owners).values(owner=key)
        statement = statement.on_conflict_do_update(
            index_elements=['owner'], set_={'owner': statement.excluded.owner})
    session.execute(statement)


def reserved_by_others(session, owner, exclude_upload_id=None):
    """Bytes the owner's other uploads in flight have reserved."""
    query = sa.select(sa.func.coalesce(sa.func.sum(uploads.c.reserved), 0))
    query = query.where(uploads.c.owner.is_(None) if owner is None
                        else uploads.c.owner == owner)
    if exclude_upload_id is not None:
        query = query.where(uploads.c.id != exclude_upload_id)
    return int(session.execute(query).scalar())


def upload_create(session, values):
    row = dict(values)
    row['leftovers'] = json.dumps(row.get('leftovers') or [])
    row.setdefault('created_at', helpers.utcnow())
    session.execute(uploads.insert().values(**row))


def upload_delete(session, upload_id, process):
    """Remove an upload carried on by `process`; False if it is not (the
    upload was reclaimed from it)."""
    result = session.execute(uploads.delete().where(
        uploads.c.id == upload_id, uploads.c.process == process))
    return result.rowcount == 1


def upload_reserve(session, upload_id, process, reserved):
    """Set what an upload reserves; False if it is not `process`'s."""
    result = session.execute(uploads.update().where(
        uploads.c.id == upload_id, uploads.c.process == process)
        .values(reserved=reserved))
    return result.rowcount == 1


def renew_leases(session, node, process, lease_expires_at):
    """Extend the lease of every upload `process` carries on."""
    session.execute(uploads.update().where(
        uploads.c.node == node, uploads.c.process == process)
        .values(lease_expires_at=lease_expires_at))


def renew_lease(session, upload_id, process, lease_expires_at):
    """Extend the lease of one upload of `process`."""
    session.execute(uploads.update().where(
        uploads.c.id == upload_id, uploads.c.process == process)
        .values(lease_expires_at=lease_expires_at))


def sweep_candidates(session, node, now):
    """Uploads whose lease has expired, and every upload of this node
    (whose processes can be checked directly)."""
    rows = session.execute(sa.select(uploads).where(sa.or_(
        uploads.c.lease_expires_at < now, uploads.c.node == node)))
    return [_upload_dict(row) for row in rows]


def upload_claim(session, upload, node, process, lease_expires_at):
    """Take over an upload found dead, unless it changed hands (or its
    lease was renewed) since it was read: True if it is now ours."""
    result = session.execute(uploads.update().where(
        uploads.c.id == upload['id'],
        uploads.c.process == upload['process'],
        uploads.c.node == upload['node'],
        uploads.c.lease_expires_at == upload['lease_expires_at'])
        .values(node=node, process=process,
                lease_expires_at=lease_expires_at))
    return result.rowcount == 1


def all_leftovers(session):
    """Every location URI some upload in flight may write."""
    found = set()
    for (leftovers,) in session.execute(sa.select(uploads.c.leftovers)):
        found.update(json.loads(leftovers or '[]'))
    return found
