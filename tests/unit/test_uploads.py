"""Uploads in flight (glance.images.uploads) through the real application:
their records, storage reservations, and the sweep that finishes what a
dead process left (deletions included)."""
import io
import json
import threading

import sqlalchemy as sa
import webob

import glance.db
from glance.db import images as image_db
from glance.db import models
from glance.images import uploads
from tests.helpers import active_image
from tests.helpers import assert_error
from tests.helpers import file_path
from tests.helpers import show

UPLOADS = models.ImageUpload.__table__
LOCATIONS = models.ImageLocation.__table__
KiB = 1024


def rows(table):
    with glance.db.reading() as session:
        return [dict(row._mapping) for row in session.execute(
            sa.select(table))]


class HeldBody(io.RawIOBase):
    """A request body that hands out `first` bytes, then waits for
    `release` before the rest."""

    def __init__(self, data, first):
        self.data = data
        self.first = first
        self.position = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.position == self.first:
            self.reached.set()
            self.release.wait(30)
        end = self.first if self.position < self.first else len(self.data)
        count = min(len(buffer), end - self.position)
        buffer[:count] = self.data[self.position:self.position + count]
        self.position += count
        return count


def start_upload(client, image_id, body, sized=True):
    """PUT the image data from another thread; returns (thread, answers)."""
    headers = {'Content-Type': 'application/octet-stream'}
    if sized:
        headers['Content-Length'] = str(len(body.data))
    else:
        headers['Transfer-Encoding'] = 'chunked'
    request = webob.Request.blank(
        file_path(image_id), headers=headers,
        environ={'REQUEST_METHOD': 'PUT', 'wsgi.input': io.BufferedReader(
            body, 64)})
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(request.get_response(client.app)))
    thread.start()
    return thread, answers


def test_an_upload_is_recorded_while_in_flight_only(client):
    image = client.create_image()
    body = HeldBody(b'x' * 1000, 300)
    thread, answers = start_upload(client, image['id'], body)
    assert body.reached.wait(10)
    [upload] = rows(UPLOADS)
    assert upload['image_id'] == image['id']
    assert upload['on_failure'] == 'queued'
    node, process = uploads.identity()
    assert (upload['node'], upload['process']) == (node, process)
    # Without a quota, nothing is reserved.
    assert upload['reserved'] == 0
    assert any(url.endswith(f'.{image["id"]}.{upload["id"]}.partial')
               for url in json.loads(upload['leftovers']))
    body.release.set()
    thread.join(10)
    assert answers[0].status_int == 204
    assert rows(UPLOADS) == []
    # A failed one goes as well.
    other = client.create_image()
    # (The body ends before the length it declares.)
    response = webob.Request.blank(
        file_path(other['id']),
        headers={'Content-Type': 'application/octet-stream'},
        environ={'REQUEST_METHOD': 'PUT', 'CONTENT_LENGTH': '20',
                 'wsgi.input': io.BytesIO(b'y' * 10)}).get_response(
                     client.app)
    assert response.status_int == 400, response.text
    assert rows(UPLOADS) == []


def test_data_in_flight_counts_against_the_quota(client_with):
    client = client_with('[DEFAULT]\nuser_storage_quota = 10KB\n')
    first = client.create_image()
    body = HeldBody(b'a' * 6 * KiB, KiB)
    thread, answers = start_upload(client, first['id'], body)
    assert body.reached.wait(10)
    assert rows(UPLOADS)[0]['reserved'] == 6 * KiB
    try:
        second = client.create_image()
        response = client.put(file_path(second['id']), b'b' * 5 * KiB,
                              content_type='application/octet-stream')
        assert_error(response, 413, 'Image exceeds the storage quota: The '
                     'size of the data 5120 will exceed the limit. 4096 '
                     'bytes remaining.')
        assert show(client, second['id'])['status'] == 'queued'
    finally:
        body.release.set()
        thread.join(10)
    assert answers[0].status_int == 204
    # The reservation became usage: 4 KiB still fit, not one byte more.
    response = client.put(file_path(second['id']), b'b' * 4 * KiB,
                          content_type='application/octet-stream')
    assert response.status_int == 204, response.text
    third = client.create_image()
    response = client.put(file_path(third['id']), b'c',
                          content_type='application/octet-stream')
    assert response.status_int == 413


def test_chunked_uploads_reserve_as_their_data_comes(client_with):
    client = client_with('[DEFAULT]\nuser_storage_quota = 10KB\n')
    first = client.create_image()
    body = HeldBody(b'a' * 6 * KiB, 6 * KiB - 1)
    thread, answers = start_upload(client, first['id'], body, sized=False)
    assert body.reached.wait(10)
    # Reserved a step ahead, at most what the quota holds.
    assert rows(UPLOADS)[0]['reserved'] == 10 * KiB
    try:
        second = client.create_image()
        response = client.put(file_path(second['id']), b'b',
                              content_type='application/octet-stream',
                              headers={'Transfer-Encoding': 'chunked'})
        assert_error(response, 413, 'Image exceeds the storage quota')
    finally:
        body.release.set()
        thread.join(10)
    assert answers[0].status_int == 204
    assert rows(UPLOADS) == []


def test_a_sweep_finishes_an_interrupted_delete(client, stored_files):
    image = active_image(client)
    assert stored_files() == [image['id']]
    # What a process killed right after the delete's transaction leaves.
    with glance.db.writing() as session:
        image_db.image_soft_delete(session, image['id'])
    assert stored_files() == [image['id']]
    [location] = rows(LOCATIONS)
    assert location['status'] == 'pending_delete'

    uploads.sweep()
    assert stored_files() == []
    assert rows(LOCATIONS) == []


def test_delete_leaves_nothing_pending(client, stored_files):
    image = active_image(client)
    assert client.delete(f'/v2/images/{image["id"]}').status_int == 204
    assert stored_files() == []
    assert rows(LOCATIONS) == []
