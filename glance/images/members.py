"""Image sharing: the members of a shared image and their status.

Only the owner adds and removes members; only the member accepts or
rejects. A member sees its own membership; the owner sees all of them.
"""
from oslo_config import cfg

from glance.common import exception
import glance.db
from glance.db import api as db_api
from glance.images import rules
from glance.images import service

CONF = cfg.CONF


def _find_image(session, context, image_id):
    try:
        return service.find(session, context, image_id)
    except exception.ImageNotFound:
        raise exception.ImageNotFound('Image %s not found.' % image_id)


SHARED_ONLY = 'Only shared images have members.'


def _check_shared(image, refusal):
    """Forbidden (worded by `refusal`) unless the image is shared."""
    if image['visibility'] != 'shared':
        raise exception.Forbidden(refusal % {'id': image['id'],
                                             'reason': SHARED_ONLY})


def _visible_members(session, context, image):
    """The memberships the caller may see."""
    if context.is_admin or image['owner'] == context.project_id:
        return db_api.member_list(session, image['id'])
    return db_api.member_list(session, image['id'], context.project_id)


def _enforce(context, image, action):
    """Member rules also require that the caller may see the image."""
    rules.enforce_on_image(context, 'get_image', image)
    rules.enforce_on_image(context, action, image)


def list_members(context, image_id):
    with glance.db.reading() as session:
        image = _find_image(session, context, image_id)
        _check_shared(image, 'Not allowed to list members for image '
                             '%(id)s: %(reason)s')
        _enforce(context, image, 'get_members')
        return _visible_members(session, context, image)


def get_member(context, image_id, member_id):
    # Whatever the caller may not know about shows as missing.
    with glance.db.reading() as session:
        image = _find_image(session, context, image_id)
        try:
            _check_shared(image, '%(reason)s')
            return _lookup(session, context, image, member_id)
        except exception.Forbidden as error:
            raise exception.MemberNotFound(str(error))


def _lookup(session, context, image, member_id):
    try:
        _enforce(context, image, 'get_member')
    except exception.Forbidden:
        raise exception.Forbidden(
            'You are not authorized to lookup the members of the image %s.'
            % image['id'])
    for member in _visible_members(session, context, image):
        if member['member'] == member_id:
            return member
    raise exception.MemberNotFound(
        '%s not found in the member list of the image %s.'
        % (member_id, image['id']))


def add_member(context, image_id, member_id):
    with glance.db.writing() as session:
        image = _find_image(session, context, image_id)
        _check_shared(image, 'Not allowed to create members for image '
                             '%(id)s.')
        _enforce(context, image, 'add_member')
        # The quota is checked first, as upstream does: a full image
        # answers 413 even for a project that is already a member.
        count = db_api.member_count(session, image_id)
        try:
            rules.check_quota('members for this image', count + 1,
                              CONF.image_member_quota)
        except exception.LimitExceeded as error:
            raise exception.LimitExceeded(
                'Image member limit exceeded for image %s: %s:'
                % (image_id, error))
        if db_api.member_list(session, image_id, member_id):
            raise exception.Duplicate(
                'Member %s is duplicated for image %s' % (member_id,
                                                         image_id))
        return db_api.member_create(session, image_id, member_id)


def update_member(context, image_id, member_id, status):
    with glance.db.writing() as session:
        image = _find_image(session, context, image_id)
        _check_shared(image, 'Not allowed to update members for image '
                             '%(id)s.')
        _lookup(session, context, image, member_id)
        _enforce(context, image, 'modify_member')
        if status not in rules.MEMBER_STATUSES:
            raise exception.Invalid('Incorrect request: Status must be '
                                    '"pending", "accepted" or "rejected".')
        return db_api.member_update(session, image_id, member_id,
                                    status=status)


def delete_member(context, image_id, member_id):
    with glance.db.writing() as session:
        image = _find_image(session, context, image_id)
        _check_shared(image, 'Not allowed to delete members for image '
                             '%(id)s.')
        _lookup(session, context, image, member_id)
        _enforce(context, image, 'delete_member')
        db_api.member_delete(session, image_id, member_id)
