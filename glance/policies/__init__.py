"""The default authorization rules (oslo.policy), one module per
resource. Operators override any rule in the file `[oslo_policy]
policy_file` names."""
import itertools

from glance.policies import base
from glance.policies import images
from glance.policies import members
from glance.policies import stores
from glance.policies import tasks


def list_rules():
    """Every default rule (also oslopolicy-sample-generator's entry point,
    oslo.policy.policies in setup.cfg)."""
    return list(itertools.chain(base.RULES, images.RULES, members.RULES,
                                stores.RULES, tasks.RULES))
