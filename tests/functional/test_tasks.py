"""Tasks against the real daemon: requests, curl, and the legacy import
task interrupted by kill -9 (the glance CLI's task commands, which need
a project, are in test_tasks_keystone.py).

The import sources are served on loopback by the tests, slowly where a
test has to kill the daemon mid-fetch. After a worker dies, the sweep of
the other workers fails its task; after the whole daemon dies, the next
start does: the task ends in failure with a message, its image is gone
and the store holds nothing of it.
"""
import hashlib
import http.server
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
import requests

from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import WebServer
from tests.helpers import wait_for

TIMEOUT = 60
MiB = 1024 * 1024
CONFIG = ('[DEFAULT]\nupload_lease_time = 3\nupload_sweep_interval = 1\n'
          '[import_filtering_opts]\nallowed_hosts = [127.0.0.1]\n'
          'allowed_ports = []\n')


@pytest.fixture
def api(tmp_path):
    with serving(GlanceApi(tmp_path / 'glance-api', extra_config=CONFIG,
                           workers=2)) as server:
        yield server


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """Serves `server.size` bytes, 64 KiB at a time, `server.pause`
    seconds apart (the test kills the daemon meanwhile)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.started.append(self.path)
        self.send_response(200)
        self.send_header('Content-Length', str(self.server.size))
        self.end_headers()
        chunk = b'\x5a' * (64 * 1024)
        try:
            for _ in range(self.server.size // len(chunk)):
                self.wfile.write(chunk)
                time.sleep(self.server.pause)
        except OSError:
            pass  # the daemon went away


@pytest.fixture
def slow_source():
    server = WebServer(handler=SlowHandler)
    server.server.size = 16 * MiB
    server.server.pause = 0.05  # about 13 s for all of it
    server.server.started = []
    server.start()
    yield server
    server.stop()


@pytest.fixture
def source():
    data = os.urandom(2 * MiB + 3)
    server = WebServer({'/image.raw': data}).start()
    server.data = data
    yield server
    server.stop()


def import_input(url, **properties):
    properties = properties or {'disk_format': 'raw',
                                'container_format': 'bare'}
    return {'import_from': url, 'import_from_format': 'raw',
            'image_properties': properties}


def post_task(api, url):
    response = requests.post(f'{api.url}/v2/tasks', json={
        'type': 'import', 'input': import_input(url)}, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def task_of(api, task_id):
    response = requests.get(f'{api.url}/v2/tasks/{task_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def ended(api, task_id, timeout=TIMEOUT):
    return wait_for(
        lambda: (task := task_of(api, task_id))['status'] in (
            'success', 'failure') and task, 'the task to end',
        timeout=timeout)


def store_files(api):
    path = os.path.join(api.state_path, 'images')
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def task_row(api, task_id):
    with sqlite3.connect(os.path.join(api.state_path,
                                      'glance.sqlite')) as database:
        return database.execute(
            'SELECT status, image_id, process FROM tasks WHERE id = ?',
            (task_id,)).fetchone()


def fetching(api, task_id):
    """Wait until the task's image is saving with data written; returns
    (image id, pid of the worker running the task)."""
    def started():
        status, image_id, process = task_row(api, task_id)
        if status != 'processing' or not image_id:
            return None
        partial = [n for n in store_files(api) if n.startswith(
            f'.{image_id}.') and n.endswith('.partial')]
        if not partial:
            return None
        size = os.path.getsize(os.path.join(api.state_path, 'images',
                                            partial[0]))
        return size > MiB and (image_id, int(process.split(':')[1]))
    return wait_for(started, 'the import to be under way')


def assert_undone(api, task, image_id):
    assert task['status'] == 'failure'
    assert task['message'].startswith('The task was interrupted'), task
    assert 'result' not in task or task['result'] is None
    response = requests.get(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 404
    assert requests.get(f'{api.url}/v2/images',
                        timeout=TIMEOUT).json()['images'] == []
    assert store_files(api) == []


def test_import_task_over_http(api, source):
    task = post_task(api, source.url + '/image.raw')
    assert task['status'] in ('pending', 'processing', 'success')

    task = ended(api, task['id'])
    assert task['status'] == 'success', task
    image_id = task['result']['image_id']
    image = requests.get(f'{api.url}/v2/images/{image_id}',
                         timeout=TIMEOUT).json()
    assert image['status'] == 'active'
    assert image['checksum'] == hashlib.md5(source.data).hexdigest()
    assert store_files(api) == [image_id]


def test_curl_sees_the_tasks_api(api, source):
    task = ended(api, post_task(api, source.url + '/image.raw')['id'])

    def curl(*args):
        result = subprocess.run(
            ['curl', '-s', '-i', '--noproxy', '127.0.0.1', *args],
            capture_output=True, text=True, timeout=TIMEOUT, check=True)
        return result.stdout

    answer = curl('-X', 'DELETE', f'{api.url}/v2/tasks/{task["id"]}')
    assert answer.startswith('HTTP/1.1 405')
    assert 'Allow: GET' in answer
    assert 'auto deleted after reaching the time' in answer
    listed = curl(f'{api.url}/v2/tasks?status=success&type=import')
    body = json.loads(listed.split('\n\n', 1)[1])
    assert [t['id'] for t in body['tasks']] == [task['id']]
    answer = curl(f'{api.url}/v2/tasks?status=bogus')
    assert answer.startswith('HTTP/1.1 400')
    assert 'Invalid status value: bogus' in answer
    schema = json.loads(curl(f'{api.url}/v2/schemas/task')
                        .split('\n\n', 1)[1])
    assert schema['name'] == 'task'


def test_daemon_killed_mid_import_then_restarted(api, slow_source):
    task = post_task(api, slow_source.url + '/big.raw')
    image_id, _worker = fetching(api, task['id'])

    os.kill(api.pid, signal.SIGKILL)
    api.process.wait(TIMEOUT)
    wait_for(lambda: not api.group_alive(), 'the workers to exit')
    api.kill()
    assert task_row(api, task['id'])[0] == 'processing'

    # The start itself fails the task: no wait for a lease.
    api.start()
    task = task_of(api, task['id'])
    assert_undone(api, task, image_id)
    assert task['expires_at']


def test_worker_killed_mid_import_is_swept(api, slow_source):
    task = post_task(api, slow_source.url + '/big.raw')
    image_id, worker = fetching(api, task['id'])

    os.kill(worker, signal.SIGKILL)

    # A surviving (or respawned) worker's periodic sweep fails it.
    task = ended(api, task['id'], timeout=30)
    assert_undone(api, task, image_id)
