"""The glance CLI's task commands (task-create, task-show, task-list)
against glance-api with the keystone flavor and a real Keystone: a task
has its caller's project as owner, which the client's task schema needs.

Skipped unless GLANCE_TEST_KEYSTONE_VENV names a virtualenv with keystone
(see tests/functional/keystone.py).
"""
import json
import os
import subprocess

import pytest

from tests.functional.daemon import GlanceApi
from tests.functional.keystone import authtoken_config
from tests.functional.keystone import in_catalog
from tests.functional.keystone import venv_problem
from tests.functional.process import serving
from tests.functional.test_tasks import import_input
from tests.helpers import GLANCE
from tests.helpers import WebServer
from tests.helpers import parse_show
from tests.helpers import wait_for

TIMEOUT = 60
_PROBLEM = venv_problem()
pytestmark = [
    pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or 'enabled'),
    pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                       reason='python-glanceclient not installed')]
LOOPBACK_SOURCES = ('[import_filtering_opts]\nallowed_hosts = [127.0.0.1]\n'
                    'allowed_ports = []\n')


@pytest.fixture(scope='module')
def glance_api(keystone, tmp_path_factory):
    with serving(GlanceApi(tmp_path_factory.mktemp('glance-api-tasks'),
                           extra_config=authtoken_config(keystone)
                           + LOOPBACK_SOURCES, workers=2)) as api, \
            in_catalog(keystone, api):
        yield api


@pytest.fixture
def glance(keystone, glance_api, tmp_path):
    def run(account_name, *args, check=True):
        account = keystone.accounts[account_name]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith('OS_')}
        env['HOME'] = str(tmp_path)
        result = subprocess.run(
            ['/bin/sh', '-c', 'exec "$0" "$@" 0<&-', GLANCE,
             '--os-auth-url', keystone.auth_url,
             '--os-username', account.username,
             '--os-password', account.password,
             '--os-project-name', account.project,
             '--os-user-domain-name', 'Default',
             '--os-project-domain-name', 'Default',
             '--os-region-name', 'RegionOne',
             '--os-image-api-version', '2', *args],
            capture_output=True, text=True, env=env, timeout=TIMEOUT)
        if check:
            assert result.returncode == 0, (
                f'glance {" ".join(args)} failed ({result.returncode}):\n'
                f'{result.stdout}\n{result.stderr}')
        return result
    return run


def test_task_create_show_and_list(glance, keystone):
    data = os.urandom(1024 * 1024 + 5)
    source = WebServer({'/image.raw': data}).start()
    try:
        created = parse_show(glance(
            'cloud-admin', 'task-create', '--type', 'import', '--input',
            json.dumps(import_input(source.url + '/image.raw',
                                    disk_format='raw',
                                    container_format='bare',
                                    name='from-cli'))).stdout)
        task_id = created['id']
        assert created['type'] == 'import'
        assert created['owner'] == keystone.project_ids['admin']

        def ended():
            task = parse_show(glance('cloud-admin', 'task-show',
                                     task_id).stdout)
            return task if task['status'] in ('success', 'failure') \
                else None
        task = wait_for(ended, 'the task to end', timeout=TIMEOUT)
    finally:
        source.stop()
    assert task['status'] == 'success', task
    image_id = json.loads(task['result'])['image_id']
    image = parse_show(glance('cloud-admin', 'image-show', image_id).stdout)
    assert (image['name'], image['status'], image['size']) == (
        'from-cli', 'active', str(len(data)))

    assert task_id in glance('cloud-admin', 'task-list').stdout
    assert task_id in glance('cloud-admin', 'task-list', '--status',
                             'success', '--type', 'import', '--sort-key',
                             'status', '--page-size', '1').stdout
    assert task_id not in glance('cloud-admin', 'task-list', '--status',
                                 'failure').stdout

    refused = glance('cloud-admin', 'task-create', '--type', 'import',
                     '--input', json.dumps(import_input(
                         'file:///etc/passwd')), check=False)
    assert refused.returncode != 0
    assert 'File based imports are not allowed' in refused.stderr
    # tasks_api_access: admins only by default.
    refused = glance('beta-member', 'task-list', check=False)
    assert refused.returncode != 0
    assert '403' in refused.stderr
