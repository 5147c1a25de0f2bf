"""The classic Image API v1 (served when enable_v1_api is on).

Not served yet: with v1 disabled, version negotiation answers /v1 requests
with the versions document, as upstream does.
"""
import webob.exc

from glance.common import wsgi


class API(wsgi.Router):

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return lambda environ, start_response: webob.exc.HTTPNotFound()(
            environ, start_response)
