"""The s3 store on the real glance-api daemon, against the S3 API of a
real Swift (the swift_server fixture): uploads of every kind (curl,
requests, the `glance` CLI, openstacksdk), ranged downloads, deletes,
failed and killed uploads, in the multi-store mode (a file and two s3
stores) and in the single-store mode. What the bucket holds is checked
with boto3: an image's object and nothing else, no multipart upload left
open, no segment left behind."""
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest
import requests

from tests.functional import process
from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import GLANCE
from tests.helpers import Glance
from tests.helpers import create_image
from tests.helpers import parse_table
from tests.helpers import wait_for

MiB = 1024 * 1024
TIMEOUT = 120
# Small thresholds, so that small images take every path: a streamed PUT
# below 8 MiB of declared size, multipart uploads of 5 MiB parts above.
LARGE_OBJECT_MIB = 8
PART_MIB = 5
SWEEP_CONFIG = ('upload_lease_time = 3\n'
                'upload_sweep_interval = 1\n')


def s3_options(swift, bucket, **more):
    options = {'s3_store_host': swift.s3_endpoint,
               's3_store_access_key': swift.access_key,
               's3_store_secret_key': swift.secret_key,
               's3_store_region_name': swift.region,
               's3_store_bucket': bucket,
               's3_store_bucket_url_format': 'path',
               's3_store_large_object_size': LARGE_OBJECT_MIB,
               's3_store_large_object_chunk_size': PART_MIB}
    options.update(more)
    return ''.join(f'{key} = {value}\n' for key, value in options.items())


def multistore_config(directory, swift, bucket, fresh_bucket):
    return (
        '[DEFAULT]\n'
        'enabled_backends = local:file, objects:s3, fresh:s3\n'
        + SWEEP_CONFIG +
        '[glance_store]\n'
        'default_backend = objects\n'
        '[local]\n'
        f'filesystem_store_datadir = {directory}/local\n'
        '[objects]\n'
        'store_description = Swift through S3\n'
        'weight = 50\n'
        + s3_options(swift, bucket, s3_store_create_bucket_on_put='true')
        + '[fresh]\n'
        # Its bucket does not exist and may not be created.
        + s3_options(swift, fresh_bucket) +
        '[backend_defaults]\n'
        's3_store_thread_pools = 4\n'
        '[os_glance_staging_store]\n'
        f'filesystem_store_datadir = {directory}/staging\n'
        '[os_glance_tasks_store]\n'
        f'filesystem_store_datadir = {directory}/tasks\n')


class Bucket:
    """What one bucket of the Swift holds, seen through boto3 and
    swiftclient."""

    def __init__(self, swift, name):
        self.swift = swift
        self.name = name
        self.s3 = swift.s3_client()

    def keys(self):
        try:
            pages = self.s3.get_paginator('list_objects_v2').paginate(
                Bucket=self.name)
            return sorted(entry['Key'] for page in pages
                          for entry in page.get('Contents', ()))
        except self.s3.exceptions.NoSuchBucket:
            return []

    def read(self, key):
        return self.s3.get_object(Bucket=self.name, Key=key)['Body'].read()

    def open_uploads(self):
        """(key, upload id) of the unfinished multipart uploads."""
        try:
            answer = self.s3.list_multipart_uploads(Bucket=self.name)
        except self.s3.exceptions.NoSuchBucket:
            return []
        return [(u['Key'], u['UploadId']) for u in answer.get('Uploads', ())]

    def parts_sent(self, key):
        uploads = [upload_id for k, upload_id in self.open_uploads()
                   if k == key]
        if not uploads:
            return 0
        answer = self.s3.list_parts(Bucket=self.name, Key=key,
                                    UploadId=uploads[0])
        return len(answer.get('Parts', ()))

    def segments(self):
        """The objects of the container where Swift keeps the parts of
        multipart objects."""
        from swiftclient.exceptions import ClientException
        connection = self.swift.connection()
        try:
            return [o['name'] for o in connection.get_container(
                self.name + '+segments', full_listing=True)[1]]
        except ClientException as error:
            if error.http_status == 404:
                return []
            raise
        finally:
            connection.close()

    def holds_only(self, keys):
        """The bucket holds these objects, and no unfinished upload and
        no segment of anything else."""
        assert self.keys() == sorted(keys)
        assert self.open_uploads() == []
        # Segments of deleted objects go with them (the fixture's SLO
        # deletes them at once).
        assert all(name.split('/')[0] in keys for name in self.segments())


def reads_of(swift, key):
    """(status, bytes) of each object-server GET of `key` (or of its
    segments) that the Swift log shows so far."""
    with open(swift.path('log', 'swift.log'), errors='replace') as log:
        text = log.read()
    pattern = re.compile(r'object-server: .*"GET /\S+/AUTH_test/[^/"]+/'
                         + re.escape(key) + r'[^"]*" (\d+) (\d+|-)')
    return [(int(status), 0 if sent == '-' else int(sent))
            for status, sent in pattern.findall(text)]


def random_data(size):
    # Random throughout (so no two parts are alike), cheaply: a random
    # block repeated with a counter.
    block = os.urandom(MiB)
    data = bytearray()
    for i in range((size + MiB - 1) // MiB):
        data += i.to_bytes(8, 'big') + block[8:]
    return bytes(data[:size])


def chunks_of(data, size=256 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def image_of(api, image_id):
    response = requests.get(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def upload(api, image_id, data, chunked=False, store=None):
    headers = {'Content-Type': 'application/octet-stream'}
    if store:
        headers['X-Image-Meta-Store'] = store
    body = chunks_of(data) if chunked else data
    return requests.put(f'{api.url}/v2/images/{image_id}/file', data=body,
                        headers=headers, timeout=TIMEOUT)


def download(api, image_id, headers=None):
    return requests.get(f'{api.url}/v2/images/{image_id}/file',
                        headers=headers or {}, timeout=TIMEOUT)


def check_active(api, image_id, data, store='objects'):
    image = image_of(api, image_id)
    assert image['status'] == 'active'
    assert image['size'] == len(data)
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert image['os_hash_value'] == hashlib.sha512(data).hexdigest()
    assert image['stores'] == store
    return image


def location_rows(api, image_id):
    database = sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'))
    try:
        return database.execute(
            'SELECT url, meta_data FROM image_locations WHERE image_id = ? '
            "AND status = 'active'", (image_id,)).fetchall()
    finally:
        database.close()


@pytest.fixture(scope='module')
def buckets(swift_server):
    suffix = uuid.uuid4().hex[:8]
    return (Bucket(swift_server, f'glance-{suffix}'),
            Bucket(swift_server, f'glance-missing-{suffix}'))


@pytest.fixture(scope='module')
def api(tmp_path_factory, swift_server, buckets):
    directory = tmp_path_factory.mktemp('s3-multistore')
    bucket, fresh = buckets
    with serving(GlanceApi(directory, workers=2, extra_config=(
            multistore_config(directory, swift_server, bucket.name,
                              fresh.name)))) as server:
        yield server


@pytest.fixture(scope='module')
def created_bucket(api, buckets):
    """The default store's bucket, which the module's first upload
    creates (s3_store_create_bucket_on_put); what it was like before and
    after."""
    bucket = buckets[0]
    existed = bucket.name in [b['Name'] for b in
                              bucket.s3.list_buckets()['Buckets']]
    image = create_image(api, name='first')
    response = upload(api, image['id'], b'first image')
    assert response.status_code == 204, response.text
    location = bucket.s3.get_bucket_location(Bucket=bucket.name)
    keys = bucket.keys()
    assert requests.delete(f'{api.url}/v2/images/{image["id"]}',
                           timeout=TIMEOUT).status_code == 204
    bucket.created = {'existed before': existed, 'keys': keys,
                      'first image': image['id'],
                      'location': location['LocationConstraint']}
    return bucket


@pytest.fixture
def bucket(api, created_bucket):
    """The default store's bucket, holding only the active images' objects
    (and nothing open) after each test; and no server error meanwhile."""
    bucket = created_bucket
    log_start = len(api.log())
    yield bucket
    new_lines = api.log()[log_start:].splitlines()
    assert not [line for line in new_lines
                if 'Traceback' in line or '" 500 ' in line], new_lines

    def settled():
        active = [i['id'] for i in requests.get(
            f'{api.url}/v2/images?limit=1000', timeout=TIMEOUT).json()[
                'images'] if i['status'] == 'active'
            and 'objects' in i.get('stores', '').split(',')]
        try:
            bucket.holds_only(active)
        except AssertionError:
            return False
        return True
    # A failed upload's answer may come before its abort has finished.
    wait_for(settled, 'the bucket to hold the active images only',
             timeout=30)


# Uploads and downloads


@pytest.mark.parametrize('size, chunked', [
    (0, False), (3 * MiB + 1, False), (3 * MiB + 1, True),
    (LARGE_OBJECT_MIB * MiB - 1, False), (17 * MiB + 5, False),
    (17 * MiB + 5, True), (PART_MIB * MiB, True)],
    ids=['empty', 'small', 'small-chunked', 'just-below-large', 'large',
         'large-chunked', 'one-part-chunked'])
def test_upload_and_download(api, bucket, size, chunked):
    data = random_data(size)
    image = create_image(api, name=f's3-{size}')
    response = upload(api, image['id'], data, chunked=chunked)
    assert response.status_code == 204, response.text
    check_active(api, image['id'], data)
    assert bucket.read(image['id']) == data
    [(url, metadata)] = location_rows(api, image['id'])
    # As glance_store writes it: no credentials.
    host = api_swift_host(bucket)
    assert url == f's3://{host}/{bucket.name}/{image["id"]}'
    assert json.loads(metadata) == {'store': 'objects'}
    # Multipart objects are SLO manifests of their parts in Swift.
    parts = [name for name in bucket.segments()
             if name.startswith(image['id'] + '/')]
    expect_parts = size >= LARGE_OBJECT_MIB * MiB or (
        chunked and size > PART_MIB * MiB)
    assert bool(parts) == expect_parts
    got = download(api, image['id'])
    assert got.status_code == 200
    assert got.content == data
    assert got.headers['Content-MD5'] == hashlib.md5(data).hexdigest()


def api_swift_host(bucket):
    return bucket.swift.s3_endpoint.split('://', 1)[1]


def test_curl_upload_and_ranged_download(api, bucket, tmp_path):
    data = random_data(20 * MiB + 3)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    image = create_image(api, name='curl')
    subprocess.run(
        ['curl', '-sSf', '-X', 'PUT', '-T', str(path), '-H',
         'Content-Type: application/octet-stream',
         f'{api.url}/v2/images/{image["id"]}/file'],
        check=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    check_active(api, image['id'], data)

    before = len(reads_of(bucket.swift, image['id']))
    start = 17 * MiB + 11
    ranged = subprocess.run(
        ['curl', '-sSf', '-r', f'{start}-{start + 999}',
         f'{api.url}/v2/images/{image["id"]}/file'],
        check=True, timeout=TIMEOUT, capture_output=True,
        stdin=subprocess.DEVNULL)
    assert ranged.stdout == data[start:start + 1000]
    # Swift's object servers sent about the range, not the object from
    # its start (one part's segment, 206, and the manifest).
    reads = wait_for(lambda: reads_of(bucket.swift, image['id'])[before:],
                     'the ranged read in the Swift log')
    assert sum(sent for _status, sent in reads) < 64 * 1024
    assert 206 in [status for status, _sent in reads]

    tail = download(api, image['id'], {'Range': 'bytes=-5'})
    assert tail.status_code == 206
    assert tail.content == data[-5:]
    assert tail.headers['Content-Range'] == \
        f'bytes {len(data) - 5}-{len(data) - 1}/{len(data)}'
    beyond = download(api, image['id'],
                      {'Range': f'bytes={len(data)}-'})
    assert beyond.status_code == 416


def test_delete_leaves_no_object_and_no_segment(api, bucket):
    data = random_data(12 * MiB)
    image = create_image(api, name='doomed')
    assert upload(api, image['id'], data).status_code == 204
    assert image['id'] in bucket.keys()
    assert any(name.startswith(image['id'] + '/')
               for name in bucket.segments())
    response = requests.delete(f'{api.url}/v2/images/{image["id"]}',
                               timeout=TIMEOUT)
    assert response.status_code == 204
    assert image['id'] not in bucket.keys()
    assert not [name for name in bucket.segments()
                if name.startswith(image['id'] + '/')]


def test_duplicate_object_is_refused_and_kept(api, bucket):
    image = create_image(api, name='taken')
    bucket.s3.put_object(Bucket=bucket.name, Key=image['id'],
                         Body=b'someone else')
    try:
        response = upload(api, image['id'], b'mine')
        assert response.status_code == 409, response.text
        assert bucket.read(image['id']) == b'someone else'
        assert image_of(api, image['id'])['status'] == 'queued'
    finally:
        bucket.s3.delete_object(Bucket=bucket.name, Key=image['id'])


def test_missing_bucket_without_create_on_put(api, bucket, buckets):
    fresh = buckets[1]
    image = create_image(api, name='nowhere')
    response = upload(api, image['id'], b'data', store='fresh')
    assert response.status_code == 503, response.text
    assert image_of(api, image['id'])['status'] == 'queued'
    assert fresh.keys() == []


def test_the_bucket_was_created_on_demand(bucket):
    created = bucket.created
    assert not created['existed before']
    assert created['keys'] == [created['first image']]
    # In the region configured: us-east-1, S3's default location.
    assert created['location'] in (None, 'us-east-1')


# Failed uploads


def cut_upload(api, image_id, data, sent, chunked):
    """Send the head of an upload and `sent` bytes of its body, then
    close the connection."""
    connection = socket.create_connection(('127.0.0.1', api.port),
                                          timeout=TIMEOUT)
    head = [f'PUT /v2/images/{image_id}/file HTTP/1.1', 'Host: 127.0.0.1',
            'Content-Type: application/octet-stream']
    if chunked:
        head.append('Transfer-Encoding: chunked')
        body = b''.join(b'%x\r\n%s\r\n' % (len(c), c)
                        for c in chunks_of(data[:sent], MiB))
    else:
        head.append(f'Content-Length: {len(data)}')
        body = data[:sent]
    connection.sendall('\r\n'.join(head + ['', '']).encode() + body)
    return connection


@pytest.mark.parametrize('size, sent, chunked', [
    (6 * MiB, 3 * MiB, False), (30 * MiB, 17 * MiB, False),
    (30 * MiB, 17 * MiB, True)],
    ids=['streamed', 'multipart', 'multipart-chunked'])
def test_a_client_gone_mid_upload_leaves_nothing(api, bucket, size, sent,
                                                 chunked):
    data = random_data(size)
    image = create_image(api, name='cut')
    connection = cut_upload(api, image['id'], data, sent, chunked)
    try:
        if sent > LARGE_OBJECT_MIB * MiB or chunked:
            wait_for(lambda: bucket.parts_sent(image['id']) >= 2,
                     'parts sent to the S3 server')
        else:
            wait_for(lambda: image_of(api, image['id'])['status'] ==
                     'saving', 'the upload to start')
    finally:
        connection.close()
    wait_for(lambda: image_of(api, image['id'])['status'] == 'queued',
             'the upload to fail')
    wait_for(lambda: bucket.open_uploads() == [], 'the upload aborted')
    assert image['id'] not in bucket.keys()


def test_too_large_an_upload_is_aborted(tmp_path, swift_server):
    bucket = Bucket(swift_server, f'glance-cap-{uuid.uuid4().hex[:8]}')
    config = ('[DEFAULT]\nimage_size_cap = %d\n'
              '[glance_store]\nstores = s3\ndefault_store = s3\n'
              % (12 * MiB) + s3_options(
                  swift_server, bucket.name,
                  s3_store_create_bucket_on_put='true'))
    with serving(GlanceApi(tmp_path, workers=1,
                           extra_config=config)) as server:
        image = create_image(server, name='too large')
        response = upload(server, image['id'], random_data(20 * MiB),
                          chunked=True)
        assert response.status_code == 413, response.text
        assert image_of(server, image['id'])['status'] == 'queued'
        wait_for(lambda: bucket.open_uploads() == [], 'the upload aborted')
        assert bucket.keys() == []


# kill -9 and the sweeps


def kill_all(api):
    """kill -9 of the master; its workers exit on their own."""
    os.kill(api.pid, signal.SIGKILL)
    api.process.wait(TIMEOUT)
    wait_for(lambda: not api.group_alive(), 'the workers to exit')
    api.kill()


def kill_worker_serving(api, connection):
    client_port = connection.getsockname()[1]
    workers = process.child_pids(api.pid)
    pid = wait_for(
        lambda: process.pid_serving(workers, api.port, client_port),
        'the worker serving the upload')
    os.kill(pid, signal.SIGKILL)


def test_kill_9_mid_upload_then_restart_leaves_nothing(api, bucket):
    data = random_data(30 * MiB)
    images = [create_image(api, name=f'killed-{i}') for i in range(2)]
    # An unfinished multipart upload no upload claims (as a node that
    # died before recording its upload would leave), and one of another
    # application's object, which is not the service's to abort.
    stray = str(uuid.uuid4())
    bucket.s3.create_multipart_upload(Bucket=bucket.name, Key=stray)
    foreign = bucket.s3.create_multipart_upload(Bucket=bucket.name,
                                                Key='backups/db.dump')
    connections = []
    try:
        for image in images:
            # Over half of a 30 MiB upload: parts are on their way.
            connections.append(cut_upload(api, image['id'], data,
                                          17 * MiB, chunked=False))
        for image in images:
            wait_for(lambda image=image: bucket.parts_sent(image['id']) >= 2,
                     'parts sent to the S3 server')
        kill_all(api)
    finally:
        for connection in connections:
            connection.close()
    assert {key for key, _ in bucket.open_uploads()} == {
        images[0]['id'], images[1]['id'], stray, 'backups/db.dump'}

    api.start()
    for image in images:
        assert image_of(api, image['id'])['status'] == 'queued'
    assert bucket.open_uploads() == [('backups/db.dump',
                                      foreign['UploadId'])]
    bucket.s3.abort_multipart_upload(Bucket=bucket.name,
                                     Key='backups/db.dump',
                                     UploadId=foreign['UploadId'])
    for image in images:
        assert image['id'] not in bucket.keys()
        assert upload(api, image['id'], data).status_code == 204
        check_active(api, image['id'], data)


def test_a_killed_worker_is_swept_by_the_other(api, bucket):
    data = random_data(30 * MiB)
    image = create_image(api, name='worker killed')
    connection = cut_upload(api, image['id'], data, 17 * MiB,
                            chunked=True)
    try:
        wait_for(lambda: bucket.parts_sent(image['id']) >= 2,
                 'parts sent to the S3 server')
        kill_worker_serving(api, connection)
    finally:
        connection.close()
    wait_for(lambda: image_of(api, image['id'])['status'] == 'queued',
             'the sweep', timeout=30)
    wait_for(lambda: bucket.open_uploads() == [], 'the upload aborted')
    assert image['id'] not in bucket.keys()


# The driver itself


def test_forked_processes_do_not_share_connections(swift_server):
    """glance-api's master uses its stores before it forks its workers:
    each process must talk to S3 on connections of its own."""
    from oslo_config import cfg

    from glance.store.drivers import s3
    conf = cfg.ConfigOpts()
    conf.register_opts(s3.s3_opts, group='glance_store')
    conf([], project='glance-test')
    bucket = f'glance-fork-{uuid.uuid4().hex[:8]}'
    for name, value in {'s3_store_host': swift_server.s3_endpoint,
                        's3_store_access_key': swift_server.access_key,
                        's3_store_secret_key': swift_server.secret_key,
                        's3_store_bucket': bucket}.items():
        conf.set_override(name, value, 'glance_store')
    backend = s3.Store(conf)
    backend.configure()
    backend.client.create_bucket(Bucket=bucket)
    try:
        # A connection in the pool, then two processes using the client.
        backend.client.head_bucket(Bucket=bucket)
        started = time.monotonic()
        child = os.fork()
        if child == 0:
            try:
                for _ in range(50):
                    backend.client.head_bucket(Bucket=bucket)
                    backend.client.list_objects_v2(Bucket=bucket)
            except BaseException:
                os._exit(1)
            os._exit(0)
        for _ in range(50):
            backend.client.head_bucket(Bucket=bucket)
            backend.client.list_objects_v2(Bucket=bucket)
        _pid, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # Requests of both on one connection would make Swift wait for a
        # body that never comes, for a minute (then retries succeed).
        assert time.monotonic() - started < 30
    finally:
        backend.client.delete_bucket(Bucket=bucket)


# The glance CLI and openstacksdk


@pytest.fixture(scope='module')
def glance(api, tmp_path_factory):
    if not os.access(GLANCE, os.X_OK):
        pytest.skip('python-glanceclient not installed')
    return Glance(api, tmp_path_factory.mktemp('home'))


def stores_of(output):
    rows = parse_table(output)
    return json.loads(''.join(row['Value'] for row in rows)
                      .replace("'", '"'))


def test_glance_cli_stores_info(glance):
    assert stores_of(glance.run('stores-info').stdout) == [
        {'id': 'local'},
        {'id': 'objects', 'description': 'Swift through S3',
         'default': 'true'},
        {'id': 'fresh'}]
    detail = {s['id']: s for s in
              stores_of(glance.run('stores-info', '--detail').stdout)}
    assert detail['objects']['type'] == 's3'
    assert detail['objects']['weight'] == 50
    assert detail['objects']['properties'] == {
        's3_store_large_object_size': LARGE_OBJECT_MIB * MiB,
        's3_store_large_object_chunk_size': PART_MIB * MiB,
        's3_store_thread_pools': 4}


def test_glance_cli_create_download_and_stores_delete(glance, api, bucket,
                                                      tmp_path):
    data = random_data(11 * MiB + 7)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    created = glance.show('image-create', '--name', 'cli',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--file', str(path), '--store', 'local')
    image_id = created['id']
    assert created['stores'] == 'local'
    assert image_id not in bucket.keys()

    # A second copy in the s3 store, as copy-image would make it.
    bucket.s3.put_object(Bucket=bucket.name, Key=image_id, Body=data)
    database = sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'))
    with database:
        database.execute(
            "INSERT INTO image_locations (image_id, url, meta_data, status,"
            " created_at) VALUES (?, ?, ?, 'active', CURRENT_TIMESTAMP)",
            (image_id,
             # As upstream's older releases wrote it: with credentials.
             f's3://test:tester:testing@{api_swift_host(bucket)}/'
             f'{bucket.name}/{image_id}', '{}'))
    database.close()
    shown = glance.show('image-show', image_id)
    assert sorted(shown['stores'].split(',')) == ['local', 'objects']

    # The s3 copy weighs more: downloads read it first.
    before = len(reads_of(bucket.swift, image_id))
    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), image_id)
    assert downloaded.read_bytes() == data
    assert wait_for(lambda: reads_of(bucket.swift, image_id)[before:],
                    'the read in the Swift log')

    glance.run('stores-delete', '--store', 'objects', image_id)
    assert image_id not in bucket.keys()
    assert glance.show('image-show', image_id)['stores'] == 'local'
    glance.run('image-delete', image_id)


def test_glance_cli_upload_into_s3(glance, api, bucket, tmp_path):
    data = random_data(9 * MiB)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    created = glance.show('image-create', '--name', 'cli-s3',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--file', str(path), '--store', 'objects')
    assert created['stores'] == 'objects'
    assert created['checksum'] == hashlib.md5(data).hexdigest()
    assert bucket.read(created['id']) == data
    downloaded = tmp_path / 'downloaded'
    glance.run('image-download', '--file', str(downloaded), created['id'])
    assert downloaded.read_bytes() == data
    glance.run('image-delete', created['id'])
    assert created['id'] not in bucket.keys()


def test_openstacksdk_upload_download_delete(api, bucket):
    openstack = pytest.importorskip('openstack')
    conn = openstack.connect(
        auth_type='none', image_endpoint_override=api.url,
        load_yaml_config=False, load_envvars=False, api_timeout=TIMEOUT)
    data = random_data(13 * MiB + 1)
    try:
        stores = {s.id: s for s in conn.image.stores(details=True)}
        assert stores['objects'].is_default
        image = conn.image.create_image(name='sdk', disk_format='raw',
                                        container_format='bare', data=data)
        fetched = conn.image.get_image(image.id)
        assert fetched.properties['stores'] == 'objects'
        assert fetched.checksum == hashlib.md5(data).hexdigest()
        assert bucket.read(image.id) == data
        got = b''.join(conn.image.download_image(image, stream=True)
                       .iter_content(MiB))
        assert got == data
        conn.image.delete_image(image)
        assert image.id not in bucket.keys()
    finally:
        conn.close()


# The single-store mode


def test_single_store_mode(tmp_path, swift_server):
    bucket = Bucket(swift_server, f'glance-single-{uuid.uuid4().hex[:8]}')
    config = ('[DEFAULT]\n' + SWEEP_CONFIG +
              '[glance_store]\nstores = file, s3\ndefault_store = s3\n'
              + s3_options(swift_server, bucket.name,
                           s3_store_create_bucket_on_put='true'))
    with serving(GlanceApi(tmp_path, workers=1,
                           extra_config=config)) as server:
        assert requests.get(server.url + '/v2/info/stores',
                            timeout=TIMEOUT).status_code == 404
        data = random_data(10 * MiB + 1)
        image = create_image(server, name='single')
        assert upload(server, image['id'], data,
                      chunked=True).status_code == 204
        shown = image_of(server, image['id'])
        assert shown['checksum'] == hashlib.md5(data).hexdigest()
        assert 'stores' not in shown
        [(url, metadata)] = location_rows(server, image['id'])
        assert url.startswith(f's3://{api_swift_host(bucket)}/')
        assert json.loads(metadata) == {}
        assert bucket.read(image['id']) == data
        ranged = download(server, image['id'], {'Range': 'bytes=100-199'})
        assert ranged.status_code == 206
        assert ranged.content == data[100:200]
        assert requests.delete(f'{server.url}/v2/images/{image["id"]}',
                               timeout=TIMEOUT).status_code == 204
        bucket.holds_only([])


# Memory


def rss_mib(pid):
    try:
        with open(f'/proc/{pid}/status') as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0
    return 0


def test_worker_memory_stays_bounded_during_a_large_chunked_upload(
        tmp_path, swift_server):
    size = 1024 * MiB
    bucket = Bucket(swift_server, f'glance-rss-{uuid.uuid4().hex[:8]}')
    # glance_store's defaults (10 MiB parts, 10 threads), but for the
    # bucket.
    config = ('[DEFAULT]\nenabled_backends = objects:s3\n'
              '[glance_store]\ndefault_backend = objects\n[objects]\n'
              + ''.join(f'{k} = {v}\n' for k, v in {
                  's3_store_host': swift_server.s3_endpoint,
                  's3_store_access_key': swift_server.access_key,
                  's3_store_secret_key': swift_server.secret_key,
                  's3_store_bucket': bucket.name,
                  's3_store_create_bucket_on_put': 'true'}.items())
              + f'[os_glance_staging_store]\nfilesystem_store_datadir = '
                f'{tmp_path}/staging\n[os_glance_tasks_store]\n'
                f'filesystem_store_datadir = {tmp_path}/tasks\n')
    block = os.urandom(MiB)

    def body():
        for i in range(size // MiB):
            yield i.to_bytes(8, 'big') + block[8:]

    md5 = hashlib.md5()
    for chunk in body():
        md5.update(chunk)
    with serving(GlanceApi(tmp_path, workers=2,
                           extra_config=config)) as server:
        workers = process.child_pids(server.pid)
        assert len(workers) == 2
        peak = {pid: rss_mib(pid) for pid in workers}
        done = threading.Event()

        def sample():
            while not done.is_set():
                for pid in workers:
                    peak[pid] = max(peak[pid], rss_mib(pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        image = create_image(server, name='large')
        started = time.monotonic()
        try:
            response = requests.put(
                f'{server.url}/v2/images/{image["id"]}/file', data=body(),
                headers={'Content-Type': 'application/octet-stream'},
                timeout=600)
        finally:
            done.set()
            sampler.join()
        seconds = time.monotonic() - started
        assert response.status_code == 204, response.text
        shown = image_of(server, image['id'])
        assert shown['size'] == size
        assert shown['checksum'] == md5.hexdigest()
        print(f'1 GiB chunked upload: {seconds:.1f} s; peak worker RSS '
              + ', '.join(f'{mib:.0f} MiB' for mib in peak.values()))
        assert max(peak.values()) < 150, peak
        head = bucket.s3.head_object(Bucket=bucket.name, Key=image['id'])
        assert head['ContentLength'] == size
        assert requests.delete(f'{server.url}/v2/images/{image["id"]}',
                               timeout=TIMEOUT).status_code == 204
        bucket.holds_only([])
