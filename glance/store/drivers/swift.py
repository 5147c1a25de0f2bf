"""The Swift store: image data as objects in OpenStack Swift.

Locations, as glance_store writes them:

    swift+config://<reference>/<container>/<image_id>     (glance-swift.conf)
    swift+https://<user>:<key>@<auth address>/<container>/<image_id>
    swift+https://<storage URL>/<container>_<image_id>/<image_id>
        (multi-tenant)

(`swift+http` when the address is plain http; `swift://` reads as https.)

An image of known size below swift_store_large_object_size is one
streamed PUT: Swift keeps nothing of a PUT whose body does not end, so a
failed or killed upload leaves no object. Larger images, and those of
unknown size, go up as segments of at most swift_store_large_object_
chunk_size and then a DLO manifest (X-Object-Manifest), as upstream
writes them. Segments are named `<image_id>.<attempt>-00001`, ...: the
upload attempt in the name lets a restart's sweep find and delete those
of an upload that died, while upstream's own `<image_id>-00001` segments
never look like ours. Reads are streamed, ranged reads are Swift ranged
GETs.

Authentication is Keystone v3 (keystoneauth1), with the credentials of a
glance-swift.conf reference or of the inline options; with
swift_store_multi_tenant, the requesting user's token and the object
store of their project. swift_store_auth_version = 1 (an addition) uses
Swift's own v1 authentication (tempauth) instead.
"""
import configparser
import os
import re
import secrets
import threading
import types
import urllib.parse

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import log as logging

from glance.common import exception
from glance.store import driver
from glance.store import location

LOG = logging.getLogger(__name__)

swift_opts = [
    cfg.BoolOpt('swift_store_auth_insecure', default=False,
                help='Do not verify the TLS certificates of Keystone and '
                     'Swift. Only for testing.'),
    cfg.StrOpt('swift_store_cacert',
               help='CA bundle (PEM) verifying the TLS certificates of '
                    'Keystone and Swift.'),
    cfg.StrOpt('swift_store_region',
               help='Region of the object-store endpoint taken from the '
                    'service catalog.'),
    cfg.StrOpt('swift_store_endpoint',
               help='Storage URL to use instead of the one in the service '
                    'catalog, up to but excluding the container, for '
                    'example https://swift.example.com/v1/AUTH_xyz.'),
    cfg.StrOpt('swift_store_endpoint_type', default='publicURL',
               choices=('publicURL', 'adminURL', 'internalURL'),
               help='Interface of the object-store endpoint taken from the '
                    'service catalog.'),
    cfg.StrOpt('swift_store_service_type', default='object-store',
               help='Service type of Swift in the service catalog.'),
    cfg.StrOpt('swift_store_container', default='glance',
               help='Container images are stored in (with '
                    'swift_store_multiple_containers_seed or in '
                    'multi-tenant mode, the prefix of the containers\' '
                    'names).'),
    cfg.IntOpt('swift_store_large_object_size', default=5 * 1024, min=1,
               help='Images of this size or more (in MB of 1000 KiB, as '
                    'upstream counts), and images of unknown size, are '
                    'stored as segments under a manifest.'),
    cfg.IntOpt('swift_store_large_object_chunk_size', default=200, min=1,
               help='Size of the segments of large images, in MB of '
                    '1000 KiB.'),
    cfg.BoolOpt('swift_store_create_container_on_put', default=False,
                help='Create the container when it does not exist, '
                     'instead of failing the upload.'),
    cfg.BoolOpt('swift_store_multi_tenant', default=False,
                help='Store images in the Swift account of the project '
                     'uploading them, with the user\'s token, one '
                     'container per image.'),
    cfg.IntOpt('swift_store_multiple_containers_seed', default=0,
               min=0, max=32,
               help='Single-tenant mode: spread images over 16^N '
                    'containers named <swift_store_container>_<the first '
                    'N characters of the image id> (dashes kept but not '
                    'counted). 0 uses one container.'),
    cfg.ListOpt('swift_store_admin_tenants', default=[],
                help='Multi-tenant mode: projects given write access '
                     '(X-Container-Write) to every image container.'),
    cfg.BoolOpt('swift_store_ssl_compression', default=True,
                help='Compress TLS traffic to Swift.'),
    cfg.IntOpt('swift_store_retry_get_count', default=0, min=0,
               help='How many times a download cut short by Swift is '
                    'resumed (with a ranged GET from where it stopped).'),
    cfg.IntOpt('swift_store_expire_soon_interval', default=60, min=0,
               help='Seconds before its expiry at which the service\'s '
                    'token is renewed.'),
    cfg.BoolOpt('swift_store_use_trusts', default=True,
                help='Multi-tenant mode: accepted for compatibility; the '
                     'user\'s token is used (no Keystone trust is '
                     'created).'),
    cfg.BoolOpt('swift_buffer_on_upload', default=False,
                help='Accepted for compatibility: segments are streamed, '
                     'never buffered (a failed upload is removed whole).'),
    cfg.StrOpt('swift_upload_buffer_dir',
               help='Accepted for compatibility (see '
                    'swift_buffer_on_upload).'),
    cfg.StrOpt('default_swift_reference', default='ref1',
               help='The reference (section of swift_store_config_file, '
                    'or the name of the inline credentials) whose account '
                    'new images go to.'),
    cfg.StrOpt('swift_store_config_file',
               help='glance-swift.conf: one section per reference, each '
                    'with auth_address (a Keystone v3 URL), user '
                    '(project:user) and key, or application_credential_id '
                    'and application_credential_secret; optional '
                    'user_domain_id/_name and project_domain_id/_name. '
                    'Locations then read swift+config://<reference>/..., '
                    'without credentials.'),
    cfg.StrOpt('swift_store_auth_version', default='3',
               help='3 (Keystone v3; 2 is read as 3, as upstream does). '
                    '1 uses Swift\'s own v1 authentication (tempauth) '
                    'with swift_store_auth_address, _user and _key.'),
    cfg.StrOpt('swift_store_auth_address',
               help='Keystone v3 URL of the inline credentials (used '
                    'without swift_store_config_file).'),
    cfg.StrOpt('swift_store_user',
               help='Inline credentials: project:user.'),
    cfg.StrOpt('swift_store_key', secret=True,
               help='Inline credentials: the user\'s password.'),
    cfg.StrOpt('swift_store_application_credential_id',
               help='Inline credentials: a Keystone application '
                    'credential, instead of user and key.'),
    cfg.StrOpt('swift_store_application_credential_secret', secret=True,
               help='The secret of swift_store_application_credential_id.'),
    cfg.StrOpt('swift_store_project_name',
               help='Project of the application credential (optional).'),
    cfg.StrOpt('swift_store_project_id',
               help='Project id of the application credential (optional).'),
]

# Upstream's "MB".
ONE_MB = 1000 * 1024
# Bytes per read of a download: large, as few Python steps per GB.
READ_CHUNK_SIZE = 1024 * 1024
SCHEMES = ('swift+https', 'swift', 'swift+http', 'swift+config')
_INTERFACES = {'publicURL': 'public', 'adminURL': 'admin',
               'internalURL': 'internal'}
# The segments this driver writes: <object>.<attempt>-<number>.
_OUR_SEGMENT = re.compile(r'^(?P<prefix>.+\.[A-Za-z0-9]+-)\d{5,}$')
# The location of the segments of one upload attempt, "<object>.<attempt>-"
# (the manifest's prefix; never itself an object).
_SEGMENT_SET = re.compile(r'^.+\.[A-Za-z0-9]+-$')


def bad_uri(uri, reason='The Store URI was malformed'):
    return exception.Invalid(f'{reason}: {_without_credentials(uri)}')


def _without_credentials(uri):
    scheme, _, rest = uri.partition('://')
    host_and_path = rest.rpartition('@')[2]
    return f'{scheme}://{host_and_path}'


class SwiftLocation(location.StoreLocation):
    """A swift location: `reference` (swift+config) or `auth_address`
    with `user` and `key` (or, in multi-tenant locations, the storage
    URL as auth_address and no credentials), then `container`, `obj`."""

    def parse_uri(self, uri):
        if self.scheme not in SCHEMES:
            raise bad_uri(uri)
        rest = uri[len(self.scheme) + 3:]
        if '://' in rest:
            raise exception.Invalid(
                'URI cannot contain more than one occurrence of a scheme. '
                'If you have specified a URI like swift://user:pass@http://'
                'authurl.com/v1/container/obj, you need to change it to use '
                'the swift+http:// scheme, like so: swift+http://user:pass@'
                'authurl.com/v1/container/obj')
        credentials, _, path = rest.rpartition('@')
        self.user = self.key = None
        if credentials:
            user, separator, key = credentials.rpartition(':')
            if not separator or not user:
                raise bad_uri(uri, 'Badly formed credentials in Swift URI')
            self.user = urllib.parse.unquote(user)
            self.key = urllib.parse.unquote(key)
        parts = path.split('/')
        if len(parts) < 3 or not all(parts[-2:]) or not parts[0]:
            raise bad_uri(uri, 'Badly formed Swift URI')
        self.container = urllib.parse.unquote(parts[-2])
        self.obj = urllib.parse.unquote(parts[-1])
        address = '/'.join(parts[:-2])
        if self.scheme == 'swift+config':
            self.reference = urllib.parse.unquote(address)
            self.auth_address = None
        else:
            self.reference = None
            web_scheme = 'http' if self.scheme == 'swift+http' else 'https'
            self.auth_address = f'{web_scheme}://{address}'


def location_uri(scheme, address, container, obj, user=None, key=None):
    """A location URI; `address` is without its web scheme."""
    credentials = ''
    if user is not None:
        credentials = (urllib.parse.quote(user, safe='') + ':'
                       + urllib.parse.quote(key or '', safe='') + '@')
    return (f'{scheme}://{credentials}{address}/'
            f'{urllib.parse.quote(container)}/{urllib.parse.quote(obj)}')


def _split_address(url):
    """('swift+http' or 'swift+https', url without its scheme)."""
    if url.startswith('http://'):
        return 'swift+http', url[len('http://'):]
    return 'swift+https', url.partition('://')[2] or url


# --- credentials ------------------------------------------------------------

class Reference:
    """One set of credentials: a glance-swift.conf section, or the
    inline options."""

    def __init__(self, name, auth_address, user=None, key=None,
                 application_credential_id=None,
                 application_credential_secret=None, project_name=None,
                 project_id=None, user_domain_id=None, user_domain_name=None,
                 project_domain_id=None, project_domain_name=None):
        self.name = name
        self.auth_address = auth_address
        self.user = user
        self.key = key
        self.application_credential_id = application_credential_id
        self.application_credential_secret = application_credential_secret
        self.project_name = project_name
        self.project_id = project_id
        # Neither id nor name given: the "default" domain, as upstream.
        if not user_domain_name:
            user_domain_id = user_domain_id or 'default'
        if not project_domain_name:
            project_domain_id = project_domain_id or 'default'
        self.user_domain_id = user_domain_id
        self.user_domain_name = user_domain_name
        self.project_domain_id = project_domain_id
        self.project_domain_name = project_domain_name

    @property
    def cache_key(self):
        return tuple(sorted(vars(self).items()))

    def keystone_auth(self):
        if self.application_credential_id:
            return _swift().v3.ApplicationCredential(
                auth_url=self.auth_address,
                application_credential_id=self.application_credential_id,
                application_credential_secret=(
                    self.application_credential_secret))
        project, _, username = (self.user or '').rpartition(':')
        return _swift().v3.Password(
            auth_url=self.auth_address, username=username,
            password=self.key, project_name=project or None,
            user_domain_id=self.user_domain_id,
            user_domain_name=self.user_domain_name,
            project_domain_id=self.project_domain_id,
            project_domain_name=self.project_domain_name)


def _unquoted(value, section, key):
    value = value.strip()
    if value[:1] in ('"', "'"):
        if len(value) < 2 or value[-1] != value[0]:
            raise ValueError(f'unclosed quote in [{section}] {key}')
        return value[1:-1]
    return value


def read_references(path):
    """{name: Reference} from a glance-swift.conf; ValueError or OSError
    when it cannot be read. Sections lacking credentials are skipped."""
    parser = configparser.RawConfigParser()
    with open(path) as config_file:
        parser.read_file(config_file)
    references = {}
    for section in parser.sections():
        values = {key: _unquoted(value, section, key)
                  for key, value in parser.items(section)}
        address = values.get('auth_address')
        if address and '://' not in address:
            address = 'https://' + address  # TLS unless said otherwise
        fields = {name: values.get(name) for name in (
            'user', 'key', 'application_credential_id',
            'application_credential_secret', 'project_name', 'project_id',
            'user_domain_id', 'user_domain_name', 'project_domain_id',
            'project_domain_name')}
        if not address or not (
                (fields['user'] and fields['key'])
                or (fields['application_credential_id']
                    and fields['application_credential_secret'])):
            LOG.error('Swift reference %s in %s lacks auth_address and '
                      'credentials (user and key, or an application '
                      'credential): ignored', section, path)
            continue
        if fields['application_credential_id'] and \
                fields['application_credential_secret']:
            fields['user'] = fields['key'] = None
        references[section] = Reference(section, address, **fields)
    return references


# swiftclient and keystoneauth1 (with requests), imported on first use,
# as the s3 driver does boto3: a process without a Swift store would
# carry them for nothing (about 20 MiB).
_clients = None


def _swift():
    """The client libraries: keystoneauth1's `session` and `v3`,
    swiftclient's `ClientException`, `Connection` (ours), and
    `network_errors`, what failing to reach Swift or Keystone raises."""
    global _clients
    if _clients is None:
        from keystoneauth1 import exceptions as ks_exceptions
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import v3
        import requests
        from swiftclient import client as swiftclient
        from swiftclient import exceptions as swift_exceptions
        import urllib3

        # swiftclient logs every request and answer at INFO: only its
        # warnings (oslo.log's default_log_levels still overrides this).
        logging.getLogger('swiftclient').logger.setLevel('WARNING')

        class Connection(swiftclient.Connection):
            """swiftclient's connection, with the storage URL fixed by
            swift_store_endpoint (or a multi-tenant location) when
            given."""

            def __init__(self, storage_url=None, on_auth=None, **kwargs):
                self.storage_url_override = storage_url
                self.on_auth = on_auth
                super().__init__(**kwargs)

            def get_auth(self):
                url, token = super().get_auth()
                if self.on_auth is not None:
                    self.on_auth(url, token)
                return self.storage_url_override or url, token

        _clients = types.SimpleNamespace(
            session=ks_session, v3=v3,
            ClientException=swift_exceptions.ClientException,
            Connection=Connection,
            network_errors=(requests.RequestException,
                            urllib3.exceptions.HTTPError, OSError,
                            ks_exceptions.ClientException))
    return _clients


class _DataFailed(Exception):
    """The caller's data iterator raised while swiftclient sent it: kept
    apart from network errors, which swiftclient would retry."""


def _guarded(chunks):
    try:
        yield from chunks
    except BaseException as error:
        raise _DataFailed() from error


class Store(driver.Store):
    NAME = 'swift'
    SCHEMES = SCHEMES
    LOCATION_CLASS = SwiftLocation
    OPTS = swift_opts

    references = None

    # --- configuration ----------------------------------------------------

    def configure_read(self):
        conf = self.store_conf
        self.multi_tenant = conf.swift_store_multi_tenant
        self.container = conf.swift_store_container
        self.seed = conf.swift_store_multiple_containers_seed
        self.large_object_size = conf.swift_store_large_object_size * ONE_MB
        self.chunk_bytes = conf.swift_store_large_object_chunk_size * ONE_MB
        self.create_container = conf.swift_store_create_container_on_put
        self.endpoint = conf.swift_store_endpoint
        self.catalog_options = {
            'service_type': conf.swift_store_service_type,
            'endpoint_type': _INTERFACES[conf.swift_store_endpoint_type],
            'region_name': conf.swift_store_region}
        self.verify = (False if conf.swift_store_auth_insecure
                       else conf.swift_store_cacert or True)
        self.ssl_compression = conf.swift_store_ssl_compression
        self.retry_get_count = conf.swift_store_retry_get_count
        self.expire_soon = conf.swift_store_expire_soon_interval
        self.admin_tenants = [t.strip() for t in
                              conf.swift_store_admin_tenants if t.strip()]
        self.v1_auth = (conf.swift_store_auth_version or '3').strip() == '1'
        self.default_reference = conf.default_swift_reference
        self.config_file = conf.swift_store_config_file
        if self.config_file:
            try:
                self.references = read_references(self.config_file)
            except (OSError, ValueError, configparser.Error) as error:
                raise self.bad_configuration(
                    f'Error reading swift config file '
                    f'{self.config_file}: {error}')
        else:
            self.references = self._inline_reference(conf)
        self._sessions = {}
        self._sessions_lock = threading.Lock()
        self._v1_tokens = {}

    def _inline_reference(self, conf):
        address = conf.swift_store_auth_address
        if not address:
            return {}
        if '://' not in address:
            address = 'https://' + address
        return {self.default_reference: Reference(
            self.default_reference, address,
            user=conf.swift_store_user, key=conf.swift_store_key,
            application_credential_id=(
                conf.swift_store_application_credential_id),
            application_credential_secret=(
                conf.swift_store_application_credential_secret),
            project_name=conf.swift_store_project_name,
            project_id=conf.swift_store_project_id)}

    def configure_add(self):
        if self.multi_tenant:
            if self.config_file:
                raise self.bad_configuration(
                    'Swift multi-tenant store cannot be configured to work '
                    'with swift+config. The Swift multi-tenant store is not '
                    'compatible with swift_store_config_file')
            return
        reference = self.references.get(self.default_reference)
        if reference is None or not reference.auth_address:
            raise self.bad_configuration(
                'A value for swift_store_auth_address is required.')
        if not ((reference.user and reference.key) or (
                reference.application_credential_id
                and reference.application_credential_secret)):
            raise self.bad_configuration(
                'A value for swift_store_ref_params (user/key or '
                'application credentials) is required.')

    def properties(self):
        return {'container': self.container,
                'large_object_size': self.large_object_size,
                'large_object_chunk_size': self.chunk_bytes}

    def owns(self, uri):
        try:
            loc = SwiftLocation(uri)
        except exception.Invalid:
            return False
        if not (loc.container == self.container
                or loc.container.startswith(self.container + '_')):
            return False
        if self.multi_tenant:
            return loc.user is None and loc.reference is None
        if self.config_file:
            return loc.reference == self.default_reference
        reference = self.references.get(self.default_reference)
        return (reference is not None and loc.reference is None
                and loc.auth_address == reference.auth_address
                and loc.user == reference.user)

    # --- connections --------------------------------------------------------

    def _session(self, reference):
        """A keystoneauth session of `reference`, shared by this
        process: it keeps its token and renews it as it nears its end.

        Not by the processes forked after it was made (glance-api's
        master sweeps the stores before it forks its workers): they
        would share its pooled connections, and answers would mix.
        """
        key = (os.getpid(), reference.cache_key)
        with self._sessions_lock:
            session = self._sessions.get(key)
            if session is None:
                auth = reference.keystone_auth()
                # Renewed this long before it expires.
                auth.MIN_TOKEN_LIFE_SECONDS = self.expire_soon
                session = _swift().session.Session(auth=auth,
                                                   verify=self.verify)
                self._sessions[key] = session
        return session

    def _connect(self, reference, storage_url=None, retries=5):
        common = {'retries': retries, 'insecure': self.verify is False,
                  'cacert': self.verify if isinstance(self.verify, str)
                  else None,
                  'ssl_compression': self.ssl_compression,
                  'starting_backoff': 0.5}
        if self.v1_auth:
            # Its token is kept for the next connections (and renewed by
            # swiftclient when Swift refuses it).
            key = reference.cache_key
            url, token = self._v1_tokens.get(key, (None, None))
            override = storage_url or self.endpoint
            return _swift().Connection(
                override, authurl=reference.auth_address,
                user=reference.user, key=reference.key, auth_version='1',
                preauthurl=override or url, preauthtoken=token,
                on_auth=lambda url, token: self._v1_tokens.__setitem__(
                    key, (url, token)), **common)
        return _swift().Connection(storage_url or self.endpoint,
                           session=self._session(reference),
                           os_options=dict(self.catalog_options), **common)

    def _reference(self, name):
        reference = (self.references or {}).get(name)
        if reference is None:
            raise exception.Invalid(
                'Badly formed Swift URI. Credentials not found for account '
                'reference')
        return reference

    def _user_connection(self, storage_url=None, retries=5):
        """Multi-tenant: a connection with the requesting user's token to
        their project's storage URL (or `storage_url`). Without a user
        (the service's own sweeps), the default reference's service
        credentials, which the admin tenants' ACLs let in."""
        request = oslo_context.get_current()
        token = getattr(request, 'auth_token', None)
        if token is None:
            if self.default_reference in (self.references or {}):
                return self._connect(self.references[
                    self.default_reference], storage_url, retries)
            raise exception.StoreUnavailable(
                'Multi-tenant Swift storage requires a context.')
        if storage_url is None:
            storage_url = self.endpoint or self._catalog_url(request)
        return _swift().Connection(storage_url, preauthurl=storage_url,
                           preauthtoken=token, retries=retries,
                           insecure=self.verify is False,
                           cacert=self.verify if isinstance(self.verify, str)
                           else None,
                           ssl_compression=self.ssl_compression)

    def _catalog_url(self, request):
        catalog = getattr(request, 'service_catalog', None)
        if not catalog:
            raise exception.StoreUnavailable(
                'Multi-tenant Swift storage requires a service catalog.')
        options = self.catalog_options
        for service in catalog:
            if service.get('type') != options['service_type']:
                continue
            for endpoint in service.get('endpoints') or ():
                if options['region_name'] and options['region_name'] not in (
                        endpoint.get('region'), endpoint.get('region_id')):
                    continue
                # Keystonemiddleware's v2-style catalog, or a v3 one.
                url = endpoint.get(options['endpoint_type'] + 'URL')
                if url is None and endpoint.get('interface') == \
                        options['endpoint_type']:
                    url = endpoint.get('url')
                if url:
                    return url
        raise exception.StoreUnavailable(
            'No object-store endpoint found in the service catalog.')

    def _connection_for(self, loc, retries=5):
        """A connection to the account holding `loc`."""
        if loc.reference is not None:
            return self._connect(self._reference(loc.reference),
                                 retries=retries)
        if loc.user is None:  # multi-tenant: the storage URL itself
            return self._user_connection(loc.auth_address, retries)
        return self._connect(Reference(None, loc.auth_address, loc.user,
                                       loc.key), retries=retries)

    def _operate(self, loc, operation, retries=5):
        """(operation(connection), connection) on the account of `loc`;
        the caller closes the connection.

        Multi-tenant: an image of another project (shared with the user,
        public, or deleted by an admin) refuses the user's token; glance
        has already checked the user may do this, so the service's
        credentials try next, which the admin tenants' ACLs let in."""
        connection = self._connection_for(loc, retries)
        try:
            return operation(connection), connection
        except _swift().ClientException as error:
            connection.close()
            service = (self.references or {}).get(self.default_reference)
            if not (loc.user is None and loc.reference is None
                    and error.http_status in (401, 403)
                    and service is not None and connection.session is None):
                raise
        except BaseException:
            connection.close()
            raise
        connection = self._connect(service, loc.auth_address, retries)
        try:
            return operation(connection), connection
        except BaseException:
            connection.close()
            raise

    # --- where new images go -----------------------------------------------

    def _container_for(self, image_id):
        if self.multi_tenant:
            return f'{self.container}_{image_id}'
        if not self.seed:
            return self.container
        counted = 0
        for end, char in enumerate(image_id.lower(), 1):
            counted += char != '-'
            if counted == self.seed:
                return f'{self.container}_{image_id.lower()[:end]}'
        return f'{self.container}_{image_id.lower()}'

    def _new_location(self, image_id, obj, storage_url=None):
        container = self._container_for(image_id)
        if self.multi_tenant:
            scheme, address = _split_address(storage_url)
            return location_uri(scheme, address, container, obj)
        if self.config_file:
            return location_uri('swift+config', self.default_reference,
                                container, obj)
        reference = self.references[self.default_reference]
        scheme, address = _split_address(reference.auth_address)
        return location_uri(scheme, address, container, obj,
                            reference.user, reference.key)

    def _writer_connection(self, retries=5):
        """(connection, storage URL or None) for writing new images."""
        if self.multi_tenant:
            connection = self._user_connection(retries=retries)
            return connection, connection.storage_url_override
        return self._connect(self.references[self.default_reference],
                             retries=retries), None

    @staticmethod
    def _check_image_id(image_id):
        if (not isinstance(image_id, str) or not image_id
                or '/' in image_id or '.' in image_id):
            raise exception.Invalid(f'Invalid image id {image_id!r}')

    @staticmethod
    def _segment_prefix(image_id, attempt):
        if not attempt.isalnum():
            raise exception.Invalid(f'Invalid upload attempt {attempt!r}')
        return f'{image_id}.{attempt}-'

    def leftovers(self, image_id, attempt):
        self._check_image_id(image_id)
        storage_url = None
        if self.multi_tenant:
            storage_url = self._user_connection(
                retries=0).storage_url_override
            if storage_url is None:
                return []
        return [self._new_location(image_id, name, storage_url)
                for name in (self._segment_prefix(image_id, attempt),
                             image_id)]

    def stray_partials(self):
        """The segment sets (as "<object>.<attempt>-" locations) of uploads
        that never wrote their manifest. Multi-tenant stores cannot list
        their users' accounts: none there."""
        if self.multi_tenant or self.add_disabled_reason is not None:
            return []
        found = []
        try:
            connection = self._connect(
                self.references[self.default_reference], retries=1)
            try:
                for container in self._our_containers(connection):
                    found += self._partials_in(connection, container)
            finally:
                connection.close()
        except _swift().network_errors + (_swift().ClientException,
                                  exception.GlanceException) as error:
            LOG.warning('Could not list unfinished uploads in Swift store '
                        '%s: %s', self.backend_id, error)
        return found

    def _our_containers(self, connection):
        if not self.seed:
            return [self.container]
        _headers, containers = connection.get_account(
            prefix=self.container + '_', full_listing=True)
        return [entry['name'] for entry in containers]

    def _partials_in(self, connection, container):
        try:
            _headers, objects = connection.get_container(
                container, full_listing=True)
        except _swift().ClientException as error:
            if error.http_status == 404:
                return []
            raise
        prefixes = {match['prefix'] for entry in objects
                    if (match := _OUR_SEGMENT.match(entry['name']))}
        names = {entry['name'] for entry in objects}
        found = []
        for prefix in sorted(prefixes):
            obj = prefix.rpartition('.')[0]
            if obj in names and self._manifest_prefix(
                    connection, container, obj) == f'{container}/{prefix}':
                continue  # a finished image's segments
            found.append(self._new_location_in(container, prefix))
        return found

    def _new_location_in(self, container, obj):
        if self.config_file:
            return location_uri('swift+config', self.default_reference,
                                container, obj)
        reference = self.references[self.default_reference]
        scheme, address = _split_address(reference.auth_address)
        return location_uri(scheme, address, container, obj,
                            reference.user, reference.key)

    @staticmethod
    def _manifest_prefix(connection, container, obj):
        try:
            headers = connection.head_object(container, obj)
        except _swift().ClientException as error:
            if error.http_status == 404:
                return None
            raise
        return urllib.parse.unquote(headers.get('x-object-manifest', ''))

    # --- writing ------------------------------------------------------------

    def add(self, image_id, data, size=None, attempt=None):
        self._check_image_id(image_id)
        prefix = self._segment_prefix(image_id, attempt or _random_token())
        # Retries would resend data that cannot be replayed.
        connection, storage_url = self._writer_connection(retries=0)
        container = self._container_for(image_id)
        written_segments = []
        try:
            self._check_container(connection, container)
            if self._manifest_prefix(connection, container,
                                     image_id) is not None:
                raise exception.Duplicate(
                    'Swift already has an image at this location')
            counter = _Counter(data)
            if size and size < self.large_object_size:
                connection.put_object(container, image_id,
                                      _guarded(counter))
            else:
                self._put_segments(connection, container, prefix, counter,
                                   written_segments)
                connection.put_object(
                    container, image_id, b'', content_length=0,
                    headers={'X-Object-Manifest': urllib.parse.quote(
                        f'{container}/{prefix}')})
        except BaseException as error:
            # The connection may be mid-request: closing it makes Swift
            # drop an unfinished PUT.
            connection.close()
            self._remove_segments(container, written_segments)
            if isinstance(error, _DataFailed):
                raise error.__cause__
            raise _add_error(error)
        finally:
            connection.close()
        return (self._new_location(image_id, image_id, storage_url),
                counter.count, {})

    def _check_container(self, connection, container):
        try:
            connection.head_container(container)
            return
        except _swift().ClientException as error:
            if error.http_status != 404:
                raise
        if not (self.create_container or self.multi_tenant):
            raise exception.StoreError(
                f'The container {container} does not exist in Swift. Please '
                'set the swift_store_create_container_on_put option to add '
                'container to Swift automatically.')
        headers = {}
        if self.multi_tenant and self.admin_tenants:
            # Read too: the service's own sweeps list and delete what a
            # dead upload left there.
            acl = ','.join(f'{tenant}:*' for tenant in self.admin_tenants)
            headers['X-Container-Write'] = headers['X-Container-Read'] = acl
        connection.put_container(container, headers=headers)

    def _put_segments(self, connection, container, prefix, counter, written):
        """Stream `counter`'s chunks as segments of at most chunk_bytes,
        never holding more than one incoming chunk."""
        chunks = _Rechunker(counter, self.chunk_bytes)
        number = 0
        while True:
            segment = chunks.next_segment()
            if segment is None:
                break
            number += 1
            name = f'{prefix}{number:05d}'
            written.append(name)
            if connection.session is not None and number > 1:
                # A fresh token (keystoneauth's, renewed before it
                # expires) per segment: a PUT of streamed data cannot be
                # repeated after a 401.
                connection.token = None
            connection.put_object(container, name, _guarded(segment))
        if number == 0:
            # No data at all: one empty segment, so that the manifest
            # has what upstream's readers expect.
            written.append(f'{prefix}00001')
            connection.put_object(container, written[-1], b'',
                                  content_length=0)

    def _remove_segments(self, container, names):
        if not names:
            return
        try:
            connection, _url = self._writer_connection(retries=2)
        except Exception as error:
            LOG.warning('Could not remove the segments of a failed upload '
                        'from %s: %s', container, error)
            return
        try:
            for name in names:
                try:
                    connection.delete_object(container, name)
                except _swift().ClientException as error:
                    if error.http_status != 404:
                        LOG.warning('Could not remove segment %s/%s: %s',
                                    container, name, error)
        except Exception as error:
            LOG.warning('Could not remove the segments of a failed upload '
                        'from %s: %s', container, error)
        finally:
            connection.close()

    # --- reading ------------------------------------------------------------

    def get(self, location, offset=0, length=None, chunk_size=None):
        if length == 0:
            return iter(()), self.get_size(location)
        chunk_size = chunk_size or READ_CHUNK_SIZE
        try:
            (headers, body), connection = self._operate(
                location, lambda connection: self._ranged_get(
                    connection, location, offset, length, chunk_size))
        except BaseException as error:
            raise _read_error(error, location)
        total = _total_size(headers)
        chunks = self._resuming(connection, location, body, offset, length,
                                chunk_size)
        return driver.ChunkIterator(chunks, connection.close), total

    @staticmethod
    def _ranged_get(connection, loc, offset, length, chunk_size):
        headers = {}
        if offset or length is not None:
            end = '' if length is None else str(offset + length - 1)
            headers['Range'] = f'bytes={offset}-{end}'
        return connection.get_object(loc.container, loc.obj,
                                     resp_chunk_size=chunk_size,
                                     headers=headers)

    def _resuming(self, connection, loc, body, offset, length, chunk_size):
        """The body's chunks; a read cut short is resumed from where it
        stopped, swift_store_retry_get_count times at most."""
        position = offset
        retries_left = self.retry_get_count
        while True:
            try:
                for chunk in body:
                    position += len(chunk)
                    yield chunk
                return
            except _swift().network_errors + (_swift().ClientException,) \
                    as error:
                if retries_left <= 0:
                    raise exception.StoreUnavailable(
                        f'Reading from Swift failed: {error}')
                retries_left -= 1
                LOG.warning('Swift read of %s/%s cut short at byte %d: '
                            'resuming', loc.container, loc.obj, position)
                body.close()
                remaining = (None if length is None
                             else length - (position - offset))
                if remaining == 0:
                    return
                try:
                    _headers, body = self._ranged_get(
                        connection, loc, position, remaining, chunk_size)
                except BaseException as error:
                    raise _read_error(error, loc)

    def get_size(self, location):
        try:
            headers, connection = self._operate(
                location, lambda connection: connection.head_object(
                    location.container, location.obj), retries=1)
            connection.close()
            return int(headers.get('content-length', 0))
        except Exception:
            return 0  # as upstream: unknown

    # --- deleting -----------------------------------------------------------

    def delete(self, location):
        try:
            _nothing, connection = self._operate(
                location, lambda connection: self._delete(connection,
                                                          location))
        except exception.GlanceException:
            raise
        except Exception as error:
            raise exception.StoreUnavailable(
                f'Deleting from Swift failed: {error}')
        connection.close()

    def _delete(self, connection, loc):
        container, obj = loc.container, loc.obj
        try:
            headers = connection.head_object(container, obj)
        except _swift().ClientException as error:
            if error.http_status != 404:
                raise
            if _SEGMENT_SET.match(obj):
                return self._delete_segment_set(connection, container, obj)
            raise exception.ImageDataNotFound(
                'Swift could not find image at URI.')
        if headers.get('x-static-large-object', '').lower() == 'true':
            connection.delete_object(
                container, obj, query_string='multipart-manifest=delete')
        else:
            manifest = headers.get('x-object-manifest')
            if manifest:
                segments_container, _, prefix = urllib.parse.unquote(
                    manifest).partition('/')
                self._delete_prefixed(connection, segments_container, prefix)
            _delete_quietly(connection, container, obj)
        if self.multi_tenant:
            self._delete_image_container(connection, container)

    def _delete_segment_set(self, connection, container, prefix):
        """The segments of one upload attempt, unless they became an
        image meanwhile (its manifest points at them)."""
        obj = prefix.rpartition('.')[0]
        if self._manifest_prefix(connection, container,
                                 obj) == f'{container}/{prefix}':
            return
        deleted = self._delete_prefixed(connection, container, prefix)
        if self.multi_tenant:
            self._delete_image_container(connection, container)
        if not deleted:
            raise exception.ImageDataNotFound(
                'Swift could not find image at URI.')

    def _delete_image_container(self, connection, container):
        """Multi-tenant: the image's own container, once empty."""
        if not container.startswith(self.container + '_'):
            return
        try:
            connection.delete_container(container)
        except _swift().ClientException as error:
            # 403: the service's own sweeps may empty a user's container
            # (its ACLs) but not remove it.
            if error.http_status not in (403, 404, 409):
                raise

    @staticmethod
    def _delete_prefixed(connection, container, prefix):
        """Delete every object named prefix*; returns how many."""
        try:
            _headers, objects = connection.get_container(
                container, prefix=prefix, full_listing=True)
        except _swift().ClientException as error:
            if error.http_status == 404:
                return 0
            raise
        for entry in objects:
            _delete_quietly(connection, container, entry['name'])
        return len(objects)


def _delete_quietly(connection, container, obj):
    try:
        connection.delete_object(container, obj)
    except _swift().ClientException as error:
        if error.http_status != 404:
            raise


def _random_token():
    return secrets.token_hex(8)


def _total_size(headers):
    """The whole object's size, from Content-Range or Content-Length."""
    content_range = headers.get('content-range')
    if content_range:
        total = content_range.rpartition('/')[2]
        return int(total) if total.isdigit() else None
    try:
        return int(headers['content-length'])
    except (KeyError, ValueError):
        return None


def _read_error(error, loc):
    if isinstance(error, _swift().ClientException):
        if error.http_status == 404:
            return exception.ImageDataNotFound(
                f'Swift could not find object {loc.obj}.')
        if error.http_status == 416:
            return exception.RangeNotSatisfiable()
        return exception.StoreUnavailable(
            f'Reading from Swift failed: {error}')
    if isinstance(error, _swift().network_errors):
        return exception.StoreUnavailable(
            f'Reading from Swift failed: {error}')
    return error


def _add_error(error):
    """The project's exception for one met while adding."""
    if isinstance(error, _swift().ClientException):
        if error.http_status == 409:
            return exception.Duplicate(
                'Swift already has an image at this location')
        if error.http_status == 413:
            return exception.StorageFull()
        if error.http_status in (401, 403):
            return exception.StorageWriteDenied()
        return exception.StoreError(
            'Failed to add object to Swift.\nGot error from Swift: '
            f'{error}.')
    if isinstance(error, _swift().network_errors):
        return exception.StoreUnavailable(
            f'Failed to add object to Swift: {error}')
    return error


class _Counter:
    """Iterates the caller's chunks, counting the bytes."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self):
        chunk = next(self._chunks)
        self.count += len(chunk)
        return chunk


class _Rechunker:
    """Cuts a stream of chunks into segments of at most `limit` bytes,
    each an iterator of pieces of the incoming chunks (so memory stays
    one incoming chunk)."""

    def __init__(self, chunks, limit):
        self._chunks = chunks
        self._limit = limit
        self._pending = None  # what the last segment left of a chunk
        self.exhausted = False
        self.last_size = 0

    def _next_piece(self):
        if self._pending is not None:
            piece, self._pending = self._pending, None
            return piece
        if self.exhausted:
            return None
        for chunk in self._chunks:
            if chunk:
                return chunk
        self.exhausted = True
        return None

    def next_segment(self):
        """The next segment's iterator, or None at the end of the data."""
        first = self._next_piece()
        if first is None:
            return None
        return self._segment(first)

    def _segment(self, piece):
        self.last_size = 0
        while piece is not None:
            room = self._limit - self.last_size
            if len(piece) > room:
                self._pending = piece[room:]
                piece = piece[:room]
            self.last_size += len(piece)
            yield piece
            if self.last_size >= self._limit:
                return
            piece = self._next_piece()
