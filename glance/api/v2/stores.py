"""v2 stores: DELETE /v2/stores/{store_id}/{image_id} removes an image's
data from one store (v2.10, multi-store mode only)."""
from oslo_config import cfg
import webob.exc

from glance.common import wsgi
from glance.images import service

CONF = cfg.CONF


class StoresController:

    def delete_from_store(self, request, store_id, image_id):
        if not CONF.enabled_backends:
            raise webob.exc.HTTPNotFound()  # upstream's, with no message
        service.delete_from_store(request.context, image_id, store_id)


class ResponseSerializer(wsgi.Serializer):

    def delete_from_store(self, response, result):
        response.status_int = 204


def create_resource():
    return wsgi.Resource(StoresController(), serializer=ResponseSerializer())
