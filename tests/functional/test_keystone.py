"""The keystone flavor against a real Keystone.

A Keystone (tests/functional/keystone.py: keystone==30.0.0 under gunicorn,
SQLite, fernet tokens) runs for the whole session; glance-api daemons with
`flavor = keystone` validate its tokens through keystonemiddleware, whose
service user is `glance` (project `service`, roles admin and service).
Projects alpha and beta each have a member (roles member, reader) and a
reader; cloud-admin has the admin role. Tokens come from Keystone with
keystoneauth1's Password plugin and go in X-Auth-Token; python-glanceclient
and the `glance` CLI find the image endpoint in the token's catalog.

Skipped unless GLANCE_TEST_KEYSTONE_VENV names a virtualenv with keystone
and gunicorn (see tests/functional/keystone.py).
"""
import hashlib
import io
import os
import subprocess
import sys
import uuid

import pytest
import requests

from tests.functional.conftest import SERVER_ERROR
from tests.functional.daemon import GlanceApi
from tests.functional.keystone import Caller
from tests.functional.keystone import authtoken_config
from tests.functional.keystone import in_catalog
from tests.functional.keystone import venv_problem
from tests.functional.process import serving

TIMEOUT = 60
GLANCE = os.path.join(os.path.dirname(sys.executable), 'glance')
REQUEST_ID = 'x-openstack-request-id'

_PROBLEM = venv_problem()
pytestmark = pytest.mark.skipif(_PROBLEM is not None,
                                reason=_PROBLEM or 'enabled')


@pytest.fixture(scope='module')
def glance_api(keystone, tmp_path_factory):
    """glance-api with the keystone flavor (2 workers), registered in
    Keystone's catalog as the image service of RegionOne. Named as the
    conftest fixture it overrides, so that its log is checked for server
    errors after every test."""
    with serving(GlanceApi(tmp_path_factory.mktemp('glance-api-keystone'),
                           extra_config=authtoken_config(keystone),
                           workers=2)) as api, in_catalog(keystone, api):
        yield api


def replace(path, value):
    return {'op': 'replace', 'path': path, 'value': value}


@pytest.fixture
def data():
    return os.urandom(1024 * 1024 + 3)


@pytest.fixture
def alpha_image(who, data):
    """A private image of project alpha, with data."""
    image = who['alpha-member'].create(visibility='private')
    response = who['alpha-member'].upload(image['id'], data)
    assert response.status_code == 204, response.text
    return image


# Authentication.


def test_no_token_is_401_with_where_to_authenticate(glance_api, keystone):
    for method, path in (('GET', '/v2/images'), ('POST', '/v2/images'),
                         ('GET', f'/v2/images/{uuid.uuid4()}'),
                         ('GET', '/v2/schemas/image')):
        response = requests.request(method, glance_api.url + path,
                                    json={} if method == 'POST' else None,
                                    timeout=TIMEOUT)
        assert response.status_code == 401, (method, path, response.text)
        assert (response.headers['WWW-Authenticate']
                == f'Keystone uri="{keystone.url}"')
        assert response.headers[REQUEST_ID].startswith('req-')


@pytest.mark.parametrize('token', [
    'garbage',
    'gAAAAABnotafernettokenatall0000000000000000000000000000000000',
    '',
])
def test_invalid_token_is_401(glance_api, keystone, token):
    response = requests.get(glance_api.url + '/v2/images',
                            headers={'X-Auth-Token': token}, timeout=TIMEOUT)

    assert response.status_code == 401, response.text
    assert (response.headers['WWW-Authenticate']
            == f'Keystone uri="{keystone.url}"')


def test_tampered_token_is_401(glance_api, keystone):
    token = keystone.token('alpha-member')
    tampered = token[:-8] + ('A' if token[-8] != 'A' else 'B') + token[-7:]

    response = requests.get(glance_api.url + '/v2/images',
                            headers={'X-Auth-Token': tampered},
                            timeout=TIMEOUT)

    assert response.status_code == 401, response.text


def test_revoked_token_is_401(glance_api, keystone):
    """A token glance-api has not seen (nor cached) yet, revoked."""
    token = keystone.token('alpha-member')
    admin = keystone.session('admin')
    assert admin.head(keystone.auth_url + '/auth/tokens',
                      headers={'X-Subject-Token': token}).status_code == 200

    keystone.revoke(token)

    response = requests.get(glance_api.url + '/v2/images',
                            headers={'X-Auth-Token': token}, timeout=TIMEOUT)
    assert response.status_code == 401, response.text
    assert 'WWW-Authenticate' in response.headers


def test_unscoped_token_may_not_list(glance_api, keystone):
    """A token scoped to nothing (explicitly: Keystone scopes a request
    without scope to the user's default project): no roles, no project;
    keystonemiddleware lets it through, the policy says no."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    account = keystone.accounts['alpha-member']
    token = session.Session(auth=v3.Password(
        auth_url=keystone.auth_url, username=account.username,
        password=account.password, user_domain_id='default',
        unscoped=True)).get_token()

    response = requests.get(glance_api.url + '/v2/images',
                            headers={'X-Auth-Token': token}, timeout=TIMEOUT)

    assert response.status_code == 403, response.text


@pytest.mark.parametrize('scope', ['system', 'domain'])
def test_admin_token_not_scoped_to_a_project(glance_api, keystone, who,
                                             scope):
    """The image rules are for project-scoped tokens (scope_types project,
    enforced): a system or domain admin token gets nothing."""
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    image = who['alpha-member'].create(visibility='private')
    if scope == 'system':
        # bootstrap gave admin the admin role on the system.
        scoping = {'system_scope': 'all'}
    else:
        keystone.session('admin').put(
            f'{keystone.auth_url}/domains/default/users/'
            f'{keystone.user_ids["admin"]}/roles/'
            f'{keystone.role_ids["admin"]}')
        scoping = {'domain_id': 'default'}
    token = session.Session(auth=v3.Password(
        auth_url=keystone.auth_url, username='admin',
        password=keystone.admin_password, user_domain_id='default',
        **scoping)).get_token()
    caller = Caller(glance_api, token)

    assert caller.get('/v2/images').status_code == 403
    assert caller.post('/v2/images', json={
        'name': 'x', 'disk_format': 'raw',
        'container_format': 'bare'}).status_code == 403
    path = f'/v2/images/{image["id"]}'
    assert caller.get(path).status_code in (403, 404)
    assert caller.patch(image['id'],
                        replace('/name', 'x')).status_code in (403, 404)
    assert caller.delete(path).status_code in (403, 404)
    assert who['alpha-member'].get(path).json()['name'] == image['name']


def test_identity_headers_of_the_caller_are_not_trusted(glance_api, tokens,
                                                        keystone):
    """keystonemiddleware replaces the X-Identity-Status, X-Roles,
    X-Project-Id... a client sends: no way in, or up, by headers."""
    forged = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member',
              'X-Project-Id': keystone.project_ids['beta'],
              'X-User-Id': 'someone', 'X-Is-Admin': 'true'}

    anonymous = requests.get(glance_api.url + '/v2/images', headers=forged,
                             timeout=TIMEOUT)
    assert anonymous.status_code == 401, anonymous.text

    response = requests.post(
        glance_api.url + '/v2/images', timeout=TIMEOUT,
        headers={**forged, 'X-Auth-Token': tokens['alpha-reader']},
        json={'name': 'forged', 'disk_format': 'raw',
              'container_format': 'bare'})
    assert response.status_code == 403, response.text


def test_versions_need_no_token(glance_api):
    root = requests.get(glance_api.url + '/', timeout=TIMEOUT)
    versions = requests.get(glance_api.url + '/versions', timeout=TIMEOUT)
    garbage = requests.get(glance_api.url + '/versions', timeout=TIMEOUT,
                           headers={'X-Auth-Token': 'garbage'})

    assert root.status_code == 300
    assert versions.status_code == 200
    assert garbage.status_code == 200
    assert root.json() == versions.json()
    ids = {version['id'] for version in versions.json()['versions']}
    assert 'v2.0' in ids
    assert 'WWW-Authenticate' not in versions.headers


def test_healthcheck_needs_no_token(glance_api):
    response = requests.get(glance_api.url + '/healthcheck', timeout=TIMEOUT)

    assert response.status_code == 200


def test_request_ids(who, glance_api):
    ok = who['alpha-reader'].get('/v2/images')
    missing = who['alpha-reader'].get(f'/v2/images/{uuid.uuid4()}')
    forbidden = who['alpha-reader'].post('/v2/images', json={})
    unauthorized = requests.get(glance_api.url + '/v2/images',
                                timeout=TIMEOUT)

    statuses = [r.status_code for r in (ok, missing, forbidden,
                                        unauthorized)]
    assert statuses == [200, 404, 403, 401]
    ids = [r.headers.get(REQUEST_ID) for r in (ok, missing, forbidden,
                                                unauthorized)]
    assert all(id_ and id_.startswith('req-') for id_ in ids), ids
    assert len(set(ids)) == 4


def test_service_token_with_a_user_token(who, tokens, glance_api):
    """keystonemiddleware validates an X-Service-Token (of a user with
    the service role) beside the user's token."""
    response = who['alpha-reader'].get(
        '/v2/images', headers={'X-Service-Token': tokens['glance']})

    assert response.status_code == 200, response.text


# Who may do what (secure RBAC defaults).


def test_owner_is_the_token_project(who, keystone):
    image = who['alpha-member'].create()

    assert image['owner'] == keystone.project_ids['alpha']
    assert image['visibility'] == 'shared'
    shown = who['alpha-reader'].get(f'/v2/images/{image["id"]}').json()
    assert shown['owner'] == keystone.project_ids['alpha']


def test_member_may_not_create_for_another_project(who, keystone):
    beta = keystone.project_ids['beta']
    name = 'ks-' + uuid.uuid4().hex[:12]

    response = who['alpha-member'].post('/v2/images', json={
        'name': name, 'disk_format': 'raw', 'container_format': 'bare',
        'owner': beta})

    assert response.status_code == 403, response.text
    assert who['admin'].list_ids(name=name) == []
    # Naming its own project is fine.
    image = who['alpha-member'].create(owner=keystone.project_ids['alpha'])
    assert image['owner'] == keystone.project_ids['alpha']


def test_reader_reads_but_does_not_write(who, alpha_image, data):
    reader = who['alpha-reader']
    image_id = alpha_image['id']

    assert image_id in reader.list_ids()
    shown = reader.get(f'/v2/images/{image_id}')
    assert shown.status_code == 200
    assert shown.json()['status'] == 'active'

    assert reader.post('/v2/images', json={
        'name': 'nope', 'disk_format': 'raw',
        'container_format': 'bare'}).status_code == 403
    assert reader.patch(image_id, replace('/name', 'x')).status_code == 403
    assert reader.put(f'/v2/images/{image_id}/tags/t').status_code == 403
    assert reader.delete(f'/v2/images/{image_id}').status_code == 403
    assert reader.post(
        f'/v2/images/{image_id}/actions/deactivate').status_code == 403
    assert reader.post(f'/v2/images/{image_id}/members',
                       json={'member': 'someone'}).status_code == 403
    # Upstream's default: downloading takes the member role.
    assert reader.get(f'/v2/images/{image_id}/file').status_code == 403
    queued = who['alpha-member'].create()
    assert reader.upload(queued['id'], data).status_code == 403

    after = who['alpha-member'].get(f'/v2/images/{image_id}').json()
    assert after == shown.json()
    assert who['alpha-member'].get(
        f'/v2/images/{queued["id"]}').json()['status'] == 'queued'


def test_member_manages_its_project_images(who, data):
    member = who['alpha-member']
    image = member.create(tags=['one'], min_disk=1)

    patched = member.patch(image['id'], replace('/name', 'renamed'),
                           {'op': 'add', 'path': '/purpose',
                            'value': 'testing'})
    assert patched.status_code == 200, patched.text
    assert (patched.json()['name'], patched.json()['purpose']) == (
        'renamed', 'testing')
    assert member.put(f'/v2/images/{image["id"]}/tags/two').status_code \
        == 204

    assert member.upload(image['id'], data).status_code == 204
    shown = member.get(f'/v2/images/{image["id"]}').json()
    assert shown['status'] == 'active'
    assert shown['size'] == len(data)
    assert shown['checksum'] == hashlib.md5(data).hexdigest()
    assert sorted(shown['tags']) == ['one', 'two']
    download = member.get(f'/v2/images/{image["id"]}/file')
    assert download.status_code == 200
    assert download.content == data
    assert image['id'] in member.list_ids()

    assert member.post(
        f'/v2/images/{image["id"]}/actions/deactivate').status_code == 204
    assert member.post(
        f'/v2/images/{image["id"]}/actions/reactivate').status_code == 204

    assert member.delete(f'/v2/images/{image["id"]}').status_code == 204
    assert member.get(f'/v2/images/{image["id"]}').status_code == 404
    assert image['id'] not in member.list_ids()


def test_admin_sees_and_changes_everything(who, keystone, alpha_image,
                                           data):
    admin = who['cloud-admin']
    image_id = alpha_image['id']

    assert image_id in admin.list_ids()
    assert admin.get(f'/v2/images/{image_id}').status_code == 200
    assert admin.get(f'/v2/images/{image_id}/file').content == data
    patched = admin.patch(image_id, replace('/name', 'by-admin'))
    assert patched.status_code == 200, patched.text
    assert admin.post(
        f'/v2/images/{image_id}/actions/deactivate').status_code == 204
    assert who['alpha-member'].get(
        f'/v2/images/{image_id}').json()['status'] == 'deactivated'

    # An image for another project.
    beta = keystone.project_ids['beta']
    for_beta = admin.create(owner=beta, visibility='private')
    assert for_beta['owner'] == beta
    assert for_beta['id'] in who['beta-member'].list_ids()
    assert for_beta['id'] not in who['alpha-member'].list_ids()

    assert admin.delete(f'/v2/images/{image_id}').status_code == 204
    assert who['alpha-member'].get(
        f'/v2/images/{image_id}').status_code == 404
    assert admin.delete(f'/v2/images/{for_beta["id"]}').status_code == 204


@pytest.mark.parametrize('visibility', ['private', 'shared'])
def test_projects_do_not_see_each_others_images(who, keystone, data,
                                                visibility):
    """Private, or shared with nobody (or others)."""
    alpha_image = who['alpha-member'].create(visibility=visibility)
    image_id = alpha_image['id']
    assert who['alpha-member'].upload(image_id, data).status_code == 204
    alpha = keystone.project_ids['alpha']
    if visibility == 'shared':
        assert who['alpha-member'].post(
            f'/v2/images/{image_id}/members',
            json={'member': keystone.project_ids['service']}
        ).status_code == 200

    for name in ('beta-member', 'beta-reader'):
        beta = who[name]
        assert beta.get(f'/v2/images/{image_id}').status_code == 404
        assert beta.patch(image_id,
                          replace('/name', 'stolen')).status_code == 404
        assert beta.delete(f'/v2/images/{image_id}').status_code == 404
        assert beta.get(f'/v2/images/{image_id}/file').status_code == 404
        assert beta.upload(image_id, data).status_code == 404
        assert beta.get(
            f'/v2/images/{image_id}/members').status_code == 404
        assert beta.put(f'/v2/images/{image_id}/tags/x').status_code == 404
        for params in ({}, {'visibility': visibility}, {'owner': alpha},
                       {'visibility': 'all'}, {'member_status': 'all'},
                       {'visibility': 'shared', 'member_status': 'all'}):
            assert image_id not in beta.list_ids(**params), params

    shown = who['alpha-member'].get(f'/v2/images/{image_id}').json()
    assert shown['name'] == alpha_image['name']
    assert shown['tags'] == []


def test_sharing_an_image(who, keystone, data):
    alpha, beta = who['alpha-member'], who['beta-member']
    beta_id = keystone.project_ids['beta']
    image = alpha.create(visibility='shared')
    assert alpha.upload(image['id'], data).status_code == 204
    path = f'/v2/images/{image["id"]}'

    added = alpha.post(path + '/members', json={'member': beta_id})
    assert added.status_code == 200, added.text
    assert added.json()['status'] == 'pending'

    # Pending: visible by id, not in the default list.
    assert beta.get(path).status_code == 200
    assert image['id'] not in beta.list_ids()
    assert image['id'] in beta.list_ids(member_status='pending',
                                        visibility='shared')
    assert beta.get(f'{path}/members/{beta_id}').json()['status'] \
        == 'pending'
    for reader in ('alpha-reader', 'beta-reader'):
        members = who[reader].get(path + '/members')
        assert members.status_code == 200, members.text
        assert [m['member_id'] for m in members.json()['members']] == [
            beta_id]

    # Only beta answers for beta.
    assert alpha.put(f'{path}/members/{beta_id}',
                     json={'status': 'accepted'}).status_code == 403
    assert who['beta-reader'].put(f'{path}/members/{beta_id}',
                                  json={'status': 'accepted'}).status_code \
        == 403
    assert image['id'] not in beta.list_ids()

    accepted = beta.put(f'{path}/members/{beta_id}',
                        json={'status': 'accepted'})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()['status'] == 'accepted'
    assert image['id'] in beta.list_ids()
    assert image['id'] in who['beta-reader'].list_ids()
    assert beta.get(path + '/file').content == data

    # Still alpha's image.
    assert beta.patch(image['id'],
                      replace('/name', 'stolen')).status_code == 403
    assert beta.delete(path).status_code == 403
    assert beta.put(path + '/tags/x').status_code == 403
    assert beta.upload(image['id'], b'x').status_code in (403, 409)
    assert beta.post(path + '/members',
                     json={'member': 'someone'}).status_code == 403
    assert beta.post(path + '/actions/deactivate').status_code == 403
    shown = alpha.get(path).json()
    assert (shown['name'], shown['status'], shown['tags']) == (
        image['name'], 'active', [])

    rejected = beta.put(f'{path}/members/{beta_id}',
                        json={'status': 'rejected'})
    assert rejected.status_code == 200, rejected.text
    assert image['id'] not in beta.list_ids()
    assert image['id'] in beta.list_ids(member_status='rejected')
    assert beta.get(path).status_code == 200

    # Unshared: gone for beta.
    assert alpha.delete(f'{path}/members/{beta_id}').status_code == 204
    assert beta.get(path).status_code == 404


def test_publicizing_takes_an_admin(who):
    member = who['alpha-member']

    refused = member.post('/v2/images', json={
        'name': 'public-by-member', 'disk_format': 'raw',
        'container_format': 'bare', 'visibility': 'public'})
    assert refused.status_code == 403, refused.text

    image = member.create(visibility='private')
    assert member.patch(image['id'], replace('/visibility',
                                             'public')).status_code == 403
    assert image['id'] not in who['beta-member'].list_ids()

    published = who['cloud-admin'].patch(image['id'],
                                         replace('/visibility', 'public'))
    assert published.status_code == 200, published.text
    assert published.json()['visibility'] == 'public'
    assert image['id'] in who['beta-member'].list_ids()
    assert image['id'] in who['beta-reader'].list_ids(visibility='public')
    assert who['beta-member'].patch(
        image['id'], replace('/name', 'x')).status_code == 403
    # Its owner still manages it.
    assert member.patch(image['id'],
                        replace('/name', 'still-mine')).status_code == 200


def test_community_images(who, data):
    member = who['alpha-member']
    image = member.create(visibility='private')
    assert member.upload(image['id'], data).status_code == 204

    made = member.patch(image['id'], replace('/visibility', 'community'))
    assert made.status_code == 200, made.text

    beta = who['beta-member']
    assert beta.get(f'/v2/images/{image["id"]}').status_code == 200
    assert beta.get(f'/v2/images/{image["id"]}/file').content == data
    assert image['id'] not in beta.list_ids()
    assert image['id'] in beta.list_ids(visibility='community')
    assert beta.patch(image['id'],
                      replace('/name', 'x')).status_code == 403
    assert beta.delete(f'/v2/images/{image["id"]}').status_code == 403


# Clients: python-glanceclient with a keystoneauth session, the glance CLI.


def test_glanceclient_with_a_keystone_session(glance_api, keystone, data):
    import glanceclient

    client = glanceclient.Client('2',
                                 session=keystone.session('alpha-member'))
    image = client.images.create(name='ks-' + uuid.uuid4().hex[:12],
                                 disk_format='raw', container_format='bare',
                                 visibility='private')
    try:
        assert image.owner == keystone.project_ids['alpha']
        client.images.upload(image.id, io.BytesIO(data))
        shown = client.images.get(image.id)
        assert (shown.status, shown.size) == ('active', len(data))
        assert b''.join(client.images.data(image.id)) == data
        assert image.id in [i.id for i in client.images.list()]
        client.images.update(image.id, purpose='testing')
        assert client.images.get(image.id).purpose == 'testing'

        beta = glanceclient.Client('2',
                                   session=keystone.session('beta-member'))
        assert image.id not in [i.id for i in beta.images.list()]
    finally:
        client.images.delete(image.id)
    assert requests.get(f'{glance_api.url}/v2/images/{image.id}',
                        headers={'X-Auth-Token': keystone.token(
                            'alpha-member')},
                        timeout=TIMEOUT).status_code == 404


@pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                    reason='python-glanceclient (glance CLI) not installed')
def test_glance_cli_with_keystone_credentials(keystone, tmp_path, data,
                                              who):
    account = keystone.accounts['beta-member']
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env['HOME'] = str(tmp_path)

    def glance(*args):
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
        assert result.returncode == 0, (
            f'glance {" ".join(args)} failed ({result.returncode}):\n'
            f'{result.stdout}\n{result.stderr}')
        return result.stdout

    source = tmp_path / 'image.raw'
    source.write_bytes(data)
    name = 'ks-cli-' + uuid.uuid4().hex[:12]

    created = glance('image-create', '--name', name, '--disk-format', 'raw',
                     '--container-format', 'bare', '--visibility', 'private',
                     '--file', str(source))
    image_id = next(line.split('|')[2].strip()
                    for line in created.splitlines()
                    if line.startswith('| id '))
    shown = who['beta-reader'].get(f'/v2/images/{image_id}').json()
    assert shown['owner'] == keystone.project_ids['beta']
    assert shown['checksum'] == hashlib.md5(data).hexdigest()
    assert image_id in glance('image-list')
    assert name in glance('image-show', image_id)
    copy = tmp_path / 'copy.raw'
    glance('image-download', '--file', str(copy), image_id)
    assert copy.read_bytes() == data
    glance('image-delete', image_id)
    assert who['beta-reader'].get(
        f'/v2/images/{image_id}').status_code == 404


# Policy overrides and the token cache.


@pytest.fixture(scope='module')
def strict_api(keystone, tmp_path_factory):
    """A second glance-api: images are listed by admins only
    ([oslo_policy] policy_file), and no token cache (a revoked token is
    refused at once)."""
    directory = tmp_path_factory.mktemp('glance-api-policy')
    policy_file = directory / 'policy.yaml'
    policy_file.write_text('"get_images": "role:admin"\n')
    with serving(GlanceApi(directory, workers=2, extra_config=(
            authtoken_config(keystone, token_cache_time=-1)
            + f'[oslo_policy]\npolicy_file = {policy_file}\n'))) as api:
        start = len(api.log())
        yield api
        errors = [line for line in api.log()[start:].splitlines()
                  if SERVER_ERROR.search(line)]
        assert not errors, 'the server failed:\n' + api.log()


def test_policy_file_overrides_a_default(strict_api, tokens):
    member = Caller(strict_api, tokens['alpha-member'])
    admin = Caller(strict_api, tokens['cloud-admin'])
    image = member.create()

    assert member.get('/v2/images').status_code == 403
    assert Caller(strict_api, tokens['alpha-reader']).get(
        '/v2/images').status_code == 403
    assert image['id'] in admin.list_ids()
    # The other rules keep their defaults.
    assert member.get(f'/v2/images/{image["id"]}').status_code == 200
    assert member.delete(f'/v2/images/{image["id"]}').status_code == 204


def test_revoked_token_used_before_is_401_without_cache(strict_api,
                                                        keystone):
    token = keystone.token('alpha-member')
    caller = Caller(strict_api, token)
    image = caller.create()
    assert caller.get(f'/v2/images/{image["id"]}').status_code == 200

    keystone.revoke(token)

    response = caller.get(f'/v2/images/{image["id"]}')
    assert response.status_code == 401, response.text
    assert caller.delete(f'/v2/images/{image["id"]}').status_code == 401
