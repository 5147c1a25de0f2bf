"""v2 discovery of the stores: GET /v2/info/stores and /v2/info/stores/detail
(multi-store mode only)."""
from oslo_config import cfg
import webob.exc

from glance.common import wsgi
from glance.images import stores

CONF = cfg.CONF


class InfoController:

    def get_stores(self, request):
        return {'stores': self._stores(request.context)}

    def get_stores_detail(self, request):
        return {'stores': self._stores(request.context, detail=True)}

    @staticmethod
    def _stores(context, detail=False):
        if not CONF.enabled_backends:
            raise webob.exc.HTTPNotFound(
                explanation='Multi backend is not supported at this site.')
        return stores.stores_info(context, detail)


def create_resource():
    return wsgi.Resource(InfoController())
