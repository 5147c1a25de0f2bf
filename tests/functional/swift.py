"""A real OpenStack Swift (with its S3 API) on loopback, for the tests of
the object-store drivers.

    swift = Swift(tmp_dir).start()       # or the `swift_server` fixture
    swift.connection()                   # swiftclient, as test:tester
    swift.s3_client()                    # boto3, the same account
    ...
    swift.stop()

Swift 2.38.3 comes from a virtualenv of its own, named by the environment
variable GLANCE_TEST_SWIFT_VENV (swift==2.38.3, python-swiftclient, boto3
and keystonemiddleware installed in it; `venv_problem()` says what is
wrong with it, to skip the tests). start() builds a single-node "all in
one" in the directory given:

- etc/: swift.conf (the hash path prefix and suffix), one configuration
  per server, and rings of one device and one replica;
- srv/node/d1: the device (its filesystem must hold user xattrs, where
  Swift keeps object metadata: checked first);
- an account, a container, an object and a proxy server, each one process
  (workers = 0) on a free 127.0.0.1 port, in a session of its own, stopped
  by PID; their syslog lines go to a unix datagram socket that a thread of
  the test process copies to log/swift.log (Swift logs to syslog only).

The proxy's pipeline is a parameter (`pipeline`, `filters`), so that
another authentication (Keystone's authtoken and keystoneauth) can take
tempauth's place; by default it is

    catch_errors gatekeeper healthcheck proxy-logging listing_formats
    s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

with tempauth's users (fernet tokens, so no memcached):

    test:tester / testing   (.admin of account AUTH_test)
    test2:tester2 / testing2 (.admin of AUTH_test2)
    admin:admin / admin     (.reseller_admin)

With `pipeline=KEYSTONE_PIPELINE, filters=keystone_filters(keystone)`
the proxy authenticates with Keystone instead (keystonemiddleware's
authtoken, then Swift's keystoneauth: a project's member or admin owns
its account AUTH_<project id>); in_catalog() registers the proxy as the
object-store of RegionOne while a block runs (the `swift_keystone`
fixture does both).

Swift API: auth_url http://127.0.0.1:PORT/auth/v1.0 (tempauth v1). S3
API (s3api): endpoint http://127.0.0.1:PORT, access key "test:tester",
secret key "testing", region us-east-1, SigV4; an S3 bucket is a container
of the account.
"""
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading

from tests.functional.process import ServerProcess
from tests.functional.process import answers
from tests.helpers import free_port

ENV_VAR = 'GLANCE_TEST_SWIFT_VENV'
SWIFT_VERSION = '2.38.3'
HOW_TO_ENABLE = (
    f'set {ENV_VAR} to a virtualenv with swift=={SWIFT_VERSION}, '
    f'python-swiftclient, boto3 and keystonemiddleware to run the tests '
    f'against a real Swift, e.g. python3 -m venv ~/.cache/glance-ci/'
    f'venv-swift && ~/.cache/glance-ci/venv-swift/bin/pip install '
    f'swift=={SWIFT_VERSION} python-swiftclient boto3 keystonemiddleware '
    f'&& export {ENV_VAR}=~/.cache/glance-ci/venv-swift')
START_TIMEOUT = 60
COMMAND_TIMEOUT = 120
REGION = 'us-east-1'
# The storage servers behind the proxy, in the order they start.
STORAGE_SERVERS = ('account', 'container', 'object')
# The limit of a unix socket's path (sun_path, less its final NUL).
MAX_SOCKET_PATH = 107

# tempauth's users: (account, user, key, groups).
USERS = (('test', 'tester', 'testing', '.admin'),
         ('test2', 'tester2', 'testing2', '.admin'),
         ('admin', 'admin', 'admin', '.admin .reseller_admin'))

TEMPAUTH_PIPELINE = (
    'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging',
    'listing_formats', 's3api', 'tempauth', 'copy', 'slo', 'dlo',
    'versioned_writes', 'proxy-logging', 'proxy-server')
# Keystone's tokens instead of tempauth's (no S3 API: s3api would need
# Keystone's EC2 credentials).
KEYSTONE_PIPELINE = (
    'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging',
    'listing_formats', 'authtoken', 'keystoneauth', 'copy', 'slo', 'dlo',
    'versioned_writes', 'proxy-logging', 'proxy-server')
# Filters that need no option but their egg entry point.
PLAIN_FILTERS = {
    'catch_errors': 'catch_errors', 'gatekeeper': 'gatekeeper',
    'healthcheck': 'healthcheck', 'proxy-logging': 'proxy_logging',
    'listing_formats': 'listing_formats', 'copy': 'copy', 'slo': 'slo',
    'dlo': 'dlo', 'versioned_writes': 'versioned_writes'}
# SLO deletes the segments of a manifest (and so of a completed S3
# multipart upload) at once, rather than leaving them to an object
# expirer this all-in-one does not run: a test sees what is left.
SLO_FILTER = {'use': 'egg:swift#slo', 'allow_async_delete': 'false'}


def venv_problem():
    """None if GLANCE_TEST_SWIFT_VENV names a usable Swift virtualenv,
    else why not and how to enable the tests."""
    venv = os.environ.get(ENV_VAR)
    if not venv:
        return f'{ENV_VAR} is not set: {HOW_TO_ENABLE}'
    for script in ('swift-proxy-server', 'swift-ring-builder', 'python'):
        if not os.access(os.path.join(venv, 'bin', script), os.X_OK):
            return f'{ENV_VAR}={venv} has no bin/{script}: {HOW_TO_ENABLE}'
    return None


def keystone_filters(keystone):
    """The option sections of authtoken and keystoneauth, validating
    the tokens of `keystone` (tests/functional/keystone.py) as its glance
    service user."""
    return {
        'authtoken': {
            'paste.filter_factory':
                'keystonemiddleware.auth_token:filter_factory',
            'www_authenticate_uri': keystone.url,
            'auth_url': keystone.url,
            'auth_type': 'password',
            'username': 'glance',
            'password': keystone.accounts['glance'].password,
            'project_name': 'service',
            'user_domain_id': 'default',
            'project_domain_id': 'default',
            'region_name': 'RegionOne',
            'delay_auth_decision': 'true',
            'http_connect_timeout': '30',
        },
        'keystoneauth': {
            'use': 'egg:swift#keystoneauth',
            'operator_roles': 'admin, member',
            'reseller_prefix': 'AUTH_',
        },
    }


def xattr_problem(directory):
    """None if files under `directory` take user xattrs of the size
    Swift writes, else why not."""
    probe = os.path.join(directory, '.xattr-probe')
    try:
        with open(probe, 'w'):
            pass
        os.setxattr(probe, 'user.swift.probe', b'x' * 2048)
    except OSError as error:
        return (f'{directory} does not support user xattrs, which Swift '
                f'needs: {error}')
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return None


def _section(name, options):
    lines = [f'[{name}]']
    lines += [f'{key} = {value}' for key, value in options.items()]
    return '\n'.join(lines) + '\n'


class _LogSink:
    """A unix datagram socket whose messages (the servers' syslog lines)
    a daemon thread appends to a file."""

    def __init__(self, socket_path, log_path):
        self.socket_path = socket_path
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(socket_path)
        self.log_file = open(log_path, 'ab', buffering=0)  # noqa: SIM115
        self.thread = threading.Thread(target=self._copy, daemon=True,
                                       name='swift-log-sink')
        self.thread.start()

    def _copy(self):
        while True:
            try:
                message = self.socket.recv(65536)
            except OSError:  # closed by close()
                return
            self.log_file.write(message.rstrip(b'\0') + b'\n')

    def close(self):
        # shutdown() wakes the thread blocked in recv().
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()
        self.thread.join(timeout=5)
        self.log_file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)


class Swift:
    """A Swift all-in-one: four server processes, its configuration,
    rings, data and log in one directory."""

    def __init__(self, directory, venv=None, pipeline=TEMPAUTH_PIPELINE,
                 filters=None, proxy_options=None, proxy_workers=0):
        """`pipeline`: the proxy's filters and app, in order; `filters`:
        {filter name: {option: value}}, the sections of filters other
        than PLAIN_FILTERS, added to (or replacing) default_filters();
        `proxy_options`: more options of [app:proxy-server]. For
        Keystone, say, a pipeline with authtoken and keystoneauth in
        tempauth's place, and their sections in `filters`."""
        self.directory = os.path.abspath(os.fspath(directory))
        self.venv = venv or os.environ[ENV_VAR]
        self.pipeline = tuple(pipeline)
        self.filters = {**self.default_filters(), **(filters or {})}
        self.proxy_options = dict(proxy_options or {})
        self.proxy_workers = proxy_workers
        self.ports = {}
        self.servers = {}
        self.sink = None
        self.name = 'swift'

    # What clients need.

    @property
    def port(self):
        return self.ports.get('proxy')

    @property
    def url(self):
        """The proxy's base URL: also the S3 endpoint."""
        return f'http://127.0.0.1:{self.port}'

    @property
    def auth_url(self):
        """tempauth's v1 authentication URL."""
        return self.url + '/auth/v1.0'

    s3_endpoint = url
    region = REGION
    user = 'test:tester'
    key = 'testing'
    # s3api with tempauth: the access key is the Swift user, the secret
    # its key.
    access_key = user
    secret_key = key
    account = 'AUTH_test'

    @property
    def storage_url(self):
        return f'{self.url}/v1/{self.account}'

    def keystone_connection(self, keystone, name, **kwargs):
        """A swiftclient Connection with a Keystone session of the
        account `name` (its project's Swift account)."""
        from swiftclient import client
        return client.Connection(session=keystone.session(name), retries=0,
                                 **kwargs)

    @contextlib.contextmanager
    def in_catalog(self, keystone):
        """This proxy registered in `keystone`'s catalog as the
        object-store of RegionOne (AUTH_<project id> accounts), until the
        block ends."""
        admin = keystone.session('admin')
        service = admin.post(keystone.auth_url + '/services', json={
            'service': {'type': 'object-store', 'name': 'swift'}}).json()[
                'service']
        try:
            for interface in ('public', 'internal', 'admin'):
                admin.post(keystone.auth_url + '/endpoints', json={
                    'endpoint': {
                        'service_id': service['id'], 'interface': interface,
                        'region_id': 'RegionOne',
                        'url': self.url + '/v1/AUTH_$(project_id)s'}})
            yield self
        finally:
            admin.delete(f'{keystone.auth_url}/services/{service["id"]}')

    def connection(self, user=None, key=None, **kwargs):
        """A swiftclient Connection (tempauth v1) as `user`."""
        from swiftclient import client
        return client.Connection(authurl=self.auth_url,
                                 user=user or self.user,
                                 key=key or self.key, auth_version='1',
                                 retries=0, **kwargs)

    def s3_client(self, access_key=None, secret_key=None, **config):
        """A boto3 S3 client of the S3 API (path-style, SigV4)."""
        import boto3
        from botocore.config import Config
        return boto3.client(
            's3', endpoint_url=self.s3_endpoint, region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(signature_version='s3v4',
                          s3={'addressing_style': 'path'},
                          retries={'max_attempts': 1}, **config))

    # Configuration.

    @staticmethod
    def default_filters():
        """The option sections of the filters that need more than their
        entry point: s3api, slo and tempauth (written only for the
        filters the pipeline has)."""
        tempauth = {'use': 'egg:swift#tempauth'}
        for account, user, key, groups in USERS:
            tempauth[f'user_{account}_{user}'] = f'{key} {groups}'
        return {'s3api': {'use': 'egg:swift#s3api', 'location': REGION},
                'slo': SLO_FILTER, 'tempauth': tempauth}

    def path(self, *names):
        return os.path.join(self.directory, *names)

    def log(self):
        text = []
        for name in ('swift.log', *[f'{server}.out' for server in
                                    (*STORAGE_SERVERS, 'proxy')]):
            try:
                with open(self.path('log', name), errors='replace') as log:
                    text.append(f'--- {name}:\n{log.read()}')
            except OSError:
                pass
        return '\n'.join(text)

    def _run(self, *command):
        result = subprocess.run(command, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL,
                                timeout=COMMAND_TIMEOUT)
        # swift-ring-builder rebalance exits 1 for mere warnings.
        if result.returncode not in (0, 1):
            raise RuntimeError(f'{" ".join(command)} failed '
                               f'({result.returncode}):\n{result.stdout}'
                               f'{result.stderr}')
        return result

    def _common_options(self, server):
        return {
            'bind_ip': '127.0.0.1',
            'bind_port': self.ports[server],
            'workers': self.proxy_workers if server == 'proxy' else 0,
            'user': self._user_name(),
            'swift_dir': self.path('etc'),
            'devices': self.path('srv', 'node'),
            'mount_check': 'false',
            'recon_cache_path': self.path('cache'),
            'log_address': self.sink.socket_path,
            'log_name': f'{server}-server',
        }

    @staticmethod
    def _user_name():
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name

    def _fernet_key(self):
        # tempauth's fernet tokens: any process of the proxy can check
        # them without a shared memcached.
        result = subprocess.run(
            [self.python, '-c', 'from cryptography.fernet import Fernet; '
             'print(Fernet.generate_key().decode())'],
            capture_output=True, text=True, check=True,
            timeout=COMMAND_TIMEOUT)
        return result.stdout.strip()

    @property
    def python(self):
        return os.path.join(self.venv, 'bin', 'python')

    def _write_configuration(self):
        etc = self.path('etc')
        with open(os.path.join(etc, 'swift.conf'), 'w') as conf:
            conf.write(_section('swift-hash', {
                'swift_hash_path_prefix': 'glance-test-prefix',
                'swift_hash_path_suffix': 'glance-test-suffix'}))
        for server in STORAGE_SERVERS:
            with open(os.path.join(etc, f'{server}-server.conf'),
                      'w') as conf:
                conf.write(
                    _section('DEFAULT', self._common_options(server))
                    + _section('pipeline:main', {
                        'pipeline': f'healthcheck {server}-server'})
                    + _section(f'app:{server}-server',
                               {'use': f'egg:swift#{server}'})
                    + _section('filter:healthcheck',
                               {'use': 'egg:swift#healthcheck'}))
        proxy_app = {'use': 'egg:swift#proxy', 'account_autocreate': 'true',
                     # One node: never error-limit it (by default one 507
                     # would make it refuse everything for a minute).
                     'error_suppression_interval': 0,
                     **self.proxy_options}
        sections = [_section('DEFAULT', self._common_options('proxy')),
                    _section('pipeline:main',
                             {'pipeline': ' '.join(self.pipeline)}),
                    _section('app:proxy-server', proxy_app)]
        fernet_key = None
        for name in dict.fromkeys(self.pipeline[:-1]):
            options = self.filters.get(name)
            if options is None:
                options = {'use': f'egg:swift#{PLAIN_FILTERS[name]}'}
            if options.get('use') == 'egg:swift#tempauth':
                fernet_key = fernet_key or self._fernet_key()
                options = {'fernet_key_k1': fernet_key,
                           'active_fernet_key_id': 'k1', **options}
            sections.append(_section(f'filter:{name}', options))
        with open(os.path.join(etc, 'proxy-server.conf'), 'w') as conf:
            conf.write(''.join(sections))

    def _build_rings(self):
        builder = os.path.join(self.venv, 'bin', 'swift-ring-builder')
        for server in STORAGE_SERVERS:
            path = self.path('etc', f'{server}.builder')
            for stale in (path, self.path('etc', f'{server}.ring.gz')):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(stale)
            # Part power 6, 1 replica, 1 hour between moves.
            self._run(builder, path, 'create', '6', '1', '1')
            self._run(builder, path, 'add', '--region', '1', '--zone', '1',
                      '--ip', '127.0.0.1', '--port',
                      str(self.ports[server]), '--device', 'd1',
                      '--weight', '1')
            self._run(builder, path, 'rebalance')

    # Start and stop.

    def _prepare(self):
        for name in ('etc', 'run', 'log', 'cache', os.path.join(
                'srv', 'node', 'd1')):
            os.makedirs(self.path(name), exist_ok=True)
        problem = xattr_problem(self.path('srv', 'node', 'd1'))
        if problem:
            raise RuntimeError(problem)
        socket_path = self.path('run', 'log.sock')
        if len(socket_path) > MAX_SOCKET_PATH:
            socket_path = os.path.join(
                tempfile.mkdtemp(prefix='swift-log-'), 'log.sock')
        self.sink = _LogSink(socket_path, self.path('log', 'swift.log'))

    def start(self, attempts=3):
        """Configure and start the four servers; another process may take
        a free port first: then all over again on other ports."""
        self._prepare()
        for attempt in range(attempts):
            self.ports = {server: free_port()
                          for server in (*STORAGE_SERVERS, 'proxy')}
            try:
                self._write_configuration()
                self._build_rings()
                for server in (*STORAGE_SERVERS, 'proxy'):
                    self._start_server(server)
                self._check_account()
                return self
            except Exception:
                self._stop_servers()
                if (attempt + 1 == attempts
                        or 'Address already in use' not in self.log()):
                    self.stop()
                    raise

    def _start_server(self, server):
        port = self.ports[server]
        process = ServerProcess(
            [os.path.join(self.venv, 'bin', f'swift-{server}-server'),
             self.path('etc', f'{server}-server.conf')],
            self.path('log', f'{server}.out'),
            env={key: value for key, value in os.environ.items()
                 if not key.startswith(('OS_', 'PYTHON', 'ST_'))},
            cwd=self.directory, name=f'swift-{server}-server',
            ready=lambda: answers(port, '/healthcheck', timeout=5),
            start_timeout=START_TIMEOUT, poll_interval=0.1)
        self.servers[server] = process
        process.start()

    def _check_account(self):
        """A token from tempauth and the account (created on first use)
        answer, when the pipeline has tempauth."""
        if 'tempauth' not in self.pipeline:
            return
        connection = self.connection()
        try:
            connection.head_account()
        finally:
            connection.close()

    def _stop_servers(self):
        # The proxy first: no request reaches a stopped storage server.
        for server in ('proxy', *reversed(STORAGE_SERVERS)):
            process = self.servers.pop(server, None)
            if process is not None:
                process.stop()

    def stop(self):
        self._stop_servers()
        if self.sink is not None:
            self.sink.close()
            self.sink = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def main():
    """python -m tests.functional.swift DIR: run a Swift until Ctrl-C (to
    try things by hand)."""
    import time
    with Swift(sys.argv[1]) as swift:
        print(f'swift up: {swift.auth_url} ({swift.user}/{swift.key}), '
              f'S3 {swift.s3_endpoint} ({swift.access_key}/'
              f'{swift.secret_key}, {swift.region})', flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == '__main__':
    main()
