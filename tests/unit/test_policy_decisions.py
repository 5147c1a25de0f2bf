"""Rule decisions remembered within a request: by the target values the
rule looks at, so that every image is still judged on what matters."""
from oslo_config import cfg

from glance import context as glance_context
from glance.common import policy
from tests.conftest import Client
from tests.conftest import identity_headers


def test_the_keys_of_the_default_image_rule(app):
    enforcer = policy.get_enforcer()
    enforcer.load_rules()
    assert policy.referenced_target_keys(enforcer, 'get_image') == {
        'project_id', 'member_id', 'visibility'}
    # a rule that refers to another rule takes that rule's keys too
    assert policy.referenced_target_keys(enforcer, 'context_is_admin') \
        == set()


def test_a_remote_check_sees_the_whole_target(app, tmp_path):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"get_image": "http://127.0.0.1:1/check"\n')
    cfg.CONF.set_override('policy_file', str(policy_file),
                          group='oslo_policy')
    policy.reset()
    try:
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        assert policy.referenced_target_keys(enforcer, 'get_image') is None
    finally:
        cfg.CONF.clear_override('policy_file', group='oslo_policy')
        policy.reset()


def test_a_decision_is_remembered_per_caller_and_values(app):
    context = glance_context.RequestContext(
        project_id='p1', roles=['reader'], is_admin=False)
    target = {'project_id': 'p1', 'member_id': None, 'visibility': 'private',
              'name': 'one'}
    assert policy.check(context, 'get_image', target)
    remembered = {k: v for k, v in context.policy_decisions.items()
                  if k[0] == 'get_image'}
    assert list(remembered.values()) == [True]
    # another image with the same deciding values: no new evaluation
    assert policy.check(context, 'get_image', dict(target, name='two'))
    assert len([k for k in context.policy_decisions
                if k[0] == 'get_image']) == 1
    # other deciding values: a decision of its own
    assert not policy.check(context, 'get_image',
                            dict(target, project_id='p2'))


def test_a_rule_on_a_property_filters_each_listed_image(trusted_app,
                                                        tmp_path):
    """The listing runs get_image on every image: with a rule that looks
    at an extra property, the images are told apart by it."""
    owner = Client(trusted_app, identity_headers('p1'))
    owner.create_image(name='open', tier='bronze')
    owner.create_image(name='closed', tier='gold')
    owner.create_image(name='plain')
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text(
        '"get_image": "role:reader and project_id:%(project_id)s and '
        'not \'gold\':%(tier)s"\n')
    cfg.CONF.set_override('policy_file', str(policy_file),
                          group='oslo_policy')
    policy.reset()
    try:
        listed = owner.get('/v2/images').json['images']
        assert sorted(i['name'] for i in listed) == ['open', 'plain']
    finally:
        cfg.CONF.clear_override('policy_file', group='oslo_policy')
        policy.reset()
