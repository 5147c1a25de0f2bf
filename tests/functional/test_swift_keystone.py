"""The swift store authenticating with the real Keystone (v3), against a
real Swift whose proxy takes Keystone's tokens (the `swift_keystone`
fixture): credentials from a glance-swift.conf reference
(swift+config:// locations) or inline options, the object-store found in
the catalog; and the multi-tenant mode, where each image goes to the
uploading user's own account with their token.
"""
import hashlib
import json
import os
import sqlite3
import uuid

import pytest
import requests

from tests.functional import keystone as keystone_helpers
from tests.functional import swift as swift_helpers
from tests.functional.daemon import GlanceApi
from tests.functional.keystone import Caller
from tests.functional.keystone import authtoken_config
from tests.functional.process import serving
from tests.functional.test_upload_recovery import begin_upload
from tests.functional.test_upload_recovery import kill_all
from tests.helpers import wait_for

MB = 1000 * 1024
_PROBLEM = keystone_helpers.venv_problem() or swift_helpers.venv_problem()
pytestmark = pytest.mark.skipif(_PROBLEM is not None,
                                reason=_PROBLEM or 'enabled')


def locations(api, image_id):
    database = sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'))
    try:
        rows = database.execute(
            'SELECT url, meta_data FROM image_locations WHERE image_id = ? '
            "AND status = 'active'", (image_id,)).fetchall()
    finally:
        database.close()
    return [(url, json.loads(meta or '{}')) for url, meta in rows]


def names_in(connection, container, prefix=''):
    try:
        _headers, listing = connection.get_container(
            container, prefix=prefix, full_listing=True)
    except Exception as error:
        if getattr(error, 'http_status', None) == 404:
            return []
        raise
    return sorted(entry['name'] for entry in listing)


def test_the_fixture_takes_keystone_tokens(swift_keystone, keystone):
    connection = swift_keystone.keystone_connection(keystone, 'beta-member')
    try:
        connection.put_container('fixture-check')
        connection.put_object('fixture-check', 'o', b'keystone')
        assert connection.get_object('fixture-check', 'o')[1] == b'keystone'
        # Its own project's account, from the catalog.
        assert connection.url.endswith(
            '/v1/AUTH_' + keystone.project_ids['beta'])
        connection.delete_object('fixture-check', 'o')
        connection.delete_container('fixture-check')
    finally:
        connection.close()


def keystone_store_options(keystone, container, **options):
    values = {'swift_store_container': container,
              'swift_store_create_container_on_put': 'true',
              'swift_store_large_object_size': '1',
              'swift_store_large_object_chunk_size': '1',
              **options}
    return ''.join(f'{key} = {value}\n' for key, value in values.items())


@pytest.fixture(scope='module')
def single_tenant_api(tmp_path_factory, keystone, swift_keystone):
    """glance-api (no authentication of its own) with two Keystone v3
    swift stores: `config` reads the glance user's credentials from a
    glance-swift.conf reference, `inline` from the store's options."""
    directory = tmp_path_factory.mktemp('swift-keystone')
    glance = keystone.accounts['glance']
    swift_conf = directory / 'glance-swift.conf'
    swift_conf.write_text(
        '[glance-ref]\n'
        f'auth_address = {keystone.auth_url}\n'
        f'user = "service:{glance.username}"\n'
        f'key = {glance.password}\n'
        'user_domain_id = default\nproject_domain_name = Default\n')
    container = 'glance-' + uuid.uuid4().hex[:8]
    config = f"""
[DEFAULT]
enabled_backends = config:swift, inline:swift
[glance_store]
default_backend = config
[config]
swift_store_config_file = {swift_conf}
default_swift_reference = glance-ref
swift_store_region = RegionOne
""" + keystone_store_options(keystone, container) + """
[inline]
swift_store_auth_address = """ + keystone.auth_url + f"""
swift_store_user = service:{glance.username}
swift_store_key = {glance.password}
swift_store_endpoint_type = internalURL
""" + keystone_store_options(keystone, container + '-inline') + f"""
[os_glance_staging_store]
filesystem_store_datadir = {directory}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {directory}/tasks
"""
    with serving(GlanceApi(directory, workers=1,
                           extra_config=config)) as api:
        api.container = container
        yield api


@pytest.fixture(scope='module')
def service_swift(swift_keystone, keystone):
    connection = swift_keystone.keystone_connection(keystone, 'glance')
    connection.head_account()  # authenticates: sets connection.url
    yield connection
    connection.close()


@pytest.mark.parametrize('store', ['config', 'inline'])
def test_keystone_v3_single_tenant(single_tenant_api, service_swift,
                                   keystone, store):
    api = single_tenant_api
    container = api.container + ('' if store == 'config' else '-inline')
    response = requests.post(f'{api.url}/v2/images', json={
        'name': 'ks', 'disk_format': 'raw', 'container_format': 'bare'},
        timeout=60)
    image_id = response.json()['id']
    data = os.urandom(2 * MB + 5)
    response = requests.put(
        f'{api.url}/v2/images/{image_id}/file', data=data, timeout=60,
        headers={'Content-Type': 'application/octet-stream',
                 'X-Image-Meta-Store': store})
    assert response.status_code == 204, response.text
    [(url, metadata)] = locations(api, image_id)
    assert metadata == {'store': store}
    if store == 'config':
        # No credentials in the database.
        assert url == f'swift+config://glance-ref/{container}/{image_id}'
    else:
        glance = keystone.accounts['glance']
        assert url == (f'swift+http://service%3A{glance.username}:'
                       f'{glance.password}@{keystone.auth_url[7:]}/'
                       f'{container}/{image_id}')
    # In the glance user's project's account.
    assert service_swift.url.endswith(
        'AUTH_' + keystone.project_ids['service'])
    assert service_swift.get_object(container, image_id)[1] == data
    assert len(names_in(service_swift, container, image_id)) == 4

    response = requests.get(f'{api.url}/v2/images/{image_id}/file',
                            timeout=60)
    assert response.content == data
    assert response.headers['Content-MD5'] == hashlib.md5(data).hexdigest()
    assert requests.delete(f'{api.url}/v2/images/{image_id}',
                           timeout=60).status_code == 204
    assert names_in(service_swift, container, image_id) == []


@pytest.fixture(scope='module')
def multi_tenant_api(tmp_path_factory, keystone, swift_keystone):
    """glance-api of the keystone flavor whose swift store is
    multi-tenant: images in the users' own accounts. The service project
    is an admin tenant, and the glance user's inline credentials let the
    service's sweeps in."""
    directory = tmp_path_factory.mktemp('swift-multi-tenant')
    glance = keystone.accounts['glance']
    config = authtoken_config(keystone) + """
[DEFAULT]
upload_lease_time = 3
upload_sweep_interval = 1
""" + """
[DEFAULT]
enabled_backends = users:swift
[glance_store]
default_backend = users
[users]
swift_store_multi_tenant = true
swift_store_region = RegionOne
swift_store_admin_tenants = """ + keystone.project_ids['service'] + f"""
swift_store_auth_address = {keystone.auth_url}
swift_store_user = service:{glance.username}
swift_store_key = {glance.password}
""" + keystone_store_options(keystone, 'glance') + f"""
[os_glance_staging_store]
filesystem_store_datadir = {directory}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {directory}/tasks
"""
    with serving(GlanceApi(directory, workers=2,
                           extra_config=config)) as api:
        yield api


def test_multi_tenant_images_go_to_the_users_account(
        multi_tenant_api, keystone, swift_keystone):
    api = multi_tenant_api
    alpha = Caller(api, keystone.token('alpha-member'))
    alpha_swift = swift_keystone.keystone_connection(keystone,
                                                     'alpha-member')
    try:
        image = alpha.create()
        data = os.urandom(MB + 17)
        response = alpha.upload(image['id'], data)
        assert response.status_code == 204, response.text
        container = f'glance_{image["id"]}'
        [(url, _metadata)] = locations(api, image['id'])
        account = 'AUTH_' + keystone.project_ids['alpha']
        # glance_store's multi-tenant form: the storage URL, a container
        # per image, no credentials.
        assert url == (f'swift+http://{swift_keystone.url[7:]}/v1/{account}/'
                       f'{container}/{image["id"]}')
        assert alpha_swift.get_object(container, image['id'])[1] == data

        response = alpha.get(f'/v2/images/{image["id"]}/file')
        assert response.content == data
        response = alpha.get(f'/v2/images/{image["id"]}/file',
                             headers={'Range': 'bytes=10-19'})
        assert response.status_code == 206
        assert response.content == data[10:20]

        assert alpha.delete(f'/v2/images/{image["id"]}').status_code == 204
        # The object, its segments and its container are gone.
        assert container not in [
            c['name'] for c in alpha_swift.get_account()[1]]
    finally:
        alpha.close()
        alpha_swift.close()


def test_multi_tenant_kill_9_mid_upload_then_restart_cleans(
        multi_tenant_api, keystone, swift_keystone):
    api = multi_tenant_api
    token = keystone.token('beta-member')
    beta = Caller(api, token)
    beta_swift = swift_keystone.keystone_connection(keystone, 'beta-member')
    try:
        image = beta.create()
        container = f'glance_{image["id"]}'
        data = os.urandom(12 * MB)
        connection = begin_upload(api, f'/v2/images/{image["id"]}/file',
                                  data, 9 * MB, headers=[
                                      f'X-Auth-Token: {token}'])
        try:
            wait_for(lambda: len(names_in(beta_swift, container)) >= 2,
                     'segments in the user\'s account')
            kill_all(api)
        finally:
            connection.close()
        # The admin tenant's ACLs on the image's container.
        headers = beta_swift.head_container(container)
        service_acl = keystone.project_ids['service'] + ':*'
        assert headers['x-container-write'] == service_acl
        assert headers['x-container-read'] == service_acl

        api.start()
        # The start's sweep, with the service's credentials, emptied the
        # user's container (only its owner may remove it).
        assert beta.get(f'/v2/images/{image["id"]}').json()['status'] == \
            'queued'
        assert names_in(beta_swift, container) == []
        # Uploadable again, into the same container.
        again = os.urandom(MB + 1)
        assert beta.upload(image['id'], again).status_code == 204
        assert beta.get(f'/v2/images/{image["id"]}/file').content == again
    finally:
        beta.close()
        beta_swift.close()


def test_multi_tenant_image_shared_with_another_project(
        multi_tenant_api, keystone, swift_keystone):
    """A member project reads the image (its own token cannot: the
    service's credentials do, once glance has allowed it), and an admin
    of another project deletes it."""
    api = multi_tenant_api
    alpha = Caller(api, keystone.token('alpha-member'))
    beta = Caller(api, keystone.token('beta-member'))
    admin = Caller(api, keystone.token('cloud-admin'))
    alpha_swift = swift_keystone.keystone_connection(keystone,
                                                     'alpha-member')
    beta_project = keystone.project_ids['beta']
    try:
        image = alpha.create(visibility='shared')
        data = os.urandom(MB + 99)
        assert alpha.upload(image['id'], data).status_code == 204
        container = f'glance_{image["id"]}'
        # Not readable by beta yet.
        assert beta.get(f'/v2/images/{image["id"]}/file').status_code == 404
        response = alpha.post(f'/v2/images/{image["id"]}/members',
                              json={'member': beta_project})
        assert response.status_code == 200, response.text
        response = beta.put(
            f'/v2/images/{image["id"]}/members/{beta_project}',
            json={'status': 'accepted'})
        assert response.status_code == 200, response.text

        # Swift itself refuses beta's token there.
        [(url, _metadata)] = locations(api, image['id'])
        direct = requests.get('http://' + url[len('swift+http://'):],
                              headers={'X-Auth-Token': beta.token},
                              timeout=60)
        assert direct.status_code == 403

        response = beta.get(f'/v2/images/{image["id"]}/file')
        assert response.status_code == 200, response.text
        assert response.content == data
        response = beta.get(f'/v2/images/{image["id"]}/file',
                            headers={'Range': f'bytes={MB}-'})
        assert response.status_code == 206
        assert response.content == data[MB:]

        assert admin.delete(f'/v2/images/{image["id"]}').status_code == 204
        assert names_in(alpha_swift, container) == []
    finally:
        for caller in (alpha, beta, admin):
            caller.close()
        alpha_swift.close()
