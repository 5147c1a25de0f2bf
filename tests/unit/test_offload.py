"""Calls chained on other threads (glance.common.offload.Chain): the
upload's hashes and writes. Without eventlet, as under a WSGI server; the
daemon's eventlet flavor runs in the functional upload tests."""
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
