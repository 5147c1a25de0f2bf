"""The configuration: values checked at start, a reload that keeps the
running values unless the new ones are good, and the sample file."""
import os
import subprocess
import sys

import pytest

from glance.common import config
from tests import helpers

CONF = config.CONF
GENERATOR_CONF = os.path.join(helpers.REPO, 'etc',
                              'oslo-config-generator', 'glance-api.conf')
SAMPLE = os.path.join(helpers.REPO, 'etc', 'glance-api.conf')


def test_check_values_reads_every_option(tmp_path):
    helpers.configure(tmp_path, '[database]\nmax_pool_size = many\n')

    with pytest.raises(config.ConfigError) as error:
        config.check_values()

    assert str(error.value) == (
        'Invalid value for option max_pool_size in [database]: invalid '
        "literal for int() with base 10: 'many'")


def test_a_good_reload_takes_the_new_values(tmp_path):
    conf_file = helpers.configure(tmp_path, '[DEFAULT]\nworkers = 3\n')
    conf_file.write_text(conf_file.read_text() + 'image_tag_quota = 7\n')

    config.reload_config()

    assert (CONF.workers, CONF.image_tag_quota) == (3, 7)


@pytest.mark.parametrize('bad, reason', [
    ('workers = -5\n', 'Invalid value for option workers in [DEFAULT]: '
                       'Should be greater than or equal to 0'),
    ('hashing_algorithm = md6\n', 'Invalid value for option '
                                  'hashing_algorithm in [DEFAULT]: md6 is '
                                  'not a hashlib algorithm'),
    ('[DEFAULT\n', 'the configuration files do not load: '),
])
def test_a_bad_reload_leaves_the_running_values(tmp_path, bad, reason):
    conf_file = helpers.configure(tmp_path, '[DEFAULT]\nworkers = 3\n')
    conf_file.write_text(conf_file.read_text()
                         + 'image_tag_quota = 7\n' + bad)

    with pytest.raises(config.ConfigError) as error:
        config.reload_config()

    assert str(error.value).startswith(reason)
    assert (CONF.workers, CONF.image_tag_quota) == (3, 128)
    assert CONF.hashing_algorithm == 'sha512'


def test_the_sample_is_generated_from_the_namespaces_reload_checks(
        tmp_path):
    with open(GENERATOR_CONF) as conf:
        namespaces = [line.split('=', 1)[1].strip() for line in conf
                      if line.startswith('namespace')]
    assert tuple(namespaces) == config.SAMPLE_NAMESPACES
    output = tmp_path / 'glance-api.conf'

    subprocess.run(
        [os.path.join(os.path.dirname(sys.executable),
                      'oslo-config-generator'),
         '--config-file', GENERATOR_CONF, '--output-file', str(output)],
        check=True, cwd=helpers.REPO, timeout=60)

    with open(SAMPLE) as sample:
        assert output.read_text() == sample.read()


@pytest.mark.parametrize('option', ['max_request_body_size',
                                    'http_basic_auth_user_file',
                                    '[oslo_middleware_tracing]'])
def test_the_sample_lists_no_option_the_service_ignores(option):
    with open(SAMPLE) as sample:
        assert option not in sample.read()


def test_a_reload_checks_the_config_dir_too(tmp_path):
    conf_file = helpers.configure(tmp_path)
    conf_dir = tmp_path / 'glance-api.conf.d'
    conf_dir.mkdir()
    (conf_dir / 'quota.conf').write_text('[DEFAULT]\nimage_tag_quota = 7\n')
    config.CONF.reset()
    config.parse_args(['--config-file', str(conf_file),
                       '--config-dir', str(conf_dir)])
    assert CONF.image_tag_quota == 7
    (conf_dir / 'quota.conf').write_text('[DEFAULT]\nimage_tag_quota = x\n')

    with pytest.raises(config.ConfigError) as error:
        config.reload_config()

    assert str(error.value).startswith(
        'Invalid value for option image_tag_quota in [DEFAULT]: ')
    assert CONF.image_tag_quota == 7
