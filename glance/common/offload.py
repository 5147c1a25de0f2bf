"""Running CPU-bound work (hashing image data) on real threads.

hashlib releases the GIL on large buffers, so hashing on other threads
runs on other cores while the request's own thread reads and writes. Under
eventlet (glance-api) the work goes to eventlet's pool of OS threads and is
waited for without blocking the other requests of the worker; under a
plain WSGI server, to a pool of ordinary threads.
"""
import collections
import concurrent.futures
import signal
import sys

_executor = None


def eventlet_active():
    # Monkey patching imported eventlet; never import it here: imported
    # on a request's thread, it leaves the process hanging at its exit
    # (gunicorn's and uwsgi's workers would not stop).
    patcher = sys.modules.get('eventlet.patcher')
    return patcher is not None and patcher.is_monkey_patched('thread')


def start(function, *args, after=None):
    """Start function(*args) on another thread, once the handle `after`
    (if given) is done; returns a handle whose wait() returns the result
    (or raises the exception, or the one `after` raised)."""
    global _executor
    if eventlet_active():
        import eventlet
        return _GreenResult(eventlet.spawn(
            _outcome, _run_after, after, _in_os_thread, function, args))
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            thread_name_prefix='glance-offload',
            initializer=leave_signals_to_the_main_thread)
    # (A task only ever waits for one submitted before it, which the
    # pool's threads took first: they cannot all end up waiting.)
    return _Future(_executor.submit(_run_after, after, _called, function,
                                    args))


# What a WSGI server tells its workers with.
SERVER_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGQUIT,
                  signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2}


def leave_signals_to_the_main_thread():
    """Block the server's signals in the calling OS thread (one the
    service started), so that the kernel delivers them to the server's
    own thread. uwsgi handles a signal in C on whichever thread the
    kernel picked, and its worker's exit, run there from one of ours,
    can hang until the master's SIGKILL."""
    signal.pthread_sigmask(signal.SIG_BLOCK, SERVER_SIGNALS)


def _run_after(after, run, function, args):
    if after is not None:
        after.wait()
    return run(function, args)


def _in_os_thread(function, args):
    from eventlet import tpool
    return tpool.execute(function, *args)


def _called(function, args):
    return function(*args)


def _outcome(function, *args):
    """(None, result) or (error, None). A green thread that died of an
    error would have eventlet print its traceback, though wait() raises
    the error to the caller, who reports it."""
    try:
        return None, function(*args)
    except Exception as error:
        return error, None


class _GreenResult:
    def __init__(self, green_thread):
        self.green_thread = green_thread

    def wait(self):
        error, result = self.green_thread.wait()
        if error is not None:
            raise error
        return result


class Chain:
    """Calls made on other threads one after another, in order, while the
    caller goes on: with each stage of a stream (a hash, a write) on a
    chain of its own, no stage waits for the others, chunk by chunk.

    At most `ahead` calls are waiting or running: the caller waits for
    the oldest before adding more. An error stops the calls after it and
    is raised by call() or wait().
    """

    def __init__(self, ahead=2):
        self.ahead = ahead
        self.pending = collections.deque()

    def call(self, function, *args):
        if len(self.pending) >= self.ahead:
            self.pending.popleft().wait()
        after = self.pending[-1] if self.pending else None
        self.pending.append(start(function, *args, after=after))

    def wait(self):
        """Wait until every call is done."""
        if self.pending:
            last = self.pending[-1]
            self.pending.clear()
            last.wait()


class _Future:
    def __init__(self, future):
        self.future = future

    def wait(self):
        return self.future.result()
