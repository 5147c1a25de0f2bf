"""v1 image members: who an image is shared with, and who may share it on.

    GET    /v1/images/{id}/members            {"members": [...]}
    PUT    /v1/images/{id}/members            replace them all
    GET    /v1/images/{id}/members/{member}   {"member": {...}}
    PUT    /v1/images/{id}/members/{member}   share (body optional)
    DELETE /v1/images/{id}/members/{member}   stop sharing
    GET    /v1/shared-images/{member}         {"shared_images": [...]}
"""
import webob
import webob.exc

from glance.api.v1 import images
from glance.api.v1 import mapping
from glance.common import wsgi
from glance.images import members

DELETED = 'Image with identifier %s has been deleted.'


def _invalid_membership(error):
    return webob.exc.HTTPBadRequest(
        explanation='Invalid membership association: %s' % error)


def _no_content(request):
    response = webob.Response(request=request, status=204)
    response.content_type = None
    return response


def _optional_body(request):
    return request.json_body_or_error() if request.has_body() else None


class RequestDeserializer(wsgi.Deserializer):

    def update(self, request):
        """The can_share of {"member": {"can_share": bool}}, if given."""
        body = _optional_body(request)
        if not body:
            return {'can_share': None}
        try:
            return {'can_share': mapping.can_share(
                body['member']['can_share'])}
        except (KeyError, TypeError) as error:
            raise _invalid_membership(error)

    def update_all(self, request):
        """{member_id: can_share or None} of {"memberships": [...]}."""
        body = _optional_body(request)
        try:
            memberships = body['memberships']
            if not isinstance(memberships, list):
                raise TypeError('memberships must be a list')
            wanted = {}
            for membership in memberships:
                can_share = membership.get('can_share')
                wanted[str(membership['member_id'])] = (
                    None if can_share is None
                    else mapping.can_share(can_share))
        except (KeyError, TypeError, AttributeError) as error:
            raise _invalid_membership(error)
        return {'wanted': wanted}


class MembersController:

    def index(self, request, image_id):
        with images.v1_errors(image_id, DELETED):
            found = members.memberships(request.context, image_id)
        return {'members': [mapping.member_view(member) for member in found]}

    def show(self, request, image_id, member_id):
        with images.v1_errors(image_id, DELETED):
            member = members.membership(request.context, image_id, member_id)
        return {'member': mapping.member_view(member)}

    def update(self, request, image_id, member_id, can_share):
        with images.v1_errors(image_id, DELETED):
            members.share(request.context, image_id, member_id, can_share,
                          status=mapping.MEMBER_STATUS)
        return _no_content(request)

    def update_all(self, request, image_id, wanted):
        with images.v1_errors(image_id, DELETED):
            members.replace_members(request.context, image_id, wanted,
                                    status=mapping.MEMBER_STATUS)
        return _no_content(request)

    def delete(self, request, image_id, member_id):
        with images.v1_errors(image_id, DELETED):
            members.unshare(request.context, image_id, member_id)
        return _no_content(request)

    def shared_images(self, request, member_id):
        return {'shared_images': [
            mapping.shared_image_view(member)
            for member in members.shared_with(request.context, member_id)]}


def create_resource():
    return wsgi.Resource(MembersController(), RequestDeserializer())
