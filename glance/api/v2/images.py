"""v2 images: list, create, show, update (JSON patch), delete."""
import re
import urllib.parse

from oslo_config import cfg
from oslo_utils import timeutils
import webob.exc

from glance import store
from glance.api import common
from glance.common import exception
from glance.common import wsgi
from glance.db import images as image_db
from glance.images import rules
from glance.images import service

CONF = cfg.CONF

PATCH_MEDIA_TYPES = {
    'application/openstack-images-v2.0-json-patch': 4,
    'application/openstack-images-v2.1-json-patch': 10,
}
PATCH_OPERATIONS = ('add', 'remove', 'replace')
# Query parameters that are not filters on images.
LIST_PARAMS = frozenset(['limit', 'marker', 'member_status', 'tag', 'sort',
                         'sort_key', 'sort_dir', 'visibility', 'deleted'])
# Filters that take `in:a,b` lists; those that take `op:ISO8601 time`.
LIST_FILTER_COLUMNS = ('name', 'id', 'status', 'container_format',
                       'disk_format')
TIME_FILTER_COLUMNS = ('created_at', 'updated_at')
TIME_OPERATORS = ('gt', 'gte', 'lt', 'lte', 'neq', 'eq')
INTEGER_COLUMNS = frozenset(['size', 'virtual_size', 'min_disk', 'min_ram'])
BOOLEAN_FILTERS = ('os_hidden', 'protected')


def _bad_request(message):
    return webob.exc.HTTPBadRequest(explanation=message)


# --- list query parsing ------------------------------------------------------

def _split_operator(expression):
    """'gte:2020-01-01T00:00:00Z' -> ('gte', '2020-...'); plain -> 'eq'."""
    operator, separator, rest = expression.partition(':')
    if not separator:
        return 'eq', expression
    try:
        timeutils.parse_isotime(expression)
        return 'eq', expression
    except ValueError:
        return operator, rest


def _parse_time(name, value):
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except ValueError:
        raise _bad_request('Bad "%s" query filter format. Use ISO 8601 '
                           'DateTime notation.' % name)


def _integer(name, value):
    try:
        return common.filter_integer(value)
    except ValueError:
        raise _bad_request('Unable to filter on a range with a non-numeric '
                           'value.' if name.endswith(('_min', '_max'))
                           else 'Invalid value for %s: %s' % (name, value))


def parse_filters(params):
    """Column filters (column, op, value) and extra-property filters."""
    filters, properties = [], {}
    for name, value in params.items():
        if name in LIST_PARAMS:
            continue
        if name == 'changes-since':
            raise _bad_request('The "changes-since" filter is no longer '
                               'available on v2.')
        if name in BOOLEAN_FILTERS:
            continue  # handled with their defaults below
        column = name[:-4] if name.endswith(('_min', '_max')) else None
        if column is not None and column in image_db.IMAGE_COLUMNS:
            op = 'gte' if name.endswith('_min') else 'lte'
            filters.append((column, op, _integer(name, value)))
        elif name in TIME_FILTER_COLUMNS:
            op, time_value = _split_operator(value)
            if op not in TIME_OPERATORS:
                raise _bad_request('Unable to filter on a unknown operator.')
            filters.append((name, op, _parse_time(name, time_value)))
        elif name in LIST_FILTER_COLUMNS:
            op, list_value = _split_operator(value)
            if op == 'in':
                filters.append((name, 'in',
                                common.split_quoted_list(list_value)))
            elif op == 'eq':
                filters.append((name, 'eq', list_value))
            else:
                raise _bad_request("Unable to filter by unknown operator "
                                   "'%s'." % op)
        elif name in image_db.IMAGE_COLUMNS and name not in (
                'deleted', 'deleted_at', 'visibility'):
            if name in INTEGER_COLUMNS:
                value = _integer(name, value)
            filters.append((name, 'eq', value))
        else:
            properties[name] = value
    os_hidden = params.get('os_hidden', 'false').lower()
    protected = params.get('protected')
    for name, value in (('os_hidden', os_hidden), ('protected', protected)):
        if value is None:
            continue
        if value not in ('true', 'false'):
            raise _bad_request(
                "Invalid value '%s' for '%s' filter. Valid values are 'true' "
                "or 'false'." % (value, name))
        filters.append((name, 'eq', value == 'true'))
    return filters, properties


# --- request parsing ---------------------------------------------------------

class RequestDeserializer(wsgi.Deserializer):

    def __init__(self, schemas):
        self.schemas = schemas

    def _body(self, request):
        if not request.has_body():
            raise _bad_request('Body expected in request.')
        return request.json_body_or_error()

    def create(self, request):
        body = self._body(request)
        if not isinstance(body, dict):
            # (The image schema does not say so: upstream answers 500.)
            raise _bad_request("Provided object does not match schema "
                               "'image': %r is not of type 'object'" % body)
        for name in rules.DISALLOWED_ON_CREATE:
            if name in body:
                raise webob.exc.HTTPForbidden(
                    explanation="Attribute '%s' is read-only." % name)
        self.schemas.image.validate(body)
        if 'locations' in body:
            raise webob.exc.HTTPForbidden(
                explanation="Attribute 'locations' is reserved.")
        tags = body.pop('tags', [])
        # The service computes these; a value sent on create is ignored.
        body.pop('os_hash_algo', None)
        body.pop('os_hash_value', None)
        base = {k: body.pop(k) for k in list(body)
                if k in rules.BASE_PROPERTIES}
        for name in body:
            if len(name) > 255:
                raise _bad_request('Custom property should not be greater '
                                   'than 255 characters.')
        return {'base': base, 'extra_properties': body, 'tags': tags}

    def update(self, request):
        draft = PATCH_MEDIA_TYPES.get(request.content_type)
        if draft is None:
            allowed = ', '.join(sorted(PATCH_MEDIA_TYPES))
            raise webob.exc.HTTPUnsupportedMediaType(
                detail='Image PATCH expects Content-Type one of: %s'
                       % allowed,
                headers={'Accept-Patch': allowed})
        body = self._body(request)
        if not isinstance(body, list):
            raise _bad_request('Request body must be a JSON array of '
                               'operation objects.')
        changes = []
        for raw in body:
            if not isinstance(raw, dict):
                raise _bad_request('Operations must be JSON objects.')
            changes.append(self._change(raw, draft))
        return {'changes': changes}

    def _change(self, raw, draft):
        if draft == 10:
            op = raw.get('op')
            if op is None or op not in PATCH_OPERATIONS:
                available = ', '.join(PATCH_OPERATIONS)
                if op is None:
                    raise _bad_request(
                        'Unable to find `op` in JSON Schema change. It must '
                        'be one of the following: %s.' % available)
                raise _bad_request('Invalid operation: `%s`. It must be one '
                                   'of the following: %s.' % (op, available))
            if 'path' not in raw:
                raise _bad_request("Unable to find 'path' in JSON Schema "
                                   "change")
            pointer = raw['path']
        else:
            ops = [k for k in PATCH_OPERATIONS if k in raw]
            if len(ops) > 1:
                raise _bad_request('Operation objects must contain only one '
                                   'member named "add", "remove", or '
                                   '"replace".')
            if not ops:
                raise _bad_request('Operation objects must contain exactly '
                                   'one member named "add", "remove", or '
                                   '"replace".')
            op = ops[0]
            pointer = raw[op]
        path = self._decode_pointer(pointer)
        depth = {'add': 2, 'remove': 2, 'replace': 1}[op] \
            if path[0] == 'locations' else 1
        if len(path) != depth:
            raise _bad_request("Invalid JSON pointer for this resource: "
                               "'/%s'" % '/'.join(path))
        change = {'op': op, 'name': path[0], 'strict_add': draft == 4}
        if len(path) == 2:
            change['position'] = path[1]  # /locations/N
        if op != 'remove':
            if 'value' not in raw:
                raise _bad_request('Operation "%s" requires a member named '
                                   '"value".' % op)
            change['value'] = raw['value']
        self._check_change(change)
        return change

    @staticmethod
    def _decode_pointer(pointer):
        if not isinstance(pointer, str) or not pointer.startswith('/'):
            raise _bad_request('Pointer `%s` does not start with "/".'
                               % pointer)
        if re.search(r'/\s*?/', pointer[1:]):
            raise _bad_request('Pointer `%s` contains adjacent "/".'
                               % pointer)
        if len(pointer) > 1 and pointer.endswith('/'):
            raise _bad_request('Pointer `%s` end with "/".' % pointer)
        if pointer[1:].strip() == '/':
            raise _bad_request('Pointer `%s` does not contains valid token.'
                               % pointer)
        if re.search('~[^01]', pointer) or pointer.endswith('~'):
            raise _bad_request('Pointer `%s` contains "~" not part of a '
                               'recognized escape sequence.' % pointer)
        return [part.replace('~1', '/').replace('~0', '~').strip()
                for part in pointer.lstrip('/').split('/')]

    def _check_change(self, change):
        name = change['name']
        if name in rules.READONLY_PROPERTIES:
            raise webob.exc.HTTPForbidden(
                explanation="Attribute '%s' is read-only." % name)
        try:
            rules.check_property_name(name)
        except exception.ReservedProperty as error:
            raise webob.exc.HTTPForbidden(explanation=str(error))
        if change['op'] == 'remove':
            return
        value = change['value']
        if 'position' in change:  # one location, of the 'locations' list
            value = [value]
        self.schemas.image.validate({name: value})

    def index(self, request):
        params = request.params
        member_status = params.get('member_status', 'accepted')
        if member_status not in ('pending', 'accepted', 'rejected', 'all'):
            raise _bad_request('Invalid status: %s' % member_status)
        visibility = params.get('visibility') or None
        if visibility and visibility not in ('community', 'public',
                                             'private', 'shared', 'all'):
            raise _bad_request('Invalid visibility value: %s' % visibility)
        limit = common.parse_limit(params)
        filters, properties = parse_filters(params)
        sort, tie_direction = common.parse_sort(params)
        return {
            'filters': filters,
            'properties': properties,
            'tags': [t.strip() for t in params.getall('tag')],
            'visibility': visibility,
            'member_status': member_status,
            'marker': common.parse_marker(params),
            'limit': limit,
            'sort': sort,
            'tie_direction': tie_direction,
        }


# --- the controller ----------------------------------------------------------

class ImagesController:

    def index(self, request, filters, properties, tags, visibility,
              member_status, marker, limit, sort, tie_direction):
        try:
            images, next_marker = service.list_images(
                request.context, filters=filters, properties=properties,
                tags=tags, visibility=visibility,
                member_status=member_status, marker=marker, limit=limit,
                sort=sort, tie_direction=tie_direction,
                with_locations=locations_shown())
        except exception.NotFound as error:
            raise _bad_request(str(error))
        return {'images': images, 'next_marker': next_marker}

    def create(self, request, base, extra_properties, tags):
        return service.create(request.context, base, extra_properties, tags)

    def show(self, request, image_id):
        return service.get(request.context, image_id,
                           with_locations=locations_shown())

    def update(self, request, image_id, changes):
        return service.update(request.context, image_id, changes,
                              with_locations=locations_shown())

    def delete(self, request, image_id):
        try:
            service.delete(request.context, image_id)
        except exception.ImageNotFound:
            raise webob.exc.HTTPNotFound(
                explanation='Failed to find image %s to delete' % image_id)


# --- responses ---------------------------------------------------------------

def locations_shown():
    """Whether image views carry where the data is stored (in the
    multi-store mode, at least the ids of its stores)."""
    return (CONF.show_image_direct_url or CONF.show_multiple_locations
            or bool(CONF.enabled_backends))


def format_time(value):
    return value.isoformat(timespec='seconds') + 'Z' if value else None


def image_view(image):
    """The JSON form of an image, in upstream's key order."""
    view = dict(image['properties'])
    view.update({
        'name': image['name'],
        'disk_format': image['disk_format'],
        'container_format': image['container_format'],
        'visibility': image['visibility'],
        'size': image['size'],
        'virtual_size': image['virtual_size'],
        'status': image['status'],
        'checksum': image['checksum'],
        'protected': bool(image['protected']),
        'min_ram': image['min_ram'],
        'min_disk': image['min_disk'],
        'owner': image['owner'],
        'os_hidden': bool(image['os_hidden']),
        'os_hash_algo': image['os_hash_algo'],
        'os_hash_value': image['os_hash_value'],
        'id': image['id'],
        'created_at': format_time(image['created_at']),
        'updated_at': format_time(image['updated_at']),
        'tags': list(image['tags']),
    })
    # 'locations' is there only when the operator shows them (see
    # locations_shown)
    locations = image.get('locations')
    if locations is not None:
        if CONF.show_image_direct_url and locations:
            # The location downloads try first (highest store weight).
            view['direct_url'] = store.ordered_locations(locations)[0]['url']
        if CONF.show_multiple_locations:
            view['locations'] = [{'url': loc['url'],
                                  'metadata': loc['metadata']}
                                 for loc in locations]
    view['self'] = '/v2/images/%s' % image['id']
    view['file'] = '/v2/images/%s/file' % image['id']
    view['schema'] = '/v2/schemas/image'
    # (locations first: CONF's lookups cost more than the test.)
    if locations and CONF.enabled_backends:
        stores = [loc['metadata']['store'] for loc in locations
                  if loc['metadata'].get('store')]
        if stores:
            view['stores'] = ','.join(stores)
    return view


class ResponseSerializer(wsgi.Serializer):

    def create(self, response, image):
        wsgi.json_response(response, image_view(image), status=201)
        response.location = '/v2/images/%s' % image['id']
        if CONF.enabled_backends:
            # The configured ids only (upstream may add its reserved ones).
            response.headers['OpenStack-image-store-ids'] = ','.join(
                backend_id.strip() for backend_id in CONF.enabled_backends)

    def show(self, response, image):
        wsgi.json_response(response, image_view(image))

    update = show

    def delete(self, response, result):
        response.status_int = 204

    def index(self, response, result):
        params = [(k, v) for k, v in response.request.params.items()
                  if k != 'marker']
        body = {'images': [image_view(i) for i in result['images']],
                'first': '/v2/images',
                'schema': '/v2/schemas/images'}
        if params:
            body['first'] += '?' + urllib.parse.urlencode(params)
        if result['next_marker']:
            body['next'] = '/v2/images?' + urllib.parse.urlencode(
                params + [('marker', result['next_marker'])])
        wsgi.json_response(response, body)


def create_resource(schemas):
    return wsgi.Resource(ImagesController(), RequestDeserializer(schemas),
                         ResponseSerializer())
