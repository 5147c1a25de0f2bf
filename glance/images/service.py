"""Image operations: create, show, list, update, delete, tags, (de)activate.

Each operation reads top to bottom: find the image the caller may see,
check policy, check quotas and the state machine, persist, touch the store.
Upload and download live in `glance.images.data`, members in
`glance.images.members`.
"""
import logging
import uuid

from oslo_config import cfg

from glance import store
from glance.common import exception
from glance.common import policy
import glance.db
from glance.db import images as image_db
from glance.db import locations as location_db
from glance.db import members as member_db
from glance.images import locations as image_locations
from glance.images import policy_targets
from glance.images import quotas
from glance.images import rules

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


# --- finding images ----------------------------------------------------------

def find(session, context, image_id, for_update=False,
         include_deleted=False, with_locations=False):
    """The image, if the caller may see it; ImageNotFound otherwise.

    include_deleted: admins also find deleted images (as the classic API
    shows them); nobody else does. with_locations: with 'locations'.
    """
    image = image_db.image_get(session, image_id, for_update=for_update,
                               include_deleted=include_deleted
                               and context.is_admin,
                               with_locations=with_locations)
    is_member = False
    if image['visibility'] == 'shared' and not context.is_admin \
            and image['owner'] != context.project_id:
        is_member = bool(member_db.member_list(session, image_id,
                                               context.project_id))
    if not policy_targets.can_see(context, image, is_member):
        raise exception.ImageNotFound(image_id=image_id)
    return image


def get(context, image_id, include_deleted=False, with_locations=False):
    with glance.db.reading() as session:
        image = find(session, context, image_id,
                     include_deleted=include_deleted,
                     with_locations=with_locations)
    policy_targets.enforce_on_image(context, 'get_image', image)
    return _with_ordered_locations(image)


def _with_ordered_locations(image):
    """The image with its locations (when it has them) in the order
    downloads try them, each with its store id in the multi-store mode."""
    if image.get('locations'):
        image['locations'] = store.ordered_locations(image['locations'])
    return image


def list_images(context, filters=(), properties=None, tags=(),
                visibility=None, member_status='accepted', marker=None,
                limit=None, sort=(), tie_direction='desc',
                include_deleted=False, as_project=False, with_locations=False):
    """A page of images and the marker of the next page (or None).

    The next marker is given whenever the database filled the page, even
    if policy then hid some of its images, so that paging goes on.
    include_deleted: deleted (and killed) images too. as_project: an admin
    sees what its project would see (the classic API's default listing).
    """
    policy.enforce(context, 'get_images', {'project_id': context.project_id})
    with glance.db.reading() as session:
        found = image_db.image_list(
            session, context.project_id,
            context.is_admin and not as_project, filters=filters,
            properties_eq=properties, tags_all=tags, visibility=visibility,
            member_status=member_status, marker=marker, limit=limit,
            sort=sort, tie_direction=tie_direction,
            include_deleted=include_deleted, with_locations=with_locations)
    shown = [image for image in found
             if policy.check(context, 'get_image',
                             policy_targets.policy_target(context, image))]
    if with_locations:
        shown = [_with_ordered_locations(image) for image in shown]
    next_marker = None
    if shown and limit is not None and len(found) == limit:
        next_marker = shown[-1]['id']
    return shown, next_marker


# --- create ------------------------------------------------------------------

def create(context, base, extra_properties, tags):
    """Create a queued image.

    base: the base attributes given (name, visibility, id, owner, ...);
    extra_properties: the other properties (all strings); tags: a list.
    """
    for name in extra_properties:
        rules.check_property_name(name)
    for name in base:
        if name in rules.READONLY_PROPERTIES and name != 'id':
            raise exception.ReadonlyProperty(property=name)
    owner = base.get('owner', context.project_id)
    visibility = base.get('visibility', 'shared')
    target = policy_targets.new_image_target(context, owner, visibility)
    if not policy.check(context, 'add_image', target):
        if owner != context.project_id:
            raise exception.Forbidden(
                "You are not permitted to create images owned by '%s'"
                % owner, as_detail=True)
        policy.enforce(context, 'add_image', target)
    policy_targets.enforce_visibility(context, visibility, target)
    for name in ('min_disk', 'min_ram'):
        _check_db_int(name, base.get(name))
    unique_tags = list(dict.fromkeys(tags))
    quotas.check_quota('properties', len(extra_properties),
                       CONF.image_property_quota)
    quotas.check_quota('tags', len(unique_tags), CONF.image_tag_quota)

    values = {
        'id': base.get('id') or str(uuid.uuid4()),
        'name': base.get('name'),
        'status': 'queued',
        'visibility': visibility,
        'protected': base.get('protected', False),
        'os_hidden': base.get('os_hidden', False),
        'min_disk': base.get('min_disk') or 0,
        'min_ram': base.get('min_ram') or 0,
        'owner': owner,
        'disk_format': base.get('disk_format'),
        'container_format': base.get('container_format'),
    }
    with glance.db.writing() as session:
        image = image_db.image_create(session, values, extra_properties,
                                      unique_tags)
    image['locations'] = []
    return image


# min_disk and min_ram are 32-bit integer columns in every database.
MAX_DB_INT = 2 ** 31 - 1


def _check_db_int(name, value):
    """Invalid for a min_disk or min_ram no column can hold (a client's,
    from either API)."""
    if value is None:
        return
    if value < 0:
        raise exception.Invalid(
            "Invalid value '%s' for parameter '%s': Cannot be a negative "
            "value" % (value, name))
    if value > MAX_DB_INT:
        raise exception.Invalid("'%s' value out of range, must not exceed "
                                "%d." % (name, MAX_DB_INT))


# --- update ------------------------------------------------------------------

def update(context, image_id, changes, with_locations=False):
    """Apply JSON-patch style changes: (op, name, value) with op one of
    add, replace, remove and name a base attribute or an extra property.

    `strict_add` changes (draft-4 patches) refuse to add what exists.
    Everything is checked before anything is written.
    """
    probed = {}
    if any(change['name'] == 'locations' and change['op'] != 'remove'
           for change in changes):
        # New locations are checked against their stores (an http HEAD):
        # first in a read transaction, so that no write waits on the
        # network; the write then takes the sizes found.
        with glance.db.reading() as session:
            _apply_changes(session, context, image_id, changes,
                           with_locations, probed, dry_run=True)
    location_changes, updated = None, None
    with glance.db.writing() as session:
        location_changes, updated = _apply_changes(
            session, context, image_id, changes, with_locations, probed)
    if location_changes is not None:
        # The rows are gone: now the data of the locations removed.
        location_changes.delete_removed_data(delete_data)
        # As the PATCH left them (positions given count), not reordered.
        return updated
    return _with_ordered_locations(updated)


def _apply_changes(session, context, image_id, changes, with_locations,
                   probed, dry_run=False):
    """update()'s checks and, unless dry_run, its writes. Returns the
    location changes (None without any) and the image."""
    location_changes = None
    image = find(session, context, image_id, for_update=not dry_run,
                 with_locations=with_locations)
    base = {}
    set_props, removed_props = {}, set()
    props = dict(image['properties'])
    tags = None
    for change in changes:
        op, name, value = change['op'], change['name'], change.get('value')
        if name == 'locations':
            if location_changes is None:
                location_changes = _location_changes(session, context,
                                                     image, probed)
            location_changes.apply(op, change.get('position'), value)
            continue
        if op == 'remove':
            _authorize_change(context, image, name)
            if name in rules.BASE_PROPERTIES:
                raise exception.Forbidden(
                    'Property %s may not be removed.' % name,
                    as_detail=True)
            if name not in props:
                raise exception.Conflict(
                    'Property %s does not exist.' % name, as_detail=True)
            del props[name]
            removed_props.add(name)
            set_props.pop(name, None)
            continue
        # 'add' of an existing attribute replaces it: both need admin
        # (upstream guards only 'replace', and so lets a member give
        # its image away).
        if name == 'owner' and not context.is_admin:
            raise exception.Forbidden(
                "Owner can't be updated by non admin.", as_detail=True)
        _authorize_change(context, image, name, value)
        exists = name in rules.BASE_PROPERTIES or name in props
        if op == 'add' and change.get('strict_add') and exists:
            raise exception.Conflict(
                'Property %s already present.' % name, as_detail=True)
        if op == 'replace' and not exists:
            raise exception.Conflict('Property %s does not exist.' % name,
                                     as_detail=True)
        if name == 'tags':
            tags = list(dict.fromkeys(value))
        elif name in rules.BASE_PROPERTIES:
            _check_base_change(image, name, value)
            base[name] = value
        else:
            rules.check_property_name(name)
            props[name] = value
            set_props[name] = value
            removed_props.discard(name)
    if len(props) > len(image['properties']):
        quotas.check_quota('properties', len(props),
                           CONF.image_property_quota)
    if tags is not None:
        quotas.check_quota('tags', len(tags), CONF.image_tag_quota)
    if dry_run:
        return None, None
    if not changes:
        return None, image
    if location_changes is not None:
        base.update(location_changes.persist())
    updated = image_db.image_update(
        session, image_id, values=base, set_properties=set_props,
        delete_properties=removed_props, replace_tags=tags)
    if with_locations:
        updated['locations'] = image['locations']
    return location_changes, updated


def _location_changes(session, context, image, probed):
    """The location operations of a PATCH on `image`, starting from its
    locations in the order images show them."""
    if image.get('locations') is None:
        image['locations'] = location_db.location_list(session, image['id'])
    image['locations'] = store.ordered_locations(image['locations'])
    return image_locations.LocationChanges(session, context, image, probed)


def set_attributes(context, image_id, base, properties,
                   purge_properties=False):
    """Set base attributes and extra properties in one go, the way the
    classic API updates an image.

    base: base attributes to set (as stored: visibility, not is_public);
    properties: extra properties to add or replace; purge_properties: the
    image's other extra properties are removed.
    """
    with glance.db.writing() as session:
        image = find(session, context, image_id, for_update=True)
        policy_targets.enforce_on_image(context, 'modify_image', image)
        target = policy_targets.policy_target(context, image)
        if base.get('visibility', image['visibility']) != image['visibility']:
            policy_targets.enforce_visibility(context, base['visibility'],
                                              target)
        if base.get('owner', image['owner']) != image['owner'] \
                and not context.is_admin:
            raise exception.Forbidden("Owner can't be updated by non admin.",
                                      as_detail=True)
        for name in ('min_disk', 'min_ram'):
            _check_db_int(name, base.get(name))
        for name in properties:
            rules.check_property_name(name)
        current = image['properties']
        removed = set(current) - set(properties) if purge_properties \
            else set()
        kept = len(current) - len(removed)
        count = kept + len(set(properties) - set(current))
        if count > len(current):
            quotas.check_quota('properties', count, CONF.image_property_quota)
        changed = {name: value for name, value in properties.items()
                   if current.get(name) != value}
        return image_db.image_update(
            session, image_id, values=base, set_properties=changed,
            delete_properties=removed)


def _authorize_change(context, image, name, value=None):
    if name == 'visibility':
        policy_targets.enforce_visibility(
            context, value, policy_targets.policy_target(context, image))
    policy_targets.enforce_on_image(context, 'modify_image', image)


def _check_base_change(image, name, value):
    if name in ('disk_format', 'container_format') \
            and image['status'] not in ('queued', 'importing'):
        raise exception.Forbidden(
            'Attribute %s can be only replaced for a queued image.' % name)
    if name in ('min_disk', 'min_ram'):
        _check_db_int(name, value)


# --- delete, deactivate, reactivate ---------------------------------------

def delete(context, image_id):
    with glance.db.writing() as session:
        image = find(session, context, image_id, for_update=True)
        policy_targets.enforce_on_image(context, 'delete_image', image)
        if image['protected']:
            raise exception.ProtectedImageDelete(image_id=image_id)
        image_db.image_soft_delete(session, image_id)
        pending = location_db.pending_deletes(session, image_id)
    # The row says "deleted" before the data goes, its locations marked
    # pending_delete until then: a crash here leaves them for the next
    # sweep (glance.images.uploads), never an image without its data.
    for location in pending:
        # From the backend the location records (several may share a
        # type, and so a URI scheme).
        if delete_data(location['url'], location):
            with glance.db.writing() as session:
                location_db.location_delete(session, location['id'])


def delete_from_store(context, image_id, store_id):
    """Remove an image's data from one store (DELETE /v2/stores/{store_id}
    /{image_id}), keeping it in the others, with upstream's checks in
    upstream's order."""
    if not store.multistore_enabled():
        raise exception.NotFound(None)
    try:
        store.check_backend(store_id)
    except exception.UnknownScheme:
        raise exception.Conflict(
            'The selected store %s is not available on this node.'
            % store_id)
    with glance.db.writing() as session:
        try:
            image = find(session, context, image_id, for_update=True)
        except exception.ImageNotFound:
            raise exception.ImageNotFound(
                'Failed to find image %s' % image_id)
        policy_targets.enforce_on_image(context, 'get_image_location', image)
        policy_targets.enforce_on_image(context, 'delete_image_location',
                                        image)
        if image['status'] != 'active':
            raise exception.Conflict(
                "It's not allowed to remove image data from store if image "
                "status is not 'active'")
        locations = store.ordered_locations(
            location_db.location_list(session, image_id))
        if len(locations) == 1:
            raise exception.Forbidden(
                'Cannot delete image data from the only store containing '
                'it. Consider deleting the image instead.')
        for location in locations:
            if location['metadata'].get('store') == store_id:
                break
        else:
            raise exception.NotFound(
                'Image %s is not stored in store %s.' % (image_id, store_id))
        location_db.location_delete(session, location['id'])
        image_db.image_update(session, image_id)
    # As for an image's delete: the row first, then the bytes.
    delete_data(location['url'], location)


def delete_data(url, location=None):
    """Remove stored data (from the backend `location` records, when
    given); a failure is logged, never raised. Returns False if the data
    may still be there."""
    try:
        if location is not None:
            store.delete_from_store(location)
        else:
            store.delete_from_backend(url)
    except (exception.ImageDataNotFound, exception.StoreDeleteNotSupported):
        pass
    except exception.GlanceException as error:
        LOG.warning('Could not delete image data: %s', error)
        return False
    return True


def deactivate(context, image_id):
    _move(context, image_id, 'deactivate', 'active', 'deactivated')


def reactivate(context, image_id):
    _move(context, image_id, 'reactivate', 'deactivated', 'active')


def _move(context, image_id, action, source, target):
    with glance.db.writing() as session:
        image = find(session, context, image_id, for_update=True)
        policy_targets.enforce_on_image(context, action, image)
        if image['status'] == target:
            return
        if image['status'] != source:
            raise exception.Forbidden(
                "Not allowed to %s image in status '%s'"
                % (action, image['status']))
        image_db.image_update(session, image_id, {'status': target},
                              expected_status=source)


# --- tags --------------------------------------------------------------------

def add_tag(context, image_id, tag):
    with glance.db.writing() as session:
        image = find(session, context, image_id, for_update=True)
        policy_targets.enforce_on_image(context, 'modify_image', image)
        if tag not in image['tags']:
            quotas.check_quota('tags', len(image['tags']) + 1,
                               CONF.image_tag_quota)
            image_db.tag_add(session, image_id, tag)
            image_db.image_update(session, image_id)


def delete_tag(context, image_id, tag):
    with glance.db.writing() as session:
        image = find(session, context, image_id, for_update=True)
        policy_targets.enforce_on_image(context, 'modify_image', image)
        image_db.tag_delete(session, image_id, tag)
        image_db.image_update(session, image_id)
