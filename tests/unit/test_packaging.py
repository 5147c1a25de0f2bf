"""What a non-editable install ships: every module of the package."""
import os
import shutil
import subprocess
import sys
import zipfile

import glance

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(glance.__file__)))


def test_the_wheel_holds_every_module_and_migration(tmp_path):
    # A clean copy: a build/ directory left by an earlier build would hide
    # what setup.cfg really selects.
    tree = tmp_path / 'source'
    shutil.copytree(SOURCE, tree, ignore=shutil.ignore_patterns(
        'build', '*.egg-info', '.venv', '.git', '__pycache__', '.tox'))
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q',
         '-w', str(tmp_path), str(tree)],
        check=True, capture_output=True)
    wheel, = tmp_path.glob('glance-*.whl')
    shipped = set(zipfile.ZipFile(wheel).namelist())
    sources = set()
    for directory, _, files in os.walk(tree / 'glance'):
        for name in files:
            if name.endswith(('.py', '.mako')):
                sources.add(os.path.relpath(os.path.join(directory, name),
                                            tree))
    assert sources - shipped == set()
