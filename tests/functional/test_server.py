"""The glance-api server (glance.common.server.Server) in real processes.

Each test starts server_app.py (or glance-api itself) in a subprocess of
its own session, listening on 127.0.0.1 on a free port with its own
configuration file, and kills the whole process group in the teardown.
"""
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from tests.functional.process import ServerProcess
from tests.functional.process import answers
from tests.functional.process import child_pids
from tests.helpers import REPO
from tests.helpers import free_port
from tests.helpers import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, 'server_app.py')
# Generous: every wait below normally ends in well under a second.
TIMEOUT = 20
# webob's 500, without an Accept header (plain text).
UPSTREAM_500_BODY = ('500 Internal Server Error\n\nThe server has either '
                     'erred or is incapable of performing the requested '
                     'operation.\n\n   ')


class Server(ServerProcess):
    """A server subprocess with its configuration file."""

    def __init__(self, directory, command, workers, greeting, port, env):
        directory.mkdir()
        self.directory = directory
        self.port = port or free_port()
        self.config_file = directory / 'server.conf'
        self.write_config(workers, greeting)
        server_env = dict(os.environ,
                          PYTHONPATH=os.pathsep.join([REPO, HERE]))
        server_env.pop('NOTIFY_SOCKET', None)
        server_env.update(env or {})
        super().__init__(
            command + ['--config-file', str(self.config_file)],
            directory / 'server.log', env=server_env, cwd=directory,
            name='the server', start_timeout=TIMEOUT,
            ready=lambda: answers(self.port, '/pid', timeout=2))

    def write_config(self, workers, greeting):
        self.config_file.write_text(
            '[DEFAULT]\n'
            'bind_host = 127.0.0.1\n'
            f'bind_port = {self.port}\n'
            f'workers = {workers}\n'
            f'state_path = {self.directory}\n'
            '[paste_deploy]\n'
            f'config_file = {self.directory / "paste.ini"}\n'
            '[test_app]\n'
            f'greeting = {greeting}\n')

    def get(self, path, timeout=TIMEOUT):
        """(status, body) of a GET on a new connection."""
        connection = http.client.HTTPConnection(
            '127.0.0.1', self.port, timeout=timeout)
        try:
            connection.request('GET', path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def wait_for_workers(self, count):
        return wait_for(
            lambda: (pids := child_pids(self.pid)) and len(pids) == count
            and pids, f'{count} workers')

    def refuses_connections(self):
        try:
            socket.create_connection(('127.0.0.1', self.port), timeout=2)\
                .close()
        except ConnectionRefusedError:
            return True
        return False


@pytest.fixture
def start_server(tmp_path):
    """start_server(workers, ...) -> a started Server, of
    server_app.py unless `command` says otherwise. `paste_app` writes a
    paste file whose glance-api application is server_app's."""
    servers = []

    def start(workers, greeting='hello', port=None, env=None,
              command=(sys.executable, LAUNCHER), paste_app=False):
        server = Server(tmp_path / f'server{len(servers)}', list(command),
                        workers, greeting, port, env)
        servers.append(server)
        if paste_app:
            (server.directory / 'paste.ini').write_text(
                '[app:glance-api]\n'
                'paste.app_factory = server_app:app_factory\n')
        return server.spawn()

    yield start
    for server in servers:
        server.kill()
        # Shown by pytest when the test failed.
        print(f'--- log of {server.command}:\n{server.log()}')


def test_workers_serve_the_requests(start_server):
    server = start_server(workers=2)
    server.wait_until_ready()
    workers = server.wait_for_workers(2)

    served_by = {int(server.get('/pid')[1]) for _ in range(20)}

    assert served_by <= workers
    assert server.pid not in served_by


def test_chunked_request_body_arrives_intact(start_server):
    server = start_server(workers=1)
    server.wait_until_ready()
    data = os.urandom(300_000)
    # Uneven pieces, each sent as one chunk.
    sizes = [1, 10, 65_536, 7, 100_000]
    pieces, offset = [], 0
    for size in sizes + [len(data) - sum(sizes)]:
        pieces.append(data[offset:offset + size])
        offset += size

    connection = http.client.HTTPConnection(
        '127.0.0.1', server.port, timeout=TIMEOUT)
    try:
        # An iterable body of unknown length is sent chunked.
        connection.request('POST', '/echo', body=iter(pieces))
        response = connection.getresponse()
        answer = response.read().decode()
    finally:
        connection.close()

    assert response.status == 200
    assert answer == (f'{len(data)} {hashlib.sha256(data).hexdigest()} '
                      'chunked')


def test_sigterm_finishes_the_request_in_progress(start_server, tmp_path):
    server = start_server(workers=1)
    server.wait_until_ready()
    marker = tmp_path / 'slow-request-started'
    result = {}

    def slow_request():
        result['answer'] = server.get(f'/slow?seconds=3&marker={marker}')

    client = threading.Thread(target=slow_request, daemon=True)
    client.start()
    wait_for(marker.exists, 'the slow request to start')

    os.kill(server.pid, signal.SIGTERM)

    # New connections are refused at once, while the request goes on.
    wait_for(server.refuses_connections, 'connections to be refused',
             timeout=2.5)
    assert client.is_alive()
    client.join(TIMEOUT)
    assert result.get('answer') == (200, 'done')
    assert server.process.wait(timeout=TIMEOUT) == 0
    wait_for(lambda: not server.group_alive(), 'the workers to exit')


def test_sighup_reloads_and_replaces_the_workers(start_server):
    server = start_server(workers=2, greeting='hello')
    server.wait_until_ready()
    old_workers = server.wait_for_workers(2)
    assert server.get('/greeting') == (200, 'hello')

    # A client keeps sending requests throughout the reload: none may fail.
    answers, errors = [], []
    reloading = threading.Event()

    def busy_client():
        while not reloading.is_set():
            try:
                answers.append(server.get('/greeting', timeout=5))
            except (OSError, http.client.HTTPException) as error:
                errors.append(error)

    client = threading.Thread(target=busy_client, daemon=True)
    client.start()
    try:
        server.write_config(workers=2, greeting='bonjour')
        os.kill(server.pid, signal.SIGHUP)

        wait_for(lambda: server.get('/greeting') == (200, 'bonjour'),
                 'the new greeting')
        new_workers = wait_for(
            lambda: (pids := child_pids(server.pid)) and len(pids) == 2
            and not pids & old_workers and pids, 'two new workers')
    finally:
        reloading.set()
        client.join(TIMEOUT)

    assert errors == []
    assert set(answers) <= {(200, 'hello'), (200, 'bonjour')}
    assert server.process.poll() is None
    assert {int(server.get('/pid')[1]) for _ in range(10)} <= new_workers


def test_a_killed_worker_is_replaced(start_server):
    server = start_server(workers=2)
    server.wait_until_ready()
    workers = server.wait_for_workers(2)
    victim = min(workers)

    os.kill(victim, signal.SIGKILL)

    new_workers = wait_for(
        lambda: (pids := child_pids(server.pid)) and len(pids) == 2
        and victim not in pids and pids, 'a replacement worker')
    assert len(new_workers - workers) == 1
    assert server.get('/pid')[0] == 200
    assert 'exited unexpectedly (killed by SIGKILL)' in server.log()


def test_systemd_is_told_when_the_server_is_ready(start_server):
    # An abstract socket name (leading '@'), as systemd uses.
    name = f'@glance-test-notify-{os.getpid()}-{free_port()}'
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify_socket:
        notify_socket.bind('\0' + name[1:])
        notify_socket.settimeout(TIMEOUT)
        server = start_server(workers=2, env={'NOTIFY_SOCKET': name})

        assert notify_socket.recv(256) == b'READY=1'
        # Sent once the socket listens: a connection is accepted at once.
        socket.create_connection(('127.0.0.1', server.port), timeout=2)\
            .close()
        assert server.get('/pid')[0] == 200

        os.kill(server.pid, signal.SIGTERM)
        assert notify_socket.recv(256) == b'STOPPING=1'
        assert server.process.wait(timeout=TIMEOUT) == 0


def test_systemd_notify_to_a_socket_path(tmp_path, monkeypatch):
    from glance.common import systemd

    path = str(tmp_path / 'notify')
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify_socket:
        notify_socket.bind(path)
        notify_socket.settimeout(TIMEOUT)
        monkeypatch.setenv('NOTIFY_SOCKET', path)
        assert systemd.notify('READY=1') is True
        assert notify_socket.recv(256) == b'READY=1'

    monkeypatch.delenv('NOTIFY_SOCKET')
    assert systemd.notify('READY=1') is False


def test_zero_workers_serve_in_process(start_server):
    server = start_server(workers=0, greeting='hello')
    server.wait_until_ready()

    assert server.get('/pid') == (200, str(server.pid))
    assert child_pids(server.pid) == set()
    # The traceback goes to the log at ERROR, not to the client, which
    # gets webob's 500 as from upstream.
    status, body = server.get('/boom')
    assert (status, body) == (500, UPSTREAM_500_BODY)
    log = server.log()
    assert ' ERROR glance.common.server Unexpected error answering GET ' \
        '/boom\nTraceback (most recent call last):' in log
    assert 'RuntimeError: boom' in log

    server.write_config(workers=0, greeting='bonjour')
    os.kill(server.pid, signal.SIGHUP)
    wait_for(lambda: server.get('/greeting') == (200, 'bonjour'),
             'the new greeting')
    assert server.get('/pid') == (200, str(server.pid))

    os.kill(server.pid, signal.SIGTERM)
    assert server.process.wait(timeout=TIMEOUT) == 0


def test_a_port_in_use_stops_the_start(start_server):
    with socket.socket() as squatter:
        squatter.bind(('127.0.0.1', 0))
        squatter.listen()
        server = start_server(workers=1, port=squatter.getsockname()[1])

        assert server.process.wait(timeout=TIMEOUT) == 1
    assert 'Unable to listen on 127.0.0.1 port' in server.log()
    assert 'Address already in use' in server.log()


# -- the glance-api command itself, with the tiny application in paste -----

# What the glance-api console script runs.
GLANCE_API = (sys.executable, '-c', 'from glance.cmd.api import main; main()')


def test_glance_api_serves_reloads_and_stops(start_server):
    server = start_server(workers=1, command=GLANCE_API, paste_app=True)
    server.wait_until_ready()
    old_workers = server.wait_for_workers(1)
    assert server.get('/greeting') == (200, 'hello')

    server.write_config(workers=1, greeting='bonjour')
    os.kill(server.pid, signal.SIGHUP)
    wait_for(lambda: server.get('/greeting') == (200, 'bonjour'),
             'the new greeting')
    assert not server.wait_for_workers(1) & old_workers

    os.kill(server.pid, signal.SIGTERM)
    assert server.process.wait(timeout=TIMEOUT) == 0


@pytest.mark.parametrize('problem', ['no paste file', 'port in use',
                                     'missing config file'])
def test_glance_api_start_up_errors_are_one_line(start_server, problem):
    command = list(GLANCE_API)
    if problem == 'missing config file':
        command += ['--config-file', '/nonexistent/glance-api.conf']
    with socket.socket() as squatter:
        squatter.bind(('127.0.0.1', 0))
        squatter.listen()
        server = start_server(
            workers=1, command=command,
            port=squatter.getsockname()[1] if problem == 'port in use'
            else None,
            paste_app=problem != 'no paste file')

        assert server.process.wait(timeout=TIMEOUT) == 1
    output = server.log().strip()
    assert 'Traceback' not in output
    assert output.startswith('glance-api: ERROR: ')
    assert len(output.splitlines()) == 1, output


def test_wsgi_application_for_external_servers(tmp_path):
    """glance.wsgi.api builds the application from OS_GLANCE_CONFIG_DIR,
    without loading eventlet."""
    (tmp_path / 'glance-api.conf').write_text(
        f'[DEFAULT]\nstate_path = {tmp_path}\n'
        '[test_app]\ngreeting = from the config dir\n')
    (tmp_path / 'glance-api-paste.ini').write_text(
        '[app:glance-api]\npaste.app_factory = server_app:app_factory\n')
    script = (
        'import sys, wsgiref.util\n'
        'from glance.wsgi.api import application\n'
        'environ = {"PATH_INFO": "/greeting"}\n'
        'wsgiref.util.setup_testing_defaults(environ)\n'
        'body = application(environ, lambda status, headers: None)\n'
        'print(b"".join(body).decode())\n'
        'print("eventlet" in sys.modules)\n')
    env = dict(os.environ, OS_GLANCE_CONFIG_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join([REPO, HERE]))

    result = subprocess.run(
        [sys.executable, '-c', script], check=False, env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=TIMEOUT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['from the config dir', 'False']
