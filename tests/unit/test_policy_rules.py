"""Who may do what to an image: the secure-RBAC rules through the API.

Projects act through the trusted-headers flavor (see conftest): 'owner'
owns the images, 'other' is an unrelated project with the same roles.
A caller who may not see an image gets 404 as if it did not exist; one who
may see it but not do this gets 403.
"""
import pytest

DATA = b'some image bytes'


@pytest.fixture
def owner_reader(as_project):
    return as_project('owner-project', roles=('reader',))


def active_image(client, **values):
    image = client.create_image(**values)
    response = client.upload(image['id'], DATA)
    assert response.status_int == 204, response.text
    return image


def listed_ids(client, query=''):
    response = client.get('/v2/images' + query)
    assert response.status_int == 200, response.text
    return [image['id'] for image in response.json['images']]


# --- what each role of the owning project may do --------------------------

def test_member_of_the_owning_project_may_do_everything(owner):
    image = owner.create_image(name='mine')
    assert image['owner'] == 'owner-project'
    path = f"/v2/images/{image['id']}"

    assert owner.get(path).status_int == 200
    assert image['id'] in listed_ids(owner)
    response = owner.patch(path, [{'op': 'replace', 'path': '/name',
                                   'value': 'renamed'}])
    assert response.status_int == 200, response.text
    assert response.json['name'] == 'renamed'
    assert owner.put(path + '/tags/t1').status_int == 204
    assert owner.upload(image['id'], DATA).status_int == 204
    response = owner.get(path + '/file')
    assert response.status_int == 200
    assert response.body == DATA
    assert owner.post(path + '/actions/deactivate').status_int == 204
    assert owner.post(path + '/actions/reactivate').status_int == 204
    assert owner.delete(path).status_int == 204
    assert owner.get(path).status_int == 404


def test_reader_may_list_and_show(owner, owner_reader):
    image = owner.create_image(name='mine')
    assert owner_reader.get(f"/v2/images/{image['id']}").status_int == 200
    assert listed_ids(owner_reader) == [image['id']]


def test_reader_may_not_create(owner_reader):
    response = owner_reader.post('/v2/images', {'name': 'nope'})
    assert response.status_int == 403
    assert 'add_image' in response.text


@pytest.mark.parametrize('method, suffix, body', [
    ('PATCH', '', [{'op': 'replace', 'path': '/name', 'value': 'x'}]),
    ('DELETE', '', None),
    ('PUT', '/file', DATA),
    ('PUT', '/tags/t1', None),
    ('DELETE', '/tags/t0', None),
    ('POST', '/actions/deactivate', None),
])
def test_reader_may_not_change(owner, owner_reader, method, suffix, body):
    image = owner.create_image(tags=['t0'])
    path = f"/v2/images/{image['id']}{suffix}"
    content_type = {'PATCH': 'application/openstack-images-v2.1-json-patch',
                    'PUT': 'application/octet-stream'}.get(method)
    response = owner_reader.request(method, path, body,
                                    content_type=content_type)
    assert response.status_int == 403, response.text
    assert owner.get(f"/v2/images/{image['id']}").json['status'] == 'queued'


def test_reader_may_not_download(owner, owner_reader):
    image = active_image(owner)
    response = owner_reader.get(f"/v2/images/{image['id']}/file")
    assert response.status_int == 403


def test_reader_may_not_share(owner, owner_reader):
    image = owner.create_image()
    response = owner_reader.post(f"/v2/images/{image['id']}/members",
                                 {'member': 'other-project'})
    assert response.status_int == 403


def test_member_role_alone_does_not_imply_reader(as_project):
    # Keystone expands implied roles into the token; the rules themselves
    # name `reader` for reading.
    only_member = as_project('owner-project', roles=('member',))
    assert only_member.get('/v2/images').status_int == 403
    assert only_member.create_image()['owner'] == 'owner-project'


def test_no_role_may_do_nothing(as_project):
    nobody = as_project('owner-project', roles=('observer',))
    assert nobody.get('/v2/images').status_int == 403
    assert nobody.post('/v2/images', {'name': 'x'}).status_int == 403


# --- ownership on create ----------------------------------------------------

def test_creating_an_image_owned_by_another_project_is_forbidden(owner):
    response = owner.post('/v2/images', {'name': 'x',
                                         'owner': 'other-project'})
    assert response.status_int == 403
    assert ("You are not permitted to create images owned by "
            "'other-project'") in response.text


def test_creating_an_image_owned_by_ones_own_project_explicitly(owner):
    image = owner.create_image(owner='owner-project')
    assert image['owner'] == 'owner-project'


def test_admin_may_create_an_image_for_another_project(admin, other):
    image = admin.create_image(owner='other-project')
    assert image['owner'] == 'other-project'
    # ... which then belongs to that project.
    response = other.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/name', 'value': 'mine now'}])
    assert response.status_int == 200


@pytest.mark.parametrize('op', ['replace', 'add'])
def test_only_admin_may_change_the_owner(owner, admin, op):
    # (Upstream refuses only 'replace'; its 'add' gives the image away,
    # then answers 403.)
    image = owner.create_image()
    path = f"/v2/images/{image['id']}"
    change = [{'op': op, 'path': '/owner', 'value': 'other-project'}]
    response = owner.patch(path, change)
    assert response.status_int == 403
    assert "Owner can't be updated by non admin." in response.text
    assert owner.get(path).json['owner'] == 'owner-project'
    response = admin.patch(path, change)
    assert response.status_int == 200
    assert response.json['owner'] == 'other-project'
    assert owner.get(path).status_int == 404


# --- publicize and communitize ----------------------------------------------

def test_member_may_not_create_a_public_image(owner):
    response = owner.post('/v2/images', {'visibility': 'public'})
    assert response.status_int == 403
    assert 'publicize_image' in response.text
    assert listed_ids(owner) == []


def test_member_may_not_make_an_image_public(owner):
    image = owner.create_image()
    response = owner.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/visibility', 'value': 'public'}])
    assert response.status_int == 403
    assert owner.get(f"/v2/images/{image['id']}").json['visibility'] \
        == 'shared'


def test_admin_may_publicize(admin, owner):
    assert admin.create_image(visibility='public')['visibility'] == 'public'
    image = owner.create_image()
    response = admin.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/visibility', 'value': 'public'}])
    assert response.status_int == 200
    assert response.json['visibility'] == 'public'


def test_member_may_communitize(owner):
    assert owner.create_image(visibility='community')['visibility'] \
        == 'community'
    image = owner.create_image(visibility='private')
    response = owner.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/visibility', 'value': 'community'}])
    assert response.status_int == 200
    assert response.json['visibility'] == 'community'


def test_member_may_unpublish_an_image_it_owns(admin, owner):
    image = admin.create_image(visibility='public', owner='owner-project')
    response = owner.patch(f"/v2/images/{image['id']}", [
        {'op': 'replace', 'path': '/visibility', 'value': 'private'}])
    assert response.status_int == 200
    assert response.json['visibility'] == 'private'


# --- images another project may not see: 404 -------------------------------

INVISIBLE_REQUESTS = [
    ('GET', '', None),
    ('PATCH', '', [{'op': 'replace', 'path': '/name', 'value': 'x'}]),
    ('DELETE', '', None),
    ('PUT', '/file', DATA),
    ('GET', '/file', None),
    ('PUT', '/tags/t1', None),
    ('DELETE', '/tags/t0', None),
    ('POST', '/actions/deactivate', None),
    ('POST', '/actions/reactivate', None),
]


def _send(client, method, path, body):
    content_type = {'PATCH': 'application/openstack-images-v2.1-json-patch',
                    'PUT': 'application/octet-stream'}.get(method)
    if path.endswith(('/tags/t1', '/tags/t0')):
        content_type = None
    return client.request(method, path, body, content_type=content_type)


@pytest.mark.parametrize('visibility', ['private', 'shared'])
@pytest.mark.parametrize('method, suffix, body', INVISIBLE_REQUESTS)
def test_an_invisible_image_is_not_found(owner, other, visibility, method,
                                         suffix, body):
    image = owner.create_image(visibility=visibility, tags=['t0'])
    response = _send(other, method,
                     f"/v2/images/{image['id']}{suffix}", body)
    assert response.status_int == 404, response.text
    after = owner.get(f"/v2/images/{image['id']}").json
    assert after['status'] == 'queued'
    assert after['tags'] == ['t0']


def test_an_unknown_image_is_not_found(owner):
    response = owner.get('/v2/images/00000000-0000-0000-0000-000000000000')
    assert response.status_int == 404


# --- images another project sees but may not change: 403 ------------------

VISIBLE_BUT_FORBIDDEN = [
    ('PATCH', '', [{'op': 'replace', 'path': '/name', 'value': 'x'}]),
    ('DELETE', '', None),
    ('PUT', '/file', DATA),
    ('PUT', '/tags/t1', None),
    ('DELETE', '/tags/t0', None),
    ('POST', '/actions/deactivate', None),
    ('POST', '/actions/reactivate', None),
]
# The rule each of those requests is refused by.
REFUSING_RULES = ['modify_image', 'delete_image', 'upload_image',
                  'modify_image', 'modify_image', 'deactivate', 'reactivate']


@pytest.mark.parametrize('method, suffix, body, rule', [
    request + (rule,)
    for request, rule in zip(VISIBLE_BUT_FORBIDDEN, REFUSING_RULES,
                             strict=True)])
def test_a_public_image_of_another_project_is_read_only(
        admin, other, method, suffix, body, rule):
    image = admin.create_image(visibility='public', owner='owner-project',
                               tags=['t0'])
    response = _send(other, method,
                     f"/v2/images/{image['id']}{suffix}", body)
    assert response.status_int == 403, response.text
    assert f'You are not authorized to complete {rule} action.' \
        in response.text
    after = other.get(f"/v2/images/{image['id']}").json
    assert after['status'] == 'queued'
    assert after['name'] is None
    assert after['tags'] == ['t0']


@pytest.mark.parametrize('method, suffix, body', VISIBLE_BUT_FORBIDDEN)
def test_a_community_image_of_another_project_is_read_only(
        owner, other, method, suffix, body):
    image = owner.create_image(visibility='community', tags=['t0'])
    response = _send(other, method,
                     f"/v2/images/{image['id']}{suffix}", body)
    assert response.status_int == 403, response.text


@pytest.mark.parametrize('method, suffix, body', VISIBLE_BUT_FORBIDDEN)
def test_a_shared_image_is_read_only_for_its_members(
        owner, other, method, suffix, body):
    image = owner.create_image(visibility='shared', tags=['t0'])
    response = owner.post(f"/v2/images/{image['id']}/members",
                          {'member': 'other-project'})
    assert response.status_int == 200
    response = _send(other, method,
                     f"/v2/images/{image['id']}{suffix}", body)
    assert response.status_int == 403, response.text


def test_a_protected_image_cannot_be_deleted_even_by_admin(owner, admin):
    image = owner.create_image(protected=True)
    path = f"/v2/images/{image['id']}"
    assert owner.delete(path).status_int == 403
    assert admin.delete(path).status_int == 403
    assert owner.get(path).status_int == 200


# --- images without an owner -------------------------------------------------

@pytest.fixture
def ownerless(as_project):
    """An active shared image made by an admin acting for no project."""
    admin = as_project('admin-project', roles=('admin',))
    del admin.headers['X-Project-Id']
    image = active_image(admin, visibility='shared')
    assert image['owner'] is None
    return image


@pytest.mark.parametrize('method, suffix, body', VISIBLE_BUT_FORBIDDEN)
def test_nobody_but_admin_changes_an_ownerless_image(
        as_project, ownerless, method, suffix, body):
    # A caller without a project is refused as well, though the rules'
    # "project_id:%(project_id)s" would match its missing project to the
    # missing owner.
    without_project = as_project('p', roles=('member', 'reader'))
    del without_project.headers['X-Project-Id']
    for client in (as_project('other-project'), without_project):
        response = _send(client, method,
                         f"/v2/images/{ownerless['id']}{suffix}", body)
        assert response.status_int == 403, response.text
    assert without_project.get(f"/v2/images/{ownerless['id']}") \
        .json['status'] == 'active'


def test_everyone_may_download_an_ownerless_shared_image(other, ownerless):
    response = other.get(f"/v2/images/{ownerless['id']}/file")
    assert response.status_int == 200
    assert response.body == DATA


# --- downloads --------------------------------------------------------------

def test_another_project_may_download_a_public_image(admin, other):
    image = active_image(admin, visibility='public')
    response = other.get(f"/v2/images/{image['id']}/file")
    assert response.status_int == 200
    assert response.body == DATA


def test_another_project_may_download_a_community_image(owner, other):
    image = active_image(owner, visibility='community')
    response = other.get(f"/v2/images/{image['id']}/file")
    assert response.status_int == 200
    assert response.body == DATA


def test_a_member_may_download_a_shared_image_even_while_pending(owner,
                                                                 other):
    image = active_image(owner, visibility='shared')
    owner.post(f"/v2/images/{image['id']}/members",
               {'member': 'other-project'})
    response = other.get(f"/v2/images/{image['id']}/file")
    assert response.status_int == 200
    assert response.body == DATA


def test_a_reader_of_another_project_may_not_download_a_public_image(
        admin, as_project):
    image = active_image(admin, visibility='public')
    reader = as_project('other-project', roles=('reader',))
    assert reader.get(f"/v2/images/{image['id']}").status_int == 200
    assert reader.get(f"/v2/images/{image['id']}/file").status_int == 403


def test_download_of_a_deactivated_image(owner, admin):
    image = active_image(owner)
    path = f"/v2/images/{image['id']}"
    assert owner.post(path + '/actions/deactivate').status_int == 204
    assert owner.get(path).json['status'] == 'deactivated'

    response = owner.get(path + '/file')
    assert response.status_int == 403
    assert 'The requested image has been deactivated' in response.text
    response = admin.get(path + '/file')
    assert response.status_int == 200
    assert response.body == DATA

    assert owner.post(path + '/actions/reactivate').status_int == 204
    assert owner.get(path + '/file').body == DATA


def test_download_of_a_deactivated_public_image_by_another_project(admin,
                                                                   other):
    image = active_image(admin, visibility='public')
    path = f"/v2/images/{image['id']}"
    admin.post(path + '/actions/deactivate')
    assert other.get(path + '/file').status_int == 403


# --- deactivate and reactivate ----------------------------------------------

def test_admin_may_deactivate_and_reactivate_any_image(owner, admin):
    image = active_image(owner, visibility='private')
    path = f"/v2/images/{image['id']}"
    assert admin.post(path + '/actions/deactivate').status_int == 204
    assert owner.get(path).json['status'] == 'deactivated'
    assert owner.post(path + '/actions/reactivate').status_int == 204
    assert admin.post(path + '/actions/deactivate').status_int == 204
    assert admin.post(path + '/actions/reactivate').status_int == 204
    assert owner.get(path).json['status'] == 'active'


def test_reader_of_the_owner_may_not_reactivate(owner, owner_reader):
    image = active_image(owner)
    path = f"/v2/images/{image['id']}"
    owner.post(path + '/actions/deactivate')
    assert owner_reader.post(path + '/actions/reactivate').status_int == 403
    assert owner.get(path).json['status'] == 'deactivated'


# --- admin ------------------------------------------------------------------

def test_admin_may_see_change_and_delete_any_image(owner, admin):
    image = active_image(owner, visibility='private')
    path = f"/v2/images/{image['id']}"
    assert admin.get(path).status_int == 200
    assert image['id'] in listed_ids(admin)
    response = admin.patch(path, [{'op': 'add', 'path': '/note',
                                   'value': 'by admin'}])
    assert response.status_int == 200
    assert response.json['note'] == 'by admin'
    assert admin.get(path + '/file').body == DATA
    assert admin.put(path + '/tags/admin').status_int == 204
    assert admin.delete(path).status_int == 204
    assert owner.get(path).status_int == 404


def test_admin_role_is_case_insensitive(owner, as_project):
    image = owner.create_image(visibility='private')
    admin = as_project('admin-project', roles=('Admin',))
    assert admin.get(f"/v2/images/{image['id']}").status_int == 200


def test_the_default_flavor_is_the_admin(client):
    image = client.create_image(visibility='public')
    assert image['visibility'] == 'public'
    assert client.delete(f"/v2/images/{image['id']}").status_int == 204
