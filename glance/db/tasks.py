"""Queries on tasks (tasks and task_info).

A task is a dict of the tasks columns plus `input`, `result` (decoded
JSON, or None) and `message`. Visibility follows upstream: admins see
every task, others the tasks of their project and the tasks without an
owner.
"""
import json

import sqlalchemy as sa

from glance.common import exception
from glance.db import helpers
from glance.db import images as image_queries
from glance.db import models

tasks = models.Task.__table__
task_info = models.TaskInfo.__table__

# What a list may be sorted by: any column, as upstream's query takes
# any attribute of its Task model.
SORT_KEYS = ('id', 'type', 'status', 'owner', 'expires_at', 'created_at',
             'updated_at', 'deleted_at', 'deleted', 'image_id', 'request_id',
             'user_id')
LEASE_COLUMNS = ('node', 'process', 'lease_expires_at')


def _loads(text):
    return json.loads(text) if text else None


def _task_dict(row, with_info=True):
    task = {k: v for k, v in row._mapping.items() if k not in LEASE_COLUMNS
            and k not in ('task_id', 'input', 'result', 'message')}
    if with_info:
        mapping = row._mapping
        task['input'] = _loads(mapping['input'])
        task['result'] = _loads(mapping['result'])
        task['message'] = mapping['message']
    return task


def _with_info():
    return sa.select(tasks, task_info.c.input, task_info.c.result,
                     task_info.c.message).select_from(
        tasks.outerjoin(task_info, task_info.c.task_id == tasks.c.id))


def _visible(owner, is_admin):
    if is_admin:
        return sa.true()
    return sa.or_(tasks.c.owner.is_(None), tasks.c.owner == owner)


def task_create(session, values, task_input):
    now = helpers.utcnow()
    row = dict(values)
    row.setdefault('created_at', now)
    row.setdefault('updated_at', now)
    row.setdefault('deleted', False)
    session.execute(tasks.insert().values(**row))
    session.execute(task_info.insert().values(
        task_id=row['id'], input=json.dumps(task_input), result=None,
        message=''))
    return task_get(session, row['id'], None, True)


def task_get(session, task_id, owner, is_admin, include_deleted=False):
    """The task; TaskNotFound if it does not exist (or is deleted),
    Forbidden if the caller may not see it (as upstream)."""
    query = _with_info().where(tasks.c.id == task_id)
    if not include_deleted:
        query = query.where(tasks.c.deleted == sa.false())
    row = session.execute(query).first()
    if row is None:
        raise exception.TaskNotFound(task_id=task_id)
    task = _task_dict(row)
    if not is_admin and task['owner'] is not None \
            and task['owner'] != owner:
        raise exception.Forbidden(
            'Forbidding request, task %s is not visible' % task_id)
    return task


def soft_delete_expired(session, owner):
    """Delete the owner's expired tasks (upstream does so on each list)."""
    now = helpers.utcnow()
    session.execute(tasks.update().where(
        tasks.c.owner.is_(None) if owner is None else tasks.c.owner == owner,
        tasks.c.deleted == sa.false(), tasks.c.expires_at <= now)
        .values(deleted=True, deleted_at=now))


def task_list(session, owner, is_admin, filters=None, marker=None,
              limit=None, sort_key='created_at', sort_dir='desc'):
    """A page of task stubs (without input, result and message), sorted
    by sort_key then created_at and id, all in sort_dir. filters: column
    -> value. A marker that is not a visible task is TaskNotFound."""
    if sort_key not in SORT_KEYS:
        raise exception.Invalid('Sort key supplied was not valid.')
    sort = [sort_key] + [k for k in ('created_at', 'id') if k != sort_key]
    query = sa.select(tasks).where(tasks.c.deleted == sa.false(),
                                   _visible(owner, is_admin))
    for name, value in (filters or {}).items():
        query = query.where(tasks.c[name] == value)
    if marker is not None:
        marker_task = task_get(session, marker, owner, is_admin)
        alternatives = []
        for position, key in enumerate(sort):
            equal_before = [
                image_queries._same(tasks.c[k], marker_task[k],
                                    marker_task[k] is None)
                for k in sort[:position]]
            alternatives.append(sa.and_(*equal_before, image_queries._after(
                tasks.c[key], sort_dir, marker_task[key],
                marker_task[key] is None)))
        query = query.where(sa.or_(*alternatives))
    dialect = session.dialect.name
    query = query.order_by(*[image_queries._order_by(tasks.c[k], sort_dir,
                                                     dialect) for k in sort])
    if limit is not None:
        query = query.limit(limit)
    return [_task_dict(row, with_info=False)
            for row in session.execute(query)]


def tasks_of_image(session, image_id, owner, is_admin):
    """The image's tasks that have not expired, unsorted (as upstream,
    which also deletes the caller's expired tasks on the way)."""
    soft_delete_expired(session, owner)
    now = helpers.utcnow()
    query = _with_info().where(
        tasks.c.image_id == image_id, tasks.c.deleted == sa.false(),
        sa.or_(tasks.c.expires_at.is_(None), tasks.c.expires_at > now),
        _visible(owner, is_admin))
    return [_task_dict(row) for row in session.execute(query)]


def task_update(session, task_id, values=None, expected_status=None,
                process=None, **info):
    """Change a task's columns (values) and its info (input, result,
    message). expected_status, process: compare-and-set; Conflict if the
    task is no longer in that status (or carried on by that process)."""
    values = dict(values or {})
    values['updated_at'] = helpers.utcnow()
    statement = tasks.update().where(tasks.c.id == task_id)
    if expected_status is not None:
        statement = statement.where(tasks.c.status == expected_status)
    if process is not None:
        statement = statement.where(tasks.c.process == process)
    if session.execute(statement.values(**values)).rowcount != 1:
        raise exception.Conflict('Task %s changed meanwhile' % task_id)
    info_values = {k: json.dumps(v) if k in ('input', 'result') else v
                   for k, v in info.items()}
    if info_values:
        session.execute(task_info.update().where(
            task_info.c.task_id == task_id).values(**info_values))


# --- leases of tasks being processed ---------------------------------------

def renew_leases(session, node, process, lease_expires_at):
    session.execute(tasks.update().where(
        tasks.c.node == node, tasks.c.process == process,
        tasks.c.status == 'processing')
        .values(lease_expires_at=lease_expires_at))


def sweep_candidates(session, node, now):
    """Tasks being processed whose lease expired, and every task this
    node processes (whose processes can be checked directly)."""
    rows = session.execute(_with_info().where(
        tasks.c.status == 'processing',
        sa.or_(tasks.c.lease_expires_at < now, tasks.c.node == node)))
    found = []
    for row in rows:
        task = _task_dict(row)
        task.update({k: row._mapping[k] for k in LEASE_COLUMNS})
        found.append(task)
    return found


def task_claim(session, task, node, process, lease_expires_at):
    """Take over a task found dead unless it changed hands since it was
    read: True if it is now ours."""
    result = session.execute(tasks.update().where(
        tasks.c.id == task['id'], tasks.c.status == 'processing',
        image_queries._same(tasks.c.process, task['process'],
                            task['process'] is None),
        image_queries._same(tasks.c.node, task['node'], task['node'] is None),
        image_queries._same(tasks.c.lease_expires_at,
                            task['lease_expires_at'],
                            task['lease_expires_at'] is None))
        .values(node=node, process=process,
                lease_expires_at=lease_expires_at))
    return result.rowcount == 1
