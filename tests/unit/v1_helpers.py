"""Helpers of the v1 tests: requests with x-image-meta-* headers."""
import http.server
import io
import threading

import webob

DATA_TYPE = 'application/octet-stream'
UNKNOWN_ID = '00000000-0000-0000-0000-000000000000'


def meta_headers(properties=None, **meta):
    """x-image-meta-<field> headers (and x-image-meta-property-<key>);
    None leaves a field out."""
    headers = {'x-image-meta-' + name: str(value)
               for name, value in meta.items() if value is not None}
    headers.update({'x-image-meta-property-' + name: str(value)
                    for name, value in (properties or {}).items()})
    return headers


def create(client, data=None, headers=None, status=201, properties=None,
           **meta):
    """POST /v1/images; the image of the answer."""
    meta.setdefault('disk_format', 'raw')
    meta.setdefault('container_format', 'bare')
    all_headers = meta_headers(properties, **meta)
    all_headers.update(headers or {})
    response = client.post('/v1/images', data, headers=all_headers,
                           content_type=DATA_TYPE if data is not None
                           else None)
    assert response.status_int == status, response.text
    return response.json['image'] if status == 201 else response


def post_chunked(client, data, headers):
    """POST /v1/images with Transfer-Encoding: chunked and no
    Content-Length (the server has already taken the framing off)."""
    all_headers = {'Transfer-Encoding': 'chunked', 'Content-Type': DATA_TYPE}
    all_headers.update(headers)
    request = webob.Request.blank(
        '/v1/images', headers=all_headers,
        environ={'REQUEST_METHOD': 'POST', 'wsgi.input': io.BytesIO(data)})
    assert 'CONTENT_LENGTH' not in request.environ
    return request.get_response(client.app)


def head(client, image_id, status=200):
    response = client.request('HEAD', '/v1/images/%s' % image_id)
    assert response.status_int == status, response.status
    return response


def image_meta(response):
    """({field: value}, {property: value}) of x-image-meta-* headers."""
    meta, properties = {}, {}
    for name, value in response.headers.items():
        name = name.lower()
        if name.startswith('x-image-meta-property-'):
            properties[name[len('x-image-meta-property-'):]] = value
        elif name.startswith('x-image-meta-'):
            meta[name[len('x-image-meta-'):]] = value
    return meta, properties


def update(client, image_id, data=None, headers=None, status=200,
           properties=None, **meta):
    all_headers = meta_headers(properties, **meta)
    all_headers.update(headers or {})
    response = client.put('/v1/images/%s' % image_id, data,
                          headers=all_headers,
                          content_type=DATA_TYPE if data is not None
                          else None)
    assert response.status_int == status, response.text
    return response.json['image'] if status == 200 else response


def detail(client, query=''):
    response = client.get('/v1/images/detail' + query)
    assert response.status_int == 200, response.text
    return response.json['images']


def listed_ids(client, query='', path='/v1/images/detail'):
    response = client.get(path + query)
    assert response.status_int == 200, response.text
    return [image['id'] for image in response.json['images']]


class WebServer:
    """A web server on loopback serving `files` ({path: bytes}), for
    images at http locations. HEAD answers the length; 404 elsewhere."""

    def __init__(self, files):
        self.files = files
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.answer(send_body=False)

            def do_GET(self):
                self.answer(send_body=True)

            def answer(self, send_body):
                owner.requests.append((self.command, self.path))
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={'poll_interval': 0.05}, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
