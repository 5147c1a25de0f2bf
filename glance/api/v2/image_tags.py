"""v2 image tags: PUT and DELETE /v2/images/{id}/tags/{tag}."""
import contextlib

import webob.exc

from glance.common import exception
from glance.common import wsgi
from glance.images import service


class TagsController:

    def __init__(self, schemas):
        self.schemas = schemas

    def update(self, request, image_id, tag_value):
        self.schemas.image.validate({'tags': [tag_value]})
        with _image_not_found_message(image_id):
            try:
                service.add_tag(request.context, image_id, tag_value)
            except exception.LimitExceeded as error:
                # Upstream's wording, trailing colon included.
                raise webob.exc.HTTPRequestEntityTooLarge(
                    explanation='Image tag limit exceeded for image %s: '
                                '%s:' % (image_id, error))

    def delete(self, request, image_id, tag_value):
        with _image_not_found_message(image_id):
            try:
                service.delete_tag(request.context, image_id, tag_value)
            except exception.ImageNotFound:
                raise
            except exception.NotFound:
                raise webob.exc.HTTPNotFound()


@contextlib.contextmanager
def _image_not_found_message(image_id):
    try:
        yield
    except exception.ImageNotFound:
        raise webob.exc.HTTPNotFound(
            explanation='Image %s not found.' % image_id)


def create_resource(schemas):
    return wsgi.Resource(TagsController(schemas))
