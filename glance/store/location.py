"""Location URIs: which store holds some bytes, and where inside it.

Which driver handles a scheme is the registry's business
(`glance.store.registry`); this module only parses.
"""


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
