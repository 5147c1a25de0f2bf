"""An OpenAPI 3.1 description of the Image API this service serves.

Upstream Glance publishes none. This one is built when asked for, from the
definitions the API itself works with, so that it cannot drift from them:

- v2 bodies: the JSON schemas of glance.api.v2.schemas (the documents
  GET /v2/schemas/... answers and the request validation uses);
- v2 list queries: the parameter names and keys the list parser reads
  (glance.api.v2.images, glance.api.common);
- v1: the x-image-meta-* fields glance.api.v1.mapping reads and writes;
- the configuration: formats, which APIs are enabled.

`document()` returns it; `glance-openapi` (glance.cmd.openapi) prints it
for a configuration file. It is not served by the API: upstream's paths
answer exactly as upstream's do.
"""
import copy

from oslo_config import cfg

from glance import version
from glance.api import common
from glance.api import versions  # noqa: F401 (enable_v1_api, enable_v2_api)
from glance.api.v1 import images as v1_images
from glance.api.v1 import mapping
from glance.api.v2 import images as v2_images
from glance.api.v2 import schemas
from glance.images import rules

CONF = cfg.CONF

OPENAPI_VERSION = '3.1.0'
JSON = 'application/json'
DATA = 'application/octet-stream'
# Errors come from webob, worded for the client's Accept header.
ERROR_MEDIA_TYPES = ('text/html', 'text/plain')

ERROR_DESCRIPTIONS = {
    400: 'Bad request: the request does not read or does not validate.',
    401: 'Not authenticated (the keystone flavor).',
    403: 'Forbidden by policy, or a read-only or reserved attribute.',
    404: 'No such image, member or tag (or not visible to the caller).',
    405: 'Not allowed on this resource.',
    409: 'Conflicts with the state of the image.',
    410: 'The image was deleted meanwhile.',
    413: 'Too large, or over a quota.',
    415: 'Unsupported content type.',
    416: 'The range cannot be served.',
    503: 'The store or the database cannot be reached.',
}
# Answers any request may get.
COMMON_ERRORS = (400, 401, 403)


# --- building blocks ---------------------------------------------------------

def _ref(name):
    return {'$ref': '#/components/schemas/' + name}


def _nullable(kind, **extra):
    return dict({'type': [kind, 'null']}, **extra)


def _json(schema):
    return {JSON: {'schema': schema}}


def _response(description, content=None, headers=None):
    response = {'description': description}
    if content:
        response['content'] = content
    if headers:
        response['headers'] = headers
    return response


def _errors(*statuses):
    return {str(status): {'$ref': '#/components/responses/error%d' % status}
            for status in sorted(set(COMMON_ERRORS + statuses))}


def _operation(operation_id, summary, tag, responses, parameters=(),
               body=None):
    operation = {'operationId': operation_id, 'summary': summary,
                 'tags': [tag], 'responses': responses}
    if parameters:
        operation['parameters'] = list(parameters)
    if body:
        operation['requestBody'] = body
    return operation


def _parameter(where, name, schema, description=None, required=False):
    parameter = {'name': name, 'in': where, 'schema': schema}
    if required or where == 'path':
        parameter['required'] = True
    if description:
        parameter['description'] = description
    return parameter


def _path(name, description):
    return _parameter('path', name, {'type': 'string'}, description)


def _query(name, schema, description=None):
    return _parameter('query', name, schema, description)


def _body(content, required=True):
    return {'required': required, 'content': content}


IMAGE_ID = _path('image_id', 'The id of an image.')
MEMBER_ID = _path('member_id', 'The project id of a member.')


# --- the versions document ---------------------------------------------------

def versions_schema():
    return {
        'type': 'object',
        'required': ['versions'],
        'properties': {'versions': {'type': 'array', 'items': {
            'type': 'object',
            'required': ['id', 'status', 'links'],
            'properties': {
                'id': {'type': 'string', 'pattern': r'^v\d+\.\d+$'},
                'status': {'enum': ['CURRENT', 'SUPPORTED']},
                'links': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['rel', 'href'],
                    'properties': {'rel': {'type': 'string'},
                                   'href': {'type': 'string'}}}},
            }}}},
    }


def version_paths():
    listed = _json(_ref('versions'))
    paths = {
        '/': {'get': _operation(
            'listVersionsChoice', 'The versions document, as a choice',
            'versions', {'300': _response('The API versions served.',
                                          listed)})},
        '/versions': {'get': _operation(
            'listVersions', 'The versions document', 'versions',
            {'200': _response('The API versions served.', listed)})},
        '/healthcheck': {'get': _operation(
            'healthcheck', 'Whether the service can serve', 'versions',
            {'200': _response('The service and its database answer.',
                              {'text/plain': {'schema': {'type': 'string'}}}),
             '503': _response('The database cannot be read, or the '
                              'operator disabled the service.',
                              {'text/plain': {'schema': {'type': 'string'}}})
             })},
    }
    for major in ('v1', 'v2'):
        if (CONF.enable_v1_api if major == 'v1' else CONF.enable_v2_api):
            paths['/' + major] = {'get': _operation(
                major + 'Root', 'Redirects to /%s/' % major, 'versions',
                {'302': _response('The API root with a slash.', headers={
                    'Location': {'required': True,
                                 'schema': {'type': 'string'}}})})}
    return paths


# --- v2 ----------------------------------------------------------------------

def patch_schema(draft):
    """A JSON patch of an image, as the media type of `draft` spells it
    (draft 10: {op, path, value}; draft 4: {add|remove|replace: path})."""
    pointer = {'type': 'string', 'pattern': '^/'}
    if draft == 10:
        change = {'type': 'object', 'required': ['op', 'path'],
                  'properties': {'op': {'enum':
                                        list(v2_images.PATCH_OPERATIONS)},
                                 'path': pointer, 'value': {}}}
    else:
        change = {'type': 'object', 'minProperties': 1, 'maxProperties': 2,
                  'properties': dict({op: pointer for op in
                                      v2_images.PATCH_OPERATIONS},
                                     value={})}
    return {'type': 'array', 'items': change}


def member_create_schema():
    member = schemas.member_properties()['member_id']
    return {'type': 'object', 'required': ['member'],
            'properties': {'member': dict(member, minLength=1)}}


def member_update_schema():
    return {'type': 'object', 'required': ['status'],
            'properties': {
                'status': schemas.member_properties()['status']}}


def image_response_schema():
    """The image schema, with what every answer holds."""
    return {'allOf': [_ref('image'), {
        'required': ['id', 'status', 'visibility', 'protected', 'os_hidden',
                     'tags', 'created_at', 'updated_at', 'self', 'file',
                     'schema']}]}


def image_list_parameters():
    """The query parameters of GET /v2/images: paging, sorting and the
    filters the list parser reads."""
    status_values = list(rules.STATUSES)
    parameters = [
        _query('limit', {'type': 'integer', 'minimum': 0},
               'Images in a page (capped by api_limit_max).'),
        _query('marker', {'type': 'string'},
               'The id of the last image of the previous page.'),
        _query('sort_key', {'enum': list(common.SORT_KEYS)}),
        _query('sort_dir', {'enum': list(common.SORT_DIRS)}),
        _query('sort', {'type': 'string'},
               'key[:asc|desc],... (instead of sort_key and sort_dir)'),
        _query('visibility', {'enum': list(rules.VISIBILITIES) + ['all']}),
        _query('member_status',
               {'enum': list(rules.MEMBER_STATUSES) + ['all']}),
        _query('tag', {'type': 'string'}),
        _query('status', {'type': 'string'},
               'One of %s, or in:a,b' % ', '.join(status_values)),
        _query('owner', {'type': 'string'}),
        _query('size_min', {'type': 'integer'}),
        _query('size_max', {'type': 'integer'}),
        _query('os_hidden', {'enum': ['true', 'false']}),
        _query('protected', {'enum': ['true', 'false']}),
    ]
    for name in v2_images.LIST_FILTER_COLUMNS:
        if name != 'status':
            parameters.append(_query(name, {'type': 'string'},
                                     'A value, or in:a,b,...'))
    for name in v2_images.TIME_FILTER_COLUMNS:
        parameters.append(_query(
            name, {'type': 'string'},
            '[%s:]ISO 8601 time' % '|'.join(v2_images.TIME_OPERATORS)))
    return parameters


def v2_paths():
    image = _json(_ref('imageResponse'))
    members = _json(_ref('members'))
    member = _json(_ref('member'))
    no_content = {'204': _response('Done.')}
    image_path = '/v2/images/{image_id}'
    paths = {}
    for name in ('image', 'images', 'member', 'members', 'task', 'tasks'):
        paths['/v2/schemas/' + name] = {'get': _operation(
            'getSchema' + name.capitalize(), 'The %s JSON schema' % name,
            'v2 schemas', dict({'200': _response(
                'The JSON schema.', _json({'type': 'object',
                                           'required': ['name']}))},
                **_errors()))}
    paths['/v2/images'] = {
        'get': _operation(
            'listImages', 'List images', 'v2 images',
            dict({'200': _response('A page of images.',
                                   _json(_ref('images')))}, **_errors()),
            image_list_parameters()),
        'post': _operation(
            'createImage', 'Create an image (no data yet)', 'v2 images',
            dict({'201': _response('The image.', image, headers={
                'Location': {'required': True,
                             'schema': {'type': 'string'}}})},
                **_errors(409, 413)),
            # The image schema does not say so, but the API takes only an
            # object (400 otherwise).
            body=_body(_json({'allOf': [_ref('image'),
                                        {'type': 'object'}]}))),
    }
    paths[image_path] = {
        'parameters': [IMAGE_ID],
        'get': _operation('showImage', 'Show an image', 'v2 images',
                          dict({'200': _response('The image.', image)},
                               **_errors(404))),
        'patch': _operation(
            'updateImage', 'Change an image with a JSON patch', 'v2 images',
            dict({'200': _response('The changed image.', image)},
                 **_errors(404, 409, 413, 415)),
            body=_body({
                media_type: {'schema': patch_schema(draft)}
                for media_type, draft in sorted(
                    v2_images.PATCH_MEDIA_TYPES.items(),
                    key=lambda item: -item[1])})),
        'delete': _operation('deleteImage', 'Delete an image', 'v2 images',
                             dict(no_content, **_errors(404, 409))),
    }
    paths[image_path + '/file'] = {
        'parameters': [IMAGE_ID],
        'get': _operation(
            'downloadImage', 'Download the data of an image', 'v2 data',
            dict({'200': _response('The data.', {DATA: {'schema': {
                      'type': 'string', 'format': 'binary'}}}),
                  '204': _response('The image has no data.'),
                  '206': _response('The range asked for.', {DATA: {
                      'schema': {'type': 'string', 'format': 'binary'}}})},
                 **_errors(404, 416, 503)),
            [_parameter('header', 'Range', {'type': 'string'},
                        'bytes=first-[last], one range')]),
        'put': _operation(
            'uploadImage', 'Upload the data of an image', 'v2 data',
            dict(no_content, **_errors(404, 409, 410, 413, 415, 503)),
            [_parameter('header', 'x-openstack-image-size',
                        {'type': 'integer', 'minimum': 0},
                        'The size of the data, when sent chunked.'),
             _parameter('header', 'X-Image-Meta-Store', {'type': 'string'},
                        'The store to write to (multi-store mode).')],
            body=_body({DATA: {'schema': {'type': 'string',
                                          'format': 'binary'}}})),
    }
    for action in ('deactivate', 'reactivate'):
        paths['%s/actions/%s' % (image_path, action)] = {
            'parameters': [IMAGE_ID],
            'post': _operation(action + 'Image', action.capitalize() +
                               ' an image', 'v2 actions',
                               dict(no_content, **_errors(404, 409)))}
    paths[image_path + '/tags/{tag_value}'] = {
        'parameters': [IMAGE_ID, _path('tag_value', 'A tag.')],
        'put': _operation('addTag', 'Tag an image', 'v2 tags',
                          dict(no_content, **_errors(404, 413))),
        'delete': _operation('deleteTag', 'Untag an image', 'v2 tags',
                             dict(no_content, **_errors(404))),
    }
    paths[image_path + '/members'] = {
        'parameters': [IMAGE_ID],
        'get': _operation('listMembers', 'List the members of an image',
                          'v2 members',
                          dict({'200': _response('The members.', members)},
                               **_errors(404))),
        'post': _operation(
            'createMember', 'Share an image with a project', 'v2 members',
            dict({'200': _response('The member.', member)},
                 **_errors(404, 409, 413)),
            body=_body(_json(member_create_schema()))),
    }
    paths[image_path + '/members/{member_id}'] = {
        'parameters': [IMAGE_ID, MEMBER_ID],
        'get': _operation('showMember', 'Show a member', 'v2 members',
                          dict({'200': _response('The member.', member)},
                               **_errors(404))),
        'put': _operation(
            'updateMember', 'Accept or reject a shared image', 'v2 members',
            dict({'200': _response('The member.', member)}, **_errors(404)),
            body=_body(_json(member_update_schema()))),
        'delete': _operation('deleteMember', 'Stop sharing an image',
                             'v2 members',
                             dict(no_content, **_errors(404))),
    }
    paths.update(stores_paths())
    paths.update(tasks_paths())
    return paths


def task_create_schema():
    return {'type': 'object', 'required': ['type', 'input'], 'properties': {
        'type': {'enum': ['import', 'api_image_import', 'location_import']},
        'input': {'type': ['object', 'null'], 'properties': {
            'import_from': {'type': 'string'},
            'import_from_format': {'type': 'string'},
            'image_properties': {'type': 'object'}}}}}


def task_response_schema(document):
    """A task (or a list of task stubs) as answered: the schema served,
    with `owner` null for the tasks of a caller without a project (the
    default flavor's, as upstream's unauthenticated context)."""
    document = copy.deepcopy(document)
    items = document['properties'].get('tasks', {}).get('items')
    for task in (items or document,):
        task['properties']['owner']['type'] = ['string', 'null']
    return document


def tasks_paths():
    """The tasks API (admin only by default: tasks_api_access)."""
    task = _json(_ref('taskResponse'))
    task_id = _path('task_id', 'The id of a task.')
    list_parameters = [
        _query('status', {'enum': ['pending', 'processing', 'success',
                                   'failure']}),
        _query('type', {'enum': ['import']}),
        _query('sort_key', {'type': 'string'}),
        _query('sort_dir', {'enum': ['asc', 'desc']}),
        _query('marker', {'type': 'string', 'format': 'uuid'}),
        _query('limit', {'type': 'integer', 'minimum': 0}),
    ]
    return {
        '/v2/tasks': {
            'get': _operation(
                'listTasks', 'List tasks', 'v2 tasks',
                dict({'200': _response('A page of tasks.',
                                       _json(_ref('tasksResponse')))},
                     **_errors()),
                parameters=list_parameters),
            'post': _operation(
                'createTask', 'Create a task (legacy import)', 'v2 tasks',
                dict({'201': _response('The task.', task)}, **_errors()),
                body=_body(_json(task_create_schema()))),
        },
        '/v2/tasks/{task_id}': {
            'parameters': [task_id],
            'get': _operation('showTask', 'Show a task', 'v2 tasks',
                              dict({'200': _response('The task.', task)},
                                   **_errors(404))),
            'delete': _operation(
                'deleteTask', 'Not allowed: tasks expire', 'v2 tasks',
                dict({'405': _response('Not allowed.')}, **_errors())),
        },
        '/v2/images/{image_id}/tasks': {
            'parameters': [IMAGE_ID],
            'get': _operation(
                'listImageTasks', 'The tasks of an image', 'v2 tasks',
                dict({'200': _response('The tasks.', _json({
                    'type': 'object', 'required': ['tasks'],
                    'properties': {'tasks': {'type': 'array'}}}))},
                    **_errors(404))),
        },
    }


def stores_schema(detail):
    store = {'type': 'object', 'required': ['id'], 'properties': {
        'id': {'type': 'string'},
        'description': {'type': 'string'},
        'default': {'const': 'true'},
        'read-only': {'const': 'true'}}}
    if detail:
        store['required'] = ['id', 'type', 'weight', 'properties']
        store['properties'].update({
            'type': {'type': 'string'},
            'weight': {'type': 'integer'},
            'properties': {'type': 'object'}})
    return {'type': 'object', 'required': ['stores'],
            'properties': {'stores': {'type': 'array', 'items': store}}}


def stores_paths():
    """The stores of the multi-store mode (each 404 in single-store mode,
    as upstream)."""
    paths = {}
    for suffix, detail, summary in (
            ('', False, 'List the stores'),
            ('/detail', True, 'List the stores with their type, weight and '
                              'properties (admin)')):
        paths['/v2/info/stores' + suffix] = {'get': _operation(
            'listStores' + ('Detail' if detail else ''), summary,
            'v2 stores',
            dict({'200': _response('The stores.',
                                   _json(stores_schema(detail)))},
                 **_errors(404)))}
    paths['/v2/stores/{store_id}/{image_id}'] = {
        'parameters': [_path('store_id', 'The id of a store.'), IMAGE_ID],
        'delete': _operation(
            'deleteFromStore', "Delete an image's data from one store",
            'v2 stores',
            dict({'204': _response('Done.')}, **_errors(404, 409)))}
    return paths


# --- v1 ----------------------------------------------------------------------

def v1_field_schema(field):
    """The schema of the value of x-image-meta-<field> (a request header)."""
    if field in mapping.INTEGER_FIELDS:
        return {'type': 'integer', 'minimum': 0}
    if field in mapping.BOOLEAN_FIELDS:
        return {'type': 'boolean'}
    if field == 'disk_format':
        return {'enum': list(CONF.image_format.disk_formats)}
    if field == 'container_format':
        return {'enum': list(CONF.image_format.container_formats)}
    if field == 'status':
        return {'enum': sorted({mapping.v1_status(s)
                                for s in rules.STATUSES})}
    if field == 'id':
        return {'type': 'string', 'pattern': schemas.UUID_PATTERN}
    return {'type': 'string'}


def v1_meta_parameters():
    parameters = [_parameter('header', mapping.META_PREFIX + field,
                             v1_field_schema(field))
                  for field in sorted(mapping.META_FIELDS)]
    parameters.append(_parameter(
        'header', 'x-glance-api-copy-from', {'type': 'string'},
        'An http(s) URL the service copies the data from.'))
    return parameters


def v1_image_schema():
    """An image as v1 shows it (mapping.image_view)."""
    nullable_string = _nullable('string')
    nullable_integer = _nullable('integer')
    properties = {
        'id': {'type': 'string'},
        'name': nullable_string,
        'disk_format': nullable_string,
        'container_format': nullable_string,
        'size': nullable_integer,
        'virtual_size': nullable_integer,
        'checksum': nullable_string,
        'status': {'enum': sorted({mapping.v1_status(s)
                                   for s in rules.STATUSES})},
        'is_public': {'type': 'boolean'},
        'protected': {'type': 'boolean'},
        'min_ram': {'type': 'integer'},
        'min_disk': {'type': 'integer'},
        'owner': nullable_string,
        'created_at': {'type': 'string'},
        'updated_at': {'type': 'string'},
        'deleted_at': nullable_string,
        'deleted': {'type': 'boolean'},
        'properties': {'type': 'object',
                       'additionalProperties': {'type': 'string'}},
    }
    return {'type': 'object', 'properties': properties,
            'required': sorted(properties), 'additionalProperties': False}


def v1_index_schema():
    full = v1_image_schema()['properties']
    return {'type': 'object',
            'properties': {name: full[name]
                           for name in mapping.INDEX_FIELDS},
            'required': list(mapping.INDEX_FIELDS),
            'additionalProperties': False}


def v1_list_parameters():
    parameters = [
        _query('limit', {'type': 'integer', 'minimum': 0}),
        _query('marker', {'type': 'string', 'format': 'uuid'}),
        _query('sort_key', {'enum': list(common.SORT_KEYS)}),
        _query('sort_dir', {'enum': list(common.SORT_DIRS)}),
        _query('changes-since', {'type': 'string'}, 'An ISO 8601 time.'),
        _query('is_public', {'enum': ['true', 'false', 'none']}),
    ]
    for name in v1_images_filters():
        parameters.append(_query(name, (
            {'type': 'integer', 'minimum': 0}
            if name in ('size_min', 'size_max', 'min_ram', 'min_disk')
            else {'type': 'string'})))
    return parameters


def v1_images_filters():
    return (v1_images.OPERATOR_FILTERS
            + ('size_min', 'size_max', 'min_ram', 'min_disk', 'protected'))


def v1_image_headers():
    """The x-image-meta-* headers every image's HEAD and GET answer has."""
    return {mapping.META_PREFIX + name: {'required': True,
                                         'schema': {'type': 'string'}}
            for name in ('id', 'status', 'is_public', 'protected',
                         'deleted', 'min_ram', 'min_disk', 'created_at',
                         'updated_at')}


def v1_paths():
    meta = v1_meta_parameters()
    image_json = _json({'type': 'object', 'required': ['image'],
                        'properties': {'image': _ref('v1Image')}})
    data_body = _body({DATA: {'schema': {'type': 'string',
                                         'format': 'binary'}}},
                      required=False)
    index = dict({'200': _response('The images.', _json({
        'type': 'object', 'required': ['images'],
        'properties': {'images': {'type': 'array',
                                  'items': _ref('v1ImageSummary')}}}))},
        **_errors())
    no_content = {'204': _response('Done.')}
    image_path = '/v1/images/{image_id}'
    members_json = _json({
        'type': 'object', 'required': ['members'],
        'properties': {'members': {'type': 'array',
                                   'items': _ref('v1Member')}}})
    return {
        '/v1/': {'get': _operation('v1ListImagesRoot', 'List images',
                                   'v1 images', index,
                                   v1_list_parameters())},
        '/v1/images': {
            'get': _operation('v1ListImages', 'List images', 'v1 images',
                              index, v1_list_parameters()),
            'post': _operation(
                'v1CreateImage', 'Create an image, with its data if sent',
                'v1 images',
                dict({'201': _response('The image.', image_json)},
                     **_errors(404, 409, 413, 415)),
                meta, body=data_body),
        },
        '/v1/images/detail': {
            'get': _operation(
                'v1ListImagesDetail', 'List images, all fields',
                'v1 images',
                dict({'200': _response('The images.', _json({
                    'type': 'object', 'required': ['images'],
                    'properties': {'images': {
                        'type': 'array', 'items': _ref('v1Image')}}}))},
                    **_errors()),
                v1_list_parameters()),
            'head': _operation('v1HeadImagesDetail', 'Refused',
                               'v1 images', _errors(405)),
        },
        image_path: {
            'parameters': [IMAGE_ID],
            'head': _operation(
                'v1ShowImageMeta', 'The metadata of an image, as headers',
                'v1 images',
                dict({'200': _response('The image.',
                                       headers=v1_image_headers())},
                     **_errors(404))),
            'get': _operation(
                'v1DownloadImage', 'The data of an image, with its '
                'metadata as headers', 'v1 images',
                dict({'200': _response('The data.', {DATA: {'schema': {
                    'type': 'string', 'format': 'binary'}}},
                    headers=v1_image_headers())},
                    **_errors(404, 503))),
            'put': _operation(
                'v1UpdateImage', 'Change an image, or upload its data',
                'v1 images',
                dict({'200': _response('The image.', image_json)},
                     **_errors(404, 409, 410, 413, 415, 503)),
                meta + [_parameter('header', 'x-glance-registry-purge-props',
                                   {'type': 'boolean'})],
                body=data_body),
            'delete': _operation(
                'v1DeleteImage', 'Delete an image', 'v1 images',
                dict({'200': _response('Deleted.')}, **_errors(404, 409))),
        },
        image_path + '/members': {
            'parameters': [IMAGE_ID],
            'get': _operation('v1ListMembers', 'The members of an image',
                              'v1 members',
                              dict({'200': _response('The members.',
                                                     members_json)},
                                   **_errors(404))),
            'put': _operation(
                'v1ReplaceMembers', 'Replace the members of an image',
                'v1 members', dict(no_content, **_errors(404, 413)),
                body=_body(_json(v1_memberships_schema()))),
        },
        image_path + '/members/{member_id}': {
            'parameters': [IMAGE_ID, MEMBER_ID],
            'get': _operation(
                'v1ShowMember', 'One member of an image', 'v1 members',
                dict({'200': _response('The member.', _json({
                    'type': 'object', 'required': ['member'],
                    'properties': {'member': _ref('v1Member')}}))},
                    **_errors(404))),
            'put': _operation(
                'v1AddMember', 'Share an image with a project',
                'v1 members', dict(no_content, **_errors(404, 413)),
                body=_body(_json({
                    'type': 'object', 'properties': {'member': {
                        'type': 'object',
                        'properties': {'can_share': {'type': 'boolean'}}}}}),
                    required=False)),
            'delete': _operation('v1DeleteMember', 'Stop sharing an image',
                                 'v1 members',
                                 dict(no_content, **_errors(404))),
        },
        '/v1/shared-images/{member_id}': {
            'parameters': [MEMBER_ID],
            'get': _operation(
                'v1SharedImages', 'The images shared with a project',
                'v1 members', dict({'200': _response('The images.', _json({
                    'type': 'object', 'required': ['shared_images'],
                    'properties': {'shared_images': {
                        'type': 'array', 'items': {
                            'type': 'object',
                            'required': ['image_id', 'can_share'],
                            'properties': {
                                'image_id': {'type': 'string'},
                                'can_share': {'type': 'boolean'}}}}}}))},
                    **_errors())),
        },
    }


def v1_memberships_schema():
    return {'type': 'object', 'required': ['memberships'],
            'properties': {'memberships': {'type': 'array', 'items': {
                'type': 'object', 'required': ['member_id'],
                'properties': {'member_id': {'type': 'string'},
                               'can_share': {'type': 'boolean'}}}}}}


# --- the document ------------------------------------------------------------

def error_responses():
    """One reusable answer per error status: webob's body, in the media
    type the Accept header asks for."""
    error_json = {'type': 'object', 'required': ['code', 'title'],
                  'properties': {'code': {'type': 'string'},
                                 'title': {'type': 'string'},
                                 'message': {'type': 'string'}}}
    content = {media_type: {'schema': {'type': 'string'}}
               for media_type in ERROR_MEDIA_TYPES}
    content[JSON] = {'schema': error_json}
    return {'error%d' % status: _response(description, content)
            for status, description in ERROR_DESCRIPTIONS.items()}


def component_schemas(all_schemas):
    components = {
        # The documents GET /v2/schemas/... answers, unchanged.
        'image': all_schemas.image.document(),
        'images': all_schemas.images.document(),
        'member': all_schemas.member.document(),
        'members': all_schemas.members.document(),
        'task': all_schemas.task.document(),
        'tasks': all_schemas.tasks.document(),
        'taskResponse': task_response_schema(all_schemas.task.document()),
        'tasksResponse': task_response_schema(all_schemas.tasks.document()),
        'imageResponse': image_response_schema(),
        'versions': versions_schema(),
    }
    if CONF.enable_v1_api:
        components.update({
            'v1Image': v1_image_schema(),
            'v1ImageSummary': v1_index_schema(),
            'v1Member': {'type': 'object',
                         'required': ['member_id', 'can_share'],
                         'properties': {'member_id': {'type': 'string'},
                                        'can_share': {'type': 'boolean'}}},
        })
    return components


def document():
    """The OpenAPI 3.1 document of the API as configured in CONF."""
    paths = version_paths()
    if CONF.enable_v1_api:
        paths.update(v1_paths())
    if CONF.enable_v2_api:
        paths.update(v2_paths())
    return {
        'openapi': OPENAPI_VERSION,
        'info': {
            'title': 'OpenStack Image service (Glance)',
            'version': version.version_string,
            'description': 'The Image API v2 (JSON) and v1 '
                           '(x-image-meta-* headers) this service serves. '
                           'Generated from the schemas the API validates '
                           'with, for its configuration.',
        },
        'paths': paths,
        'components': {
            'schemas': component_schemas(schemas.Schemas()),
            'responses': error_responses(),
            'securitySchemes': {'token': {
                'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token',
                'description': 'A Keystone token (the keystone flavor; '
                               'the default flavor needs none).'}},
        },
    }
