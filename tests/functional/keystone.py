"""A real Keystone in a subprocess, for the tests of the keystone flavor.

    keystone = Keystone(tmp_dir, venv).start()   # or start_keystone(...)
    token = keystone.token('alpha-member')
    ...
    keystone.stop()

Keystone comes from a virtualenv of its own, named by the environment
variable GLANCE_TEST_KEYSTONE_VENV (keystone==30.0.0 and gunicorn installed
in it; `venv_problem()` says what is wrong with it, to skip the tests).
Keystone writes a keystone.conf in the directory given (an SQLite file in
WAL mode, fernet tokens, fernet and credential key repositories there,
cheap bcrypt hashing), runs keystone-manage db_sync, fernet_setup,
credential_setup and bootstrap (the `admin` user and project, RegionOne,
the identity endpoint on a free 127.0.0.1 port), starts gunicorn (one
single-threaded worker: SQLite and concurrent writers do not mix) in a
session of its own, waits until /v3 answers, and then creates through the
Keystone API:

    roles     admin, member, reader, service
    projects  service, alpha, beta (and bootstrap's admin)
    users     glance       service: admin, service (keystonemiddleware's)
              alpha-member alpha: member, reader
              alpha-reader alpha: reader
              beta-member  beta: member, reader
              beta-reader  beta: reader
              cloud-admin  admin: admin

(in Keystone's default domain; `accounts` holds name -> Account). stop()
sends SIGTERM to gunicorn, then SIGKILL to its process group when it is
slow to go.

For the glance-api daemons of the keystone flavor: authtoken_config()
(their configuration), in_catalog() (one registered as the image service
while it runs) and Caller (requests with one account's token). The
fixtures `keystone`, `tokens` and `who` are in conftest.py.
"""
import collections
import contextlib
import os
import secrets
import sqlite3
import subprocess
import uuid

import requests

from tests.functional.process import ServerProcess
from tests.functional.process import answers
from tests.helpers import free_port

ENV_VAR = 'GLANCE_TEST_KEYSTONE_VENV'
HERE = os.path.dirname(os.path.abspath(__file__))
# The gunicorn entry module, alone in its directory (see its docstring).
ENTRY_DIR = os.path.join(HERE, 'keystone_entry')
ENTRY_APP = 'glance_tests_keystone_app:application'
START_TIMEOUT = 60
COMMAND_TIMEOUT = 120
TIMEOUT = 60
PATCH = 'application/openstack-images-v2.1-json-patch'
HOW_TO_ENABLE = (
    f'set {ENV_VAR} to a virtualenv with keystone==30.0.0 and gunicorn to '
    f'run the tests against a real Keystone, e.g. python3 -m venv '
    f'~/.cache/glance-ci/venv-keystone && ~/.cache/glance-ci/venv-keystone/'
    f'bin/pip install keystone==30.0.0 gunicorn && export {ENV_VAR}='
    f'~/.cache/glance-ci/venv-keystone')

Account = collections.namedtuple('Account', 'username password project')


def venv_problem():
    """None if GLANCE_TEST_KEYSTONE_VENV names a usable Keystone
    virtualenv, else why not and how to enable the tests."""
    venv = os.environ.get(ENV_VAR)
    if not venv:
        return f'{ENV_VAR} is not set: {HOW_TO_ENABLE}'
    for script in ('keystone-manage', 'gunicorn', 'python'):
        if not os.access(os.path.join(venv, 'bin', script), os.X_OK):
            return (f'{ENV_VAR}={venv} has no bin/{script}: '
                    f'{HOW_TO_ENABLE}')
    return None


class Keystone(ServerProcess):
    """A Keystone under gunicorn with its configuration, state and logs."""

    ROLES = ('admin', 'member', 'reader', 'service')
    # user -> (project, roles)
    USERS = {
        'glance': ('service', ('admin', 'service')),
        'alpha-member': ('alpha', ('member', 'reader')),
        'alpha-reader': ('alpha', ('reader',)),
        'beta-member': ('beta', ('member', 'reader')),
        'beta-reader': ('beta', ('reader',)),
        'cloud-admin': ('admin', ('admin',)),
    }

    def __init__(self, directory, venv=None):
        self.base_directory = os.fspath(directory)
        self.venv = venv or os.environ[ENV_VAR]
        self.directory = None
        self.port = None
        self.admin_password = secrets.token_hex(12)
        self.accounts = {'admin': Account('admin', self.admin_password,
                                          'admin')}
        for name, (project, _) in self.USERS.items():
            self.accounts[name] = Account(name, secrets.token_hex(12),
                                          project)
        self.project_ids = {}
        self.user_ids = {}
        self.role_ids = {}
        super().__init__(
            None, None, name='keystone (gunicorn)',
            env={key: value for key, value in os.environ.items()
                 if not key.startswith(('OS_', 'PYTHON'))},
            ready=lambda: answers(self.port, '/v3', timeout=10),
            start_timeout=START_TIMEOUT, poll_interval=0.1)

    @property
    def url(self):
        """The base URL (www_authenticate_uri), no trailing slash."""
        return f'http://127.0.0.1:{self.port}'

    @property
    def auth_url(self):
        return self.url + '/v3'

    def path(self, *names):
        return os.path.join(self.directory, *names)

    def log(self):
        """The logs of gunicorn and of Keystone."""
        text = []
        for name in ('gunicorn.log', 'keystone.log'):
            try:
                with open(self.path(name), errors='replace') as log:
                    text.append(f'--- {name}:\n{log.read()}')
            except (OSError, TypeError):
                pass
        return '\n'.join(text)

    # Start and stop.

    def start(self, attempts=3):
        """Configure, bootstrap, start and populate Keystone. Another
        process may take the free port first: then all over again on
        another port (the port is in the catalog bootstrap writes)."""
        for attempt in range(attempts):
            self.port = free_port()
            self.directory = os.path.join(self.base_directory,
                                          f'keystone-{self.port}')
            os.makedirs(self.directory)
            self.cwd = self.directory
            self.log_file = self.path('gunicorn.log')
            try:
                self._configure()
                self._manage_all()
                self.command = self._gunicorn_command()
                super().start()
                self._populate()
                return self
            except Exception:
                self.stop()
                if (attempt + 1 == attempts
                        or 'Address already in use' not in self.log()):
                    raise

    def _configure(self):
        for name in ('fernet-keys', 'credential-keys'):
            os.makedirs(self.path(name), mode=0o700)
        with open(self.path('keystone.conf'), 'w') as conf:
            conf.write(
                '[DEFAULT]\n'
                f'log_file = {self.path("keystone.log")}\n'
                '[database]\n'
                f'connection = sqlite:///{self.path("keystone.db")}'
                '?timeout=30\n'
                '[token]\n'
                'provider = fernet\n'
                '[fernet_tokens]\n'
                f'key_repository = {self.path("fernet-keys")}\n'
                '[credential]\n'
                f'key_repository = {self.path("credential-keys")}\n'
                '[identity]\n'
                'password_hash_algorithm = bcrypt\n'
                'password_hash_rounds = 4\n')
        self.env['OS_KEYSTONE_CONFIG_DIR'] = self.directory

    def _manage(self, *args):
        command = [os.path.join(self.venv, 'bin', 'keystone-manage'),
                   '--config-dir', self.directory, *args]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.env,
            cwd=self.directory, stdin=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(
                f'keystone-manage {" ".join(args)} failed '
                f'({result.returncode}):\n{result.stdout}\n{result.stderr}'
                f'\n{self.log()}')

    def _manage_all(self):
        owner = ('--keystone-user', str(os.getuid()),
                 '--keystone-group', str(os.getgid()))
        self._manage('db_sync')
        # Writers do not block readers (Keystone reads while it writes).
        with sqlite3.connect(self.path('keystone.db')) as db:
            db.execute('PRAGMA journal_mode=WAL')
        db.close()
        self._manage('fernet_setup', *owner)
        self._manage('credential_setup', *owner)
        self._manage('bootstrap',
                     '--bootstrap-password', self.admin_password,
                     '--bootstrap-admin-url', self.auth_url,
                     '--bootstrap-internal-url', self.auth_url,
                     '--bootstrap-public-url', self.auth_url,
                     '--bootstrap-region-id', 'RegionOne')

    def _gunicorn_command(self):
        gunicorn = os.path.join(self.venv, 'bin', 'gunicorn')
        options = []
        # Recent gunicorns open a control socket in ~/.gunicorn by default,
        # shared with every other gunicorn of this user: none here.
        usage = subprocess.run([gunicorn, '--help'], capture_output=True,
                               text=True, env=self.env,
                               timeout=COMMAND_TIMEOUT).stdout
        if '--no-control-socket' in usage:
            options.append('--no-control-socket')
        return [gunicorn, '--bind', f'127.0.0.1:{self.port}',
                '--workers', '1', '--threads', '1', '--timeout', '120',
                *options,
                '--access-logfile', self.path('access.log'),
                '--pythonpath', ENTRY_DIR, ENTRY_APP]

    # Through the Keystone API.

    def auth(self, name):
        """A keystoneauth1 Password plugin for the account `name`, scoped
        to its project."""
        from keystoneauth1.identity import v3

        account = self.accounts[name]
        return v3.Password(
            auth_url=self.auth_url, username=account.username,
            password=account.password, project_name=account.project,
            user_domain_id='default', project_domain_id='default')

    def session(self, name):
        """A keystoneauth1 Session authenticated as the account `name`."""
        from keystoneauth1 import session

        return session.Session(auth=self.auth(name), timeout=60)

    def token(self, name):
        """A new project-scoped token of the account `name`."""
        return self.session(name).get_token()

    def revoke(self, token):
        """Revoke a token (DELETE /v3/auth/tokens, as the admin)."""
        self.session('admin').delete(
            self.auth_url + '/auth/tokens',
            headers={'X-Subject-Token': token})

    def _find_or_create(self, api, collection, kind, body, **query):
        found = api.get(f'{self.auth_url}/{collection}',
                        params=query).json()[collection]
        if found:
            return found[0]['id']
        return api.post(f'{self.auth_url}/{collection}',
                        json={kind: body}).json()[kind]['id']

    def _populate(self):
        api = self.session('admin')
        for role in self.ROLES:
            self.role_ids[role] = self._find_or_create(
                api, 'roles', 'role', {'name': role}, name=role)
        for project in ('admin', 'service', 'alpha', 'beta'):
            self.project_ids[project] = self._find_or_create(
                api, 'projects', 'project',
                {'name': project, 'domain_id': 'default'},
                name=project, domain_id='default')
        self.user_ids['admin'] = self._find_or_create(
            api, 'users', 'user', {}, name='admin', domain_id='default')
        for name, (project, roles) in self.USERS.items():
            project_id = self.project_ids[project]
            user_id = self.user_ids[name] = self._find_or_create(
                api, 'users', 'user',
                {'name': name, 'domain_id': 'default',
                 'password': self.accounts[name].password,
                 'default_project_id': project_id},
                name=name, domain_id='default')
            for role in roles:
                api.put(f'{self.auth_url}/projects/{project_id}/users/'
                        f'{user_id}/roles/{self.role_ids[role]}')


def start_keystone(directory, venv=None):
    """A started and populated Keystone (see the module docstring);
    stop() it."""
    return Keystone(directory, venv).start()


# glance-api daemons of the keystone flavor.

def authtoken_config(keystone, **options):
    """glance-api.conf text of the keystone flavor, validating tokens of
    `keystone` as its `glance` user, plus `options` for
    [keystone_authtoken]."""
    settings = {
        'www_authenticate_uri': keystone.url,
        'auth_url': keystone.url,
        'auth_type': 'password',
        'username': 'glance',
        'password': keystone.accounts['glance'].password,
        'project_name': 'service',
        'user_domain_name': 'Default',
        'project_domain_name': 'Default',
        'region_name': 'RegionOne',
        'service_token_roles_required': 'true',
        'http_connect_timeout': '30',
        # No memcached: keystonemiddleware caches in each worker.
        **options,
    }
    return ('[paste_deploy]\nflavor = keystone\n[keystone_authtoken]\n'
            + ''.join(f'{key} = {value}\n' for key, value in settings.items()))


@contextlib.contextmanager
def in_catalog(keystone, api):
    """`api` (a started GlanceApi) registered in Keystone's catalog as the
    image service of RegionOne, until the block ends."""
    admin = keystone.session('admin')
    service = admin.post(keystone.auth_url + '/services', json={
        'service': {'type': 'image', 'name': 'glance'}}).json()['service']
    try:
        for interface in ('public', 'internal', 'admin'):
            admin.post(keystone.auth_url + '/endpoints', json={
                'endpoint': {
                    'service_id': service['id'], 'interface': interface,
                    'region_id': 'RegionOne', 'url': api.url}})
        yield api
    finally:
        # Its endpoints go with it.
        admin.delete(f'{keystone.auth_url}/services/{service["id"]}')


class Caller:
    """Requests to one glance-api with one token."""

    def __init__(self, api, token, project_id=None):
        self.api = api
        self.token = token
        self.project_id = project_id
        self.http = requests.Session()
        self.http.headers['X-Auth-Token'] = token

    def request(self, method, path, **kwargs):
        kwargs.setdefault('timeout', TIMEOUT)
        return self.http.request(method, self.api.url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        return self.request('POST', path, **kwargs)

    def put(self, path, **kwargs):
        return self.request('PUT', path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def patch(self, image_id, *operations):
        return self.request('PATCH', f'/v2/images/{image_id}',
                            json=list(operations),
                            headers={'Content-Type': PATCH})

    def upload(self, image_id, data):
        return self.put(f'/v2/images/{image_id}/file', data=data,
                        headers={'Content-Type': 'application/octet-stream'})

    def create(self, **fields):
        fields.setdefault('name', 'ks-' + uuid.uuid4().hex[:12])
        fields.setdefault('disk_format', 'raw')
        fields.setdefault('container_format', 'bare')
        response = self.post('/v2/images', json=fields)
        assert response.status_code == 201, response.text
        return response.json()

    def list_ids(self, **params):
        """The ids of every image of the list (following `next`)."""
        ids = []
        params.setdefault('limit', 100)
        response = self.get('/v2/images', params=params)
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            ids += [image['id'] for image in body['images']]
            if 'next' not in body:
                return ids
            response = self.request('GET', body['next'])

    def close(self):
        self.http.close()
