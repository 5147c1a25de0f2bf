"""Raw HTTP against the real glance-api daemon (2 workers, default flavor):
chunked uploads, ranges, keep-alive, concurrent clients and error answers.
"""
from concurrent.futures import ThreadPoolExecutor
import hashlib
import http.client
import json
import os
import threading
import uuid

import pytest
import requests

from tests.helpers import create_image

TIMEOUT = 60
MiB = 1024 * 1024


@pytest.fixture(scope='module')
def session(glance_api):
    with requests.Session() as session:
        yield session


@pytest.fixture
def unique():
    return 'http-' + uuid.uuid4().hex[:12]


def upload(session, api, image_id, body, **headers):
    headers.setdefault('Content-Type', 'application/octet-stream')
    return session.put(f'{api.url}/v2/images/{image_id}/file', data=body,
                       headers=headers, timeout=TIMEOUT)


@pytest.fixture(scope='module')
def uploaded(glance_api, session):
    """(image, data): an active image of 1 MiB and a bit."""
    data = os.urandom(MiB + 123)
    image = create_image(glance_api, session, name='ranges')
    assert upload(session, glance_api, image['id'], data).status_code == 204
    return session.get(f'{glance_api.url}/v2/images/{image["id"]}',
                       timeout=TIMEOUT).json(), data


def test_versions_and_request_ids(glance_api, session):
    response = session.get(glance_api.url + '/', timeout=TIMEOUT)

    assert response.status_code == 300
    versions = response.json()['versions']
    assert {'v2.0', 'v2.1'} <= {version['id'] for version in versions}
    # Each version links to its API's root (v1 is listed too).
    assert all(link['href'] == '%s/%s/' % (glance_api.url,
                                           version['id'].split('.')[0])
               for version in versions for link in version['links'])
    ids = set()
    for path in ('/', '/v2/images', '/v2/images/' + str(uuid.uuid4()),
                 '/v3/nothing'):
        request_id = session.get(glance_api.url + path, timeout=TIMEOUT)\
            .headers.get('x-openstack-request-id')
        assert request_id and request_id.startswith('req-'), path
        ids.add(request_id)
    assert len(ids) == 4


def test_chunked_upload_and_download(glance_api, session, unique):
    pieces = [os.urandom(size) for size in
              [1, 65536, 1000, MiB, 3 * MiB, 7, 500_000]]
    data = b''.join(pieces)
    image = create_image(glance_api, session, name=unique)
    sent = []

    def body():
        for piece in pieces:
            sent.append(len(piece))
            yield piece

    # A generator body: requests sends it with Transfer-Encoding: chunked.
    response = upload(session, glance_api, image['id'], body())

    assert response.status_code == 204, response.text
    assert response.request.headers.get('Transfer-Encoding') == 'chunked'
    assert 'Content-Length' not in response.request.headers
    assert sent == [len(piece) for piece in pieces]
    shown = session.get(f'{glance_api.url}/v2/images/{image["id"]}',
                        timeout=TIMEOUT).json()
    assert shown['status'] == 'active'
    assert shown['size'] == len(data)
    assert shown['checksum'] == hashlib.md5(data).hexdigest()
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == hashlib.sha512(data).hexdigest()

    download = session.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                           timeout=TIMEOUT, stream=True)
    assert download.status_code == 200
    assert download.headers['Content-Type'] == 'application/octet-stream'
    assert download.headers['Content-Length'] == str(len(data))
    assert download.headers['Content-MD5'] == shown['checksum']
    got = b''.join(download.iter_content(256 * 1024))
    assert got == data
    assert hashlib.sha512(got).hexdigest() == shown['os_hash_value']


def test_chunked_upload_with_the_size_header(glance_api, session, unique):
    data = os.urandom(300_000)
    image = create_image(glance_api, session, name=unique)

    response = upload(session, glance_api, image['id'],
                      iter([data[:1000], data[1000:]]),
                      **{'X-OpenStack-Image-Size': str(len(data))})

    assert response.status_code == 204, response.text
    assert session.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                       timeout=TIMEOUT).content == data


@pytest.mark.parametrize('header, start, stop', [
    ('bytes=100-199', 100, 200),
    ('bytes=0-0', 0, 1),
    ('bytes=1048000-', 1048000, None),
    ('bytes=-10', -10, None),
])
def test_range_download(glance_api, uploaded, header, start, stop):
    image, data = uploaded
    expected = data[start:stop]
    first = start if start >= 0 else len(data) + start

    response = requests.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                            headers={'Range': header}, timeout=TIMEOUT)

    assert response.status_code == 206
    assert response.content == expected
    assert response.headers['Content-Length'] == str(len(expected))
    assert response.headers['Content-Range'] == (
        f'bytes {first}-{first + len(expected) - 1}/{len(data)}')


def test_unsatisfiable_range(glance_api, uploaded):
    image, data = uploaded

    response = requests.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                            headers={'Range': f'bytes={len(data)}-'},
                            timeout=TIMEOUT)

    assert response.status_code == 416


def test_keep_alive_across_requests(glance_api, unique):
    connection = http.client.HTTPConnection('127.0.0.1', glance_api.port,
                                            timeout=TIMEOUT)
    try:
        connection.connect()
        sock = connection.sock
        answers = []

        def request(method, path, body=None, headers=None):
            connection.request(method, path, body=body,
                               headers=headers or {})
            response = connection.getresponse()
            content = response.read()
            answers.append(response.status)
            # http.client drops the socket when the server closes it.
            assert connection.sock is sock, (method, path, response.status)
            assert response.getheader('Connection', '').lower() != 'close'
            return response, content

        _, body = request('POST', '/v2/images', json.dumps(
            {'name': unique, 'disk_format': 'raw',
             'container_format': 'bare'}),
            {'Content-Type': 'application/json'})
        image_id = json.loads(body)['id']
        request('GET', '/v2/images/' + image_id)
        request('GET', '/v2/images/' + str(uuid.uuid4()))
        request('PUT', f'/v2/images/{image_id}/file', b'x' * 100_000,
                {'Content-Type': 'application/octet-stream'})
        _, content = request('GET', f'/v2/images/{image_id}/file')
        assert content == b'x' * 100_000
        request('PUT', '/v2/images')
        request('GET', f'/v2/images?name={unique}')
        request('DELETE', '/v2/images/' + image_id)
        request('GET', '/')
    finally:
        connection.close()

    assert answers == [201, 200, 404, 204, 200, 405, 200, 204, 300]


def test_concurrent_clients(glance_api, unique):
    threads, per_thread = 8, 100
    start = threading.Barrier(threads)

    def client(number):
        statuses, ids = [], []
        with requests.Session() as own:
            start.wait(TIMEOUT)
            for index in range(per_thread):
                response = own.post(
                    glance_api.url + '/v2/images', timeout=TIMEOUT,
                    json={'name': f'{unique}-{number}-{index:03d}',
                          'disk_format': 'raw', 'container_format': 'bare',
                          'tags': [unique, f'thread-{number}'],
                          'batch': unique, 'thread': str(number),
                          'index': str(index)})
                statuses.append(response.status_code)
                if response.status_code == 201:
                    ids.append(response.json()['id'])
        return statuses, ids

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(client, range(threads)))

    assert [status for statuses, _ in results for status in statuses] == \
        [201] * threads * per_thread
    created = {image_id for _, ids in results for image_id in ids}
    assert len(created) == threads * per_thread

    # Listed afterwards, page by page, each once.
    listed, pages = [], 0
    url = f'{glance_api.url}/v2/images?tag={unique}&limit=75'
    while url:
        page = requests.get(url, timeout=TIMEOUT).json()
        pages += 1
        listed.extend(page['images'])
        url = glance_api.url + page['next'] if 'next' in page else None
    assert pages == 11
    assert len(listed) == threads * per_thread
    assert {image['id'] for image in listed} == created
    for image in listed:
        number, index = image['name'].rsplit('-', 2)[1:]
        assert image['thread'] == number
        assert image['index'] == str(int(index))
        assert image['batch'] == unique
        assert sorted(image['tags']) == sorted([unique, f'thread-{number}'])
    one_thread = requests.get(
        f'{glance_api.url}/v2/images?tag=thread-3&batch={unique}&limit=1000',
        timeout=TIMEOUT).json()['images']
    assert len(one_thread) == per_thread


def test_concurrent_uploads_and_downloads(glance_api, unique):
    def client(number):
        data = os.urandom(MiB + number)
        with requests.Session() as own:
            image = create_image(glance_api, own, name=f'{unique}-{number}')
            response = upload(own, glance_api, image['id'],
                              iter([data[:4096], data[4096:]]))
            assert response.status_code == 204, response.text
            got = own.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                          timeout=TIMEOUT).content
            shown = own.get(f'{glance_api.url}/v2/images/{image["id"]}',
                            timeout=TIMEOUT).json()
        return (got == data,
                shown['checksum'] == hashlib.md5(data).hexdigest())

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(client, range(6))) == [(True, True)] * 6


@pytest.mark.parametrize('method, path, body, content_type, status', [
    ('GET', '/v2/images/{missing}', None, None, 404),
    ('GET', '/v2/images/{missing}/file', None, None, 404),
    ('DELETE', '/v2/images/{missing}', None, None, 404),
    ('GET', '/v2/nothing-here', None, None, 404),
    ('PUT', '/v2/images', b'{}', 'application/json', 405),
    ('DELETE', '/v2/images', None, None, 405),
    ('POST', '/v2/images/{image}', b'{}', 'application/json', 405),
    # (With a body that is not JSON this is 400 Malformed JSON, as
    # upstream: the 405 resource parses the body first.)
    ('POST', '/v2/images/{image}/file', None, None, 405),
    ('PATCH', '/v2/images/{image}', b'[]', 'application/json', 415),
    ('PUT', '/v2/images/{image}/file', b'x', 'text/plain', 415),
    ('POST', '/v2/images', b'{bad', 'application/json', 400),
    ('POST', '/v2/images', b'{"disk_format": "nope"}', 'application/json',
     400),
])
def test_error_answers(glance_api, session, method, path, body,
                       content_type, status):
    image = create_image(glance_api, session, name='errors')
    url = glance_api.url + path.format(missing=uuid.uuid4(),
                                       image=image['id'])
    headers = {'Content-Type': content_type} if content_type else {}

    response = session.request(method, url, data=body, headers=headers,
                               timeout=TIMEOUT)

    assert response.status_code == status, response.text
    assert response.headers['x-openstack-request-id'].startswith('req-')
    if status == 405:
        assert response.headers['Allow']
        assert method not in response.headers['Allow']
    if method == 'PATCH':
        assert 'application/openstack-images-v2.1-json-patch' in \
            response.headers['Accept-Patch']


def test_upload_to_an_active_image_conflicts(glance_api, session, uploaded):
    image, data = uploaded

    response = upload(session, glance_api, image['id'], b'other bytes')

    assert response.status_code == 409
    assert requests.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                        timeout=TIMEOUT).content == data


def test_download_of_an_image_without_data(glance_api, session, unique):
    image = create_image(glance_api, session, name=unique)

    response = session.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                           timeout=TIMEOUT)

    assert response.status_code == 204
    assert response.content == b''


def test_a_client_leaving_mid_download_harms_nobody(glance_api, session,
                                                    unique):
    """Downloads go out by sendfile: a client that hangs up halfway just
    ends its own answer; the workers go on serving."""
    data = os.urandom(32 * MiB)
    image = create_image(glance_api, session, name=unique)
    assert upload(session, glance_api, image['id'], data).status_code == 204
    for _ in range(4):
        connection = http.client.HTTPConnection(
            '127.0.0.1', glance_api.port, timeout=TIMEOUT)
        connection.request('GET', f'/v2/images/{image["id"]}/file')
        response = connection.getresponse()
        assert response.status == 200
        assert response.read(MiB) == data[:MiB]
        connection.sock.shutdown(2)
        connection.close()
    whole = session.get(f'{glance_api.url}/v2/images/{image["id"]}/file',
                        timeout=TIMEOUT)
    assert whole.content == data
    assert session.get(glance_api.url + '/v2/images',
                       timeout=TIMEOUT).status_code == 200
