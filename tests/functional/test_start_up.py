"""Start-up and reload of the real glance-api daemon: bad settings stop
the start in one line, a bad reload keeps the running configuration, and
a database that goes away shows in /healthcheck and in the log."""
import os
import signal
import sqlite3
import subprocess

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import pool

from tests.functional import daemon
from tests.functional import test_db_backends
from tests.helpers import free_port
from tests.helpers import wait_for

TIMEOUT = 30
# webob's 500 as upstream answers it (no Accept header: plain text).
UPSTREAM_500_BODY = ('500 Internal Server Error\n\nThe server has either '
                     'erred or is incapable of performing the requested '
                     'operation.\n\n   ')
# requests sends "Accept: */*" unless told not to (webob would answer HTML).
NO_ACCEPT = {'Accept': None}


def run_glance_api(api):
    """Run glance-api on the configuration of `api` until it exits (it
    must not start): (exit code, output)."""
    api.port = free_port()
    api.write_config()
    result = subprocess.run(
        daemon.glance_api_command() + ['--config-file', api.config_file],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        env=api.env, cwd=api.directory, timeout=TIMEOUT)
    return result.returncode, (result.stdout + result.stderr).strip()


def error_lines(api):
    return [line for line in api.log().splitlines() if ' ERROR ' in line]


# -- start-up -----------------------------------------------------------------

@pytest.mark.parametrize('setting, message', [
    ('image_size_cap = abc',
     'Invalid value for option image_size_cap in [DEFAULT]: invalid '
     "literal for int() with base 10: 'abc'"),
    ('hashing_algorithm = nosuchhash',
     'Invalid value for option hashing_algorithm in [DEFAULT]: nosuchhash '
     'is not a hashlib algorithm with a fixed-size digest'),
    ('hashing_algorithm = shake_128',
     'Invalid value for option hashing_algorithm in [DEFAULT]: shake_128 '
     'is not a hashlib algorithm with a fixed-size digest'),
    ('user_storage_quota = 10 parsecs',
     'Invalid value for option user_storage_quota in [DEFAULT]: '),
    ('workers = -5',
     'Invalid value for option workers in [DEFAULT]: Should be greater '
     'than or equal to 0'),
])
def test_a_bad_setting_stops_the_start_in_one_line(tmp_path, setting,
                                                   message):
    api = daemon.GlanceApi(tmp_path, extra_config=f'[DEFAULT]\n{setting}\n')

    code, output = run_glance_api(api)

    assert code == 1
    assert output.splitlines() == [output], output
    assert output.startswith(f'glance-api: ERROR: {message}'), output


def test_good_quota_and_hash_settings_start(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1, extra_config=(
        '[DEFAULT]\nuser_storage_quota = 10gb\nhashing_algorithm = sha256\n'))
    with api:
        image = requests.post(api.url + '/v2/images', timeout=TIMEOUT,
                              json={'name': 'x', 'disk_format': 'raw',
                                    'container_format': 'bare'}).json()
        response = requests.put(
            api.url + f'/v2/images/{image["id"]}/file', data=b'data',
            headers={'Content-Type': 'application/octet-stream'},
            timeout=TIMEOUT)
        assert response.status_code == 204
        image = requests.get(api.url + f'/v2/images/{image["id"]}',
                             timeout=TIMEOUT).json()
    assert image['os_hash_algo'] == 'sha256'


def test_a_normal_start_creates_the_sqlite_schema_quietly(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1)
    with api:
        assert requests.get(api.url + '/v2/images',
                            timeout=TIMEOUT).status_code == 200
    assert os.path.exists(os.path.join(api.state_path, 'glance.sqlite'))
    log = api.log()
    assert 'Listening on 127.0.0.1' in log
    assert 'alembic' not in log


@pytest.fixture(params=['postgresql', 'mysql'])
def server_database(request, tmp_path):
    """The URL of a new, empty database on a database server."""
    with test_db_backends.fresh_database(request.param,
                                         str(tmp_path)) as url:
        yield url


def test_a_server_database_without_the_schema_stops_the_start(
        tmp_path, server_database):
    api = daemon.GlanceApi(tmp_path, extra_config=(
        f'[database]\nconnection = {server_database}\n'))

    code, output = run_glance_api(api)

    assert (code, output) == (
        1, 'glance-api: ERROR: The database has no Glance schema: run '
           '"glance-manage db sync"')
    # Not created behind the operator's back.
    engine = sa.create_engine(server_database, poolclass=pool.NullPool)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_database_that_does_not_exist_stops_the_start(tmp_path,
                                                        server_database):
    missing = sa.engine.make_url(server_database).set(
        database='glance_no_such_database').render_as_string(
            hide_password=False)
    api = daemon.GlanceApi(tmp_path, extra_config=(
        f'[database]\nconnection = {missing}\n'))

    code, output = run_glance_api(api)

    assert code == 1
    assert output.splitlines() == [output], output
    assert output.startswith(
        'glance-api: ERROR: Unable to use the database: '), output
    assert 'glance_no_such_database' in output


# -- reload -------------------------------------------------------------------

def create_with_tags(api, tags):
    return requests.post(api.url + '/v2/images', timeout=TIMEOUT, json={
        'name': 'tagged', 'tags': tags}).status_code


@pytest.mark.parametrize('bad_config', [
    '[DEFAULT]\nworkers = -5\nimage_tag_quota = 0\n',
    '[DEFAULT]\nimage_tag_quota = 0\nthis is not an ini file\n[\n',
])
def test_a_bad_reload_keeps_the_running_configuration(tmp_path,
                                                      bad_config):
    api = daemon.GlanceApi(tmp_path, workers=2)
    with api:
        workers = wait_for(lambda: len(api.group_pids()) == 3
                           and api.group_pids() - {api.pid}, '2 workers',
                           timeout=TIMEOUT)
        api.extra_config = bad_config
        api.write_config()

        os.kill(api.pid, signal.SIGHUP)

        [line] = wait_for(lambda: error_lines(api), 'the error line',
                          timeout=TIMEOUT)
        assert 'Reload failed, the running configuration keeps serving: ' \
            in line
        assert create_with_tags(api, ['a']) == 201
        # The master kept its values: workers it starts now apply the old
        # tag quota (128), not the 0 of the rejected file.
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(api.group_pids() - workers) == 3,
                 'new workers', timeout=TIMEOUT)
        assert create_with_tags(api, ['a']) == 201
        assert api.process.poll() is None
    assert len(error_lines(api)) == 1 + len(workers), api.log()
    assert error_lines(api)[1:] == [
        line for line in error_lines(api) if 'exited unexpectedly' in line]


def test_a_reload_applies_debug(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1)
    with api:
        assert requests.get(api.url + '/v2/images',
                            timeout=TIMEOUT).status_code == 200
        assert ' DEBUG ' not in api.log()
        api.extra_config = '[DEFAULT]\ndebug = true\n'
        api.write_config()
        old_workers = api.group_pids() - {api.pid}

        os.kill(api.pid, signal.SIGHUP)

        wait_for(lambda: (workers := api.group_pids() - {api.pid})
                 and not workers & old_workers, 'the new worker',
                 timeout=TIMEOUT)
        assert requests.get(api.url + '/v2/images',
                            timeout=TIMEOUT).status_code == 200
    log = api.log()
    reloaded = log.index('SIGHUP: reloading the configuration')
    assert ' DEBUG ' in log[reloaded:]
    assert error_lines(api) == []


# -- a database that goes away ------------------------------------------------

def test_a_lost_sqlite_schema_is_unhealthy_and_logged(tmp_path):
    api = daemon.GlanceApi(tmp_path, workers=1)
    with api:
        healthcheck = requests.get(api.url + '/healthcheck', timeout=TIMEOUT)
        assert (healthcheck.status_code, healthcheck.text) == (200, 'OK')
        with sqlite3.connect(os.path.join(api.state_path, 'glance.sqlite'),
                             isolation_level=None) as other:
            for table in ('alembic_version', 'image_properties',
                          'image_tags', 'image_members', 'image_locations',
                          'images'):
                other.execute(f'DROP TABLE {table}')

        healthcheck = requests.get(api.url + '/healthcheck', timeout=TIMEOUT)
        response = requests.get(api.url + '/v2/images', timeout=TIMEOUT,
                                headers=NO_ACCEPT)
        request_id = response.headers['x-openstack-request-id']
        # The message, then the traceback (every line of it at ERROR).
        line = wait_for(lambda: error_lines(api), 'the error line',
                        timeout=TIMEOUT)[0]
    assert (healthcheck.status_code, healthcheck.text) == (
        503, 'DATABASE UNAVAILABLE')
    assert response.status_code == 500
    assert response.text == UPSTREAM_500_BODY
    assert ' ERROR glance.common.wsgi [' in line
    assert request_id in line
    assert 'Unexpected error answering GET /v2/images' in line
    log = api.log()
    assert 'no such table: images' in log[log.index(line):]
    assert 'Traceback (most recent call last)' in log[log.index(line):]
    # The access line says 500, once.
    assert len([text for text in log.splitlines()
                if '"GET /v2/images HTTP/1.1" 500 ' in text]) == 1


def test_a_dropped_postgresql_database_is_unhealthy(tmp_path):
    with test_db_backends.fresh_database('postgresql', str(tmp_path)) as url:
        _db_sync(tmp_path, url)
        api = daemon.GlanceApi(tmp_path / 'api', workers=1, extra_config=(
            f'[database]\nconnection = {url}\n'))
        with api:
            assert requests.get(api.url + '/healthcheck',
                                timeout=TIMEOUT).status_code == 200
            _drop(url)
            healthcheck = requests.get(api.url + '/healthcheck',
                                       timeout=TIMEOUT)
            listing = requests.get(api.url + '/v2/images', timeout=TIMEOUT,
                                   headers=NO_ACCEPT)
    assert healthcheck.status_code == 503
    assert 'DATABASE UNAVAILABLE' in healthcheck.text
    assert listing.status_code == 500
    assert listing.text == UPSTREAM_500_BODY


def _db_sync(directory, url):
    conf = directory / 'manage.conf'
    conf.write_text(f'[database]\nconnection = {url}\n')
    command = daemon.glance_api_command()
    manage = [os.path.join(os.path.dirname(command[0]), 'glance-manage')] \
        if len(command) == 1 else [
            command[0], '-c', 'from glance.cmd.manage import main; main()']
    subprocess.run(manage + ['--config-file', str(conf), 'db', 'sync'],
                   check=True, capture_output=True, timeout=TIMEOUT)


def _drop(url):
    """Drop the database under the running daemon, closing its
    connections."""
    name = sa.engine.make_url(url).database
    variable, _ = test_db_backends.URL_VARIABLES['postgresql']
    admin = sa.create_engine(os.environ[variable],
                             isolation_level='AUTOCOMMIT',
                             poolclass=pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f'DROP DATABASE {name} WITH (FORCE)')
    finally:
        admin.dispose()
