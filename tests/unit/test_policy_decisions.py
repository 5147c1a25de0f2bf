"""Rule decisions remembered by the caller and the target values the rule
reads, so that every image is still judged on what matters."""
from oslo_config import cfg

from glance import context as glance_context
from glance.common import policy
from tests.helpers import Client
from tests.helpers import identity_headers


def test_the_keys_of_the_default_image_rule(app):
    enforcer = policy.get_enforcer()
    enforcer.load_rules()
    assert enforcer.referenced_target_keys('get_image') == (
        'member_id', 'project_id', 'visibility')
    assert enforcer.referenced_target_keys('context_is_admin') == ()


def test_a_remote_check_sees_the_whole_target(app, tmp_path):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"get_image": "http://127.0.0.1:1/check"\n')
    cfg.CONF.set_override('policy_file', str(policy_file),
                          group='oslo_policy')
    policy.reset()
    try:
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        assert enforcer.referenced_target_keys('get_image') is None
    finally:
        cfg.CONF.clear_override('policy_file', group='oslo_policy')
        policy.reset()


def get_image_decisions():
    return [key for key in policy.get_enforcer().decisions
            if key[1] == 'get_image']


def test_a_decision_is_remembered_per_caller_and_values(app):
    context = glance_context.RequestContext(
        project_id='p1', roles=['reader'], is_admin=False)
    target = {'project_id': 'p1', 'member_id': None, 'visibility': 'private',
              'name': 'one'}
    assert policy.check(context, 'get_image', target)
    assert len(get_image_decisions()) == 1
    # another image with the same deciding values: no new evaluation
    assert policy.check(context, 'get_image', dict(target, name='two'))
    assert len(get_image_decisions()) == 1
    # other deciding values, or another caller: decisions of their own
    assert not policy.check(context, 'get_image',
                            dict(target, project_id='p2'))
    other = glance_context.RequestContext(
        project_id='p2', roles=['reader'], is_admin=False)
    assert not policy.check(other, 'get_image', target)
    assert len(get_image_decisions()) == 3


def test_changed_rules_forget_the_decisions(app, tmp_path):
    context = glance_context.RequestContext(
        project_id='p1', roles=['reader'], is_admin=False)
    target = {'project_id': 'p1', 'member_id': None, 'visibility': 'private'}
    assert policy.check(context, 'get_image', target)
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"get_image": "role:admin"\n')
    cfg.CONF.set_override('policy_file', str(policy_file),
                          group='oslo_policy')
    try:
        policy.get_enforcer().load_rules(force_reload=True)
        assert not policy.check(context, 'get_image', target)
    finally:
        cfg.CONF.clear_override('policy_file', group='oslo_policy')
        policy.reset()


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


def test_an_image_target_shows_attributes_properties_and_roles(app):
    from glance.images import policy_targets
    image = {'id': 'i1', 'owner': 'p1', 'visibility': 'shared',
             'name': 'n', 'properties': {'tier': 'gold'}, 'tags': ['t'],
             'locations': []}
    member = glance_context.RequestContext(project_id='p2', is_admin=False)
    target = policy_targets.policy_target(member, image)
    assert target['project_id'] == 'p1'
    assert target['member_id'] == 'p2'
    assert target['tier'] == 'gold'
    assert target['name'] == 'n'
    assert 'tags' not in target and 'properties' not in target
    assert set(target) == {'id', 'owner', 'visibility', 'name', 'tier',
                           'project_id', 'member_id'}
    assert len(target) == 7
    owner = glance_context.RequestContext(project_id='p1', is_admin=False)
    assert policy_targets.policy_target(owner, image)['member_id'] is None
