"""Default rules of image members: sharing an image with projects."""
from glance.policies import base
from glance.policies.base import ADMIN
from glance.policies.base import IMAGE_PATH
from glance.policies.base import MEMBER_OF_OWNER
from glance.policies.base import OWNER_OR_MEMBER

MEMBERS = IMAGE_PATH + '/members'
rule = base.project_rule

RULES = [
    rule('add_member', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Share an image with a project.', 'POST', MEMBERS),
    rule('delete_member', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Stop sharing an image with a project.', 'DELETE',
         MEMBERS + '/{member_id}'),
    rule('get_member', '%s or role:reader and (%s)'
         % (ADMIN, OWNER_OR_MEMBER),
         'Show a membership of an image.', 'GET', MEMBERS + '/{member_id}'),
    rule('get_members', '%s or role:reader and (%s)'
         % (ADMIN, OWNER_OR_MEMBER),
         'List the memberships of an image.', 'GET', MEMBERS),
    rule('modify_member', '%s or (role:member and project_id:%%(member_id)s)'
         % ADMIN,
         'Accept or reject an image shared with the caller\'s project.',
         'PUT', MEMBERS + '/{member_id}'),
]
