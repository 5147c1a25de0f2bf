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
OS_GLANCE_CONFIG_DIR); `workers` is then the server's business. With
`port`, the server listens there rather than on a free port.
"""
import os
import sys

from tests.functional.process import ServerProcess
from tests.functional.process import answers
from tests.helpers import PASTE_FILE
from tests.helpers import REPO
from tests.helpers import free_port

# What glance-api (and uwsgi), and gunicorn, say when the port is taken.
PORT_TAKEN_MESSAGES = ('Address already in use', 'Connection in use')


def glance_api_command():
    """The glance-api console script beside the test interpreter (the same
    virtualenv), else the same entry point through the interpreter."""
    script = os.path.join(os.path.dirname(sys.executable), 'glance-api')
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, '-c', 'from glance.cmd.api import main; main()']


class GlanceApi(ServerProcess):
    """A glance-api process with its configuration, state and log."""

    def __init__(self, directory, extra_config='', workers=2, env=None,
                 wsgi_server=None, port=None):
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.state_path = os.path.join(self.directory, 'state')
        self.config_file = os.path.join(self.directory, 'glance-api.conf')
        self.extra_config = extra_config
        self.workers = workers
        server_env = dict(os.environ)
        # The code of this checkout, whatever the virtualenv points at.
        server_env['PYTHONPATH'] = os.pathsep.join(
            [REPO] + ([server_env['PYTHONPATH']]
                      if server_env.get('PYTHONPATH') else []))
        server_env.pop('NOTIFY_SOCKET', None)
        server_env.update(env or {})
        self.wsgi_server = wsgi_server
        if wsgi_server:
            server_env['OS_GLANCE_CONFIG_DIR'] = self.directory
        # A port of its own choosing, else a free one at each start.
        self.fixed_port = port
        self.port = None
        super().__init__(
            None, os.path.join(self.directory, 'glance-api.log'),
            env=server_env, cwd=self.directory, name='glance-api',
            ready=lambda: answers(self.port, '/', (200, 300)))

    @property
    def url(self):
        """The base URL, without a trailing slash."""
        return f'http://127.0.0.1:{self.port}'

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

    def start(self, attempts=3):
        """Start and wait until GET / answers. Another process may take
        the free port first: then try again on another one."""
        for attempt in range(1 if self.fixed_port else attempts):
            self.port = self.fixed_port or free_port()
            self.write_config()
            self.command = self.server_command()
            try:
                return super().start()
            except Exception:
                if (attempt + 1 == attempts
                        or not any(message in self.log()
                                   for message in PORT_TAKEN_MESSAGES)):
                    raise

    def server_command(self):
        if self.wsgi_server:
            return [arg.format(port=self.port) for arg in self.wsgi_server]
        return glance_api_command() + ['--config-file', self.config_file]


def start_glance_api(directory, extra_config='', workers=2, env=None):
    """A started GlanceApi (see the module docstring); stop() it."""
    return GlanceApi(directory, extra_config, workers, env).start()
