"""Fixtures of the functional tests: the real glance-api daemon."""
import re

import pytest

from tests.functional.daemon import GlanceApi
from tests.functional.process import serving

# What the server logs when a request failed on its side.
SERVER_ERROR = re.compile(r'Traceback|" 5\d\d \d')


@pytest.fixture(scope='module')
def glance_api(tmp_path_factory):
    """A glance-api (default flavor: no authentication, every caller is
    the admin) with 2 workers, an SQLite file and a filesystem store, for
    the tests of one module. Its log is printed when the module is done
    (shown by pytest with -s, or when that teardown fails)."""
    with serving(GlanceApi(tmp_path_factory.mktemp('glance-api'),
                           workers=2)) as api:
        yield api


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """A test that uses glance_api fails if the server logged a traceback
    or answered 5xx meanwhile (unless it is marked xfail)."""
    if ('glance_api' not in request.fixturenames
            or request.node.get_closest_marker('xfail')):
        yield
        return
    api = request.getfixturevalue('glance_api')
    start = len(api.log())
    yield
    new = api.log()[start:]
    errors = [line for line in new.splitlines() if SERVER_ERROR.search(line)]
    assert not errors, 'the server failed:\n' + new
