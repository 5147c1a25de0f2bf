"""The multi-store mode (enabled_backends): configuration as upstream's
operators write it, the stores API, uploads to a chosen store, the image's
`stores`, DELETE /v2/stores/{store}/{image} and downloads that fall
through by store weight. Real application, real filesystem stores."""
import json
import os
import stat

import pytest

from glance import store
from glance.common import config
from glance.common import exception
import glance.db
from glance.db import locations as location_db
from tests import helpers
from tests.helpers import TRUSTED_HEADERS_PASTE
from tests.helpers import Client
from tests.helpers import identity_headers


def multistore_config(tmp_path, extra=''):
    return f"""
[DEFAULT]
enabled_backends = fast:file, cheap:file, web:http
show_multiple_locations = true
[glance_store]
default_backend = fast
[fast]
store_description = Fast disks
weight = 10
filesystem_store_datadir = {tmp_path}/fast
[cheap]
weight = 20
filesystem_store_datadir = {tmp_path}/cheap
[os_glance_staging_store]
filesystem_store_datadir = {tmp_path}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {tmp_path}/tasks
{extra}"""


@pytest.fixture
def multistore(tmp_path):
    """multistore(extra='', roles=...) -> a Client of the trusted flavor
    (identity headers) on the multi-store configuration above."""
    paste_file = tmp_path / 'trusted-paste.ini'
    paste_file.write_text(TRUSTED_HEADERS_PASTE)
    apps = []

    def make(extra='', project='p1', roles=('admin', 'member', 'reader')):
        if not apps:
            helpers.configure(tmp_path, multistore_config(tmp_path, extra)
                              + '[paste_deploy]\nflavor = trusted\n'
                              f'config_file = {paste_file}\n')
            apps.append(config.load_paste_app('glance-api'))
        return Client(apps[0], identity_headers(project, roles))
    yield make
    glance.db.reset()


def upload(client, data=b'image data', store_id=None):
    image = client.create_image(name='x')
    headers = {'X-Image-Meta-Store': store_id} if store_id else {}
    response = client.put(f"/v2/images/{image['id']}/file", data,
                          content_type='application/octet-stream',
                          headers=headers)
    assert response.status_int == 204, response.text
    return helpers.show(client, image['id'])


# -- configuration --

def test_the_stores_are_listed_as_upstream_lists_them(multistore):
    client = multistore()
    response = client.get('/v2/info/stores')
    assert response.status_int == 200
    assert response.json == {'stores': [
        {'id': 'fast', 'description': 'Fast disks', 'default': 'true'},
        {'id': 'cheap'},
        {'id': 'web', 'read-only': 'true'}]}


def test_the_detail_shows_types_weights_and_properties(multistore,
                                                       tmp_path):
    client = multistore('[backend_defaults]\n'
                        'filesystem_store_chunk_size = 4096\n'
                        '[cheap]\nfilesystem_store_chunk_size = 8192\n')
    response = client.get('/v2/info/stores/detail')
    assert response.status_int == 200
    assert response.json == {'stores': [
        {'id': 'fast', 'description': 'Fast disks', 'default': 'true',
         'type': 'file', 'weight': 10,
         'properties': {'data_dir': f'{tmp_path}/fast', 'chunk_size': 4096,
                        'thin_provisioning': False}},
        {'id': 'cheap', 'type': 'file', 'weight': 20,
         'properties': {'data_dir': f'{tmp_path}/cheap', 'chunk_size': 8192,
                        'thin_provisioning': False}},
        {'id': 'web', 'read-only': 'true', 'type': 'http', 'weight': 0,
         'properties': {}}]}


@pytest.mark.parametrize('roles, status', [
    (('member', 'reader'), 403), (('service',), 200), (('admin',), 200)])
def test_the_detail_is_for_admins_and_services(multistore, roles, status):
    client = multistore(roles=roles)
    assert client.get('/v2/info/stores').status_int == 200
    response = client.get('/v2/info/stores/detail')
    assert response.status_int == status
    if status == 403:
        assert 'You are not authorized to complete stores_info_detail ' \
            'action.' in response.text


def test_single_store_mode_has_no_stores_api(client):
    for path in ('/v2/info/stores', '/v2/info/stores/detail'):
        response = client.get(path)
        assert response.status_int == 404
        assert 'Multi backend is not supported at this site.' \
            in response.text
    image = helpers.active_image(client)
    response = client.delete(f"/v2/stores/file/{image['id']}")
    assert response.status_int == 404
    assert 'stores' not in helpers.show(client, image['id'])
    assert 'OpenStack-image-store-ids' not in client.post(
        '/v2/images', {'name': 'x'}).headers


def test_the_reserved_stores_are_file_stores_nobody_names(multistore,
                                                         tmp_path):
    client = multistore()
    reserved = store.current_registry().reserved
    assert sorted(reserved) == ['os_glance_staging_store',
                                'os_glance_tasks_store']
    assert reserved['os_glance_staging_store'].datadir == \
        f'{tmp_path}/staging'
    assert (tmp_path / 'tasks').is_dir()
    image = client.create_image(name='x')
    response = client.put(f"/v2/images/{image['id']}/file", b'data',
                          content_type='application/octet-stream',
                          headers={'X-Image-Meta-Store':
                                   'os_glance_staging_store'})
    assert response.status_int == 400
    assert os.listdir(tmp_path / 'staging') == []


def test_reserved_stores_default_under_the_state_path(tmp_path):
    helpers.configure(tmp_path, '[DEFAULT]\nenabled_backends = a:file\n'
                                '[glance_store]\ndefault_backend = a\n')
    reserved = store.current_registry().reserved
    assert reserved['os_glance_tasks_store'].datadir == \
        f'{tmp_path}/state/os_glance_tasks_store'


@pytest.mark.parametrize('settings, message', [
    ('[DEFAULT]\nenabled_backends = os_glance_mine:file\n'
     '[glance_store]\ndefault_backend = os_glance_mine\n',
     "'os_glance_' prefix should not be used in enabled_backends config "
     "option. It is reserved for internal use only."),
    ('[DEFAULT]\nenabled_backends = a:file\n',
     "'default_backend' config option is not set."),
    ('[DEFAULT]\nenabled_backends = a:file\n'
     '[glance_store]\ndefault_backend = b\n',
     'Store for identifier b not found'),
    ('[DEFAULT]\nenabled_backends = a:file, ceph:rbd\n'
     '[glance_store]\ndefault_backend = a\n',
     "Store 'ceph' in enabled_backends has the type 'rbd', which this "
     "service has no driver for (available: file, http, s3, swift)"),
])
def test_start_up_errors_are_upstreams(tmp_path, settings, message):
    with pytest.raises(config.ConfigError) as error:
        helpers.configure(tmp_path, settings)
    assert str(error.value) == message


def test_a_backend_option_falls_back_to_backend_defaults(tmp_path):
    helpers.configure(tmp_path, multistore_config(
        tmp_path, '[backend_defaults]\nfilesystem_store_chunk_size = 512\n'
                  'filesystem_store_direct_io = true\n'
                  '[fast]\nfilesystem_store_chunk_size = 1024\n'))
    registry = store.current_registry()
    assert registry.driver('fast').chunk_size == 1024
    assert registry.driver('cheap').chunk_size == 512
    assert registry.driver('cheap').direct_io is True
    # The reserved ones too.
    assert registry.reserved['os_glance_staging_store'].chunk_size == 512


def test_a_store_whose_configuration_fails_is_read_only(multistore,
                                                        tmp_path):
    (tmp_path / 'not-a-dir').write_bytes(b'')
    client = multistore(f'[cheap]\nfilesystem_store_datadir = '
                        f'{tmp_path}/not-a-dir\n')
    listed = [s['id'] for s in client.get('/v2/info/stores').json['stores']]
    assert listed == ['fast', 'cheap', 'web']
    image = client.create_image(name='x')
    response = client.put(f"/v2/images/{image['id']}/file", b'data',
                          content_type='application/octet-stream',
                          headers={'X-Image-Meta-Store': 'cheap'})
    assert response.status_int == 410
    assert 'Error in store configuration. Adding images to store is ' \
        'disabled.' in response.text
    assert helpers.show(client, image['id'])['status'] == 'queued'
    assert upload(client)['stores'] == 'fast'


def test_a_reload_rebuilds_the_stores(multistore, tmp_path):
    multistore()
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text(conf_file.read_text().replace(
        'default_backend = fast', 'default_backend = cheap'))
    config.reload_config()
    store.create_stores()
    assert store.current_registry().default_backend == 'cheap'


# -- uploads, the image's stores, downloads --

def test_uploads_go_to_the_default_or_the_named_store(multistore, tmp_path):
    client = multistore()
    default = upload(client, b'to fast')
    chosen = upload(client, b'to cheap', store_id='cheap')

    assert default['stores'] == 'fast'
    assert default['locations'] == [
        {'url': f"file://{tmp_path}/fast/{default['id']}",
         'metadata': {'store': 'fast'}}]
    assert chosen['stores'] == 'cheap'
    assert chosen['locations'] == [
        {'url': f"file://{tmp_path}/cheap/{chosen['id']}",
         'metadata': {'store': 'cheap'}}]
    assert (tmp_path / 'cheap' / chosen['id']).read_bytes() == b'to cheap'
    assert helpers.download(client, chosen['id']).body == b'to cheap'


def test_an_unknown_store_is_refused_before_anything(multistore):
    client = multistore()
    image = client.create_image(name='x')
    for image_id in (image['id'], helpers.MISSING_ID):
        response = client.put(f'/v2/images/{image_id}/file', b'data',
                              content_type='application/octet-stream',
                              headers={'X-Image-Meta-Store': 'nope'})
        assert response.status_int == 400
        assert 'Store for identifier nope not found' in response.text
    assert helpers.show(client, image['id'])['status'] == 'queued'


def test_a_read_only_store_refuses_uploads(multistore):
    client = multistore()
    image = client.create_image(name='x')
    response = client.put(f"/v2/images/{image['id']}/file", b'data',
                          content_type='application/octet-stream',
                          headers={'X-Image-Meta-Store': 'web'})
    assert response.status_int == 410


def test_create_names_the_store_ids(multistore):
    client = multistore()
    response = client.post('/v2/images', {'name': 'x'})
    assert response.status_int == 201
    assert response.headers['OpenStack-image-store-ids'] == 'fast,cheap,web'


def add_copy(image, store_id, tmp_path, data):
    """Put the image's data in another store too (as copy-image would)."""
    path = tmp_path / store_id / image['id']
    path.write_bytes(data)
    with glance.db.writing() as session:
        location_db.location_add(session, image['id'], f'file://{path}',
                                 {'store': store_id})
    return path


def test_downloads_read_the_heaviest_store_first_and_fall_through(
        multistore, tmp_path):
    client = multistore()
    image = upload(client, b'fast copy!')  # fast: weight 10
    copy = add_copy(image, 'cheap', tmp_path, b'cheap copy')  # weight 20

    shown = helpers.show(client, image['id'])
    assert shown['stores'] == 'cheap,fast'
    assert helpers.download(client, image['id']).body == b'cheap copy'

    copy.unlink()
    assert helpers.download(client, image['id']).body == b'fast copy!'


def test_locations_without_a_store_get_the_one_they_lie_in(multistore,
                                                          tmp_path):
    client = multistore()
    image = client.create_image(name='x')
    path = tmp_path / 'cheap' / image['id']
    path.write_bytes(b'old data')
    with glance.db.writing() as session:
        location_db.location_add(session, image['id'], f'file://{path}')
        glance.db.images.image_update(session, image['id'],
                                      {'status': 'active', 'size': 8})
    assert helpers.show(client, image['id'])['stores'] == 'cheap'


# -- DELETE /v2/stores/{store_id}/{image_id} --

def test_delete_from_store_removes_one_copy(multistore, tmp_path):
    client = multistore()
    image = upload(client, b'data')
    copy = add_copy(image, 'cheap', tmp_path, b'data')

    response = client.delete(f"/v2/stores/cheap/{image['id']}")

    assert response.status_int == 204
    assert not copy.exists()
    shown = helpers.show(client, image['id'])
    assert shown['stores'] == 'fast'
    assert [loc['metadata']['store'] for loc in shown['locations']] == \
        ['fast']
    assert helpers.download(client, image['id']).body == b'data'


def test_delete_from_store_answers_as_upstream(multistore, tmp_path):
    client = multistore()
    image = upload(client, b'data')

    only = client.delete(f"/v2/stores/fast/{image['id']}")
    assert only.status_int == 403
    assert 'Cannot delete image data from the only store containing it. ' \
        'Consider deleting the image instead.' in only.text
    assert (tmp_path / 'fast' / image['id']).exists()

    unknown = client.delete(f"/v2/stores/nope/{image['id']}")
    assert unknown.status_int == 409
    assert 'The selected store nope is not available on this node.' \
        in unknown.text

    missing = client.delete(f'/v2/stores/fast/{helpers.MISSING_ID}')
    assert missing.status_int == 404
    assert f'Failed to find image {helpers.MISSING_ID}' in missing.text

    add_copy(image, 'cheap', tmp_path, b'data')
    elsewhere = client.delete(f"/v2/stores/web/{image['id']}")
    assert elsewhere.status_int == 404
    assert f"Image {image['id']} is not stored in store web." \
        in elsewhere.text

    queued = client.create_image(name='q')
    not_active = client.delete(f"/v2/stores/fast/{queued['id']}")
    assert not_active.status_int == 409


def test_delete_from_store_is_for_admins(multistore, tmp_path):
    admin = multistore(project='p1')
    member = multistore(project='p1', roles=('member', 'reader'))
    image = upload(member, b'data')
    add_copy(image, 'cheap', tmp_path, b'data')

    response = member.delete(f"/v2/stores/cheap/{image['id']}")
    assert response.status_int == 403
    assert admin.delete(f"/v2/stores/cheap/{image['id']}").status_int == 204


# -- versions --

def test_the_multistore_versions_are_listed_only_with_enabled_backends(
        multistore, client_with):
    ids = [v['id'] for v in multistore().get('/versions').json['versions']]
    assert [v for v in ids if v in ('v2.15', 'v2.13', 'v2.12', 'v2.11',
                                    'v2.10', 'v2.9', 'v2.8', 'v2.7')] == [
        'v2.15', 'v2.12', 'v2.11', 'v2.10', 'v2.9', 'v2.8', 'v2.7']
    assert multistore().get('/v2.10/info/stores').status_int == 200
    # v2.12 (GET /v2/images/{id}/tasks) is listed in this mode only, as
    # upstream lists it.
    single = [v['id'] for v in client_with('').get('/versions').json[
        'versions']]
    assert 'v2.12' not in single


# -- the file driver's options --

def test_datadirs_take_the_highest_priority(tmp_path):
    helpers.configure(tmp_path, f"""
[DEFAULT]
enabled_backends = disks:file
[glance_store]
default_backend = disks
[disks]
filesystem_store_datadirs = {tmp_path}/low:100
filesystem_store_datadirs = {tmp_path}/high:200
filesystem_store_datadirs = {tmp_path}/none
""")
    uri, _size, metadata = store.add_to_backend('img', [b'data'])
    assert uri == f'file://{tmp_path}/high/img'
    assert metadata == {'store': 'disks'}
    for name in ('low', 'high', 'none'):
        assert (tmp_path / name).is_dir()
    # Each directory's files are read and deleted by the same store.
    (tmp_path / 'low' / 'old').write_bytes(b'old')
    assert store.current_registry().backend_of(
        f'file://{tmp_path}/low/old') == 'disks'


def test_datadirs_too_full_pass_to_the_next_priority(tmp_path, monkeypatch):
    helpers.configure(tmp_path, f"""
[glance_store]
filesystem_store_datadir =
filesystem_store_datadirs = {tmp_path}/small:9
filesystem_store_datadirs = {tmp_path}/big:1
""")
    real_statvfs = os.statvfs

    def statvfs(path):
        stats = real_statvfs(path)
        if str(path).endswith('small'):
            return os.statvfs_result((stats.f_bsize, 1, 0, 0, 0, 0, 0, 0, 0,
                                      stats.f_namemax))
        return stats
    monkeypatch.setattr(os, 'statvfs', statvfs)
    uri, _size, _metadata = store.add_to_backend('img', [b'data'], size=4)
    assert uri == f'file://{tmp_path}/big/img'


@pytest.mark.parametrize('settings, message', [
    ('filesystem_store_datadir = {tmp}/one\n'
     'filesystem_store_datadirs = {tmp}/two\n',
     "Specify either 'filesystem_store_datadir' or "
     "'filesystem_store_datadirs' option"),
    ('filesystem_store_datadir =\n',
     "Specify at least 'filesystem_store_datadir' or "
     "'filesystem_store_datadirs' option"),
    ('filesystem_store_file_perm = 240\n',
     "Invalid 'filesystem_store_file_perm' option."),
    ('filesystem_store_metadata_file = {tmp}/meta.json\n',
     'must hold an object, or a list of objects'),
])
def test_file_store_configuration_errors(tmp_path, settings, message):
    (tmp_path / 'meta.json').write_text('[{"id": 1}]')
    with pytest.raises(exception.BadStoreConfiguration, match=message):
        helpers.configure(tmp_path, '[glance_store]\n'
                          + settings.format(tmp=tmp_path))


def test_the_metadata_file_describes_the_locations(tmp_path):
    (tmp_path / 'meta.json').write_text(json.dumps([
        {'id': 'other', 'mountpoint': '/nowhere'},
        {'id': 'nfs-1', 'mountpoint': str(tmp_path / 'disk')}]))
    helpers.configure(tmp_path, multistore_config(
        tmp_path, f'[fast]\nfilesystem_store_datadir = {tmp_path}/disk/x\n'
                  f'filesystem_store_metadata_file = {tmp_path}/meta.json\n'))
    _uri, _size, metadata = store.add_to_backend('img', [b'data'])
    assert metadata == {'id': 'nfs-1', 'mountpoint': str(tmp_path / 'disk'),
                        'store': 'fast'}


def test_file_perm_makes_the_directory_searchable(tmp_path):
    datadir = tmp_path / 'images'
    datadir.mkdir(mode=0o700)
    helpers.configure(tmp_path, f'[glance_store]\nfilesystem_store_datadir'
                                f' = {datadir}\nfilesystem_store_file_perm'
                                ' = 644\n')
    assert stat.S_IMODE(datadir.stat().st_mode) == 0o711
    store.add_to_backend('img', [b'data'])
    assert stat.S_IMODE((datadir / 'img').stat().st_mode) == 0o644
