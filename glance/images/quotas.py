"""Quotas and size limits of images: counts (properties, tags, members),
the largest image, and the bytes a project may store."""
import re

from oslo_config import cfg

from glance.common import exception

CONF = cfg.CONF

# user_storage_quota: a number of bytes with an optional unit.
STORAGE_QUOTA_SYNTAX = r'\s*(\d+)\s*([KMGT]?B)?\s*'

quota_opts = [
    cfg.IntOpt('image_size_cap', default=1099511627776, min=1,
               max=9223372036854775808,
               help='Largest image, in bytes, that may be uploaded '
                    '(default 1 TiB).'),
    cfg.StrOpt('user_storage_quota', default='0',
               regex=f'(?i)^{STORAGE_QUOTA_SYNTAX}$',
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
]
CONF.register_opts(quota_opts)


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
    match = re.fullmatch(STORAGE_QUOTA_SYNTAX,
                         CONF.user_storage_quota.upper())
    if not match:
        raise exception.Invalid('Invalid value for option user_storage_quota:'
                                ' %s' % CONF.user_storage_quota)
    return int(match.group(1)) * _UNITS[match.group(2) or 'B']


def list_opts():
    return [(None, quota_opts)]
