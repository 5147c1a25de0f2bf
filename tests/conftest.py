"""Shared fixtures: the real paste application on a temporary SQLite file
and filesystem store, driven through WebOb (see tests/helpers.py)."""
import pytest

from glance.common import config
import glance.db
from tests.helpers import TRUSTED_HEADERS_PASTE
from tests.helpers import Client
from tests.helpers import configure
from tests.helpers import identity_headers


@pytest.fixture
def app(tmp_path):
    """The default (no authentication) flavor of the real application."""
    configure(tmp_path)
    yield config.load_paste_app('glance-api')
    glance.db.reset()


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def trusted_app(tmp_path):
    """The keystone flavor minus the token check (TRUSTED_HEADERS_PASTE)."""
    paste_file = tmp_path / 'trusted-paste.ini'
    paste_file.write_text(TRUSTED_HEADERS_PASTE)
    configure(tmp_path, '[paste_deploy]\nflavor = trusted\nconfig_file = %s\n'
              % paste_file)
    yield config.load_paste_app('glance-api')
    glance.db.reset()


@pytest.fixture
def as_project(trusted_app):
    """as_project('p1', roles=...) -> a Client acting for that project."""
    def make(project, roles=('member', 'reader')):
        return Client(trusted_app, identity_headers(project, roles))
    return make


@pytest.fixture
def client_with(tmp_path):
    """client_with(config_text) -> a Client of the default flavor so
    configured."""
    def make(extra):
        configure(tmp_path, extra)
        return Client(config.load_paste_app('glance-api'))
    yield make
    glance.db.reset()


# Projects with the roles a project's users usually have.

@pytest.fixture
def owner(as_project):
    return as_project('owner-project')


@pytest.fixture
def friend(as_project):
    return as_project('friend-project')


@pytest.fixture
def stranger(as_project):
    return as_project('stranger-project')


@pytest.fixture
def other(as_project):
    return as_project('other-project')


@pytest.fixture
def admin(as_project):
    return as_project('admin-project', roles=('admin', 'member', 'reader'))
