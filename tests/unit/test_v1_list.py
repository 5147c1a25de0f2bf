"""GET /v1/images and /v1/images/detail: filters, sorting, paging,
changes-since, and what each caller is shown."""
import datetime

import pytest

from tests.helpers import UNKNOWN_ID
from tests.helpers import create
from tests.helpers import listed_ids
from tests.helpers import update

INDEX_FIELDS = ['id', 'name', 'size', 'disk_format', 'container_format',
                'checksum']
# The default-flavor admin sees only public images unless it asks for more.
ALL = '?is_public=none'


def ids(*images):
    return [image['id'] for image in images]


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S')


def utcnow():
    # Not datetime.UTC: that is Python 3.11+, and 3.10 is supported.
    now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017
    return now.replace(tzinfo=None)


@pytest.fixture
def three(client):
    """Three public images, created a, b, c (newest last)."""
    return [create(client, b'x' * size, name=name, is_public='true',
                   disk_format=disk_format, min_ram=min_ram,
                   properties={'distro': distro})
            for name, size, disk_format, min_ram, distro in (
                ('b-image', 10, 'raw', 0, 'ubuntu'),
                ('c-image', 30, 'ploop', 512, 'fedora'),
                ('a-image', 20, 'raw', 1024, 'ubuntu'))]


# --- shapes ------------------------------------------------------------------

def test_empty_lists(client):
    for url in ('/v1/images', '/v1/images/detail'):
        response = client.get(url)
        assert response.status_int == 200
        assert response.content_type == 'application/json'
        assert response.body == b'{"images": []}'


def test_index_shows_the_summary_fields_in_upstream_order(client, three):
    [first, *_] = client.get('/v1/images').json['images']
    assert list(first) == INDEX_FIELDS
    assert first == {field: three[2][field] for field in INDEX_FIELDS}


def test_detail_shows_the_whole_images(client, three):
    detail = client.get('/v1/images/detail').json['images']
    assert detail == list(reversed(three))
    assert [image['properties'] for image in detail] == [
        {'distro': 'ubuntu'}, {'distro': 'fedora'}, {'distro': 'ubuntu'}]
    assert {image['is_public'] for image in detail} == {True}


# --- sorting and paging ------------------------------------------------------

def test_default_order_is_newest_first(client, three):
    assert listed_ids(client) == ids(*reversed(three))
    assert listed_ids(client, path='/v1/images') == ids(*reversed(three))


@pytest.mark.parametrize('query, order', [
    ('?sort_key=name&sort_dir=asc', [2, 0, 1]),
    ('?sort_key=name', [1, 0, 2]),
    ('?sort_key=size&sort_dir=asc', [0, 2, 1]),
    ('?sort_dir=asc', [0, 1, 2]),
    # Ties are broken by created_at in the same direction.
    ('?sort_key=disk_format&sort_dir=asc', [1, 0, 2]),
    ('?sort_key=disk_format', [2, 0, 1]),
])
def test_sorting(client, three, query, order):
    assert listed_ids(client, query) == ids(*[three[i] for i in order])


@pytest.mark.parametrize('query, message', [
    ('?sort_key=owner', 'Unsupported sort_key. Acceptable values: name, '
                        'status, container_format, disk_format, size, id, '
                        'created_at, updated_at'),
    ('?sort_dir=up', 'Unsupported sort_dir. Acceptable values: asc, desc'),
    ('?limit=x', 'limit param must be an integer'),
    ('?limit=-1', 'limit param must be positive'),
    ('?marker=not-an-id', 'Invalid marker format'),
    ('?marker=' + UNKNOWN_ID, 'Invalid marker. Image could not be found.'),
    ('?size_min=x', 'Bad value passed to filter size_min got x'),
    ('?size_max=-1', 'Bad value passed to filter size_max got -1'),
    ('?min_ram=big', 'Bad value passed to filter min_ram got big'),
    ('?protected=maybe', 'Bad value passed to filter protected got maybe'),
    ('?protected=none', 'protected must be True, or False'),
    ('?is_public=maybe', 'Bad value passed to filter is_public got maybe'),
    ('?changes-since=yesterday', 'Unrecognized changes-since value'),
    ('?changes-since=', 'Unrecognized changes-since value'),
    ('?name=like:a', "Unable to filter by unknown operator 'like'."),
])
@pytest.mark.parametrize('url', ['/v1/images', '/v1/images/detail'])
def test_bad_queries_are_refused(client, url, query, message):
    response = client.get(url + query)
    assert response.status_int == 400
    assert message in response.text


def test_paging_with_limit_and_marker(client, three):
    newest_first = ids(*reversed(three))

    assert listed_ids(client, '?limit=2') == newest_first[:2]
    assert listed_ids(client, '?limit=2&marker=%s' % newest_first[1]) \
        == newest_first[2:]
    assert listed_ids(client, '?limit=0') == []
    assert listed_ids(client, '?sort_key=name&sort_dir=asc&limit=1&marker='
                              '%s' % three[2]['id']) == ids(three[0])


def test_page_size_has_a_default_and_a_maximum(client_with):
    client = client_with('[DEFAULT]\nlimit_param_default = 2\n'
                         'api_limit_max = 3\n')
    for number in range(4):
        create(client, name=str(number), is_public='true')
    assert len(listed_ids(client)) == 2
    assert len(listed_ids(client, '?limit=100')) == 3


# --- filters -----------------------------------------------------------------

@pytest.mark.parametrize('query, expected', [
    ('?name=a-image', [2]),
    ('?name=in:a-image,b-image', [2, 0]),
    ('?name=in:"a-image",nothing', [2]),
    ('?name=eq:c-image', [1]),
    ('?status=in:queued,active', [2, 1, 0]),
    ('?disk_format=raw', [2, 0]),
    ('?container_format=bare', [2, 1, 0]),
    ('?container_format=ovf', []),
    ('?status=active', [2, 1, 0]),
    ('?status=queued', []),
    ('?min_ram=512', [1]),
    ('?size_min=20', [2, 1]),
    ('?size_max=20', [2, 0]),
    ('?size_min=15&size_max=25', [2]),
    ('?property-distro=ubuntu', [2, 0]),
    ('?property-distro=ubuntu&min_ram=1024', [2]),
    ('?property-distro=debian', []),
    ('?property-nothing=x', []),
    ('?protected=false', [2, 1, 0]),
    ('?protected=True', []),
    ('?unknown=ignored', [2, 1, 0]),
])
def test_filters(client, three, query, expected):
    assert listed_ids(client, query) == ids(*[three[i] for i in expected])
    assert listed_ids(client, query, path='/v1/images') == ids(
        *[three[i] for i in expected])


def test_protected_filter(client, three):
    update(client, three[1]['id'], protected='true',
           headers={'x-glance-registry-purge-props': 'false'})
    assert listed_ids(client, '?protected=1') == ids(three[1])
    assert listed_ids(client, '?protected=0') == ids(three[2], three[0])


def test_min_disk_filter(client):
    small = create(client, min_disk=1, is_public='true')
    create(client, min_disk=2, is_public='true')
    assert listed_ids(client, '?min_disk=1') == ids(small)


# --- changes-since -----------------------------------------------------------

def test_changes_since_lists_deleted_and_killed_images(client, three):
    before = utcnow() - datetime.timedelta(seconds=2)
    client.delete('/v1/images/%s' % three[0]['id'])
    killed = create(client, b'data', size=5, is_public='true', status=400)
    assert killed.status_int == 400

    assert listed_ids(client) == ids(three[2], three[1])
    since = client.get('/v1/images/detail?changes-since=%s' % iso(before))
    listed = since.json['images']
    assert [i['status'] for i in listed] == ['killed', 'active', 'active',
                                             'deleted']
    deleted = listed[-1]
    assert (deleted['id'], deleted['deleted']) == (three[0]['id'], True)
    assert deleted['deleted_at'] is not None


def test_changes_since_excludes_older_changes(client, three):
    later = utcnow() + datetime.timedelta(hours=1)
    assert listed_ids(client, '?changes-since=%s' % iso(later)) == []

    earlier = utcnow() - datetime.timedelta(days=1)
    assert listed_ids(client, '?changes-since=%s' % iso(earlier)) == ids(
        *reversed(three))
    # A date alone, and a time with an offset, are times too.
    assert listed_ids(client, '?changes-since=%s' % earlier.strftime(
        '%Y-%m-%d')) == ids(*reversed(three))
    offset = (utcnow() + datetime.timedelta(minutes=30)).strftime(
        '%Y-%m-%dT%H:%M:%S') + '%2B01:00'
    assert listed_ids(client, '?changes-since=' + offset) == ids(
        *reversed(three))


def test_changes_since_sees_an_update(client, three):
    moment = utcnow()
    update(client, three[0]['id'], name='renamed',
           headers={'x-glance-registry-purge-props': 'false'})
    assert listed_ids(client, '?changes-since=%s.%06d' % (
        iso(moment), moment.microsecond)) == ids(three[0])


# --- who sees what -----------------------------------------------------------

@pytest.fixture
def world(admin, owner, friend):
    """Images of several projects and visibilities."""
    images = {
        'public': create(admin, is_public='true', owner='other-project'),
        'owned': create(owner, name='owned'),
        'shared-pending': create(admin, owner='other-project'),
        'shared-accepted': create(admin, owner='other-project'),
        'private': create(admin, owner='other-project'),
        'community': create(admin, owner='other-project'),
        'own-community': create(owner),
        'admins': create(admin),
    }
    for name in ('shared-pending', 'shared-accepted'):
        response = admin.post('/v2/images/%s/members' % images[name]['id'],
                              {'member': 'owner-project'})
        assert response.status_int == 200, response.text
    response = owner.put('/v2/images/%s/members/owner-project'
                         % images['shared-accepted']['id'],
                         {'status': 'accepted'})
    assert response.status_int == 200, response.text
    for name, visibility in (('private', 'private'),
                             ('community', 'community'),
                             ('own-community', 'community')):
        response = admin.patch('/v2/images/%s' % images[name]['id'], [
            {'op': 'replace', 'path': '/visibility', 'value': visibility}])
        assert response.status_int == 200, response.text
    return images


@pytest.fixture
def seen(world):
    """seen(client, query) -> the sorted names of the world's images the
    client lists."""
    def names(client, query=''):
        listed = listed_ids(client, query)
        return sorted(name for name, image in world.items()
                      if image['id'] in listed)
    return names


def test_a_project_sees_public_own_and_shared_of_any_status(owner, seen):
    expected = ['own-community', 'owned', 'public', 'shared-accepted',
                'shared-pending']
    assert seen(owner) == expected
    # is_public means nothing for a project.
    assert seen(owner, '?is_public=false') == expected
    assert seen(owner, '?is_public=none') == expected


def test_another_project_sees_public_images_only(stranger, seen):
    assert seen(stranger) == ['public']


def test_an_admin_sees_as_its_project_by_default(admin, seen):
    assert seen(admin) == ['admins', 'public']
    assert seen(admin, '?is_public=true') == ['admins', 'public']
    assert seen(admin, '?is_public=1') == ['admins', 'public']


def test_an_admin_asks_for_the_others_with_is_public(admin, seen):
    assert seen(admin, '?is_public=false') == [
        'admins', 'owned', 'private', 'shared-accepted', 'shared-pending']
    assert seen(admin, '?is_public=none') == [
        'admins', 'owned', 'private', 'public', 'shared-accepted',
        'shared-pending']
    assert seen(admin, '?is_public=None') == seen(admin, '?is_public=none')


def test_the_no_auth_admin_sees_public_images_by_default(client):
    public = create(client, is_public='true')
    hidden = create(client)
    assert listed_ids(client) == ids(public)
    assert listed_ids(client, ALL) == ids(hidden, public)
    assert listed_ids(client, '?is_public=false') == ids(hidden)
