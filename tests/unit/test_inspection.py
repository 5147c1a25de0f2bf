"""Format inspection of uploaded data: upstream's match and safety rules
(glance.images.inspection), through PUT /v2/images/{id}/file and v1."""
import hashlib

import pytest

import glance.db
from glance.db import images as image_db
from glance.images import inspection
from tests.helpers import IMAGE_DATA
from tests.helpers import create
from tests.helpers import file_path
from tests.helpers import gpt_disk
from tests.helpers import iso_image
from tests.helpers import qcow2_image
from tests.helpers import show
from tests.helpers import vmdk_descriptor

GiB = 2 ** 30


def upload(client, data, **values):
    image = client.create_image(**values)
    response = client.upload(image['id'], data)
    return image['id'], response


def assert_accepted(client, data, virtual_size, **values):
    image_id, response = upload(client, data, **values)
    assert response.status_int == 204, response.text
    image = show(client, image_id)
    assert image['status'] == 'active'
    assert image['size'] == len(data)
    assert image['virtual_size'] == virtual_size
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    return image


def assert_refused(client, stored_files, data, reason, **values):
    image_id, response = upload(client, data, **values)
    assert response.status_int == 415, response.text
    assert reason in response.text
    image = show(client, image_id)
    assert image['status'] == 'queued'
    assert (image['size'], image['virtual_size'], image['checksum']) == (
        None, None, None)
    assert stored_files() == []
    # Nothing left behind either: the image takes good data afterwards.
    assert client.get(file_path(image_id)).status_int == 204
    return image_id


@pytest.fixture
def option(client):
    """option(name, value): one [image_format] option for one test."""
    from glance.common.config import CONF
    names = []

    def set_option(name, value):
        CONF.set_override(name, value, group='image_format')
        names.append(name)
    yield set_option
    for name in names:
        CONF.clear_override(name, group='image_format')


# --- what matches: virtual_size from the inspector ---------------------------

@pytest.mark.parametrize('version', [2, 3])
def test_qcow2_virtual_size_is_the_header_size(client, version):
    assert_accepted(client, qcow2_image(GiB, version=version), GiB,
                    disk_format='qcow2')


def test_iso_virtual_size_is_the_volume_size(client):
    assert_accepted(client, iso_image(blocks=40), 40 * 2048,
                    disk_format='iso')


def test_raw_virtual_size_is_the_size(client):
    assert_accepted(client, IMAGE_DATA, len(IMAGE_DATA), disk_format='raw')


def test_a_gpt_disk_declared_raw_is_accepted_with_its_size(client):
    data = gpt_disk(size=131072)
    assert_accepted(client, data, len(data), disk_format='raw')


def test_a_qcow2_declared_raw_is_taken_as_raw_bytes(client):
    # The detected format's safety checks still pass; the size is the
    # bytes', not the qcow2 header's.
    data = qcow2_image(GiB)
    assert_accepted(client, data, len(data), disk_format='raw')


def test_a_bootable_iso_with_a_gpt_in_front_is_an_iso(client):
    data = bytearray(iso_image(blocks=40))
    data[:512] = gpt_disk(size=512)
    assert_accepted(client, bytes(data), 40 * 2048, disk_format='iso')


@pytest.mark.parametrize('disk_format', ['ami', 'aki', 'ari', 'ploop'])
def test_formats_without_inspector_take_raw_data_without_virtual_size(
        client, disk_format):
    assert_accepted(client, IMAGE_DATA, None, disk_format=disk_format)


@pytest.mark.parametrize('container_format', ['ovf', 'ova', 'docker',
                                              'compressed', 'ami'])
def test_data_in_other_containers_is_not_inspected(client, container_format):
    # As upstream: only a bare container's data starts with the disk.
    assert_accepted(client, qcow2_image(GiB, backing_file='/etc/shadow'),
                    None, disk_format='qcow2',
                    container_format=container_format)


# --- refused: 415, the image queued again, nothing stored --------------------

def test_data_that_is_not_its_disk_format_is_refused(client, stored_files):
    assert_refused(client, stored_files, IMAGE_DATA,
                   'Image disk_format qcow2 does not match stream data raw',
                   disk_format='qcow2')


def test_a_qcow2_declared_vmdk_is_refused(client, stored_files):
    assert_refused(client, stored_files, qcow2_image(GiB),
                   'Image disk_format vmdk does not match stream data qcow2',
                   disk_format='vmdk')


def test_a_qcow2_with_a_backing_file_is_refused(client, stored_files):
    assert_refused(client, stored_files,
                   qcow2_image(GiB, backing_file='/etc/shadow'),
                   'Image failed safety checks (backing_file: Image has a '
                   'backing file)', disk_format='qcow2')


def test_a_qcow2_with_a_data_file_is_refused(client, stored_files):
    assert_refused(client, stored_files, qcow2_image(GiB, data_file=True),
                   'Image failed safety checks (data_file: Image has '
                   'data_file set)', disk_format='qcow2')


def test_a_qcow2_with_a_backing_file_declared_raw_is_refused(
        client, stored_files):
    # Raw bytes or not, a hypervisor may still read the header.
    assert_refused(client, stored_files,
                   qcow2_image(GiB, backing_file='/etc/shadow'),
                   'Image failed safety checks (backing_file:',
                   disk_format='raw')


def test_an_unknown_qcow2_version_is_refused(client, stored_files):
    assert_refused(client, stored_files, qcow2_image(GiB, version=4),
                   'unknown_features: Unsupported qcow2 version',
                   disk_format='qcow2')


def test_a_flat_vmdk_descriptor_is_refused(client, stored_files):
    assert_refused(client, stored_files, vmdk_descriptor('monolithicFlat'),
                   'Image failed safety checks (descriptor: Unsupported '
                   'subformat)', disk_format='vmdk')


@pytest.mark.parametrize('create_type', ['vmfs', 'twoGbMaxExtentFlat',
                                         'fullDevice'])
def test_vmdk_descriptors_of_other_create_types_are_refused(
        client, stored_files, create_type):
    assert_refused(client, stored_files, vmdk_descriptor(create_type),
                   'descriptor: Unsupported subformat', disk_format='vmdk')


def test_a_sparse_vmdk_descriptor_alone_fails_inspection(
        client, stored_files):
    # A descriptor naming a sparse type, without the sparse header: the
    # inspector cannot size it.
    assert_refused(client, stored_files,
                   vmdk_descriptor('monolithicSparse', 'disk.vmdk'),
                   'Image format inspection failed', disk_format='vmdk')


@pytest.mark.parametrize('disk', [dict(boot_flag=0x12),
                                  dict(extra_partition=True)])
def test_a_gpt_disk_with_a_bad_mbr_is_refused(client, stored_files, disk):
    assert_refused(client, stored_files, gpt_disk(**disk),
                   'Image failed safety checks (mbr: ', disk_format='raw')


def test_two_formats_at_once_are_refused(client, stored_files):
    # An ISO whose first sector is a qcow2 header: which is it?
    data = bytearray(iso_image(blocks=40))
    data[:512] = qcow2_image(GiB, size=512)
    assert_refused(client, stored_files, bytes(data),
                   'Multiple formats detected: ', disk_format='iso')


def test_a_qed_image_is_refused(client, stored_files):
    data = b'QED\0'.ljust(65536, b'\0')
    assert_refused(client, stored_files, data,
                   'does not match stream data qed', disk_format='qcow2')


# --- the options ------------------------------------------------------------

def test_without_require_image_format_match_a_mismatch_passes(client,
                                                              option):
    option('require_image_format_match', False)
    assert_accepted(client, IMAGE_DATA, None, disk_format='qcow2')


def test_without_require_image_format_match_safety_still_refuses(
        client, stored_files, option):
    option('require_image_format_match', False)
    assert_refused(client, stored_files, qcow2_image(GiB, data_file=True),
                   'Image failed safety checks', disk_format='qcow2')


def test_gpt_safety_checks_nonfatal_lets_a_bad_mbr_pass(client, option):
    option('gpt_safety_checks_nonfatal', ['mbr'])
    data = gpt_disk(boot_flag=0x12)
    assert_accepted(client, data, len(data), disk_format='raw')


def test_gpt_safety_checks_nonfatal_is_only_for_gpt(client, stored_files,
                                                    option):
    option('gpt_safety_checks_nonfatal', ['backing_file'])
    assert_refused(client, stored_files,
                   qcow2_image(GiB, backing_file='/etc/shadow'),
                   'backing_file: Image has a backing file',
                   disk_format='qcow2')


@pytest.mark.parametrize('disk_format', ['aki', 'ari', 'ami'])
def test_a_kernel_that_looks_like_a_gpt_disk_is_a_mismatch(
        client, stored_files, disk_format):
    # As upstream: data recognised as a disk is not a kernel, ramdisk or
    # machine image (its MBR is not even checked).
    assert_refused(client, stored_files, gpt_disk(boot_flag=0x12),
                   'Image disk_format %s does not match stream data gpt'
                   % disk_format, disk_format=disk_format)


def test_a_kernel_that_looks_like_a_gpt_disk_passes_without_the_match(
        client, option):
    option('require_image_format_match', False)
    assert_accepted(client, gpt_disk(boot_flag=0x12), None,
                    disk_format='aki')


# --- v1 -------------------------------------------------------------------

def test_v1_refuses_a_qcow2_with_a_backing_file(client, stored_files):
    response = client.post('/v1/images', qcow2_image(GiB, backing_file='x'),
                           headers={'x-image-meta-name': 'evil',
                                    'x-image-meta-disk_format': 'qcow2',
                                    'x-image-meta-container_format': 'bare'},
                           content_type='application/octet-stream')
    assert response.status_int == 415, response.text
    assert 'backing_file: Image has a backing file' in response.text
    assert stored_files() == []
    # As the classic API leaves any failed upload.
    with glance.db.reading() as session:
        [image] = image_db.image_list(session, None, True,
                                      include_deleted=True)
    assert (image['name'], image['status']) == ('evil', 'killed')


def test_v1_sets_the_virtual_size(client):
    image = create(client, qcow2_image(GiB), disk_format='qcow2')
    assert image['virtual_size'] == GiB


# --- the inspection itself ---------------------------------------------------

def chunks_of(data, size):
    return [data[start:start + size] for start in range(0, len(data), size)]


@pytest.mark.parametrize('disk_format, data', [
    ('raw', IMAGE_DATA * 8192),            # 8 MiB
    ('raw', gpt_disk(size=8 * 2 ** 20)),   # a GPT disk taken as raw
])
def test_inspectors_stop_once_decided_but_the_size_is_all_the_bytes(
        disk_format, data):
    checked = inspection.Inspection(disk_format)
    passed = b''.join(checked.wrap(chunks_of(data, 65536)))
    assert passed == data
    # Fed only until every inspector had decided...
    assert checked.wrapper.format.actual_size < len(data)
    # ...the virtual size is still that of all the data.
    assert checked.verdict() == len(data)


def test_a_qcow2_in_one_chunk_or_many_is_sized_alike():
    data = qcow2_image(GiB, size=2 ** 20)
    for size in (len(data), 65536, 512, 7):
        checked = inspection.Inspection('qcow2')
        assert b''.join(checked.wrap(chunks_of(data, size))) == data
        assert checked.verdict() == GiB
