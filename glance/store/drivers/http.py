"""The HTTP store: read-only access to image data on a web server.

Locations are plain http:// and https:// URLs. Image data is streamed with
`requests`; nothing can be added to or deleted from this store.
"""
import os
import re
import urllib.parse

from oslo_config import cfg
import requests

from glance.common import exception
from glance.store import driver
from glance.store import location

http_opts = [
    cfg.FloatOpt('http_store_timeout',
                 default=60.0, min=0,
                 help='Seconds the HTTP store waits for a remote server to '
                      'accept the connection or to send more data before '
                      'giving up. 0 waits forever.'),
    cfg.BoolOpt('https_insecure',
                default=False,
                help='Accept any certificate from https servers instead of '
                     'verifying it. Only for testing: it allows anyone on '
                     'the path to substitute the image data.'),
    cfg.StrOpt('https_ca_certificates_file',
               help='File of CA certificates (PEM) used to verify https '
                    'servers, instead of the system bundle. Ignored when '
                    'https_insecure is true.'),
    cfg.DictOpt('http_proxy_information',
                default={},
                help='Proxies for the HTTP store as scheme:proxy-URL pairs, '
                     'for example "http:http://proxy:3128,'
                     'https:http://proxy:3128". Empty uses the proxies of '
                     'the environment, if any.'),
]

MAX_REDIRECTS = 5
READ_CHUNK_SIZE = 64 * 1024
_CONTENT_RANGE = re.compile(r'bytes (\d+)-(\d+)/(\d+|\*)$')


class HttpLocation(location.StoreLocation):
    """An http(s):// URL; `url` is the URL to fetch."""

    def parse_uri(self, uri):
        try:
            parts = urllib.parse.urlsplit(uri)
        except ValueError:
            parts = None
        if (parts is None or self.scheme not in ('http', 'https')
                or not parts.hostname):
            raise exception.Invalid(f'Invalid HTTP location: {uri}')
        self.url = uri

    def display_url(self):
        """The URL without credentials, fit for messages."""
        parts = urllib.parse.urlsplit(self.url)
        netloc = parts.netloc.rpartition('@')[2]
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _content_length(response):
    try:
        return int(response.headers['Content-Length'])
    except (KeyError, ValueError):
        return None


def _stream(response, chunk_size, display_url):
    try:
        yield from response.iter_content(chunk_size)
    except requests.RequestException as error:
        raise exception.StoreUnavailable(
            f'Reading {display_url} failed: {error}') from error


def _slice(chunks, skip, length):
    """Drop the first `skip` bytes, then stop after `length` (None: never)."""
    remaining = length
    for chunk in chunks:
        if skip:
            if len(chunk) <= skip:
                skip -= len(chunk)
                continue
            chunk = chunk[skip:]
            skip = 0
        if remaining is not None:
            if len(chunk) >= remaining:
                if remaining:
                    yield chunk[:remaining]
                return
            remaining -= len(chunk)
        yield chunk


class Store(driver.Store):
    NAME = 'http'
    SCHEMES = ('http', 'https')
    LOCATION_CLASS = HttpLocation
    OPTS = http_opts
    WRITABLE = False

    def configure_read(self):
        store_conf = self.store_conf
        ca_file = store_conf.https_ca_certificates_file
        if store_conf.https_insecure:
            self.verify = False
        elif ca_file:
            if not os.path.isfile(ca_file):
                raise self.bad_configuration(
                    f'https_ca_certificates_file {ca_file} is not a file')
            self.verify = ca_file
        else:
            self.verify = True
        self.proxies = dict(store_conf.http_proxy_information or {})
        self.timeout = store_conf.http_store_timeout or None

    def owns(self, uri):
        # Every http(s) URL, as upstream's url_prefix "http" matches.
        return location.scheme_of(uri) in self.SCHEMES

    def _request(self, method, location, headers):
        """Send the request, following redirects; returns (session, response).

        The caller closes both. Error statuses become exceptions here.
        """
        session = requests.Session()
        session.max_redirects = MAX_REDIRECTS
        # Compressed transfers would make Content-Length disagree with the
        # bytes handed out.
        headers['Accept-Encoding'] = 'identity'
        try:
            response = session.request(
                method, location.url, headers=headers, stream=True,
                allow_redirects=True, timeout=self.timeout,
                verify=self.verify, proxies=self.proxies)
        except requests.RequestException as error:
            session.close()
            raise exception.StoreUnavailable(
                f'Could not read {location.display_url()}: {error}')
        except BaseException:
            session.close()
            raise
        status = response.status_code
        if status < 300:
            return session, response
        response.close()
        session.close()
        if status in (404, 410):
            raise exception.ImageDataNotFound()
        if status == 416:
            raise exception.RangeNotSatisfiable()
        raise exception.StoreUnavailable(
            f'{location.display_url()} answered with HTTP status {status}')

    def get(self, location, offset=0, length=None, chunk_size=None):
        headers = {}
        # A zero length needs no Range (bytes=5-4 is not one): _slice
        # returns nothing and closes the response.
        if (offset or length is not None) and length != 0:
            last = '' if length is None else offset + length - 1
            headers['Range'] = f'bytes={offset}-{last}'
        session, response = self._request('GET', location, headers)

        def release():
            response.close()
            session.close()

        try:
            skip, total_size = self._range_start(response, offset)
        except BaseException:
            release()
            raise
        chunks = _stream(response, chunk_size or READ_CHUNK_SIZE,
                         location.display_url())
        return (driver.ChunkIterator(_slice(chunks, skip, length), release),
                total_size)

    def _range_start(self, response, offset):
        """How many bytes of the body to skip, and the object's total size."""
        if response.status_code != 206:
            # The whole object: no range was asked, or the server ignores
            # Range headers and the offset is skipped here instead.
            return offset, _content_length(response)
        content_range = response.headers.get('Content-Range', '')
        match = _CONTENT_RANGE.match(content_range)
        if not match or int(match.group(1)) != offset:
            raise exception.StoreUnavailable(
                f'Unexpected Content-Range {content_range!r} for offset '
                f'{offset}')
        total = match.group(3)
        return 0, None if total == '*' else int(total)

    def get_size(self, location):
        session, response = self._request('HEAD', location, {})
        try:
            # Unknown sizes are 0, as image sizes are elsewhere.
            return _content_length(response) or 0
        finally:
            response.close()
            session.close()
