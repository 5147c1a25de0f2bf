"""Telling systemd how the service is doing (the sd_notify protocol).

Under a `Type=notify` unit, systemd passes the address of a datagram socket
in NOTIFY_SOCKET and waits for `READY=1` before it considers the service
started. Elsewhere the variable is unset and `notify()` does nothing.
"""
import os
import socket

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def notify(state):
    """Send `state` (such as 'READY=1') to systemd.

    Returns True if it was sent, False if nobody listens. A failure is only
    logged: the service works the same without systemd's bookkeeping.
    """
    address = os.environ.get('NOTIFY_SOCKET')
    if not address:
        return False
    if address.startswith('@'):
        # An abstract socket: its name really begins with a NUL byte.
        address = '\0' + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state.encode('utf-8'), address)
    except OSError as error:
        LOG.warning('Could not notify systemd (%s) of %s: %s',
                    os.environ.get('NOTIFY_SOCKET'), state, error)
        return False
    return True
