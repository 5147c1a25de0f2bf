"""The access lines of the glance-api daemon: one a request, with its
request id, and a log level that drops them."""
import socket
import struct

import requests

from tests.functional import daemon
from tests.helpers import create_image
from tests.helpers import wait_for


def access_lines(api):
    return [line for line in api.log().splitlines()
            if ' glance.wsgi.server ' in line]


def test_each_request_has_an_access_line_with_its_request_id(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1)
    with api:
        response = requests.get(api.url + '/v2/images?limit=3', timeout=20)
        request_id = response.headers['x-openstack-request-id']
        [line] = wait_for(lambda: [
            line for line in access_lines(api) if request_id in line])
    assert ' INFO glance.wsgi.server [' in line
    assert '"GET /v2/images?limit=3 HTTP/1.1" 200 ' in line


def test_access_lines_can_be_dropped_by_their_log_level(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1, extra_config=(
        '[DEFAULT]\ndefault_log_levels = glance.wsgi.server=WARN\n'))
    with api:
        for _ in range(3):
            assert requests.get(api.url + '/v2/images',
                                timeout=20).status_code == 200
    assert 'Listening on 127.0.0.1' in api.log()
    assert access_lines(api) == []


def test_a_client_that_goes_away_mid_answer_is_one_line(tmp_path):
    """Not a traceback: the client's doing, not a failure of the server."""
    api = daemon.GlanceApi(tmp_path, workers=1)
    with api:
        for _ in range(3):
            create_image(api)
        # The list, pipelined many times over, and the connection reset
        # once the first answer starts: the rest meet a closed socket.
        request = (b'GET /v2/images?limit=3 HTTP/1.1\r\nHost: x\r\n\r\n'
                   * 2000)
        for _ in range(3):
            with socket.create_connection(('127.0.0.1', api.port)) as sock:
                sock.sendall(request)
                sock.recv(1024)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack('ii', 1, 0))
        wait_for(lambda: 'closed the connection before its answer'
                 in api.log(), 'the line about the client')
        assert requests.get(api.url + '/v2/images',
                            timeout=20).status_code == 200
    assert 'Traceback' not in api.log()
