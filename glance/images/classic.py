"""The image operations of the classic API (v1), which does in one call
what v2 does in several: create or update an image together with its
data (a body, a location some store reads, or data copied from one).

They are built from the same operations v2 calls (`service`, `data`), so
that policy, quotas and the state machine apply to both APIs alike. What
v1 adds: admins also find deleted images, `get_image` is needed for
anything, and a download needs an active image.
"""
from oslo_config import cfg

from glance import store
from glance.common import exception
from glance.common import policy
from glance.images import data
from glance.images import policy_targets
from glance.images import service

CONF = cfg.CONF

# Statuses whose data may be downloaded (for admins: also deactivated).
SERVED_STATUSES = ('active', 'deactivated')


def get(context, image_id):
    """The image, as v1 finds it: admins also find deleted images."""
    return service.get(context, image_id, include_deleted=True)


def _check_declared_size(size):
    if size is not None and size > CONF.image_size_cap:
        raise exception.DeclaredSizeTooLarge()


def _external_source(url):
    """Refuse an empty or unusable location (only what a store reads)."""
    if not url:
        raise exception.Invalid('External source should not be empty')
    if not store.validate_external_location(url):
        raise exception.Invalid("External sources are not supported: '%s'"
                                % url)
    return url


def _check_formats(image, base):
    """Data needs both formats, given now or before."""
    for field, label in (('disk_format', 'Disk format'),
                         ('container_format', 'Container format')):
        if not base.get(field, image.get(field) if image else None):
            raise exception.Invalid('%s is not specified.' % label)


def _external_size(url, declared, check):
    """The size of the data at `url`: the declared one, else what its
    store says. With `check`, they must agree when both are known."""
    if declared and not check:
        return declared
    try:
        stored = store.get_size_from_backend(url)
    except exception.StoreUnavailable as error:
        # The client's URL, not our store: upstream answers 400 (its http
        # store's BadStoreUri), before any image exists.
        raise exception.Invalid('The HTTP URL is invalid: %s' % error)
    if declared and stored and declared != stored:
        raise exception.Conflict(
            'Provided image size must match the stored image size. '
            '(provided size: %d, stored size: %d)' % (declared, stored))
    return declared or stored


def _store(context, image_id, body_file, copy_from, location, size,
           checksum):
    """Give a queued image its data, from whichever source there is."""
    if body_file is not None:
        data.upload(context, image_id, body_file, size=size or None,
                    checksum=checksum, on_failure='killed')
    elif copy_from:
        data.copy_from(context, image_id, copy_from, size=size or None,
                       checksum=checksum, on_failure='killed')
    elif location:
        data.activate_without_upload(context, image_id, size or 0,
                                     checksum, location=location)
    elif size == 0:
        # An empty image: active at once, as upstream had it.
        data.activate_without_upload(context, image_id, 0, checksum)


def create(context, base, properties, body_file=None, location=None,
           copy_from=None, stated=None, store_scheme=None,
           declared_size=None):
    """Create an image, with its data if there is a source of it.

    base: base attributes (as stored); properties: extra properties;
    body_file: the data, if sent; location: an external location of the
    data (None: not given); copy_from: where to copy the data from (None:
    not given); stated: the size and checksum the request states, only
    those it gives; store_scheme: the store asked for; declared_size: the
    size the request says it carries. Returns the image as `get` does.
    """
    _check_declared_size(declared_size)
    stated = stated or {}
    sources = [source for source in (
        _external_source(location) if location is not None else None,
        _external_source(copy_from) if copy_from is not None else None,
        body_file) if source]
    if len(sources) > 1:
        raise exception.Invalid("It's invalid to provide multiple image "
                                "sources.")
    if store_scheme and store_scheme not in store.get_known_schemes():
        raise exception.Invalid('Required store %s is invalid'
                                % store_scheme)
    if sources:
        _check_formats(None, base)
    owner = base.get('owner', context.project_id)
    target = policy_targets.new_image_target(
        context, owner, base.get('visibility', 'shared'))
    if body_file is not None or copy_from:
        policy.enforce(context, 'upload_image', target)
    if location:
        policy.enforce(context, 'set_image_location', target)
    size = stated.get('size')
    if location or copy_from:
        size = _external_size(location or copy_from, size,
                              check=bool(location))

    image = service.create(context, base, properties, [])
    _store(context, image['id'], body_file, copy_from, location, size,
           stated.get('checksum'))
    return get(context, image['id'])


def update(context, image_id, base, properties, body_file=None,
           location=None, copy_from=None, stated=None, restated=None,
           purge_properties=True, declared_size=None):
    """Update an image's metadata, and give a queued image its data.

    As `create`; restated: the status and id the request gives, which
    must be the image's own (status as the stored statuses it names);
    purge_properties: the other extra properties are removed (unless data
    is sent).
    """
    _check_declared_size(declared_size)
    stated = stated or {}
    restated = restated or {}
    image = get(context, image_id)
    if image['deleted']:
        raise exception.Forbidden('Forbidden to update deleted image.')
    policy_targets.enforce_on_image(context, 'modify_image', image)
    status = image['status']
    if not context.is_admin and status in ('active', 'deactivated'):
        for field in ('size', 'checksum'):
            if field in stated and stated[field] != image[field]:
                raise exception.Forbidden(
                    "Forbidden to modify '%s' of %s image." % (field, status))
    if 'status' in restated and status not in restated['status']:
        raise exception.Forbidden("Forbidden to modify 'status' of image.")
    if 'id' in restated and restated['id'] != image['id']:
        raise exception.Forbidden("Forbidden to modify 'id' of image.")
    if body_file is not None and status != 'queued':
        raise exception.Conflict('Cannot upload to an unqueued image')
    external = None
    if location is not None:
        external = location = _external_source(location)
    elif copy_from is not None:
        external = _external_source(copy_from)
    if external and status != 'queued':
        raise exception.Invalid('Attempted to update Location field for an '
                                'image not in queued status.')
    if len([s for s in (location, copy_from, body_file) if s]) > 1:
        raise exception.Invalid("It's invalid to provide multiple image "
                                "sources.")
    if body_file is not None or copy_from:
        policy_targets.enforce_on_image(context, 'upload_image', image)
    size = stated.get('size')
    if location:
        policy_targets.enforce_on_image(context, 'set_image_location',
                                        image)
        size = _external_size(location, size, check=True)
    elif copy_from:
        size = _external_size(copy_from, size, check=False)
    if external or body_file is not None:
        _check_formats(image, base)

    if context.is_admin and status in ('active', 'deactivated'):
        # Only admins change these, and only once there is data.
        base = dict(base, **stated)
    service.set_attributes(context, image_id, base, properties,
                           purge_properties=purge_properties
                           and body_file is None)
    if status == 'queued' and (external or body_file is not None):
        _store(context, image_id, body_file, copy_from, location, size,
               stated.get('checksum'))
    return get(context, image_id)


def delete(context, image_id):
    """Delete an image (ImageDeleted if it already is)."""
    image = get(context, image_id)
    policy_targets.enforce_on_image(context, 'delete_image', image)
    if image['protected']:
        raise exception.ProtectedImageDelete(image_id=image_id)
    if image['status'] == 'pending_delete':
        raise exception.Forbidden(
            'Forbidden to delete a pending_delete image.')
    if image['deleted']:
        raise exception.ImageDeleted(image_id=image_id)
    service.delete(context, image_id)


def download(context, image_id):
    """(image, chunks, size) of an active image's data: ImageNotActive
    unless it is active or deactivated (ImageDeactivated then, but for
    admins), otherwise as data.download; no chunks and size 0 when there
    is no data."""
    image = get(context, image_id)
    if image['status'] not in SERVED_STATUSES:
        raise exception.ImageNotActive(image_id=image_id)
    image, chunks, _range, total = data.download(context, image_id)
    if chunks is None:
        return image, iter(()), 0
    return image, chunks, image['size'] or total
