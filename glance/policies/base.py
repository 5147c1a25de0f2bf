"""The rules every resource's rules refer to, and the check strings they
share. The defaults are upstream Glance's secure-RBAC rules: a project
reader may read, a project member may change its project's things, an
admin anything."""
from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
MEMBER_OF_OWNER = 'role:member and project_id:%(project_id)s'
READER_OF_OWNER = 'role:reader and project_id:%(project_id)s'
OWNER_OR_MEMBER = 'project_id:%(project_id)s or project_id:%(member_id)s'
# Who may see an image at all (the database only finds an image for those
# who are allowed to see it: owner, members, public and community).
VISIBLE = ("project_id:%(project_id)s or project_id:%(member_id)s or "
           "'community':%(visibility)s or 'public':%(visibility)s or "
           "'shared':%(visibility)s")

IMAGE_PATH = '/v2/images/{image_id}'


def project_rule(name, check, description, method, path):
    """A documented rule of one API call, for project-scoped callers."""
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}],
        scope_types=['project'])


RULES = [
    policy.RuleDefault('default', '', 'Rule used when no other applies.'),
    policy.RuleDefault('context_is_admin', 'role:admin',
                       'Who is an administrator of the image service.'),
    policy.RuleDefault('service_api', 'role:service or role:admin',
                       'Who acts as another OpenStack service.'),
]
