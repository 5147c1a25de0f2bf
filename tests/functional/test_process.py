"""The launcher of the functional tests' servers (process.py), through
GlanceApi of daemon.py: the keystone-flavor hook, the workers and the stop,
which must leave no process behind."""
import signal

import requests

from tests.functional import daemon
from tests.functional import process
from tests.helpers import wait_for

KEYSTONE = """
[paste_deploy]
flavor = keystone
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:9/identity
auth_url = http://127.0.0.1:9/identity
"""


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
    monkeypatch.setattr(process, 'STOP_TIMEOUT', 1)
    api = daemon.start_glance_api(tmp_path, workers=2)
    try:
        wait_for(lambda: len(api.group_pids()) == 3)
        # A stopped daemon ignores SIGTERM (it stays pending).
        api.process.send_signal(signal.SIGSTOP)

        assert api.stop() == -signal.SIGKILL
    finally:
        api.stop()

    assert api.group_pids() == set()
