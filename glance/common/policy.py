"""Authorization (oslo.policy): the enforcer and the checks the service
makes. The default rules are in `glance.policies`; operators override any
of them in the file `[oslo_policy] policy_file` names. One enforcer is
built per process and reused by every request.
"""
import re
import time

from oslo_config import cfg
from oslo_policy import policy

from glance import policies
from glance.common import exception

CONF = cfg.CONF

# How often, at most, the policy file is looked at for changes.
RELOAD_CHECK_SECONDS = 1.0
# Decisions kept per worker process before they are all forgotten (each
# holds a caller's credentials: a few KiB at most).
MAX_DECISIONS = 4096

TARGET_KEY = re.compile(r'%\(([^)]+)\)s')
RULE_REFERENCE = re.compile(r'\brule:([^\s()]+)')
REMOTE_CHECK = re.compile(r'(^|[\s(])https?:')


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, with its decisions remembered.

    A decision is a function of the rules, the caller's credentials and
    the target values the rule reads, so it is kept under exactly those
    and forgotten whenever the rules change: listing many images of a few
    owners costs a few rule evaluations, and every image is still judged.
    oslo.policy also looks for a changed policy file on every check; here
    it looks at most once a second, which still picks up an edited file.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loaded_at = None
        self._rules_text = None
        self.decisions = {}
        self.target_keys = {}

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if force_reload or self._loaded_at is None \
                or now - self._loaded_at >= RELOAD_CHECK_SECONDS:
            super().load_rules(force_reload)
            self._loaded_at = now
            rules_text = sorted((name, str(rule))
                                for name, rule in self.rules.items())
            if rules_text != self._rules_text:
                self._rules_text = rules_text
                self.decisions.clear()
                self.target_keys.clear()

    def referenced_target_keys(self, action):
        """The target keys the rule of `action`, and the rules it refers
        to, read (sorted); None if that cannot be known: a check by a
        remote server sees the whole target."""
        if action not in self.target_keys:
            self.target_keys[action] = self._find_target_keys(action)
        return self.target_keys[action]

    def _find_target_keys(self, action):
        keys, pending, seen = set(), [action], set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                text = str(self.rules[name])
            except KeyError:
                continue
            if REMOTE_CHECK.search(text):
                return None
            keys.update(TARGET_KEY.findall(text))
            pending.extend(RULE_REFERENCE.findall(text))
        return tuple(sorted(keys))

    def decide(self, action, target, creds, creds_key):
        self.load_rules()
        keys = self.referenced_target_keys(action)
        if keys is None:
            return self._evaluate(action, target, creds)
        key = (creds_key, action) + tuple(target.get(k, MISSING)
                                          for k in keys)
        decision = self.decisions.get(key)
        if decision is None:
            if len(self.decisions) >= MAX_DECISIONS:
                self.decisions.clear()
            decision = self.decisions[key] = self._evaluate(
                action, target, creds)
        return decision

    def _evaluate(self, action, target, creds):
        try:
            return bool(self.enforce(action, target, creds))
        except policy.InvalidScope:
            return False


MISSING = object()  # a target key the target does not have

_enforcer = None


def get_enforcer():
    global _enforcer
    if _enforcer is None:
        _enforcer = Enforcer(CONF, use_conf=True)
        _enforcer.register_defaults(policies.list_rules())
    return _enforcer


def reset():
    """Forget the enforcer (configuration reloaded, or tests)."""
    global _enforcer
    _enforcer = None


def check(context, action, target):
    """True if `context` may do `action` on `target` (a dict)."""
    return get_enforcer().decide(action, target, context.to_policy_values(),
                                 context.policy_key)


def enforce(context, action, target):
    """Raise Forbidden unless `context` may do `action` on `target`."""
    if not check(context, action, target):
        raise exception.Forbidden(
            'You are not authorized to complete %s action.' % action)


def check_is_admin(context):
    return check(context, 'context_is_admin', {})
