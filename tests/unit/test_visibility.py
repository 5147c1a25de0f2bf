"""Who sees which image, by id and in lists.

public: everyone, listed. private: the owner only. shared: the owner and
its members (a member sees it by id at once; it is listed for the member
once accepted). community: everyone by id; listed for its owner, for
others only with ?visibility=community. Hidden images (os_hidden) stay
out of lists unless asked for.
"""
import pytest


@pytest.fixture
def images(owner, admin):
    """One image of each visibility, all owned by owner-project."""
    made = {visibility: owner.create_image(name=visibility,
                                           visibility=visibility)
            for visibility in ('private', 'shared', 'community')}
    made['public'] = admin.create_image(name='public', visibility='public',
                                        owner='owner-project')
    return made


def listed(client, query=''):
    response = client.get('/v2/images' + query)
    assert response.status_int == 200, response.text
    return sorted(image['name'] for image in response.json['images'])


def shows(client, image):
    return client.get(f"/v2/images/{image['id']}").status_int


def share(owner, image, project):
    response = owner.post(f"/v2/images/{image['id']}/members",
                          {'member': project})
    assert response.status_int == 200, response.text


def set_status(client, image, project, status):
    response = client.put(f"/v2/images/{image['id']}/members/{project}",
                          {'status': status})
    assert response.status_int == 200, response.text


# --- the owner ---------------------------------------------------------------

def test_the_owner_sees_and_lists_all_its_images(owner, images):
    for image in images.values():
        assert shows(owner, image) == 200
    assert listed(owner) == ['community', 'private', 'public', 'shared']


@pytest.mark.parametrize('visibility', ['public', 'private', 'shared',
                                        'community'])
def test_the_owner_filters_by_visibility(owner, images, visibility):
    assert listed(owner, '?visibility=' + visibility) == [visibility]


def test_visibility_all_for_the_owner(owner, images):
    assert listed(owner, '?visibility=all') == [
        'community', 'private', 'public', 'shared']


# --- public ------------------------------------------------------------------

def test_public_images_are_seen_and_listed_by_everyone(stranger, images):
    assert shows(stranger, images['public']) == 200
    assert listed(stranger) == ['public']
    assert listed(stranger, '?visibility=public') == ['public']


# --- private -----------------------------------------------------------------

def test_private_images_are_only_for_the_owner(stranger, images):
    assert shows(stranger, images['private']) == 404
    assert listed(stranger, '?visibility=private') == []
    assert 'private' not in listed(stranger, '?visibility=all')


def test_private_images_of_others_stay_hidden_from_a_reader(as_project,
                                                            images):
    reader = as_project('stranger-project', roles=('reader',))
    assert shows(reader, images['private']) == 404
    assert listed(reader) == ['public']


# --- community ---------------------------------------------------------------

def test_community_images_are_seen_by_everyone(stranger, images):
    assert shows(stranger, images['community']) == 200


def test_community_images_of_others_are_listed_only_when_asked(stranger,
                                                               images):
    assert 'community' not in listed(stranger)
    assert listed(stranger, '?visibility=community') == ['community']
    assert listed(stranger, '?visibility=all') == ['community', 'public']


# --- shared ------------------------------------------------------------------

def test_shared_images_are_hidden_from_non_members(stranger, images):
    assert shows(stranger, images['shared']) == 404
    for query in ('', '?visibility=shared', '?member_status=all',
                  '?visibility=shared&member_status=all',
                  '?visibility=all&member_status=all'):
        assert 'shared' not in listed(stranger, query)


def test_a_pending_member_sees_but_does_not_list(owner, friend, images):
    image = images['shared']
    share(owner, image, 'friend-project')
    assert shows(friend, image) == 200
    assert listed(friend) == ['public']
    assert listed(friend, '?visibility=shared') == []
    assert listed(friend, '?member_status=pending') == ['public', 'shared']
    assert listed(friend, '?member_status=all') == ['public', 'shared']
    assert listed(friend, '?visibility=shared&member_status=pending') \
        == ['shared']
    assert listed(friend, '?member_status=rejected') == ['public']


def test_an_accepting_member_lists_the_image(owner, friend, images):
    image = images['shared']
    share(owner, image, 'friend-project')
    set_status(friend, image, 'friend-project', 'accepted')
    assert listed(friend) == ['public', 'shared']
    assert listed(friend, '?visibility=shared') == ['shared']
    assert listed(friend, '?visibility=all') == [
        'community', 'public', 'shared']
    assert listed(friend, '?member_status=pending') == ['public']


def test_a_rejecting_member_still_sees_but_does_not_list(owner, friend,
                                                         images):
    image = images['shared']
    share(owner, image, 'friend-project')
    set_status(friend, image, 'friend-project', 'rejected')
    assert shows(friend, image) == 200
    assert listed(friend) == ['public']
    assert listed(friend, '?member_status=rejected') == ['public', 'shared']
    assert listed(friend, '?member_status=all') == ['public', 'shared']
    assert listed(friend, '?visibility=shared&member_status=rejected') \
        == ['shared']


def test_the_member_status_does_not_filter_the_owners_images(owner,
                                                             images):
    share(owner, images['shared'], 'friend-project')
    for status in ('pending', 'accepted', 'rejected', 'all'):
        assert listed(owner, '?member_status=' + status) == [
            'community', 'private', 'public', 'shared']


def test_membership_is_per_project(owner, friend, stranger, images):
    image = images['shared']
    share(owner, image, 'friend-project')
    set_status(friend, image, 'friend-project', 'accepted')
    assert shows(stranger, image) == 404
    assert listed(stranger) == ['public']


def test_a_member_of_a_shared_image_made_private_loses_it(owner, friend,
                                                          images):
    image = images['shared']
    share(owner, image, 'friend-project')
    set_status(friend, image, 'friend-project', 'accepted')
    owner.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/visibility', 'value': 'private'}])
    assert shows(friend, image) == 404
    assert listed(friend, '?member_status=all') == ['public']


# --- admin -------------------------------------------------------------------

def test_admin_sees_every_image(admin, images):
    for image in images.values():
        assert shows(admin, image) == 200


def test_admin_lists_everything_but_the_community_images_of_others(
        admin, images):
    admin.create_image(name='admin community', visibility='community')
    assert listed(admin) == ['admin community', 'private', 'public',
                             'shared']
    assert listed(admin, '?member_status=pending') == [
        'admin community', 'private', 'public', 'shared']
    assert listed(admin, '?visibility=community') == [
        'admin community', 'community']
    assert listed(admin, '?visibility=all') == [
        'admin community', 'community', 'private', 'public', 'shared']
    assert listed(admin, '?visibility=private') == ['private']


def test_admin_without_a_project(as_project, images):
    admin = as_project('admin-project', roles=('admin',))
    del admin.headers['X-Project-Id']
    assert listed(admin) == ['private', 'public', 'shared']
    assert listed(admin, '?visibility=community') == ['community']


# --- images without an owner -------------------------------------------------

@pytest.fixture
def ownerless(as_project):
    """Images made by an admin acting for no project (or by the default
    flavor): they have no owner."""
    admin = as_project('admin-project', roles=('admin',))
    del admin.headers['X-Project-Id']
    made = {visibility: admin.create_image(name=visibility,
                                           visibility=visibility)
            for visibility in ('private', 'shared')}
    assert made['shared']['owner'] is None
    return made


def test_an_ownerless_image_is_seen_by_id_but_not_listed(stranger,
                                                         ownerless):
    assert shows(stranger, ownerless['shared']) == 200
    assert shows(stranger, ownerless['private']) == 404
    assert listed(stranger, '?visibility=all&member_status=all') == []


def test_a_visible_ownerless_image_may_be_a_marker(stranger, ownerless):
    response = stranger.get(
        f"/v2/images?marker={ownerless['shared']['id']}")
    assert response.status_int == 200


# --- hidden images -----------------------------------------------------------

def test_hidden_images_are_not_listed_unless_asked(owner, stranger, admin):
    hidden = admin.create_image(name='hidden', visibility='public',
                                os_hidden=True)
    admin.create_image(name='shown', visibility='public')
    for client in (owner, stranger, admin):
        assert listed(client) == ['shown']
        assert listed(client, '?os_hidden=true') == ['hidden']
        assert listed(client, '?os_hidden=false') == ['shown']
        assert shows(client, hidden) == 200


def test_hiding_an_image_keeps_its_visibility_rules(owner, stranger):
    image = owner.create_image(name='secret', visibility='private',
                               os_hidden=True)
    assert listed(owner, '?os_hidden=true') == ['secret']
    assert listed(stranger, '?os_hidden=true') == []
    assert shows(stranger, image) == 404


def test_os_hidden_must_be_a_boolean(owner):
    assert owner.get('/v2/images?os_hidden=maybe').status_int == 400


# --- bad filters -------------------------------------------------------------

def test_an_unknown_visibility_is_refused(owner):
    response = owner.get('/v2/images?visibility=secret')
    assert response.status_int == 400
    assert 'Invalid visibility value: secret' in response.text


def test_an_unknown_member_status_is_refused(owner):
    response = owner.get('/v2/images?member_status=maybe')
    assert response.status_int == 400
    assert 'Invalid status: maybe' in response.text


# --- isolation between projects ----------------------------------------------

def test_another_project_can_do_nothing_with_a_private_image(owner,
                                                             stranger):
    image = owner.create_image(name='mine', visibility='private')
    path = f"/v2/images/{image['id']}"
    assert stranger.get(path).status_int == 404
    assert stranger.patch(path, [{'op': 'replace', 'path': '/name',
                                  'value': 'stolen'}]).status_int == 404
    assert stranger.delete(path).status_int == 404
    assert stranger.get(path + '/members').status_int == 404
    assert stranger.put(path + '/tags/x').status_int == 404
    assert owner.get(path).json['name'] == 'mine'
    assert owner.get(path).json['tags'] == []


def test_lists_never_leak_private_images(owner, stranger):
    for n in range(5):
        owner.create_image(name=f'mine-{n}', visibility='private')
    for query in ('', '?visibility=all', '?visibility=private',
                  '?member_status=all', '?owner=owner-project',
                  '?name=mine-1', '?limit=1000', '?os_hidden=true'):
        assert listed(stranger, query) == [], query


def test_paging_skips_what_the_caller_may_not_see(owner, stranger, admin):
    public = [admin.create_image(name=f'public-{n}', visibility='public')
              for n in range(3)]
    for n in range(3):
        owner.create_image(name=f'private-{n}', visibility='private')
    seen = []
    query = '/v2/images?limit=1&sort=name:asc'
    while query:
        response = stranger.get(query)
        assert response.status_int == 200
        seen += [image['name'] for image in response.json['images']]
        query = response.json.get('next')
    assert seen == [image['name'] for image in public]


def test_the_marker_of_an_invisible_image_is_refused(owner, stranger):
    # As if it did not exist (upstream answers 403 "Forbidding request,
    # image ... not visible", which tells that it exists).
    image = owner.create_image(visibility='private')
    response = stranger.get(f"/v2/images?marker={image['id']}")
    assert response.status_int == 400
    assert f"No image found with ID {image['id']}" in response.text
    assert owner.get(f"/v2/images?marker={image['id']}").status_int == 200


def test_the_marker_of_an_unknown_image_is_refused(owner):
    response = owner.get(
        '/v2/images?marker=00000000-0000-0000-0000-000000000000')
    assert response.status_int == 400


def test_the_marker_of_a_deleted_image_is_refused(owner):
    image = owner.create_image()
    owner.create_image()
    owner.delete(f"/v2/images/{image['id']}")
    response = owner.get(f"/v2/images?marker={image['id']}")
    assert response.status_int == 400


def test_a_pending_member_may_page_from_a_shared_image(owner, friend,
                                                       images):
    share(owner, images['shared'], 'friend-project')
    response = friend.get(f"/v2/images?marker={images['shared']['id']}")
    assert response.status_int == 200


def test_a_community_image_may_be_a_marker(stranger, images):
    response = stranger.get(
        f"/v2/images?marker={images['community']['id']}")
    assert response.status_int == 200
