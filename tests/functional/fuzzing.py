"""What the fuzz tests share: a record of each request sent, the 5xx
answers already known (KNOWN_500S), the tally that fails a run on any
other 5xx, hang or server-side traceback, and the real images (Seeds) the
requests aim at.

    tally = Tally()
    tally.answer(Sent('GET', '/v2/images/%FF'), 500)   # known: counted
    tally.answer(Sent('GET', '/v2/images'), 500)       # recorded failure
    tally.check(server_log_since_start)                # raises with them
"""
import dataclasses
import re

import requests

from tests.functional.conftest import SERVER_ERROR
from tests.helpers import DATA_TYPE
from tests.helpers import identity_headers

# Statuses of 5xx that are the right answer to some client input:
# a method or a transfer coding the server does not implement, an HTTP
# major version it does not serve (RFC 9110 15.6.6).
NOT_IMPLEMENTED = 501
VERSION_NOT_SUPPORTED = 505
IMPLEMENTED_METHODS = frozenset(
    ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'])


@dataclasses.dataclass
class Sent:
    """One request as it went on the wire (path with its query, raw)."""
    method: str
    path: str
    headers: dict = dataclasses.field(default_factory=dict)
    body: bytes = b''
    # Sent shorter than its Content-Length, then the write side closed.
    short: bool = False
    http_version: str = '1.1'

    def header(self, name):
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def describe(self):
        body = self.body[:200]
        return (f'{self.method} {self.path[:300]} headers={self.headers!r} '
                f'body={body!r}{"..." if len(self.body) > 200 else ""}'
                f'{" (short, half-closed)" if self.short else ""}')


# --- 5xx answers known and tolerated ----------------------------------------

# (issue item, what, predicate on the Sent request). Empty: every 5xx
# fails a run. A 5xx found and fixed elsewhere can be listed here until
# its fix is merged, so the fuzz keeps running meanwhile.
KNOWN_500S = []


def known_500(sent):
    """The KNOWN_500S entry that explains a 5xx answer to `sent`, or
    None."""
    for entry in KNOWN_500S:
        if entry[2](sent):
            return entry
    return None


def acceptable_5xx(sent, status):
    """A 5xx that is the right answer: 501 for a method (or transfer
    coding) the server does not implement, 505 for an HTTP version whose
    major number is not 1."""
    if status == VERSION_NOT_SUPPORTED:
        return not sent.http_version.startswith('1.')
    if status != NOT_IMPLEMENTED:
        return False
    encoding = (sent.header('Transfer-Encoding') or '').lower()
    return (sent.method not in IMPLEMENTED_METHODS
            or encoding not in ('', 'chunked', 'identity'))


class Tally:
    """Counts the requests of a run and collects what fails it."""

    def __init__(self):
        self.requests = 0
        self.statuses = {}
        self.known = {}
        self.failures = []
        self.routes = set()

    def answer(self, sent, status, route=None):
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if route is not None:
            self.routes.add(route)
        if status < 500 or acceptable_5xx(sent, status):
            return True
        entry = known_500(sent)
        if entry is not None:
            key = '(%s) %s' % entry[:2]
            self.known[key] = self.known.get(key, 0) + 1
            return True
        self.failures.append('%d for %s' % (status, sent.describe()))
        return False

    def no_answer(self, sent, error, route=None):
        """A request that got no answer in time (or the connection
        dropped): a hang unless a known case explains it."""
        self.requests += 1
        if route is not None:
            self.routes.add(route)
        if sent.short or known_500(sent) is not None:
            return
        self.failures.append('no answer (%s) for %s'
                             % (error, sent.describe()))

    @property
    def known_count(self):
        return sum(self.known.values())

    def summary(self):
        return (f'{self.requests} requests, {len(self.routes)} routes; '
                f'statuses {dict(sorted(self.statuses.items()))}; '
                f'known 5xx {self.known}')

    def check(self, server_log=''):
        """Fail with every unexpected 5xx or hang; the server may have
        logged a traceback or a 5xx only for answers known here."""
        assert not self.failures, (
            '%d failures (%s):\n%s' % (len(self.failures), self.summary(),
                                       '\n'.join(self.failures[:40])))
        # The right answers above (501, 505) are no server failure.
        logged = [line for line in server_log.splitlines()
                  if SERVER_ERROR.search(line)
                  and not re.search(r'" 50[15] ', line)]
        if not self.known_count:
            assert not logged, 'the server failed:\n' + '\n'.join(logged)


# --- real images to aim at --------------------------------------------------

MEMBER = 'fuzz-member'
TAG = 'fuzz-tag'
# Who the requests of the trusted flavor come from (the seed images are
# OWNER's, shared with MEMBER); None: no identity (anonymous).
OWNER = 'fuzz-owner'
IDENTITIES = [identity_headers(OWNER),
              identity_headers(OWNER, roles=('reader',)),
              identity_headers('fuzz-member'),
              identity_headers('fuzz-stranger'),
              identity_headers('fuzz-admin', roles=('admin', 'member',
                                                    'reader')),
              identity_headers(OWNER, roles=('bogus',)),
              None]


class Seeds:
    """Images in each interesting state, made again when asked."""

    def __init__(self, api):
        self.api = api
        self.session = requests.Session()
        if getattr(api, 'flavor', 'default') == 'trusted':
            self.session.headers.update(identity_headers(OWNER))
        self.ids = []

    def make(self):
        url = self.api.url
        post = self.session.post

        def v2_image(**fields):
            fields.update(disk_format='raw', container_format='bare')
            response = post(url + '/v2/images', json=fields, timeout=30)
            assert response.status_code == 201, response.text
            return response.json()['id']

        def upload(image_id):
            response = self.session.put(
                f'{url}/v2/images/{image_id}/file', data=b'x' * 1000,
                headers={'Content-Type': DATA_TYPE}, timeout=30)
            assert response.status_code == 204, response.text

        active = v2_image(name='fuzz-active', visibility='shared',
                          tags=[TAG], fuzz_property='value')
        upload(active)
        response = post(f'{url}/v2/images/{active}/members',
                        json={'member': MEMBER}, timeout=30)
        assert response.status_code == 200, response.text
        queued = v2_image(name='fuzz-queued')
        deactivated = v2_image(name='fuzz-deactivated')
        upload(deactivated)
        assert post(f'{url}/v2/images/{deactivated}/actions/deactivate',
                    timeout=30).status_code == 204
        response = post(url + '/v1/images', data=b'v1 data',
                        headers={'x-image-meta-name': 'fuzz-v1',
                                 'x-image-meta-disk_format': 'raw',
                                 'x-image-meta-container_format': 'bare',
                                 'Content-Type': DATA_TYPE}, timeout=30)
        assert response.status_code == 201, response.text
        v1 = response.json()['image']['id']
        self.ids = [active, queued, deactivated, v1]
