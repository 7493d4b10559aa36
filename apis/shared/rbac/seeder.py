"""System roles at start: `system_admin` (follows ADMIN_JWT_ROLES, grants everything) and `default`.

Run by the app API at every start and safe to run from several processes at once. A storage failure
propagates: a service without its roles would turn every admin away, so it must not start. A system role
stored in a shape that can no longer be read does not stop the start: it is left as stored, logged and
counted (admins keep their rights through ADMIN_JWT_ROLES, see permissions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence

from apis.shared.clock import now_iso
from apis.shared.errors import CorruptRecord
from apis.shared.observability import SUPPRESSED_ERRORS
from apis.shared.rbac.exceptions import RoleExists, RoleNotFound
from apis.shared.rbac.models import DEFAULT_ROLE, SYSTEM_ADMIN, WILDCARD, AppRole, AppRoleUpdate
from apis.shared.rbac.repository import RoleRepository

ADMIN_PRIORITY = 1000
logger = logging.getLogger(__name__)


def _system_admin(admin_jwt_roles: list[str], now: str) -> AppRole:
    return AppRole(
        role_id=SYSTEM_ADMIN,
        display_name="System administrator",
        description="Every tool and model, and the admin API. Follows the token roles in ADMIN_JWT_ROLES.",
        jwt_role_mappings=admin_jwt_roles,
        granted_tools=[WILDCARD],
        granted_models=[WILDCARD],
        priority=ADMIN_PRIORITY,
        is_system_role=True,
        created_at=now,
        updated_at=now,
    )


def _default(now: str) -> AppRole:
    return AppRole(
        role_id=DEFAULT_ROLE,
        display_name="Default",
        description="Applies to a caller whose token roles select no other role.",
        priority=0,
        is_system_role=True,
        created_at=now,
        updated_at=now,
    )


def _admin_repairs(admin: AppRole, admin_jwt_roles: list[str]) -> AppRoleUpdate:
    """What system_admin lacks: the configured token roles (others admins added stay), enabled, "*" grants."""
    fields: dict[str, object] = {}
    missing = [name for name in admin_jwt_roles if name not in admin.jwt_role_mappings]
    if missing:
        fields["jwt_role_mappings"] = [*admin.jwt_role_mappings, *missing]
    if not admin.enabled:
        fields["enabled"] = True
    if WILDCARD not in admin.granted_tools:
        fields["granted_tools"] = [*admin.granted_tools, WILDCARD]
    if WILDCARD not in admin.granted_models:
        fields["granted_models"] = [*admin.granted_models, WILDCARD]
    return AppRoleUpdate.model_validate(fields)


async def _create_unless_present(roles: RoleRepository, wanted: AppRole) -> AppRole | None:
    """The stored role with `wanted`'s id, or None after creating `wanted` because there was none."""
    existing = await roles.get(wanted.role_id)
    if existing is not None:
        return existing
    try:
        await roles.create(wanted)
    except RoleExists:
        # Another process seeded it a moment ago: go on with what it wrote, like any existing role.
        raced = await roles.get(wanted.role_id)
        if raced is None:
            raise
        return raced
    return None


async def _seed_admin(roles: RoleRepository, admin_jwt_roles: list[str], now: str) -> str:
    existing = await _create_unless_present(roles, _system_admin(admin_jwt_roles, now))
    if existing is None:
        return f"role {SYSTEM_ADMIN}: created"
    changes = _admin_repairs(existing, admin_jwt_roles)
    if not changes.model_fields_set:
        return f"role {SYSTEM_ADMIN}: exists"
    if await roles.update(SYSTEM_ADMIN, changes) is None:
        raise RoleNotFound(f"role {SYSTEM_ADMIN} was deleted while it was being seeded")
    return f"role {SYSTEM_ADMIN}: updated"


async def _seed_default(roles: RoleRepository, now: str) -> str:
    """The default role is created once and then left as the admins made it (grants, even disabled)."""
    existing = await _create_unless_present(roles, _default(now))
    return f"role {DEFAULT_ROLE}: {'created' if existing is None else 'exists'}"


async def _unless_unreadable(role_id: str, seeding: Awaitable[str]) -> str:
    """`seeding`'s line, or a line saying the stored role cannot be read and was left as it is."""
    try:
        return await seeding
    except CorruptRecord:  # suppressed: an unreadable system role must not stop the start; it stays for repair
        SUPPRESSED_ERRORS.labels(where="rbac.seeder").inc()
        logger.error("system role %s cannot be read; it was not seeded and is left as stored", role_id)
        return f"role {role_id}: cannot be read, left as stored"


async def seed_system_roles(*, roles: RoleRepository, admin_jwt_roles: Sequence[str]) -> list[str]:
    """Make sure both system roles exist and system_admin follows `admin_jwt_roles`; a line per role."""
    wanted_mappings = list(dict.fromkeys(name.strip() for name in admin_jwt_roles if name.strip()))
    now = now_iso()
    return [
        await _unless_unreadable(SYSTEM_ADMIN, _seed_admin(roles, wanted_mappings, now)),
        await _unless_unreadable(DEFAULT_ROLE, _seed_default(roles, now)),
    ]
