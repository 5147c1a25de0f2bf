"""Selects the API version of a request.

`Accept: application/vnd.openstack.images-v2.N` or a leading path segment
(`/v2`, `/v2.N`, `/v1`) picks the API; the path continues as `/v2/...` (or
`/v1/...`). `/versions` answers the versions document with 200; a version
this service does not serve gets it with 300 Multiple Choices.
"""
from glance.api import versions
from glance.common import wsgi

MEDIA_TYPE_PREFIX = 'application/vnd.openstack.images-'


class VersionNegotiationFilter(wsgi.Middleware):

    def process_request(self, request):
        if request.path_info_peek() == 'versions':
            return versions.versions_response(request, explicit=True)
        accept = request.environ.get('HTTP_ACCEPT', '')
        if accept.startswith(MEDIA_TYPE_PREFIX):
            requested = accept[len(MEDIA_TYPE_PREFIX):]
        else:
            requested = self._pop_first_segment(request)
        major = versions.accepted_versions().get(requested)
        if major is None:
            return versions.versions_response(request)
        request.environ['api.version'] = major
        request.path_info = '/v%d%s' % (major, request.path_info)
        return None

    @staticmethod
    def _pop_first_segment(request):
        """Remove and return the first path segment (not moved to
        SCRIPT_NAME: the version is put back in canonical form)."""
        path = request.path_info.lstrip('/')
        segment, _, rest = path.partition('/')
        request.path_info = '/' + rest if rest or path.endswith('/') else ''
        return segment


def filter_factory(global_conf, **local_conf):
    return VersionNegotiationFilter
