"""Format inspection against the real glance-api daemon, with disk images
that qemu-img (Debian's qemu-utils, which .ci/run installs) builds here:
what each is, its virtual_size, and the malicious ones refused with 415,
the image queued again and nothing left in the store. Uploaded with
requests, curl and the `glance` CLI."""
import json
import os
import shutil
import subprocess

import pytest
import requests

from tests.helpers import GLANCE
from tests.helpers import Glance
from tests.helpers import create_image
from tests.helpers import get_json
from tests.helpers import gpt_disk
from tests.helpers import iso_image

QEMU_IMG = shutil.which('qemu-img')
TIMEOUT = 60
MiB = 2 ** 20

pytestmark = pytest.mark.skipif(QEMU_IMG is None,
                                reason='qemu-img (qemu-utils) not installed')


def qemu_img(*args):
    subprocess.run([QEMU_IMG, *args], check=True, capture_output=True,
                   timeout=TIMEOUT)


def qemu_virtual_size(path, fmt):
    out = subprocess.run([QEMU_IMG, 'info', '-f', fmt, '--output=json',
                          path], check=True, capture_output=True,
                         timeout=TIMEOUT).stdout
    return json.loads(out)['virtual-size']


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """{name: path} of the images, built once for the module."""
    directory = tmp_path_factory.mktemp('images')

    def path(name):
        return str(directory / name)
    with open(path('disk.raw'), 'wb') as raw:
        raw.write(os.urandom(3 * MiB))
    qemu_img('create', '-f', 'qcow2', path('plain.qcow2'), '64M')
    qemu_img('create', '-f', 'qcow2', '-b', path('disk.raw'), '-F', 'raw',
             path('backing.qcow2'))
    qemu_img('create', '-f', 'qcow2', '-o',
             'data_file=' + path('data-file.raw'), path('data-file.qcow2'),
             '64M')
    for subformat in ('monolithicSparse', 'streamOptimized',
                      'monolithicFlat'):
        qemu_img('create', '-f', 'vmdk', '-o', 'subformat=' + subformat,
                 path(subformat + '.vmdk'), '64M')
    # A sparse VMDK whose extent is another file on the host.
    with open(path('monolithicSparse.vmdk'), 'rb') as sparse:
        data = sparse.read()
    assert b'"monolithicSparse.vmdk"' in data
    with open(path('escaping.vmdk'), 'wb') as escaping:
        # (a path as long as the name: the layout stays the same)
        escaping.write(data.replace(b'"monolithicSparse.vmdk"',
                                    b'"/var/lib/glance/x.img"'))
    qemu_img('create', '-f', 'vpc', path('disk.vhd'), '64M')
    qemu_img('create', '-f', 'vhdx', path('disk.vhdx'), '64M')
    qemu_img('create', '-f', 'vdi', path('disk.vdi'), '64M')
    # qemu-img writes neither of these: built from their specifications.
    with open(path('disk.iso'), 'wb') as iso:
        iso.write(iso_image(blocks=512))
    with open(path('gpt.raw'), 'wb') as gpt:
        gpt.write(gpt_disk(size=MiB))
    with open(path('bad-mbr.raw'), 'wb') as gpt:
        gpt.write(gpt_disk(size=MiB, boot_flag=0x7f))
    return path


# An image of each disk_format that passes.
GOOD = {'qcow2': 'plain.qcow2', 'vmdk': 'monolithicSparse.vmdk',
        'raw': 'disk.raw'}


def stored(api):
    directory = os.path.join(api.state_path, 'images')
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def put_file(api, image_id, path):
    with open(path, 'rb') as data:
        return requests.put(
            f'{api.url}/v2/images/{image_id}/file', data=data,
            headers={'Content-Type': 'application/octet-stream'},
            timeout=TIMEOUT)


@pytest.mark.parametrize('name, disk_format, qemu_format', [
    ('plain.qcow2', 'qcow2', 'qcow2'),
    ('monolithicSparse.vmdk', 'vmdk', 'vmdk'),
    ('streamOptimized.vmdk', 'vmdk', 'vmdk'),
    ('disk.vhd', 'vhd', 'vpc'),
    ('disk.vhdx', 'vhdx', 'vhdx'),
    ('disk.vdi', 'vdi', 'vdi'),
    ('disk.raw', 'raw', 'raw'),
])
def test_virtual_size_is_what_qemu_img_says(glance_api, images, name,
                                            disk_format, qemu_format):
    image = create_image(glance_api, disk_format=disk_format)
    response = put_file(glance_api, image['id'], images(name))
    assert response.status_code == 204, response.text
    shown = get_json(glance_api, f'/v2/images/{image["id"]}')
    assert shown['status'] == 'active'
    assert shown['size'] == os.path.getsize(images(name))
    assert shown['virtual_size'] == qemu_virtual_size(images(name),
                                                      qemu_format)


@pytest.mark.parametrize('name, disk_format, virtual_size', [
    ('disk.iso', 'iso', 512 * 2048),
    ('gpt.raw', 'raw', MiB),
])
def test_virtual_size_of_iso_and_gpt(glance_api, images, name, disk_format,
                                     virtual_size):
    image = create_image(glance_api, disk_format=disk_format)
    assert put_file(glance_api, image['id'], images(name)).status_code == 204
    shown = get_json(glance_api, f'/v2/images/{image["id"]}')
    assert (shown['status'], shown['virtual_size']) == ('active',
                                                        virtual_size)


@pytest.mark.parametrize('name, disk_format, reason', [
    ('disk.raw', 'qcow2',
     'Image disk_format qcow2 does not match stream data raw'),
    ('plain.qcow2', 'vmdk',
     'Image disk_format vmdk does not match stream data qcow2'),
    ('backing.qcow2', 'qcow2',
     'Image failed safety checks (backing_file: Image has a backing file)'),
    ('backing.qcow2', 'raw',
     'Image failed safety checks (backing_file: Image has a backing file)'),
    ('data-file.qcow2', 'qcow2',
     'Image failed safety checks (data_file: Image has data_file set)'),
    ('monolithicFlat.vmdk', 'vmdk',
     'Image failed safety checks (descriptor: Unsupported subformat)'),
    ('escaping.vmdk', 'vmdk',
     'Image failed safety checks (descriptor: Invalid extent filenames '
     'found)'),
    ('bad-mbr.raw', 'raw',
     'Image failed safety checks (mbr: MBR PTE 0 has invalid boot flag)'),
])
def test_malicious_or_mislabelled_images_are_refused(glance_api, images,
                                                     name, disk_format,
                                                     reason):
    before = stored(glance_api)
    image = create_image(glance_api, disk_format=disk_format)
    response = put_file(glance_api, image['id'], images(name))
    assert response.status_code == 415, response.text
    assert reason in response.text
    shown = get_json(glance_api, f'/v2/images/{image["id"]}')
    assert shown['status'] == 'queued'
    assert (shown['size'], shown['virtual_size']) == (None, None)
    assert stored(glance_api) == before
    # Queued again: the right data is taken afterwards.
    assert put_file(glance_api, image['id'],
                    images(GOOD[disk_format])).status_code == 204


@pytest.mark.skipif(shutil.which('curl') is None, reason='no curl')
def test_curl_sees_the_reason(glance_api, images):
    image = create_image(glance_api, disk_format='qcow2')
    result = subprocess.run(
        ['curl', '-sS', '-X', 'PUT', '-H',
         'Content-Type: application/octet-stream', '-T',
         images('data-file.qcow2'), '-w', '\n%{http_code}',
         f'{glance_api.url}/v2/images/{image["id"]}/file'],
        capture_output=True, text=True, timeout=TIMEOUT, check=True)
    body, _, status = result.stdout.rpartition('\n')
    assert status == '415'
    assert 'Image failed safety checks (data_file: Image has data_file ' \
           'set)' in body


@pytest.mark.skipif(not os.access(GLANCE, os.X_OK),
                    reason='python-glanceclient not installed')
def test_the_glance_cli_upload(glance_api, images, tmp_path):
    glance = Glance(glance_api, tmp_path / 'home')
    created = glance.show('image-create', '--name', 'plain', '--disk-format',
                          'qcow2', '--container-format', 'bare', '--file',
                          images('plain.qcow2'))
    assert created['status'] == 'active'
    assert created['virtual_size'] == str(64 * MiB)

    before = stored(glance_api)
    refused = glance.run('image-create', '--name', 'evil', '--disk-format',
                         'qcow2', '--container-format', 'bare', '--file',
                         images('backing.qcow2'), check=False)
    assert refused.returncode != 0
    assert '415' in refused.stderr
    assert 'Image failed safety checks (backing_file: Image has a backing ' \
           'file)' in refused.stderr
    assert stored(glance_api) == before
    [evil] = [row for row in get_json(glance_api, '/v2/images')['images']
              if row['name'] == 'evil']
    assert evil['status'] == 'queued'


def test_v1_upload_is_inspected(glance_api, images):
    with open(images('monolithicFlat.vmdk'), 'rb') as data:
        response = requests.post(
            f'{glance_api.url}/v1/images', data=data, timeout=TIMEOUT,
            headers={'Content-Type': 'application/octet-stream',
                     'x-image-meta-name': 'flat',
                     'x-image-meta-disk_format': 'vmdk',
                     'x-image-meta-container_format': 'bare'})
    assert response.status_code == 415, response.text
    assert 'descriptor: Unsupported subformat' in response.text
    with open(images('plain.qcow2'), 'rb') as data:
        response = requests.post(
            f'{glance_api.url}/v1/images', data=data, timeout=TIMEOUT,
            headers={'Content-Type': 'application/octet-stream',
                     'x-image-meta-name': 'plain',
                     'x-image-meta-disk_format': 'qcow2',
                     'x-image-meta-container_format': 'bare'})
    assert response.status_code == 201, response.text
    assert response.json()['image']['virtual_size'] == 64 * MiB
