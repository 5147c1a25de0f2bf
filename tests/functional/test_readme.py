"""The client commands of README.md, run as written against the real
glance-api daemon (the README's http://127.0.0.1:9292 replaced by the test
server's URL), so that the README stays true: the test image, the
`openstack` CLI with its flags, with the environment and with the
README's clouds.yaml, and the openstacksdk example.
"""
import hashlib
import os
import re
import shlex
import subprocess
import sys

import pytest
import requests

from tests.helpers import REPO
from tests.helpers import outputs_of

README = os.path.join(REPO, 'README.md')
README_URL = 'http://127.0.0.1:9292'
BIN = os.path.dirname(sys.executable)
OPENSTACK = os.path.join(BIN, 'openstack')
TIMEOUT = 60

pytestmark = pytest.mark.skipif(not os.access(OPENSTACK, os.X_OK),
                                reason='python-openstackclient not installed')


def section(heading):
    """The text of the README section under `heading` (up to the next
    heading)."""
    with open(README) as readme:
        text = readme.read()
    start = text.index(f'\n{heading}\n') + len(heading) + 2
    end = re.compile(r'^#', re.M).search(text, start)
    return text[start:end.start() if end else len(text)]


def code_blocks(heading):
    """The indented code blocks of a section, unindented."""
    blocks, lines = [], []
    for line in section(heading).splitlines() + ['end']:
        if line.startswith('    ') or (lines and not line.strip()):
            lines.append(line[4:])
        elif lines:
            blocks.append('\n'.join(lines).strip() + '\n')
            lines = []
    return blocks


def command_lines(heading, program):
    """The command lines of a section's code blocks that run `program`."""
    return [line.split('  #')[0].strip()
            for block in code_blocks(heading)
            for line in block.splitlines()
            if line.startswith(program + ' ')]


class Shell:
    """Runs README commands in one directory, with one HOME and no OS_*
    variable of the test's environment."""

    def __init__(self, api, directory):
        self.api = api
        self.directory = directory
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith('OS_')}
        self.env['HOME'] = str(directory / 'home')
        self.env['PATH'] = BIN + os.pathsep + self.env.get('PATH', '')

    def start(self, line, env=None):
        args = shlex.split(line.replace(README_URL, self.api.url))
        if args[0] == 'openstack':
            args[0] = OPENSTACK
        return subprocess.Popen(
            args, cwd=self.directory, env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def run_all(self, *commands):
        """The outputs of (line, env) commands run side by side (each
        openstack command takes a second or two to start)."""
        return outputs_of([(line, self.start(line, env))
                           for line, env in commands], TIMEOUT)

    def run(self, line, env=None):
        return self.run_all((line, env))[0]


def images_named(api, name):
    response = requests.get(f'{api.url}/v2/images', params={'name': name},
                            timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()['images']


def test_the_readme_openstack_cli_and_clouds_yaml(glance_api, tmp_path):
    shell = Shell(glance_api, tmp_path)
    truncate, = command_lines('### A test image', 'truncate')
    shell.run(truncate)
    with open(tmp_path / 'disk.raw', 'rb') as disk:
        data = disk.read()
    assert data

    # The flags.
    create, listing = command_lines('### The openstack CLI',
                                    'openstack --os-auth-type')
    assert ' image create ' in create and listing.endswith(' image list')
    shell.run(create)
    image, = images_named(glance_api, 'disk')
    assert (image['status'], image['size'], image['checksum']) == (
        'active', len(data), hashlib.md5(data).hexdigest())

    # The same list, with the environment instead of the flags, and the
    # README's clouds.yaml.
    variables = re.search(r'`(OS_AUTH_TYPE=\S+ OS_ENDPOINT=\S+)`',
                          section('### The openstack CLI')).group(1)
    environment = dict(variable.replace(README_URL, glance_api.url)
                       .split('=', 1) for variable in variables.split())
    clouds, = [block for block in code_blocks('### The openstack CLI')
               if block.startswith('clouds:')]
    config = tmp_path / 'home' / '.config' / 'openstack'
    config.mkdir(parents=True)
    (config / 'clouds.yaml').write_text(
        clouds.replace(README_URL, glance_api.url))
    cloud_listing, save = command_lines('### The openstack CLI',
                                        'openstack --os-cloud')
    assert cloud_listing.endswith(' image list') and ' image save ' in save
    outputs = shell.run_all(
        (listing, None), ('openstack image list', environment),
        (cloud_listing, None), (save, None))

    for output in outputs[:3]:
        assert image['id'] in output
    with open(tmp_path / 'copy.raw', 'rb') as copy:
        assert copy.read() == data

    # openstacksdk, with the same clouds.yaml: it creates a second image
    # of the same name.
    snippet, = code_blocks('### openstacksdk')
    (tmp_path / 'snippet.py').write_text(snippet)
    printed = shell.run(f'{sys.executable} snippet.py')
    second, = [other for other in images_named(glance_api, 'disk')
               if other['id'] != image['id']]
    assert second['checksum'] == hashlib.md5(data).hexdigest()
    assert f'{second["id"]} disk' in printed.splitlines()
