"""The image API under each server the README documents, started for
real with the documented command lines: glance.wsgi.api:application under
uwsgi and gunicorn, and the glance-api daemon.

Uploads from the `glance` CLI (always chunked), openstacksdk (sized from a
file, chunked from an iterator) and curl (sized and chunked) arrive whole:
the downloaded bytes, `checksum` (md5) and `os_hash_value` match what was
sent. A body that ends short of what its framing promised never leaves an
image active. A slow upload, with a stall longer than uwsgi's default
socket timeout, outlasts gunicorn's worker timeout.
"""
import hashlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.functional.test_tasks import SlowHandler
from tests.functional.test_tasks import import_input
from tests.helpers import Glance
from tests.helpers import WebServer
from tests.helpers import wait_for

openstack = pytest.importorskip('openstack')

BIN = os.path.dirname(sys.executable)
UWSGI = os.path.join(BIN, 'uwsgi')
GUNICORN = os.path.join(BIN, 'gunicorn')
MiB = 1024 * 1024
TIMEOUT = 60
# gunicorn's worker timeout here: the slow upload lasts longer.
WORKER_TIMEOUT = 3

# The documented command lines, on a free port of 127.0.0.1 (glance-api:
# the daemon, as tests/functional/daemon.py runs it).
SERVERS = {
    'glance-api': None,
    'uwsgi': [
        UWSGI, '--http-socket', '127.0.0.1:{port}',
        '--module', 'glance.wsgi.api:application', '--need-app',
        '--master', '--processes', '2', '--threads', '2', '--die-on-term',
        # A worker still there 10 s after the stop is killed by the master
        # (rarely one lingers; by default the master waits 60 s).
        '--worker-reload-mercy', '10',
        # upstream's flags (they serve uwsgi's --http router)
        '--http-chunked-input', '--http-auto-chunked', '--http-raw-body',
        # --http-socket closes every connection after one answer: say so,
        # or clients send their next request on a closed connection.
        '--add-header', 'Connection: close',
        # The largest chunk of a chunked body (glanceclient sends 1 MiB,
        # one more than the default allows with its framing).
        '--chunked-input-limit', str(16 * MiB),
        # How long a read of the body may wait (default 4 s).
        '--socket-timeout', '30',
    ],
    'gunicorn': [
        GUNICORN, '--bind', '127.0.0.1:{port}', '--workers', '2',
        # Threads: a worker keeps telling the master it is alive while a
        # request takes longer than --timeout (a sync worker is killed).
        '--worker-class', 'gthread', '--threads', '4',
        '--timeout', str(WORKER_TIMEOUT),
        # v1 clients send x-image-meta-disk_format and the like: names
        # with underscores, which gunicorn drops by default.
        '--header-map', 'dangerous',
        'glance.wsgi.api:application',
    ],
}
# A request that failed on the server's side, in the server's log.
SERVER_ERROR = re.compile(r'Traceback|HTTP/1\.[01] 5\d\d\)|Error handling')

DATA = os.urandom(5 * MiB + 3)  # more than one 4 MiB read of the body
# The import task's source is served on loopback by the test.
LOOPBACK_SOURCES = ('[import_filtering_opts]\nallowed_hosts = [127.0.0.1]\n'
                    'allowed_ports = []\n')


@pytest.fixture(scope='module', params=sorted(SERVERS))
def server(request, tmp_path_factory):
    """glance.wsgi.api under one of the servers, for this module's tests;
    its log is printed when done."""
    command = SERVERS[request.param]
    if command and not os.access(command[0], os.X_OK):
        pytest.skip(f'{request.param} is not installed')
    with serving(GlanceApi(tmp_path_factory.mktemp(request.param),
                           extra_config=LOOPBACK_SOURCES,
                           wsgi_server=command), request.param) as api:
        yield api


@pytest.fixture(autouse=True)
def _no_server_errors(server):
    start = len(server.log())
    yield
    new = server.log()[start:]
    errors = [line for line in new.splitlines() if SERVER_ERROR.search(line)]
    assert not errors, 'the server failed:\n' + new


@pytest.fixture(scope='module')
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('data') / 'image.raw'
    path.write_bytes(DATA)
    return path


@pytest.fixture(scope='module')
def conn(server):
    connection = openstack.connect(
        auth_type='none', image_endpoint_override=server.url,
        load_yaml_config=False, load_envvars=False, api_timeout=TIMEOUT)
    yield connection
    connection.close()


def unique():
    return 'wsgi-' + uuid.uuid4().hex[:12]


def create_image(server, **fields):
    response = requests.post(
        server.url + '/v2/images', timeout=TIMEOUT,
        json={'name': unique(), 'disk_format': 'raw',
              'container_format': 'bare', **fields})
    assert response.status_code == 201, response.text
    return response.json()['id']


def show(server, image_id):
    response = requests.get(f'{server.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def assert_holds(server, image_id, data):
    """The image is active with exactly `data`: size, md5, multihash and
    the bytes downloaded."""
    image = show(server, image_id)
    assert image['status'] == 'active'
    assert image['size'] == len(data)
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert image['os_hash_value'] == hashlib.new(
        image['os_hash_algo'], data).hexdigest()
    response = requests.get(f'{server.url}/v2/images/{image_id}/file',
                            timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content == data


def pieces(data, size):
    for start in range(0, len(data), size):
        yield data[start:start + size]


# -- the glance CLI ----------------------------------------------------------

def test_glance_cli_uploads_chunked(server, data_file, tmp_path):
    glance = Glance(server, tmp_path / 'home')
    created = glance.create(unique(), '--file', str(data_file))
    assert created['status'] == 'active'
    assert_holds(server, created['id'], DATA)
    # The client checks the md5 of what it downloads.
    downloaded = tmp_path / 'downloaded.raw'
    glance.run('image-download', '--file', str(downloaded), created['id'])
    assert downloaded.read_bytes() == DATA


# -- openstacksdk ------------------------------------------------------------

def test_openstacksdk_uploads_sized_from_a_file(conn, server, data_file):
    # Twice on the same connections: the second upload, like every call
    # after an upload, must not meet a connection the server closed.
    for _ in range(2):
        image = conn.create_image(
            unique(), filename=str(data_file), disk_format='raw',
            container_format='bare', wait=True, timeout=TIMEOUT,
            validate_checksum=True)
        assert conn.image.get_image(image.id).status == 'active'
        assert_holds(server, image.id, DATA)
        assert b''.join(conn.image.download_image(
            image, stream=True).iter_content(MiB)) == DATA


def test_openstacksdk_uploads_chunked_from_an_iterator(conn, server):
    image = conn.image.create_image(
        name=unique(), disk_format='raw', container_format='bare',
        data=pieces(DATA, 300 * 1024))
    assert conn.image.get_image(image.id).status == 'active'
    assert_holds(server, image.id, DATA)


# -- curl --------------------------------------------------------------------

@pytest.mark.skipif(shutil.which('curl') is None, reason='no curl')
@pytest.mark.parametrize('how', [
    ['--data-binary', '@{file}', '-X', 'PUT'],
    ['-T', '{file}', '-H', 'Transfer-Encoding: chunked'],
], ids=['sized', 'chunked'])
def test_curl_uploads(server, data_file, how):
    image_id = create_image(server)
    result = subprocess.run(
        ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}',
         '-H', 'Content-Type: application/octet-stream',
         *[arg.format(file=data_file) for arg in how],
         f'{server.url}/v2/images/{image_id}/file'],
        capture_output=True, text=True, timeout=TIMEOUT)
    assert result.stdout == '204', result.stderr
    assert_holds(server, image_id, DATA)


def test_a_chunked_v1_upload(server):
    response = requests.post(
        server.url + '/v1/images', data=pieces(DATA, 100 * 1024),
        headers={'Content-Type': 'application/octet-stream',
                 'x-image-meta-name': unique(),
                 'x-image-meta-disk_format': 'raw',
                 'x-image-meta-container_format': 'bare'},
        timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    assert_holds(server, response.json()['image']['id'], DATA)


def test_a_chunked_json_body(server):
    name = unique()
    document = ('{"name": "%s", "disk_format": "raw", '
                '"container_format": "bare"}' % name).encode()
    response = requests.post(
        server.url + '/v2/images', data=pieces(document, 10),
        headers={'Content-Type': 'application/json'}, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    assert response.json()['name'] == name


# -- bodies cut short --------------------------------------------------------

def send_raw(server, head, body):
    """Send a request's head and body, close the sending side, and return
    the status of the answer (None if the server just closed)."""
    with socket.create_connection(('127.0.0.1', server.port),
                                  timeout=TIMEOUT) as sock:
        sock.sendall(head + body)
        time.sleep(0.2)
        sock.shutdown(socket.SHUT_WR)
        answer = b''
        try:
            while b'\r\n' not in answer:
                received = sock.recv(4096)
                if not received:
                    break
                answer += received
        except ConnectionResetError:
            pass
    status_line = answer.split(b'\r\n', 1)[0].split()
    return int(status_line[1]) if len(status_line) > 1 else None


def put_head(image_id, *headers):
    lines = [f'PUT /v2/images/{image_id}/file HTTP/1.1', 'Host: 127.0.0.1',
             'Content-Type: application/octet-stream', *headers]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


def chunk(data):
    return b'%x\r\n' % len(data) + data + b'\r\n'


@pytest.mark.parametrize('framing', ['sized', 'chunked', 'mid-chunk'])
def test_a_body_cut_short_leaves_the_image_queued(server, framing):
    data = DATA[:100000]
    image_id = create_image(server)
    if framing == 'sized':
        head = put_head(image_id, f'Content-Length: {len(data) + 1000}')
        body = data
    else:
        head = put_head(image_id, 'Transfer-Encoding: chunked')
        # No last chunk; or a chunk that promises more than it holds.
        body = chunk(data) if framing == 'chunked' else (
            b'%x\r\n' % (len(data) + 1000) + data)

    status = send_raw(server, head, body)

    assert status is None or 400 <= status < 500, status
    image = show(server, image_id)
    assert image['status'] == 'queued'
    assert image['size'] is None


def test_a_malformed_chunk_size_is_refused(server):
    if server.wsgi_server and server.wsgi_server[0] == UWSGI:
        pytest.xfail('uwsgi takes a chunk size that is not hex for the '
                     'last chunk: the body ends there, empty')
    image_id = create_image(server)
    status = send_raw(server, put_head(image_id, 'Transfer-Encoding: chunked'),
                      b'zz\r\n' + DATA[:1000] + b'\r\n0\r\n\r\n')
    assert status == 400
    assert show(server, image_id)['status'] == 'queued'


def test_chunked_with_a_content_length_stores_the_data(server):
    """Transfer-Encoding wins over a Content-Length sent with it (uwsgi
    passes both on): the data is stored without the chunks' framing, or
    the request is refused."""
    data = DATA[:1000]
    image_id = create_image(server)
    status = send_raw(server, put_head(image_id, 'Transfer-Encoding: chunked',
                                       f'Content-Length: {len(data)}'),
                      chunk(data) + b'0\r\n\r\n')
    if status == 204:
        assert_holds(server, image_id, data)
    else:
        assert status == 400
        assert show(server, image_id)['status'] == 'queued'


# -- slow uploads ------------------------------------------------------------

def trickle(data, pieces_count=16, pause=0.1, stall=5):
    """The data in pieces, a pause after each, and one stall in the
    middle longer than uwsgi's default socket timeout (4 s): in all longer
    than gunicorn's worker timeout here."""
    size = -(-len(data) // pieces_count)
    for index, piece in enumerate(pieces(data, size)):
        yield piece
        time.sleep(stall if index == pieces_count // 2 else pause)


def slow_upload(server, image_id, data, sized, outcome):
    connection = http.client.HTTPConnection('127.0.0.1', server.port,
                                            timeout=TIMEOUT)
    headers = {'Content-Type': 'application/octet-stream'}
    if sized:
        headers['Content-Length'] = str(len(data))
    try:
        connection.request('PUT', f'/v2/images/{image_id}/file',
                           body=trickle(data), headers=headers,
                           encode_chunked=not sized)
        response = connection.getresponse()
        outcome[sized] = (response.status, response.read())
    except Exception as error:
        outcome[sized] = error
    finally:
        connection.close()


def test_a_slow_upload_outlasts_the_timeouts(server):
    data = DATA[:2 * MiB]
    images = {sized: create_image(server) for sized in (True, False)}
    outcome = {}
    started = time.monotonic()
    # Sized and chunked side by side: one wait for both.
    threads = [threading.Thread(target=slow_upload,
                                args=(server, images[sized], data, sized,
                                      outcome))
               for sized in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)

    assert time.monotonic() - started > WORKER_TIMEOUT + 2
    for sized in (True, False):
        assert outcome[sized] == (204, b''), outcome
        assert_holds(server, images[sized], data)


# -- stopping: last, as each server's tests run in this file's order --------

def test_an_import_task_runs_beside_the_requests(server):
    """The legacy import task runs in the worker (a green thread of the
    daemon, a thread under uwsgi and gunicorn) while requests go on."""
    source = WebServer(handler=SlowHandler)
    source.server.size, source.server.pause = 4 * MiB, 0.03
    source.server.started = []
    source.start()
    try:
        response = requests.post(f'{server.url}/v2/tasks', json={
            'type': 'import',
            'input': import_input(source.url + '/slow.raw')},
            timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        task_id = response.json()['id']
        wait_for(lambda: source.server.started, 'the fetch to start')
        began = time.monotonic()
        task = requests.get(f'{server.url}/v2/tasks/{task_id}',
                            timeout=TIMEOUT).json()
        assert time.monotonic() - began < 1
        assert task['status'] == 'processing'

        def ended():
            found = requests.get(f'{server.url}/v2/tasks/{task_id}',
                                 timeout=TIMEOUT).json()
            return found['status'] != 'processing' and found
        task = wait_for(ended, 'the task to end', timeout=TIMEOUT)
    finally:
        source.stop()
    assert task['status'] == 'success', task
    image = show(server, task['result']['image_id'])
    assert (image['status'], image['size']) == ('active', 4 * MiB)


def test_sigterm_stops_the_server_after_uploads(server):
    """SIGTERM stops the server and its workers (which have uploaded on
    threads) within the launcher's patience, without a SIGKILL."""
    image_id = create_image(server)
    response = requests.put(
        f'{server.url}/v2/images/{image_id}/file', data=DATA,
        headers={'Content-Type': 'application/octet-stream'},
        timeout=TIMEOUT)
    assert response.status_code == 204

    assert server.stop() == 0, server.log()[-3000:]

