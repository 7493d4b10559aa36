"""Quota records as the domain and the API see them: the reference's names, casing and vocabularies.

A tier holds spending limits in USD; an assignment gives a tier to a user, an app role, a token role, an
email domain or everyone (the default); an override replaces whatever applies to one user for a while; an
event records a warning or a block. `EffectiveTier` is what applies once resolved (resolver.py): a stored
tier's limits, or an override's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from apis.shared.clock import to_iso
from apis.shared.rbac import ROLE_ID_PATTERN
from apis.shared.schemas import ApiModel


class AssignmentType(StrEnum):
    """Who an assignment is for, most specific first (the order of resolution, see resolver.py)."""

    DIRECT_USER = "direct_user"
    APP_ROLE = "app_role"
    JWT_ROLE = "jwt_role"
    EMAIL_DOMAIN = "email_domain"
    DEFAULT_TIER = "default_tier"


class QuotaEventType(StrEnum):
    """What an event records: a warning past the soft limit, a refused turn, or the reference's other two kinds."""

    WARNING = "warning"
    BLOCK = "block"
    RESET = "reset"
    OVERRIDE_APPLIED = "override_applied"


PeriodType = Literal["daily", "monthly"]
ActionOnLimit = Literal["block", "warn"]
OverrideType = Literal["custom_limit", "unlimited"]

# The reference client's pattern for tier ids, with a length bound.
TIER_ID_PATTERN = r"^[a-z0-9_-]{1,64}$"
MAX_LIMIT_USD = 1_000_000_000.0
MAX_PRIORITY = 1_000_000
DEFAULT_PRIORITY = 100

TierId = Annotated[str, StringConstraints(pattern=TIER_ID_PATTERN)]
Limit = Annotated[float, Field(gt=0, le=MAX_LIMIT_USD, allow_inf_nan=False)]
Percentage = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Priority = Annotated[int, Field(ge=0, le=MAX_PRIORITY)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
AppRoleId = Annotated[str, StringConstraints(pattern=ROLE_ID_PATTERN)]
JwtRole = Annotated[str, StringConstraints(min_length=1, max_length=256)]

_DOMAIN_PART = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
REGEX_PREFIX = "regex:"


def _domain_pattern(pattern: str) -> str:
    """`example.edu`, `*.example.edu` (it and its subdomains), several of those separated by commas (lower-cased,
    spaces dropped), or `regex:<expression>` matched against the whole domain, ignoring case."""
    if pattern.startswith(REGEX_PREFIX):
        try:
            re.compile(pattern.removeprefix(REGEX_PREFIX))
        except re.error as exc:
            raise ValueError(f"the regular expression does not compile: {exc.msg}") from exc
        return pattern
    parts = [part.strip().lower() for part in pattern.split(",")]
    if not all(_DOMAIN_PART.fullmatch(part) for part in parts):
        raise ValueError("must be a domain, *.domain, several separated by commas, or regex:<expression>")
    return ",".join(parts)


DomainPattern = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(_domain_pattern)
]


def _utc_moment(value: object) -> object:
    """Any ISO 8601 date and time (one without an offset is UTC), kept in the fixed-width UTC form of every
    record, so that stored moments compare as strings."""
    if not isinstance(value, str | datetime):
        return value  # the str type refuses it
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError("must be an ISO 8601 date and time") from exc
    if not 2000 <= moment.year <= 9999:
        raise ValueError("must be between the years 2000 and 9999")
    return to_iso(moment)


Moment = Annotated[str, BeforeValidator(_utc_moment)]


class TierFields(ApiModel):
    """What an admin sets on a tier."""

    tier_name: Name
    description: Description | None = None
    monthly_cost_limit: Limit
    daily_cost_limit: Limit | None = None
    # Which period's figures a user sees first; both limits are enforced either way (checker.py).
    period_type: PeriodType = "monthly"
    soft_limit_percentage: Percentage = 80.0
    action_on_limit: ActionOnLimit = "block"
    enabled: bool = True


class QuotaTier(TierFields):
    """One stored tier."""

    tier_id: TierId
    created_at: str
    updated_at: str
    created_by: str


# The field that names the target of each kind of assignment; the default tier has none.
TARGET_FIELDS: dict[AssignmentType, str | None] = {
    AssignmentType.DIRECT_USER: "user_id",
    AssignmentType.APP_ROLE: "app_role_id",
    AssignmentType.JWT_ROLE: "jwt_role",
    AssignmentType.EMAIL_DOMAIN: "email_domain",
    AssignmentType.DEFAULT_TIER: None,
}


class AssignmentTarget(ApiModel):
    """Who an assignment is for: exactly the field of its type is set (none for the default tier)."""

    assignment_type: AssignmentType
    user_id: UserId | None = None
    app_role_id: AppRoleId | None = None
    jwt_role: JwtRole | None = None
    email_domain: DomainPattern | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        wanted = TARGET_FIELDS[self.assignment_type]
        for name in filter(None, TARGET_FIELDS.values()):
            alias = type(self).model_fields[name].alias or name
            present = getattr(self, name) is not None
            if name == wanted and not present:
                raise ValueError(f"{alias} is required for a {self.assignment_type.value} assignment")
            if name != wanted and present:
                raise ValueError(f"{alias} does not apply to a {self.assignment_type.value} assignment")
        return self

    @property
    def target(self) -> str:
        """The user id, app role, token role or domain pattern; "" for the default tier."""
        wanted = TARGET_FIELDS[self.assignment_type]
        return str(getattr(self, wanted)) if wanted else ""


class QuotaAssignment(AssignmentTarget):
    """One stored assignment; among several that match a user, the highest priority wins."""

    assignment_id: str
    tier_id: TierId
    priority: Priority = DEFAULT_PRIORITY
    enabled: bool = True
    created_at: str
    updated_at: str
    created_by: str


class OverrideFields(ApiModel):
    """What an admin sets on an override: a custom limit or no limit, for a user, between two moments."""

    user_id: UserId
    override_type: OverrideType
    monthly_cost_limit: Limit | None = None
    daily_cost_limit: Limit | None = None
    valid_from: Moment
    valid_until: Moment
    reason: Reason

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.override_type == "custom_limit" and self.monthly_cost_limit is None:
            raise ValueError("monthlyCostLimit is required for a custom_limit override")
        if self.override_type == "unlimited" and (self.monthly_cost_limit or self.daily_cost_limit):
            raise ValueError("an unlimited override carries no limits")
        if self.valid_until <= self.valid_from:
            raise ValueError("validUntil must be after validFrom")
        return self


class QuotaOverride(OverrideFields):
    """One stored override; while it is active (enabled, now within its validity) it beats every assignment."""

    override_id: str
    created_by: str
    created_at: str
    enabled: bool = True

    def active_at(self, moment: str) -> bool:
        """Enabled, and `moment` (a stored-form timestamp) is within [validFrom, validUntil]."""
        return self.enabled and self.valid_from <= moment <= self.valid_until


class QuotaEvent(ApiModel):
    """A warning, block, reset or override applied, with the figures at that moment."""

    event_id: str
    user_id: str
    tier_id: str
    event_type: QuotaEventType
    current_usage: float
    quota_limit: float
    percentage_used: float
    timestamp: str
    metadata: dict[str, Any] | None = None


class EffectiveTier(ApiModel):
    """The limits that apply to a user: a stored tier's, or an override's (`override_<id>`, as the reference
    names it). `monthlyCostLimit` is None only for an unlimited override."""

    tier_id: str
    tier_name: str
    description: str | None = None
    monthly_cost_limit: float | None
    daily_cost_limit: float | None = None
    period_type: PeriodType = "monthly"
    soft_limit_percentage: float = 80.0
    action_on_limit: ActionOnLimit = "block"
    enabled: bool = True
    created_at: str
    updated_at: str
    created_by: str

    @classmethod
    def of_tier(cls, tier: QuotaTier) -> EffectiveTier:
        return cls.model_validate(tier.model_dump())

    @classmethod
    def of_override(cls, override: QuotaOverride) -> EffectiveTier:
        """An unlimited override only warns and has no limit; a custom one blocks at its own limits."""
        unlimited = override.override_type == "unlimited"
        return cls(
            tier_id=f"override_{override.override_id}",
            tier_name="Unlimited Override" if unlimited else "Custom Override",
            monthly_cost_limit=None if unlimited else override.monthly_cost_limit,
            daily_cost_limit=None if unlimited else override.daily_cost_limit,
            action_on_limit="warn" if unlimited else "block",
            created_at=override.created_at,
            updated_at=override.created_at,
            created_by=override.created_by,
        )


class ResolvedQuota(ApiModel):
    """What applies to a user and why: `matchedBy` is `override`, `direct_user`, `app_role:<id>`,
    `jwt_role:<role>`, `email_domain:<pattern>` or `default_tier`."""

    user_id: str
    tier: EffectiveTier
    matched_by: str
    assignment: QuotaAssignment | None = None
    override: QuotaOverride | None = None
