"""v2 image tags: PUT and DELETE /v2/images/{id}/tags/{tag}."""
import webob.exc

from glance.common import exception
from glance.common import wsgi
from glance.images import service


class TagsController:

    def update(self, request, image_id, tag_value):
        if len(tag_value) > 255:
            raise webob.exc.HTTPBadRequest(
                explanation="Provided object does not match schema 'image': "
                            "'%s' is too long" % tag_value)
        service.add_tag(request.context, image_id, tag_value)

    def delete(self, request, image_id, tag_value):
        try:
            service.delete_tag(request.context, image_id, tag_value)
        except exception.ImageNotFound:
            raise
        except exception.NotFound:
            raise webob.exc.HTTPNotFound(
                explanation='Tag %s not found' % tag_value)


def create_resource():
    return wsgi.Resource(TagsController())
