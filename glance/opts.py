"""Every option glance-api reads, for oslo-config-generator."""
import itertools

from glance import store
from glance.api import common
from glance.api import versions
from glance.api.middleware import context
from glance.api.v2 import schemas
from glance.common import config
from glance.common import server
from glance.common import uri_filter
import glance.db
from glance.images import inspection
from glance.images import quotas
from glance.images import rules
from glance.images import uploads
from glance.tasks import records as task_records


def list_api_opts():
    groups = {}
    for group, opts in itertools.chain(
            config.list_opts(), server.list_opts(), glance.db.list_opts(),
            quotas.list_opts(), rules.list_opts(), uploads.list_opts(),
            schemas.list_opts(), inspection.list_opts(), store.list_opts(),
            uri_filter.list_opts(), task_records.list_opts(),
            [(None, versions.versions_opts), (None, common.paging_opts),
             (None, context.context_opts)]):
        groups.setdefault(group, []).extend(opts)
    return list(groups.items())
