"""Queries on images, with their properties and tags.

An image is a dict of its column values plus `properties` (a dict) and
`tags` (a list), and `locations` (a list) when asked for.
"""
import functools

import sqlalchemy as sa

from glance.common import exception
from glance.db import helpers
from glance.db import locations as location_queries
from glance.db import models

images = models.Image.__table__
properties = models.ImageProperty.__table__
tags = models.ImageTag.__table__
members = models.ImageMember.__table__
locations = models.ImageLocation.__table__

IMAGE_COLUMNS = tuple(c.name for c in images.columns)


# --- reading images -------------------------------------------------------

# Statements built once: SQLAlchemy then reuses their compiled form.
def _children_union(image_id_matches):
    """Properties and tags of the images whose id matches, as
    (kind, image_id, name, value, position) rows."""
    return sa.union_all(
        sa.select(sa.literal('property').label('kind'),
                  properties.c.image_id, properties.c.name,
                  properties.c.value, properties.c.id.label('position'))
        .where(image_id_matches(properties.c.image_id)),
        sa.select(sa.literal('tag').label('kind'), tags.c.image_id,
                  tags.c.value, sa.null(), tags.c.id.label('position'))
        .where(image_id_matches(tags.c.image_id)),
    )


# One image, the common case, by equality: an IN list's parameters are
# rendered anew on every call.
_CHILDREN_OF_ONE = _children_union(
    lambda column: column == sa.bindparam('id')).order_by('position')
_CHILDREN = _children_union(
    lambda column: column.in_(sa.bindparam('ids', expanding=True))
).order_by('position')

def _image_dicts(rows):
    """{id: image dict} of image rows, in their order, without children
    yet (the rows may carry more columns after the image's)."""
    by_id = {}
    for row in rows:
        image = dict(zip(IMAGE_COLUMNS, row, strict=False))
        image['properties'] = {}
        image['tags'] = []
        by_id[image['id']] = image
    return by_id


def _add_child(image, kind, name, value):
    if kind == 'tag':
        image['tags'].append(name)
    elif kind == 'property':
        image['properties'][name] = value


def _attach_children(session, rows, with_locations=False):
    """Turn image rows into dicts with their properties and tags (and
    their locations, when asked), read in one round trip each."""
    by_id = _image_dicts(rows)
    if not by_id:
        return []
    if len(by_id) == 1:
        [image_id] = by_id
        children = session.execute(_CHILDREN_OF_ONE, {'id': image_id})
    else:
        children = session.execute(_CHILDREN, {'ids': list(by_id)})
    for kind, image_id, name, value, _ in children.all():
        _add_child(by_id[image_id], kind, name, value)
    if with_locations:
        location_queries.attach_active(session, by_id)
    return list(by_id.values())


@functools.cache
def _image_by_id(include_deleted, for_update):
    query = sa.select(images).where(images.c.id == sa.bindparam('id'))
    if not include_deleted:
        query = query.where(images.c.deleted == sa.false())
    if for_update:
        query = query.with_for_update()
    return query


@functools.cache
def _image_and_children(include_deleted):
    """One image with its properties and tags in one statement: a row per
    child (a single row, child columns NULL, for an image without any),
    the image's columns then the child's kind, name and value."""
    children = _children_union(
        lambda column: column == sa.bindparam('id')).subquery()
    query = (sa.select(images, children.c.kind, children.c.name,
                       children.c.value)
             .select_from(images.outerjoin(
                 children, children.c.image_id == images.c.id))
             .where(images.c.id == sa.bindparam('id'))
             .order_by(children.c.position))
    if not include_deleted:
        query = query.where(images.c.deleted == sa.false())
    return query


def image_get(session, image_id, include_deleted=False, for_update=False,
              with_locations=False):
    """One image by id; ImageNotFound if it does not exist (or is deleted).

    with_locations: also its active locations, as 'locations'.
    """
    if for_update:
        # (A row lock cannot take the outer join's nullable side.)
        rows = session.execute(_image_by_id(include_deleted, for_update),
                               {'id': image_id}).all()
        found = _attach_children(session, rows, with_locations)
        if not found:
            raise exception.ImageNotFound(image_id=image_id)
        return found[0]
    rows = session.execute(_image_and_children(include_deleted),
                           {'id': image_id}).all()
    if not rows:
        raise exception.ImageNotFound(image_id=image_id)
    by_id = _image_dicts(rows[:1])
    [image] = by_id.values()
    for row in rows:
        _add_child(image, *row[-3:])
    if with_locations:
        location_queries.attach_active(session, by_id)
    return image


def image_id_exists(session, image_id):
    """True if the id was ever used, deleted images included."""
    return session.execute(sa.select(images.c.id).where(
        images.c.id == image_id)).first() is not None


# A listing's statement depends on the shape of the query (which filters,
# which sort, a marker or not), its values go in as parameters: each shape
# is built once, and SQLAlchemy then reuses its compiled form without
# rebuilding the expression or its cache key on every request.

def visible_to(has_project, is_admin, any_member_status):
    """The condition on `images` for what a project may see.

    Admins see everything; others see public and community images, their
    own (parameter project_id), and shared images whose membership for
    them has the status of parameter member_status (or any status).
    """
    if is_admin:
        return sa.true()
    shown = [images.c.visibility.in_(['public', 'community'])]
    if has_project:
        project_id = sa.bindparam('project_id')
        membership = sa.select(members.c.id).where(
            members.c.image_id == images.c.id,
            members.c.member == project_id)
        if not any_member_status:
            membership = membership.where(
                members.c.status == sa.bindparam('member_status'))
        shown += [images.c.owner == project_id,
                  sa.and_(images.c.visibility == 'shared',
                          membership.exists())]
    return sa.or_(*shown)


def _compare(column, op, value):
    if op == 'in':
        return column.in_(value)
    return {
        'eq': column.__eq__, 'neq': column.__ne__,
        'gt': column.__gt__, 'gte': column.__ge__,
        'lt': column.__lt__, 'lte': column.__le__,
    }[op](value)


def _order_by(column, direction, dialect):
    ordered = column.asc() if direction == 'asc' else column.desc()
    # NULL sorts as the smallest value everywhere (as SQLite and MySQL
    # do); PostgreSQL has to be told.
    if dialect == 'postgresql' and column.nullable:
        ordered = ordered.nulls_first() if direction == 'asc' \
            else ordered.nulls_last()
    return ordered


def _after(column, direction, value, is_null):
    """Rows strictly after `value` in this column's order (NULL smallest)."""
    if direction == 'asc':
        if is_null:
            return column.is_not(None)
        return column > value
    if is_null:
        return sa.false()
    return sa.or_(column < value, column.is_(None))


def _same(column, value, is_null):
    return column.is_(None) if is_null else column == value


def _after_marker(sort, null_keys):
    """Keyset paging: rows after the marker image (its sort values in
    parameters marker_<key>; null_keys: the keys where it has NULL) in
    the `sort` order."""
    value = {key: sa.bindparam('marker_' + key) for key, _ in sort}
    directions = {direction for _, direction in sort}
    if len(directions) == 1 and not any(images.c[k].nullable
                                        for k, _ in sort):
        # One direction and no NULL (the default order, created_at and
        # id): a row-value comparison, which the databases answer with a
        # range of the index in that order instead of a scan.
        columns = sa.tuple_(*[images.c[k] for k, _ in sort])
        values = sa.tuple_(*[value[k] for k, _ in sort])
        return columns > values if directions == {'asc'} \
            else columns < values
    alternatives = []
    for position, (key, direction) in enumerate(sort):
        equal_before = [_same(images.c[k], value[k], k in null_keys)
                        for k, _ in sort[:position]]
        alternatives.append(sa.and_(
            *equal_before,
            _after(images.c[key], direction, value[key], key in null_keys)))
    return sa.or_(*alternatives)


@functools.cache
def _marker_statement(has_project, is_admin, alive_only):
    # The marker must be an image the caller could look up by id
    # (ownerless images included), and alive unless deleted ones are
    # listed too or the caller is an admin (as upstream, whose admins may
    # see deleted images).
    query = sa.select(images).where(
        images.c.id == sa.bindparam('marker'),
        sa.or_(visible_to(has_project, is_admin, any_member_status=True),
               images.c.owner.is_(None)))
    if alive_only:
        query = query.where(images.c.deleted == sa.false())
    return query


@functools.lru_cache(maxsize=512)
def _list_statement(has_project, is_admin, any_member_status,
                    include_deleted, visibility, filters, property_count,
                    tag_count, sort, marker_null_keys, with_limit, dialect):
    """The listing statement of one shape. Parameters: project_id,
    member_status, visibility, filter_<i>, property_name_<i>,
    property_value_<i>, tag_<i>, marker_<key> and limit, as the shape
    has them. visibility: 'all', 'one' (parameter visibility) or None
    (the default listing); filters: (column, op) pairs; marker_null_keys:
    None without a marker."""
    conditions = [visible_to(has_project, is_admin, any_member_status)]
    if not include_deleted:
        conditions += [images.c.deleted == sa.false(),
                       images.c.status != 'killed']
    if visibility == 'one':
        conditions.append(images.c.visibility == sa.bindparam('visibility'))
    elif visibility is None:
        # Community images only when owned.
        if has_project:
            conditions.append(sa.or_(
                images.c.owner == sa.bindparam('project_id'),
                images.c.visibility != 'community'))
        else:
            conditions.append(images.c.visibility != 'community')
    for i, (column, op) in enumerate(filters):
        conditions.append(_compare(
            images.c[column], op,
            sa.bindparam(f'filter_{i}', expanding=op == 'in')))
    for i in range(property_count):
        conditions.append(sa.select(properties.c.id).where(
            properties.c.image_id == images.c.id,
            properties.c.name == sa.bindparam(f'property_name_{i}'),
            properties.c.value == sa.bindparam(f'property_value_{i}'),
        ).exists())
    for i in range(tag_count):
        conditions.append(sa.select(tags.c.id).where(
            tags.c.image_id == images.c.id,
            tags.c.value == sa.bindparam(f'tag_{i}')).exists())
    if marker_null_keys is not None:
        conditions.append(_after_marker(sort, marker_null_keys))
    query = sa.select(images).where(*conditions).order_by(
        *[_order_by(images.c[key], direction, dialect)
          for key, direction in sort])
    if with_limit:
        query = query.limit(sa.bindparam('limit', type_=sa.Integer))
    return query


def image_list(session, project_id, is_admin, filters=(), properties_eq=None,
               tags_all=(), visibility=None, member_status='accepted',
               include_deleted=False, marker=None, limit=None, sort=(),
               tie_direction='desc', with_locations=False):
    """A page of the images a project may see (with their locations
    too if with_locations).

    filters: (column, op, value) triples, op one of eq neq gt gte lt lte in.
    properties_eq: {name: value} on extra properties; tags_all: every tag.
    visibility: one visibility, 'all', or None for the default listing
    (community images only when owned). sort: (key, 'asc'|'desc') pairs,
    completed with created_at and id (in `tie_direction`) so that pages
    are stable. marker:
    the id of the image after which the page starts (BadRequest if the
    project cannot see it).
    """
    has_project = project_id is not None
    params = {'project_id': project_id, 'member_status': member_status}

    sort = list(sort) or [('created_at', 'desc')]
    for key in ('created_at', 'id'):
        if key not in [k for k, _ in sort]:
            sort.append((key, tie_direction))
    sort = tuple(sort)

    marker_null_keys = None
    if marker is not None:
        marker_row = session.execute(
            _marker_statement(has_project, is_admin,
                              not include_deleted and not is_admin),
            {'marker': marker, 'project_id': project_id}).first()
        if marker_row is None:
            raise exception.BadRequest(f'No image found with ID {marker}')
        marker_values = marker_row._mapping
        marker_null_keys = frozenset(
            key for key, _ in sort if marker_values[key] is None)
        params.update(('marker_' + key, marker_values[key])
                      for key, _ in sort)

    if visibility not in (None, 'all'):
        params['visibility'] = visibility
        visibility = 'one'
    params.update((f'filter_{i}', value)
                  for i, (_, _, value) in enumerate(filters))
    properties_eq = properties_eq or {}
    for i, (name, value) in enumerate(properties_eq.items()):
        params[f'property_name_{i}'] = name
        params[f'property_value_{i}'] = value
    params.update((f'tag_{i}', tag) for i, tag in enumerate(tags_all))
    params['limit'] = limit

    statement = _list_statement(
        has_project, is_admin, member_status == 'all', include_deleted,
        visibility,
        tuple((column, op) for column, op, _ in filters),
        len(properties_eq), len(tags_all), sort, marker_null_keys,
        limit is not None, session.dialect.name)
    return _attach_children(session, session.execute(statement, params).all(),
                            with_locations)


def owner_storage_usage(session, owner, exclude_image_id=None):
    """Bytes held by an owner's live images (for user_storage_quota)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(images.c.size), 0)).where(
        images.c.owner == owner, images.c.deleted == sa.false(),
        images.c.status.not_in(['killed', 'deleted', 'pending_delete']))
    if exclude_image_id is not None:
        query = query.where(images.c.id != exclude_image_id)
    return int(session.execute(query).scalar())


# --- writing images ---------------------------------------------------------

def image_create(session, values, image_properties=None, image_tags=()):
    """Insert an image; Duplicate if its id was ever used."""
    duplicate = f"Image ID {values['id']} already exists!"
    if image_id_exists(session, values['id']):
        raise exception.Duplicate(duplicate)
    now = helpers.utcnow()
    row = {'created_at': now, 'updated_at': now, 'deleted': False,
           'deleted_at': None}
    row.update(values)
    with helpers.duplicate_as(duplicate):
        session.execute(images.insert().values(**row))
    _insert_properties(session, values['id'], image_properties or {})
    if image_tags:
        session.execute(tags.insert(), [
            {'image_id': values['id'], 'value': tag} for tag in image_tags])
    return image_get(session, values['id'])


def _insert_properties(session, image_id, new_properties):
    if new_properties:
        session.execute(properties.insert(), [
            {'image_id': image_id, 'name': name, 'value': value}
            for name, value in new_properties.items()])


def image_update(session, image_id, values=None, set_properties=None,
                 delete_properties=(), replace_tags=None,
                 expected_status=None, touch=True):
    """Change an image in place.

    expected_status: a status or a collection of statuses the image must
    be in for the change to happen (Conflict otherwise), so that two
    concurrent requests cannot both move an image on.
    """
    values = dict(values or {})
    if touch:
        values.setdefault('updated_at', helpers.utcnow())
    query = images.update().where(images.c.id == image_id,
                                  images.c.deleted == sa.false())
    if expected_status is not None:
        statuses = [expected_status] if isinstance(expected_status, str) \
            else list(expected_status)
        query = query.where(images.c.status.in_(statuses))
    if values:
        result = session.execute(query.values(**values))
        if result.rowcount == 0:
            current = image_get(session, image_id)  # ImageNotFound if gone
            target = values.get('status', 'changed')
            raise exception.Conflict(
                f"Image status transition from {current['status']} to "
                f"{target} is not allowed")
    if delete_properties:
        session.execute(properties.delete().where(
            properties.c.image_id == image_id,
            properties.c.name.in_(list(delete_properties))))
    if set_properties:
        existing = set(session.execute(
            sa.select(properties.c.name).where(
                properties.c.image_id == image_id,
                properties.c.name.in_(list(set_properties)))).scalars())
        for name in existing:
            session.execute(properties.update().where(
                properties.c.image_id == image_id,
                properties.c.name == name).values(
                    value=set_properties[name]))
        _insert_properties(session, image_id, {
            k: v for k, v in set_properties.items() if k not in existing})
    if replace_tags is not None:
        session.execute(tags.delete().where(tags.c.image_id == image_id))
        if replace_tags:
            session.execute(tags.insert(), [
                {'image_id': image_id, 'value': tag} for tag in replace_tags])
    return image_get(session, image_id)


def image_soft_delete(session, image_id):
    """Delete an image; its locations stay, marked pending_delete, until
    their data is deleted (glance.db.locations.pending_deletes)."""
    now = helpers.utcnow()
    session.execute(images.update().where(images.c.id == image_id).values(
        status='deleted', deleted=True, deleted_at=now, updated_at=now))
    location_queries.mark_pending_delete(session, image_id)
    session.execute(members.delete().where(members.c.image_id == image_id))


# --- tags -------------------------------------------------------------------

def tag_add(session, image_id, tag):
    """Add a tag (no-op if present); returns the image's tag count."""
    present = session.execute(sa.select(tags.c.id).where(
        tags.c.image_id == image_id, tags.c.value == tag)).first()
    if present is None:
        session.execute(tags.insert().values(image_id=image_id, value=tag))
    return tag_count(session, image_id)


def tag_count(session, image_id):
    return session.execute(sa.select(sa.func.count()).where(
        tags.c.image_id == image_id)).scalar()


def tag_delete(session, image_id, tag):
    result = session.execute(tags.delete().where(
        tags.c.image_id == image_id, tags.c.value == tag))
    if result.rowcount == 0:
        raise exception.NotFound(f'Tag {tag} not found')
