"""The access lines of the glance-api daemon: one a request, with its
request id, and a log level that drops them."""
import requests

from tests.functional import daemon
from tests.helpers import wait_for


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
