"""Queries on image locations: where each image's data is stored.

An image's location is a dict of `id`, `url`, `metadata` and `status`;
only active ones are listed.
"""
import json

import sqlalchemy as sa

from glance.db import helpers
from glance.db import models

locations = models.ImageLocation.__table__

# Built once: SQLAlchemy then reuses its compiled form.
ACTIVE_LOCATIONS = (sa.select(locations)
                    .where(locations.c.image_id.in_(
                        sa.bindparam('ids', expanding=True)),
                        locations.c.status == 'active')
                    .order_by(locations.c.id))


def location_dict(row):
    return {'id': row.id, 'url': row.url,
            'metadata': json.loads(row.meta_data or '{}'),
            'status': row.status}


def attach_active(session, images_by_id):
    """Give each image of {id: image} its active locations, as
    'locations', in one round trip."""
    for image in images_by_id.values():
        image['locations'] = []
    for row in session.execute(ACTIVE_LOCATIONS,
                               {'ids': list(images_by_id)}):
        images_by_id[row.image_id]['locations'].append(location_dict(row))


def location_list(session, image_id):
    return [location_dict(row)
            for row in session.execute(ACTIVE_LOCATIONS, {'ids': [image_id]})]


def location_add(session, image_id, url, metadata=None):
    session.execute(locations.insert().values(
        image_id=image_id, url=url, meta_data=json.dumps(metadata or {}),
        status='active', created_at=helpers.utcnow()))


def locations_set(session, image_id, final, original):
    """Make an image's active locations `final` (dicts; those with an `id`
    are rows of `original` kept, their metadata updated; the others are
    new rows, added in order), deleting the rows of `original` not kept,
    as upstream saves an image's location list."""
    kept = {loc['id']: loc for loc in final if loc.get('id')}
    for loc in original:
        if loc['id'] not in kept:
            location_delete(session, loc['id'])
        elif kept[loc['id']]['metadata'] != loc['metadata']:
            session.execute(locations.update().where(
                locations.c.id == loc['id']).values(
                    meta_data=json.dumps(kept[loc['id']]['metadata'])))
    for loc in final:
        if not loc.get('id'):
            location_add(session, image_id, loc['url'], loc['metadata'])


def location_delete(session, location_id):
    session.execute(locations.delete().where(
        locations.c.id == location_id))


def location_delete_all(session, image_id):
    session.execute(locations.delete().where(
        locations.c.image_id == image_id))


def mark_pending_delete(session, image_id):
    """Mark every location of an image as data to delete (the image's
    row is deleted in the same transaction); see pending_deletes."""
    session.execute(locations.update().where(
        locations.c.image_id == image_id).values(status='pending_delete'))


def pending_deletes(session, image_id=None):
    """The locations (dicts, as location_dict) of the data marked for
    deletion (of one image, or of all): what a deletion interrupted by a
    crash left."""
    query = sa.select(locations).where(
        locations.c.status == 'pending_delete').order_by(locations.c.id)
    if image_id is not None:
        query = query.where(locations.c.image_id == image_id)
    return [location_dict(row) for row in session.execute(query)]

