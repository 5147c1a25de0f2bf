"""Quotas under concurrency, against the real daemon on each database.

Parallel requests must never pass a quota together: user_storage_quota
(uploads with and without Content-Length, whose data in flight counts),
image_member_quota, image_tag_quota and image_property_quota. The daemon
runs on SQLite, and on PostgreSQL and MariaDB when the variables of
tests/functional/test_db_backends.py name servers.
"""
from concurrent.futures import ThreadPoolExecutor
import os

import pytest
import requests

from glance.db import migration
from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.functional.test_db_backends import BACKENDS
from tests.functional.test_db_backends import fresh_database
from tests.functional.test_db_backends import using
from tests.helpers import PATCH_TYPE
from tests.helpers import create_image

MiB = 1024 * 1024
TIMEOUT = 120
QUOTA = 100 * MiB  # user_storage_quota = 100MB: units are powers of 1024
UPLOAD = 30 * MiB
COUNT_QUOTA = 5
PARALLEL = 12
QUOTA_MESSAGE = 'Image exceeds the storage quota'


@pytest.fixture(scope='module', params=BACKENDS)
def api(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f'quota-{request.param}')
    with fresh_database(request.param, str(directory)) as url:
        if request.param != 'sqlite':
            # Server databases are prepared by the operator.
            with using(url):
                migration.upgrade('head')
        server = GlanceApi(directory / 'glance-api', workers=2, extra_config=(
            '[DEFAULT]\n'
            'user_storage_quota = 100MB\n'
            f'image_member_quota = {COUNT_QUOTA}\n'
            f'image_tag_quota = {COUNT_QUOTA}\n'
            f'image_property_quota = {COUNT_QUOTA}\n'
            f'[database]\nconnection = {url}\n'))
        with serving(server):
            yield server


def in_parallel(function, count):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(function, range(count)))


def image_of(api, image_id):
    response = requests.get(f'{api.url}/v2/images/{image_id}',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def put_data(api, image_id, data):
    return requests.put(f'{api.url}/v2/images/{image_id}/file', data=data,
                        headers={'Content-Type': 'application/octet-stream'},
                        timeout=TIMEOUT)


def chunks_of(data, size=MiB):
    for start in range(0, len(data), size):
        yield data[start:start + size]


def active_usage(api):
    response = requests.get(f'{api.url}/v2/images?limit=1000',
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return sum(image['size'] or 0 for image in response.json()['images']
               if image['status'] == 'active')


def test_storage_quota_holds_for_parallel_uploads(api):
    data = os.urandom(UPLOAD)
    images = [create_image(api, name=f'quota-{i}')['id'] for i in range(8)]

    def upload(i):
        # Half declare their size; half send chunks of unknown total.
        body = data if i % 2 else chunks_of(data)
        try:
            response = put_data(api, images[i], body)
        except requests.ConnectionError:
            # Refused mid-way: the server may close before the client
            # has sent everything. The image must still say so below.
            return None
        return response.status_code, response.text

    answers = in_parallel(upload, len(images))
    used = active_usage(api)
    assert 0 < used <= QUOTA
    for image_id, answer in zip(images, answers, strict=True):
        image = image_of(api, image_id)
        if answer is not None and answer[0] == 204:
            assert image['status'] == 'active'
            assert image['size'] == UPLOAD
            continue
        if answer is not None:
            assert answer[0] == 413, answer
            assert QUOTA_MESSAGE in answer[1]
        assert image['status'] == 'queued'
        assert image['size'] is None
    successes = sum(1 for answer in answers if answer and answer[0] == 204)
    assert used == successes * UPLOAD
    assert any(answer and answer[0] == 413 for answer in answers)

    # Nothing stays reserved: what is left fits exactly, one byte more
    # does not.
    left = QUOTA - used
    refused = images[[answer is None or answer[0] != 204
                      for answer in answers].index(True)]
    response = put_data(api, refused, chunks_of(os.urandom(left + 1)))
    assert response.status_code == 413, response.text
    assert QUOTA_MESSAGE in response.text
    response = put_data(api, refused, os.urandom(left))
    assert response.status_code == 204, response.text
    assert active_usage(api) == QUOTA


@pytest.fixture
def shared_image(api):
    return create_image(api, name='counted', visibility='shared')


def count_refused(answers, success):
    """Check every answer is `success` or 413; the number of successes."""
    assert {status for status, _ in answers} <= {success, 413}, answers
    for status, text in answers:
        if status == 413:
            assert 'The limit has been exceeded' in text, text
    return sum(1 for status, _ in answers if status == success)


def test_member_quota_holds_in_parallel(api, shared_image):
    url = f'{api.url}/v2/images/{shared_image["id"]}/members'

    def add(i):
        response = requests.post(url, json={'member': f'project-{i}'},
                                 timeout=TIMEOUT)
        return response.status_code, response.text

    assert count_refused(in_parallel(add, PARALLEL), 200) == COUNT_QUOTA
    response = requests.get(url, timeout=TIMEOUT)
    assert len(response.json()['members']) == COUNT_QUOTA


def test_tag_quota_holds_in_parallel(api, shared_image):
    url = f'{api.url}/v2/images/{shared_image["id"]}/tags'

    def add(i):
        response = requests.put(f'{url}/tag-{i}', timeout=TIMEOUT)
        return response.status_code, response.text

    assert count_refused(in_parallel(add, PARALLEL), 204) == COUNT_QUOTA
    assert len(image_of(api, shared_image['id'])['tags']) == COUNT_QUOTA


def test_property_quota_holds_in_parallel(api, shared_image):
    url = f'{api.url}/v2/images/{shared_image["id"]}'

    def add(i):
        response = requests.patch(
            url, json=[{'op': 'add', 'path': f'/prop_{i}', 'value': 'x'}],
            headers={'Content-Type': PATCH_TYPE}, timeout=TIMEOUT)
        return response.status_code, response.text

    assert count_refused(in_parallel(add, PARALLEL), 200) == COUNT_QUOTA
    image = image_of(api, shared_image['id'])
    assert len([key for key in image if key.startswith('prop_')]) \
        == COUNT_QUOTA
