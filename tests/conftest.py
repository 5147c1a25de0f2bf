"""Shared fixtures: the real paste application on a temporary SQLite file
and filesystem store, driven through WebOb."""
import json
import os

import pytest
import webob

from glance import store
from glance.common import config
from glance.common import policy
import glance.db

REPO_ETC = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'etc')
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'

# The keystone flavor without the token check: requests carry the headers
# keystonemiddleware would set, so rules can be tested without Keystone.
TRUSTED_HEADERS_PASTE = """
[composite:glance-api-trusted]
use = egg:glance#rootapp
/: api

[pipeline:api]
pipeline = request_id versionnegotiation context rootapp

[composite:rootapp]
use = egg:glance#rootapp
/: apiversions
/v1: apiv1app
/v2: apiv2app

[app:apiversions]
use = egg:glance#versions

[app:apiv1app]
use = egg:glance#apiv1app

[app:apiv2app]
use = egg:glance#apiv2app

[filter:request_id]
paste.filter_factory = glance.api.middleware.request_id:RequestId.factory

[filter:versionnegotiation]
use = egg:glance#versionnegotiation

[filter:context]
use = egg:glance#context
"""


def configure(tmp_path, extra=''):
    """Parse a fresh configuration rooted in tmp_path."""
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text(
        '[DEFAULT]\nstate_path = %s\n[paste_deploy]\nconfig_file = %s\n%s'
        % (tmp_path / 'state', os.path.join(REPO_ETC, 'glance-api-paste.ini'),
           extra))
    config.CONF.reset()
    config.parse_args(['--config-file', str(conf_file)])
    glance.db.reset()
    policy.reset()
    store.create_stores()
    glance.db.ensure_schema()
    return conf_file


class Client:
    """Requests against a WSGI application, with JSON conveniences."""

    def __init__(self, app, headers=None):
        self.app = app
        self.headers = dict(headers or {})

    def request(self, method, path, body=None, headers=None,
                content_type=None):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        request = webob.Request.blank(path, method=method,
                                      headers=all_headers)
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                content_type = content_type or 'application/json'
            request.body = body
        if content_type:
            request.content_type = content_type
        return request.get_response(self.app)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request('PUT', path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def patch(self, path, changes, **kwargs):
        kwargs.setdefault('content_type', PATCH_TYPE)
        return self.request('PATCH', path, changes, **kwargs)

    def create_image(self, **values):
        values.setdefault('disk_format', 'raw')
        values.setdefault('container_format', 'bare')
        response = self.post('/v2/images', values)
        assert response.status_int == 201, response.body
        return response.json

    def upload(self, image_id, data):
        return self.put('/v2/images/%s/file' % image_id, data,
                        content_type='application/octet-stream')


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
    """The keystone flavor minus the token check (see above)."""
    paste_file = tmp_path / 'trusted-paste.ini'
    paste_file.write_text(TRUSTED_HEADERS_PASTE)
    configure(tmp_path, '[paste_deploy]\nflavor = trusted\nconfig_file = %s\n'
              % paste_file)
    yield config.load_paste_app('glance-api')
    glance.db.reset()


def identity_headers(project, roles=('member', 'reader'), user=None):
    return {'X-Identity-Status': 'Confirmed',
            'X-Project-Id': project,
            'X-User-Id': user or 'user-of-' + project,
            'X-Roles': ','.join(roles)}


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
