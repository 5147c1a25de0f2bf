"""Loading the configuration file and the paste application.

`parse_args()` fills oslo.config's global CONF from the command line and
glance-api.conf; `check_values()` makes a bad value stop start-up;
`reload_config()` reads the files again on SIGHUP, only if they are good;
`load_paste_app()` builds the WSGI pipeline that `[paste_deploy] flavor`
names from glance-api-paste.ini.
"""
from importlib import metadata
import logging as std_logging
import os
import sys

from oslo_config import cfg
from oslo_log import log as logging
from paste import deploy

from glance import version

CONF = cfg.CONF
logging.register_options(CONF)

paste_deploy_opts = [
    cfg.StrOpt('flavor',
               help='Suffix of the paste pipeline to run: the pipeline is '
                    'the application name plus "-<flavor>". Empty means the '
                    'default (no authentication); "keystone" validates '
                    'tokens with keystonemiddleware.'),
    cfg.StrOpt('config_file',
               help='The paste configuration file. Relative paths are taken '
                    'from the directory of the service configuration file. '
                    'Default: glance-api-paste.ini beside glance-api.conf.'),
]
CONF.register_opts(paste_deploy_opts, group='paste_deploy')

common_opts = [
    cfg.StrOpt('state_path', default='/var/lib/glance',
               help='Top directory of the service state: the embedded '
                    'SQLite database and filesystem store live under it '
                    'unless configured elsewhere.'),
]
CONF.register_opts(common_opts)

PASTE_FILE = 'glance-api-paste.ini'


def _installed_config_dir():
    """Where pip installs etc/ (setup.cfg data_files): <prefix>/etc/glance."""
    return os.path.join(sys.prefix, 'etc', 'glance')


def parse_args(args=None, prog='glance-api', default_config_files=None):
    """Parse the command line and the configuration files into CONF."""
    if default_config_files is None:
        default_config_files = cfg.find_config_files('glance', prog)
        installed = os.path.join(_installed_config_dir(), prog + '.conf')
        if not default_config_files and os.path.exists(installed):
            default_config_files = [installed]
    CONF(args=sys.argv[1:] if args is None else args,
         project='glance', prog=prog,
         version=version.version_string,
         default_config_files=default_config_files)


def setup_logging():
    """Configure logging from the [DEFAULT] logging options (oslo.log).

    Run again after a reload, so that a changed `debug` (or log file)
    takes effect without a restart.
    """
    logging.setup(CONF, 'glance')
    # alembic reports each step of every schema check at INFO (seven lines
    # per start): only worth reading when debugging.
    std_logging.getLogger('alembic').setLevel(
        std_logging.NOTSET if CONF.debug else std_logging.WARNING)


class ConfigError(Exception):
    """A configuration that must not be served, in one line."""


def check_values(conf=CONF):
    """Read every registered option once.

    oslo.config converts a value only when it is first read, so a bad
    `image_size_cap` would otherwise pass start-up and fail the first
    upload. Raises ConfigError naming the option.
    """
    for name in list(conf):
        value = _read(conf, 'DEFAULT', name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for opt_name in list(value):
                _read(value, name, opt_name)


def _read(section, group_name, name):
    try:
        return section[name]
    except cfg.Error as error:
        # oslo.config's message names the option and where its value came
        # from; the conversion's own words (error.__context__) are shorter.
        reason = error.__context__ or error
        raise ConfigError(f'Invalid value for option {name} in '
                          f'[{group_name}]: {reason}') from error


# The option sets of the sample configuration
# (etc/oslo-config-generator/glance-api.conf): what a reload checks.
SAMPLE_NAMESPACES = ('glance.api', 'keystonemiddleware.auth_token',
                     'oslo.log', 'oslo.policy', 'oslo.middleware.cors',
                     'oslo.middleware.http_proxy_to_wsgi',
                     'oslo.middleware.healthcheck')


def _candidate(conf):
    """A fresh ConfigOpts with the options of the sample, read from the
    files `conf` was read from."""
    candidate = cfg.ConfigOpts()
    for entry_point in metadata.entry_points(group='oslo.config.opts'):
        if entry_point.name in SAMPLE_NAMESPACES:
            for group, opts in entry_point.load()():
                candidate.register_opts(opts, group=group)
    args = []
    for path in conf.config_file or []:
        args += ['--config-file', path]
    # A --config-dir given is a string; the ones found by default a list.
    config_dirs = conf.config_dir or []
    if isinstance(config_dirs, str):
        args += ['--config-dir', config_dirs]
        config_dirs = []
    candidate(args=args, project=conf.project, prog=conf.prog,
              default_config_files=[], default_config_dirs=config_dirs)
    return candidate


def reload_config(conf=CONF):
    """Read the configuration files again (SIGHUP).

    oslo.config's reload replaces the values in place and converts them
    only when they are read, so a bad value would be found once the
    running configuration is gone, and oslo.config has no public way to
    put the previous values back. The files are therefore first read into
    a fresh ConfigOpts holding the options of the sample, and every value
    of it is checked; only then is `conf` reloaded. Raises ConfigError,
    `conf` unchanged, when the files do not load or a value is invalid.
    (What only building the application finds, say a database not at
    the latest schema, comes after: the caller keeps the running
    application then.)
    """
    try:
        candidate = _candidate(conf)
    except (cfg.Error, SystemExit) as error:
        raise ConfigError(f'the configuration files do not load: '
                          f'{_one_line(error)}') from error
    check_values(candidate)
    if not conf.reload_config_files():
        raise ConfigError('the configuration files could not be read '
                          'again')


def _one_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _paste_config_path():
    configured = CONF.paste_deploy.config_file
    config_dirs = [os.path.dirname(os.path.abspath(f))
                   for f in reversed(CONF.config_file or [])]
    if isinstance(CONF.config_dir, str):
        config_dirs.insert(0, CONF.config_dir)
    elif CONF.config_dir:
        config_dirs[:0] = reversed(CONF.config_dir)
    if configured and os.path.isabs(configured):
        return configured
    name = configured or PASTE_FILE
    for directory in config_dirs + ['/etc/glance', _installed_config_dir()]:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise RuntimeError('Unable to find the paste configuration %s' % name)


def pipeline_name(app_name):
    flavor = CONF.paste_deploy.flavor
    return '%s-%s' % (app_name, flavor) if flavor else app_name


def load_paste_app(app_name):
    """Build the WSGI application `app_name` (plus the flavor suffix)."""
    path = _paste_config_path()
    name = pipeline_name(app_name)
    try:
        return deploy.loadapp('config:%s' % path, name=name)
    except LookupError as err:
        raise RuntimeError('Unable to load %s from %s: %s' % (name, path, err))


def list_opts():
    return [(None, common_opts), ('paste_deploy', paste_deploy_opts)]
