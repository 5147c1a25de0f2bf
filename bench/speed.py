"""Throughput and latency of this service alone, as figures.

    python bench/speed.py [--url URL --server-pid PID] [--size-mib 512]
                          [--direct-io]

Without --url, starts glance-api (default workers, SQLite, filesystem
store; --direct-io: with filesystem_store_direct_io) in a temporary
directory. Measures, with the server's CPU per operation where its PID is
known: upload and download of one image (chunked, median of --reps),
concurrent creates, list latency (first page, deep page, filtered,
property filter), GET of one image at concurrency 1 and 8, and this
machine's limits (md5, sha512, both on one core, loopback TCP, the CPU
cost of writing into the page cache) for scale. Prints one JSON
document.
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MiB = 1024 * 1024
CHUNK = 64 * 1024


class Server:
    def __init__(self, url, pid):
        host_port = url.split('//', 1)[1].rstrip('/')
        self.host, port = host_port.rsplit(':', 1)
        self.port = int(port)
        self.pid = pid
        self.local = threading.local()

    def connection(self):
        connection = getattr(self.local, 'connection', None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=120)
        return connection

    def request(self, method, path, body=None, headers=None):
        connection = self.connection()
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.read()

    def cpu(self):
        if not self.pid:
            return None
        return sum(common.cpu_seconds(p)
                   for p in [self.pid] + common.children(self.pid))


def measure(server, work):
    """(wall seconds, server CPU seconds or None, result of work())."""
    cpu_before = server.cpu()
    started = time.perf_counter()
    result = work()
    wall = time.perf_counter() - started
    cpu_after = server.cpu()
    cpu = None if cpu_before is None else cpu_after - cpu_before
    return wall, cpu, result


def create(server, name, **extra):
    body = dict(name=name, disk_format='raw', container_format='bare',
                **extra)
    status, answer = server.request(
        'POST', '/v2/images', json.dumps(body),
        {'Content-Type': 'application/json'})
    assert status == 201, answer
    return json.loads(answer)['id']


def upload_download(server, size_mib, reps):
    """Each rep uploads a new image and downloads it; the images are
    deleted only after the last rep, as bench-compare.sh keeps them: each
    upload fills page cache the others have not freed."""
    block = os.urandom(CHUNK)
    chunks = size_mib * MiB // CHUNK
    results = {'upload_MBps': [], 'upload_cpu_s_per_GB': [],
               'download_MBps': [], 'download_cpu_s_per_GB': []}
    gigabytes = size_mib * MiB / 1e9
    image_ids = []
    for rep in range(reps):
        image_id = create(server, 'speed-%d' % rep)
        image_ids.append(image_id)

        def upload(image_id=image_id):
            connection = server.connection()
            connection.request(
                'PUT', '/v2/images/%s/file' % image_id,
                (block for _ in range(chunks)),
                {'Content-Type': 'application/octet-stream'},
                encode_chunked=True)
            response = connection.getresponse()
            response.read()
            assert response.status == 204, response.status

        def download(image_id=image_id):
            connection = server.connection()
            connection.request('GET', '/v2/images/%s/file' % image_id)
            response = connection.getresponse()
            buffer = memoryview(bytearray(MiB))
            received = 0
            while count := response.readinto(buffer):
                received += count
            assert received == size_mib * MiB, received

        for name, work in (('upload', upload), ('download', download)):
            wall, cpu, _ = measure(server, work)
            results[name + '_MBps'].append(size_mib * MiB / wall / 1e6)
            if cpu is not None:
                results[name + '_cpu_s_per_GB'].append(cpu / gigabytes)
    for image_id in image_ids:
        server.request('DELETE', '/v2/images/' + image_id)
    return {key: round(statistics.median(values), 2)
            for key, values in results.items() if values}


def creates(server, count, concurrency):
    latencies = []

    def one(number):
        started = time.perf_counter()
        create(server, 'speed-create-%d' % number, os_distro='linux',
               build=str(number), tags=['speed', 't%d' % (number % 5)])
        latencies.append(time.perf_counter() - started)

    def work():
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(count)))

    wall, cpu, _ = measure(server, work)
    return {'requests_per_second': round(count / wall, 1),
            'p50_ms': round(common.percentile(latencies, .5) * 1e3, 2),
            'p99_ms': round(common.percentile(latencies, .99) * 1e3, 2),
            'server_cpu_ms': None if cpu is None
            else round(cpu / count * 1e3, 2)}


def latencies_of(server, path, requests, concurrency=1):
    latencies = []

    def one(_):
        started = time.perf_counter()
        status, body = server.request('GET', path)
        latencies.append(time.perf_counter() - started)
        assert status == 200, body[:200]

    def work():
        if concurrency == 1:
            for number in range(requests):
                one(number)
        else:
            with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(one, range(requests)))

    wall, cpu, _ = measure(server, work)
    return {'requests_per_second': round(requests / wall, 1),
            'p50_ms': round(common.percentile(latencies, .5) * 1e3, 2),
            'p99_ms': round(common.percentile(latencies, .99) * 1e3, 2),
            'server_cpu_ms': None if cpu is None
            else round(cpu / requests * 1e3, 3)}


def lists(server, requests):
    status, body = server.request('GET', '/v2/images?limit=1000&tag=speed')
    ids = [image['id'] for image in json.loads(body)['images']]
    marker = ids[int(len(ids) * 0.9)]
    queries = {
        'first_page': '/v2/images?limit=25',
        'deep_page': '/v2/images?limit=25&marker=' + marker,
        'filtered': '/v2/images?limit=25&visibility=shared&status=queued'
                    '&tag=speed&sort_key=name&sort_dir=asc',
        'property_filter': '/v2/images?limit=25&os_distro=linux',
    }
    return {name: latencies_of(server, path, requests)
            for name, path in queries.items()}


def limits():
    """This machine's speed at the work an upload has to do."""
    data = os.urandom(64 * MiB)
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def rate(work):
        started = time.perf_counter()
        work()
        return round(len(data) / (time.perf_counter() - started) / 1e6)

    def hash_with(*names):
        def work():
            hashes = [hashlib.new(name) for name in names]
            for chunk in chunks:
                for each in hashes:
                    each.update(chunk)
        return work

    return {'md5_MBps': rate(hash_with('md5')),
            'sha512_MBps': rate(hash_with('sha512')),
            'md5_sha512_one_core_MBps': rate(hash_with('md5', 'sha512')),
            'loopback_tcp_MBps': loopback_rate(),
            **page_cache_cost()}


def page_cache_cost(size=1024 * MiB):
    """CPU seconds per GB this process spends writing a file into the page
    cache: first into whatever free pages the kernel hands out, then,
    with that file deleted, into the pages it has just freed.

    On a virtual machine that hands free memory back to its host (virtio
    balloon free page reporting, a few seconds after it is freed), the
    first write takes a host fault per page and can cost ten times the
    second; elsewhere both are alike.
    """
    block = os.urandom(CHUNK)
    costs = []
    with tempfile.TemporaryDirectory(prefix='glance-bench-') as directory:
        for name in ('fill', 'refill'):
            path = os.path.join(directory, name)
            before = resource.getrusage(resource.RUSAGE_SELF)
            with open(path, 'wb', buffering=0) as f:
                for _ in range(size // CHUNK):
                    f.write(block)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (after.ru_utime - before.ru_utime
                   + after.ru_stime - before.ru_stime)
            costs.append(round(cpu / (size / 1e9), 2))
            os.unlink(path)
    return {'page_cache_fill_cpu_s_per_GB': costs[0],
            'page_cache_refill_cpu_s_per_GB': costs[1]}


def loopback_rate(total=512 * MiB):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    block = os.urandom(MiB)

    def send():
        sender = socket.create_connection(listener.getsockname())
        for _ in range(total // MiB):
            sender.sendall(block)
        sender.close()

    thread = threading.Thread(target=send)
    started = time.perf_counter()
    thread.start()
    receiver, _ = listener.accept()
    buffer = memoryview(bytearray(CHUNK))
    while receiver.recv_into(buffer):
        pass
    thread.join()
    receiver.close()
    listener.close()
    return round(total / (time.perf_counter() - started) / 1e6)


def run(server, args):
    report = {'limits': limits()}
    report['upload_download'] = upload_download(server, args.size_mib,
                                                args.reps)
    report['creates'] = creates(server, args.images, 8)
    report['lists'] = lists(server, args.requests)
    status, body = server.request('GET', '/v2/images?limit=1')
    image = '/v2/images/' + json.loads(body)['images'][0]['id']
    report['get'] = {
        'c1': latencies_of(server, image, args.requests * 4),
        'c8': latencies_of(server, image, args.requests * 8, 8)}
    print(json.dumps(report, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url')
    parser.add_argument('--server-pid', type=int, default=0)
    parser.add_argument('--size-mib', type=int, default=512)
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--images', type=int, default=2000)
    parser.add_argument('--requests', type=int, default=300)
    parser.add_argument('--direct-io', action='store_true',
                        help='start the server with '
                             'filesystem_store_direct_io = true')
    args = parser.parse_args()
    if args.url:
        run(Server(args.url, args.server_pid), args)
        return
    extra = ('[glance_store]\nfilesystem_store_direct_io = true\n'
             if args.direct_io else '')
    with common.daemon(extra_config=extra) as (url, pid):
        run(Server(url, pid), args)


if __name__ == '__main__':
    main()
