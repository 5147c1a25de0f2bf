"""v2 tasks: list, show, create (the legacy `import` type), DELETE
answering 405, and GET /v2/images/{id}/tasks. Every /v2/tasks call
checks tasks_api_access first, as upstream does."""
import urllib.parse
import uuid

import webob.exc

from glance.api import common
from glance.api.v2.images import format_time
from glance.common import exception
from glance.common import wsgi
from glance.images import legacy_import
from glance.images import service
from glance.tasks import records

DELETE_MESSAGE = ('This operation is currently not permitted on Glance '
                  'Tasks. They are auto deleted after reaching the time '
                  'based on their expires_at property.')
REQUIRED = ('type', 'input')


def _bad_request(message):
    return webob.exc.HTTPBadRequest(explanation=message)


class RequestDeserializer(wsgi.Deserializer):

    def __init__(self, schemas):
        self.schemas = schemas

    def create(self, request):
        records.enforce_access(request.context)
        if not request.has_body():
            raise _bad_request('Body expected in request.')
        body = request.json_body_or_error()
        for name in REQUIRED:
            # (Any other JSON than an object lacks them too.)
            if not isinstance(body, dict) or name not in body:
                raise _bad_request("Task '%s' is required" % name)
        self.schemas.task.validate(body)
        return {'task_type': body['type'], 'task_input': body['input']}

    def index(self, request):
        records.enforce_access(request.context)
        params = request.params
        sort_dir = params.get('sort_dir', 'desc')
        if sort_dir not in ('asc', 'desc'):
            raise _bad_request('Invalid sort direction: %s' % sort_dir)
        filters = {}
        status = params.get('status')
        if status:
            if status not in records.STATUSES:
                raise _bad_request('Invalid status value: %s' % status)
            filters['status'] = status
        task_type = params.get('type')
        if task_type:
            if task_type not in records.LIST_TYPES:
                raise _bad_request('Invalid type value: %s' % task_type)
            filters['type'] = task_type
        marker = params.get('marker')
        if marker is not None:
            try:
                uuid.UUID(marker)
            except ValueError:
                raise _bad_request('Invalid marker format')
        return {'filters': filters, 'marker': marker,
                'limit': _limit(params.get('limit')),
                'sort_key': params.get('sort_key', 'created_at'),
                'sort_dir': sort_dir}

    def show(self, request):
        records.enforce_access(request.context)
        return super().default(request)

    def delete(self, request):
        records.enforce_access(request.context)
        return super().default(request)

    def image_tasks(self, request):
        return super().default(request)


def _limit(value):
    if value is not None:
        try:
            if int(value) < 0:
                raise _bad_request('limit param must be positive')
        except ValueError:
            raise _bad_request('limit param must be an integer')
    return common.parse_limit({'limit': value} if value is not None else {})


class TasksController:

    def index(self, request, filters, marker, limit, sort_key, sort_dir):
        found, next_marker = records.list_tasks(
            request.context, filters, marker, limit, sort_key, sort_dir)
        return {'tasks': found, 'next_marker': next_marker}

    def show(self, request, task_id):
        return records.get(request.context, task_id)

    def create(self, request, task_type, task_input):
        return legacy_import.create(request.context, task_type, task_input)

    def delete(self, request, task_id):
        raise webob.exc.HTTPMethodNotAllowed(
            explanation=DELETE_MESSAGE, headers={'Allow': 'GET'},
            body_template='${explanation}')

    def image_tasks(self, request, image_id):
        try:
            service.get(request.context, image_id)
        except exception.NotFound:
            raise webob.exc.HTTPNotFound()  # upstream's, with no message
        return records.of_image(request.context, image_id)


def task_view(task):
    view = {
        'id': task['id'], 'input': task['input'], 'type': task['type'],
        'status': task['status'], 'owner': task['owner'],
        'message': task['message'] or '', 'result': task['result'],
        'created_at': format_time(task['created_at']),
        'updated_at': format_time(task['updated_at']),
        'self': '/v2/tasks/%s' % task['id'], 'schema': '/v2/schemas/task',
    }
    for name in ('image_id', 'request_id', 'user_id'):
        if task[name]:
            view[name] = task[name]
    if task['expires_at']:
        view['expires_at'] = format_time(task['expires_at'])
    return view


def task_stub_view(task):
    view = {
        'id': task['id'], 'type': task['type'], 'status': task['status'],
        'owner': task['owner'],
        'created_at': format_time(task['created_at']),
        'updated_at': format_time(task['updated_at']),
        'self': '/v2/tasks/%s' % task['id'], 'schema': '/v2/schemas/task',
    }
    if task['expires_at']:
        view['expires_at'] = format_time(task['expires_at'])
    return view


def _db_time(value):
    # GET /v2/images/{id}/tasks shows the database's values (upstream's).
    return value.strftime('%Y-%m-%dT%H:%M:%S.%f') if value else None


def image_task_view(task):
    view = dict(task)
    for name in ('created_at', 'updated_at', 'deleted_at', 'expires_at'):
        view[name] = _db_time(task[name])
    return view


class ResponseSerializer(wsgi.Serializer):

    def show(self, response, task):
        wsgi.json_response(response, task_view(task))

    def create(self, response, task):
        wsgi.json_response(response, task_view(task), status=201)
        response.headers['Location'] = '/v2/tasks/%s' % task['id']

    def index(self, response, result):
        params = [(k, v) for k, v in response.request.params.items()
                  if k != 'marker']
        body = {'tasks': [task_stub_view(t) for t in result['tasks']],
                'first': '/v2/tasks', 'schema': '/v2/schemas/tasks'}
        if params:
            body['first'] += '?' + urllib.parse.urlencode(params)
        if result['next_marker']:
            body['next'] = '/v2/tasks?' + urllib.parse.urlencode(
                params + [('marker', result['next_marker'])])
        wsgi.json_response(response, body)

    def image_tasks(self, response, found):
        wsgi.json_response(response,
                           {'tasks': [image_task_view(t) for t in found]})


def create_resource(schemas):
    return wsgi.Resource(TasksController(), RequestDeserializer(schemas),
                         ResponseSerializer())
