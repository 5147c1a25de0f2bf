"""The one launcher of the servers the functional tests run.

    with ServerProcess(command, log_file, ready=lambda: ...) as server:
        ...

A ServerProcess starts `command` in a session of its own (so that its
workers share its process group), its output appended to `log_file`,
waits until `ready()` is true (raising with the log if the process exits
first or the wait lasts longer than `start_timeout`), and stops it by PID:
SIGTERM (or what `request_stop` does), a wait, then SIGKILL of its process
group for whatever is left, and the reaping of the process. `serving()`
is the usual fixture body: start, yield, stop and print the log.
"""
import contextlib
import http.client
import os
import signal
import subprocess
import time

# Generous: a start and a stop normally take about a second.
START_TIMEOUT = 30
STOP_TIMEOUT = 15


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


def _tcp_inode(local_port, remote_port):
    """The socket inode of the IPv4 TCP connection from 127.0.0.1's
    `local_port` to `remote_port`, None if there is none."""
    with open('/proc/net/tcp') as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (int(local.split(':')[1], 16) == local_port
                    and int(remote.split(':')[1], 16) == remote_port):
                return fields[9]
    return None


def pid_serving(pids, server_port, client_port):
    """Which of `pids` holds the server side of the connection a client
    opened from `client_port` to `server_port` (None: none of them)."""
    inode = _tcp_inode(server_port, client_port)
    if inode is None:
        return None
    target = f'socket:[{inode}]'
    for pid in pids:
        try:
            fds = os.listdir(f'/proc/{pid}/fd')
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f'/proc/{pid}/fd/{fd}') == target:
                    return pid
            except OSError:
                continue
    return None


def answers(port, path='/', statuses=(200,), timeout=5):
    """Whether a GET of `path` on 127.0.0.1:`port` answers one of
    `statuses`."""
    connection = http.client.HTTPConnection('127.0.0.1', port,
                                            timeout=timeout)
    try:
        connection.request('GET', path)
        return connection.getresponse().status in statuses
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class ServerProcess:
    """A server subprocess in a session of its own, with its log."""

    def __init__(self, command, log_file, env=None, cwd=None, ready=None,
                 name=None, start_timeout=None, request_stop=None,
                 poll_interval=0.05):
        self.command = list(command) if command else None
        self.log_file = log_file
        self.env = env
        self.cwd = cwd
        self.ready = ready
        self.name = name or (os.path.basename(self.command[0])
                             if self.command else 'the server')
        self.start_timeout = start_timeout
        self.request_stop = request_stop
        self.poll_interval = poll_interval
        self.process = None
        # Once stopped, the group id may belong to someone else: hands off.
        self.stopped = False

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        try:
            with open(self.log_file, errors='replace') as log:
                return log.read()
        except (OSError, TypeError):
            return ''

    def spawn(self):
        """Start the process, without waiting for it to be ready."""
        with open(self.log_file, 'ab') as log:
            # A session of its own, so that stop() can kill the group.
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                start_new_session=True)
        self.stopped = False
        return self

    def wait_until_ready(self):
        """Wait until ready() is true; raise with the log if the process
        exits first or does not get ready in time."""
        timeout = self.start_timeout or START_TIMEOUT
        deadline = time.monotonic() + timeout
        while not (self.ready is None or self.ready()):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f'{self.name} exited with {self.process.returncode}:\n'
                    f'{self.log()}')
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f'{self.name} was not ready in {timeout} s:\n'
                    f'{self.log()}')
            time.sleep(self.poll_interval)
        return self

    def start(self):
        """Start and wait until ready; stopped again if it is not."""
        self.spawn()
        try:
            return self.wait_until_ready()
        except Exception:
            self.stop()
            raise

    def group_pids(self):
        """The live (not zombie) processes of the server's process group:
        the server and its workers."""
        return {pid for pid, _, group in live_processes()
                if group == self.process.pid}

    def group_alive(self):
        """Whether any process of the server's group lives."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self):
        """SIGTERM to the server (it stops its workers), SIGKILL to its
        process group if it is not gone in time. Returns the exit code."""
        if self.process is None or self.stopped:
            return None if self.process is None else self.process.returncode
        self.stopped = True
        process, pid = self.process, self.process.pid
        if process.poll() is None:
            if self.request_stop:
                self.request_stop()
            else:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        self._kill_group()
        return process.returncode

    def kill(self):
        """SIGKILL to the whole process group at once, and reap."""
        if self.process is None or self.stopped:
            return
        self.stopped = True
        self._kill_group()

    def _kill_group(self):
        # Members of the group left (a hung parent, orphaned workers): the
        # group id cannot have been reused while any member lives.
        process, pid = self.process, self.process.pid
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:
            process.poll()  # Reap the server once dead: no zombie member.
            if not self.group_alive() or time.monotonic() > deadline:
                break
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        if process.poll() is None:
            process.wait(timeout=STOP_TIMEOUT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@contextlib.contextmanager
def serving(server, name=None):
    """Start `server`, yield it, stop it and print its log (shown by
    pytest with -s, or when the test or teardown failed)."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
        print(f'--- log of {name or server.name} on port '
              f'{getattr(server, "port", None)}:\n{server.log()}')
