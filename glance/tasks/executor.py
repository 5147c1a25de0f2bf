"""The executor: runs a task's work in the serving process, beside the
requests, without holding any of them up.

Under the eventlet daemon, threading is monkey patched and each task
gets a green thread of its worker; under uwsgi or gunicorn, a real
daemon thread (which leaves the server's signals to its main thread).
Either way a task dying with its process is found by the sweeps (see
glance.images.legacy_import).
"""
import logging
import threading

from glance.common import offload

LOG = logging.getLogger(__name__)


def _run(function, args):
    if not offload.eventlet_active():  # a green thread shares its OS
        offload.leave_signals_to_the_main_thread()  # thread's mask
    try:
        function(*args)
    except Exception:
        LOG.exception('Task %s failed unexpectedly', function.__name__)


def spawn(function, *args):
    """Start function(*args) on its own (green) thread; returns it."""
    thread = threading.Thread(target=_run, args=(function, args),
                              name='glance-task', daemon=True)
    thread.start()
    return thread
