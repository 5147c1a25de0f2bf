"""Task records: creating, reading and moving tasks through their
statuses, with upstream's rules.

    pending -> processing -> success | failure;  pending -> failure

A task that ends gets expires_at = the time it ended + task_time_to_live
hours; expired tasks are deleted when their owner lists tasks.
"""
import datetime
import uuid

from oslo_config import cfg

from glance.common import exception
from glance.common import policy
import glance.db
from glance.db import helpers
from glance.db import tasks as task_db

CONF = cfg.CONF

task_opts = [
    cfg.IntOpt('task_time_to_live', default=48,
               deprecated_opts=[cfg.DeprecatedOpt('task_time_to_live',
                                                  group='DEFAULT')],
               help='Hours a task is kept after it succeeded or failed.'),
]
CONF.register_opts(task_opts, group='task')

TYPES = ('import', 'api_image_import', 'location_import')
STATUSES = ('pending', 'processing', 'success', 'failure')
# Types and statuses the list filters accept (upstream's).
LIST_TYPES = ('import',)
TRANSITIONS = {
    'pending': ('processing', 'failure'),
    'processing': ('success', 'failure'),
    'success': (),
    'failure': (),
}


def list_opts():
    return [('task', task_opts)]


def enforce_access(context):
    """tasks_api_access: every call of the tasks API checks it first."""
    policy.enforce(context, 'tasks_api_access', {})


def _enforce(context, action):
    policy.enforce(context, action, {'project_id': context.project_id})


def create(context, task_type, task_input, image_id=None):
    """A new pending task of the caller's project."""
    _enforce(context, 'add_task')
    values = {'id': str(uuid.uuid4()), 'type': task_type,
              'status': 'pending', 'owner': context.project_id,
              'image_id': image_id, 'request_id': context.request_id,
              'user_id': context.user_id}
    with glance.db.writing() as session:
        return task_db.task_create(session, values, task_input)


def get(context, task_id):
    _enforce(context, 'get_task')
    with glance.db.reading() as session:
        return task_db.task_get(session, task_id, context.project_id,
                                context.is_admin)


def list_tasks(context, filters=None, marker=None, limit=None,
               sort_key='created_at', sort_dir='desc'):
    """(page of task stubs, next marker or None)."""
    _enforce(context, 'get_tasks')
    with glance.db.writing() as session:
        task_db.soft_delete_expired(session, context.project_id)
    with glance.db.reading() as session:
        try:
            found = task_db.task_list(
                session, context.project_id, context.is_admin, filters,
                marker, limit, sort_key, sort_dir)
        except exception.NotFound as error:
            raise exception.Invalid(str(error))  # a bad marker is a 400
    next_marker = found[-1]['id'] if found and len(found) == limit else None
    return found, next_marker


def of_image(context, image_id):
    """The image's unexpired tasks (the caller has seen the image)."""
    with glance.db.writing() as session:
        return task_db.tasks_of_image(session, image_id, context.project_id,
                                      context.is_admin)


def _check_transition(task, new_status):
    if new_status not in TRANSITIONS[task['status']]:
        raise exception.InvalidTaskStatusTransition(
            cur_status=task['status'], new_status=new_status)


def begin(task_id, node, process, lease_expires_at):
    """pending -> processing, carried on by `process` of `node` under a
    lease; Conflict if another start took it."""
    with glance.db.writing() as session:
        task = task_db.task_get(session, task_id, None, True)
        _check_transition(task, 'processing')
        task_db.task_update(session, task_id, {
            'status': 'processing', 'node': node, 'process': process,
            'lease_expires_at': lease_expires_at},
            expected_status=task['status'])


def _expires_at():
    return helpers.utcnow() + datetime.timedelta(
        hours=CONF.task.task_time_to_live)


def _end(task_id, status, process, **info):
    with glance.db.writing() as session:
        task = task_db.task_get(session, task_id, None, True)
        _check_transition(task, status)
        task_db.task_update(
            session, task_id,
            {'status': status, 'expires_at': _expires_at(),
             'lease_expires_at': None},
            expected_status=task['status'], process=process, **info)


def succeed(task_id, result, process=None):
    _end(task_id, 'success', process, result=result)


def fail(task_id, message, process=None):
    _end(task_id, 'failure', process, message=message)


def set_image(task_id, image_id):
    """Record the image the task works on."""
    with glance.db.writing() as session:
        task_db.task_update(session, task_id, {'image_id': image_id})
