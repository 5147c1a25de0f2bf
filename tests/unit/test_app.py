"""glance.app: the one start-up sequence; building the paste application
alone never touches the database schema."""

import sqlalchemy as sa

from glance import app
from glance.common import config
import glance.db
from glance.db import migration
from tests import helpers


def write_config(tmp_path):
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text(
        f'[DEFAULT]\nstate_path = {tmp_path / "state"}\n'
        f'[paste_deploy]\nconfig_file = '
        f'{helpers.PASTE_FILE}\n')
    return conf_file


def test_the_paste_app_alone_leaves_the_database_alone(tmp_path):
    config.CONF.reset()
    config.parse_args(['--config-file', str(write_config(tmp_path))])
    glance.db.reset()

    config.load_paste_app('glance-api')

    assert not (tmp_path / 'state' / 'glance.sqlite').exists()


def test_load_app_creates_the_sqlite_schema(tmp_path):
    config.CONF.reset()
    glance.db.reset()
    try:
        application = app.load_app(
            ['--config-file', str(write_config(tmp_path))])
        client = helpers.Client(application)
        assert client.get('/v2/images').json == {
            'images': [], 'first': '/v2/images',
            'schema': '/v2/schemas/images'}
        assert migration.current_version() == migration.head_version()
        tables = sa.inspect(glance.db.get_engine()).get_table_names()
        assert 'images' in tables
    finally:
        glance.db.reset()


def test_the_healthcheck_still_honours_its_disable_file(tmp_path,
                                                        client_with):
    disable_file = tmp_path / 'healthcheck_disable'
    with open(helpers.PASTE_FILE) as f:
        paste = f.read()
    assert 'disable_by_file_path = /etc/glance/healthcheck_disable' in paste
    paste_file = tmp_path / 'paste.ini'
    paste_file.write_text(paste.replace('/etc/glance/healthcheck_disable',
                                        str(disable_file)))
    client = client_with(f'[paste_deploy]\nconfig_file = {paste_file}\n')
    assert (client.get('/healthcheck').status_int,
            client.get('/healthcheck').text) == (200, 'OK')

    disable_file.write_text('')

    assert (client.get('/healthcheck').status_int,
            client.get('/healthcheck').text) == (503, 'DISABLED BY FILE')
