"""Concurrent creates and large-image memory of this service, as figures.

    python bench/service_limits.py creates [--images 2000 --clients 8]
                                           [--workers 2]
    python bench/service_limits.py memory [--gib 2 --workers 2]

`creates` starts glance-api (SQLite, `--workers` processes), creates images
with properties and tags from concurrent clients, then pages through the
list and checks every created image is there. `memory` uploads and then
downloads one large image (streamed from and to nowhere) while sampling
the resident memory of each worker, and checks the checksums.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PATCH = 'application/openstack-images-v2.1-json-patch'


def run_creates(args):
    with common.daemon(workers=args.workers) as (url, pid):
        local = threading.local()

        def create(number):
            session = getattr(local, 'session', None)
            if session is None:
                session = local.session = requests.Session()
            body = {'name': 'bench-%d' % number, 'disk_format': 'raw',
                    'container_format': 'bare',
                    'tags': ['bench', 't%d' % (number % 7)],
                    'os_distro': 'linux', 'build': str(number),
                    'owner_team': 'team-%d' % (number % 13)}
            started = time.perf_counter()
            response = session.post(url + '/v2/images', json=body)
            elapsed = time.perf_counter() - started
            image_id = response.json().get('id') if response.ok else None
            return response.status_code, elapsed, image_id

        cpu_before = sum(common.cpu_seconds(p) for p in common.children(pid))
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(create, range(args.images)))
        wall = time.perf_counter() - started
        cpu_after = sum(common.cpu_seconds(p) for p in common.children(pid))

        statuses = {}
        for status, _, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        created = {image_id for _, _, image_id in results if image_id}
        listed = []
        next_url = '/v2/images?limit=1000&tag=bench'
        while next_url:
            page = requests.get(url + next_url).json()
            listed += [image['id'] for image in page['images']]
            next_url = page.get('next')
        latencies = [elapsed for _, elapsed, _ in results]
        print(json.dumps({
            'images': args.images, 'clients': args.clients,
            'workers': args.workers, 'statuses': statuses,
            'requests_per_second': round(args.images / wall, 1),
            'latency_ms_p50': round(
                common.percentile(latencies, .5) * 1e3, 2),
            'latency_ms_p99': round(
                common.percentile(latencies, .99) * 1e3, 2),
            'server_cpu_ms_per_create': round(
                (cpu_after - cpu_before) / args.images * 1e3, 2),
            'listed': len(listed), 'listed_distinct': len(set(listed)),
            'created_missing_from_list': len(created - set(listed)),
        }, indent=1))
        ok = (statuses == {201: args.images} and created <= set(listed)
              and len(listed) == len(set(listed)))
        return 0 if ok else 1


class Pattern:
    """A repeatable stream of pseudo-random bytes, hashed as it is sent."""

    def __init__(self, size, chunk=1024 * 1024):
        self.size = size
        self.block = os.urandom(chunk)
        self.md5 = hashlib.md5()
        self.sha512 = hashlib.sha512()

    def __iter__(self):
        sent = 0
        while sent < self.size:
            chunk = self.block[:min(len(self.block), self.size - sent)]
            # vary each chunk so the data is not one block repeated
            chunk = sent.to_bytes(8, 'big') + chunk[8:]
            self.md5.update(chunk)
            self.sha512.update(chunk)
            sent += len(chunk)
            yield chunk


class RssSampler(threading.Thread):
    def __init__(self, master_pid):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.peak = {}
        self.running = True

    def run(self):
        while self.running:
            for pid in common.children(self.master_pid) + [self.master_pid]:
                self.peak[pid] = max(self.peak.get(pid, 0),
                                     common.rss_bytes(pid))
            time.sleep(0.05)


def run_memory(args):
    size = int(args.gib * 1024 ** 3)
    with common.daemon(workers=args.workers) as (url, pid):
        sampler = RssSampler(pid)
        sampler.start()
        time.sleep(0.3)
        idle = {p: common.rss_bytes(p) for p in common.children(pid)}
        image = requests.post(url + '/v2/images', json={
            'name': 'big', 'disk_format': 'raw',
            'container_format': 'bare'}).json()
        data = Pattern(size)
        started = time.perf_counter()
        response = requests.put(
            url + '/v2/images/%s/file' % image['id'], data=iter(data),
            headers={'Content-Type': 'application/octet-stream'})
        upload_seconds = time.perf_counter() - started
        assert response.status_code == 204, response.text
        shown = requests.get(url + '/v2/images/' + image['id']).json()

        started = time.perf_counter()
        md5, sha512, received = hashlib.md5(), hashlib.sha512(), 0
        with requests.get(url + '/v2/images/%s/file' % image['id'],
                          stream=True) as download:
            for chunk in download.iter_content(1024 * 1024):
                received += len(chunk)
                md5.update(chunk)
                sha512.update(chunk)
        download_seconds = time.perf_counter() - started
        sampler.running = False
        sampler.join()
        mib = 1024 * 1024
        print(json.dumps({
            'bytes': size, 'workers': args.workers,
            'upload_MB_per_s': round(size / upload_seconds / 1e6, 1),
            'download_MB_per_s': round(size / download_seconds / 1e6, 1),
            'checksums_match': (shown['checksum'] == data.md5.hexdigest()
                                and shown['os_hash_value']
                                == data.sha512.hexdigest()
                                and md5.hexdigest() == shown['checksum']
                                and sha512.hexdigest()
                                == shown['os_hash_value']
                                and received == size == shown['size']),
            'worker_rss_idle_MiB': sorted(round(v / mib, 1)
                                          for v in idle.values()),
            'peak_rss_MiB_by_pid': {str(p): round(v / mib, 1)
                                    for p, v in sampler.peak.items()},
        }, indent=1))
        worst = max(v for p, v in sampler.peak.items() if p != pid)
        return 0 if worst < 150 * mib else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    creates = commands.add_parser('creates')
    creates.add_argument('--images', type=int, default=2000)
    creates.add_argument('--clients', type=int, default=8)
    creates.add_argument('--workers', type=int, default=2)
    memory = commands.add_parser('memory')
    memory.add_argument('--gib', type=float, default=2)
    memory.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()
    return run_creates(args) if args.command == 'creates' else run_memory(args)


if __name__ == '__main__':
    sys.exit(main())
