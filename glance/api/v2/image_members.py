"""v2 image members: who a shared image is shared with."""
import webob.exc

from glance.api.v2.images import format_time
from glance.common import wsgi
from glance.images import members


class RequestDeserializer(wsgi.Deserializer):

    def _body(self, request):
        if not request.has_body():
            raise webob.exc.HTTPBadRequest(
                explanation='Body expected in request.')
        return request.json_body_or_error()

    def create(self, request):
        body = self._body(request)
        if not isinstance(body, dict):
            raise webob.exc.HTTPBadRequest(
                explanation='Expected a member in the form: '
                            '{"member": "image_id"}')
        if 'member' not in body:
            raise webob.exc.HTTPBadRequest(
                explanation='Member to be added not specified')
        if not body['member']:
            raise webob.exc.HTTPBadRequest(
                explanation="Member can't be empty")
        return {'member_id': str(body['member'])}

    def update(self, request):
        body = self._body(request)
        if not isinstance(body, dict):
            raise webob.exc.HTTPBadRequest(
                explanation='Expected a status in the form: '
                            '{"status": "status"}')
        if 'status' not in body:
            raise webob.exc.HTTPBadRequest(
                explanation='Status not specified')
        return {'status': body['status']}


class MembersController:

    def index(self, request, image_id):
        return members.list_members(request.context, image_id)

    def show(self, request, image_id, member_id):
        return members.get_member(request.context, image_id, member_id)

    def create(self, request, image_id, member_id):
        return members.add_member(request.context, image_id, member_id)

    def update(self, request, image_id, member_id, status):
        return members.update_member(request.context, image_id, member_id,
                                     status)

    def delete(self, request, image_id, member_id):
        members.delete_member(request.context, image_id, member_id)


def member_view(member):
    return {
        'created_at': format_time(member['created_at']),
        'image_id': member['image_id'],
        'member_id': member['member'],
        'schema': '/v2/schemas/member',
        'status': member['status'],
        'updated_at': format_time(member['updated_at']),
    }


class ResponseSerializer(wsgi.Serializer):

    def create(self, response, member):
        wsgi.json_response(response, member_view(member))

    show = update = create

    def index(self, response, image_members):
        wsgi.json_response(response, {
            'members': [member_view(m) for m in image_members],
            'schema': '/v2/schemas/members'})

    def delete(self, response, result):
        response.status_int = 204


def create_resource():
    return wsgi.Resource(MembersController(), RequestDeserializer(),
                         ResponseSerializer())
