"""Malformed requests on the wire (issue 12): each gets a 4xx, and the
one worker that answered it serves the next request.

Under each server of test_wsgi_servers.py (the glance-api daemon, uwsgi,
gunicorn), each with one worker: a body shorter than its Content-Length
followed by a half-close (a JSON create, an image upload), a path that is
not UTF-8, JSON nested 100,000 deep, a lone surrogate, a body where none is
expected, an integer no column holds. After each, the server's worker
processes are the same ones, and they answer.

The same requests against the application itself, and many more cases:
tests/unit/test_malformed_requests.py.
"""
import json
import os
import socket
import time

import pytest
import requests

from tests.functional.daemon import GlanceApi
from tests.functional.process import child_pids
from tests.functional.process import serving
from tests.functional.test_wsgi_servers import SERVER_ERROR
from tests.functional.test_wsgi_servers import SERVERS
from tests.functional.test_wsgi_servers import create_image
from tests.functional.test_wsgi_servers import show

TIMEOUT = 60
NO_BODY = b'A body is not expected with this request.'
DECODING_ERROR = b'Error decoding your request.'


def one_worker(command):
    """A server's command line with one worker process."""
    command = list(command)
    for option in ('--processes', '--workers'):
        if option in command:
            command[command.index(option) + 1] = '1'
    return command


@pytest.fixture(scope='module', params=sorted(SERVERS))
def server(request, tmp_path_factory):
    command = SERVERS[request.param]
    if command and not os.access(command[0], os.X_OK):
        pytest.skip(f'{request.param} is not installed')
    with serving(GlanceApi(tmp_path_factory.mktemp(request.param),
                           workers=1,
                           wsgi_server=command and one_worker(command)),
                 request.param) as api:
        yield api


@pytest.fixture(autouse=True)
def _no_server_errors(server):
    start = len(server.log())
    yield
    new = server.log()[start:]
    errors = [line for line in new.splitlines() if SERVER_ERROR.search(line)]
    assert not errors, 'the server failed:\n' + new


def exchange(server, request_bytes, half_close=True):
    """Send raw bytes, close the sending side (or not), and return the
    whole answer the server sends until it closes."""
    with socket.create_connection(('127.0.0.1', server.port),
                                  timeout=TIMEOUT) as sock:
        sock.sendall(request_bytes)
        if half_close:
            time.sleep(0.2)
            sock.shutdown(socket.SHUT_WR)
        answer = b''
        try:
            while received := sock.recv(65536):
                answer += received
        except ConnectionResetError:
            pass
    return answer


def status_of(answer):
    status_line = answer.split(b'\r\n', 1)[0].split()
    return int(status_line[1]) if len(status_line) > 1 else None


def head(method, path, *headers):
    lines = [f'{method} {path} HTTP/1.1', 'Host: 127.0.0.1', *headers]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


def assert_still_serving(server, workers):
    assert child_pids(server.pid) == workers
    response = requests.get(server.url + '/v2/images', timeout=TIMEOUT)
    assert response.status_code == 200, response.text


def test_a_json_body_cut_short(server):
    workers = child_pids(server.pid)
    body = b'{"name": "cut-short", "disk_format": "raw"'

    answer = exchange(server, head(
        'POST', '/v2/images', 'Content-Type: application/json',
        f'Content-Length: {len(body) + 100}') + body)

    assert status_of(answer) == 400, answer
    assert_still_serving(server, workers)
    listed = requests.get(server.url + '/v2/images?name=cut-short',
                          timeout=TIMEOUT).json()['images']
    assert listed == []


def test_image_data_cut_short(server):
    image_id = create_image(server)
    workers = child_pids(server.pid)
    data = b'x' * 10000

    answer = exchange(server, head(
        'PUT', f'/v2/images/{image_id}/file',
        'Content-Type: application/octet-stream',
        f'Content-Length: {len(data) + 100}') + data)

    assert status_of(answer) == 400, answer
    assert_still_serving(server, workers)
    image = show(server, image_id)
    assert (image['status'], image['size']) == ('queued', None)


@pytest.mark.parametrize('path', ['/v2/images/%FF', '/v1/images/%FF',
                                  '/%C3'])
def test_a_path_that_is_not_utf8(server, path):
    workers = child_pids(server.pid)

    answer = exchange(server, head('GET', path, 'Connection: close'),
                      half_close=False)

    assert status_of(answer) == 400, answer
    assert DECODING_ERROR in answer
    assert_still_serving(server, workers)


@pytest.mark.parametrize('body, message', [
    (b'{"name": ' + b'[' * 100000 + b']' * 100000 + b'}',
     b'nested deeper than 64 levels'),
    (b'{"name": "\\ud800"}', DECODING_ERROR),
    (b'{"min_ram": %d}' % 2 ** 63,
     b'value out of range, must not exceed 2147483647.'),
], ids=['deep', 'surrogate', 'integer'])
def test_a_malformed_json_create(server, body, message):
    workers = child_pids(server.pid)

    response = requests.post(server.url + '/v2/images', data=body,
                             headers={'Content-Type': 'application/json'},
                             timeout=TIMEOUT)

    assert response.status_code == 400, response.text
    assert message in response.content
    assert_still_serving(server, workers)


def test_a_body_where_none_is_expected(server):
    image_id = create_image(server)
    workers = child_pids(server.pid)

    response = requests.get(f'{server.url}/v2/images/{image_id}/members',
                            data=json.dumps({}),
                            headers={'Content-Type': 'application/json'},
                            timeout=TIMEOUT)

    assert response.status_code == 400, response.text
    assert NO_BODY in response.content
    assert_still_serving(server, workers)
