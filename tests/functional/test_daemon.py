"""The GlanceApi helper of daemon.py: the keystone-flavor hook, the workers
and the stop, which must leave no process behind."""
import signal
import time

import requests

from tests.functional import daemon

KEYSTONE = """
[paste_deploy]
flavor = keystone
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:9/identity
auth_url = http://127.0.0.1:9/identity
"""


def wait_for(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.05)
    return result


def test_extra_config_workers_and_a_clean_stop(tmp_path):
    api = daemon.GlanceApi(tmp_path, extra_config=KEYSTONE, workers=2)
    with api:
        # The daemon and its two workers, all in the daemon's group.
        pids = wait_for(lambda: len(api.group_pids()) == 3
                        and api.group_pids())
        assert api.pid in pids
        assert requests.get(api.url + '/', timeout=20).status_code == 300
        # The keystone flavor: no token, no images.
        response = requests.get(api.url + '/v2/images', timeout=20)
        assert response.status_code == 401
        assert 'Keystone uri=' in response.headers['WWW-Authenticate']
        with open(api.config_file) as conf:
            assert 'bind_host = 127.0.0.1\n' in conf.read()

    assert api.process.returncode == 0
    assert api.group_pids() == set()
    assert 'All workers have exited' in api.log()
    # Stopping again is harmless.
    assert api.stop() == 0


def test_a_hung_daemon_is_killed_with_its_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon, 'STOP_TIMEOUT', 1)
    api = daemon.start_glance_api(tmp_path, workers=2)
    try:
        wait_for(lambda: len(api.group_pids()) == 3)
        # A stopped daemon ignores SIGTERM (it stays pending).
        api.process.send_signal(signal.SIGSTOP)

        assert api.stop() == -signal.SIGKILL
    finally:
        api.stop()

    assert api.group_pids() == set()


def access_lines(api):
    return [line for line in api.log().splitlines()
            if ' glance.wsgi.server ' in line]


def test_each_request_has_an_access_line_with_its_request_id(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1)
    with api:
        response = requests.get(api.url + '/v2/images?limit=3', timeout=20)
        request_id = response.headers['x-openstack-request-id']
        [line] = wait_for(lambda: [
            line for line in access_lines(api) if request_id in line])
    assert ' INFO glance.wsgi.server [' in line
    assert '"GET /v2/images?limit=3 HTTP/1.1" 200 ' in line


def test_access_lines_can_be_dropped_by_their_log_level(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1, extra_config=(
        '[DEFAULT]\ndefault_log_levels = glance.wsgi.server=WARN\n'))
    with api:
        for _ in range(3):
            assert requests.get(api.url + '/v2/images',
                                timeout=20).status_code == 200
    assert 'Listening on 127.0.0.1' in api.log()
    assert access_lines(api) == []
