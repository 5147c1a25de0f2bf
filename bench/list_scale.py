"""List latency with many images in the database, as figures.

    python bench/list_scale.py [--images 100000] [--requests 300]

Seeds an SQLite database with the images (3 properties and 2 tags each,
written directly, which is much faster than through the API), starts
glance-api on it, and times sequential list requests: the first page, a
deep page (a marker 90% down the default order), a filtered page and a
property filter. Prints p50/p99 in milliseconds.
"""
import argparse
import datetime
import http.client
import json
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def seed(state_dir, count):
    """Write `count` images straight into a fresh database; returns the
    id of the image 90% down the default order (newest first)."""
    # The application's own schema: configure glance for this directory.
    from glance.common import config
    import glance.db
    from glance.db import models

    config.parse_args(['--config-file', '/dev/null'],
                      default_config_files=[])
    config.CONF.set_override('state_path', state_dir)
    glance.db.ensure_schema()
    start = datetime.datetime(2020, 1, 1)
    images, properties, tags = [], [], []
    ids = []
    for number in range(count):
        image_id = str(uuid.uuid4())
        ids.append(image_id)
        created = start + datetime.timedelta(seconds=number)
        images.append({
            'id': image_id, 'name': 'image-%06d' % number,
            'disk_format': 'raw', 'container_format': 'bare',
            'size': 1024 * (number % 100), 'virtual_size': None,
            'status': 'active' if number % 10 else 'queued',
            'visibility': ('public', 'private', 'shared')[number % 3],
            'checksum': None, 'os_hash_algo': None, 'os_hash_value': None,
            'min_disk': 0, 'min_ram': number % 64, 'owner': 'bench',
            'protected': False, 'os_hidden': False, 'created_at': created,
            'updated_at': created, 'deleted_at': None, 'deleted': False})
        for name, value in (('os_distro', ('ubuntu', 'fedora')[number % 2]),
                            ('build', str(number)),
                            ('team', 'team-%d' % (number % 50))):
            properties.append({'image_id': image_id, 'name': name,
                               'value': value})
        for tag in ('bench', 'tag-%d' % (number % 20)):
            tags.append({'image_id': image_id, 'value': tag})
    with glance.db.writing() as connection:
        for table, rows in ((models.Image.__table__, images),
                            (models.ImageProperty.__table__, properties),
                            (models.ImageTag.__table__, tags)):
            connection.execute(table.insert(), rows)
    glance.db.reset()
    # Newest first: the image at 90% of the default order.
    return ids[count - 1 - int(count * 0.9)]


def timed(connection, path, requests):
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request('GET', path)
        response = connection.getresponse()
        body = response.read()
        latencies.append(time.perf_counter() - started)
        assert response.status == 200, body[:200]
    assert len(json.loads(body)['images']) == 25, path
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=100000)
    parser.add_argument('--requests', type=int, default=300)
    args = parser.parse_args()

    state = tempfile.mkdtemp(prefix='glance-list-scale-')
    started = time.perf_counter()
    marker = seed(state, args.images)
    seeded = time.perf_counter() - started
    with common.daemon(state_path=state) as (url, _pid):
        port = int(url.rsplit(':', 1)[1])
        connection = http.client.HTTPConnection('127.0.0.1', port)
        queries = {
            'first page': '/v2/images?limit=25',
            'deep page (marker at 90%)': '/v2/images?limit=25&marker='
                                         + marker,
            'filtered (visibility, status, tag, sort by name)':
                '/v2/images?limit=25&visibility=public&status=active'
                '&tag=bench&sort_key=name&sort_dir=asc',
            'property filter': '/v2/images?limit=25&os_distro=fedora',
        }
        results = {}
        for label, path in queries.items():
            timed(connection, path, 20)  # warm up
            latencies = timed(connection, path, args.requests)
            results[label] = {
                'p50_ms': round(common.percentile(latencies, .5) * 1e3, 2),
                'p99_ms': round(common.percentile(latencies, .99) * 1e3, 2)}
    print(json.dumps({'images': args.images,
                      'seconds_to_seed': round(seeded, 1),
                      'latency': results}, indent=1))
    worst = max(r['p99_ms'] for label, r in results.items()
                if label.startswith(('first', 'deep')))
    return 0 if worst < 20 else 1


if __name__ == '__main__':
    sys.exit(main())
