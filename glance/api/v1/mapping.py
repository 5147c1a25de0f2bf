"""Where the classic Image API v1 meets this service's images.

Images are stored once, in the v2 model; v1 is a view of them. Everything
that translates between the two lives here, so that a reader can check
the whole correspondence in one file:

| v1                                 | v2 (stored)                          |
|------------------------------------|--------------------------------------|
| is_public true                     | visibility public                    |
| is_public false (given)            | visibility shared (what upstream     |
|                                    | wrote: v1 images can have members)   |
| is_public (shown)                  | visibility == public (private,       |
|                                    | shared and community show false)     |
| status, deleted, deleted_at        | status (saving also for the v2-only  |
|                                    | uploading/importing), deleted flags  |
| properties {key: value}            | extra properties                     |
| x-image-meta-<attribute> header    | base attribute                       |
| x-image-meta-property-<key> header | extra property <key> (lower case,    |
|                                    | '-' read as '_')                     |
| member {member_id, can_share}      | member, can_share; status accepted   |
|                                    | when v1 adds it (v1 sharing is       |
|                                    | access)                              |
| timestamps 2024-01-31T12:00:00.123456 (UTC, microseconds)                 |

HTTP stays out of this module: it maps header names and values, already
read from a request, to attributes and back.
"""
import uuid

from oslo_config import cfg
from oslo_utils import strutils
from oslo_utils import timeutils

from glance.api.v2 import schemas  # noqa: F401 (registers [image_format])
from glance.common import exception
from glance.images import rules

CONF = cfg.CONF

META_PREFIX = 'x-image-meta-'
PROPERTY_PREFIX = 'x-image-meta-property-'
# x-image-meta-<name> headers a request may carry; anything else is 400.
META_FIELDS = frozenset([
    'location', 'size', 'is_public', 'disk_format', 'container_format',
    'name', 'status', 'copy_from', 'uri', 'checksum', 'created_at',
    'updated_at', 'deleted_at', 'min_ram', 'min_disk', 'owner', 'store',
    'id', 'protected', 'deleted', 'virtual_size'])
# Integer fields, and whether "None" is a value they accept.
INTEGER_FIELDS = {'size': False, 'min_disk': False, 'min_ram': False,
                  'virtual_size': True}
BOOLEAN_FIELDS = ('is_public', 'deleted', 'protected')
TIME_FIELDS = ('created_at', 'updated_at', 'deleted_at')
TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'
AMAZON_FORMATS = ('aki', 'ari', 'ami')

# Fields of GET /v1/images (the summary list), in upstream's order.
INDEX_FIELDS = ('id', 'name', 'size', 'disk_format', 'container_format',
                'checksum')
# Base attributes a v1 request sets directly, by the same name.
SETTABLE = ('name', 'disk_format', 'container_format', 'min_disk',
            'min_ram', 'protected', 'owner')
# Statuses only v2 has, as v1 clients are told them.
V1_STATUS = {'uploading': 'saving', 'importing': 'saving'}
# The status of a membership made through v1.
MEMBER_STATUS = 'accepted'


# --- visibility and status ---------------------------------------------------

def visibility(is_public):
    """The visibility an is_public given by a v1 client means."""
    return 'public' if is_public else 'shared'


def is_public(image_visibility):
    return image_visibility == 'public'


def v1_status(status):
    return V1_STATUS.get(status, status)


def stored_statuses(v1_name):
    """The stored statuses a v1 client sees as `v1_name`."""
    return [status for status in rules.STATUSES
            if v1_status(status) == v1_name]


def v2_statuses(status):
    """The stored statuses a v1 status filter matches."""
    return [status] + [v2 for v2, v1 in V1_STATUS.items() if v1 == status]


# --- images as v1 shows them -------------------------------------------------

def format_time(value):
    return value.strftime(TIME_FORMAT) if value is not None else None


def image_view(image):
    """The v1 JSON form of an image (never its locations)."""
    return {
        'id': image['id'],
        'name': image['name'],
        'disk_format': image['disk_format'],
        'container_format': image['container_format'],
        'size': image['size'],
        'virtual_size': image['virtual_size'],
        'checksum': image['checksum'],
        'status': v1_status(image['status']),
        'is_public': is_public(image['visibility']),
        'protected': bool(image['protected']),
        'min_ram': image['min_ram'],
        'min_disk': image['min_disk'],
        'owner': image['owner'],
        'created_at': format_time(image['created_at']),
        'updated_at': format_time(image['updated_at']),
        'deleted_at': format_time(image['deleted_at']),
        'deleted': bool(image['deleted']),
        'properties': dict(image['properties']),
    }


def index_view(image):
    view = image_view(image)
    return {name: view[name] for name in INDEX_FIELDS}


def _header_value(value):
    # Header values travel as bytes; WSGI carries them as latin-1 text.
    return str(value).encode('utf-8').decode('latin-1')


def image_headers(image):
    """[(header, value)] of the x-image-meta-* headers of an image: every
    attribute that has a value, and each property."""
    view = image_view(image)
    properties = view.pop('properties')
    headers = [(META_PREFIX + name, _header_value(value))
               for name, value in view.items() if value is not None]
    headers += [(PROPERTY_PREFIX + name.lower(), _header_value(value))
                for name, value in properties.items() if value is not None]
    return headers


# --- requests: headers to attributes -----------------------------------------

def _header_text(value):
    """A header value as the client meant it (UTF-8 if it decodes)."""
    try:
        return value.encode('latin-1').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _invalid(value, param, why):
    return exception.Invalid("Invalid value '%s' for parameter '%s': %s"
                             % (value, param, why))


def read_headers(headers):
    """(meta, properties) from request headers ([(name, value)]).

    meta holds each x-image-meta-<field> given, integers and booleans
    converted (an empty header is None); properties the
    x-image-meta-property-<key> values. Invalid for an unknown field or a
    value that does not convert.
    """
    meta, properties = {}, {}
    for name, value in headers:
        key = name.lower()
        # Only ours, and only those with a value: keystonemiddleware
        # leaves the identity headers a token lacks (X-Domain-Id, ...)
        # in the environment as None.
        if not key.startswith(META_PREFIX) or value is None:
            continue
        value = _header_text(value)
        if key.startswith(PROPERTY_PREFIX):
            properties[key[len(PROPERTY_PREFIX):].replace('-', '_')] = value
        else:
            field = key[len(META_PREFIX):].replace('-', '_')
            if field not in META_FIELDS:
                raise exception.Invalid('Bad header: %s' % key)
            meta[field] = value or None
    for field, nullable in INTEGER_FIELDS.items():
        if meta.get(field) is None:
            continue
        try:
            meta[field] = int(meta[field])
        except ValueError:
            if nullable and meta[field] == 'None':
                meta[field] = None
                continue
            raise _invalid(meta[field], field,
                           "Cannot convert image %s '%s' to an integer."
                           % (field, meta[field]))
        if meta[field] < 0:
            raise _invalid(meta[field], field, 'Cannot be a negative value.')
    for field in BOOLEAN_FIELDS:
        if field in meta:
            meta[field] = strutils.bool_from_string(meta[field])
    return meta, properties


def validate(meta):
    """Check what v1 checks of the metadata a client sends (formats,
    times, lengths; min_disk and min_ram ranges are the service's);
    completes a missing Amazon format."""
    disk_format = meta.get('disk_format')
    container_format = meta.get('container_format')
    if 'disk_format' in meta \
            and disk_format not in CONF.image_format.disk_formats:
        raise exception.Invalid("Invalid disk format '%s' for image."
                                % disk_format)
    if 'container_format' in meta \
            and container_format not in CONF.image_format.container_formats:
        raise exception.Invalid("Invalid container format '%s' for image."
                                % container_format)
    if disk_format in AMAZON_FORMATS or container_format in AMAZON_FORMATS:
        if disk_format is None:
            meta['disk_format'] = container_format
        elif container_format is None:
            meta['container_format'] = disk_format
        elif disk_format != container_format:
            raise exception.Invalid(
                "Invalid mix of disk and container formats. When setting a "
                "disk or container format to one of 'aki', 'ari', or 'ami', "
                "the container and disk formats must match.")
    for field in TIME_FIELDS:
        if meta.get(field):
            try:
                if timeutils.parse_isotime(meta[field]).year < 1900:
                    raise ValueError(meta[field])
            except ValueError:
                raise exception.Invalid('Invalid time format for %s.'
                                        % field)
    name = meta.get('name')
    if name and len(name) > 255:
        raise exception.Invalid('Image name too long: %d' % len(name))
    checksum = meta.get('checksum')
    if checksum and len(checksum) > 32:
        raise exception.Invalid("Invalid checksum '%s': can't exceed 32 "
                                "characters" % checksum)
    image_id = meta.get('id')
    if image_id is not None:
        try:
            uuid.UUID(image_id)
        except ValueError:
            raise exception.Invalid('Invalid image id format')
    return meta


def base_attributes(meta, is_admin):
    """The stored base attributes the v1 metadata sets. A non-admin's
    owner is ignored, as upstream's registry ignored it."""
    base = {name: meta[name] for name in SETTABLE if name in meta}
    if 'is_public' in meta:
        base['visibility'] = visibility(meta['is_public'])
    if 'owner' in base and not is_admin:
        del base['owner']
    for name in ('min_disk', 'min_ram'):
        if name in base and base[name] is None:
            base[name] = 0
    if 'protected' in base:
        base['protected'] = bool(base['protected'])
    return base


def parse_changes_since(value):
    """The time of a changes-since filter (naive UTC); ValueError if it is
    none."""
    return timeutils.normalize_time(timeutils.parse_isotime(value))


# --- members -----------------------------------------------------------------

def member_view(member):
    return {'member_id': member['member'],
            'can_share': bool(member['can_share'])}


def shared_image_view(member):
    return {'image_id': member['image_id'],
            'can_share': bool(member['can_share'])}


def can_share(value):
    """A can_share a client sent (JSON boolean, or a string as some old
    clients sent it)."""
    if isinstance(value, str):
        return strutils.bool_from_string(value)
    return bool(value)
