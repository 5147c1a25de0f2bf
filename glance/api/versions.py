"""The versions document and the application that answers with it.

Minor versions of the Image API name what each one added; a version is
advertised only when the features it added are served here.
"""
import functools
import json
import types

from oslo_config import cfg
import webob
import webob.dec

CONF = cfg.CONF

versions_opts = [
    cfg.StrOpt('public_endpoint',
               help='The URL clients reach this service by, used in the '
                    'versions document (for example the address of a load '
                    'balancer or proxy). Default: the URL of the request.'),
    cfg.BoolOpt('enable_v1_api', default=True,
                help='Serve the classic Image API v1 (x-image-meta-* '
                     'headers, for old clients) under /v1, and list it in '
                     'the versions document.'),
    cfg.BoolOpt('enable_v2_api', default=True,
                help='Serve the Image API v2 under /v2.'),
]
CONF.register_opts(versions_opts)

# What each v2 minor version added, as named features. Upstream lists its
# versions in this order (not sorted) for a single store without cache.
V2_VERSIONS = [
    ('2.15', {'stores-detail'}),
    ('2.13', {'multistore', 'usage'}),
    ('2.12', {'multistore', 'image-tasks'}),
    ('2.11', {'multistore', 'store-delete'}),
    ('2.10', {'multistore', 'store-delete'}),
    ('2.9', {'multistore'}),
    ('2.8', {'multistore'}),
    ('2.17', {'locations-api'}),
    ('2.7', {'hidden', 'multihash'}),
    ('2.6', {'import'}),
    ('2.5', {'community-visibility'}),
    ('2.4', {'locations'}),
    ('2.3', {'deactivate'}),
    ('2.2', {'property-protection', 'tasks', 'metadefs'}),
    ('2.1', {'members'}),
    ('2.0', {'images'}),
]
V1_VERSIONS = ['1.1', '1.0']

# The features of the Image API this service has.
FEATURES = frozenset(['images', 'members', 'deactivate', 'locations',
                      'community-visibility', 'hidden', 'multihash', 'tasks',
                      'image-tasks'])
# And those it has in the multi-store mode (enabled_backends set) only,
# as upstream lists the multi-store versions only then.
MULTISTORE_FEATURES = frozenset(['multistore', 'store-delete',
                                 'stores-detail'])


def features():
    """The features served with the configuration in use."""
    if CONF.enabled_backends:
        return FEATURES | MULTISTORE_FEATURES
    return FEATURES


def v2_versions(served=None):
    """The advertised v2 versions (in upstream's order) and the current one."""
    served = features() if served is None else served
    listed = [version for version, needs in V2_VERSIONS if needs <= served]
    current = max(listed, key=lambda v: tuple(int(p) for p in v.split('.')))
    return listed, current


def accepted_versions():
    """{'v2.7': 2, 'v2': 2, ...}: URL prefixes and media-type versions
    that select an API."""
    return _accepted_versions(CONF.enable_v2_api, CONF.enable_v1_api,
                              features())


@functools.cache  # asked on every request
def _accepted_versions(v2_enabled, v1_enabled, served):
    accepted = {}
    if v2_enabled:
        accepted['v2'] = 2
        accepted.update(('v' + v, 2) for v in v2_versions(served)[0])
    if v1_enabled:
        accepted['v1'] = 1
        accepted.update(('v' + v, 1) for v in V1_VERSIONS)
    return types.MappingProxyType(accepted)


def versions_document(request_url):
    base = (CONF.public_endpoint or request_url).rstrip('/') + '/'

    def entry(version, major, status):
        return {'id': 'v' + version, 'status': status,
                'links': [{'rel': 'self', 'href': '%sv%d/' % (base, major)}]}

    versions = []
    if CONF.enable_v2_api:
        listed, current = v2_versions()
        versions += [entry(v, 2, 'CURRENT' if v == current else 'SUPPORTED')
                     for v in listed]
    if CONF.enable_v1_api:
        versions += [entry(v, 1, 'SUPPORTED') for v in V1_VERSIONS]
    return {'versions': versions}


def versions_response(request, explicit=False):
    """200 for GET /versions, 300 Multiple Choices anywhere else."""
    response = webob.Response(request=request,
                              status=200 if explicit else 300,
                              content_type='application/json',
                              charset=None)
    response.body = json.dumps(
        versions_document(request.application_url)).encode('utf-8')
    return response


@webob.dec.wsgify
def versions_app(request):
    return versions_response(request)


def app_factory(global_conf, **local_conf):
    return versions_app
