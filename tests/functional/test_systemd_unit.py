"""The shipped systemd unit (etc/glance-api.service) for the install
README.md describes ("Run it as a service").

systemd's own checks: `systemd-analyze verify` on a root holding that
install (a virtualenv made as README.md says, systemd's unit files and the
unit) and `systemd-analyze security --offline` on the unit.

systemd is not PID 1 where these tests run (a virtual machine whose init is
something else), so the unit is started by a systemd service manager of its
own: a `systemd --user` instance of root, in a mount namespace of its own
(where it finds what a booted systemd leaves in /run/systemd) and cgroups
of its own, which sets up the unit's whole sandbox (namespaces, seccomp
filters, capabilities) as the system manager would. What differs from the
system manager: the unit runs as nobody (no glance user here), its
configuration file is under /opt/glance (no /etc/glance here), and its
StateDirectory= is under the manager's home. A second test runs the daemon
in a sandbox built by hand from the same kernel features, where systemd
cannot run.
"""
import contextlib
import ctypes
import grp
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.functional import daemon
from tests.functional import process
from tests.functional.process import ServerProcess
from tests.functional.process import child_pids
from tests.helpers import PASTE_FILE
from tests.helpers import REPO
from tests.helpers import free_port
from tests.helpers import wait_for

UNIT = os.path.join(REPO, 'etc', 'glance-api.service')
README = os.path.join(REPO, 'README.md')
SYSTEMD_ANALYZE = shutil.which('systemd-analyze')
TIMEOUT = 60

needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason='systemd-analyze is not installed (Debian: the systemd package)')


def service_settings():
    """{key: [value, ...]} of the unit's [Service] section."""
    settings, section = {}, None
    with open(UNIT) as unit:
        for line in unit:
            line = line.strip()
            if not line or line.startswith(('#', ';')):
                continue
            if line.startswith('['):
                section = line
            elif section == '[Service]':
                key, _, value = line.partition('=')
                settings.setdefault(key, []).append(value)
    return settings


def documented_venv():
    """The virtualenv directory README.md installs the service into."""
    with open(README) as readme:
        match = re.search(r'python3 -m venv (/\S+)\n\s*\1/bin/pip install',
                          readme.read())
    assert match, 'README.md does not say where the service is installed'
    return match.group(1)


def test_the_unit_runs_what_the_documented_install_creates():
    command = service_settings()['ExecStart'][0].split()
    assert command[0] == documented_venv() + '/bin/glance-api'
    config_file = command[command.index('--config-file') + 1]
    with open(README) as readme:
        assert os.path.dirname(config_file) + '/' in readme.read()


def copy_into(root, path):
    """Copy the host's file `path` to the same place under `root`."""
    target = os.path.join(root, path.lstrip('/'))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(os.path.realpath(path), target)


@needs_systemd_analyze
def test_the_unit_verifies_for_the_documented_install(tmp_path):
    root = tmp_path / 'root'
    shutil.copytree('/usr/lib/systemd/system',
                    root / 'usr' / 'lib' / 'systemd' / 'system',
                    symlinks=True)
    for key in ('ExecReload', 'ExecStop', 'ExecStartPre'):
        for command in service_settings().get(key, []):
            copy_into(root, command.split()[0].lstrip('-+!@'))
    # The install README.md describes, into the root: a virtualenv (made
    # without pip: the test's pip installs into it, with no dependency).
    source = tmp_path / 'source'
    shutil.copytree(daemon.REPO, source, ignore=shutil.ignore_patterns(
        'build', '*.egg-info', '.venv', '.git', '__pycache__', '.tox'))
    venv = str(root) + documented_venv()
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', venv],
                   check=True)
    subprocess.run(
        [sys.executable, '-m', 'pip', '--python', venv + '/bin/python',
         'install', '-q', '--no-deps', str(source)],
        check=True, capture_output=True, timeout=300)
    units = root / 'etc' / 'systemd' / 'system'
    units.mkdir(parents=True)
    shutil.copy(UNIT, units)

    result = subprocess.run(
        [SYSTEMD_ANALYZE, 'verify', f'--root={root}', 'glance-api.service'],
        capture_output=True, text=True, timeout=TIMEOUT)

    # Warnings (an unknown key, a bad value) do not change the exit code.
    assert (result.returncode, result.stdout + result.stderr) == (0, '')


@needs_systemd_analyze
def test_the_units_exposure_is_3_or_lower():
    result = subprocess.run(
        [SYSTEMD_ANALYZE, 'security', '--offline=yes', '--no-pager', UNIT],
        capture_output=True, text=True, timeout=TIMEOUT, check=True)

    exposure = re.search(r'Overall exposure level for glance-api\.service: '
                         r'(\d+\.\d+)', result.stdout)
    assert exposure, result.stdout + result.stderr
    assert float(exposure.group(1)) <= 3.0, result.stdout


# The sandbox, as root in new mount and PID namespaces:
# ProtectSystem=strict with StateDirectory= (the whole tree read-only, the
# state directory bound read-write; /tmp stays read-only too, stricter than
# PrivateTmp=), ProtectHome= (but where the test's interpreter lives),
# ProtectProc=invisible with ProcSubset=pid, ProtectKernelTunables= (/sys
# read-only), PrivateDevices= (a /dev of the pseudo devices), UMask=,
# NoNewPrivileges=, an empty CapabilityBoundingSet= and
# AmbientCapabilities=; MemoryDenyWriteExecute= is the kernel's prctl
# (PR_SET_MDWE) where systemd 252 uses seccomp.
SANDBOX = r'''
set -e
state=$1; shift
mount --bind "$state" "$state"
mount -o remount,bind,ro /
mount -t proc -o hidepid=invisible,subset=pid proc /proc
mount -o remount,bind,ro /sys
for home in $HIDDEN_HOMES; do
    mount -t tmpfs -o ro,mode=755 tmpfs "$home"
done
mount -t tmpfs -o mode=755,nosuid,noexec tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mkdir /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -o remount,bind,ro /dev
umask 0027
exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all "$@"
'''

# Memory that was writable never becomes executable, then exec.
MDWE = '''
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0):
    sys.exit('PR_SET_MDWE: ' + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
'''


def kernel_has_mdwe():
    """PR_SET_MDWE (Linux 6.3), tried in a child process."""
    return subprocess.run(
        [sys.executable, '-c',
         'import ctypes, sys\n'
         'sys.exit(ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0)'],
        timeout=TIMEOUT).returncode == 0


def statuses(pid):
    with open(f'/proc/{pid}/status') as status:
        return dict(line.rstrip('\n').split(':\t', 1) for line in status)


def notifications(sock, count):
    sock.settimeout(process.START_TIMEOUT)
    return [sock.recv(4096).decode() for _ in range(count)]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('unshare')
                    or not shutil.which('setpriv'),
                    reason='the sandbox needs root, unshare and setpriv')
@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8
                    or not kernel_has_mdwe(),
                    reason='the kernel has no PR_SET_MDWE (Linux 6.3)')
def test_the_daemon_serves_in_the_units_sandbox(tmp_path, monkeypatch):
    settings = service_settings()
    # What the sandbox reproduces is what the unit asks for.
    for key in ('NoNewPrivileges', 'MemoryDenyWriteExecute', 'ProtectHome',
                'PrivateDevices', 'ProtectKernelTunables'):
        assert settings[key] == ['yes'], key
    assert (settings['ProtectSystem'], settings['ProtectProc'],
            settings['ProcSubset'], settings['CapabilityBoundingSet'],
            settings['AmbientCapabilities'], settings['UMask']) == (
        ['strict'], ['invisible'], ['pid'], [''], [''], ['0027'])

    interpreter = os.path.realpath(sys.executable)
    hidden = ' '.join(
        home for home in ('/home', '/root') if os.path.isdir(home)
        and not f'{interpreter}/'.startswith(home + '/')
        and not f'{REPO}/'.startswith(home + '/'))
    (tmp_path / 'sandbox.sh').write_text(SANDBOX)
    (tmp_path / 'mdwe.py').write_text(MDWE)
    api = daemon.GlanceApi(tmp_path / 'api', workers=2, env={
        'HIDDEN_HOMES': hidden, 'NOTIFY_SOCKET': str(tmp_path / 'notify')})
    os.makedirs(api.state_path)
    command = daemon.glance_api_command()
    monkeypatch.setattr(daemon, 'glance_api_command', lambda: [
        'unshare', '--mount', '--pid', '--fork', '--propagation', 'private',
        '--kill-child=SIGTERM', 'sh', str(tmp_path / 'sandbox.sh'),
        api.state_path, sys.executable, str(tmp_path / 'mdwe.py'),
        *([sys.executable] if command[0] == sys.executable else []),
        *command])
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / 'notify'))
        with api:
            assert notifications(notify, 1) == ['READY=1']
            master, = child_pids(api.pid)
            status = statuses(master)
            assert (status['CapEff'], status['CapBnd'],
                    status['NoNewPrivs']) == ('0' * 16, '0' * 16, '1')

            data = os.urandom(3 * 1024 * 1024 + 17)
            for body in (data, iter([data[:65536], data[65536:]])):
                image = requests.post(
                    api.url + '/v2/images', timeout=TIMEOUT,
                    json={'disk_format': 'raw', 'container_format': 'bare'}
                ).json()
                upload = requests.put(
                    f'{api.url}/v2/images/{image["id"]}/file', data=body,
                    headers={'Content-Type': 'application/octet-stream'},
                    timeout=TIMEOUT)
                assert upload.status_code == 204, upload.text
                download = requests.get(
                    f'{api.url}/v2/images/{image["id"]}/file',
                    timeout=TIMEOUT)
                assert download.content == data
                assert download.headers['Content-MD5']
                stored = os.path.join(api.state_path, 'images', image['id'])
                assert os.stat(stored).st_mode & 0o777 == 0o640
                with open(stored, 'rb') as image_file:
                    assert (hashlib.md5(image_file.read()).hexdigest()
                            == requests.get(
                                f'{api.url}/v2/images/{image["id"]}',
                                timeout=TIMEOUT).json()['checksum'])

            # ExecReload=: SIGHUP, then the new workers serve.
            os.kill(master, signal.SIGHUP)
            assert notifications(notify, 2) == ['RELOADING=1', 'READY=1']
            assert requests.get(api.url + '/v2/images',
                                timeout=TIMEOUT).status_code == 200
        assert 'Traceback' not in api.log(), api.log()


SYSTEMD = '/usr/lib/systemd/systemd'
SYSTEMCTL = shutil.which('systemctl')

# Run by unshare in a mount namespace of its own: what the manager and the
# unit need that a booted system has (/run/systemd/system says systemd
# runs; the inaccessible nodes hide paths), the documented virtualenv in
# /opt/glance (made with the system's python3, using this checkout and the
# test virtualenv's packages), then the manager itself, killed after
# LIFETIME seconds whatever happens.
MANAGER = r"""
set -e
for cgroup in $CGROUPS; do echo $$ > "$cgroup/cgroup.procs"; done
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system /run/systemd/inaccessible
mkdir -m 0 /run/systemd/inaccessible/dir
install -m 0 /dev/null /run/systemd/inaccessible/reg
mkfifo -m 0 /run/systemd/inaccessible/fifo
mknod -m 0 /run/systemd/inaccessible/chr c 0 0
mknod -m 0 /run/systemd/inaccessible/blk b 0 0
"$PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' /run/systemd/inaccessible/sock
chmod 0 /run/systemd/inaccessible/sock
# The manager logs to /dev/console: to a file instead.
mount --bind "$CONSOLE_LOG" /dev/console
mount -t tmpfs -o mode=755 tmpfs /opt
/usr/bin/python3 -m venv --without-pip /opt/glance
printf '%s\n' "$REPO" "$SITE_PACKAGES" \
    > "$(echo /opt/glance/lib/python3*/site-packages)/checkout.pth"
printf '#!/opt/glance/bin/python\nfrom glance.cmd.api import main\nmain()\n' \
    > /opt/glance/bin/glance-api
chmod 755 /opt/glance/bin/glance-api
mkdir -p /opt/glance/etc/glance /opt/home/.config /opt/home/.local
cp "$CONFIG_FILE" "$PASTE_FILE" /opt/glance/etc/glance/
# StateDirectory= of a user manager: ~/.config (252) or ~/.local/state.
ln -s ../.config /opt/home/.local/state
chmod -R a+rX /opt
mkdir -m 755 /opt/xdg
export HOME=/opt/home XDG_RUNTIME_DIR=/opt/xdg SYSTEMD_UNIT_PATH="$UNITS"
exec timeout --signal=KILL "$LIFETIME" /usr/lib/systemd/systemd --user \
    --log-target=console --log-level=info
"""

# What a booted system provides that this unit needs, as empty targets.
TARGETS = ('default', 'basic', 'sockets', 'timers', 'paths', 'shutdown',
           'exit', 'network-online', 'multi-user')


def own_cgroups():
    """The cgroup directories (cgroup2 and name=systemd) of this process,
    where systemd may make cgroups of its own."""
    with open('/proc/self/cgroup') as cgroups:
        lines = [line.rstrip('\n').split(':', 2) for line in cgroups]
    directories = []
    for _, controllers, path in lines:
        for mount in (('/sys/fs/cgroup/unified', '/sys/fs/cgroup')
                      if controllers == '' else
                      ('/sys/fs/cgroup/systemd',)
                      if controllers == 'name=systemd' else ()):
            if os.path.exists(os.path.join(mount, 'cgroup.procs')):
                directories.append(mount + path.rstrip('/'))
                break
    return directories


def executable(pid):
    with contextlib.suppress(OSError):
        return os.readlink(f'/proc/{pid}/exe')


def systemctl(manager_pid, *args):
    return subprocess.run(
        [SYSTEMCTL, '--user', '--no-pager', *args], capture_output=True,
        text=True, timeout=TIMEOUT,
        env={**os.environ,
             'XDG_RUNTIME_DIR': f'/proc/{manager_pid}/root/opt/xdg'})


def remove_cgroup(cgroup):
    """Kill what is left in `cgroup` (cgroup2 can), then remove it and
    the cgroups systemd made in it, once their processes are gone."""
    with contextlib.suppress(OSError):
        with open(os.path.join(cgroup, 'cgroup.kill'), 'w') as kill:
            kill.write('1')
    for directory, _, _ in os.walk(cgroup, topdown=False):
        deadline = time.monotonic() + 10
        while True:
            try:
                os.rmdir(directory)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@contextlib.contextmanager
def user_manager(directory, config_file):
    """A systemd user manager (see the module docstring) with the units of
    `directory`/units; yields its pid; stops it and removes its cgroups."""
    cgroups = [os.path.join(parent, f'glance-test-{os.getpid()}')
               for parent in own_cgroups()]
    for cgroup in cgroups:
        os.mkdir(cgroup)
    (directory / 'manager.sh').write_text(MANAGER)
    (directory / 'console.log').touch()
    env = {**os.environ, 'CGROUPS': ' '.join(cgroups),
           'CONSOLE_LOG': str(directory / 'console.log'),
           'PYTHON': sys.executable, 'REPO': REPO,
           'SITE_PACKAGES': next(path for path in sys.path
                                 if path.endswith('site-packages')),
           'CONFIG_FILE': str(config_file), 'PASTE_FILE': PASTE_FILE,
           'UNITS': str(directory / 'units'), 'LIFETIME': '300'}
    manager = None

    def ready():
        nonlocal manager
        manager = next((pid for pid in child_pids(launcher.pid)
                        if executable(pid) == SYSTEMD), None)
        return manager and os.path.exists(
            f'/proc/{manager}/root/opt/xdg/systemd/private')

    def request_stop():
        if manager is not None:
            systemctl(manager, '--force', 'exit')

    launcher = ServerProcess(
        ['unshare', '--mount', '--propagation', 'private', 'sh',
         str(directory / 'manager.sh')], directory / 'manager.log',
        env=env, ready=ready, name='the systemd manager',
        start_timeout=TIMEOUT, request_stop=request_stop, poll_interval=0.1)
    try:
        with launcher:
            # A user manager's notify socket is for its own user only.
            os.chmod(f'/proc/{manager}/root/opt/xdg/systemd/notify', 0o777)
            yield manager
    finally:
        for cgroup in cgroups:
            remove_cgroup(cgroup)


@pytest.mark.skipif(
    os.geteuid() != 0 or not all(map(shutil.which, ('unshare', 'mknod')))
    or not os.access(SYSTEMD, os.X_OK) or SYSTEMCTL is None
    or not os.path.exists('/usr/bin/python3') or not own_cgroups(),
    reason='running systemd here needs root, unshare, systemd, '
           '/usr/bin/python3 and a cgroup hierarchy')
def test_the_unit_runs_under_systemd(tmp_path):
    nobody = pwd.getpwnam('nobody')
    port = free_port()
    config_file = tmp_path / 'glance-api.conf'
    config_file.write_text(
        '[DEFAULT]\n'
        'bind_host = 127.0.0.1\n'
        f'bind_port = {port}\n'
        'workers = 2\n'
        'state_path = /opt/home/.config/glance\n')
    units = tmp_path / 'units'
    units.mkdir()
    for target in TARGETS:
        (units / f'{target}.target').write_text('[Unit]\n')
    shutil.copy(UNIT, units)
    (units / 'glance-api.service.d').mkdir()
    log = tmp_path / 'glance-api.log'
    (units / 'glance-api.service.d' / 'test.conf').write_text(
        '[Service]\n'
        'User=nobody\n'
        f'Group={grp.getgrgid(nobody.pw_gid).gr_name}\n'
        'ExecStart=\n'
        'ExecStart=/opt/glance/bin/glance-api'
        ' --config-file /opt/glance/etc/glance/glance-api.conf\n'
        f'StandardOutput=append:{log}\n'
        f'StandardError=append:{log}\n')
    url = f'http://127.0.0.1:{port}'

    with user_manager(tmp_path, config_file) as manager:
        # Type=notify: start returns once the daemon sent READY=1.
        started = systemctl(manager, 'start', 'glance-api.service')
        assert started.returncode == 0, (
            started.stderr + (tmp_path / 'console.log').read_text()
            + log.read_text())
        main_pid = int(systemctl(manager, 'show', '-p', 'MainPID',
                                 '--value', 'glance-api.service').stdout)
        status = statuses(main_pid)
        assert status['Uid'].split()[0] == str(nobody.pw_uid)
        assert (status['CapEff'], status['CapBnd'], status['NoNewPrivs'],
                status['Seccomp']) == ('0' * 16, '0' * 16, '1', '2')

        data = os.urandom(3 * 1024 * 1024 + 17)
        for body in (data, iter([data[:65536], data[65536:]])):
            image = requests.post(
                url + '/v2/images', timeout=TIMEOUT,
                json={'disk_format': 'raw', 'container_format': 'bare'}
            ).json()
            upload = requests.put(
                f'{url}/v2/images/{image["id"]}/file', data=body,
                headers={'Content-Type': 'application/octet-stream'},
                timeout=TIMEOUT)
            assert upload.status_code == 204, upload.text
            assert requests.get(f'{url}/v2/images/{image["id"]}/file',
                                timeout=TIMEOUT).content == data
            assert requests.get(
                f'{url}/v2/images/{image["id"]}', timeout=TIMEOUT
            ).json()['checksum'] == hashlib.md5(data).hexdigest()

        assert systemctl(manager, 'reload',
                         'glance-api.service').returncode == 0
        wait_for(lambda: 'SIGHUP: reloading' in log.read_text(), 'reload',
                 timeout=TIMEOUT, interval=0.1)
        assert requests.get(url + '/v2/images',
                            timeout=TIMEOUT).status_code == 200

        stopped = systemctl(manager, 'stop', 'glance-api.service')
        assert stopped.returncode == 0, stopped.stderr
        assert 'All workers have exited' in log.read_text()
        assert 'Traceback' not in log.read_text(), log.read_text()
