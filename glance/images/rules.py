"""The rules images obey: options, property names, quotas, policy targets.

Shared by the operations in `service`, `data` and `members`.
"""
from collections import abc
import hashlib
import re

from oslo_config import cfg
from oslo_config import types

from glance.common import exception
from glance.common import policy

CONF = cfg.CONF

# A number of bytes with an optional unit (see storage_quota_bytes).
STORAGE_QUOTA_SYNTAX = r'(?i)^\s*\d+\s*([KMGT]?B)?\s*$'


class HashAlgorithm(types.String):
    """A hashlib algorithm with a fixed-size digest (the multihash)."""

    def __call__(self, value):
        value = super().__call__(value)
        try:
            hashlib.new(value).hexdigest()
        except (ValueError, TypeError):
            raise ValueError(f'{value} is not a hashlib algorithm with a '
                             'fixed-size digest')
        return value


image_opts = [
    cfg.IntOpt('image_size_cap', default=1099511627776, min=1,
               max=9223372036854775808,
               help='Largest image, in bytes, that may be uploaded '
                    '(default 1 TiB).'),
    cfg.StrOpt('user_storage_quota', default='0',
               regex=STORAGE_QUOTA_SYNTAX,
               help='Most bytes of image data a project may hold across '
                    'its images, as a number with an optional unit B, KB, '
                    'MB, GB or TB (powers of 1024). 0 means no limit.'),
    cfg.IntOpt('image_property_quota', default=128,
               help='Most extra properties an image may have; negative '
                    'means no limit.'),
    cfg.IntOpt('image_tag_quota', default=128,
               help='Most tags an image may have; negative means no limit.'),
    cfg.IntOpt('image_member_quota', default=128,
               help='Most members an image may have; negative means no '
                    'limit.'),
    cfg.IntOpt('image_location_quota', default=10,
               help='Most locations an image may have; negative means no '
                    'limit.'),
    cfg.Opt('hashing_algorithm', type=HashAlgorithm(), default='sha512',
            help='hashlib algorithm of the multihash (os_hash_value) '
                 'computed while image data is uploaded.'),
    cfg.BoolOpt('show_image_direct_url', default=False,
                help='Show the store location of image data as '
                     '"direct_url". It tells clients where data lives in '
                     'the back end: only turn on where they are trusted.'),
    cfg.BoolOpt('show_multiple_locations', default=False,
                help='Show and let clients change the "locations" of '
                     'images. A security risk on shared clouds.'),
]
CONF.register_opts(image_opts)

STATUSES = ('queued', 'saving', 'active', 'killed', 'deleted', 'uploading',
            'importing', 'pending_delete', 'deactivated')
VISIBILITIES = ('community', 'public', 'private', 'shared')
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')

# Image attributes stored in their own columns (everything else a client
# sends is an extra property).
BASE_PROPERTIES = frozenset([
    'checksum', 'created_at', 'container_format', 'disk_format', 'id',
    'min_disk', 'min_ram', 'name', 'size', 'virtual_size', 'status', 'tags',
    'owner', 'updated_at', 'visibility', 'protected', 'os_hidden',
    'os_hash_algo', 'os_hash_value'])
# Attributes only the service sets.
READONLY_PROPERTIES = frozenset([
    'created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size',
    'direct_url', 'self', 'file', 'schema', 'id', 'os_hash_algo',
    'os_hash_value'])
# Links and computed attributes a client may never send on create.
DISALLOWED_ON_CREATE = ('direct_url', 'self', 'file', 'schema', 'stores')
RESERVED_PROPERTIES = frozenset(['location', 'deleted', 'deleted_at'])
RESERVED_NAMESPACE = 'os_glance'
# Base attributes a client may change.
MUTABLE_BASE = frozenset(['name', 'visibility', 'protected', 'os_hidden',
                          'min_disk', 'min_ram', 'owner', 'disk_format',
                          'container_format', 'tags'])


def check_property_name(name):
    """Forbidden for names no client may set as an extra property."""
    if name in RESERVED_PROPERTIES or name.startswith(RESERVED_NAMESPACE):
        raise exception.ReservedProperty(property=name, as_detail=True)


def check_quota(kind, attempted, maximum):
    """413 when `attempted` items would pass a quota (negative: none)."""
    if 0 <= maximum < attempted:
        raise exception.LimitExceeded(
            'The limit has been exceeded on the number of allowed image '
            '%s. Attempted: %d, Maximum: %d' % (kind, attempted, maximum))


_UNITS = {'B': 1, 'KB': 1024, 'MB': 1024 ** 2, 'GB': 1024 ** 3,
          'TB': 1024 ** 4}


def storage_quota_bytes():
    """user_storage_quota in bytes (0 = unlimited)."""
    match = re.fullmatch(r'\s*(\d+)\s*([KMGT]?B)?\s*',
                         CONF.user_storage_quota.upper())
    if not match:
        raise exception.Invalid('Invalid value for option user_storage_quota:'
                                ' %s' % CONF.user_storage_quota)
    return int(match.group(1)) * _UNITS[match.group(2) or 'B']


# --- policy ------------------------------------------------------------------

class ImageTarget(abc.Mapping):
    """What policy rules see of an image: its attributes and properties,
    `project_id` as the owner, and `member_id` as the caller's project when
    it sees another project's shared image as a member.

    Values are looked up when a rule asks for them, so that judging many
    images costs little more than the values the rules read.
    """

    HIDDEN = frozenset(['properties', 'tags', 'locations'])

    def __init__(self, context, image):
        self.project_id = context.project_id
        self.image = image

    def __getitem__(self, key):
        image = self.image
        if key == 'project_id':
            return image['owner']
        if key == 'member_id':
            shared_with_caller = (image['visibility'] == 'shared'
                                  and self.project_id != image['owner'])
            return self.project_id if shared_with_caller else None
        if key in image and key not in self.HIDDEN:
            return image[key]
        return image['properties'][key]

    def _keys(self):
        keys = dict.fromkeys(k for k in self.image if k not in self.HIDDEN)
        keys.update(dict.fromkeys(self.image['properties']))
        keys.update(dict.fromkeys(['project_id', 'member_id']))
        return keys

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())


def policy_target(context, image):
    return ImageTarget(context, image)


def new_image_target(context, owner, visibility):
    return {'project_id': owner, 'owner': owner, 'visibility': visibility}


# Actions that change an image. Whatever their rules say, only an admin
# or the owning project may do them (upstream's database layer insists
# too): a rule written for projects never matches a project-less caller
# to an ownerless image.
CHANGES_IMAGE = frozenset(['modify_image', 'delete_image', 'upload_image',
                           'deactivate', 'reactivate', 'set_image_location',
                           'delete_image_location'])


def enforce_on_image(context, action, image):
    """Enforce a rule on an existing image.

    A caller who may not even see the image gets 404, as if it did not
    exist; one who may see it but not do this gets 403.
    """
    target = policy_target(context, image)
    if policy.check(context, action, target):
        if action in CHANGES_IMAGE and not context.is_admin and (
                image['owner'] is None
                or image['owner'] != context.project_id):
            raise exception.Forbidden('You do not own this image')
        return
    if action == 'get_image' or not policy.check(context, 'get_image',
                                                 target):
        raise exception.ImageNotFound(image_id=image['id'])
    policy.enforce(context, action, target)


def enforce_visibility(context, visibility, target):
    if visibility == 'public':
        policy.enforce(context, 'publicize_image', target)
    elif visibility == 'community':
        policy.enforce(context, 'communitize_image', target)


def can_see(context, image, is_member):
    """Whether the caller may see an image the database found.

    is_member: the caller's project is a member of the image (any status).
    An image without an owner is there for everyone (as upstream has
    it); the rules then decide what each caller may do with it.
    """
    if context.is_admin or image['owner'] == context.project_id:
        return True
    if image['owner'] is None:
        return True
    if image['visibility'] in ('public', 'community'):
        return True
    return image['visibility'] == 'shared' and is_member


def list_opts():
    return [(None, image_opts)]
