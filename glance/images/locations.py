"""Image locations changed by clients: the JSON-patch operations on
`/locations` of PATCH /v2/images/{id} (add, remove, replace), with
upstream's rules (the v2.4 ones), checks and messages.

`LocationChanges` takes one PATCH's location operations in order, on a
working copy of the image's locations (in the order images show them),
checking each as it comes; `persist()` then writes the result in the
PATCH's transaction, and `delete_removed_data()` removes the data of the
locations removed, once that transaction is committed (the row first,
then the bytes, as image deletes do).

A location a client gives must be one the service may read from: a
scheme some store handles and not a restricted one (file://,
swift+config://), http(s) URLs passing [import_filtering_opts], data of
a known size > 0 at it, and metadata of strings, lists and dicts only.
"""
import hashlib

from oslo_config import cfg

from glance import store
from glance.common import exception
from glance.common import uri_filter
from glance.db import images as image_db
from glance.db import locations as location_db
from glance.images import policy_targets
from glance.images import quotas
from glance.store import location as store_location

CONF = cfg.CONF

VALIDATION_KEYS = ('checksum', 'os_hash_algo', 'os_hash_value')
WEB_SCHEMES = ('http', 'https')


class InvalidLocation(exception.Invalid):
    message = 'Invalid location'


def check_metadata(value, key=''):
    """Location metadata holds strings, lists and dicts only (what every
    store can keep)."""
    if isinstance(value, dict):
        for name, item in value.items():
            check_metadata(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_metadata(item, '%s[%d]' % (key, index))
    elif not isinstance(value, str):
        # (upstream answers 500 with this message)
        raise exception.Invalid(
            'The image metadata key %s has an invalid type of %s. Only '
            'dict, list, and unicode are supported.'
            % (key, type(value).__name__))


def check_location(url, metadata):
    """The size of the data at a location a client gives; InvalidLocation
    (400) unless the service may read it and it has data."""
    if not url or not store.validate_external_location(url):
        raise InvalidLocation()
    # Before any request goes out: no fetch of what the rules refuse.
    if store_location.scheme_of(url) in WEB_SCHEMES \
            and not uri_filter.is_allowed(url):
        raise InvalidLocation()
    backend = metadata.get('store') if store.multistore_enabled() else None
    if store.multistore_enabled() and backend is None:
        raise InvalidLocation()  # no store takes URLs like this one
    try:
        size = store.get_size_of_location(url, backend)
    except (exception.NotFound, exception.Invalid, exception.StoreError):
        size = 0
    if not size or size <= 0:
        raise InvalidLocation()
    check_metadata(metadata)
    return size


def _position(path_position, count, past_end_allowed):
    """The list index a `/locations/N` (or `/locations/-`) path names, or
    None. Adding takes any N (past the end appends, as upstream skips
    the bound there); removing needs an existing index."""
    if path_position == '-':
        return count if past_end_allowed else count - 1
    if not path_position.isdigit():
        return None
    position = int(path_position)
    if not past_end_allowed and not 0 <= position < count:
        return None
    return position


def _hex_digest_size(value):
    try:
        return len(bytes.fromhex(value))
    except ValueError:
        return None


class LocationChanges:
    """The location operations of one PATCH on one image.

    image: the image as found for update (its dict is changed as the
    operations go: status, size and validation data), with its
    `locations` in the order images show them.
    """

    def __init__(self, session, context, image, probed=None):
        """probed: {(url, store): size} of the locations checked against
        their stores already in this request (filled as they are)."""
        self.probed = {} if probed is None else probed
        self.session = session
        self.context = context
        self.image = image
        self.original = [dict(loc) for loc in image['locations']]
        self.locations = [dict(loc) for loc in image['locations']]
        # Base attributes to write (status, size, checksum, hashes).
        self.values = {}
        self.removed = []

    # --- the operations, each with upstream's checks in upstream's order

    def apply(self, op, position, value):
        if op == 'replace':
            self.replace(value)
        elif op == 'add':
            self.add(position, value)
        else:
            self.remove(position)

    def _check_visible(self, verb):
        if not CONF.show_multiple_locations:
            raise exception.Forbidden(
                "It's not allowed to %s locations if locations are "
                "invisible." % verb)

    def _check_status(self, verb, allowed=('active', 'queued')):
        status = self.image['status']
        if status not in allowed:
            raise exception.Conflict(
                "It's not allowed to %s locations if image status is %s."
                % (verb, status))

    def add(self, path_position, value):
        policy_targets.enforce_on_image(self.context, 'set_image_location',
                                        self.image)
        self._check_visible('add')
        self._check_status('add')
        validation = self._validation_data([value])
        new = self._new_location(value)
        position = _position(path_position, len(self.locations), True)
        if position is None:
            raise exception.Invalid('Invalid position for adding a '
                                    'location.')
        quotas.check_quota('locations', len(self.locations) + 1,
                           CONF.image_location_quota)
        size = self._check_location(new)
        self._check_storage_quota(size, 1, include_current=True)
        if any(loc['url'] == new['url']
               and loc['metadata'] == new['metadata']
               for loc in self.locations):
            raise exception.Invalid('The location %s already exists'
                                    % new['url'])
        self.locations.insert(position, new)
        self._set_size(size)
        self._activate(validation)

    def replace(self, value):
        if not value:
            raise exception.Forbidden('Cannot set locations to empty list.',
                                      as_detail=True)
        policy_targets.enforce_on_image(self.context, 'set_image_location',
                                        self.image)
        self._check_visible('update')
        self._check_status('replace')
        validation = self._validation_data(value)
        new_list = [self._new_location(loc) for loc in value]
        quotas.check_quota('locations', len(new_list),
                           CONF.image_location_quota)
        new_urls = sorted(loc['url'] for loc in new_list)
        current_urls = sorted(loc['url'] for loc in self.locations)
        if self.locations and new_urls != current_urls:
            # Only the order and the metadata may change.
            raise exception.Invalid('Original locations is not empty: %s'
                                    % self._described(self.locations))
        if new_urls != current_urls:
            sizes = []
            for index, loc in enumerate(new_list):
                sizes.append(self._check_location(loc))
                if any(other['url'] == loc['url']
                       and other['metadata'] == loc['metadata']
                       for other in new_list[:index]):
                    raise exception.Invalid('The location %s already exists'
                                            % loc['url'])
            self._check_storage_quota(sizes[0], len(new_list))
            self._set_size(sizes[0])
        self.locations = new_list
        self._activate(validation)

    def remove(self, path_position):
        policy_targets.enforce_on_image(self.context,
                                        'delete_image_location', self.image)
        self._check_visible('remove')
        self._check_status('remove', allowed=('active',))
        if len(self.locations) == 1:
            raise exception.Forbidden('Cannot remove last location in the '
                                      'image.', as_detail=True)
        position = _position(path_position, len(self.locations), False)
        if position is None:
            raise exception.Invalid('Invalid position for removing a '
                                    'location.')
        self.locations.pop(position)

    # --- helpers

    def _check_location(self, new):
        """check_location(), asking the store once per request."""
        key = (new['url'], new['metadata'].get('store'))
        if key not in self.probed:
            self.probed[key] = check_location(new['url'], new['metadata'])
        else:
            check_metadata(new['metadata'])
        return self.probed[key]

    @staticmethod
    def _described(locations):
        """The locations as upstream's message shows them."""
        return [{'id': loc.get('id'), 'url': loc['url'],
                 'metadata': loc['metadata'],
                 'status': loc.get('status', 'active')}
                for loc in locations]

    @staticmethod
    def _new_location(value):
        """A location as a client gives it, with the store that holds
        URLs like it recorded (multi-store mode, as upstream matches URL
        prefixes); validation_data is not kept."""
        new = {'url': value['url'], 'metadata': dict(value['metadata']),
               'status': 'active'}
        if store.multistore_enabled():
            backend = store.owner_of(new['url'])
            if backend is not None:
                new['metadata']['store'] = backend
        return new

    def _validation_data(self, locations):
        """The image attributes the locations' validation_data sets (only
        new ones, and only while the image is queued), 409 otherwise."""
        given = {}
        for loc in locations:
            for key, value in (loc.get('validation_data') or {}).items():
                if given.get(key, value) != value:
                    raise exception.Conflict('Conflicting values for %s'
                                             % key)
                given[key] = value
        new = {}
        for key, value in given.items():
            current = self.image.get(key)
            if value == current:
                continue
            if current:
                raise exception.Conflict(
                    '%s is already set with a different value' % key)
            new[key] = value
        if not new:
            return {}
        if self.image['status'] != 'queued':
            raise exception.Conflict(
                "New value(s) for %s may only be provided when image status "
                "is 'queued'" % ', '.join(new))
        if 'checksum' in new:
            size = _hex_digest_size(new['checksum'])
            if size is None:
                raise exception.Conflict(
                    'checksum (%s) is not a valid hexadecimal value'
                    % new['checksum'])
            if size != 16:
                raise exception.Conflict(
                    'checksum (%s) is not the correct size for md5 (should '
                    'be 16 bytes)' % new['checksum'])
        algorithm = new.get('os_hash_algo')
        if algorithm != CONF.hashing_algorithm:
            raise exception.Conflict('os_hash_algo must be %s, not %s'
                                     % (CONF.hashing_algorithm, algorithm))
        hash_value = new.get('os_hash_value', '')
        size = _hex_digest_size(hash_value)
        if size is None:
            raise exception.Conflict(
                'os_hash_value (%s) is not a valid hexadecimal value'
                % hash_value)
        wanted = hashlib.new(algorithm).digest_size
        if size != wanted:
            raise exception.Conflict(
                'os_hash_value (%s) is not the correct size for %s (should '
                'be %d bytes)' % (hash_value, algorithm, wanted))
        return new

    def _check_storage_quota(self, size, count, include_current=False):
        """413 when `count` more copies of `size` bytes would pass the
        owner's user_storage_quota."""
        quota = quotas.storage_quota_bytes()
        if not quota:
            return
        image_size = self.image.get('size') or size
        used = image_db.owner_storage_usage(
            self.session, self.image['owner'],
            exclude_image_id=self.image['id'])
        if include_current:
            used += image_size * len(self.locations)
        required = image_size * count
        remaining = max(quota - used, 0)
        if required > remaining:
            raise exception.StorageQuotaFull(
                'Denying attempt to upload image because it exceeds the '
                'quota: The size of the data %d will exceed the limit. %d '
                'bytes remaining.' % (required, remaining))

    def _set_size(self, size):
        if not self.image.get('size'):
            self.image['size'] = size
            self.values['size'] = size

    def _activate(self, validation):
        """A queued image given data this way is active at once (nothing
        is hashed: only what validation_data says is set)."""
        if self.image['status'] != 'queued':
            return
        self.image.update(validation)
        self.values.update(validation)
        self.image['status'] = self.values['status'] = 'active'

    # --- writing

    def persist(self):
        """Write the locations (in the PATCH's transaction); returns the
        base attributes they changed, for the image row."""
        final_ids = {loc['id'] for loc in self.locations if loc.get('id')}
        final_urls = {loc['url'] for loc in self.locations}
        self.removed = [loc for loc in self.original
                        if loc['id'] not in final_ids
                        and loc['url'] not in final_urls]
        location_db.locations_set(self.session, self.image['id'],
                                  self.locations, self.original)
        self.image['locations'] = [
            {k: v for k, v in loc.items() if k != 'validation_data'}
            for loc in self.locations]
        return self.values

    def delete_removed_data(self, delete_data):
        for loc in self.removed:
            delete_data(loc['url'], loc)
