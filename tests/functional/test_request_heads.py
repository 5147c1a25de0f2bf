"""Request heads the glance-api daemon refuses before the application sees
them, over raw sockets: the status upstream's glance-api gives under
gunicorn (its answers were measured against glance 33.0.0 there), except
where glance/common/server.py says why ours differs (505 for another HTTP
major version; 501 for a compressed Transfer-Encoding). Each refusal is
an HTML body naming the fault, closes the connection (nothing after a
head we could not read can be trusted), never a 500 nor a hang, and the
worker serves the next request."""
import pytest

from tests.functional.daemon import GlanceApi
from tests.functional.process import child_pids
from tests.helpers import raw_exchange
from tests.helpers import wait_for

POST = (b'POST /v2/images HTTP/1.1\r\nHost: 127.0.0.1\r\n'
        b'Content-Type: application/json\r\n')
SMUGGLED = b'GET /v2/images HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'


def get(version=b'HTTP/1.1', target=b'/', headers=b''):
    return (b'GET ' + target + b' ' + version + b'\r\nHost: 127.0.0.1\r\n'
            + headers + b'Connection: close\r\n\r\n')


# name: (request, status, what the body says)
REFUSED = {
    # The three, then their relatives.
    'header line of 20 KB': (
        get(headers=b'X-Big: ' + b'a' * 20_000 + b'\r\n'), 431,
        "Error parsing headers: 'limit request headers fields size'"),
    'unknown transfer coding': (
        POST + b'Transfer-Encoding: bogus\r\n\r\n{}', 501,
        "Unsupported transfer coding: 'bogus'"),
    'HTTP/9.9': (get(b'HTTP/9.9'), 505,
                 "Unsupported HTTP Version: 'HTTP/9.9'"),
    'HTTP/2.0 without its preface': (
        get(b'HTTP/2.0'), 505, "Unsupported HTTP Version: 'HTTP/2.0'"),
    'HTTP/0.9': (get(b'HTTP/0.9'), 505,
                 "Unsupported HTTP Version: 'HTTP/0.9'"),
    'a version that is not one': (
        get(b'HTTP/abc'), 400, "Invalid HTTP Version: 'HTTP/abc'"),
    'no version (HTTP/0.9 style)': (
        b'GET /\r\n\r\n', 400, "Invalid HTTP request line: 'GET /'"),
    'garbage request line': (
        b'GARBAGE\r\n\r\n', 400, "Invalid HTTP request line: 'GARBAGE'"),
    'a tab between method and target': (
        b'GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n', 400,
        'Invalid HTTP request line'),
    'too many headers': (
        get(headers=b''.join(b'X-H%d: v\r\n' % i for i in range(200))),
        431, "Error parsing headers: 'limit request headers fields'"),
    'header block over 64 KB': (
        get(headers=b''.join(b'X-H%d: %s\r\n' % (i, b'v' * 9000)
                             for i in range(8))),
        431, "Error parsing headers"),
    'request line over 8 KB': (get(target=b'/' + b'a' * 9000), 414, ''),
    'Content-Length not a number': (
        POST + b'Content-Length: abc\r\n\r\n{}', 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'negative Content-Length': (
        POST + b'Content-Length: -2\r\n\r\n{}', 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'Content-Length with a sign': (
        POST + b'Content-Length: +2\r\n\r\n{}', 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'Content-Length as a list': (
        POST + b'Content-Length: 2, 2\r\n\r\n{}', 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'two different Content-Lengths': (
        POST + b'Content-Length: 2\r\nContent-Length: 44\r\n\r\n{}'
        + SMUGGLED, 400, "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'two equal Content-Lengths': (
        POST + b'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}', 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    # Smuggling: a front end that frames by the other header would see a
    # second request in the body.
    'Content-Length and chunked': (
        POST + b'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'
        b'0\r\n\r\n' + SMUGGLED, 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'chunked then Content-Length': (
        POST + b'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n'
        b'0\r\n\r\n' + SMUGGLED, 400,
        "Invalid HTTP Header: 'CONTENT-LENGTH'"),
    'chunked twice': (
        POST + b'Transfer-Encoding: chunked\r\n'
        b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400,
        "Invalid HTTP Header: 'TRANSFER-ENCODING'"),
    'chunked not last': (
        POST + b'Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
        400, "Invalid HTTP Header: 'TRANSFER-ENCODING'"),
    'a coding without chunked': (
        POST + b'Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}',
        400, "Invalid HTTP Header: 'TRANSFER-ENCODING'"),
    'compressed and chunked': (
        POST + b'Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n'
        b'0\r\n\r\n', 501, "Unsupported transfer coding: 'gzip, chunked'"),
    'chunked in HTTP/1.0': (
        POST.replace(b'HTTP/1.1', b'HTTP/1.0')
        + b'Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', 400,
        "Invalid HTTP Header: 'TRANSFER-ENCODING'"),
    'a space before the colon': (
        POST + b'Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n' + SMUGGLED,
        400, "Invalid HTTP header name: 'Transfer-Encoding '"),
    'a header line without a colon': (
        get(headers=b'NoColonHere\r\n'), 400,
        "Invalid HTTP Header: 'NoColonHere'"),
    'a folded header': (
        get(headers=b'X-A: a\r\n b\r\n'), 400,
        "Obsolete line folding is unacceptable: 'X-A'"),
    'a bare CR in a header': (
        get(headers=b'X-A: a\rTransfer-Encoding: chunked\r\n'), 400,
        "Invalid HTTP Header: 'X-A'"),
    'a control character in a value': (
        get(headers=b'X-A: a\x00b\r\n'), 400, "Invalid HTTP Header: 'X-A'"),
    'bare LF line ends': (
        b'GET / HTTP/1.1\nHost: x\n\n', 400, 'Invalid HTTP request line'),
    'a bare LF ending the head': (
        b'GET / HTTP/1.1\r\nHost: x\r\n\n', 400, 'bare LF'),
}

# Heads that look odd yet are well-formed: the application answers them.
SERVED = {
    'HTTP/1.2 (served as 1.1)': (get(b'HTTP/1.2'), 300),
    'HTTP/1.0': (get(b'HTTP/1.0'), 300),
    'chunked, capitalized': (
        POST + b'Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n'
        b'2\r\n{}\r\n0\r\n\r\n', 201),
    'identity before chunked, in two headers': (
        POST + b'Transfer-Encoding: identity\r\n'
        b'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
        b'2\r\n{}\r\n0\r\n\r\n' + SMUGGLED, 201),
    'Content-Length with spaces around': (
        POST + b'Content-Length:  2 \r\nConnection: close\r\n\r\n{}', 201),
    'bytes above 0x7f in a header value': (
        get(headers='X-A: caf\u00e9\r\n'.encode('latin-1')), 300),
    'a tab in a header value': (get(headers=b'X-A: a\tb\r\n'), 300),
    'an empty header value': (get(headers=b'X-A:\r\n'), 300),
    'no header at all': (b'GET / HTTP/1.0\r\n\r\n', 300),
}


@pytest.fixture(scope='module')
def api(tmp_path_factory):
    # One worker: the request after each refusal reaches the same one.
    with GlanceApi(tmp_path_factory.mktemp('api'), workers=1) as api:
        api.worker = wait_for(lambda: child_pids(api.pid))
        yield api
        print(api.log())


def assert_still_serving(api):
    assert raw_exchange(api.port, get())[0] == 300
    assert child_pids(api.pid) == api.worker


@pytest.mark.parametrize('case', sorted(REFUSED))
def test_a_bad_request_head_is_refused(api, case):
    request, status, message = REFUSED[case]

    answer_status, headers, body = raw_exchange(api.port, request)

    assert answer_status == status, body
    assert headers['connection'] == 'close'
    assert int(headers['content-length']) == len(body)
    if message:
        assert headers['content-type'] == 'text/html'
        # One answer: nothing smuggled in the body was served.
        assert body.count(b'</html>') == 1
        assert message.replace("'", '&#x27;') in body.decode()
    assert_still_serving(api)


@pytest.mark.parametrize('case', sorted(SERVED))
def test_an_unusual_but_valid_head_is_served(api, case):
    request, status = SERVED[case]

    answer_status, headers, body = raw_exchange(api.port, request)

    assert answer_status == status, body
    assert headers['content-type'] == 'application/json'
    # One answer: the body was read as it was framed.
    assert body.count(b'HTTP/1.1') == 0


# Heads whose lines arrive apart are read line by line: the same checks.
@pytest.mark.parametrize('case', [
    'a folded header', 'a control character in a value',
    'a space before the colon', 'too many headers', 'header line of 20 KB',
    'Content-Length not a number', 'a bare LF ending the head'])
def test_a_bad_head_in_pieces_is_refused(api, case):
    request, status, message = REFUSED[case]

    answer_status, _, body = raw_exchange(api.port, request, pieces=3)

    assert answer_status == status, body
    assert message.replace("'", '&#x27;') in body.decode()
    assert_still_serving(api)


@pytest.mark.parametrize('case', [
    'Content-Length with spaces around', 'chunked, capitalized',
    'identity before chunked, in two headers', 'no header at all'])
def test_a_valid_head_in_pieces_is_served(api, case):
    request, status = SERVED[case]

    answer_status, _, body = raw_exchange(api.port, request, pieces=3)

    assert answer_status == status, body
    assert body.count(b'HTTP/1.1') == 0


def test_a_refusal_is_in_the_log(api):
    raw_exchange(api.port, get(b'HTTP/9.9', b'/logged-refusal'))

    wait_for(lambda: "refused: 505 Unsupported HTTP Version: 'HTTP/9.9' "
             "(b'GET /logged-refusal HTTP/9.9\\r\\n')" in api.log(),
             'the refusal in the log')
