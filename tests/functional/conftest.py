"""Fixtures of the functional tests: the real glance-api daemon; for the
modules of the keystone flavor, the real Keystone and callers of it; for
the object-store drivers, a real Swift with its S3 API."""
import re

import pytest

from tests.functional import swift
from tests.functional.daemon import GlanceApi
from tests.functional.keystone import Caller
from tests.functional.keystone import Keystone
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


# The keystone flavor (its modules define glance_api; see keystone.py).

@pytest.fixture(scope='session')
def keystone(tmp_path_factory):
    """The real Keystone of the session, populated (see keystone.py)."""
    with serving(Keystone(tmp_path_factory.mktemp('keystone')),
                 'keystone') as server:
        yield server


@pytest.fixture(scope='module')
def tokens(keystone):
    """A token of every account (name -> token), for the module."""
    return {name: keystone.token(name) for name in keystone.accounts}


@pytest.fixture(scope='module')
def who(glance_api, keystone, tokens):
    """name -> Caller of glance_api with the account's token."""
    callers = {name: Caller(glance_api, token,
                            keystone.project_ids[keystone.accounts[
                                name].project])
               for name, token in tokens.items()}
    yield callers
    for caller in callers.values():
        caller.close()


# The object stores.

@pytest.fixture(scope='session')
def swift_server(tmp_path_factory):
    """The real Swift of the session (tempauth, with the S3 API; see
    swift.py), or the test is skipped when GLANCE_TEST_SWIFT_VENV does
    not name a Swift virtualenv."""
    problem = swift.venv_problem()
    if problem:
        pytest.skip(problem)
    with serving(swift.Swift(tmp_path_factory.mktemp('swift')),
                 'swift') as server:
        yield server


@pytest.fixture(scope='session')
def swift_keystone(tmp_path_factory, keystone):
    """A second real Swift, of the session, that authenticates with the
    real Keystone (swift.KEYSTONE_PIPELINE) and is its object-store;
    skipped as swift_server is."""
    problem = swift.venv_problem()
    if problem:
        pytest.skip(problem)
    server = swift.Swift(tmp_path_factory.mktemp('swift-keystone'),
                         pipeline=swift.KEYSTONE_PIPELINE,
                         filters=swift.keystone_filters(keystone))
    with serving(server, 'swift (keystone)'), server.in_catalog(keystone):
        yield server
