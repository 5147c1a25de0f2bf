"""v2 image members: who a shared image is shared with."""
import webob.exc

from glance.api.v2.images import format_time
from glance.common import wsgi
from glance.images import members
from glance.images import rules


class RequestDeserializer(wsgi.Deserializer):

    def _body(self, request):
        if not request.has_body():
            raise webob.exc.HTTPBadRequest(
                explanation='Body expected in request.')
        body = request.json_body_or_error()
        if not isinstance(body, dict):
            raise webob.exc.HTTPBadRequest(
                explanation='Body expected in request.')
        return body

    def create(self, request):
        body = self._body(request)
        member_id = body.get('member')
        if not member_id:
            raise webob.exc.HTTPBadRequest(
                explanation='Member to be added not specified')
        if not isinstance(member_id, str):
            raise webob.exc.HTTPBadRequest(
                explanation='Member should be a string')
        return {'member_id': member_id}

    def update(self, request):
        body = self._body(request)
        status = body.get('status')
        if status is None:
            raise webob.exc.HTTPBadRequest(
                explanation='Status not specified')
        if status not in rules.MEMBER_STATUSES:
            raise webob.exc.HTTPBadRequest(
                explanation="Incorrect request: Status must be one of "
                            "'pending', 'accepted', or 'rejected'")
        return {'status': status}


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
