"""A seeded, bounded fuzz of every v1 and v2 route of a real glance-api.

Thousands of requests (GLANCE_FUZZ_REQUESTS, default 5000, about 20 s; seed
GLANCE_FUZZ_SEED) mix valid and mutated JSON bodies, wrong content types,
odd headers (v1 x-image-meta-*, ranges, sizes), bad query parameters and
odd methods, on real images (with data, members and tags) as well as
unknown and malformed ids; then a few protocol-level oddities on raw
sockets. It runs three times: on the default flavor (everyone is the
admin), on the trusted-headers flavor (as projects with and without
roles), and with small quotas and the locations shown (OPTIONS). Each
answer must come in time and be no 5xx (but for the cases in
fuzzing.KNOWN_500S, fixed elsewhere); afterwards the server answers and
its workers are the same processes.
"""
import http.client
import json
import os
import random
import socket
import string
import time
import urllib.parse
import uuid

import pytest
import requests

from glance.api.v1 import mapping
from tests.functional import fuzzing
from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import DATA_TYPE
from tests.helpers import NO_PROXY
from tests.helpers import PATCH_TYPE
from tests.helpers import TRUSTED_HEADERS_PASTE
from tests.helpers import WebServer
from tests.helpers import served_routes

SEED = int(os.environ.get('GLANCE_FUZZ_SEED', '20261202'))
REQUESTS = int(os.environ.get('GLANCE_FUZZ_REQUESTS', '5000'))
# No answer within this is a hang.
ANSWER_TIMEOUT = 15
# The seed images are made again this often (the fuzz deletes some).
RESEED_EVERY = 300
LOCATION_DATA = b'location data ' * 10


@pytest.fixture(scope='module')
def web_server():
    """Where v1 locations and copy-from point: loopback only."""
    server = WebServer({'/image.raw': LOCATION_DATA}).start()
    yield server
    server.stop()


# Small limits and the locations shown: the quota and paging paths.
OPTIONS = '''[DEFAULT]
show_multiple_locations = true
show_image_direct_url = true
image_property_quota = 4
image_tag_quota = 2
image_member_quota = 2
user_storage_quota = 20KB
image_size_cap = 5000
limit_param_default = 3
api_limit_max = 5
'''


@pytest.fixture(scope='module', params=['default', 'trusted', 'options'])
def fuzz_api(request, tmp_path_factory):
    """A glance-api of its own (the shared one's log check would count
    the known 5xx as failures; this module checks its log itself): the
    default flavor (everyone is the admin); the keystone flavor minus the
    token check (TRUSTED_HEADERS_PASTE), where each request is some
    project's, with some roles (fuzzing.IDENTITIES), through the policies;
    or the default flavor with OPTIONS."""
    directory = tmp_path_factory.mktemp('fuzz-api-' + request.param)
    extra_config = OPTIONS if request.param == 'options' else ''
    if request.param == 'trusted':
        paste_file = directory / 'trusted-paste.ini'
        paste_file.write_text(TRUSTED_HEADERS_PASTE)
        extra_config = ('[paste_deploy]\nflavor = trusted\n'
                        f'config_file = {paste_file}\n')
    with serving(GlanceApi(directory, extra_config=extra_config, workers=2,
                           env=NO_PROXY)) as api:
        api.flavor = request.param
        yield api


# --- values ------------------------------------------------------------------

def _text(rng, max_length=12):
    alphabet = string.ascii_letters + string.digits + '-_.~ é/€\u2603'
    return ''.join(rng.choice(alphabet)
                   for _ in range(rng.randint(0, max_length)))


def _escaped(rng, max_length=12):
    return ''.join('%%%02X' % b if b > 127 or chr(b) in '/ %?#' else chr(b)
                   for b in _text(rng, max_length).encode())


ODD_SEGMENTS = ['x', 'detail', 'x' * 300, '%C3%A9', '%00', '%2F', '..',
                '%20', '-1', '0', '%25', 'None', '%FF', '%C3']


def path_value(rng, name, seeds):
    roll = rng.random()
    if name == 'image_id':
        if roll < 0.6 and seeds.ids:
            return rng.choice(seeds.ids)
        if roll < 0.75:
            return str(uuid.uuid4())
    elif name == 'member_id' and roll < 0.5:
        return fuzzing.MEMBER
    elif name == 'tag_value' and roll < 0.4:
        return fuzzing.TAG
    if roll < 0.9:
        return rng.choice(ODD_SEGMENTS)
    return _escaped(rng) or 'e'


def big_integers():
    return [str(2 ** 31 - 1), str(2 ** 31), str(2 ** 63 - 1), str(2 ** 63),
            '-' + str(2 ** 63 + 1), '1' * 40]


NUMBERS = ['0', '1', '-1', '5', 'abc', '', '1.5', '1e3', ' 5', '0x10']
TIMES = ['2020-01-01T00:00:00Z', '2020-01-01T00:00:00', '2020-13-45',
         'gt:2020-01-01T00:00:00Z', 'lte:2999-01-01T00:00:00Z', 'gt:',
         'xx:2020-01-01T00:00:00Z', 'yesterday', '0001-01-01T00:00:00Z',
         '9999-12-31T23:59:59Z', '2020-01-01T00:00:00+25:00']
LIST_VALUES = ['in:a,b', 'in:"a,b",c', 'in:"unclosed', 'in:a"b', 'eq:x',
               'gte:x', 'in:', 'active', 'in:active,queued', 'saving',
               'raw', 'bare', '', '"', ',,', 'in:""']


def query_pairs(rng, seeds):
    names = {
        'limit': NUMBERS + big_integers(),
        'marker': (seeds.ids or ['x']) + [str(uuid.uuid4()), 'abc', ''],
        'sort_key': ['name', 'size', 'bogus', 'created_at', '', 'id,name'],
        'sort_dir': ['asc', 'desc', 'up', ''],
        'sort': ['name:asc,size', 'bogus:up', ',', ':', 'name:', 'name',
                 'size:desc,id:asc,created_at'],
        'name': LIST_VALUES, 'id': LIST_VALUES + (seeds.ids or []),
        'status': LIST_VALUES, 'disk_format': LIST_VALUES,
        'container_format': LIST_VALUES,
        'size_min': NUMBERS, 'size_max': NUMBERS,
        'min_ram': NUMBERS, 'min_disk': NUMBERS,
        'size': NUMBERS, 'virtual_size': NUMBERS,
        'created_at': TIMES, 'updated_at': TIMES, 'changes-since': TIMES,
        'os_hidden': ['true', 'false', 'maybe', 'True', ''],
        'protected': ['true', 'false', 'maybe', 'None', '1', '0'],
        'is_public': ['true', 'false', 'none', 'maybe', 'None'],
        'visibility': ['public', 'private', 'shared', 'community', 'all',
                       'bogus', ''],
        'member_status': ['pending', 'accepted', 'all', 'bogus'],
        'tag': [fuzzing.TAG, '', 'x' * 300], 'owner': ['x', ''],
        'property-fuzz_property': ['value', ''],
        'fuzz_property': ['value'], 'deleted': ['true', 'x'],
        'checksum': ['x'], 'os_hash_value': ['x'],
    }
    pairs = []
    for _ in range(rng.choice((0, 1, 1, 2, 3, 5))):
        name = rng.choice(list(names))
        pairs.append((name, rng.choice(names[name])))
    if rng.random() < 0.1:
        pairs.append((_text(rng), _text(rng)))
    if rng.random() < 0.03:
        pairs.append(('size_min', rng.choice(big_integers())))
    return pairs


def encode_query(rng, pairs):
    if not pairs:
        return ''
    quote = urllib.parse.quote
    parts = ['%s=%s' % (quote(name, safe=''), quote(value, safe=':,'))
             for name, value in pairs]
    if rng.random() < 0.02:
        parts.append('%FF=%FE')  # not UTF-8: 400
    if rng.random() < 0.02:
        parts.append('novalue')
    return '?' + '&'.join(parts)


# --- bodies ------------------------------------------------------------------

def json_templates(seeds):
    """A valid body for each route that takes JSON."""
    return {
        ('POST', '/v2/images'): {
            'name': 'fuzz', 'disk_format': 'raw', 'container_format': 'bare',
            'min_ram': 0, 'min_disk': 1, 'tags': ['a'],
            'visibility': 'private', 'protected': False, 'os_hidden': False,
            'fuzz_property': 'x'},
        ('PATCH', '/v2/images/{image_id}'): [
            {'op': 'replace', 'path': '/name', 'value': 'renamed'},
            {'op': 'add', 'path': '/fuzz_other', 'value': 'v'},
            {'op': 'remove', 'path': '/fuzz_other'},
            {'op': 'replace', 'path': '/min_ram', 'value': 1}],
        ('POST', '/v2/images/{image_id}/members'): {'member': 'fuzz-other'},
        ('PUT', '/v2/images/{image_id}/members/{member_id}'): {
            'status': 'accepted'},
        ('PUT', '/v1/images/{image_id}/members'): {
            'memberships': [{'member_id': fuzzing.MEMBER, 'can_share': True},
                            {'member_id': 'fuzz-other'}]},
        ('PUT', '/v1/images/{image_id}/members/{member_id}'): {
            'member': {'can_share': False}},
    }


FIELD_NAMES = ['name', 'id', 'status', 'locations', 'os_glance_x', '',
               'x' * 300, 'self', 'file', 'schema', 'checksum', 'size',
               'min_ram', 'visibility', 'tags', 'owner', 'direct_url',
               'os_hash_value', 'protected', 'member', 'op', 'path',
               'value', 'memberships', 'can_share', 'member_id']
POINTERS = ['/name', '/min_ram', '/tags', '/locations', '/locations/0',
            '/locations/-', '/status', '/id', '/x/y', '/', '', 'name',
            '//', '/a~2', '/a~', '/fuzz_property', '/os_glance_x',
            '/visibility', '/protected', '/self', '/ ', '/x' * 100]


def random_json(rng, depth=0):
    choices = [None, True, False, 0, -1, 1, 1.5, 2 ** 31, '', 'x',
               'x' * 300, '\u00e9\u2603', 'NaN-ish', 'active', 'public',
               'accepted', 'raw', 'bare']
    if depth < 3 and rng.random() < 0.3:
        if rng.random() < 0.5:
            return [random_json(rng, depth + 1)
                    for _ in range(rng.randint(0, 3))]
        return {rng.choice(FIELD_NAMES): random_json(rng, depth + 1)
                for _ in range(rng.randint(0, 3))}
    return rng.choice(choices)


def mutate(rng, document, depth=0):
    """A copy of `document` with a few random changes."""
    if depth > 4 or rng.random() < 0.15:
        return random_json(rng)
    if isinstance(document, dict):
        copy = {key: (mutate(rng, value, depth + 1)
                      if rng.random() < 0.3 else value)
                for key, value in document.items()}
        if copy and rng.random() < 0.3:
            del copy[rng.choice(list(copy))]
        if rng.random() < 0.3:
            copy[rng.choice(FIELD_NAMES)] = random_json(rng)
        if 'path' in copy and rng.random() < 0.5:
            copy['path'] = rng.choice(POINTERS)
        return copy
    if isinstance(document, list):
        copy = [mutate(rng, item, depth + 1) if rng.random() < 0.4 else item
                for item in document]
        if rng.random() < 0.2:
            copy.append(random_json(rng))
        if copy and rng.random() < 0.2:
            copy.pop(rng.randrange(len(copy)))
        return copy
    return random_json(rng)


def serialize(rng, document):
    roll = rng.random()
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
    body = text.encode('utf-8')
    if roll < 0.75:
        return body
    if roll < 0.80:
        return body[:rng.randint(0, max(len(body) - 1, 0))]  # truncated
    if roll < 0.84:
        return b'\xef\xbb\xbf' + body  # a BOM
    if roll < 0.88:
        return body.replace(b'"', b'\xff"', 1)  # not UTF-8
    if roll < 0.91:
        depth = rng.choice((20, 100, 400))
        return b'[' * depth + body + b']' * depth
    if roll < 0.93:
        return rng.choice((b'NaN', b'{"min_ram": NaN}', b'{"min_ram": -0}',
                           b'[Infinity]', b'{"a": 1e999}'))
    if roll < 0.95:
        return rng.choice((b'null', b'1', b'"x"', b'true', b'', b' '))
    if roll < 0.96:
        return b'[' * 100000 + b']' * 100000  # known: deeper than Python
    if roll < 0.97:
        return b'{"name": "\\ud800"}'  # known: a lone surrogate
    if roll < 0.975:
        return b'{"min_ram": %d}' % 2 ** 64  # known: beyond 64 bits
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


# --- headers -----------------------------------------------------------------

CONTENT_TYPES = ['application/json', PATCH_TYPE,
                 'application/openstack-images-v2.0-json-patch', DATA_TYPE,
                 'text/plain', 'application/json; charset=latin-1', '',
                 ';;;', 'multipart/form-data; boundary=x', '*/*',
                 'application/json-patch+json']
ACCEPTS = ['*/*', 'application/json', 'text/plain', 'text/html',
           'application/vnd.openstack.images-v2.1',
           'application/vnd.openstack.images-v1',
           'application/vnd.openstack.images-v9', 'garbage', '']


def meta_value(rng, field, web_server):
    if field in ('location', 'copy_from', 'uri'):
        # Loopback only: the server fetches these.
        return rng.choice([web_server.url + '/image.raw',
                           web_server.url + '/missing',
                           'http://127.0.0.1:1/nothing', 'swift://x/y',
                           'file:///etc/passwd', 'garbage', ''])
    if field in mapping.INTEGER_FIELDS:
        return rng.choice(NUMBERS + ['None', '2147483648'])
    if field in mapping.BOOLEAN_FIELDS:
        return rng.choice(['true', 'false', 'yes', '1', 'maybe', ''])
    if field in mapping.TIME_FIELDS:
        return rng.choice(TIMES)
    if field == 'id':
        return rng.choice([str(uuid.uuid4()), 'not-a-uuid', ''])
    if field in ('disk_format', 'container_format'):
        return rng.choice(['raw', 'bare', 'qcow2', 'ami', 'aki', 'bogus',
                           ''])
    if field == 'status':
        return rng.choice(['active', 'queued', 'killed', 'bogus'])
    if field == 'checksum':
        return rng.choice(['0' * 32, '0' * 33, 'x'])
    return rng.choice(['x', '', 'x' * 300, '\u00e9'])


def random_headers(rng, method, template, web_server, trusted):
    headers = {}
    if rng.random() < 0.4:
        headers['Accept'] = rng.choice(ACCEPTS)
    if rng.random() < 0.1:
        headers['X-Auth-Token'] = _text(rng) or 't'
    if rng.random() < 0.05:
        headers['X-Roles'] = 'admin'
    if template.startswith('/v1') or rng.random() < 0.05:
        for field in rng.sample(sorted(mapping.META_FIELDS),
                                rng.choice((0, 1, 2, 4))):
            if (field in ('location', 'copy_from', 'uri')
                    and rng.random() < 0.7):
                continue
            value = meta_value(rng, field, web_server)
            headers[mapping.META_PREFIX + rng.choice(
                (field, field.replace('_', '-')))] = value
        if rng.random() < 0.2:
            headers[mapping.PROPERTY_PREFIX + rng.choice(
                ['fuzz_property', 'fuzz-property', 'os_glance_x', 'p' * 300,
                 'Mixed_Case'])] = _text(rng)
        if rng.random() < 0.05:
            headers[mapping.META_PREFIX + 'bogus'] = 'x'
        if rng.random() < 0.05:
            headers['x-glance-api-copy-from'] = meta_value(
                rng, 'copy_from', web_server)
        if rng.random() < 0.05:
            headers['x-glance-registry-purge-props'] = rng.choice(
                ['true', 'false', 'maybe'])
    if template.endswith('/file') or rng.random() < 0.05:
        if rng.random() < 0.3:
            headers['Range'] = rng.choice(
                ['bytes=0-1', 'bytes=5-', 'bytes=-3', 'bytes=1-0',
                 'bytes=0-1,3-4', 'lines=1-2', 'bytes=99999-', 'bytes=',
                 'bytes=-0', 'garbage'])
        if rng.random() < 0.1:
            headers['Content-Range'] = rng.choice(
                ['bytes 0-1/*', 'bytes 3-1/5', 'bytes 0-99999/100000',
                 'garbage'])
        if rng.random() < 0.2:
            headers['x-openstack-image-size'] = rng.choice(NUMBERS)
    if trusted:
        headers.update(rng.choice(fuzzing.IDENTITIES) or {})
    # Non-ASCII header values go as their UTF-8 bytes (v1 clients do).
    return {name: value.encode('utf-8').decode('latin-1')
            for name, value in headers.items()}


# --- one request -------------------------------------------------------------

ODD_METHODS = ['OPTIONS', 'PROPFIND', 'TRACE', 'FOO', 'get', 'PATCH', 'PUT',
               'POST', 'DELETE', 'HEAD', 'GET']


def build_request(rng, route, seeds, templates, web_server, trusted):
    method, template = route
    if rng.random() < 0.1:
        method = rng.choice(ODD_METHODS)
    path = template
    for name in ('image_id', 'member_id', 'tag_value'):
        if '{%s}' % name in path:
            path = path.replace('{%s}' % name,
                                path_value(rng, name, seeds))
    if template in ('/v1/', '/v1/images', '/v1/images/detail',
                    '/v2/images') or rng.random() < 0.1:
        path += encode_query(rng, query_pairs(rng, seeds))
    headers = random_headers(rng, method, template, web_server, trusted)
    body = b''
    document = templates.get(route)
    if document is not None and rng.random() < 0.95:
        body = serialize(rng, mutate(rng, document)
                         if rng.random() < 0.7 else document)
        headers.setdefault('Content-Type', PATCH_TYPE if method == 'PATCH'
                           else 'application/json')
    elif template.endswith('/file') and method == 'PUT' or (
            template.startswith('/v1/images') and method in ('POST', 'PUT')
            and rng.random() < 0.5):
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        headers.setdefault('Content-Type', DATA_TYPE)
    elif rng.random() < 0.03:
        # A body where none is expected.
        body = serialize(rng, random_json(rng))
    if (method in ('POST', 'PUT') and template.startswith('/v1/images')
            and 'members' not in template and rng.random() < 0.15):
        # Otherwise valid, with the data somewhere else.
        body = b''
        headers = {'x-image-meta-disk_format': 'raw',
                   'x-image-meta-container_format': 'bare',
                   rng.choice(['x-image-meta-location',
                               'x-glance-api-copy-from']):
                       meta_value(rng, 'location', web_server)}
    if rng.random() < 0.1:
        headers['Content-Type'] = rng.choice(CONTENT_TYPES)
    if body and rng.random() < 0.1:
        headers['Transfer-Encoding'] = 'chunked'
    return fuzzing.Sent(method, path, headers, body)


def chunked(body, rng):
    out, offset = b'', 0
    while offset < len(body):
        piece = body[offset:offset + rng.randint(1, 64)]
        out += b'%x\r\n%s\r\n' % (len(piece), piece)
        offset += len(piece)
    return out + b'0\r\n\r\n'


class Client:
    """One keep-alive connection to the server, made again as needed."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def send(self, sent, rng):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                '127.0.0.1', self.port, timeout=ANSWER_TIMEOUT)
        body = sent.body
        if sent.header('Transfer-Encoding') == 'chunked':
            body = chunked(body, rng)
        try:
            self.connection.request(sent.method, sent.path, body=body,
                                    headers=sent.headers)
            response = self.connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --- raw protocol oddities ---------------------------------------------------

def raw_requests(seeds):
    """(Sent for the tally, bytes to send, half-close after sending)."""
    image = seeds.ids[0]
    short = b'{"name": "sh'

    def raw(method, path, lines, body=b''):
        return (method + ' ' + path + ' HTTP/1.1\r\nHost: x\r\n').encode(
            'latin-1') + b''.join(line + b'\r\n' for line in lines) + \
            b'\r\n' + body

    return [
        (fuzzing.Sent('POST', '/v2/images', short=True),
         raw('POST', '/v2/images', [b'Content-Length: 100',
                                    b'Content-Type: application/json'],
             short), True),
        (fuzzing.Sent('PUT', f'/v2/images/{image}/file', short=True),
         raw('PUT', f'/v2/images/{image}/file',
             [b'Content-Length: 100',
              b'Content-Type: application/octet-stream'], b'abc'), True),
        (fuzzing.Sent('GET', '/v2/images'),
         b'GET /v2/images HTTP/1.0\r\n\r\n', False),
        (fuzzing.Sent('POST', '/v2/images', {'Transfer-Encoding': 'chunked'}),
         raw('POST', '/v2/images', [b'Transfer-Encoding: chunked',
                                    b'Content-Type: application/json'],
             b'zz\r\n{}\r\n0\r\n\r\n'), False),
        (fuzzing.Sent('GET', '/v2/images'),
         raw('GET', '/v2/images', [b'NoColonHere']), False),
        (fuzzing.Sent('GET', '/v2/images'),
         raw('GET', '/v2/images', [b'X-Many-%d: x' % i
                                   for i in range(150)]), False),
        (fuzzing.Sent('GET', '/v2/images?' + 'a' * 20000),
         raw('GET', '/v2/images?' + 'a' * 20000, []), False),
        (fuzzing.Sent('POST', '/v2/images', {'Expect': '100-continue'}),
         raw('POST', '/v2/images', [b'Expect: 100-continue',
                                    b'Content-Length: 2',
                                    b'Content-Type: application/json'],
             b'{}'), False),
        (fuzzing.Sent('GET', '/v2/images'),
         raw('GET', '/v2/images', []) * 3, False),  # pipelined
        (fuzzing.Sent('POST', '/v2/images', {'Content-Length': '-1'}),
         raw('POST', '/v2/images', [b'Content-Length: -1'], b'{}'), False),
        (fuzzing.Sent('POST', '/v2/images', {'Content-Length': 'x'}),
         raw('POST', '/v2/images', [b'Content-Length: x'], b'{}'), False),
        (fuzzing.Sent('GET', '/v2/images/\x00'),
         b'GET /v2/images/\x00 HTTP/1.1\r\nHost: x\r\n\r\n', False),
        (fuzzing.Sent('GET', '/v1/images'),
         raw('GET', '/v1/images', [b'x-image-meta-size: \xff']), False),
        (fuzzing.Sent('GET', '/v2/images'),
         raw('GET', '/v2/images', [b'X-Long: ' + b'a' * 70000]), False),
        (fuzzing.Sent('POST', '/v2/images', {'Transfer-Encoding': 'bogus'}),
         raw('POST', '/v2/images', [b'Transfer-Encoding: bogus',
                                    b'Content-Type: application/json'],
             b'{}'), False),
        (fuzzing.Sent('GET', '/v2/images', http_version='9.9'),
         b'GET /v2/images HTTP/9.9\r\nHost: x\r\n\r\n', False),
        (fuzzing.Sent('GET', '/v2/images'), b'\r\n\r\n', False),
        (fuzzing.Sent('GET', '/v2/images'), b'GARBAGE\r\n\r\n', False),
    ]


def send_raw(port, data, half_close):
    """The status of the first answer (None: closed without one)."""
    with socket.create_connection(('127.0.0.1', port),
                                  timeout=ANSWER_TIMEOUT) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b''
        while b'\r\n' not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    parts = answer.split(b' ', 2)
    if len(parts) > 1 and parts[0].startswith(b'HTTP/') and \
            parts[1].isdigit():
        return int(parts[1])
    return None


# --- the test ----------------------------------------------------------------

def test_fuzz_every_route(fuzz_api, web_server):
    rng = random.Random(SEED)
    routes = served_routes()
    seeds = fuzzing.Seeds(fuzz_api)
    seeds.make()
    templates = json_templates(seeds)
    workers_before = fuzz_api.group_pids()
    log_start = len(fuzz_api.log())
    tally = fuzzing.Tally()
    client = Client(fuzz_api.port)
    started = time.monotonic()
    slowest = []

    for number in range(REQUESTS):
        if number and number % RESEED_EVERY == 0:
            seeds.make()
        # Every route in turn first, then at random.
        route = routes[number] if number < len(routes) else \
            rng.choice(routes)
        sent = build_request(rng, route, seeds, templates, web_server,
                             fuzz_api.flavor == 'trusted')
        sent_at = time.monotonic()
        try:
            status = client.send(sent, rng)
        except (OSError, http.client.HTTPException) as error:
            tally.no_answer(sent, error, route)
        else:
            tally.answer(sent, status, route)
        slowest.append((time.monotonic() - sent_at, sent.describe()[:300]))

    for sent, data, half_close in raw_requests(seeds):
        try:
            status = send_raw(fuzz_api.port, data, half_close)
        except OSError as error:
            tally.no_answer(sent, error)
        else:
            if status is None:  # closed without an HTTP answer: fine
                tally.requests += 1
            else:
                tally.answer(sent, status)
    client.close()
    elapsed = time.monotonic() - started
    print(f'fuzz ({fuzz_api.flavor} flavor, seed {SEED}): '
          f'{tally.summary()} in {elapsed:.1f} s')
    for took, what in sorted(slowest)[-3:]:
        print('slowest: %.2f s %s' % (took, what))

    # Alive, and still the same processes (no worker died and was
    # replaced).
    response = requests.get(fuzz_api.url + '/versions', timeout=10)
    assert response.status_code == 200
    assert fuzz_api.group_pids() == workers_before
    assert tally.routes == set(routes)
    tally.check(fuzz_api.log()[log_start:])
