"""Authorization rules (oslo.policy) and their defaults.

The defaults are upstream Glance's secure-RBAC rules: a project reader may
read, a project member may change its project's images, an admin anything.
Operators override any rule in the file `[oslo_policy] policy_file` names.
One enforcer is built per process and reused by every request.
"""
from oslo_config import cfg
from oslo_policy import policy

from glance.common import exception

CONF = cfg.CONF

ADMIN = 'rule:context_is_admin'
MEMBER_OF_OWNER = 'role:member and project_id:%(project_id)s'
READER_OF_OWNER = 'role:reader and project_id:%(project_id)s'
OWNER_OR_MEMBER = 'project_id:%(project_id)s or project_id:%(member_id)s'
# Who may see an image at all (the database only finds an image for those
# who are allowed to see it: owner, members, public and community).
VISIBLE = ("project_id:%(project_id)s or project_id:%(member_id)s or "
           "'community':%(visibility)s or 'public':%(visibility)s or "
           "'shared':%(visibility)s")


def _image_rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}],
        scope_types=['project'])


IMAGE = '/v2/images/{image_id}'
MEMBERS = IMAGE + '/members'
RULES = [
    policy.RuleDefault('default', '', 'Rule used when no other applies.'),
    policy.RuleDefault('context_is_admin', 'role:admin',
                       'Who is an administrator of the image service.'),
    policy.RuleDefault('service_api', 'role:service or role:admin',
                       'Who acts as another OpenStack service.'),
    _image_rule('add_image', '%s or (%s and project_id:%%(owner)s)'
                % (ADMIN, MEMBER_OF_OWNER),
                'Create an image (owned by the caller\'s project).',
                'POST', '/v2/images'),
    _image_rule('get_images', '%s or (%s)' % (ADMIN, READER_OF_OWNER),
                'List images.', 'GET', '/v2/images'),
    _image_rule('get_image', '%s or (role:reader and (%s))'
                % (ADMIN, VISIBLE), 'Show an image.', 'GET', IMAGE),
    _image_rule('modify_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Update an image.', 'PATCH', IMAGE),
    _image_rule('delete_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Delete an image.', 'DELETE', IMAGE),
    _image_rule('publicize_image', ADMIN,
                'Make an image public.', 'PATCH', IMAGE),
    _image_rule('communitize_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Make an image a community image.', 'PATCH', IMAGE),
    _image_rule('upload_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Upload the data of an image.', 'PUT', IMAGE + '/file'),
    _image_rule('download_image', '%s or (role:member and (%s))'
                % (ADMIN, VISIBLE),
                'Download the data of an image.', 'GET', IMAGE + '/file'),
    _image_rule('deactivate', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Deactivate an image.', 'POST',
                IMAGE + '/actions/deactivate'),
    _image_rule('reactivate', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Reactivate an image.', 'POST',
                IMAGE + '/actions/reactivate'),
    _image_rule('get_image_location', '%s or (%s)' % (ADMIN, READER_OF_OWNER),
                'See the locations of an image.', 'GET', IMAGE),
    _image_rule('set_image_location', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Change the locations of an image.', 'PATCH', IMAGE),
    _image_rule('delete_image_location', ADMIN,
                'Remove a location of an image.', 'PATCH', IMAGE),
    _image_rule('add_member', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Share an image with a project.', 'POST', MEMBERS),
    _image_rule('delete_member', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
                'Stop sharing an image with a project.', 'DELETE',
                MEMBERS + '/{member_id}'),
    _image_rule('get_member', '%s or role:reader and (%s)'
                % (ADMIN, OWNER_OR_MEMBER),
                'Show a membership of an image.', 'GET',
                MEMBERS + '/{member_id}'),
    _image_rule('get_members', '%s or role:reader and (%s)'
                % (ADMIN, OWNER_OR_MEMBER),
                'List the memberships of an image.', 'GET', MEMBERS),
    _image_rule('modify_member', '%s or (role:member and '
                'project_id:%%(member_id)s)' % ADMIN,
                'Accept or reject an image shared with the caller\'s project.',
                'PUT', MEMBERS + '/{member_id}'),
]

_enforcer = None


def get_enforcer():
    global _enforcer
    if _enforcer is None:
        _enforcer = policy.Enforcer(CONF, use_conf=True)
        _enforcer.register_defaults(RULES)
    return _enforcer


def reset():
    """Forget the enforcer (configuration reloaded, or tests)."""
    global _enforcer
    _enforcer = None


def check(context, action, target):
    """True if `context` may do `action` on `target` (a dict)."""
    try:
        return get_enforcer().enforce(
            action, target, context.to_policy_values())
    except policy.InvalidScope:
        return False


def enforce(context, action, target):
    """Raise Forbidden unless `context` may do `action` on `target`."""
    if not check(context, action, target):
        raise exception.Forbidden(
            'You are not authorized to complete %s action.' % action)


def check_is_admin(context):
    return check(context, 'context_is_admin', {})


def list_rules():
    """For oslopolicy-sample-generator (entry point oslo.policy.policies)."""
    return RULES
