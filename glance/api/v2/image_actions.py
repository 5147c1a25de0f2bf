"""v2 image actions: deactivate and reactivate."""
from glance.common import wsgi
from glance.images import service


class ImageActionsController:

    def deactivate(self, request, image_id):
        service.deactivate(request.context, image_id)

    def reactivate(self, request, image_id):
        service.reactivate(request.context, image_id)


def create_resource():
    return wsgi.Resource(ImageActionsController())
