"""The v1 API with the keystone flavor, against a real Keystone.

The same set-up as test_keystone.py (Keystone of the session, projects
alpha and beta with a member and a reader each, cloud-admin), a glance-api
daemon of the keystone flavor registered in the catalog: v1 writes by the
owner (create, upload, update, members, delete), what another project may
not see or change, what a member of a shared image may, and
python-glanceclient's v1 client on a keystoneauth session.

Skipped unless GLANCE_TEST_KEYSTONE_VENV names a virtualenv with keystone
and gunicorn (see tests/functional/keystone.py).
"""
import hashlib
import io
import os
import uuid

import pytest

from tests.functional.daemon import GlanceApi
from tests.functional.keystone import authtoken_config
from tests.functional.keystone import in_catalog
from tests.functional.keystone import venv_problem
from tests.functional.process import serving

DATA_TYPE = 'application/octet-stream'

_PROBLEM = venv_problem()
pytestmark = pytest.mark.skipif(_PROBLEM is not None,
                                reason=_PROBLEM or 'enabled')


@pytest.fixture(scope='module')
def glance_api(keystone, tmp_path_factory):
    """glance-api with the keystone flavor (2 workers) in the catalog;
    named as the conftest fixture, whose log check it gets."""
    with serving(GlanceApi(tmp_path_factory.mktemp('glance-api-keystone-v1'),
                           extra_config=authtoken_config(keystone),
                           workers=2)) as api, in_catalog(keystone, api):
        yield api


@pytest.fixture
def data():
    return os.urandom(512 * 1024 + 7)


def meta(**fields):
    """x-image-meta-* headers (properties as property_<name>)."""
    headers = {}
    for name, value in fields.items():
        if name.startswith('property_'):
            name = 'property-' + name[len('property_'):]
        headers['x-image-meta-' + name.replace('_', '-')] = str(value)
    return headers


def v1_create(caller, data=None, **fields):
    fields.setdefault('name', 'ks-v1-' + uuid.uuid4().hex[:12])
    fields.setdefault('disk_format', 'raw')
    fields.setdefault('container_format', 'bare')
    headers = meta(**fields)
    if data is not None:
        headers['Content-Type'] = DATA_TYPE
    return caller.post('/v1/images', data=data, headers=headers)


def created(caller, data=None, **fields):
    response = v1_create(caller, data, **fields)
    assert response.status_code == 201, response.text
    return response.json()['image']


def head_meta(caller, image_id):
    response = caller.request('HEAD', f'/v1/images/{image_id}')
    assert response.status_code == 200, response.headers
    return {name.lower()[len('x-image-meta-'):]: value
            for name, value in response.headers.items()
            if name.lower().startswith('x-image-meta-')}


def detail_ids(caller, **params):
    response = caller.get('/v1/images/detail', params=params)
    assert response.status_code == 200, response.text
    return [image['id'] for image in response.json()['images']]


# The owner's writes.


def test_create_with_data_is_the_projects(who, keystone, data):
    alpha = who['alpha-member']

    image = created(alpha, data, property_purpose='testing')

    assert image['owner'] == keystone.project_ids['alpha']
    assert (image['status'], image['size'], image['is_public']) == (
        'active', len(data), False)
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert image['properties'] == {'purpose': 'testing'}
    assert alpha.get(f"/v1/images/{image['id']}").content == data
    assert head_meta(who['alpha-reader'], image['id'])['status'] == 'active'


def test_create_then_upload_and_update(who, data):
    alpha = who['alpha-member']
    image = created(alpha)
    assert image['status'] == 'queued'
    path = f"/v1/images/{image['id']}"

    uploaded = alpha.put(path, data=data, headers={'Content-Type': DATA_TYPE})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()['image']['status'] == 'active'

    renamed = alpha.put(path, headers=meta(name='renamed', min_ram=64,
                                           property_os_distro='cirros'))
    assert renamed.status_code == 200, renamed.text
    shown = head_meta(alpha, image['id'])
    assert (shown['name'], shown['min_ram'], shown['size'],
            shown['property-os_distro']) == ('renamed', '64', str(len(data)),
                                             'cirros')
    assert alpha.get(path).content == data


def test_delete(who):
    alpha = who['alpha-member']
    image = created(alpha)
    path = f"/v1/images/{image['id']}"

    response = alpha.delete(path)

    assert response.status_code == 200, response.text
    assert alpha.request('HEAD', path).status_code == 404
    assert image['id'] not in detail_ids(alpha)


def test_a_reader_reads_but_does_not_write(who):
    image = created(who['alpha-member'])
    reader = who['alpha-reader']
    path = f"/v1/images/{image['id']}"

    assert head_meta(reader, image['id'])['id'] == image['id']
    assert image['id'] in detail_ids(reader)
    assert v1_create(reader).status_code == 403
    assert reader.put(path, headers=meta(name='x')).status_code == 403
    assert reader.put(f'{path}/members/someone').status_code == 403
    assert reader.delete(path).status_code == 403
    assert head_meta(reader, image['id'])['name'] == image['name']


# Members.


def test_sharing_through_v1(who, keystone, data):
    alpha, beta = who['alpha-member'], who['beta-member']
    beta_id = keystone.project_ids['beta']
    image = created(alpha, data)
    path = f"/v1/images/{image['id']}"

    added = alpha.put(f'{path}/members/{beta_id}')
    assert added.status_code == 204, added.text
    members = alpha.get(f'{path}/members')
    assert members.status_code == 200, members.text
    assert members.json() == {'members': [{'member_id': beta_id,
                                           'can_share': False}]}
    shared = beta.get(f'/v1/shared-images/{beta_id}')
    assert shared.status_code == 200, shared.text
    assert shared.json() == {'shared_images': [{'image_id': image['id'],
                                                'can_share': False}]}

    # A member reads the image, and may not change it.
    assert head_meta(beta, image['id'])['owner'] == keystone.project_ids[
        'alpha']
    assert beta.get(path).content == data
    assert image['id'] in detail_ids(beta)
    assert beta.put(path, headers=meta(name='stolen')).status_code == 403
    assert beta.delete(path).status_code == 403
    assert beta.put(f'{path}/members/someone').status_code == 403
    assert head_meta(alpha, image['id'])['name'] == image['name']

    # Replaced: beta may share it on; then removed, gone for beta.
    replaced = alpha.put(f'{path}/members', json={'memberships': [
        {'member_id': beta_id, 'can_share': True}]})
    assert replaced.status_code == 204, replaced.text
    assert alpha.get(f'{path}/members/{beta_id}').json() == {
        'member': {'member_id': beta_id, 'can_share': True}}
    removed = alpha.delete(f'{path}/members/{beta_id}')
    assert removed.status_code == 204, removed.text
    assert beta.request('HEAD', path).status_code == 404
    assert beta.get(f'/v1/shared-images/{beta_id}').json() == {
        'shared_images': []}


def test_another_project_neither_sees_nor_changes_a_private_image(who,
                                                                  data):
    alpha, beta = who['alpha-member'], who['beta-member']
    image = created(alpha, data)
    path = f"/v1/images/{image['id']}"

    assert beta.request('HEAD', path).status_code == 404
    assert beta.get(path).status_code == 404
    assert image['id'] not in detail_ids(beta)
    assert image['id'] not in [i['id'] for i in beta.get(
        '/v1/images').json()['images']]
    assert beta.put(path, headers=meta(name='stolen')).status_code == 404
    assert beta.put(path, data=b'x',
                    headers={'Content-Type': DATA_TYPE}).status_code == 404
    assert beta.get(f'{path}/members').status_code == 404
    assert beta.put(f'{path}/members/someone').status_code == 404
    assert beta.put(f'{path}/members', json={
        'memberships': []}).status_code == 404
    assert beta.delete(path).status_code == 404

    shown = head_meta(alpha, image['id'])
    assert (shown['name'], shown['status']) == (image['name'], 'active')
    assert alpha.get(path).content == data


def test_a_public_image_is_read_by_all_and_changed_by_its_owner(who):
    admin, beta = who['cloud-admin'], who['beta-member']
    image = created(admin, is_public='true')
    path = f"/v1/images/{image['id']}"

    assert head_meta(beta, image['id'])['is_public'] == 'True'
    assert image['id'] in detail_ids(beta)
    assert beta.put(path, headers=meta(name='stolen')).status_code == 403
    assert beta.delete(path).status_code == 403
    assert admin.delete(path).status_code == 200


def test_publicizing_takes_an_admin(who):
    response = v1_create(who['alpha-member'], is_public='true')
    assert response.status_code == 403, response.text


# python-glanceclient's v1 client.


def test_glanceclient_v1_with_a_keystone_session(glance_api, keystone,
                                                 data):
    glanceclient = pytest.importorskip('glanceclient')

    client = glanceclient.Client('1',
                                 session=keystone.session('alpha-member'))
    name = 'ks-v1-lib-' + uuid.uuid4().hex[:12]
    image = client.images.create(name=name, disk_format='raw',
                                 container_format='bare',
                                 data=io.BytesIO(data),
                                 properties={'purpose': 'testing'})
    try:
        assert image.owner == keystone.project_ids['alpha']
        got = client.images.get(image.id)
        assert (got.status, got.size, got.properties) == (
            'active', len(data), {'purpose': 'testing'})
        assert b''.join(client.images.data(image.id)) == data
        assert image.id in [i.id for i in client.images.list()]
        client.images.update(image.id, name=name + '-renamed')
        assert client.images.get(image.id).name == name + '-renamed'

        beta_id = keystone.project_ids['beta']
        client.image_members.create(image, beta_id)
        assert [m.member_id for m in client.image_members.list(
            image=image)] == [beta_id]
        beta = glanceclient.Client('1',
                                   session=keystone.session('beta-member'))
        assert beta.images.get(image.id).name == name + '-renamed'
        client.image_members.delete(image.id, beta_id)
        assert image.id not in [i.id for i in beta.images.list()]
    finally:
        client.images.delete(image.id)
    # A deleted image is the admin's to see.
    with pytest.raises(glanceclient.exc.HTTPNotFound):
        client.images.get(image.id)
