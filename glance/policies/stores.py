"""Default rules of the stores' discovery."""
from glance.policies import base
from glance.policies.base import ADMIN

RULES = [
    base.project_rule(
        'stores_info_detail', '%s or rule:service_api' % ADMIN,
        'See the stores with their types, weights and properties.',
        'GET', '/v2/info/stores/detail'),
]
