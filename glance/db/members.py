"""Queries on image members: the projects an image is shared with."""
import sqlalchemy as sa

from glance.common import exception
from glance.db import helpers
from glance.db import models

images = models.Image.__table__
members = models.ImageMember.__table__


def _member_dict(row):
    return dict(row._mapping)


def member_list(session, image_id, member=None):
    query = sa.select(members).where(members.c.image_id == image_id)
    if member is not None:
        query = query.where(members.c.member == member)
    return [_member_dict(row) for row in
            session.execute(query.order_by(members.c.id))]


def member_get(session, image_id, member):
    found = member_list(session, image_id, member)
    if not found:
        raise exception.MemberNotFound()
    return found[0]


def member_count(session, image_id):
    return session.execute(sa.select(sa.func.count()).where(
        members.c.image_id == image_id)).scalar()


def member_create(session, image_id, member, status='pending',
                  can_share=False):
    now = helpers.utcnow()
    with helpers.duplicate_as(
            f'Member {member} is duplicated for image {image_id}'):
        session.execute(members.insert().values(
            image_id=image_id, member=member, status=status,
            can_share=can_share, created_at=now, updated_at=now))
    return member_get(session, image_id, member)


def member_update(session, image_id, member, **values):
    values['updated_at'] = helpers.utcnow()
    session.execute(members.update().where(
        members.c.image_id == image_id,
        members.c.member == member).values(**values))
    return member_get(session, image_id, member)


def member_delete(session, image_id, member):
    result = session.execute(members.delete().where(
        members.c.image_id == image_id, members.c.member == member))
    if result.rowcount == 0:
        raise exception.MemberNotFound()


def shared_with(session, member, seen_by=None):
    """Memberships of a project across images (v1's shared-images).

    seen_by: only those of images this project owns or is the member of.
    """
    query = sa.select(members).join(
        images, images.c.id == members.c.image_id).where(
            members.c.member == member, images.c.deleted == sa.false())
    if seen_by is not None:
        query = query.where(sa.or_(images.c.owner == seen_by,
                                   members.c.member == seen_by))
    return [_member_dict(row) for row in session.execute(
        query.order_by(members.c.id))]
