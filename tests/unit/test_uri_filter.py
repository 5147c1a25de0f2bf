"""[import_filtering_opts]: which external URLs the service may fetch."""
import pytest

from glance.common import config
from glance.common import uri_filter
from tests.helpers import configure

CONF = config.CONF


@pytest.fixture(autouse=True)
def rules(tmp_path):
    """rules(allowed_hosts=[...], ...) sets the filtering options, over
    a configuration of defaults."""
    configure(tmp_path)
    names = []

    def set_rules(**values):
        for name, value in values.items():
            CONF.set_override(name, value, group=uri_filter.GROUP)
            names.append(name)
    yield set_rules
    for name in names:
        CONF.clear_override(name, group=uri_filter.GROUP)


@pytest.mark.parametrize('host', ['2130706433', '127.1', '0x7f000001',
                                  '127.0x0.0.1', 'no-such-host.invalid', ''])
def test_numeric_tricks_and_unknown_names_are_refused(host):
    assert uri_filter.normalize_host(host) is None


def test_ip_addresses_are_canonical():
    assert uri_filter.normalize_host('::FFFF:127.0.0.1') == '::ffff:7f00:1'
    assert uri_filter.normalize_host('10.0.0.1') == '10.0.0.1'


@pytest.mark.parametrize('uri', [
    'http://127.0.0.1/image',            # loopback
    'http://[::1]/image',
    'http://[::ffff:127.0.0.1]/image',   # loopback inside IPv6
    'http://169.254.169.254/latest',     # link-local (metadata servers)
    'http://10.0.0.1:8080/image',        # not an allowed port
    'ftp://10.0.0.1/image',              # not an allowed scheme
    'http://2130706433/image',
    'http://10.0.0.1:99999/image',       # no such port
])
def test_refused_by_default(uri):
    assert not uri_filter.is_allowed(uri)


def test_private_addresses_and_default_ports_pass():
    assert uri_filter.allowed_addresses('http://10.0.0.1/x') == ['10.0.0.1']
    assert uri_filter.is_allowed('https://192.168.1.2:443/x')


def test_allowed_hosts_may_be_loopback_on_any_port(rules):
    rules(allowed_hosts=['127.0.0.1'], allowed_ports=[])
    assert uri_filter.is_allowed('http://127.0.0.1:8123/x')
    assert not uri_filter.is_allowed('http://10.0.0.1/x')  # not listed


def test_disallowed_lists(rules):
    rules(disallowed_hosts=['10.0.0.1'], allowed_ports=[],
          disallowed_ports=[8080], allowed_schemes=[],
          disallowed_schemes=['https'])
    assert not uri_filter.is_allowed('http://10.0.0.1/x')
    assert not uri_filter.is_allowed('http://10.0.0.2:8080/x')
    assert not uri_filter.is_allowed('https://10.0.0.2/x')
    assert uri_filter.is_allowed('http://10.0.0.2:8081/x')


def test_an_allow_list_voids_the_deny_list(rules):
    rules(allowed_ports=[8080], disallowed_ports=[8080])
    assert uri_filter.is_allowed('http://10.0.0.2:8080/x')
