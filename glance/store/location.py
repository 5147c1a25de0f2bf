"""Location URIs: which store holds some bytes, and where inside it.

`SCHEME_TO_CLS_MAP` is filled by `glance.store.create_stores()`; it maps a
URI scheme to the configured store instance that handles it and the class
that parses that scheme's URIs.
"""
from glance.common import exception

# scheme -> {'store': the driver instance,
#            'location_class': the StoreLocation subclass for the scheme}
SCHEME_TO_CLS_MAP = {}


class StoreLocation:
    """A parsed location URI. Each driver subclasses it for its schemes.

    Subclasses implement `parse_uri()`, which checks the URI and keeps
    whatever the driver needs (a path, a URL, ...), raising
    `exception.Invalid` when the URI is malformed.
    """

    def __init__(self, uri):
        self.uri = uri
        self.scheme = scheme_of(uri)
        self.parse_uri(uri)

    def parse_uri(self, uri):
        raise NotImplementedError()

    def __repr__(self):
        return f'<{type(self).__name__} {self.uri}>'


def scheme_of(uri):
    """The lower-cased scheme of `uri`, or '' when it has none."""
    scheme, separator, _rest = uri.partition('://')
    return scheme.lower() if separator else ''


def get_entry_for_uri(uri):
    """The SCHEME_TO_CLS_MAP entry for the scheme of `uri`."""
    scheme = scheme_of(uri)
    try:
        return SCHEME_TO_CLS_MAP[scheme]
    except KeyError:
        raise exception.UnknownScheme(scheme=scheme)


def get_location_from_uri(uri):
    """Parse `uri` with the location class of the store for its scheme.

    Raises UnknownScheme when no configured store handles the scheme and
    Invalid when the URI is malformed for that store.
    """
    return get_entry_for_uri(uri)['location_class'](uri)
