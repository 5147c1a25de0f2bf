"""Default rules of the tasks API (upstream's: every call needs
tasks_api_access, admin only by default; the others are open)."""
from oslo_policy import policy

from glance.policies.base import ADMIN

DEFAULT = 'rule:default'


def _rule(name, description, operations, **extra):
    return policy.DocumentedRuleDefault(
        name=name, check_str=extra.pop('check_str', DEFAULT),
        description=description, operations=operations,
        scope_types=['project'], **extra)


RULES = [
    _rule('get_task', 'Get an image task.',
          [{'method': 'GET', 'path': '/v2/tasks/{task_id}'}]),
    _rule('get_tasks', 'List tasks for all images.',
          [{'method': 'GET', 'path': '/v2/tasks'}]),
    _rule('add_task', 'Create a task.',
          [{'method': 'POST', 'path': '/v2/tasks'}]),
    _rule('modify_task', 'This policy is not used.',
          [{'method': 'DELETE', 'path': '/v2/tasks/{task_id}'}],
          deprecated_for_removal=True,
          deprecated_reason='This policy check has never been honored by '
                            'the API.',
          deprecated_since='W'),
    _rule('tasks_api_access',
          'Access to every call of the tasks API.',
          [{'method': 'GET', 'path': '/v2/tasks/{task_id}'},
           {'method': 'GET', 'path': '/v2/tasks'},
           {'method': 'POST', 'path': '/v2/tasks'},
           {'method': 'DELETE', 'path': '/v2/tasks/{task_id}'}],
          check_str=ADMIN),
]
