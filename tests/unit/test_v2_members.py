"""Image sharing through /v2/images/{id}/members.

The owner adds and removes members; a member accepts or rejects (or goes
back to pending); nobody else learns about the membership.
"""
import datetime

import pytest

from glance.common import config

UNKNOWN_ID = '00000000-0000-0000-0000-000000000000'


@pytest.fixture
def shared(owner):
    """A shared image of the owner with friend-project as pending member."""
    image = owner.create_image(name='shared one', visibility='shared')
    response = owner.post(members_path(image), {'member': 'friend-project'})
    assert response.status_int == 200, response.text
    return image


def members_path(image, member=None):
    path = f"/v2/images/{image['id']}/members"
    return path if member is None else f'{path}/{member}'


def member_ids(client, image):
    response = client.get(members_path(image))
    assert response.status_int == 200, response.text
    return sorted(m['member_id'] for m in response.json['members'])


def set_status(client, image, member, status):
    return client.put(members_path(image, member), {'status': status})


def parse_time(value):
    return datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ')


# --- adding -----------------------------------------------------------------

def test_owner_adds_a_member(owner):
    image = owner.create_image(visibility='shared')
    response = owner.post(members_path(image), {'member': 'friend-project'})
    assert response.status_int == 200
    assert response.content_type == 'application/json'
    member = response.json
    assert set(member) == {'created_at', 'updated_at', 'image_id',
                           'member_id', 'status', 'schema'}
    assert member['image_id'] == image['id']
    assert member['member_id'] == 'friend-project'
    assert member['status'] == 'pending'
    assert member['schema'] == '/v2/schemas/member'
    assert parse_time(member['created_at']) <= parse_time(
        member['updated_at'])


def test_adding_a_member_twice_is_a_conflict(owner, shared):
    response = owner.post(members_path(shared), {'member': 'friend-project'})
    assert response.status_int == 409
    assert f"Member friend-project is duplicated for image {shared['id']}" \
        in response.text
    assert member_ids(owner, shared) == ['friend-project']


@pytest.mark.parametrize('visibility', ['private', 'public', 'community'])
def test_only_shared_images_have_members(admin, visibility):
    image = admin.create_image(visibility=visibility)
    response = admin.post(members_path(image), {'member': 'friend-project'})
    assert response.status_int == 403
    assert f"Not allowed to create members for image {image['id']}." \
        in response.text

    response = admin.get(members_path(image))
    assert response.status_int == 403
    assert (f"Not allowed to list members for image {image['id']}: Only "
            "shared images have members.") in response.text

    response = set_status(admin, image, 'friend-project', 'accepted')
    assert response.status_int == 403
    assert f"Not allowed to update members for image {image['id']}." \
        in response.text

    response = admin.delete(members_path(image, 'friend-project'))
    assert response.status_int == 403
    assert f"Not allowed to delete members for image {image['id']}." \
        in response.text

    # Showing one membership never tells more than "not found".
    response = admin.get(members_path(image, 'friend-project'))
    assert response.status_int == 404
    assert 'Only shared images have members.' in response.text


def test_a_shared_image_made_private_keeps_its_members_hidden(
        owner, friend, shared):
    set_status(friend, shared, 'friend-project', 'accepted')
    path = f"/v2/images/{shared['id']}"
    owner.patch(path, [{'op': 'replace', 'path': '/visibility',
                        'value': 'private'}])
    assert friend.get(path).status_int == 404
    assert owner.get(members_path(shared)).status_int == 403
    # Sharing it again brings the memberships back as they were.
    owner.patch(path, [{'op': 'replace', 'path': '/visibility',
                        'value': 'shared'}])
    assert friend.get(path).status_int == 200
    assert friend.get(members_path(shared, 'friend-project')) \
        .json['status'] == 'accepted'


def test_a_member_may_not_add_members(owner, friend, shared):
    response = friend.post(members_path(shared),
                           {'member': 'stranger-project'})
    assert response.status_int == 403
    assert 'You are not authorized to complete add_member action.' \
        in response.text
    assert member_ids(owner, shared) == ['friend-project']


def test_a_reader_of_the_owner_may_not_add_members(owner, as_project):
    image = owner.create_image(visibility='shared')
    reader = as_project('owner-project', roles=('reader',))
    response = reader.post(members_path(image), {'member': 'friend-project'})
    assert response.status_int == 403
    assert member_ids(owner, image) == []


def test_admin_may_add_members_to_any_shared_image(owner, admin):
    image = owner.create_image(visibility='shared')
    response = admin.post(members_path(image), {'member': 'friend-project'})
    assert response.status_int == 200
    assert member_ids(owner, image) == ['friend-project']


def test_adding_to_an_unknown_image(owner):
    response = owner.post(f'/v2/images/{UNKNOWN_ID}/members',
                          {'member': 'friend-project'})
    assert response.status_int == 404
    assert f'Image {UNKNOWN_ID} not found.' in response.text


def test_adding_to_an_image_of_another_project(owner, stranger):
    image = owner.create_image(visibility='shared')
    response = stranger.post(members_path(image),
                             {'member': 'stranger-project'})
    assert response.status_int == 404
    assert f"Image {image['id']} not found." in response.text
    assert member_ids(owner, image) == []


@pytest.mark.parametrize('body, message', [
    ({}, 'Member to be added not specified'),
    ({'member': ''}, "Member can't be empty"),
    (['friend-project'], 'Expected a member in the form'),
])
def test_adding_with_a_bad_body(owner, body, message):
    image = owner.create_image(visibility='shared')
    response = owner.post(members_path(image), body)
    assert response.status_int == 400
    assert message in response.text


def test_adding_without_a_body(owner):
    image = owner.create_image(visibility='shared')
    response = owner.post(members_path(image))
    assert response.status_int == 400
    assert 'Body expected in request.' in response.text


@pytest.fixture
def member_quota_of_two():
    config.CONF.set_override('image_member_quota', 2)
    yield 2
    config.CONF.clear_override('image_member_quota')


def test_image_member_quota(owner, member_quota_of_two):
    image = owner.create_image(visibility='shared')
    for project in ('p1', 'p2'):
        response = owner.post(members_path(image), {'member': project})
        assert response.status_int == 200
    response = owner.post(members_path(image), {'member': 'p3'})
    assert response.status_int == 413
    assert (f"Image member limit exceeded for image {image['id']}: The "
            "limit has been exceeded on the number of allowed image members "
            "for this image. Attempted: 3, Maximum: 2") in response.text
    assert member_ids(owner, image) == ['p1', 'p2']
    # The quota is checked before duplicates.
    assert owner.post(members_path(image), {'member': 'p1'}).status_int \
        == 413
    # Removing one makes room again.
    assert owner.delete(members_path(image, 'p1')).status_int == 204
    assert owner.post(members_path(image), {'member': 'p3'}).status_int \
        == 200


# --- listing and showing ----------------------------------------------------

def test_the_owner_lists_every_member(owner, shared):
    owner.post(members_path(shared), {'member': 'third-project'})
    response = owner.get(members_path(shared))
    assert response.status_int == 200
    assert response.json['schema'] == '/v2/schemas/members'
    members = response.json['members']
    assert sorted(m['member_id'] for m in members) == [
        'friend-project', 'third-project']
    for member in members:
        assert set(member) == {'created_at', 'updated_at', 'image_id',
                               'member_id', 'status', 'schema'}
        assert member['image_id'] == shared['id']


def test_a_member_lists_only_its_own_membership(owner, friend, shared):
    owner.post(members_path(shared), {'member': 'third-project'})
    assert member_ids(friend, shared) == ['friend-project']


def test_a_member_sees_its_own_membership(friend, shared):
    response = friend.get(members_path(shared, 'friend-project'))
    assert response.status_int == 200
    assert response.json['member_id'] == 'friend-project'
    assert response.json['status'] == 'pending'
    assert response.json['schema'] == '/v2/schemas/member'


def test_a_member_does_not_see_other_memberships(owner, friend, shared):
    owner.post(members_path(shared), {'member': 'third-project'})
    response = friend.get(members_path(shared, 'third-project'))
    assert response.status_int == 404
    assert owner.get(members_path(shared, 'third-project')).status_int \
        == 200


def test_the_owner_shows_a_membership(owner, shared):
    response = owner.get(members_path(shared, 'friend-project'))
    assert response.status_int == 200
    assert response.json['status'] == 'pending'


def test_showing_a_member_that_does_not_exist(owner, shared):
    response = owner.get(members_path(shared, 'nobody'))
    assert response.status_int == 404
    assert ("nobody not found in the member list of the image "
            f"{shared['id']}.") in response.text


def test_another_project_cannot_see_the_memberships(stranger, shared):
    assert stranger.get(members_path(shared)).status_int == 404
    assert stranger.get(members_path(shared, 'friend-project')).status_int \
        == 404
    assert stranger.get(members_path(shared, 'stranger-project')) \
        .status_int == 404


def test_listing_members_of_an_unknown_image(owner):
    response = owner.get(f'/v2/images/{UNKNOWN_ID}/members')
    assert response.status_int == 404
    assert f'Image {UNKNOWN_ID} not found.' in response.text


def test_admin_lists_every_member(admin, shared):
    assert member_ids(admin, shared) == ['friend-project']


# --- the member's status --------------------------------------------------

@pytest.mark.parametrize('status', ['accepted', 'rejected', 'pending'])
def test_the_member_sets_its_status(owner, friend, shared, status):
    response = set_status(friend, shared, 'friend-project', status)
    assert response.status_int == 200
    member = response.json
    assert member['status'] == status
    assert member['member_id'] == 'friend-project'
    assert member['image_id'] == shared['id']
    assert member['schema'] == '/v2/schemas/member'
    shown = owner.get(members_path(shared, 'friend-project')).json
    assert shown['status'] == status


def test_the_member_changes_its_mind(owner, friend, shared):
    for status in ('accepted', 'rejected', 'pending', 'accepted'):
        assert set_status(friend, shared, 'friend-project',
                          status).json['status'] == status
    assert friend.get(members_path(shared, 'friend-project')) \
        .json['status'] == 'accepted'


def test_updated_at_moves_with_the_status(friend, shared):
    before = friend.get(members_path(shared, 'friend-project')).json
    after = set_status(friend, shared, 'friend-project', 'accepted').json
    assert after['created_at'] == before['created_at']
    assert parse_time(after['updated_at']) >= parse_time(before['updated_at'])


def test_the_owner_may_not_set_the_status(owner, shared):
    response = set_status(owner, shared, 'friend-project', 'accepted')
    assert response.status_int == 403
    assert 'You are not authorized to complete modify_member action.' \
        in response.text
    assert owner.get(members_path(shared, 'friend-project')) \
        .json['status'] == 'pending'


def test_a_member_may_not_set_the_status_of_another(owner, friend, shared):
    owner.post(members_path(shared), {'member': 'third-project'})
    response = set_status(friend, shared, 'third-project', 'accepted')
    assert response.status_int == 404
    assert owner.get(members_path(shared, 'third-project')) \
        .json['status'] == 'pending'


def test_a_reader_of_the_member_project_may_not_set_the_status(
        as_project, owner, shared):
    reader = as_project('friend-project', roles=('reader',))
    assert reader.get(members_path(shared, 'friend-project')).status_int \
        == 200
    response = set_status(reader, shared, 'friend-project', 'accepted')
    assert response.status_int == 403


def test_admin_may_set_the_status(owner, admin, shared):
    response = set_status(admin, shared, 'friend-project', 'rejected')
    assert response.status_int == 200
    assert response.json['status'] == 'rejected'


def test_an_invalid_status(friend, shared):
    response = set_status(friend, shared, 'friend-project', 'maybe')
    assert response.status_int == 400
    assert 'Status must be "pending", "accepted" or "rejected".' \
        in response.text


@pytest.mark.parametrize('body, message', [
    ({}, 'Status not specified'),
    (['accepted'], 'Expected a status in the form'),
])
def test_updating_with_a_bad_body(friend, shared, body, message):
    response = friend.put(members_path(shared, 'friend-project'), body)
    assert response.status_int == 400
    assert message in response.text


def test_another_project_cannot_set_a_status(stranger, owner, shared):
    response = set_status(stranger, shared, 'friend-project', 'accepted')
    assert response.status_int == 404
    response = set_status(stranger, shared, 'stranger-project', 'accepted')
    assert response.status_int == 404
    assert member_ids(owner, shared) == ['friend-project']


def test_setting_the_status_of_a_non_member(owner, friend, shared):
    response = set_status(owner, shared, 'nobody', 'accepted')
    assert response.status_int == 404


# --- removing ---------------------------------------------------------------

def test_owner_removes_a_member(owner, friend, shared):
    response = owner.delete(members_path(shared, 'friend-project'))
    assert response.status_int == 204
    assert response.body == b''
    assert member_ids(owner, shared) == []
    # The former member no longer sees the image at all.
    assert friend.get(f"/v2/images/{shared['id']}").status_int == 404
    assert owner.get(members_path(shared, 'friend-project')).status_int \
        == 404


def test_removing_a_member_that_does_not_exist(owner, shared):
    response = owner.delete(members_path(shared, 'nobody'))
    assert response.status_int == 404
    assert member_ids(owner, shared) == ['friend-project']


def test_a_member_may_not_remove_itself(owner, friend, shared):
    response = friend.delete(members_path(shared, 'friend-project'))
    assert response.status_int == 403
    assert 'You are not authorized to complete delete_member action.' \
        in response.text
    assert member_ids(owner, shared) == ['friend-project']


def test_another_project_may_not_remove_members(owner, stranger, shared):
    response = stranger.delete(members_path(shared, 'friend-project'))
    assert response.status_int == 404
    assert member_ids(owner, shared) == ['friend-project']


def test_a_removed_member_may_be_added_again(owner, friend, shared):
    set_status(friend, shared, 'friend-project', 'accepted')
    owner.delete(members_path(shared, 'friend-project'))
    response = owner.post(members_path(shared), {'member': 'friend-project'})
    assert response.status_int == 200
    assert response.json['status'] == 'pending'


def test_members_go_with_a_deleted_image(owner, friend, shared):
    assert owner.delete(f"/v2/images/{shared['id']}").status_int == 204
    response = owner.get(members_path(shared))
    assert response.status_int == 404
    assert f"Image {shared['id']} not found." in response.text
    assert friend.get(members_path(shared, 'friend-project')).status_int \
        == 404


# --- the schemas ------------------------------------------------------------

def test_member_schemas(owner):
    member = owner.get('/v2/schemas/member')
    assert member.status_int == 200
    assert member.json['name'] == 'member'
    assert member.json['properties']['status']['enum'] == [
        'pending', 'accepted', 'rejected']
    members = owner.get('/v2/schemas/members')
    assert members.status_int == 200
    assert members.json['name'] == 'members'
