"""The tasks API (/v2/tasks, /v2/images/{id}/tasks, the task schemas)
and the legacy import task, through the real application: each rule of
upstream's, and the sweep that fails a task whose process died."""
import datetime
import hashlib
import http.server
import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from glance.common import config
from glance.common import policy
import glance.db
from glance.db import helpers as db_helpers
from glance.db import models
from glance.images import legacy_import
from glance.images import uploads
from glance.policies import tasks as task_policies
from tests.helpers import UNKNOWN_ID
from tests.helpers import WebServer
from tests.helpers import assert_error
from tests.helpers import qcow2_image
from tests.helpers import wait_for

TASKS = models.Task.__table__
DATA = os.urandom(300 * 1024)
# The sources these tests serve are on loopback, which the default
# [import_filtering_opts] refuse.
LOOPBACK_ALLOWED = ('[import_filtering_opts]\nallowed_hosts = [127.0.0.1]\n'
                    'allowed_ports = []\n')
DELETE_MESSAGE = ('This operation is currently not permitted on Glance '
                  'Tasks. They are auto deleted after reaching the time '
                  'based on their expires_at property.')


@pytest.fixture
def source():
    server = WebServer({'/image.raw': DATA,
                        '/image.qcow2': qcow2_image(1024 * 1024)}).start()
    yield server
    server.stop()


@pytest.fixture
def tclient(client_with):
    return client_with(LOOPBACK_ALLOWED)


def import_body(url, properties=None, **extra):
    task_input = {'import_from': url, 'import_from_format': 'raw',
                  'image_properties': properties if properties is not None
                  else {'disk_format': 'raw', 'container_format': 'bare',
                        'name': 'imported'}}
    task_input.update(extra)
    return {'type': 'import', 'input': task_input}


def finished(client, task_id):
    def done():
        task = client.get('/v2/tasks/' + task_id).json
        return task if task['status'] in ('success', 'failure') else None
    return wait_for(done, 'the task to end')


def set_task(task_id, **values):
    with glance.db.writing() as session:
        session.execute(TASKS.update().where(TASKS.c.id == task_id)
                        .values(**values))


# --- schemas -----------------------------------------------------------------

TASK_PROPERTIES = {'id', 'type', 'status', 'input', 'result', 'owner',
                   'message', 'image_id', 'request_id', 'user_id',
                   'expires_at', 'created_at', 'updated_at', 'self',
                   'schema'}


def test_task_schemas(client):
    task = client.get('/v2/schemas/task').json
    assert task['name'] == 'task'
    assert task['additionalProperties'] is False
    assert set(task['properties']) == TASK_PROPERTIES
    assert task['properties']['type']['enum'] == [
        'import', 'api_image_import', 'location_import']
    assert task['properties']['status']['enum'] == [
        'pending', 'processing', 'success', 'failure']
    assert task['properties']['expires_at']['type'] == ['null', 'string']

    tasks = client.get('/v2/schemas/tasks').json
    assert tasks['name'] == 'tasks'
    stub = tasks['properties']['tasks']['items']
    assert set(stub['properties']) == TASK_PROPERTIES - {
        'input', 'result', 'message'}
    assert [link['rel'] for link in tasks['links']] == [
        'first', 'next', 'describedby']


# --- POST /v2/tasks ----------------------------------------------------------

@pytest.mark.parametrize('body, message', [
    ({'input': {}}, "Task 'type' is required"),
    (['type', 'input'], "Task 'type' is required"),
    ({'type': 'import'}, "Task 'input' is required"),
    ({'type': 'export', 'input': {}},
     "Provided object does not match schema 'task': 'export' is not one of"),
    ({'type': 'import', 'input': 'x'},
     "Provided object does not match schema 'task'"),
    ({'type': 'import', 'input': {}, 'extra': 1},
     "Provided object does not match schema 'task'"),
    (import_body('file:///etc/passwd'),
     'File based imports are not allowed. Please use a non-local source of '
     'image data.'),
    (import_body('ftp://example.com/x'),
     "The given uri is not valid. Please specify a valid uri from the "
     "following list of supported uri ['http']"),
    (import_body(''), 'Invalid location: '),
    (import_body('http://127.0.0.1/x'),
     'URI for legacy import task does not pass filtering: '
     'http://127.0.0.1/x'),
    (import_body('http://2130706433/x'),
     'URI for legacy import task does not pass filtering: '
     'http://2130706433/x'),
])
def test_create_refuses_bad_input(client, body, message):
    response = client.post('/v2/tasks', body)
    assert_error(response, 400, message)
    assert client.get('/v2/tasks').json['tasks'] == []


def test_create_needs_a_body(client):
    assert_error(client.post('/v2/tasks'), 400, 'Body expected in request.')


def test_legacy_import_creates_an_active_image(tclient, source,
                                               stored_files):
    response = tclient.post('/v2/tasks', import_body(
        source.url + '/image.raw',
        {'disk_format': 'raw', 'container_format': 'bare', 'name': 'imp',
         'tags': ['t1'], 'os_distro': 'debian'}))

    assert response.status_int == 201, response.body
    task = response.json
    assert response.headers['Location'].endswith('/v2/tasks/' + task['id'])
    assert task['status'] in ('pending', 'processing', 'success')
    assert task['type'] == 'import'
    assert task['message'] == ''
    assert task['self'] == '/v2/tasks/' + task['id']
    assert task['schema'] == '/v2/schemas/task'

    task = finished(tclient, task['id'])
    assert task['status'] == 'success', task
    image_id = task['result']['image_id']
    image = tclient.get('/v2/images/' + image_id).json
    assert image['status'] == 'active'
    assert (image['name'], image['tags'], image['os_distro']) == (
        'imp', ['t1'], 'debian')
    assert image['checksum'] == hashlib.md5(DATA).hexdigest()
    assert tclient.get(f'/v2/images/{image_id}/file').body == DATA
    assert stored_files() == [image_id]
    expires = datetime.datetime.strptime(task['expires_at'],
                                         '%Y-%m-%dT%H:%M:%SZ')
    updated = datetime.datetime.strptime(task['updated_at'],
                                         '%Y-%m-%dT%H:%M:%SZ')
    assert abs(expires - updated - datetime.timedelta(hours=48)) \
        < datetime.timedelta(seconds=2)


def test_empty_properties_make_a_qcow2_bare_image(tclient, source):
    # (qcow2 data: data that is not what its disk_format says is refused)
    task = tclient.post('/v2/tasks', import_body(
        source.url + '/image.qcow2', {})).json
    task = finished(tclient, task['id'])
    assert task['status'] == 'success', task['message']
    image = tclient.get('/v2/images/' + task['result']['image_id']).json
    assert (image['disk_format'], image['container_format']) == (
        'qcow2', 'bare')


def test_data_that_is_not_its_disk_format_fails_the_task(tclient, source,
                                                         stored_files):
    task = tclient.post('/v2/tasks', import_body(
        source.url + '/image.raw', {'disk_format': 'qcow2',
                                    'container_format': 'bare'})).json
    task = finished(tclient, task['id'])

    assert task['status'] == 'failure'
    assert 'Image disk_format qcow2 does not match stream data raw' \
        in task['message']
    assert tclient.get('/v2/images').json['images'] == []
    assert stored_files() == []


def test_a_failed_fetch_fails_the_task_and_deletes_its_image(
        tclient, source, stored_files):
    task = tclient.post('/v2/tasks', import_body(source.url + '/gone'))
    task = finished(tclient, task.json['id'])

    assert task['status'] == 'failure'
    assert '404' in task['message']
    assert task['result'] is None
    assert tclient.get('/v2/images').json['images'] == []
    assert stored_files() == []


def test_missing_input_fails_the_task(tclient, source):
    body = {'type': 'import', 'input': {'import_from':
                                        source.url + '/image.raw'}}
    task = finished(tclient, tclient.post('/v2/tasks', body).json['id'])
    assert task['status'] == 'failure'
    assert task['message'] == \
        "Input does not contain 'import_from_format' field"


def test_a_redirect_is_checked_again(client_with, source):
    client = client_with('[import_filtering_opts]\nallowed_hosts = '
                         '[127.0.0.1]\nallowed_ports = []\n')
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(302)
            self.send_header('Location', 'http://169.254.169.254/latest')
            self.send_header('Content-Length', '0')
            self.end_headers()

    redirector = WebServer(handler=Handler).start()
    try:
        task = client.post('/v2/tasks', import_body(redirector.url + '/x'))
        task = finished(client, task.json['id'])
    finally:
        redirector.stop()
    assert task['status'] == 'failure'
    assert task['message'] == ('Redirect to disallowed URL: '
                               'http://169.254.169.254/latest')


def test_other_types_fail_at_once(client):
    response = client.post('/v2/tasks', {'type': 'api_image_import',
                                         'input': {}})
    assert response.status_int == 201
    assert response.json['status'] == 'failure'


# --- GET /v2/tasks -----------------------------------------------------------

def make_tasks(client, count):
    """`count` failed tasks (no source needed: the type check fails)."""
    return [client.post('/v2/tasks', {'type': 'location_import',
                                      'input': {}}).json['id']
            for _ in range(count)]


@pytest.mark.parametrize('query, message', [
    ('status=done', 'Invalid status value: done'),
    ('type=api_image_import', 'Invalid type value: api_image_import'),
    ('sort_dir=up', 'Invalid sort direction: up'),
    ('marker=abc', 'Invalid marker format'),
    ('limit=x', 'limit param must be an integer'),
    ('limit=-1', 'limit param must be positive'),
    ('sort_key=size', 'Sort key supplied was not valid.'),
    ('marker=' + UNKNOWN_ID,
     'Task with the given id %s was not found' % UNKNOWN_ID),
])
def test_list_refuses_bad_parameters(client, query, message):
    assert_error(client.get('/v2/tasks?' + query), 400, message)


def test_list_filters_sorts_and_pages(client):
    ids = make_tasks(client, 5)
    body = client.get('/v2/tasks').json
    assert [t['id'] for t in body['tasks']] == ids[::-1]
    assert body['first'] == '/v2/tasks'
    assert body['schema'] == '/v2/schemas/tasks'
    assert 'next' not in body
    stub = body['tasks'][0]
    assert 'input' not in stub and 'message' not in stub
    assert stub['self'] == '/v2/tasks/' + stub['id']

    assert client.get('/v2/tasks?status=failure').json['tasks']
    assert client.get('/v2/tasks?status=success').json['tasks'] == []
    assert client.get('/v2/tasks?type=import').json['tasks'] == []

    walked, path = [], '/v2/tasks?limit=2&sort_dir=asc'
    while path:
        page = client.get(path).json
        walked += [t['id'] for t in page['tasks']]
        path = page.get('next')
    assert walked == ids
    page = client.get('/v2/tasks?limit=2&sort_dir=asc').json
    assert page['first'] == '/v2/tasks?limit=2&sort_dir=asc'

    by_id = client.get('/v2/tasks?sort_key=id&sort_dir=asc').json['tasks']
    assert [t['id'] for t in by_id] == sorted(ids)
    # A nullable key (all NULL here) still pages through everything.
    walked, path = [], '/v2/tasks?limit=2&sort_key=image_id'
    while path:
        page = client.get(path).json
        walked += [t['id'] for t in page['tasks']]
        path = page.get('next')
    assert sorted(walked) == sorted(ids)


def test_show_and_delete(client):
    task_id = make_tasks(client, 1)[0]
    task = client.get('/v2/tasks/' + task_id).json
    assert task['input'] == {}
    assert task['status'] == 'failure'
    assert 'image_id' not in task

    response = client.delete('/v2/tasks/' + task_id)
    assert_error(response, 405, DELETE_MESSAGE)
    assert response.headers['Allow'] == 'GET'
    assert client.get('/v2/tasks/' + task_id).status_int == 200
    assert_error(client.get('/v2/tasks/' + UNKNOWN_ID), 404,
                 'Task with the given id %s was not found' % UNKNOWN_ID)


# --- policies --------------------------------------------------------------

def test_tasks_are_for_admins_by_default(admin, owner):
    task_id = admin.post('/v2/tasks', {'type': 'location_import',
                                       'input': {}}).json['id']
    for response in (owner.get('/v2/tasks'),
                     owner.get('/v2/tasks/' + task_id),
                     owner.delete('/v2/tasks/' + task_id),
                     owner.post('/v2/tasks', {'type': 'import'})):
        assert_error(response, 403, 'tasks_api_access')


def test_with_access_a_project_sees_its_own_tasks(tmp_path, trusted_app,
                                                  as_project):
    (tmp_path / 'policy.yaml').write_text('"tasks_api_access": ""\n')
    config.CONF.set_override('policy_file', str(tmp_path / 'policy.yaml'),
                             group='oslo_policy')
    policy.reset()
    try:
        owner, other = as_project('owner-project'), as_project('other')
        mine = owner.post('/v2/tasks', {'type': 'location_import',
                                        'input': {}}).json
        assert mine['owner'] == 'owner-project'
        assert mine['user_id'] == 'user-of-owner-project'
        assert [t['id'] for t in owner.get('/v2/tasks').json['tasks']] == [
            mine['id']]
        assert other.get('/v2/tasks').json['tasks'] == []
        assert_error(other.get('/v2/tasks/' + mine['id']), 403,
                     'is not visible')
    finally:
        config.CONF.clear_override('policy_file', group='oslo_policy')
        policy.reset()


def test_policy_defaults():
    rules = {rule.name: rule.check_str for rule in task_policies.RULES}
    assert rules == {'get_task': 'rule:default', 'get_tasks': 'rule:default',
                     'add_task': 'rule:default',
                     'modify_task': 'rule:default',
                     'tasks_api_access': 'rule:context_is_admin'}


# --- expiry and the tasks of an image ---------------------------------------

def test_expired_tasks_are_deleted(client):
    expired, kept = make_tasks(client, 2)
    set_task(expired, expires_at=db_helpers.utcnow()
             - datetime.timedelta(seconds=1))

    assert [t['id'] for t in client.get('/v2/tasks').json['tasks']] == [kept]
    assert client.get('/v2/tasks/' + expired).status_int == 404
    with glance.db.reading() as session:
        deleted = session.execute(sa.select(TASKS.c.deleted).where(
            TASKS.c.id == expired)).scalar()
    assert deleted


def test_tasks_of_an_image(tclient, source):
    task = tclient.post('/v2/tasks', import_body(source.url + '/image.raw'))
    task = finished(tclient, task.json['id'])
    image_id = task['result']['image_id']

    found = tclient.get(f'/v2/images/{image_id}/tasks').json['tasks']
    assert [t['id'] for t in found] == [task['id']]
    listed = found[0]
    assert set(listed) >= {'deleted', 'deleted_at', 'input', 'result',
                           'message', 'expires_at'}
    datetime.datetime.strptime(listed['created_at'], '%Y-%m-%dT%H:%M:%S.%f')

    set_task(task['id'], expires_at=db_helpers.utcnow()
             - datetime.timedelta(seconds=1))
    assert tclient.get(f'/v2/images/{image_id}/tasks').json['tasks'] == []
    response = tclient.get(f'/v2/images/{UNKNOWN_ID}/tasks')
    assert response.status_int == 404


# --- a task whose process died -----------------------------------------------

def dead_process():
    """The identity a process had on this node, now gone."""
    child = subprocess.run([sys.executable, '-c',
                            'import os; print(os.getpid())'],
                           capture_output=True, text=True, check=True)
    pid = int(child.stdout)
    return f'{uploads._boot_id()}:{pid}:1'


def test_a_task_of_a_dead_process_is_failed_by_the_sweep(tclient):
    image = tclient.create_image(name='half-made')
    task_id = make_tasks(tclient, 1)[0]
    set_task(task_id, type='import', status='processing',
             image_id=image['id'], expires_at=None, node=uploads.CONF.host,
             process=dead_process(),
             lease_expires_at=db_helpers.utcnow()
             + datetime.timedelta(minutes=5))

    uploads.sweep()

    task = tclient.get('/v2/tasks/' + task_id).json
    assert task['status'] == 'failure'
    assert task['message'].startswith('The task was interrupted')
    assert task['expires_at']
    assert tclient.get('/v2/images/' + image['id']).status_int == 404


def test_an_expired_lease_of_another_node_is_taken_over(tclient):
    task_id = make_tasks(tclient, 1)[0]
    set_task(task_id, type='import', status='processing', expires_at=None,
             node='another-node', process='x:1:1',
             lease_expires_at=db_helpers.utcnow()
             - datetime.timedelta(seconds=1))
    live = make_tasks(tclient, 1)[0]
    set_task(live, type='import', status='processing', expires_at=None,
             node='another-node', process='x:2:1',
             lease_expires_at=db_helpers.utcnow()
             + datetime.timedelta(minutes=5))

    legacy_import.reclaim_dead_tasks()

    assert tclient.get('/v2/tasks/' + task_id).json['status'] == 'failure'
    assert tclient.get('/v2/tasks/' + live).json['status'] == 'processing'


def test_a_processing_task_keeps_its_lease(tclient):
    task_id = make_tasks(tclient, 1)[0]
    node, process = uploads.identity()
    old = db_helpers.utcnow() - datetime.timedelta(seconds=1)
    set_task(task_id, status='processing', expires_at=None, node=node,
             process=process, lease_expires_at=old)
    legacy_import.holder.in_flight.add(task_id)
    try:
        uploads.renew_leases()
        uploads.sweep()
    finally:
        legacy_import.holder.in_flight.discard(task_id)
    assert tclient.get('/v2/tasks/' + task_id).json['status'] == 'processing'
    with glance.db.reading() as session:
        lease = session.execute(sa.select(TASKS.c.lease_expires_at).where(
            TASKS.c.id == task_id)).scalar()
    assert lease > db_helpers.utcnow()


def test_unknown_ids_are_not_uuids_of_tasks(client):
    assert client.get('/v2/tasks/' + str(uuid.uuid4())).status_int == 404
