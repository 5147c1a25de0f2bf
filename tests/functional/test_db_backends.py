"""The database layer against real database servers.

SQLite (a temporary file) always runs. PostgreSQL and MySQL/MariaDB run
when these environment variables name a server on which the user may
create databases:

    GLANCE_TEST_POSTGRESQL_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/test
    GLANCE_TEST_MYSQL_URL=mysql+pymysql://root@127.0.0.1:3306/test

The database named in the URL is only used to connect: the tests create
uniquely named databases of their own (one per backend for this module,
plus an empty one for each migration test) and drop them afterwards, so
parallel runs and reruns never meet. The SQLite tests use temporary files.
"""
import contextlib
import datetime
import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

from alembic import autogenerate
from alembic import migration as alembic_migration
import pytest
import sqlalchemy as sa
from sqlalchemy import pool

from glance.common import config
from glance.common import exception
import glance.db
from glance.db import images as image_db
from glance.db import locations as location_db
from glance.db import members as member_db
from glance.db import migration
from glance.db import models
from glance.db import tasks as task_db
from glance.db import uploads as upload_db

CONF = config.CONF
BACKENDS = ('sqlite', 'postgresql', 'mysql')
URL_VARIABLES = {
    'postgresql': ('GLANCE_TEST_POSTGRESQL_URL',
                   'postgresql+psycopg2://postgres@127.0.0.1:5432/test'),
    'mysql': ('GLANCE_TEST_MYSQL_URL',
              'mysql+pymysql://root@127.0.0.1:3306/test'),
}
# The API's sort keys (glance.api.common.SORT_KEYS).
SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
T0 = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)


# --- databases ---------------------------------------------------------------

@contextlib.contextmanager
def fresh_database(backend, directory):
    """The URL of a new, empty database, dropped afterwards."""
    if backend == 'sqlite':
        yield 'sqlite:///' + os.path.join(directory, 'glance.sqlite')
        return
    variable, example = URL_VARIABLES[backend]
    server_url = os.environ.get(variable)
    if not server_url:
        pytest.skip(f'set {variable} to run the {backend} tests '
                    f'(for example {example})')
    url = sa.engine.make_url(server_url)
    name = 'glance_test_' + uuid.uuid4().hex[:16]
    if backend == 'postgresql':
        create = f'CREATE DATABASE {name}'
        drop = f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'
    else:
        # latin1 like an older server's default: the tables must still
        # hold any text, since they declare their own character set.
        create = f'CREATE DATABASE {name} CHARACTER SET latin1'
        drop = f'DROP DATABASE IF EXISTS {name}'
    admin = sa.create_engine(url, isolation_level='AUTOCOMMIT',
                             poolclass=pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(create)
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        glance.db.reset()
        with admin.connect() as connection:
            connection.exec_driver_sql(drop)
        admin.dispose()


@contextlib.contextmanager
def using(url):
    """Point glance.db at `url` for the duration."""
    CONF.set_override('connection', url, group='database')
    glance.db.reset()
    try:
        yield
    finally:
        glance.db.reset()
        CONF.clear_override('connection', group='database')


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """A fresh database without any schema."""
    with fresh_database(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture(scope='module', params=BACKENDS)
def migrated_url(request, tmp_path_factory):
    """One migrated database per backend for the tests of this module."""
    directory = str(tmp_path_factory.mktemp(request.param))
    with fresh_database(request.param, directory) as url:
        with using(url):
            migration.upgrade('head')
        yield url


@pytest.fixture
def db(migrated_url):
    """The migrated database, emptied; yields the dialect name."""
    with using(migrated_url):
        with glance.db.writing() as session:
            for table in reversed(models.Base.metadata.sorted_tables):
                session.execute(table.delete())
        yield glance.db.get_engine().dialect.name


# --- helpers -----------------------------------------------------------------

def image_values(**values):
    values.setdefault('id', str(uuid.uuid4()))
    for name, default in [('name', 'image'), ('status', 'active'),
                          ('visibility', 'public'), ('owner', 'p1'),
                          ('min_disk', 0), ('min_ram', 0),
                          ('protected', False), ('os_hidden', False)]:
        values.setdefault(name, default)
    return values


def create(properties=None, tags=(), **values):
    with glance.db.writing() as session:
        return image_db.image_create(session, image_values(**values),
                                     properties, tags)


def get(image_id, **kwargs):
    with glance.db.reading() as session:
        return image_db.image_get(session, image_id, **kwargs)


def list_ids(project_id='p1', is_admin=False, **kwargs):
    with glance.db.reading() as session:
        return [image['id'] for image in image_db.image_list(
            session, project_id, is_admin, **kwargs)]


def update(image_id, **kwargs):
    with glance.db.writing() as session:
        return image_db.image_update(session, image_id, **kwargs)


def manage(conf_file, *args, env=None):
    """Run the glance-manage console script."""
    script = os.path.join(os.path.dirname(sys.executable), 'glance-manage')
    command = [script] if os.path.exists(script) else [
        sys.executable, '-m', 'glance.cmd.manage']
    if conf_file:
        command += ['--config-file', str(conf_file)]
    return subprocess.run(command + list(args), capture_output=True,
                          text=True, timeout=60, env=env, check=False)


# --- glance-manage and the schema --------------------------------------------

def test_manage_db_sync_and_version(empty_url, tmp_path):
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text(f'[database]\nconnection = {empty_url}\n')
    head = migration.head_version()

    result = manage(conf_file, 'db', 'version')
    assert result.returncode == 0, result.stderr
    assert 'no Glance schema' in result.stdout

    result = manage(conf_file, 'db', 'sync')
    assert result.returncode == 0, result.stderr
    assert head in result.stdout

    for command in (['db', 'version'], ['db_version']):
        result = manage(conf_file, *command)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == head

    # Again, with the upstream spelling and an explicit revision: nothing
    # to do, and the schema is untouched.
    result = manage(conf_file, 'db_sync', head)
    assert result.returncode == 0, result.stderr
    with using(empty_url):
        assert migration.current_version() == head

    result = manage(conf_file, 'db', 'sync', 'no-such-revision')
    assert result.returncode == 1
    error = ("glance-manage: ERROR: Can't locate revision identified by "
             "'no-such-revision'")
    assert result.stderr.strip().splitlines() == [error]


def test_manage_errors_are_one_line(tmp_path):
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text('[database]\nconnection = sqlite:////dev/null/g.db\n')
    result = manage(conf_file, 'db', 'version')
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith('glance-manage: ERROR: ')

    result = manage(tmp_path / 'absent.conf', 'db', 'version')
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        'glance-manage: ERROR: Failed to find some config files: %s'
        % (tmp_path / 'absent.conf')]

    result = manage(None, 'db')
    assert result.returncode == 2
    assert 'required' in result.stderr


def test_manage_reads_glance_api_conf_then_glance_manage_conf(tmp_path):
    """Without --config-file, the files are found as glance-api finds
    them; glance-manage.conf (read last) can override them."""
    home = tmp_path / 'home'
    (home / '.glance').mkdir(parents=True)
    api_db = tmp_path / 'api.sqlite'
    (home / '.glance' / 'glance-api.conf').write_text(
        f'[database]\nconnection = sqlite:///{api_db}\n')
    env = dict(os.environ, HOME=str(home))

    result = manage(None, 'db', 'sync', env=env)
    assert result.returncode == 0, result.stderr
    assert api_db.exists()

    manage_db = tmp_path / 'manage.sqlite'
    (home / '.glance' / 'glance-manage.conf').write_text(
        f'[database]\nconnection = sqlite:///{manage_db}\n')
    result = manage(None, 'db', 'version', env=env)
    assert result.returncode == 0, result.stderr
    assert 'no Glance schema' in result.stdout


def test_migrations_match_models(empty_url):
    with using(empty_url):
        migration.upgrade('head')
        with glance.db.get_engine().connect() as connection:
            context = alembic_migration.MigrationContext.configure(
                connection, opts={'compare_type': True,
                                  'compare_server_default': True})
            differences = autogenerate.compare_metadata(
                context, models.Base.metadata)
    assert differences == []


# --- images ------------------------------------------------------------------

def test_create_get_update_soft_delete(db):
    image = create(name='cirros', disk_format='qcow2',
                   container_format='bare', size=2 ** 40,
                   properties={'os_distro': 'cirros', 'empty': ''},
                   tags=['a', 'b'])
    assert image['name'] == 'cirros'
    assert image['size'] == 2 ** 40
    assert image['properties'] == {'os_distro': 'cirros', 'empty': ''}
    assert image['tags'] == ['a', 'b']
    assert image['deleted'] is False
    assert image['protected'] is False
    assert image['created_at'] == image['updated_at']
    assert get(image['id']) == image

    updated = update(image['id'], values={'name': 'renamed', 'min_ram': 64,
                                          'protected': True},
                     set_properties={'os_distro': 'ubuntu', 'new': 'x'},
                     delete_properties=['empty'], replace_tags=['c'])
    assert updated['name'] == 'renamed'
    assert updated['min_ram'] == 64
    assert updated['protected'] is True
    assert updated['properties'] == {'os_distro': 'ubuntu', 'new': 'x'}
    assert updated['tags'] == ['c']
    assert updated['updated_at'] > image['updated_at']
    assert updated['created_at'] == image['created_at']

    with glance.db.writing() as session:
        location_db.location_add(session, image['id'], 'file:///x')
        member_db.member_create(session, image['id'], 'p2')
        image_db.image_soft_delete(session, image['id'])
    with pytest.raises(exception.ImageNotFound):
        get(image['id'])
    deleted = get(image['id'], include_deleted=True)
    assert deleted['deleted'] is True
    assert deleted['status'] == 'deleted'
    assert deleted['deleted_at'] is not None
    with glance.db.reading() as session:
        assert location_db.location_list(session, image['id']) == []
        assert member_db.member_list(session, image['id']) == []
        assert image_db.image_id_exists(session, image['id'])
    with pytest.raises(exception.ImageNotFound):
        update(image['id'], values={'name': 'x'})
    assert list_ids(is_admin=True, visibility='all') == []
    assert list_ids(is_admin=True, visibility='all',
                    include_deleted=True) == [image['id']]


def test_get_for_update_and_missing(db):
    image = create()
    with glance.db.writing() as session:
        assert image_db.image_get(session, image['id'],
                                  for_update=True)['id'] == image['id']
    with pytest.raises(exception.ImageNotFound):
        get(str(uuid.uuid4()))


@pytest.mark.parametrize('delete_first', [False, True])
def test_duplicate_id(db, delete_first):
    image = create()
    if delete_first:
        with glance.db.writing() as session:
            image_db.image_soft_delete(session, image['id'])
    with pytest.raises(exception.Duplicate):
        create(id=image['id'])
    # The failed attempt changed nothing.
    assert get(image['id'], include_deleted=True)['deleted'] is delete_first


def test_duplicate_id_inserted_concurrently(db):
    """Another transaction inserts the id after our check, before our
    insert: still Duplicate (not a database error)."""
    image_id = str(uuid.uuid4())
    inserted, commit = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with glance.db.writing() as session:
                image_db.image_create(session, image_values(id=image_id))
                inserted.set()
                commit.wait(10)
        except (exception.GlanceException, sa.exc.SQLAlchemyError) as error:
            errors.append(error)

    def second():
        try:
            create(id=image_id)
        except (exception.GlanceException, sa.exc.SQLAlchemyError) as error:
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inserted.wait(10)
    threads[1].start()
    time.sleep(0.3)  # let the second insert wait for the first's row
    commit.set()
    for thread in threads:
        thread.join(20)
    assert [type(error) for error in errors] == [exception.Duplicate]
    assert get(image_id)['id'] == image_id


def test_member_added_twice(db):
    image = create(visibility='shared')['id']
    with glance.db.writing() as session:
        member_db.member_create(session, image, 'p2')
    with pytest.raises(exception.Duplicate), glance.db.writing() as session:
        member_db.member_create(session, image, 'p2')


def test_expected_status_compare_and_set(db):
    image = create(status='queued')
    with pytest.raises(exception.Conflict):
        update(image['id'], values={'status': 'active'},
               expected_status='saving')
    assert get(image['id'])['status'] == 'queued'
    saving = update(image['id'], values={'status': 'saving'},
                    expected_status=('queued', 'importing'))
    assert saving['status'] == 'saving'
    # Setting what is already there matches the row (MySQL counts
    # matched rows, not changed ones).
    same = update(image['id'], values={'status': 'saving'},
                  expected_status='saving', touch=False)
    assert same['updated_at'] == saving['updated_at']
    with pytest.raises(exception.ImageNotFound):
        update(str(uuid.uuid4()), values={'status': 'active'},
               expected_status='queued')


def test_microsecond_timestamps(db):
    stamp = datetime.datetime(2023, 1, 2, 3, 4, 5, 678901)
    image = create(created_at=stamp, updated_at=stamp)
    assert get(image['id'])['created_at'] == stamp
    later = stamp + datetime.timedelta(microseconds=1)
    update(image['id'], values={'updated_at': later}, touch=False)
    assert get(image['id'])['updated_at'] == later
    # Filters tell one microsecond apart.
    assert list_ids(filters=[('updated_at', 'gt', stamp)]) == [image['id']]
    assert list_ids(filters=[('updated_at', 'gt', later)]) == []


def test_long_and_unicode_values(db):
    long_value = 'ä' * 70000 + 'x' * 70000  # > 64 KiB in any encoding
    name = 'Ïmage 画像 🚀'
    image = create(name=name, properties={'big': long_value,
                                          'ключ 🔑': 'значение 🌍'},
                   tags=['タグ', '🏷'])
    found = get(image['id'])
    assert found['name'] == name
    assert found['properties'] == {'big': long_value,
                                   'ключ 🔑': 'значение 🌍'}
    assert found['tags'] == ['タグ', '🏷']
    assert list_ids(filters=[('name', 'eq', name)]) == [image['id']]
    assert list_ids(properties_eq={'ключ 🔑': 'значение 🌍'}) == [
        image['id']]
    assert list_ids(tags_all=['🏷']) == [image['id']]
    longer = long_value * 3
    assert update(image['id'], set_properties={'big': longer})[
        'properties']['big'] == longer


def test_names_are_case_sensitive(db):
    """Tags, property names and filters treat 'A' and 'a' as different
    on every backend (MySQL's default collations would not)."""
    image = create(name='Upper', properties={'Key': '1', 'key': '2'},
                   tags=['Tag', 'tag'])
    assert get(image['id'])['properties'] == {'Key': '1', 'key': '2'}
    assert sorted(get(image['id'])['tags']) == ['Tag', 'tag']
    assert list_ids(filters=[('name', 'eq', 'upper')]) == []
    assert list_ids(properties_eq={'key': '1'}) == []
    with glance.db.writing() as session:
        assert image_db.tag_add(session, image['id'], 'TAG') == 3


def test_list_filters(db):
    images = [
        create(name='a', status='active', size=10, disk_format='raw',
               protected=True, created_at=T0, updated_at=T0),
        create(name='b', status='queued', size=None, disk_format='qcow2',
               created_at=T0, updated_at=None),
        create(name='c', status='active', size=1000, disk_format=None,
               os_hidden=True,
               created_at=T0 + datetime.timedelta(microseconds=1),
               updated_at=T0 + datetime.timedelta(hours=1)),
        create(name='d', status='killed', size=10),
    ]
    a, b, c, _ = [image['id'] for image in images]

    def found(**kwargs):
        return set(list_ids(**kwargs))

    assert found(filters=[('status', 'eq', 'active')]) == {a, c}
    assert found(filters=[('status', 'neq', 'active')]) == {b}
    assert found(filters=[('name', 'in', ['a', 'b', 'zzz'])]) == {a, b}
    assert found(filters=[('id', 'in', [c])]) == {c}
    assert found(filters=[('disk_format', 'eq', 'raw')]) == {a}
    assert found(filters=[('size', 'gte', 10), ('size', 'lte', 999)]) == {a}
    assert found(filters=[('size', 'gt', 10)]) == {c}
    assert found(filters=[('size', 'lt', 1000)]) == {a}
    assert found(filters=[('protected', 'eq', True)]) == {a}
    assert found(filters=[('os_hidden', 'eq', False)]) == {a, b}
    assert found(filters=[('created_at', 'eq', T0)]) == {a, b}
    assert found(filters=[('created_at', 'neq', T0)]) == {c}
    assert found(filters=[('created_at', 'gt', T0)]) == {c}
    assert found(filters=[('created_at', 'gte', T0),
                          ('created_at', 'lte', T0)]) == {a, b}
    assert found(filters=[('created_at', 'lt', T0)]) == set()
    assert found(filters=[('updated_at', 'lte', T0)]) == {a}
    assert found(filters=[('updated_at', 'gt', T0)]) == {c}
    assert found(include_deleted=True, filters=[('size', 'eq', 10)]) == {
        a, images[3]['id']}


def test_property_and_tag_filters(db):
    one = create(properties={'os': 'linux', 'arch': 'x86_64'},
                 tags=['gold', 'fast'])['id']
    two = create(properties={'os': 'linux', 'arch': 'arm'},
                 tags=['gold'])['id']
    three = create(properties={'os': 'bsd'})['id']

    def found(**kwargs):
        return set(list_ids(**kwargs))

    assert found(properties_eq={'os': 'linux'}) == {one, two}
    assert found(properties_eq={'os': 'linux', 'arch': 'arm'}) == {two}
    assert found(properties_eq={'os': 'x86_64'}) == set()
    assert found(properties_eq={'missing': 'linux'}) == set()
    assert found(tags_all=['gold']) == {one, two}
    assert found(tags_all=['gold', 'fast']) == {one}
    assert found(tags_all=['gold', 'nope']) == set()
    assert found(tags_all=['gold'], properties_eq={'arch': 'arm'}) == {two}
    assert found() == {one, two, three}


def test_visibility(db):
    public = create(visibility='public', owner='p1')['id']
    community = create(visibility='community', owner='p1')['id']
    private = create(visibility='private', owner='p1')['id']
    shared = create(visibility='shared', owner='p1')['id']
    other = create(visibility='shared', owner='p2')['id']
    killed = create(visibility='public', owner='p1', status='killed')['id']
    with glance.db.writing() as session:
        member_db.member_create(session, shared, 'p2', status='accepted')
        member_db.member_create(session, shared, 'p3', status='pending')
        member_db.member_create(session, shared, 'p4', status='rejected')

    def found(project, **kwargs):
        return set(list_ids(project, **kwargs))

    assert found('p1') == {public, community, private, shared}
    assert found('p2') == {public, shared, other}
    assert found('p3') == {public}
    assert found('p3', member_status='pending') == {public, shared}
    assert found('p3', member_status='all') == {public, shared}
    assert found('p4', member_status='rejected') == {public, shared}
    assert found('p2', visibility='community') == {community}
    assert found('p2', visibility='all') == {public, community, shared, other}
    assert found('p2', visibility='private') == set()
    assert found('p5') == {public}
    assert found(None) == {public}
    assert found(None, visibility='community') == {community}
    assert found('admin', is_admin=True) == {public, private, shared, other}
    assert found('admin', is_admin=True, visibility='all') == {
        public, community, private, shared, other}
    assert found('admin', is_admin=True, visibility='all',
                 include_deleted=True) == {public, community, private,
                                           shared, other, killed}

    images = image_db.images
    with glance.db.reading() as session:
        def visible(project, is_admin, member_status='accepted'):
            condition = image_db.visible_to(project is not None, is_admin,
                                            member_status == 'all')
            return set(session.execute(
                sa.select(images.c.id).where(
                    condition, images.c.status != 'killed'),
                {'project_id': project, 'member_status': member_status})
                .scalars())
        assert visible('p3', False, 'all') == {public, community, shared}
        assert visible('p4', False) == {public, community}
        assert visible(None, False) == {public, community}
        assert visible('p9', True) == {public, community, private, shared,
                                       other}


def test_marker_must_be_visible(db):
    mine = create(visibility='private', owner='p1', created_at=T0)['id']
    with pytest.raises(exception.BadRequest):
        list_ids('p2', marker=mine)
    with pytest.raises(exception.BadRequest):
        list_ids('p1', marker=str(uuid.uuid4()))
    later = create(visibility='public', owner='p2',
                   created_at=T0 + datetime.timedelta(seconds=1))['id']
    assert list_ids('p1', marker=mine, sort=[('created_at', 'asc')],
                    tie_direction='asc') == [later]


# --- sorting and paging ------------------------------------------------------

def paging_images():
    """60 images with repeated and missing values on every sort key and
    created_at shared by groups of eight."""
    rng = random.Random(1234)
    names = [None, 'alpha', 'Alpha', 'beta', 'ünï', 'zeta', 'alpha ']
    rows = []
    for i in range(60):
        rows.append(image_values(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=names[i % len(names)],
            status=('active', 'queued', 'saving')[i % 3],
            disk_format=(None, 'raw', 'qcow2', 'iso')[i % 4],
            container_format=(None, 'bare', 'ovf')[i % 5 % 3],
            size=(None, 0, 10, 2 ** 40, 10)[i % 5],
            created_at=T0 + datetime.timedelta(microseconds=i // 8),
            updated_at=(None if i % 7 == 0 else
                        T0 + datetime.timedelta(minutes=i % 3))))
    with glance.db.writing() as session:
        for row in rows:
            image_db.image_create(session, row)
    return rows


def walk(sort, tie_direction, limit):
    """Every page from the first on; the ids in the order served."""
    served, marker = [], None
    while True:
        page = list_ids('p1', sort=sort, tie_direction=tie_direction,
                        marker=marker, limit=limit)
        served += page
        if len(page) < limit:
            return served
        marker = page[-1]


def null_first_key(value):
    return (value is not None, value)


def test_sorting_and_keyset_paging(db):
    rows = paging_images()
    by_id = {row['id']: row for row in rows}
    sorts = [([(key, direction)], direction)
             for key in SORT_KEYS for direction in ('asc', 'desc')]
    sorts += [([('name', 'asc'), ('size', 'desc')], 'desc'),
              ([('disk_format', 'desc'), ('updated_at', 'asc')], 'asc'),
              ([('status', 'asc'), ('container_format', 'asc'),
                ('size', 'asc')], 'desc'),
              ([('size', 'desc')], 'asc'),
              ([], 'desc')]
    for sort, tie_direction in sorts:
        expected = list_ids('p1', sort=sort, tie_direction=tie_direction)
        assert sorted(expected) == sorted(by_id), sort
        assert walk(sort, tie_direction, 7) == expected, sort

        key, direction = (sort or [('created_at', 'desc')])[0]
        values = [by_id[image_id][key] for image_id in expected]
        if key not in ('name', 'status', 'container_format', 'disk_format',
                       'id'):
            # Non-text keys: check the order itself, NULL smallest.
            assert values == sorted(values, key=null_first_key,
                                    reverse=direction == 'desc'), sort
        nulls = [value is None for value in values]
        assert nulls == sorted(nulls, reverse=direction == 'asc'), sort

    # Page size one, and a page size that divides the rows exactly.
    expected = list_ids('p1', sort=[('name', 'asc')], tie_direction='asc')
    assert walk([('name', 'asc')], 'asc', 1) == expected
    assert walk([('name', 'asc')], 'asc', 6) == expected


def test_paging_ties_on_created_at(db):
    """All rows created in the same microsecond: id orders them."""
    ids = [create(created_at=T0)['id'] for _ in range(25)]
    for direction in ('asc', 'desc'):
        expected = sorted(ids, reverse=direction == 'desc')
        sort = [('created_at', direction)]
        assert list_ids(sort=sort, tie_direction=direction) == expected
        assert walk(sort, direction, 4) == expected


# --- members, tags, locations ------------------------------------------------

def test_members(db):
    image = create(visibility='shared')['id']
    gone = create(visibility='shared')['id']
    with glance.db.writing() as session:
        created = member_db.member_create(session, image, 'p2')
        member_db.member_create(session, image, 'p3', status='accepted',
                                can_share=True)
        member_db.member_create(session, gone, 'p2')
    assert created['status'] == 'pending'
    assert created['can_share'] is False
    assert created['created_at'] is not None

    with glance.db.writing() as session:
        listed = member_db.member_list(session, image)
        assert [m['member'] for m in listed] == ['p2', 'p3']
        assert member_db.member_count(session, image) == 2
        updated = member_db.member_update(session, image, 'p2',
                                          status='accepted')
        assert updated['status'] == 'accepted'
        assert updated['updated_at'] >= created['updated_at']
        shared = member_db.shared_with(session, 'p2')
        assert [m['image_id'] for m in shared] == [image, gone]
        image_db.image_soft_delete(session, gone)
        shared = member_db.shared_with(session, 'p2')
        assert [m['image_id'] for m in shared] == [image]
        member_db.member_delete(session, image, 'p2')
        with pytest.raises(exception.MemberNotFound):
            member_db.member_delete(session, image, 'p2')
        with pytest.raises(exception.MemberNotFound):
            member_db.member_get(session, image, 'p2')
        assert member_db.member_get(session, image, 'p3')['can_share'] is True
        assert member_db.member_count(session, image) == 1


def test_tags(db):
    image = create(tags=['one'])['id']
    with glance.db.writing() as session:
        assert image_db.tag_add(session, image, 'two') == 2
        assert image_db.tag_add(session, image, 'two') == 2
        assert image_db.tag_count(session, image) == 2
        image_db.tag_delete(session, image, 'one')
        with pytest.raises(exception.NotFound):
            image_db.tag_delete(session, image, 'one')
    assert get(image)['tags'] == ['two']
    assert update(image, replace_tags=['x', 'y'])['tags'] == ['x', 'y']
    assert update(image, replace_tags=[])['tags'] == []


def test_locations(db):
    image = create()['id']
    with glance.db.writing() as session:
        location_db.location_add(session, image, 'file:///a', {'store': 'fs'})
        location_db.location_add(session, image, 'http://b/ü')
    with glance.db.reading() as session:
        found = location_db.location_list(session, image)
    assert [(loc['url'], loc['metadata']) for loc in found] == [
        ('file:///a', {'store': 'fs'}), ('http://b/ü', {})]
    assert all(loc['status'] == 'active' for loc in found)
    with glance.db.writing() as session:
        location_db.location_delete_all(session, image)
        assert location_db.location_list(session, image) == []


def test_owner_storage_usage(db):
    keep = create(owner='q', size=100)['id']
    create(owner='q', size=50)
    create(owner='q', size=None)
    create(owner='q', size=1000, status='killed')
    create(owner='other', size=7)
    with glance.db.reading() as session:
        assert image_db.owner_storage_usage(session, 'q') == 150
        assert image_db.owner_storage_usage(session, 'q', keep) == 50
        assert image_db.owner_storage_usage(session, 'nobody') == 0


def test_soft_delete_leaves_locations_pending_delete(db):
    image = create()['id']
    with glance.db.writing() as session:
        location_db.location_add(session, image, 'file:///a')
        image_db.image_soft_delete(session, image)
    with glance.db.reading() as session:
        assert location_db.location_list(session, image) == []
        [pending] = location_db.pending_deletes(session)
        assert location_db.pending_deletes(session, image) == [pending]
    assert (pending['url'], pending['status']) == ('file:///a',
                                                   'pending_delete')
    with glance.db.writing() as session:
        location_db.location_delete(session, pending['id'])
        assert location_db.pending_deletes(session) == []


# --- uploads in flight -------------------------------------------------------

def upload_values(image_id, upload_id, **values):
    row = {'id': upload_id, 'image_id': image_id, 'owner': 'q',
           'reserved': 10, 'leftovers': ['file:///x.partial'],
           'on_failure': 'queued', 'node': 'n1', 'process': 'p1',
           'lease_expires_at': T0}
    row.update(values)
    return row


def test_uploads_reserve_claim_and_end(db):
    image = create(owner='q')['id']
    with glance.db.writing() as session:
        upload_db.upload_create(session, upload_values(image, 'u1'))
        upload_db.upload_create(session, upload_values(
            image, 'u2', reserved=5, node='n2', process='p2',
            lease_expires_at=T0 + datetime.timedelta(hours=1)))
        upload_db.upload_create(session, upload_values(
            image, 'u3', owner=None, reserved=7, process='p3',
            lease_expires_at=T0 + datetime.timedelta(hours=1)))
    with glance.db.reading() as session:
        assert upload_db.reserved_by_others(session, 'q') == 15
        assert upload_db.reserved_by_others(session, 'q', 'u1') == 5
        assert upload_db.reserved_by_others(session, None) == 7
        # Expired leases, and every upload of the node asking.
        found = upload_db.sweep_candidates(
            session, 'n1', T0 + datetime.timedelta(minutes=1))
        assert sorted(u['id'] for u in found) == ['u1', 'u3']
        assert upload_db.all_leftovers(session) == {'file:///x.partial'}
    [u1] = [u for u in found if u['id'] == 'u1']
    assert u1['leftovers'] == ['file:///x.partial']
    later = T0 + datetime.timedelta(hours=2)
    with glance.db.writing() as session:
        assert upload_db.upload_reserve(session, 'u1', 'p1', 20)
        assert not upload_db.upload_reserve(session, 'u1', 'p9', 30)
        # A renewed lease, or another claim first, makes a claim fail.
        upload_db.renew_leases(session, 'n1', 'p1', later)
        assert not upload_db.upload_claim(session, u1, 'n3', 'p3', later)
    u1['lease_expires_at'] = later
    with glance.db.writing() as session:
        assert upload_db.upload_claim(session, u1, 'n3', 'p3', later)
        assert not upload_db.upload_claim(session, u1, 'n4', 'p4', later)
        # Taken over: its first process can no longer end it.
        assert not upload_db.upload_delete(session, 'u1', 'p1')
        assert upload_db.upload_delete(session, 'u1', 'p3')
    with glance.db.reading() as session:
        assert upload_db.reserved_by_others(session, 'q') == 5


def new_task(session, number, **values):
    row = {'id': str(uuid.UUID(int=number)), 'type': 'import',
           'status': 'pending', 'owner': 'q',
           'created_at': T0 + datetime.timedelta(seconds=number % 3)}
    row.update(values)
    return task_db.task_create(session, row, {'n': number, 'text': 'é'})


def test_tasks_list_page_show_and_expire(db):
    with glance.db.writing() as session:
        for number in range(1, 8):
            # image_id NULL for some: a nullable key pages through all.
            new_task(session, number, image_id=None if number % 2
                     else str(uuid.UUID(int=100 + number % 3)),
                     owner=None if number == 7 else 'q')
        new_task(session, 8, owner='other')
    with glance.db.reading() as session:
        task = task_db.task_get(session, str(uuid.UUID(int=1)), 'q', False)
        assert task['input'] == {'n': 1, 'text': 'é'}
        assert (task['result'], task['message']) == (None, '')
        with pytest.raises(exception.Forbidden):
            task_db.task_get(session, str(uuid.UUID(int=8)), 'q', False)
        everything = task_db.task_list(session, 'q', False)
        assert len(everything) == 7  # its own and the ownerless one
        for key in ('created_at', 'image_id', 'owner', 'id'):
            for direction in ('asc', 'desc'):
                walked, marker = [], None
                while True:
                    page = task_db.task_list(session, 'q', False, None,
                                             marker, 2, key, direction)
                    walked += [t['id'] for t in page]
                    if len(page) < 2:
                        break
                    marker = page[-1]['id']
                assert sorted(walked) == sorted(t['id'] for t in everything)
                assert len(walked) == 7, (key, direction)
        assert len(task_db.task_list(session, None, True,
                                     {'status': 'pending'})) == 8
    expired = str(uuid.UUID(int=2))
    with glance.db.writing() as session:
        task_db.task_update(session, expired, {
            'status': 'success',
            'expires_at': T0}, expected_status='pending',
            result={'image_id': 'x'})
        task_db.soft_delete_expired(session, 'q')
    with glance.db.reading() as session:
        with pytest.raises(exception.TaskNotFound):
            task_db.task_get(session, expired, 'q', False)
        assert task_db.task_get(session, expired, None, True,
                                include_deleted=True)['result'] == {
            'image_id': 'x'}


def test_task_leases_and_claims(db):
    lease = T0 + datetime.timedelta(minutes=5)
    with glance.db.writing() as session:
        new_task(session, 1, status='processing', node='n1', process='p1',
                 lease_expires_at=T0)
        new_task(session, 2, status='processing', node='n2', process='p2',
                 lease_expires_at=lease)
    with glance.db.reading() as session:
        found = task_db.sweep_candidates(session, 'n9',
                                         T0 + datetime.timedelta(minutes=1))
    assert [t['id'] for t in found] == [str(uuid.UUID(int=1))]
    [dead] = found
    with glance.db.writing() as session:
        task_db.renew_leases(session, 'n1', 'p1', lease)
        assert not task_db.task_claim(session, dead, 'n9', 'p9', lease)
    dead['lease_expires_at'] = lease
    with glance.db.writing() as session:
        assert task_db.task_claim(session, dead, 'n9', 'p9', lease)
        with pytest.raises(exception.Conflict):
            task_db.task_update(session, dead['id'], {'status': 'failure'},
                                process='p1')
        task_db.task_update(session, dead['id'], {'status': 'failure'},
                            expected_status='processing', process='p9',
                            message='gone')


def test_owner_lock_makes_quota_checks_wait(db):
    """A quota check waits for the owner's lock, then reads what its
    holder committed (on MySQL too, whose reads would otherwise see the
    snapshot of the transaction's first read)."""
    image = create(owner='q')['id']
    locked = threading.Event()
    seen = []

    def second():
        locked.wait(10)
        with glance.db.writing(fresh_reads=True) as session:
            image_db.image_get(session, image)
            upload_db.lock_owner(session, 'q')
            seen.append(upload_db.reserved_by_others(session, 'q'))

    thread = threading.Thread(target=second)
    thread.start()
    with glance.db.writing(fresh_reads=True) as session:
        upload_db.lock_owner(session, 'q')
        locked.set()
        time.sleep(0.5)
        assert seen == []
        upload_db.upload_create(session, upload_values(image, 'u1'))
    thread.join(10)
    assert seen == [10]


# --- SQLite under concurrent writers -----------------------------------------

PROCESSES = 4
IMAGES_PER_PROCESS = 200


def _writer(worker):
    """In a forked process: migrate (racing the others), then write."""
    glance.db.ensure_schema()
    for i in range(IMAGES_PER_PROCESS):
        image_id = f'{worker:08d}-0000-4000-8000-{i:012d}'
        with glance.db.writing() as session:
            image = image_db.image_create(
                session, image_values(id=image_id),
                {'worker': str(worker), 'n': str(i)}, [f'w{worker}', 'x'])
            image_db.image_update(session, image['id'],
                                  values={'status': 'saving'},
                                  set_properties={'n': 'done'})
        if i % 20 == 0:
            with glance.db.reading() as session:
                image_db.image_list(session, 'p1', False, limit=5)


def test_sqlite_concurrent_writers(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'glance.sqlite')
    with using(url):
        glance.db.get_engine()  # the parent's engine must not leak
        context = multiprocessing.get_context('fork')
        started = time.monotonic()
        workers = [context.Process(target=_writer, args=(n,))
                   for n in range(PROCESSES)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0] * PROCESSES
        assert time.monotonic() - started < 30

        total = PROCESSES * IMAGES_PER_PROCESS
        with glance.db.reading() as session:
            images = image_db.image_list(session, None, True,
                                         visibility='all')
        assert len(images) == total
        assert {image['status'] for image in images} == {'saving'}
        assert all(image['properties']['n'] == 'done' for image in images)
        assert sum(len(image['tags']) for image in images) == 2 * total
        assert migration.current_version() == migration.head_version()


@pytest.fixture
def sqlite_image(tmp_path):
    """An SQLite database with one image named 'before', and a connection
    to it of another process's kind (the driver alone): (image, other)."""
    with using('sqlite:///%s' % (tmp_path / 'glance.sqlite')):
        glance.db.ensure_schema()
        image = create(name='before')
        other = sqlite3.connect(str(tmp_path / 'glance.sqlite'),
                                isolation_level=None, timeout=0)
        yield image, other
        other.close()


def test_sqlite_read_sees_one_snapshot(sqlite_image):
    image, other = sqlite_image
    with glance.db.reading() as session:
        first = image_db.image_get(session, image['id'])
        other.execute("UPDATE images SET name = 'after'")
        second = image_db.image_get(session, image['id'])
    assert first['name'] == second['name'] == 'before'
    assert get(image['id'])['name'] == 'after'


def test_sqlite_writer_holds_the_write_lock_from_the_start(sqlite_image):
    image, other = sqlite_image
    with glance.db.writing() as session:
        # Before this transaction wrote anything, nobody else may.
        with pytest.raises(sqlite3.OperationalError, match='locked'):
            other.execute("UPDATE images SET name = 'theirs'")
        image_db.image_update(session, image['id'], values={'name': 'mine'})
    other.execute("UPDATE images SET name = 'theirs now'")
    assert get(image['id'])['name'] == 'theirs now'
