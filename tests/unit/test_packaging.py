"""What an install ships: every module of the package, and the extras
that bring the database drivers."""
import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile

from packaging.requirements import Requirement
import pytest
import sqlalchemy

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


def extras_requirements():
    """{extra: {project name: requirement}} of the installed glance
    distribution's metadata, a self-reference (glance[a,b]) expanded."""
    distribution = importlib.metadata.distribution('glance')
    requirements = [Requirement(line) for line in distribution.requires]
    extras = {}
    for extra in distribution.metadata.get_all('Provides-Extra'):
        for requirement in requirements:
            if requirement.marker and requirement.marker.evaluate(
                    {'extra': extra}):
                extras.setdefault(extra, {})[requirement.name.lower()] = (
                    requirement)
    for named in extras.values():
        for name, requirement in list(named.items()):
            if name == 'glance':
                del named[name]
                for included in requirement.extras:
                    named.update(extras[included])
    return extras


@pytest.mark.parametrize('extra, project, url', [
    ('postgresql', 'psycopg2-binary', 'postgresql+psycopg2://u@h/db'),
    ('mysql', 'pymysql', 'mysql+pymysql://u@h/db'),
])
def test_an_extra_brings_the_driver_of_its_database(extra, project, url):
    extras = extras_requirements()
    assert project in extras.get(extra, {}), (
        f"pip install '.[{extra}]' does not install {project}: "
        f'{extras.get(extra)}')
    # The test extra brings it too, so that CI runs the database tests.
    assert project in extras['test']
    # And it is the driver the documented connection URL loads (installed
    # here by the test extra); create_engine imports it, connects not.
    dbapi = sqlalchemy.create_engine(url).dialect.dbapi
    provided = importlib.metadata.packages_distributions()
    assert project in [name.lower() for name in
                       provided[dbapi.__name__.split('.')[0]]]
