"""The request context: who is asking, built by the context filters."""
from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context plus what the image rules need.

    `is_admin` follows the `context_is_admin` policy rule unless given.
    """

    def __init__(self, service_catalog=None, **kwargs):
        is_admin = kwargs.pop('is_admin', None)
        kwargs['roles'] = [role.lower() for role in kwargs.get('roles') or []]
        super().__init__(**kwargs)
        self.service_catalog = service_catalog
        self._policy_values = None
        self._policy_key = None
        self._logging_values = None
        if is_admin is None:
            from glance.common import policy
            is_admin = policy.check_is_admin(self)
        self.is_admin = is_admin

    def to_policy_values(self):
        # Computed once: policy checks run per image in a list.
        if self._policy_values is None:
            self._policy_values = super().to_policy_values()
        return self._policy_values

    @property
    def policy_key(self):
        """The caller's credentials as a hashable value: the policy
        decisions taken for them are kept under it."""
        if self._policy_key is None:
            # The attributes to_policy_values() maps (POLICY_VALUE_NAMES),
            # read directly: walking oslo.context's mapping of them cost
            # 3% of a GET's bytecodes (measured).
            self._policy_key = (
                self.user_id, self.user_domain_id, self.system_scope,
                self.domain_id, self.project_id, self.project_domain_id,
                tuple(self.roles), self.is_admin_project,
                self.service_user_id, self.service_user_domain_id,
                self.service_project_id, self.service_project_domain_id,
                tuple(self.service_roles))
        return self._policy_key

    def get_logging_values(self):
        # Computed once: oslo.log's formatter asks twice per log line,
        # and every request writes at least its access line.
        if self._logging_values is None:
            self._logging_values = super().get_logging_values()
        return self._logging_values

    def to_dict(self):
        values = super().to_dict()
        values['service_catalog'] = self.service_catalog
        return values


# What policy_key is made of: the names of to_policy_values() (a unit
# test checks that oslo.context still gives just these).
POLICY_VALUE_NAMES = (
    'user_id', 'user_domain_id', 'system_scope', 'domain_id', 'project_id',
    'project_domain_id', 'roles', 'is_admin_project', 'service_user_id',
    'service_user_domain_id', 'service_project_id',
    'service_project_domain_id', 'service_roles')


def get_admin_context(request_id=None):
    """The context of the service itself (and of the no-auth flavor);
    a new request id unless given."""
    return RequestContext(roles=['admin'], is_admin=True,
                          request_id=request_id)
