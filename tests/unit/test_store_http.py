"""Unit tests for the http store driver (glance.store.drivers.http),
through the glance.store API.

The driver reads from a real http.server running on 127.0.0.1 in a thread
(tests/helpers.py WebServer).
"""
import datetime
import http.server
import ipaddress
import re
import ssl
import time

import pytest
import requests

from glance import store
from glance.common import exception
from glance.store.drivers import http as http_store
from tests.helpers import WebServer
from tests.helpers import free_port
from tests.helpers import read_all

IMAGE_ID = 'a5e2f0f4-1a7e-4d0e-9d55-0c0a1b6f1c11'
DATA = bytes(range(256)) * 40  # 10240 bytes, no two neighbours equal

pytestmark = pytest.mark.usefixtures('isolated_registry')


# Configuration


def test_missing_ca_file_is_a_configuration_error(datadir, tmp_path,
                                                  set_option):
    set_option('https_ca_certificates_file', str(tmp_path / 'missing.pem'))
    with pytest.raises(exception.BadStoreConfiguration, match='missing.pem'):
        store.create_stores()


# HTTP store

REQUESTS_SEEN = []


class ImageServer(http.server.BaseHTTPRequestHandler):
    """Serves DATA at /image, with single-range support and some faults.

    Every request's target and headers go to REQUESTS_SEEN.
    """

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.respond(send_body=False)

    def do_GET(self):
        self.respond(send_body=True)

    def respond(self, send_body):
        path = self.path
        if path.startswith('http://'):  # asked as a proxy
            path = '/' + path.split('/', 3)[3]
        REQUESTS_SEEN.append((self.path, dict(self.headers)))
        if path == '/old':
            self.send_response(302)
            self.send_header('Location', '/image')
            self.end_headers()
        elif path == '/slow':
            time.sleep(2)
            self.send_error(500)
        elif path == '/broken':
            self.send_error(500)
        elif path in ('/image', '/norange'):
            self.send_data(send_body, ranges=path == '/image')
        else:
            self.send_error(404)

    def send_data(self, send_body, ranges):
        body = DATA
        match = re.fullmatch(r'bytes=(\d+)-(\d*)',
                             self.headers.get('Range', ''))
        if ranges and match:
            start = int(match.group(1))
            end = int(match.group(2) or len(DATA) - 1)
            if start >= len(DATA):
                self.send_response(416)
                self.send_header('Content-Range', f'bytes */{len(DATA)}')
                self.end_headers()
                return
            body = DATA[start:end + 1]
            self.send_response(206)
            self.send_header('Content-Range',
                             f'bytes {start}-{start + len(body) - 1}'
                             f'/{len(DATA)}')
        else:
            self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


@pytest.fixture
def no_env_proxies(monkeypatch):
    # Proxies from the environment would send 127.0.0.1 elsewhere.
    for name in ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def web_server(no_env_proxies):
    REQUESTS_SEEN.clear()
    server = WebServer(handler=ImageServer).start()
    yield server.url
    server.stop()


def test_http_get_streams_the_whole_object(stores, web_server):
    iterator, total_size = store.get_from_backend(f'{web_server}/image',
                                                  chunk_size=1000)
    chunks = list(iterator)
    assert b''.join(chunks) == DATA
    assert total_size == len(DATA)
    assert max(len(chunk) for chunk in chunks) <= 1000
    [(_path, headers)] = REQUESTS_SEEN
    assert 'Range' not in headers


@pytest.mark.parametrize('offset, length, expected_range', [
    (100, None, 'bytes=100-'),
    (100, 1000, 'bytes=100-1099'),
    (0, 10, 'bytes=0-9'),
])
def test_http_get_asks_for_a_range(stores, web_server, offset, length,
                                   expected_range):
    data, total_size = read_all(f'{web_server}/image', offset=offset,
                                length=length)

    end = None if length is None else offset + length
    assert data == DATA[offset:end]
    assert total_size == len(DATA)
    [(_path, headers)] = REQUESTS_SEEN
    assert headers['Range'] == expected_range


@pytest.mark.parametrize('offset, length', [(100, None), (5000, 3000),
                                            (0, 0)])
def test_http_get_slices_when_the_server_ignores_ranges(stores, web_server,
                                                        offset, length):
    data, total_size = read_all(f'{web_server}/norange', offset=offset,
                                length=length, chunk_size=1000)
    end = None if length is None else offset + length
    assert data == DATA[offset:end]
    assert total_size == len(DATA)


def test_http_range_past_the_end_is_not_satisfiable(stores, web_server):
    with pytest.raises(exception.RangeNotSatisfiable):
        store.get_from_backend(f'{web_server}/image', offset=len(DATA))


def test_http_follows_redirects(stores, web_server):
    assert read_all(f'{web_server}/old') == (DATA, len(DATA))
    assert store.get_size_from_backend(f'{web_server}/old') == len(DATA)
    paths = [path for path, _headers in REQUESTS_SEEN]
    assert paths == ['/old', '/image', '/old', '/image']


def test_http_get_size_uses_head(stores, web_server):
    assert store.get_size_from_backend(f'{web_server}/image') == len(DATA)
    assert len(REQUESTS_SEEN) == 1


def test_http_missing_object_is_image_data_not_found(stores, web_server):
    with pytest.raises(exception.ImageDataNotFound):
        store.get_from_backend(f'{web_server}/missing')
    with pytest.raises(exception.ImageDataNotFound):
        store.get_size_from_backend(f'{web_server}/missing')


def test_http_server_error_is_store_unavailable(stores, web_server):
    with pytest.raises(exception.StoreUnavailable, match='500'):
        store.get_from_backend(f'{web_server}/broken')


def test_http_connection_refused_is_store_unavailable(stores,
                                                      no_env_proxies):
    uri = f'http://127.0.0.1:{free_port()}/image'
    with pytest.raises(exception.StoreUnavailable):
        store.get_from_backend(uri)
    with pytest.raises(exception.StoreUnavailable):
        store.get_size_from_backend(uri)


def test_http_timeout_is_store_unavailable(stores, web_server, set_option):
    set_option('http_store_timeout', 0.3)
    store.create_stores()
    started = time.monotonic()
    with pytest.raises(exception.StoreUnavailable):
        store.get_from_backend(f'{web_server}/slow')
    assert time.monotonic() - started < 1.5


def test_http_credentials_stay_out_of_messages(stores, web_server):
    uri = web_server.replace('http://', 'http://user:secret@') + '/broken'
    with pytest.raises(exception.StoreUnavailable) as raised:
        store.get_from_backend(uri)
    assert 'secret' not in str(raised.value)


def test_http_iterator_releases_the_connection(stores, web_server,
                                               monkeypatch):
    closed = []

    class RecordingSession(requests.Session):
        def close(self):
            closed.append(self)
            super().close()

    monkeypatch.setattr(http_store.requests, 'Session', RecordingSession)

    iterator, _total = store.get_from_backend(f'{web_server}/image',
                                              chunk_size=1000)
    next(iterator)
    assert closed == []
    iterator.close()
    assert len(closed) == 1

    iterator, _total = store.get_from_backend(f'{web_server}/image')
    list(iterator)
    assert len(closed) == 2


def test_http_store_is_read_only(stores, web_server, set_option):
    with pytest.raises(exception.StoreDeleteNotSupported):
        store.delete_from_backend(f'{web_server}/image')

    set_option('default_store', 'http')
    store.create_stores()
    with pytest.raises(exception.StoreAddDisabled):
        store.add_to_backend(IMAGE_ID, [b'data'])


def test_http_proxy_information_is_used(stores, web_server, set_option):
    set_option('http_proxy_information', {'http': web_server})
    store.create_stores()

    data, _total = read_all('http://images.example.invalid/image')

    assert data == DATA
    [(requested, _headers)] = REQUESTS_SEEN
    assert requested == 'http://images.example.invalid/image'


@pytest.fixture
def tls_server(tmp_path, no_env_proxies):
    """An https server with a self-signed certificate for 127.0.0.1."""
    x509 = pytest.importorskip('cryptography.x509')
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME,
                                         '127.0.0.1')])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                       critical=True)
        .sign(key, hashes.SHA256()))
    cert_file = tmp_path / 'cert.pem'
    key_file = tmp_path / 'key.pem'
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    REQUESTS_SEEN.clear()
    server = WebServer(handler=ImageServer, ssl_context=context).start()
    yield server.url, str(cert_file)
    server.stop()


def test_https_verifies_certificates_by_default(stores, tls_server):
    url, _cert_file = tls_server
    with pytest.raises(exception.StoreUnavailable):
        store.get_from_backend(f'{url}/image')


def test_https_with_ca_certificates_file(stores, tls_server, set_option):
    url, cert_file = tls_server
    set_option('https_ca_certificates_file', cert_file)
    store.create_stores()
    assert read_all(f'{url}/image', offset=10) == (DATA[10:], len(DATA))


@pytest.mark.filterwarnings(
    'ignore::urllib3.exceptions.InsecureRequestWarning')
def test_https_insecure_skips_verification(stores, tls_server, set_option):
    url, _cert_file = tls_server
    set_option('https_insecure', True)
    store.create_stores()
    assert store.get_size_from_backend(f'{url}/image') == len(DATA)
