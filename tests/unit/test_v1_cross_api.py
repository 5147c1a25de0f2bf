"""One set of images, two APIs: what v1 makes shows right through v2, and
the other way round; and the mapping between the two models."""
import hashlib

import pytest

from glance.api.v1 import mapping
from glance.common import exception
from tests.helpers import create
from tests.helpers import head
from tests.helpers import image_meta
from tests.helpers import update

DATA = b'shared by both APIs' * 50


def v2_show(client, image_id):
    response = client.get('/v2/images/%s' % image_id)
    assert response.status_int == 200, response.text
    return response.json


def v1_show(client, image_id):
    return image_meta(head(client, image_id))


# --- made through v1 ---------------------------------------------------------

def test_a_v1_image_through_v2(client):
    image = create(client, DATA, name='from v1', disk_format='ploop',
                   min_ram=256, min_disk=3, protected='true',
                   properties={'os_distro': 'cirros', 'Arch': 'x86_64'})

    v2 = v2_show(client, image['id'])

    assert v2['name'] == 'from v1'
    assert v2['status'] == 'active'
    assert v2['visibility'] == 'shared'
    assert (v2['disk_format'], v2['container_format']) == ('ploop', 'bare')
    assert (v2['min_ram'], v2['min_disk'], v2['protected']) == (256, 3, True)
    assert v2['size'] == len(DATA)
    assert v2['checksum'] == hashlib.md5(DATA).hexdigest()
    assert v2['os_hash_algo'] == 'sha512'
    assert v2['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert (v2['os_distro'], v2['arch']) == ('cirros', 'x86_64')
    assert v2['tags'] == []
    assert v2['created_at'] == image['created_at'][:19] + 'Z'
    assert v2['updated_at'] == image['updated_at'][:19] + 'Z'
    assert client.get('/v2/images/%s/file' % image['id']).body == DATA


@pytest.mark.parametrize('is_public, visibility', [
    ('true', 'public'), ('false', 'shared'), (None, 'shared')])
def test_is_public_as_visibility(client, is_public, visibility):
    image = create(client, is_public=is_public)
    assert v2_show(client, image['id'])['visibility'] == visibility


def test_a_v1_update_through_v2(client):
    image = create(client, properties={'a': '1', 'b': '2'})

    update(client, image['id'], name='renamed', is_public='true',
           properties={'a': 'changed'})

    v2 = v2_show(client, image['id'])
    assert (v2['name'], v2['visibility'], v2['a']) == ('renamed', 'public',
                                                       'changed')
    assert 'b' not in v2


def test_a_v1_upload_through_v2(client):
    image = create(client)
    assert v2_show(client, image['id'])['status'] == 'queued'

    update(client, image['id'], DATA)

    assert v2_show(client, image['id'])['status'] == 'active'
    assert client.get('/v2/images/%s/file' % image['id']).body == DATA


def test_a_v1_delete_through_v2(client):
    image = create(client, DATA)
    client.delete('/v1/images/%s' % image['id'])
    assert client.get('/v2/images/%s' % image['id']).status_int == 404


def test_v1_sharing_through_v2(owner, friend):
    image = create(owner)
    owner.put('/v1/images/%s/members/friend-project' % image['id'],
              {'member': {'can_share': True}})

    [member] = owner.get('/v2/images/%s/members' % image['id']
                         ).json['members']
    assert member['status'] == 'accepted'
    assert v2_show(friend, image['id'])['id'] == image['id']
    # The member may still turn it down through v2, and v1 keeps that.
    friend.put('/v2/images/%s/members/friend-project' % image['id'],
               {'status': 'rejected'})
    owner.put('/v1/images/%s/members/friend-project' % image['id'])
    [member] = owner.get('/v2/images/%s/members' % image['id']
                         ).json['members']
    assert member['status'] == 'rejected'


# --- made through v2 ---------------------------------------------------------

def test_a_v2_image_through_v1(client):
    image = client.create_image(name='from v2', visibility='public',
                                min_ram=64, os_distro='cirros',
                                tags=['t1'])
    assert client.upload(image['id'], DATA).status_int == 204

    meta, properties = v1_show(client, image['id'])

    assert meta['name'] == 'from v2'
    assert meta['status'] == 'active'
    assert meta['is_public'] == 'True'
    assert meta['min_ram'] == '64'
    assert meta['size'] == str(len(DATA))
    assert meta['checksum'] == hashlib.md5(DATA).hexdigest()
    assert meta['created_at'][:19] + 'Z' == image['created_at']
    assert properties == {'os_distro': 'cirros'}
    assert client.get('/v1/images/%s' % image['id']).body == DATA
    [listed] = client.get('/v1/images/detail').json['images']
    assert listed['properties'] == {'os_distro': 'cirros'}
    assert 'tags' not in listed and 'visibility' not in listed


@pytest.mark.parametrize('visibility', ['private', 'shared', 'community'])
def test_other_visibilities_are_not_public_in_v1(admin, visibility):
    image = admin.create_image(visibility=visibility)
    meta, _ = v1_show(admin, image['id'])
    assert meta['is_public'] == 'False'


def test_a_v2_change_through_v1(client):
    image = client.create_image(name='before', keep='1')
    client.patch('/v2/images/%s' % image['id'], [
        {'op': 'replace', 'path': '/name', 'value': 'after'},
        {'op': 'add', 'path': '/extra', 'value': 'x'}])

    meta, properties = v1_show(client, image['id'])
    assert meta['name'] == 'after'
    assert properties == {'keep': '1', 'extra': 'x'}


def test_v2_deactivation_through_v1(owner, admin):
    image = owner.create_image()
    owner.upload(image['id'], DATA)
    admin.post('/v2/images/%s/actions/deactivate' % image['id'])

    assert v1_show(owner, image['id'])[0]['status'] == 'deactivated'
    assert owner.get('/v1/images/%s' % image['id']).status_int == 403


def test_a_v2_delete_through_v1(client):
    image = client.create_image()
    client.delete('/v2/images/%s' % image['id'])
    meta, _ = v1_show(client, image['id'])
    assert (meta['status'], meta['deleted']) == ('deleted', 'True')


def test_private_v2_image_shared_through_v1_stays_private(admin, friend):
    # v1 shares whatever the visibility; only shared images are seen by
    # their members, through either API.
    image = admin.create_image(visibility='private', owner='owner-project')
    admin.put('/v1/images/%s/members/friend-project' % image['id'])
    assert friend.request('HEAD', '/v1/images/%s' % image['id']
                          ).status_int == 404
    assert friend.get('/v2/images/%s' % image['id']).status_int == 404


# --- one service behind both: its rules hold whichever API asks ------------

def _policy_client(client_with, tmp_path, rules):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text(''.join('"%s": "!"\n' % rule for rule in rules))
    return client_with('[oslo_policy]\npolicy_file = %s\n' % policy_file)


def test_the_storage_quota_counts_the_data_of_both_apis(client_with):
    client = client_with('[DEFAULT]\nuser_storage_quota = 1000\n')
    through_v2 = client.create_image(name='v2')
    assert client.upload(through_v2['id'], b'x' * 600).status_int == 204

    refused = create(client, b'x' * 500, name='v1', status=413)
    assert 'exceed' in refused.text
    through_v1 = create(client, b'x' * 300, name='v1')
    last = client.create_image(name='last')
    assert client.upload(last['id'], b'x' * 200).status_int == 413
    assert v2_show(client, last['id'])['status'] == 'queued'
    assert v2_show(client, through_v1['id'])['size'] == 300


def test_the_size_cap_holds_for_a_v1_update_with_data(client_with):
    client = client_with('[DEFAULT]\nimage_size_cap = 100\n')
    image = create(client)
    response = update(client, image['id'], b'x' * 101, status=400)
    assert 'Denying attempt to upload image larger than 100 bytes.' \
        in response.text
    assert v2_show(client, image['id'])['status'] == 'queued'
    through_v2 = client.create_image()
    assert client.upload(through_v2['id'], b'x' * 101).status_int == 413


@pytest.mark.parametrize('rule, v1_method, v2_call', [
    ('delete_image', 'DELETE', ('DELETE', '')),
    ('modify_image', 'PUT', None),
    ('download_image', 'GET', ('GET', '/file')),
])
def test_a_policy_override_refuses_the_v1_call_as_the_v2_one(
        client_with, tmp_path, rule, v1_method, v2_call):
    client = _policy_client(client_with, tmp_path, [rule])
    image = create(client, DATA, name='before')

    assert client.request(v1_method, '/v1/images/%s' % image['id'],
                          headers={'x-image-meta-name': 'after'}
                          ).status_int == 403
    shown = v2_show(client, image['id'])
    assert (shown['name'], shown['status']) == ('before', 'active')
    if v2_call:
        method, suffix = v2_call
        assert client.request(method, '/v2/images/%s%s' % (
            image['id'], suffix)).status_int == 403


def test_a_v1_location_needs_the_location_rule(client_with, tmp_path):
    client = _policy_client(client_with, tmp_path, ['set_image_location'])
    response = create(client, headers={
        'x-image-meta-location': 'http://127.0.0.1:9/image.raw'}, status=403)
    assert response.status_int == 403
    assert client.get('/v2/images').json['images'] == []


def test_v1_sharing_follows_the_member_rules(client_with, tmp_path):
    client = _policy_client(client_with, tmp_path, ['delete_member'])
    image = create(client)
    members = '/v1/images/%s/members' % image['id']
    assert client.put(members + '/friend').status_int == 204
    assert client.delete(members + '/friend').status_int == 403
    assert client.delete('/v2/images/%s/members/friend' % image['id']
                         ).status_int == 403


# --- the mapping itself ------------------------------------------------------

def test_is_public_and_visibility():
    assert mapping.visibility(True) == 'public'
    assert mapping.visibility(False) == 'shared'
    assert [mapping.is_public(v) for v in (
        'public', 'private', 'shared', 'community')] == [
            True, False, False, False]


def test_statuses():
    for status in ('queued', 'saving', 'active', 'killed', 'deleted',
                   'pending_delete', 'deactivated'):
        assert mapping.v1_status(status) == status
        assert mapping.v2_statuses(status)[0] == status
    assert mapping.v1_status('importing') == 'saving'
    assert mapping.v1_status('uploading') == 'saving'
    assert sorted(mapping.v2_statuses('saving')) == [
        'importing', 'saving', 'uploading']


def test_read_headers_converts_values():
    meta, properties = mapping.read_headers([
        ('X-Image-Meta-Size', '10'), ('x-image-meta-is_public', 'yes'),
        ('x-image-meta-protected', 'False'), ('x-image-meta-name', ''),
        ('x-image-meta-virtual_size', 'None'),
        ('X-Image-Meta-Property-Some-Key', 'v'),
        ('Content-Type', 'application/octet-stream')])
    assert meta == {'size': 10, 'is_public': True, 'protected': False,
                    'name': None, 'virtual_size': None}
    assert properties == {'some_key': 'v'}


@pytest.mark.parametrize('header, value', [
    ('x-image-meta-whatever', '1'), ('x-image-meta-size', 'None'),
    ('x-image-meta-min_ram', '-1')])
def test_read_headers_refuses(header, value):
    with pytest.raises(exception.Invalid):
        mapping.read_headers([(header, value)])


def test_base_attributes():
    meta = {'name': 'n', 'is_public': False, 'owner': 'p', 'size': 3,
            'min_ram': None, 'protected': True, 'checksum': 'c'}
    assert mapping.base_attributes(meta, is_admin=True) == {
        'name': 'n', 'visibility': 'shared', 'owner': 'p', 'min_ram': 0,
        'protected': True}
    assert 'owner' not in mapping.base_attributes(meta, is_admin=False)


def test_members():
    member = {'image_id': 'i', 'member': 'p', 'can_share': 1,
              'status': 'pending'}
    assert mapping.member_view(member) == {'member_id': 'p',
                                           'can_share': True}
    assert mapping.shared_image_view(member) == {'image_id': 'i',
                                                 'can_share': True}
    assert mapping.MEMBER_STATUS == 'accepted'
    assert [mapping.can_share(v) for v in (True, 'false', 'True', 0)] == [
        True, False, True, False]
