"""v1 images: metadata in x-image-meta-* headers, data in the body.

    GET    /v1/images              summary list (id, name, formats, size,
                                   checksum)
    GET    /v1/images/detail       full list
    POST   /v1/images              create; the data, if any, in the body, at
                                   an http(s) x-image-meta-location, or
                                   copied from x-glance-api-copy-from
    HEAD   /v1/images/{id}         metadata as headers
    GET    /v1/images/{id}         data, metadata as headers
    PUT    /v1/images/{id}         update metadata and/or upload data
    DELETE /v1/images/{id}         delete

What the v1 fields mean for the stored images is `mapping`'s business;
this module reads requests and writes answers the way upstream's v1 did.
"""
import contextlib

from oslo_config import cfg
from oslo_utils import strutils
import webob
import webob.exc

from glance.api import common
from glance.api.v1 import mapping
from glance.common import exception
from glance.common import wsgi
from glance.images import classic
from glance.images import service

CONF = cfg.CONF

# Filters whose values upstream's API checked itself.
INTEGER_FILTERS = ('size_min', 'size_max', 'min_ram', 'min_disk')
BOOLEAN_FILTERS = ('protected', 'is_public')
# Filters that take `in:a,b` and `eq:a` as the database layer reads them.
OPERATOR_FILTERS = ('name', 'status', 'container_format', 'disk_format')
COPY_FROM_HEADER = 'x-glance-api-copy-from'
PURGE_HEADER = 'x-glance-registry-purge-props'
DATA_TYPE = 'application/octet-stream'


def _bad_request(message):
    return webob.exc.HTTPBadRequest(explanation=message)


# --- list queries ------------------------------------------------------------

def _check_filter_value(name, value):
    if name in INTEGER_FILTERS:
        try:
            valid = common.filter_integer(value) >= 0
        except ValueError:
            valid = False
    elif name in BOOLEAN_FILTERS:
        valid = value.lower() in ('none', 'true', 'false', '1', '0')
    else:
        return
    if not valid:
        raise _bad_request('Bad value passed to filter %s got %s'
                           % (name, value))


def _boolean(value):
    """True, False or None (neither) for a boolean filter value."""
    return {'true': True, '1': True, 'false': False,
            '0': False}.get(value.lower())


def _operator_filter(column, value):
    """(column, op, value) of `in:a,b`, `eq:a` or plain `a`. A value that
    is an ISO 8601 time has no operator, as upstream reads it."""
    operator, separator, rest = value.partition(':')
    if separator:
        try:
            mapping.parse_changes_since(value)
        except ValueError:
            pass
        else:
            operator, rest = 'eq', value
    else:
        operator, rest = 'eq', value
    if operator == 'in':
        values = common.split_quoted_list(rest)
    elif operator == 'eq':
        values = [rest]
    else:
        raise _bad_request("Unable to filter by unknown operator '%s'."
                           % operator)
    if column == 'status':
        values = [s for v in values for s in mapping.v2_statuses(v)]
    if len(values) == 1:
        return column, 'eq', values[0]
    return column, 'in', values


def parse_list_query(request):
    """The arguments of service.list_images for a v1 list request."""
    params = request.params
    context = request.context
    filters, properties = [], {}
    include_deleted = False
    for name, value in params.items():
        _check_filter_value(name, value)
        if name.startswith('property-'):
            properties[name[len('property-'):]] = value
        elif name in OPERATOR_FILTERS:
            filters.append(_operator_filter(name, value))
        elif name in ('min_ram', 'min_disk'):
            filters.append((name, 'eq', common.filter_integer(value)))
        elif name in ('size_min', 'size_max'):
            filters.append(('size', 'gte' if name == 'size_min' else 'lte',
                            common.filter_integer(value)))
        elif name == 'protected':
            protected = _boolean(value)
            if protected is None:
                raise _bad_request('protected must be True, or False')
            filters.append(('protected', 'eq', protected))
        elif name == 'changes-since':
            try:
                since = mapping.parse_changes_since(value)
            except ValueError:
                raise _bad_request('Unrecognized changes-since value')
            filters.append(('updated_at', 'gt', since))
            include_deleted = True

    # An admin lists public images (as its project would see them) unless
    # it asks for is_public=false (the others) or none (all); others'
    # is_public is ignored.
    as_project = False
    if context.is_admin:
        is_public = params.get('is_public')
        if is_public is None or _boolean(is_public):
            as_project = True
        elif is_public.lower() != 'none':
            filters.append(('visibility', 'neq', 'public'))

    limit = common.parse_limit(params)
    marker = common.parse_marker(params, uuid_only=True)
    sort, tie_direction = common.parse_single_sort(params)
    return {
        'filters': filters,
        'properties': properties,
        'member_status': 'all',
        'marker': marker or None,
        'limit': limit,
        'sort': sort,
        'tie_direction': tie_direction,
        'include_deleted': include_deleted,
        'as_project': as_project,
    }


# --- requests ----------------------------------------------------------------

class RequestDeserializer(wsgi.Deserializer):

    def index(self, request):
        return {'query': parse_list_query(request)}

    def detail(self, request):
        if request.method == 'HEAD':
            return {}
        return self.index(request)

    def _image_request(self, request):
        try:
            meta, properties = mapping.read_headers(request.headers.items())
            mapping.validate(meta)
        except exception.Invalid as error:
            raise _bad_request(str(error))
        has_data = request.has_body()
        if has_data and request.content_type != DATA_TYPE:
            raise _bad_request('Content-Type must be %s' % DATA_TYPE)
        base = mapping.base_attributes(meta, request.context.is_admin)
        if meta.get('id'):
            base['id'] = meta['id']
        return {
            'base': base,
            'properties': properties,
            'body_file': request.body_file if has_data else None,
            # '' when given empty (refused), None when not given
            'location': (meta['location'] or '') if 'location' in meta
            else None,
            'copy_from': request.headers.get(COPY_FROM_HEADER),
            'stated': {field: meta[field] for field in ('size', 'checksum')
                       if field in meta},
            'store_scheme': meta.get('store'),
            'restated': _restated(meta),
            'declared_size': request.content_length or meta.get('size'),
            'purge_properties': strutils.bool_from_string(
                request.headers.get(PURGE_HEADER, 'true')),
        }

    def create(self, request):
        request_args = self._image_request(request)
        del request_args['purge_properties'], request_args['restated']
        return request_args

    def update(self, request):
        request_args = self._image_request(request)
        del request_args['store_scheme']
        return request_args


def _restated(meta):
    """The status (as the stored statuses its v1 name stands for) and id a
    request gives."""
    restated = {}
    if 'status' in meta:
        restated['status'] = mapping.stored_statuses(meta['status'])
    if 'id' in meta:
        restated['id'] = meta['id']
    return restated


# --- the controller ----------------------------------------------------------

NOT_FOUND = 'Image with identifier %s not found'


@contextlib.contextmanager
def v1_errors(image_id, deleted=None):
    """The v1 wording of the errors the image operations raise where it
    differs from the one table's: a missing image, a deleted one (in
    `deleted`'s words, if given), one not active, deactivated, protected,
    or declared too large."""
    try:
        yield
    except exception.ImageDeleted:
        raise webob.exc.HTTPNotFound(
            explanation=(deleted or NOT_FOUND) % image_id)
    except exception.ImageNotFound:
        raise webob.exc.HTTPNotFound(explanation=NOT_FOUND % image_id)
    except exception.ImageNotActive:
        raise webob.exc.HTTPNotFound(
            explanation='Image %s is not active' % image_id)
    except exception.ImageDeactivated:
        raise webob.exc.HTTPForbidden(
            explanation='Image %s is deactivated' % image_id)
    except exception.ProtectedImageDelete:
        raise webob.exc.HTTPForbidden(explanation='Image is protected')
    except exception.DeclaredSizeTooLarge:
        raise _size_refused()


def _size_refused():
    return _bad_request('Denying attempt to upload image larger than %d '
                        'bytes.' % CONF.image_size_cap)


class ImagesController:

    def index(self, request, query):
        return self._list(request, query)

    def detail(self, request, query=None):
        if request.method == 'HEAD':
            raise webob.exc.HTTPMethodNotAllowed(
                explanation='This operation is currently not permitted on '
                            'Glance images details.',
                headers={'Allow': 'GET'})
        return self._list(request, query)

    def _list(self, request, query):
        try:
            images, _next = service.list_images(request.context, **query)
        except exception.BadRequest:
            raise _bad_request('Invalid marker. Image could not be found.')
        return images

    def meta(self, request, image_id):
        with v1_errors(image_id):
            return classic.get(request.context, image_id)

    def show(self, request, image_id):
        with v1_errors(image_id):
            return classic.download(request.context, image_id)

    def create(self, request, **request_args):
        try:
            return classic.create(request.context, **request_args)
        except exception.DeclaredSizeTooLarge:
            raise _size_refused()
        except exception.Duplicate:
            raise webob.exc.HTTPConflict(
                explanation='An image with identifier %s already exists'
                            % request_args['base'].get('id'))

    def update(self, request, image_id, **request_args):
        with v1_errors(image_id):
            return classic.update(request.context, image_id,
                                  **request_args)

    def delete(self, request, image_id):
        with v1_errors(image_id, deleted='Image %s not found.'):
            classic.delete(request.context, image_id)


# --- responses ---------------------------------------------------------------

def _add_image_headers(response, image):
    response.headerlist.extend(mapping.image_headers(image))
    if image['checksum']:
        # Unquoted, as upstream sent it.
        response.headers['ETag'] = image['checksum']


class ResponseSerializer(wsgi.Serializer):

    def index(self, response, images):
        wsgi.json_response(response, {
            'images': [mapping.index_view(image) for image in images]})

    def detail(self, response, images):
        wsgi.json_response(response, {
            'images': [mapping.image_view(image) for image in images]})

    def meta(self, response, image):
        # No body, and so no JSON content type (v1 clients would try to
        # parse one): webob's default, as upstream answered.
        _add_image_headers(response, image)

    def show(self, response, result):
        image, chunks, size = result
        response.content_type = DATA_TYPE
        response.charset = None
        response.app_iter = chunks
        if size is not None:
            response.content_length = size
        _add_image_headers(response, image)

    def create(self, response, image):
        wsgi.json_response(response, {'image': mapping.image_view(image)},
                           status=201)
        response.location = '/v1/images/%s' % image['id']
        if image['checksum']:
            response.headers['ETag'] = image['checksum']

    def update(self, response, image):
        wsgi.json_response(response, {'image': mapping.image_view(image)})
        if image['checksum']:
            response.headers['ETag'] = image['checksum']

    def delete(self, response, result):
        # 200 with an empty body, not labelled JSON, as upstream answered.
        response.status_int = 200


def create_resource():
    return wsgi.Resource(ImagesController(), RequestDeserializer(),
                         ResponseSerializer())
