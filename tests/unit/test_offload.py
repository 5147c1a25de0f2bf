"""Calls chained on other threads (glance.common.offload.Chain): the
upload's hashes and writes. In this process without eventlet, as under a
WSGI server; with eventlet, as in glance-api, in a process of its own."""
import signal
import subprocess
import sys
import threading
import time

import pytest

from glance.common import offload


def test_calls_run_in_order_on_other_threads():
    calls = []
    chain = offload.Chain(ahead=3)
    # The first calls take longest: order must not depend on speed.
    for n, delay in enumerate([0.05, 0.03, 0.01, 0, 0, 0]):
        chain.call(lambda n=n, delay=delay: (
            time.sleep(delay),
            calls.append((n, threading.get_ident()))))
    chain.wait()

    assert [n for n, _ in calls] == list(range(6))
    assert threading.get_ident() not in {ident for _, ident in calls}


def test_caller_goes_on_while_calls_run_but_never_more_than_ahead():
    release = threading.Event()
    started = []
    chain = offload.Chain(ahead=2)
    chain.call(lambda: (started.append(1), release.wait(5)))
    chain.call(lambda: started.append(2))
    # Two calls are pending and the caller was not held up.
    assert len(chain.pending) == 2

    adder = threading.Thread(target=chain.call,
                             args=(lambda: started.append(3),))
    adder.start()
    adder.join(0.2)
    assert adder.is_alive()  # a third waits for the first to finish
    release.set()
    adder.join(5)
    chain.wait()
    assert started == [1, 2, 3]


def test_an_error_stops_the_calls_after_it_and_is_raised():
    ran = []
    chain = offload.Chain(ahead=3)
    chain.call(ran.append, 1)
    chain.call(lambda: 1 / 0)
    chain.call(ran.append, 3)

    with pytest.raises(ZeroDivisionError):
        chain.wait()
    assert ran == [1]


def test_an_error_is_raised_by_a_later_call_once_it_is_the_oldest():
    chain = offload.Chain(ahead=1)
    chain.call(lambda: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        chain.call(print, 'never')


def test_under_eventlet_an_error_reaches_wait_and_nothing_else(tmp_path):
    # As in glance-api: eventlet's green threads and its pool of OS
    # threads. The error is the caller's to report; eventlet's hub must
    # not print tracebacks of its own for it.
    script = tmp_path / 'chain.py'
    script.write_text(
        'import eventlet\n'
        'eventlet.monkey_patch()\n'
        'from glance.common import offload\n'
        'def disk_full():\n'
        '    raise OSError(28, "No space left on device")\n'
        'chain = offload.Chain()\n'
        'chain.call(disk_full)\n'
        'chain.call(print, "written after the error")\n'
        'try:\n'
        '    chain.wait()\n'
        'except OSError as error:\n'
        '    print("raised:", error)\n'
        'eventlet.sleep(0.1)\n')
    done = subprocess.run([sys.executable, str(script)], capture_output=True,
                          text=True, timeout=60, check=True)

    assert done.stdout == 'raised: [Errno 28] No space left on device\n'
    assert 'Traceback' not in done.stderr


def test_offload_threads_leave_the_servers_signals_to_its_own_thread():
    """uwsgi handles a signal on whichever thread the kernel picks: the
    threads started here must not be among those it can pick."""
    def signal_thread_can_receive():
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        return offload.SERVER_SIGNALS - blocked

    # A thread started from a thread that blocks nothing.
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set()
    assert offload.start(signal_thread_can_receive).wait() == set()
