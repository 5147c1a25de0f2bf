"""The rules images obey: statuses, visibilities, property names, and the
options of what images show and how their data is hashed.

Shared by the operations in `service`, `data` and `members`; quotas are
in `quotas`, what policy rules see of an image in `policy_targets`.
"""
import hashlib

from oslo_config import cfg
from oslo_config import types

from glance.common import exception

CONF = cfg.CONF

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


def check_property_name(name):
    """Forbidden for names no client may set as an extra property."""
    if name in RESERVED_PROPERTIES or name.startswith(RESERVED_NAMESPACE):
        raise exception.ReservedProperty(property=name, as_detail=True)


def list_opts():
    return [(None, image_opts)]
