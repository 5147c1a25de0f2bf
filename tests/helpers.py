"""Helpers shared by the tests; their fixtures live in the conftest.py
files.

In process: configure() and Client, the real paste application driven
through WebOb, with identity_headers() for the trusted flavor and the v1
requests (x-image-meta-* headers). Over the network: free_port(),
wait_for(), WebServer (images at http locations), get_json() and
create_image() against a server's URL, raw_exchange() (bytes on a
socket, the whole answer back), and Glance, the `glance` CLI.
Processes: tests/functional/process.py.
"""
import http.server
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
import requests
import webob

from glance import store
from glance.api.v1 import router as v1_router
from glance.api.v2 import router as v2_router
from glance.common import config
from glance.common import policy
from glance.common import wsgi
import glance.db

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASTE_FILE = os.path.join(REPO, 'etc', 'glance-api-paste.ini')
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
DATA_TYPE = 'application/octet-stream'
UNKNOWN_ID = '00000000-0000-0000-0000-000000000000'
# For a server that fetches from the test's web server on loopback.
NO_PROXY = {'no_proxy': '127.0.0.1,localhost',
            'NO_PROXY': '127.0.0.1,localhost'}
GLANCE = os.path.join(os.path.dirname(sys.executable), 'glance')
TIMEOUT = 60


# -- the application in process ----------------------------------------------

# The keystone flavor without the token check: requests carry the headers
# keystonemiddleware would set, so rules can be tested without Keystone.
TRUSTED_HEADERS_PASTE = """
[composite:glance-api-trusted]
use = egg:glance#rootapp
/: api

[pipeline:api]
pipeline = request_id versionnegotiation context rootapp

[composite:rootapp]
use = egg:glance#rootapp
/: apiversions
/v1: apiv1app
/v2: apiv2app

[app:apiversions]
use = egg:glance#versions

[app:apiv1app]
use = egg:glance#apiv1app

[app:apiv2app]
use = egg:glance#apiv2app

[filter:request_id]
paste.filter_factory = glance.api.middleware.request_id:RequestId.factory

[filter:versionnegotiation]
use = egg:glance#versionnegotiation

[filter:context]
use = egg:glance#context
"""


def configure(tmp_path, extra=''):
    """Parse a fresh configuration rooted in tmp_path."""
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text(
        '[DEFAULT]\nstate_path = %s\n[paste_deploy]\nconfig_file = %s\n%s'
        % (tmp_path / 'state', PASTE_FILE, extra))
    config.CONF.reset()
    config.parse_args(['--config-file', str(conf_file)])
    glance.db.reset()
    policy.reset()
    store.create_stores()
    glance.db.ensure_schema()
    return conf_file


class Client:
    """Requests against a WSGI application, with JSON conveniences."""

    def __init__(self, app, headers=None):
        self.app = app
        self.headers = dict(headers or {})

    def request(self, method, path, body=None, headers=None,
                content_type=None):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        request = webob.Request.blank(path, method=method,
                                      headers=all_headers)
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                content_type = content_type or 'application/json'
            request.body = body
        if content_type:
            request.content_type = content_type
        return request.get_response(self.app)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request('PUT', path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def patch(self, path, changes, **kwargs):
        kwargs.setdefault('content_type', PATCH_TYPE)
        return self.request('PATCH', path, changes, **kwargs)

    def create_image(self, **values):
        values.setdefault('disk_format', 'raw')
        values.setdefault('container_format', 'bare')
        response = self.post('/v2/images', values)
        assert response.status_int == 201, response.body
        return response.json

    def upload(self, image_id, data):
        return self.put('/v2/images/%s/file' % image_id, data,
                        content_type='application/octet-stream')


def identity_headers(project, roles=('member', 'reader'), user=None):
    return {'X-Identity-Status': 'Confirmed',
            'X-Project-Id': project,
            'X-User-Id': user or 'user-of-' + project,
            'X-Roles': ','.join(roles)}


# -- the routes served -------------------------------------------------------

def served_routes():
    """(method, path template) of every route the v1 and v2 routers and
    the versions filters serve, e.g. ('GET', '/v2/images/{image_id}')."""
    routes = [('GET', '/'), ('GET', '/versions'), ('GET', '/healthcheck')]
    for prefix, router in (('/v1', v1_router), ('/v2', v2_router)):
        api = router.API(wsgi.APIMapper())
        for route in api.map.matchlist:
            if route.routepath == '':
                routes.append(('GET', prefix))  # the redirect to a slash
            elif route.conditions:
                routes.extend((method, prefix + route.routepath)
                              for method in route.conditions['method'])
    return routes


# -- v2 requests -------------------------------------------------------------

# 1024 bytes, each position distinguishable
IMAGE_DATA = bytes(range(256)) * 4
MISSING_ID = '00000000-0000-4000-8000-000000000000'


# -- disk images built in code (format inspection) ---------------------------
# Just the headers oslo.utils' inspectors read, followed by `size` bytes
# in all: the functional tests use qemu-img's real images.

def qcow2_image(virtual_size, size=65536, version=3, backing_file=None,
                data_file=False):
    """A qcow2 header (v2 or v3) and padding; backing_file: a name
    written after the header; data_file: the external data file bit."""
    backing_offset = 512 if backing_file else 0
    header = struct.pack('>4sIQIIQ', b'QFI\xfb', version, backing_offset,
                         len(backing_file or ''), 16, virtual_size)
    header = header.ljust(72, b'\0')
    if version >= 3:
        incompatible = 4 if data_file else 0  # bit 2: external data file
        header += struct.pack('>QQQII', incompatible, 0, 0, 4, 104)
    data = header.ljust(512, b'\0') + (backing_file or '').encode()
    return data.ljust(size, b'\0')


def iso_image(blocks=32):
    """An ISO 9660 file system of `blocks` 2048-byte blocks: 16 blocks of
    system area, then the primary volume descriptor."""
    descriptor = bytearray(2048)
    descriptor[0:7] = b'\x01CD001\x01'
    descriptor[80:88] = struct.pack('<I', blocks) + struct.pack('>I', blocks)
    descriptor[128:132] = struct.pack('<H', 2048) + struct.pack('>H', 2048)
    return (bytes(32768) + bytes(descriptor)).ljust(blocks * 2048, b'\0')


def gpt_disk(size=65536, boot_flag=0, extra_partition=False):
    """A disk whose MBR is GPT's protective one (a 0xEE partition from LBA
    1); boot_flag other than 0/0x80, or a second partition, are what the
    inspector's 'mbr' check refuses."""
    mbr = bytearray(512)
    sectors = size // 512 - 1
    mbr[446:462] = struct.pack('<B3BB3BII', boot_flag, 0, 2, 0, 0xEE,
                               0xFF, 0xFF, 0xFF, 1, sectors)
    if extra_partition:
        mbr[462:478] = struct.pack('<B3BB3BII', 0, 0, 3, 0, 0x83,
                                   0xFF, 0xFF, 0xFF, 2, 1)
    mbr[510:512] = b'\x55\xaa'
    return bytes(mbr).ljust(size, b'\0')


def vmdk_descriptor(create_type='monolithicFlat', extent='disk-flat.vmdk'):
    """A VMDK text descriptor whose extent is the file `extent`."""
    return ('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
            'parentCID=ffffffff\ncreateType="%s"\n\n'
            '# Extent description\nRW 2048 FLAT "%s" 0\n\n'
            'ddb.virtualHWVersion = "4"\n' % (create_type, extent)).encode()


def show(client, image_id):
    response = client.get(f'/v2/images/{image_id}')
    assert response.status_int == 200, response.body
    return response.json


def file_path(image_id):
    return f'/v2/images/{image_id}/file'


def assert_error(response, status, message):
    assert response.status_int == status, response.body
    assert message in response.text, response.text


def active_image(client, data=IMAGE_DATA, **values):
    image = client.create_image(**values)
    response = client.upload(image['id'], data)
    assert response.status_int == 204, response.body
    return show(client, image['id'])


def download(client, image_id, **headers):
    return client.get(file_path(image_id), headers=headers)


# -- v1 requests -------------------------------------------------------------

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


# -- the store ---------------------------------------------------------------

def read_all(uri, **kwargs):
    """(the data, the size) that glance.store gets at `uri`."""
    iterator, total_size = store.get_from_backend(uri, **kwargs)
    return b''.join(iterator), total_size


# -- over the network --------------------------------------------------------

def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def raw_exchange(port, data, timeout=20, pieces=1):
    """Send `data` as is to 127.0.0.1:`port` and read until the server
    closes: (status, {lower-cased header name: value}, body). status is
    None if nothing came back; AssertionError if the server keeps the
    connection open longer than `timeout` seconds without a word.
    With `pieces`, the data goes in that many parts, a moment apart (so
    that the server reads them apart)."""
    answer = b''
    with socket.create_connection(('127.0.0.1', port),
                                  timeout=timeout) as sock:
        try:
            size = -(-len(data) // pieces)
            for start in range(0, len(data), size):
                if start:
                    time.sleep(0.05)
                sock.sendall(data[start:start + size])
        except (BrokenPipeError, ConnectionResetError):
            pass  # Refused before the end: the answer may be there.
        try:
            while received := sock.recv(65536):
                answer += received
        except ConnectionResetError:
            pass  # Closed with unread data: what came first stays.
        except TimeoutError:
            raise AssertionError(f'no close within {timeout} s after '
                                 f'{answer[:200]!r}')
    if not answer:
        return None, {}, b''
    head, _, body = answer.partition(b'\r\n\r\n')
    status_line, *lines = head.decode('latin-1').split('\r\n')
    headers = {}
    for line in lines:
        name, _, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def wait_for(condition, what='the condition', timeout=20, interval=0.05):
    """Poll `condition` until it returns something true, and return it;
    AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what} '
                                 f'({timeout} s)')
        time.sleep(interval)
    return result


class FileHandler(http.server.BaseHTTPRequestHandler):
    """Serves the server's `files` ({path: bytes}): HEAD answers the
    length; 404 elsewhere. Each (method, path) goes to its `requests`."""

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.answer(send_body=False)

    def do_GET(self):
        self.answer(send_body=True)

    def answer(self, send_body):
        self.server.requests.append((self.command, self.path))
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class WebServer:
    """A web server on loopback, in a thread: FileHandler serving `files`
    unless another `handler` class is given; https with `ssl_context`."""

    def __init__(self, files=None, handler=FileHandler, ssl_context=None):
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      handler)
        self.server.daemon_threads = True
        self.server.files = self.files = files or {}
        self.server.requests = self.requests = []
        self.scheme = 'http'
        if ssl_context:
            self.server.socket = ssl_context.wrap_socket(
                self.server.socket, server_side=True)
            self.scheme = 'https'
        # A short poll interval keeps shutdown() quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={'poll_interval': 0.05}, daemon=True)

    @property
    def url(self):
        return f'{self.scheme}://127.0.0.1:{self.server.server_address[1]}'

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def get_json(server, path, session=requests):
    """The JSON document of a GET that must answer 200."""
    response = session.get(server.url + path, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def create_image(server, session=requests, **fields):
    """An image created with POST /v2/images (raw and bare unless said)."""
    fields.setdefault('disk_format', 'raw')
    fields.setdefault('container_format', 'bare')
    response = session.post(server.url + '/v2/images', json=fields,
                            timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def outputs_of(processes, timeout=TIMEOUT):
    """The stdout of each (what, Popen) of commands run side by side,
    each of which must succeed; those left running are killed."""
    outputs = []
    try:
        for what, process in processes:
            out, err = process.communicate(timeout=timeout)
            assert process.returncode == 0, (
                f'{what} failed ({process.returncode}):\n{out}\n{err}')
            outputs.append(out)
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outputs


# -- the glance CLI (python-glanceclient) ------------------------------------

def parse_table(text):
    """The rows of the first prettytable in `text`, as dicts. A row whose
    first cell is empty continues the value of the row above (prettytable
    wraps long values, e.g. os_hash_value, at 80 characters)."""
    header, rows = None, []
    for line in text.splitlines():
        if not line.startswith('|'):
            continue
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if header is None:
            header = cells
        elif rows and not cells[0]:
            for key, cell in zip(header[1:], cells[1:], strict=False):
                rows[-1][key] += cell
        else:
            rows.append(dict(zip(header, cells, strict=False)))
    return rows


def parse_show(text):
    """{property: value} of an image-show style table."""
    return {row['Property']: row['Value'] for row in parse_table(text)}


class Glance:
    """Runs `glance ...` against one server, with one HOME."""

    def __init__(self, api, home):
        self.api = api
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith('OS_')}
        self.env['HOME'] = str(home)

    def run(self, *args, check=True):
        # With stdin closed: image-create uploads whatever stdin holds when
        # it is not a terminal (even /dev/null, as an empty image).
        result = subprocess.run(
            ['/bin/sh', '-c', 'exec "$0" "$@" 0<&-', GLANCE,
             '--os-image-url', self.api.url, '--os-auth-token', 'x',
             '--os-image-api-version', '2', *args],
            capture_output=True, text=True, env=self.env, timeout=TIMEOUT)
        if check:
            assert result.returncode == 0, (
                f'glance {" ".join(args)} failed ({result.returncode}):\n'
                f'{result.stdout}\n{result.stderr}')
        return result

    def run_all(self, *commands):
        """The stdout of several read-only commands, run side by side."""
        return outputs_of([
            (f'glance {" ".join(args)}', subprocess.Popen(
                ['/bin/sh', '-c', 'exec "$0" "$@" 0<&-', GLANCE,
                 '--os-image-url', self.api.url, '--os-auth-token', 'x',
                 '--os-image-api-version', '2', *args],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=self.env)) for args in commands])

    def show(self, *args):
        return parse_show(self.run(*args).stdout)

    def list(self, *args):
        """The (ID, Name) rows of image-list."""
        return [(row['ID'], row['Name'])
                for row in parse_table(self.run('image-list', *args).stdout)]

    def create(self, name, *args):
        return self.show('image-create', '--name', name, '--disk-format',
                         'raw', '--container-format', 'bare', *args)


def assert_store_refuses(uri, error):
    """Reading, sizing and deleting the data at `uri` each raise `error`."""
    for call in (store.get_from_backend, store.get_size_from_backend,
                 store.delete_from_backend):
        with pytest.raises(error):
            call(uri)
