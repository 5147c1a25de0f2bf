"""oslo.middleware's request id filter, called as plain WSGI.

Each request gets a fresh `req-<uuid>` in environ['openstack.request_id']
(and, when the client sent a well-formed X-OpenStack-Request-ID, that one
as the global request id), and the answer an x-openstack-request-id
header. The library's own __call__ wraps every request and answer in webob
objects for this; here the header is added as the answer starts.
"""
from oslo_context import context
from oslo_middleware import request_id
import webob


class RequestId(request_id.RequestId):

    def __call__(self, environ, start_response):
        self.set_global_req_id(webob.Request(environ))
        req_id = context.generate_request_id()
        environ[request_id.ENV_REQUEST_ID] = req_id
        header = request_id.HTTP_RESP_HEADER_REQUEST_ID

        def start_with_request_id(status, headers, exc_info=None):
            if not any(name.lower() == header for name, _ in headers):
                headers = headers + [(header, req_id)]
            return start_response(status, headers, exc_info)

        return self.application(environ, start_with_request_id)
