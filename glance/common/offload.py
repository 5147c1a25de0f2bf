"""Running CPU-bound work (hashing image data) on real threads.

hashlib releases the GIL on large buffers, so hashing on other threads
runs on other cores while the request's own thread reads and writes. Under
eventlet (glance-api) the work goes to eventlet's pool of OS threads and is
waited for without blocking the other requests of the worker; under a
plain WSGI server, to a pool of ordinary threads.
"""
import concurrent.futures

_executor = None


def _eventlet_active():
    try:
        import eventlet.patcher
    except ImportError:
        return False
    return eventlet.patcher.is_monkey_patched('thread')


def start(function, *args):
    """Start function(*args) on another thread; returns a handle whose
    wait() returns the result (or raises the exception)."""
    global _executor
    if _eventlet_active():
        import eventlet
        from eventlet import tpool
        return eventlet.spawn(tpool.execute, function, *args)
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            thread_name_prefix='glance-offload')
    return _Future(_executor.submit(function, *args))


class _Future:
    def __init__(self, future):
        self.future = future

    def wait(self):
        return self.future.result()
