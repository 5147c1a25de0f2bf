"""Which external http(s) URLs the service may be told to fetch from:
upstream's [import_filtering_opts] rules, with DNS resolution and the
loopback and link-local addresses refused (against SSRF).

The lists are written in brackets, as upstream's are:
`allowed_hosts = [127.0.0.1]`, `allowed_ports = []`.

`allowed_addresses(uri)` answers with the addresses a fetch may connect
to, or raises ValueError; `is_allowed(uri)` is the yes/no form. Image
locations given by users go through it (and, later, web-download).
"""
import ipaddress
import socket
import urllib.parse

from oslo_config import cfg
from oslo_config import types
from oslo_log import log as logging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
GROUP = 'import_filtering_opts'

PORT = types.Integer(min=1, max=65535)

uri_filter_opts = [
    cfg.ListOpt('allowed_schemes', item_type=types.String(quotes=True),
                bounds=True, default=['http', 'https'],
                help='URI schemes external URLs may have. When set, '
                     'disallowed_schemes is ignored.'),
    cfg.ListOpt('disallowed_schemes', item_type=types.String(quotes=True),
                bounds=True, default=[],
                help='URI schemes external URLs may not have (used when '
                     'allowed_schemes is empty).'),
    cfg.ListOpt('allowed_hosts', item_type=types.HostAddress(),
                bounds=True, default=[],
                help='Hosts (names or IP addresses, no port) external URLs '
                     'may point at. When set, disallowed_hosts is ignored; '
                     'a host listed here may also resolve to loopback or '
                     'link-local addresses.'),
    cfg.ListOpt('disallowed_hosts', item_type=types.HostAddress(),
                bounds=True, default=[],
                help='Hosts external URLs may not point at (used when '
                     'allowed_hosts is empty).'),
    cfg.ListOpt('allowed_ports', item_type=PORT, bounds=True,
                default=[80, 443],
                help='Ports external URLs that name a port may name. When '
                     'set, disallowed_ports is ignored; empty allows any.'),
    cfg.ListOpt('disallowed_ports', item_type=PORT, bounds=True, default=[],
                help='Ports external URLs may not name (used when '
                     'allowed_ports is empty).'),
]
CONF.register_opts(uri_filter_opts, group=GROUP)


def _lists(allowed, disallowed):
    """An allow-list, when set, makes the deny-list void (as upstream)."""
    return (allowed, []) if allowed else ([], disallowed)


def normalize_host(host):
    """The canonical form of an IP address, a host name that resolves, or
    None: numeric spellings an IP parser would not take (2130706433,
    127.1, 0x7f000001) are refused rather than left to the resolver."""
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if all(c.isdigit() or c == '.' for c in host):
        return None
    try:
        # The trailing dot asks DNS, never the numeric parser.
        socket.getaddrinfo(host.rstrip('.') + '.', 80)
    except (socket.gaierror, UnicodeError):
        return None
    return host


def _resolve(host, port):
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found = []
    for info in socket.getaddrinfo(host.rstrip('.') + '.', port):
        address = ipaddress.ip_address(info[4][0].split('%', 1)[0])
        if address not in found:
            found.append(address)
    return found


def _blocked_address(address):
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_link_local


def allowed_addresses(uri):
    """The addresses a fetch of `uri` may connect to; ValueError when the
    rules refuse it."""
    opts = CONF[GROUP]
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError:
        raise ValueError('malformed external URI: %s' % uri)
    allowed, disallowed = _lists(opts.allowed_schemes, opts.disallowed_schemes)
    scheme = parts.scheme
    if not scheme or (allowed and scheme not in allowed) \
            or scheme in disallowed:
        raise ValueError('scheme not allowed for external URI: %s' % uri)
    allowed_hosts, disallowed_hosts = _lists(opts.allowed_hosts,
                                             opts.disallowed_hosts)
    host = normalize_host(parts.hostname)
    if not host or (allowed_hosts and host not in allowed_hosts) \
            or host in disallowed_hosts:
        raise ValueError('host not allowed for external URI: %s' % uri)
    allowed, disallowed = _lists(opts.allowed_ports, opts.disallowed_ports)
    # Ports are judged only when the URI names one.
    if port and ((allowed and port not in allowed) or port in disallowed):
        raise ValueError('port not allowed for external URI: %s' % uri)
    try:
        addresses = _resolve(host, port or (443 if scheme == 'https'
                                            else 80))
    except (OSError, ValueError) as error:
        raise ValueError('failed to resolve external host %s: %s'
                         % (host, error))
    trusted = host in allowed_hosts
    denied = set()
    for name in disallowed_hosts:
        try:
            denied.add(ipaddress.ip_address(name))
        except ValueError:
            pass
    usable = [str(a) for a in addresses
              if trusted or not (_blocked_address(a) or a in denied)]
    if not usable:
        raise ValueError('no allowed addresses for external host: %s' % host)
    return usable


def is_allowed(uri):
    """Whether [import_filtering_opts] let the service fetch `uri`."""
    try:
        allowed_addresses(uri)
    except ValueError as error:
        LOG.debug('External URI refused: %s', error)
        return False
    return True


def list_opts():
    return [(GROUP, uri_filter_opts)]
