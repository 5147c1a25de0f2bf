"""v1 sharing: /v1/images/{id}/members and /v1/shared-images/{project}."""
import pytest

from tests.helpers import UNKNOWN_ID
from tests.helpers import Client
from tests.helpers import create


def members_path(image, member=None):
    path = '/v1/images/%s/members' % image['id']
    return path if member is None else '%s/%s' % (path, member)


def members_of(client, image):
    response = client.get(members_path(image))
    assert response.status_int == 200, response.text
    return response.json['members']


def share(client, image, member, body=None, status=204):
    response = client.put(members_path(image, member), body)
    assert response.status_int == status, response.text
    return response


@pytest.fixture
def image(owner):
    return create(owner, name='to share')


# --- adding and listing ------------------------------------------------------

def test_owner_shares_an_image(owner, image):
    response = share(owner, image, 'friend-project')

    assert response.body == b''
    assert 'Content-Type' not in response.headers
    assert members_of(owner, image) == [{'member_id': 'friend-project',
                                         'can_share': False}]
    response = owner.get(members_path(image))
    assert response.content_type == 'application/json'


def test_can_share_is_set_kept_and_changed(owner, image):
    share(owner, image, 'friend-project', {'member': {'can_share': True}})
    assert members_of(owner, image)[0]['can_share'] is True

    share(owner, image, 'friend-project')
    assert members_of(owner, image)[0]['can_share'] is True

    share(owner, image, 'friend-project', {'member': {'can_share': False}})
    assert members_of(owner, image)[0]['can_share'] is False


@pytest.mark.parametrize('body', [{'member': {}}, {'other': 1},
                                  {'member': 'x'}])
def test_a_malformed_member_body_is_refused(owner, image, body):
    response = share(owner, image, 'friend-project', body, status=400)
    assert 'Invalid membership association' in response.text
    assert members_of(owner, image) == []


def test_one_membership_is_shown(owner, friend, image):
    share(owner, image, 'friend-project', {'member': {'can_share': True}})

    response = owner.get(members_path(image, 'friend-project'))

    assert response.status_int == 200
    assert response.json == {'member': {'member_id': 'friend-project',
                                        'can_share': True}}
    assert friend.get(members_path(image, 'friend-project')).json == \
        response.json
    assert owner.get(members_path(image, 'nobody')).status_int == 404


def test_a_member_sees_the_image_and_only_its_own_membership(owner, friend,
                                                             image):
    share(owner, image, 'friend-project')
    share(owner, image, 'other-project')

    assert friend.request('HEAD', '/v1/images/%s' % image['id']
                          ).status_int == 200
    assert members_of(friend, image) == [{'member_id': 'friend-project',
                                          'can_share': False}]
    assert len(members_of(owner, image)) == 2


def test_v1_memberships_are_accepted_v2_members(owner, friend, image):
    share(owner, image, 'friend-project')

    [member] = owner.get('/v2/images/%s/members' % image['id']
                         ).json['members']
    assert (member['member_id'], member['status']) == ('friend-project',
                                                        'accepted')
    listed = [i['id'] for i in friend.get('/v2/images').json['images']]
    assert image['id'] in listed


def test_v2_members_show_in_v1_whatever_their_status(owner, friend, image):
    response = owner.post('/v2/images/%s/members' % image['id'],
                          {'member': 'friend-project'})
    assert response.status_int == 200
    assert members_of(owner, image) == [{'member_id': 'friend-project',
                                         'can_share': False}]
    # v1 lists shared images whatever the membership's status.
    assert image['id'] in [i['id'] for i in friend.get(
        '/v1/images/detail').json['images']]


def test_images_of_any_visibility_can_have_v1_members(admin):
    public = create(admin, is_public='true')
    share(admin, public, 'friend-project')
    assert [m['member_id'] for m in members_of(admin, public)] == [
        'friend-project']


# --- replacing ---------------------------------------------------------------

def test_replace_all_memberships(owner, image):
    share(owner, image, 'keep', {'member': {'can_share': True}})
    share(owner, image, 'drop')

    response = owner.put(members_path(image), {'memberships': [
        {'member_id': 'keep'}, {'member_id': 'new', 'can_share': True}]})

    assert response.status_int == 204
    assert members_of(owner, image) == [
        {'member_id': 'keep', 'can_share': True},
        {'member_id': 'new', 'can_share': True}]
    owner.put(members_path(image), {'memberships': [
        {'member_id': 'keep', 'can_share': 'false'}]})
    assert members_of(owner, image) == [{'member_id': 'keep',
                                         'can_share': False}]
    owner.put(members_path(image), {'memberships': []})
    assert members_of(owner, image) == []


@pytest.mark.parametrize('body', [{}, {'memberships': 'x'},
                                  {'memberships': [{'can_share': True}]},
                                  {'memberships': ['x']}, ['x']])
def test_a_malformed_membership_list_is_refused(owner, image, body):
    share(owner, image, 'keep')
    response = owner.put(members_path(image), body)
    assert response.status_int == 400
    assert 'Invalid membership association' in response.text
    assert [m['member_id'] for m in members_of(owner, image)] == ['keep']


def test_member_quota(client_with):
    client = client_with('[DEFAULT]\nimage_member_quota = 2\n')
    image = create(client)
    client.put(members_path(image), {'memberships': [
        {'member_id': 'a'}, {'member_id': 'b'}]})

    response = client.put(members_path(image), {'memberships': [
        {'member_id': 'c'}, {'member_id': 'd'}, {'member_id': 'e'}]})
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'members for this image. Attempted: 3, Maximum: 2'
            in response.text)
    response = share(client, image, 'c', status=413)
    assert [m['member_id'] for m in members_of(client, image)] == ['a', 'b']


# --- removing ----------------------------------------------------------------

def test_remove_a_membership(owner, friend, image):
    share(owner, image, 'friend-project')

    response = owner.delete(members_path(image, 'friend-project'))

    assert response.status_int == 204
    assert response.body == b''
    assert members_of(owner, image) == []
    assert friend.request('HEAD', '/v1/images/%s' % image['id']
                          ).status_int == 404
    response = owner.delete(members_path(image, 'friend-project'))
    assert response.status_int == 404
    assert 'Membership could not be found.' in response.text


# --- images that are not there -----------------------------------------------

@pytest.mark.parametrize('method, suffix', [
    ('GET', ''), ('PUT', '/someone'), ('DELETE', '/someone'),
    ('GET', '/someone')])
def test_members_of_unknown_and_deleted_images(client, method, suffix):
    response = client.request(method, '/v1/images/%s/members%s'
                              % (UNKNOWN_ID, suffix))
    assert response.status_int == 404
    assert 'Image with identifier %s not found' % UNKNOWN_ID in response.text

    image = create(client)
    client.delete('/v1/images/%s' % image['id'])
    response = client.request(method, members_path(image) + suffix)
    assert response.status_int == 404
    assert ('Image with identifier %s has been deleted.' % image['id']
            in response.text)


def test_replacing_members_of_a_deleted_image_is_not_found(client):
    image = create(client)
    client.delete('/v1/images/%s' % image['id'])
    response = client.put(members_path(image), {'memberships': []})
    assert response.status_int == 404


# --- who may ----------------------------------------------------------------

def test_members_cannot_share_on(owner, friend, image):
    share(owner, image, 'friend-project', {'member': {'can_share': True}})

    share(friend, image, 'stranger-project', status=403)
    assert friend.delete(members_path(image, 'friend-project')
                         ).status_int == 403
    assert friend.put(members_path(image), {'memberships': []}
                      ).status_int == 403
    assert len(members_of(owner, image)) == 1


def test_strangers_learn_nothing(owner, stranger, image):
    share(owner, image, 'friend-project')
    for method, suffix in (('GET', ''), ('PUT', '/stranger-project'),
                           ('DELETE', '/friend-project'),
                           ('GET', '/friend-project')):
        response = stranger.request(method, members_path(image) + suffix)
        assert response.status_int == 404, (method, suffix)
    assert len(members_of(owner, image)) == 1


def test_readers_cannot_share(owner, as_project, image):
    reader = as_project('owner-project', roles=('reader',))
    share(reader, image, 'friend-project', status=403)
    assert members_of(owner, image) == []
    assert members_of(reader, image) == []


def test_sharing_needs_a_project(trusted_app, image):
    nobody = Client(trusted_app, {'X-Identity-Status': 'Confirmed',
                                  'X-User-Id': 'someone',
                                  'X-Roles': 'member,reader'})
    response = share(nobody, image, 'friend-project', status=401)
    assert 'No authenticated user' in response.text


def test_sharing_follows_the_policy(client_with, tmp_path):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"add_member": "!"\n"get_members": "!"\n')
    client = client_with('[oslo_policy]\npolicy_file = %s\n' % policy_file)
    image = create(client)

    share(client, image, 'friend-project', status=403)
    assert client.get(members_path(image)).status_int == 403


# --- shared-images -----------------------------------------------------------

def test_shared_images_of_a_project(owner, friend, stranger, admin):
    first = create(owner, name='first')
    second = create(owner, name='second')
    elsewhere = create(admin, owner='other-project')
    share(owner, first, 'friend-project', {'member': {'can_share': True}})
    share(owner, second, 'friend-project')
    share(admin, elsewhere, 'friend-project')
    expected = [{'image_id': first['id'], 'can_share': True},
                {'image_id': second['id'], 'can_share': False}]

    response = friend.get('/v1/shared-images/friend-project')
    assert response.status_int == 200
    assert response.json == {'shared_images': expected + [
        {'image_id': elsewhere['id'], 'can_share': False}]}
    # The owner sees the memberships on its own images only.
    assert owner.get('/v1/shared-images/friend-project').json == {
        'shared_images': expected}
    assert stranger.get('/v1/shared-images/friend-project').json == {
        'shared_images': []}
    assert len(admin.get('/v1/shared-images/friend-project').json[
        'shared_images']) == 3
    owner.delete('/v1/images/%s' % second['id'])
    assert owner.get('/v1/shared-images/friend-project').json == {
        'shared_images': expected[:1]}
