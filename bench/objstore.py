"""Throughput of image data through the s3 store against the same Swift
spoken to directly with boto3, and glance-api's worker memory meanwhile.

    GLANCE_TEST_SWIFT_VENV=~/.cache/glance-ci/venv-swift \\
        python bench/objstore.py [--size-mib 1024] [--reps 1]

Starts a Swift all-in-one with its S3 API (tests/functional/swift.py)
and a glance-api of this checkout (2 workers) whose default store is an
s3 store on it (glance_store's default part size and threads), then
prints JSON: MB/s of an upload of --size-mib MiB through the daemon
(chunked, and with a Content-Length), of its download, and of the same
upload (a multipart upload of the same part size and concurrency) and
download with boto3 straight to Swift; the peak RSS of each worker
during the chunked upload; and the ratios. Each figure is the median of
--reps runs.
"""
import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from bench import common  # noqa: E402
from tests.functional import swift as swift_fixture  # noqa: E402

MiB = 1024 * 1024
PART_MIB = 10  # glance_store's default s3_store_large_object_chunk_size
THREADS = 10  # and s3_store_thread_pools


class Data:
    """`size` bytes, each MiB a random block with its number in front:
    readable as a file (for a Content-Length upload), or as chunks."""

    def __init__(self, size):
        self.size = size
        self.block = os.urandom(MiB)
        self.position = 0

    def __len__(self):
        return self.size - self.position

    def chunks(self):
        for number in range(self.size // MiB):
            yield number.to_bytes(8, 'big') + self.block[8:]

    def read(self, amount=-1):
        # Whole MiB blocks, as many as `amount` holds (at least one: the
        # 16 KiB urllib3 asks for are sent as the MiB they come in).
        blocks = []
        count = max(1, amount // MiB) if amount and amount > 0 else 1
        while count and self.position < self.size:
            number = self.position // MiB
            blocks.append(number.to_bytes(8, 'big') + self.block[8:])
            self.position += MiB
            count -= 1
        return b''.join(blocks)

    def md5(self):
        digest = hashlib.md5()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()


def rss_mib(pid):
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """The peak RSS of some processes while the block runs."""

    def __init__(self, pids):
        self.peak = {pid: rss_mib(pid) for pid in pids}
        self.done = threading.Event()

    def _sample(self):
        while not self.done.is_set():
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], rss_mib(pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.done.set()
        self.thread.join()


def mb_per_s(size, seconds):
    return round(size / seconds / 1e6, 1)


def through_glance(url, workers, data, chunked):
    image = requests.post(url + '/v2/images', json={
        'name': 'bench', 'disk_format': 'raw', 'container_format': 'bare'},
        timeout=60).json()
    body = data.chunks() if chunked else data
    data.position = 0
    with PeakRss(workers) as rss:
        started = time.monotonic()
        response = requests.put(
            f'{url}/v2/images/{image["id"]}/file', data=body, timeout=3600,
            headers={'Content-Type': 'application/octet-stream'})
        upload = time.monotonic() - started
    assert response.status_code == 204, response.text
    started = time.monotonic()
    digest = hashlib.md5()
    with requests.get(f'{url}/v2/images/{image["id"]}/file', stream=True,
                      timeout=3600) as got:
        for chunk in got.iter_content(MiB):
            digest.update(chunk)
    download = time.monotonic() - started
    assert digest.hexdigest() == data.md5()
    requests.delete(f'{url}/v2/images/{image["id"]}', timeout=60)
    return upload, download, max(rss.peak.values())


def direct(s3, bucket, data):
    from boto3.s3.transfer import TransferConfig
    key = str(uuid.uuid4())
    data.position = 0
    config = TransferConfig(multipart_threshold=PART_MIB * MiB,
                            multipart_chunksize=PART_MIB * MiB,
                            max_concurrency=THREADS)
    started = time.monotonic()
    s3.upload_fileobj(data, bucket, key, Config=config)
    upload = time.monotonic() - started
    started = time.monotonic()
    digest = hashlib.md5()
    for chunk in s3.get_object(Bucket=bucket, Key=key)['Body'].iter_chunks(
            MiB):
        digest.update(chunk)
    download = time.monotonic() - started
    assert digest.hexdigest() == data.md5()
    s3.delete_object(Bucket=bucket, Key=key)
    return upload, download


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--reps', type=int, default=1)
    args = parser.parse_args()
    problem = swift_fixture.venv_problem()
    if problem:
        sys.exit(problem)
    size = args.size_mib * MiB
    data = Data(size)
    bucket = f'glance-bench-{uuid.uuid4().hex[:8]}'
    with tempfile.TemporaryDirectory(prefix='glance-bench-swift-') as where:
        with swift_fixture.Swift(where) as swift:
            s3 = swift.s3_client(max_pool_connections=THREADS + 2)
            s3.create_bucket(Bucket=bucket)
            config = (
                '[DEFAULT]\nenabled_backends = objects:s3\n'
                '[glance_store]\ndefault_backend = objects\n[objects]\n'
                f's3_store_host = {swift.s3_endpoint}\n'
                f's3_store_access_key = {swift.access_key}\n'
                f's3_store_secret_key = {swift.secret_key}\n'
                f's3_store_bucket = {bucket}\n'
                f'[os_glance_staging_store]\nfilesystem_store_datadir = '
                f'{where}/staging\n[os_glance_tasks_store]\n'
                f'filesystem_store_datadir = {where}/tasks\n')
            runs = {'glance chunked': [], 'glance sized': [], 'boto3': []}
            peaks = []
            with common.daemon(workers=2, extra_config=config) as (url, pid):
                workers = common.children(pid)
                for _ in range(args.reps):
                    *times, peak = through_glance(url, workers, data, True)
                    runs['glance chunked'].append(times)
                    peaks.append(peak)
                    *times, _peak = through_glance(url, workers, data,
                                                   False)
                    runs['glance sized'].append(times)
                    runs['boto3'].append(direct(s3, bucket, data))
            s3.delete_bucket(Bucket=bucket)
    figures = {}
    for name, times in runs.items():
        figures[name] = {
            'upload MB/s': mb_per_s(size, statistics.median(
                t[0] for t in times)),
            'download MB/s': mb_per_s(size, statistics.median(
                t[1] for t in times))}
    direct_figures = figures['boto3']
    for name in ('glance chunked', 'glance sized'):
        for what in ('upload MB/s', 'download MB/s'):
            figures[name][what.split()[0] + ' vs boto3'] = round(
                figures[name][what] / direct_figures[what], 2)
    figures['size MiB'] = args.size_mib
    figures['peak worker RSS MiB (chunked upload)'] = round(max(peaks), 1)
    print(json.dumps(figures, indent=2))


if __name__ == '__main__':
    main()
