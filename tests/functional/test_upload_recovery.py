"""Uploads and deletions interrupted by kill -9, against the real daemon.

A worker (or the master and its workers) is killed mid-upload, mid-delete
or during a burst of creates; after the sweep of the surviving workers,
or after a restart, every image must be consistent with the store
directory: none stuck in saving, no unfinished (.partial) data, no data
without an image, no active image without its complete data, and each
interrupted image uploadable again.
"""
from concurrent.futures import ThreadPoolExecutor
import hashlib
import os
import signal
import socket
import time

import pytest
import requests

from tests.functional import process
from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import create_image
from tests.helpers import wait_for

MiB = 1024 * 1024
TIMEOUT = 60
SIZE = 8 * MiB
# Short, so that the sweeps of the tests come quickly.
SWEEP_CONFIG = ('[DEFAULT]\n'
                'upload_lease_time = 3\n'
                'upload_sweep_interval = 1\n')


@pytest.fixture
def api(tmp_path):
    with serving(GlanceApi(tmp_path / 'glance-api', extra_config=SWEEP_CONFIG,
                           workers=2)) as server:
        yield server


def store_dir(api):
    return os.path.join(api.state_path, 'images')


def store_files(api):
    return sorted(os.listdir(store_dir(api)))


def image_of(api, image_id):
    response = requests.get(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def all_images(api):
    response = requests.get(f'{api.url}/v2/images?limit=1000',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()['images']


def put_data(api, image_id, data):
    return requests.put(f'{api.url}/v2/images/{image_id}/file', data=data,
                        headers={'Content-Type': 'application/octet-stream'},
                        timeout=TIMEOUT)


def begin_upload(api, path, data, sent, method='PUT', headers=()):
    """A raw connection that sends the head of an upload of `data` and
    its first `sent` bytes, and stays open."""
    connection = socket.create_connection(('127.0.0.1', api.port),
                                          timeout=TIMEOUT)
    head = [f'{method} {path} HTTP/1.1', 'Host: 127.0.0.1',
            'Content-Type: application/octet-stream',
            f'Content-Length: {len(data)}', *headers, '', '']
    connection.sendall('\r\n'.join(head).encode() + data[:sent])
    return connection


def kill_worker_serving(api, connection):
    """kill -9 of the worker that serves `connection`."""
    client_port = connection.getsockname()[1]
    workers = process.child_pids(api.pid)
    pid = wait_for(
        lambda: process.pid_serving(workers, api.port, client_port),
        'the worker serving the upload')
    os.kill(pid, signal.SIGKILL)
    return pid


def kill_all(api):
    """kill -9 of the master; its workers exit on their own."""
    os.kill(api.pid, signal.SIGKILL)
    api.process.wait(TIMEOUT)
    wait_for(lambda: not api.group_alive(), 'the workers to exit')
    api.kill()  # reaps, marks stopped: nothing of the group is left


def restart(api):
    api.stop()
    api.start()


def partials(api):
    return [name for name in store_files(api) if name.endswith('.partial')]


def check_consistent(api, expected=None):
    """Every image agrees with the store directory; `expected` {image id:
    data} of the images whose data may be active."""
    expected = expected or {}
    images = all_images(api)
    assert not [i['id'] for i in images if i['status'] == 'saving']
    assert partials(api) == []
    active = {i['id']: i for i in images if i['status'] == 'active'}
    # Data files are the active images' and no others'.
    assert store_files(api) == sorted(active)
    for image_id, image in active.items():
        path = os.path.join(store_dir(api), image_id)
        assert os.path.getsize(path) == image['size']
        if image_id in expected:
            data = expected[image_id]
            assert image['size'] == len(data)
            assert image['checksum'] == hashlib.md5(data).hexdigest()
            with open(path, 'rb') as stored:
                assert stored.read() == data
    return images


def uploadable_again(api, image_id):
    data = os.urandom(MiB + 7)
    response = put_data(api, image_id, data)
    assert response.status_code == 204, response.text
    image = image_of(api, image_id)
    assert image['status'] == 'active'
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    return data


def wait_until_saving(api, image_id):
    wait_for(lambda: image_of(api, image_id)['status'] == 'saving',
             'the upload to start')


def wait_for_partial_of(api, image_id, at_least):
    def grown():
        for name in partials(api):
            if name.startswith(f'.{image_id}.'):
                try:
                    size = os.path.getsize(os.path.join(store_dir(api),
                                                        name))
                except FileNotFoundError:
                    continue
                return size >= at_least
        return False
    wait_for(grown, f'{at_least} bytes written')


def wait_until_not_saving(api, image_id, timeout=30):
    return wait_for(
        lambda: (image := image_of(api, image_id))['status'] != 'saving'
        and image, 'the sweep', timeout=timeout)


@pytest.mark.parametrize('sent', [0, SIZE // 2, SIZE],
                         ids=['early', 'middle', 'after-the-last-byte'])
def test_worker_killed_mid_upload(api, sent):
    image = create_image(api, name='interrupted')
    data = os.urandom(SIZE)
    connection = begin_upload(api, f'/v2/images/{image["id"]}/file', data,
                              sent)
    try:
        if sent < SIZE:
            wait_until_saving(api, image['id'])
            if sent:
                wait_for_partial_of(api, image['id'], MiB)
        kill_worker_serving(api, connection)
    finally:
        connection.close()

    # The surviving worker's sweep finds the upload dead.
    found = wait_until_not_saving(api, image['id'])
    if sent < SIZE:
        assert found['status'] == 'queued'
    else:
        # The answer may have been on its way: complete, or not at all.
        assert found['status'] in ('queued', 'active')
    check_consistent(api, {image['id']: data})
    if found['status'] == 'queued':
        assert found['size'] is None
        uploadable_again(api, image['id'])
    check_consistent(api)


def test_worker_killed_mid_v1_upload_leaves_killed(api):
    response = requests.post(
        f'{api.url}/v1/images', timeout=TIMEOUT,
        headers={'x-image-meta-name': 'classic',
                 'x-image-meta-disk_format': 'raw',
                 'x-image-meta-container_format': 'bare'})
    assert response.status_code == 201, response.text
    image_id = response.json()['image']['id']
    data = os.urandom(SIZE)
    connection = begin_upload(api, f'/v1/images/{image_id}', data,
                              SIZE // 2)
    try:
        wait_until_saving(api, image_id)
        wait_for_partial_of(api, image_id, MiB)
        kill_worker_serving(api, connection)
    finally:
        connection.close()

    # As a failed classic upload: killed (and so not listed).
    assert wait_until_not_saving(api, image_id)['status'] == 'killed'
    assert partials(api) == []
    assert store_files(api) == []


def test_master_and_workers_killed_mid_upload(api):
    images = [create_image(api, name=f'cut-{i}') for i in range(3)]
    data = os.urandom(SIZE)
    connections = []
    try:
        for image in images:
            connections.append(begin_upload(
                api, f'/v2/images/{image["id"]}/file', data, SIZE // 2))
        for image in images:
            wait_until_saving(api, image['id'])
        kill_all(api)
    finally:
        for connection in connections:
            connection.close()
    assert len(partials(api)) == 3

    # The start itself puts them back: no wait for a lease.
    api.start()
    found = {i['id']: i['status'] for i in check_consistent(api)}
    assert found == {image['id']: 'queued' for image in images}
    for image in images:
        uploadable_again(api, image['id'])
    check_consistent(api)


def test_killed_upload_of_a_deleted_image_leaves_no_partial(api):
    image = create_image(api, name='deleted meanwhile')
    data = os.urandom(SIZE)
    connection = begin_upload(api, f'/v2/images/{image["id"]}/file', data,
                              SIZE // 2)
    try:
        wait_until_saving(api, image['id'])
        wait_for_partial_of(api, image['id'], MiB)
        response = requests.delete(f'{api.url}/v2/images/{image["id"]}',
                                   timeout=TIMEOUT)
        assert response.status_code == 204, response.text
        kill_worker_serving(api, connection)
    finally:
        connection.close()
    wait_for(lambda: not partials(api), 'the sweep', timeout=30)
    assert store_files(api) == []


def test_unclaimed_partials_go_at_start(api):
    """Unfinished data no upload claims (left by an older version, say)
    is removed at the next start; none of a live upload is."""
    image = create_image(api, name='live')
    data = os.urandom(SIZE)
    connection = begin_upload(api, f'/v2/images/{image["id"]}/file', data,
                              SIZE // 2)
    try:
        wait_until_saving(api, image['id'])
        wait_for_partial_of(api, image['id'], MiB)
        stray = os.path.join(store_dir(api), '.%s.0123456789abcdef.partial'
                             % ('1' * 8 + '-1111-1111-1111-' + '1' * 12))
        with open(stray, 'wb') as partial:
            partial.write(b'left over')
        # Another node starting on the same database and directory.
        with other_node(api, 'other'):
            assert not os.path.exists(stray)
            assert len(partials(api)) == 1
        connection.sendall(data[SIZE // 2:])
        assert b' 204 ' in connection.recv(4096)
    finally:
        connection.close()
    found = check_consistent(api, {image['id']: data})
    assert [i['status'] for i in found] == ['active']


def other_node(api, host):
    """Another node (`host`), with its own log, on the database and
    store directory of `api`."""
    other = GlanceApi(os.path.join(api.directory, host), workers=1,
                      extra_config=SWEEP_CONFIG + f'host = {host}\n')
    other.state_path = api.state_path
    return other


def test_other_nodes_tell_live_uploads_from_dead_ones(tmp_path):
    """A node takes another node's upload for dead only once its lease
    has expired: never while its process renews it, however slow the
    client."""
    node_a = GlanceApi(tmp_path / 'a', workers=1,
                       extra_config=SWEEP_CONFIG + 'host = node-a\n')
    with node_a, other_node(node_a, 'node-b') as node_b:
        slow, cut = (create_image(node_a, name=name)
                     for name in ('slow', 'cut'))
        data = os.urandom(SIZE)
        connection = begin_upload(node_a, f'/v2/images/{slow["id"]}/file',
                                  data, MiB)
        try:
            wait_until_saving(node_a, slow['id'])
            # Two leases without a byte, node B sweeping all along.
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                assert image_of(node_b, slow['id'])['status'] == 'saving'
                time.sleep(0.5)
            connection.sendall(data[MiB:])
            assert b' 204 ' in connection.recv(4096)
        finally:
            connection.close()
        assert image_of(node_b, slow['id'])['status'] == 'active'

        connection = begin_upload(node_a, f'/v2/images/{cut["id"]}/file',
                                  data, SIZE // 2)
        try:
            wait_until_saving(node_a, cut['id'])
            wait_for_partial_of(node_a, cut['id'], MiB)
            # The whole node at once, as a power cut: its lease was just
            # renewed.
            node_a.kill()
        finally:
            connection.close()
        started = time.monotonic()
        found = wait_until_not_saving(node_b, cut['id'])
        # Not before the lease (3 s) expired: node B cannot see node A's
        # processes.
        assert time.monotonic() - started > 1
        assert found['status'] == 'queued'
        check_consistent(node_b, {slow['id']: data})
        uploadable_again(node_b, cut['id'])


def test_killed_during_deletes(api):
    data = os.urandom(2 * MiB)
    ids = []
    for i in range(20):
        image = create_image(api, name=f'doomed-{i}')
        assert put_data(api, image['id'], data).status_code == 204
        ids.append(image['id'])

    def delete(image_id):
        try:
            requests.delete(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
        except requests.RequestException:
            pass

    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(delete, image_id) for image_id in ids]
        wait_for(lambda: len(store_files(api)) < len(ids), 'some deletes',
                 interval=0.001)
        kill_all(api)
        for future in futures:
            future.result()

    api.start()
    check_consistent(api, dict.fromkeys(ids, data))


def test_burst_of_creates_killed(api):
    """Every image the client was told was created exists, complete."""
    created = {}

    def create(i):
        data = os.urandom(MiB + i)
        try:
            response = requests.post(
                f'{api.url}/v1/images', data=data, timeout=TIMEOUT,
                headers={'x-image-meta-name': f'burst-{i}',
                         'x-image-meta-disk_format': 'raw',
                         'x-image-meta-container_format': 'bare',
                         'Content-Type': 'application/octet-stream'})
        except requests.RequestException:
            return
        if response.status_code == 201:
            created[response.json()['image']['id']] = data

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(create, i) for i in range(60)]
        wait_for(lambda: len(created) >= 5, 'some creates', interval=0.001)
        kill_all(api)
        for future in futures:
            future.result()

    api.start()
    images = {i['id']: i for i in check_consistent(api, created)}
    for image_id in created:
        assert images[image_id]['status'] == 'active'
