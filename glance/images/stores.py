"""What users may know of the stores (GET /v2/info/stores[/detail])."""
from glance import store
from glance.common import policy


def stores_info(context, detail=False):
    """The stores, as dicts in upstream's form: `id`, `description` when
    configured, `default: "true"` on the default one, `read-only: "true"`
    on those that cannot take data; with detail (policy
    stores_info_detail) also `type`, `properties` and `weight`."""
    if detail:
        policy.enforce(context, 'stores_info_detail', {})
    return store.stores_info(detail)
