"""Image sharing: the members of a shared image and their status.

Only the owner adds and removes members; only the member accepts or
rejects. A member sees its own membership; the owner sees all of them.
"""
from oslo_config import cfg

from glance.common import exception
import glance.db
from glance.db import members as member_db
from glance.images import policy_targets
from glance.images import quotas
from glance.images import rules
from glance.images import service

CONF = cfg.CONF


def _find_image(session, context, image_id, for_update=False):
    try:
        return service.find(session, context, image_id,
                            for_update=for_update)
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
        return member_db.member_list(session, image['id'])
    return member_db.member_list(session, image['id'], context.project_id)


def _enforce(context, image, action):
    """Member rules also require that the caller may see the image."""
    policy_targets.enforce_on_image(context, 'get_image', image)
    policy_targets.enforce_on_image(context, action, image)


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
        # Locked: concurrent additions are counted one after another.
        image = _find_image(session, context, image_id, for_update=True)
        _check_shared(image, 'Not allowed to create members for image '
                             '%(id)s.')
        _enforce(context, image, 'add_member')
        # The quota is checked first, as upstream does: a full image
        # answers 413 even for a project that is already a member.
        count = member_db.member_count(session, image_id)
        try:
            quotas.check_quota('members for this image', count + 1,
                               CONF.image_member_quota)
        except exception.LimitExceeded as error:
            raise exception.LimitExceeded(
                'Image member limit exceeded for image %s: %s:'
                % (image_id, error))
        if member_db.member_list(session, image_id, member_id):
            raise exception.Duplicate(
                'Member %s is duplicated for image %s' % (member_id,
                                                         image_id))
        return member_db.member_create(session, image_id, member_id)


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
        return member_db.member_update(session, image_id, member_id,
                                       status=status)


def delete_member(context, image_id, member_id):
    with glance.db.writing() as session:
        image = _find_image(session, context, image_id)
        _check_shared(image, 'Not allowed to delete members for image '
                             '%(id)s.')
        _lookup(session, context, image, member_id)
        _enforce(context, image, 'delete_member')
        member_db.member_delete(session, image_id, member_id)


# --- the classic API's sharing ----------------------------------------------
# v1 shares an image whatever its visibility, records whether the member
# may share it on (`can_share`), and knows no member status: its
# memberships are made `status` (accepted: being shared is being given
# access, as v1 clients expect).

def _find_live(session, context, image_id, for_update=False):
    """The image as the classic API finds it: ImageDeleted for a deleted
    one (only admins find those), and the caller must be let see it."""
    image = service.find(session, context, image_id, include_deleted=True,
                         for_update=for_update)
    policy_targets.enforce_on_image(context, 'get_image', image)
    if image['deleted']:
        raise exception.ImageDeleted(image_id=image_id)
    return image


def _require_project(context):
    """Sharing needs to know who shares (as upstream: 401 otherwise)."""
    if context.project_id is None and not context.is_admin:
        raise exception.NotAuthenticated('No authenticated user')


def memberships(context, image_id):
    """The memberships of an image the caller may see, any visibility."""
    with glance.db.reading() as session:
        image = _find_live(session, context, image_id)
        _enforce(context, image, 'get_members')
        return _visible_members(session, context, image)


def membership(context, image_id, member_id):
    with glance.db.reading() as session:
        image = _find_live(session, context, image_id)
        _enforce(context, image, 'get_member')
        for member in _visible_members(session, context, image):
            if member['member'] == member_id:
                return member
    raise exception.MemberNotFound('Membership could not be found.')


def share(context, image_id, member_id, can_share=None, status='accepted'):
    """Share an image with a project, or change `can_share` of an existing
    membership (None leaves it; a new membership gets False)."""
    _require_project(context)
    with glance.db.writing() as session:
        image = _find_live(session, context, image_id, for_update=True)
        _enforce(context, image, 'add_member')
        # Counted with the new one even when it exists, as upstream did.
        quotas.check_quota('members for this image',
                           member_db.member_count(session, image_id) + 1,
                           CONF.image_member_quota)
        existing = member_db.member_list(session, image_id, member_id)
        if not existing:
            member_db.member_create(session, image_id, member_id,
                                    status=status, can_share=bool(can_share))
        elif can_share is not None \
                and bool(existing[0]['can_share']) != can_share:
            member_db.member_update(session, image_id, member_id,
                                    can_share=can_share)


def replace_members(context, image_id, wanted, status='accepted'):
    """Make the memberships of an image exactly `wanted`: {member_id:
    can_share, or None to keep an existing membership's}. Memberships that
    stay keep their status; new ones get `status`."""
    _require_project(context)
    with glance.db.writing() as session:
        image = _find_live(session, context, image_id, for_update=True)
        _enforce(context, image, 'add_member')
        quotas.check_quota('members for this image', len(wanted),
                           CONF.image_member_quota)
        current = {m['member']: m
                   for m in member_db.member_list(session, image_id)}
        removed = set(current) - set(wanted)
        if removed:
            _enforce(context, image, 'delete_member')
        for member_id in removed:
            member_db.member_delete(session, image_id, member_id)
        for member_id, can_share in wanted.items():
            if member_id not in current:
                member_db.member_create(session, image_id, member_id,
                                        status=status,
                                        can_share=bool(can_share))
            elif can_share is not None \
                    and bool(current[member_id]['can_share']) != can_share:
                member_db.member_update(session, image_id, member_id,
                                        can_share=can_share)


def unshare(context, image_id, member_id):
    """Remove a membership, whatever the image's visibility."""
    _require_project(context)
    with glance.db.writing() as session:
        image = _find_live(session, context, image_id)
        _enforce(context, image, 'delete_member')
        try:
            member_db.member_delete(session, image_id, member_id)
        except exception.MemberNotFound:
            raise exception.MemberNotFound('Membership could not be found.')


def shared_with(context, member_id):
    """The memberships of a project on live images: all of them for an
    admin, else those of images the caller owns or is that member of."""
    with glance.db.reading() as session:
        if context.is_admin:
            return member_db.shared_with(session, member_id)
        if context.project_id is None:
            return []
        return member_db.shared_with(session, member_id,
                                     seen_by=context.project_id)
