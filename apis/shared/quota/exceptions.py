"""What can go wrong with quota tiers, assignments and overrides."""

from __future__ import annotations

from apis.shared.errors import ConfigurationError, ConflictError, NotFoundError, RuleViolation


class TierNotFound(NotFoundError):
    """No quota tier has this id."""

    code = "quota_tier_not_found"


class TierExists(ConflictError):
    """A quota tier with this id exists already."""

    code = "quota_tier_exists"


class TierInUse(ConflictError):
    """The tier cannot be deleted while assignments name it: delete or reassign them first."""

    code = "quota_tier_in_use"


class UnknownTier(RuleViolation):
    """An assignment names a tier that does not exist."""

    code = "unknown_quota_tier"


class AssignmentNotFound(NotFoundError):
    """No quota assignment has this id."""

    code = "quota_assignment_not_found"


class AssignmentExists(ConflictError):
    """The user, or the app role, has a quota assignment already: update or delete that one."""

    code = "quota_assignment_exists"


class OverrideNotFound(NotFoundError):
    """No quota override has this id."""

    code = "quota_override_not_found"


class UsageUnavailable(ConfigurationError):
    """A tier has a daily limit, and the service was given no way to read a day's spend."""

    code = "quota_usage_unavailable"
