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
from oslo_config import cfg
from oslo_utils import strutils
import webob
import webob.exc

from glance import store
from glance.api import common
from glance.api.v1 import mapping
from glance.common import exception
from glance.common import policy
from glance.common import wsgi
from glance.images import data
from glance.images import policy_targets
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
            valid = int(value) >= 0
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
            filters.append((name, 'eq', int(value)))
        elif name in ('size_min', 'size_max'):
            filters.append(('size', 'gte' if name == 'size_min' else 'lte',
                            int(value)))
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
        declared = request.content_length or meta.get('size')
        if declared is not None and declared > CONF.image_size_cap:
            raise _bad_request('Denying attempt to upload image larger than '
                               '%d bytes.' % CONF.image_size_cap)
        if has_data and request.content_type != DATA_TYPE:
            raise _bad_request('Content-Type must be %s' % DATA_TYPE)
        return {
            'meta': meta,
            'properties': properties,
            'body_file': request.body_file if has_data else None,
            'copy_from': request.headers.get(COPY_FROM_HEADER),
            'purge_props': strutils.bool_from_string(
                request.headers.get(PURGE_HEADER, 'true')),
        }

    def create(self, request):
        request_args = self._image_request(request)
        del request_args['purge_props']
        return request_args

    update = _image_request


# --- the controller ----------------------------------------------------------

def lookup(context, image_id, deleted_message=None):
    """The image as v1 finds it: admins also find deleted images (unless
    `deleted_message` says how to refuse them), others get 404."""
    try:
        image = service.get(context, image_id, include_deleted=True)
    except exception.NotFound:
        raise webob.exc.HTTPNotFound(
            explanation='Image with identifier %s not found' % image_id)
    if image['deleted'] and deleted_message:
        raise webob.exc.HTTPNotFound(explanation=deleted_message % image_id)
    return image


def _external_source(url):
    """Refuse an empty or unusable location (only http(s) URLs are)."""
    if not url:
        raise _bad_request('External source should not be empty')
    if not store.validate_external_location(url):
        raise _bad_request("External sources are not supported: '%s'" % url)
    return url


def _check_formats(image, meta):
    """Data needs both formats, given now or before."""
    for field, label in (('disk_format', 'Disk format'),
                         ('container_format', 'Container format')):
        if not meta.get(field, image.get(field) if image else None):
            raise _bad_request('%s is not specified.' % label)


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
        return lookup(request.context, image_id)

    def show(self, request, image_id):
        context = request.context
        image = lookup(context, image_id)
        if image['status'] == 'deactivated' and not context.is_admin:
            raise webob.exc.HTTPForbidden(
                explanation='Image %s is deactivated' % image_id)
        if image['status'] not in ('active', 'deactivated'):
            raise webob.exc.HTTPNotFound(
                explanation='Image %s is not active' % image_id)
        image, url = data.open_data(context, image_id)
        if url is None:
            return image, iter(()), 0
        chunks, total = store.get_from_backend(url)
        return image, chunks, image['size'] or total

    def create(self, request, meta, properties, body_file, copy_from):
        context = request.context
        location = meta.pop('location', None) if 'location' in meta \
            else False
        sources = [source for source in (
            _external_source(location) if location is not False else None,
            _external_source(copy_from) if copy_from is not None else None,
            body_file) if source]
        if len(sources) > 1:
            raise _bad_request("It's invalid to provide multiple image "
                               "sources.")
        scheme = meta.get('store')
        if scheme and scheme not in store.get_known_schemes():
            raise _bad_request('Required store %s is invalid' % scheme)
        if sources:
            _check_formats(None, meta)
        base = mapping.base_attributes(meta, context.is_admin)
        if meta.get('id'):
            base['id'] = meta['id']
        owner = base.get('owner', context.project_id)
        target = policy_targets.new_image_target(
            context, owner, base.get('visibility', 'shared'))
        if body_file is not None or copy_from:
            policy.enforce(context, 'upload_image', target)
        if location:
            policy.enforce(context, 'set_image_location', target)
        size = meta.get('size')
        if location or copy_from:
            size = self._external_size(location or copy_from, size,
                                       check=bool(location))

        try:
            image = service.create(context, base, properties, [])
        except exception.Duplicate:
            raise webob.exc.HTTPConflict(
                explanation='An image with identifier %s already exists'
                            % base['id'])
        self._store(context, image['id'], meta, body_file, copy_from,
                    location, size)
        return lookup(context, image['id'])

    @staticmethod
    def _external_size(url, declared, check):
        """The size of the data at `url`: the declared one, else what its
        store says. With `check`, they must agree when both are known."""
        if declared and not check:
            return declared
        stored = store.get_size_from_backend(url)
        if declared and stored and declared != stored:
            raise webob.exc.HTTPConflict(
                explanation='Provided image size must match the stored '
                            'image size. (provided size: %d, stored size: '
                            '%d)' % (declared, stored))
        return declared or stored

    @staticmethod
    def _store(context, image_id, meta, body_file, copy_from, location,
               size):
        """Give a queued image its data, from whichever source there is."""
        checksum = meta.get('checksum')
        if body_file is not None:
            data.upload(context, image_id, body_file, size=size or None,
                        checksum=checksum, on_failure='killed')
        elif copy_from:
            data.copy_from(context, image_id, copy_from, size=size or None,
                           checksum=checksum, on_failure='killed')
        elif location:
            data.activate_without_upload(context, image_id, size or 0,
                                         checksum, location=location)
        elif size == 0 and 'size' in meta:
            # An empty image: active at once, as upstream had it.
            data.activate_without_upload(context, image_id, 0, checksum)

    def update(self, request, image_id, meta, properties, body_file,
               copy_from, purge_props):
        context = request.context
        image = lookup(context, image_id)
        if image['deleted']:
            raise webob.exc.HTTPForbidden(
                explanation='Forbidden to update deleted image.')
        policy_targets.enforce_on_image(context, 'modify_image', image)
        status = image['status']
        if not context.is_admin and status in ('active', 'deactivated'):
            for field in ('size', 'checksum'):
                if field in meta and meta[field] != image[field]:
                    raise webob.exc.HTTPForbidden(
                        explanation="Forbidden to modify '%s' of %s image."
                                    % (field, status))
        current = {'status': mapping.v1_status(status), 'id': image['id']}
        for field in ('status', 'id'):
            if field in meta and meta[field] != current[field]:
                raise webob.exc.HTTPForbidden(
                    explanation="Forbidden to modify '%s' of image." % field)
        if body_file is not None and status != 'queued':
            raise webob.exc.HTTPConflict(
                explanation='Cannot upload to an unqueued image')
        location = meta.pop('location', None) if 'location' in meta \
            else False
        external = None
        if location is not False:
            external = location = _external_source(location)
        elif copy_from is not None:
            external = _external_source(copy_from)
        if external and status != 'queued':
            raise _bad_request('Attempted to update Location field for an '
                               'image not in queued status.')
        if len([s for s in (location, copy_from, body_file) if s]) > 1:
            raise _bad_request("It's invalid to provide multiple image "
                               "sources.")
        if body_file is not None or copy_from:
            policy_targets.enforce_on_image(context, 'upload_image', image)
        if location:
            policy_targets.enforce_on_image(context, 'set_image_location',
                                            image)
            size = self._external_size(location, meta.get('size'),
                                       check=True)
        elif copy_from:
            size = self._external_size(copy_from, meta.get('size'),
                                       check=False)
        else:
            size = meta.get('size')
        if external or body_file is not None:
            _check_formats(image, meta)

        base = mapping.base_attributes(meta, context.is_admin)
        if context.is_admin and status in ('active', 'deactivated'):
            # Only admins change these, and only once there is data.
            base.update({field: meta[field] for field in ('size', 'checksum')
                         if field in meta})
        service.set_attributes(context, image_id, base, properties,
                               purge_properties=purge_props
                               and body_file is None)
        if status == 'queued' and (external or body_file is not None):
            self._store(context, image_id, meta, body_file, copy_from,
                        location, size)
        return lookup(context, image_id)

    def delete(self, request, image_id):
        context = request.context
        image = lookup(context, image_id)
        policy_targets.enforce_on_image(context, 'delete_image', image)
        if image['protected']:
            raise webob.exc.HTTPForbidden(explanation='Image is protected')
        if image['status'] == 'pending_delete':
            raise webob.exc.HTTPForbidden(
                explanation='Forbidden to delete a pending_delete image.')
        if image['deleted']:
            raise webob.exc.HTTPNotFound(
                explanation='Image %s not found.' % image_id)
        try:
            service.delete(context, image_id)
        except exception.NotFound:
            raise webob.exc.HTTPNotFound(
                explanation='Image %s not found.' % image_id)


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
