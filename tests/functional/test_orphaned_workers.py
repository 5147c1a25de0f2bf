"""Workers of a glance-api whose master was killed (kill -9): they stop
taking connections at once, give the requests in progress a few seconds,
and exit, so that a new glance-api binds the port and serves."""
import http.client
import os
import signal
import socket
import threading
import time

import requests

from glance.common import server as glance_server
from tests.functional.daemon import GlanceApi
from tests.functional.process import child_pids
from tests.functional.process import live_processes
from tests.helpers import create_image
from tests.helpers import wait_for

TIMEOUT = 30
# How long an orphaned worker may live at most, with room for a busy
# machine: the wait for requests to start, the grace for those in
# progress, and slack.
ORPHAN_LIFETIME = (glance_server.REQUEST_START_GRACE
                   + glance_server.ORPHANED_WORKER_GRACE + 5)


def kill_master(api):
    """kill -9 of the master, reaped; returns its workers' pids."""
    workers = wait_for(lambda: len(pids := child_pids(api.pid)) == 2
                       and pids, 'two workers')
    os.kill(api.pid, signal.SIGKILL)
    api.process.wait(timeout=TIMEOUT)
    return workers


def alive(pids):
    """Those of `pids` still living (not zombies)."""
    return {pid for pid, _, _ in live_processes() if pid in pids}


def refuses_connections(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def a_new_glance_api_serves(tmp_path, port):
    with GlanceApi(tmp_path / 'successor', workers=1, port=port) as api:
        response = requests.get(api.url + '/v2/images', timeout=TIMEOUT)
        assert response.status_code == 200
        assert api.port == port


def trickled_upload(api, image_id, data, seconds, outcome):
    """PUT the data in 16 pieces over `seconds`; its outcome: (status,
    body), or the error the client got."""
    def body():
        size = len(data) // 16
        for start in range(0, len(data), size):
            yield data[start:start + size]
            time.sleep(seconds / 16)

    connection = http.client.HTTPConnection('127.0.0.1', api.port,
                                            timeout=TIMEOUT)
    try:
        connection.request(
            'PUT', f'/v2/images/{image_id}/file', body=body(),
            headers={'Content-Type': 'application/octet-stream',
                     'Content-Length': str(len(data))})
        response = connection.getresponse()
        outcome['answer'] = (response.status, response.read())
    except (OSError, http.client.HTTPException) as error:
        outcome['answer'] = error
    finally:
        connection.close()


def start_upload(api, seconds):
    image_id = create_image(api)['id']
    outcome = {}
    client = threading.Thread(
        target=trickled_upload,
        args=(api, image_id, os.urandom(64 * 1024), seconds, outcome),
        daemon=True)
    client.start()
    # Under way: the image is saving.
    wait_for(lambda: requests.get(f'{api.url}/v2/images/{image_id}',
                                  timeout=TIMEOUT).json()['status']
             == 'saving', 'the upload to start')
    return client, outcome


def test_workers_of_a_killed_master_exit_and_free_the_port(tmp_path):
    api = GlanceApi(tmp_path / 'api', workers=2)
    with api:
        workers = kill_master(api)
        started = time.monotonic()

        wait_for(lambda: not alive(workers), 'the workers to exit',
                 timeout=ORPHAN_LIFETIME)
        # Idle, they need no grace for requests.
        assert (time.monotonic() - started
                < glance_server.ORPHANED_WORKER_GRACE)
        assert refuses_connections(api.port)
        assert 'the master process is gone' in api.log()

        a_new_glance_api_serves(tmp_path, api.port)


def test_an_upload_in_progress_may_finish_within_the_grace(tmp_path):
    api = GlanceApi(tmp_path / 'api', workers=2)
    with api:
        client, outcome = start_upload(api, seconds=3)
        workers = kill_master(api)

        # No new connection is taken meanwhile.
        wait_for(lambda: refuses_connections(api.port),
                 'connections to be refused', timeout=ORPHAN_LIFETIME)
        client.join(TIMEOUT)
        assert outcome['answer'] == (204, b'')
        wait_for(lambda: not alive(workers), 'the workers to exit',
                 timeout=ORPHAN_LIFETIME)

        a_new_glance_api_serves(tmp_path, api.port)


def test_an_upload_longer_than_the_grace_does_not_keep_a_worker(tmp_path):
    api = GlanceApi(tmp_path / 'api', workers=2)
    with api:
        client, outcome = start_upload(api, seconds=60)
        workers = kill_master(api)
        started = time.monotonic()

        wait_for(lambda: not alive(workers), 'the workers to exit',
                 timeout=ORPHAN_LIFETIME)
        elapsed = time.monotonic() - started
        assert elapsed >= glance_server.ORPHANED_WORKER_GRACE
        # The client learns its upload was cut short.
        client.join(TIMEOUT)
        assert isinstance(outcome['answer'], (OSError,
                                              http.client.HTTPException))
        assert 'requests still in progress' in api.log()

        a_new_glance_api_serves(tmp_path, api.port)
