"""Instructions the server runs per request, counted by valgrind.

    python bench/instructions.py [--requests 200]

Wall time and CPU time on a shared virtual machine vary by half from one
hour to the next; the number of instructions a request costs does not.
This runs glance-api (one process, workers = 0, SQLite, filesystem store)
under callgrind, warms it up, then counts the instructions of each kind of
request: GET of one image (with two properties and two tags), the first
page of a list of 50 images, and a create. Prints one JSON document.
Needs valgrind (callgrind_control comes with it). About two minutes.
"""
import argparse
import glob
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HEADERS = {'Content-Type': 'application/json'}


def create(connection, name):
    body = {'name': name, 'disk_format': 'raw', 'container_format': 'bare',
            'tags': ['a', 'b'], 'p1': 'v1', 'p2': 'v2'}
    connection.request('POST', '/v2/images', json.dumps(body), HEADERS)
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 201, answer
    return json.loads(answer)['id']


def get(connection, path):
    connection.request('GET', path)
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 200, answer


def counted(pid, state, requests, work):
    """Instructions per request of `requests` calls of work(i)."""
    subprocess.run(['callgrind_control', '--zero', str(pid)], check=True,
                   capture_output=True)
    for i in range(requests):
        work(i)
    subprocess.run(['callgrind_control', '--dump', str(pid)], check=True,
                   capture_output=True)
    dumps = glob.glob(os.path.join(state, 'callgrind.out.%d.*' % pid))
    newest = max(dumps, key=lambda path: int(path.rsplit('.', 1)[1]))
    with open(newest) as f:
        for line in f:
            if line.startswith('summary:'):
                return int(line.split()[1]) // requests
    raise RuntimeError('no summary in %s' % newest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=200)
    args = parser.parse_args()
    if not shutil.which('valgrind') or not shutil.which('callgrind_control'):
        sys.exit('valgrind (with callgrind_control) is needed')
    state = tempfile.mkdtemp(prefix='glance-bench-')
    wrapper = ['valgrind', '--tool=callgrind',
               '--callgrind-out-file=%s/callgrind.out.%%p' % state]
    with common.daemon(workers=0, state_path=state, wrapper=wrapper,
                       start_timeout=600) as (url, pid):
        host, port = url.rsplit('/', 1)[1].split(':')
        connection = http.client.HTTPConnection(host, int(port), timeout=600)
        image_id = create(connection, 'image-0')
        for i in range(1, 50):
            create(connection, 'image-%d' % i)
        image = '/v2/images/%s' % image_id
        for _ in range(30):  # first calls fill caches and compile
            get(connection, image)
            get(connection, '/v2/images?limit=25')
        result = {
            'instructions_per_get_image': counted(
                pid, state, args.requests, lambda i: get(connection, image)),
            'instructions_per_list_first_page': counted(
                pid, state, args.requests // 2,
                lambda i: get(connection, '/v2/images?limit=25')),
            'instructions_per_create': counted(
                pid, state, args.requests // 2,
                lambda i: create(connection, 'counted-%d' % i)),
            'requests': args.requests,
        }
        connection.close()
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
