"""Loading the configuration file and the paste application.

`parse_args()` fills oslo.config's global CONF from the command line and
glance-api.conf; `load_paste_app()` builds the WSGI pipeline that
`[paste_deploy] flavor` names from glance-api-paste.ini.
"""
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
    """Configure logging from the [DEFAULT] logging options (oslo.log)."""
    logging.setup(CONF, 'glance')


def _paste_config_path():
    configured = CONF.paste_deploy.config_file
    config_dirs = [os.path.dirname(os.path.abspath(f))
                   for f in reversed(CONF.config_file or [])]
    if CONF.config_dir:
        config_dirs.insert(0, CONF.config_dir)
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
