"""The real glance-api daemon in a subprocess, for functional tests.

    with GlanceApi(tmp_dir, extra_config='...') as api:
        requests.get(api.url + '/v2/images')

GlanceApi writes a configuration file of its own (127.0.0.1, a free port,
`workers` worker processes, an SQLite file and a filesystem store under the
directory given), starts the glance-api console script of the test
interpreter's virtualenv in a session of its own, waits until GET / answers,
and stops it by PID: SIGTERM, then SIGKILL of its process group when it is
slow to go. `extra_config` is appended to the configuration (oslo.config
merges repeated sections), e.g. '[paste_deploy]\\nflavor = keystone\\n...'
for a keystone variant.

With `wsgi_server`, the command line of a WSGI server (uwsgi, gunicorn)
serving glance.wsgi.api:application, with {port} where the port goes, that
server runs instead of glance-api, on the same configuration (found through
OS_GLANCE_CONFIG_DIR); `workers` is then the server's business.
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PASTE_FILE = os.path.join(REPO, 'etc', 'glance-api-paste.ini')
# Generous: the start and the stop normally take about a second.
START_TIMEOUT = 30
STOP_TIMEOUT = 15
# What glance-api (and uwsgi), and gunicorn, say when the port is taken.
PORT_TAKEN_MESSAGES = ('Address already in use', 'Connection in use')


def glance_api_command():
    """The glance-api console script beside the test interpreter (the same
    virtualenv), else the same entry point through the interpreter."""
    script = os.path.join(os.path.dirname(sys.executable), 'glance-api')
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, '-c', 'from glance.cmd.api import main; main()']


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def live_processes():
    """(pid, parent pid, process group) of every live, not zombie,
    process."""
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as stat:
                # "pid (command) state ppid pgrp ...": the command may
                # hold spaces and parentheses.
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if fields[0] != 'Z':
            yield int(entry), int(fields[1]), int(fields[2])


def child_pids(pid):
    """The pids of the live processes whose parent is `pid`."""
    return {child for child, parent, _ in live_processes() if parent == pid}


class GlanceApi:
    """A glance-api process with its configuration, state and log."""

    def __init__(self, directory, extra_config='', workers=2, env=None,
                 wsgi_server=None):
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.state_path = os.path.join(self.directory, 'state')
        self.config_file = os.path.join(self.directory, 'glance-api.conf')
        self.log_file = os.path.join(self.directory, 'glance-api.log')
        self.extra_config = extra_config
        self.workers = workers
        self.env = dict(os.environ)
        # The code of this checkout, whatever the virtualenv points at.
        self.env['PYTHONPATH'] = os.pathsep.join(
            [REPO] + ([self.env['PYTHONPATH']]
                      if self.env.get('PYTHONPATH') else []))
        self.env.pop('NOTIFY_SOCKET', None)
        self.env.update(env or {})
        self.wsgi_server = wsgi_server
        if wsgi_server:
            self.env['OS_GLANCE_CONFIG_DIR'] = self.directory
        self.port = None
        self.process = None
        # Once stopped, the group id may belong to someone else: hands off.
        self.stopped = False

    @property
    def url(self):
        """The base URL, without a trailing slash."""
        return f'http://127.0.0.1:{self.port}'

    @property
    def pid(self):
        return self.process.pid

    def write_config(self):
        with open(self.config_file, 'w') as conf:
            conf.write(
                '[DEFAULT]\n'
                'bind_host = 127.0.0.1\n'
                f'bind_port = {self.port}\n'
                f'workers = {self.workers}\n'
                f'state_path = {self.state_path}\n'
                '[database]\n'
                f'connection = sqlite:///{self.state_path}/glance.sqlite\n'
                '[paste_deploy]\n'
                f'config_file = {PASTE_FILE}\n'
                '[glance_store]\n'
                'filesystem_store_datadir = '
                f'{os.path.join(self.state_path, "images")}\n')
            conf.write(self.extra_config)

    def log(self):
        try:
            with open(self.log_file, errors='replace') as log:
                return log.read()
        except OSError:
            return ''

    def start(self, attempts=3):
        """Start and wait until GET / answers. Another process may take
        the free port first: then try again on another one."""
        for attempt in range(attempts):
            self.port = free_port()
            self.write_config()
            with open(self.log_file, 'ab') as log:
                # A session of its own, so that stop() can kill the group.
                self.process = subprocess.Popen(
                    self.command(), stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=self.env,
                    cwd=self.directory, start_new_session=True)
            self.stopped = False
            try:
                self._wait_until_serving()
                return self
            except Exception:
                self.stop()
                if (attempt + 1 == attempts
                        or not any(message in self.log()
                                   for message in PORT_TAKEN_MESSAGES)):
                    raise

    def command(self):
        if self.wsgi_server:
            return [arg.format(port=self.port) for arg in self.wsgi_server]
        return glance_api_command() + ['--config-file', self.config_file]

    def _answers(self):
        connection = http.client.HTTPConnection('127.0.0.1', self.port,
                                                timeout=5)
        try:
            connection.request('GET', '/')
            return connection.getresponse().status in (200, 300)
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def _wait_until_serving(self):
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f'glance-api exited with {self.process.returncode}:\n'
                    f'{self.log()}')
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f'glance-api did not answer in {START_TIMEOUT} s:\n'
                    f'{self.log()}')
            time.sleep(0.05)

    def group_pids(self):
        """The live (not zombie) processes of the daemon's process group:
        the daemon and its workers."""
        return {pid for pid, _, group in live_processes()
                if group == self.process.pid}

    def _group_alive(self):
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self):
        """SIGTERM to the daemon (it stops its workers), SIGKILL to its
        process group if it is not gone in time. Returns the exit code."""
        if self.process is None or self.stopped:
            return None if self.process is None else self.process.returncode
        self.stopped = True
        process, pid = self.process, self.process.pid
        if process.poll() is None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # Members of the group left (a hung parent, orphaned workers): the
        # group id cannot have been reused while any member lives.
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:
            process.poll()  # Reap the daemon once dead: no zombie member.
            if not self._group_alive() or time.monotonic() > deadline:
                break
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        if process.poll() is None:
            process.wait(timeout=STOP_TIMEOUT)
        return process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def start_glance_api(directory, extra_config='', workers=2, env=None):
    """A started GlanceApi (see the module docstring); stop() it."""
    return GlanceApi(directory, extra_config, workers, env).start()
