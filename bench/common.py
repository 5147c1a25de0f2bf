"""Helpers for the benchmarks: a glance-api daemon of this checkout on a
free loopback port, process memory, and percentiles."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASTE = os.path.join(REPO, 'etc', 'glance-api-paste.ini')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def daemon(workers=None, extra_config='', state_path=None, wrapper=(),
           start_timeout=30):
    """Start glance-api (default flavor, SQLite, filesystem store) with its
    state in `state_path` (default: a temporary directory); yield (url,
    master pid); stop it by PID. The state directory is removed after.

    wrapper: a command that runs glance-api (valgrind, say) in its own
    process, so that the pid yielded is glance-api's."""
    state = state_path or tempfile.mkdtemp(prefix='glance-bench-')
    port = free_port()
    config = os.path.join(state, 'glance-api.conf')
    with open(config, 'w') as f:
        f.write('[DEFAULT]\nstate_path = %s\nbind_host = 127.0.0.1\n'
                'bind_port = %d\n%s\n[paste_deploy]\nconfig_file = %s\n%s'
                % (state, port,
                   '' if workers is None else 'workers = %d' % workers,
                   PASTE, extra_config))
    command = [*wrapper, sys.executable,
               os.path.join(os.path.dirname(sys.executable), 'glance-api'),
               '--config-file', config]
    log = open(os.path.join(state, 'glance-api.log'), 'w')
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = 'http://127.0.0.1:%d' % port
    try:
        deadline = time.time() + start_timeout
        while True:
            try:
                urllib.request.urlopen(url + '/versions', timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError('glance-api did not start; see %s'
                                       % log.name)
                time.sleep(0.2)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def children(pid):
    """PIDs of the direct children of a process (the workers)."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def rss_bytes(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    """User+system CPU of a process and its reaped children."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf('SC_CLK_TCK')


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float('nan')
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index]
