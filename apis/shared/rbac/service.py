"""App roles service: the admin's create, read, update and delete, with the rules that keep system roles working.

Every write drops the process's permission cache, so the change applies to the next request here (other
processes pick it up within the cache's TTL, see cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apis.shared.clock import now_iso
from apis.shared.rbac.cache import PermissionCache
from apis.shared.rbac.exceptions import RoleNotFound, SystemRoleProtected, UnknownParentRole
from apis.shared.rbac.models import (
    SYSTEM_ADMIN,
    SYSTEM_ROLES,
    WILDCARD,
    AppRole,
    AppRoleCreate,
    AppRoleRead,
    AppRoleUpdate,
)
from apis.shared.rbac.permissions import role_permissions
from apis.shared.rbac.repository import RoleRepository


async def _check_parents(roles: RoleRepository, parent_ids: Iterable[str]) -> None:
    """Each named parent must exist now; one that is deleted later simply grants nothing."""
    existing = {role.role_id for role in await roles.list_roles()}
    missing = [parent_id for parent_id in parent_ids if parent_id not in existing]
    if missing:
        raise UnknownParentRole(f"inheritsFrom names roles that do not exist: {', '.join(missing)}")


async def create(*, roles: RoleRepository, cache: PermissionCache, role_in: AppRoleCreate) -> AppRole:
    """Store a new, non-system role; RoleExists if the id is taken."""
    if role_in.role_id in SYSTEM_ROLES:
        raise SystemRoleProtected(f"role id {role_in.role_id} is reserved for a system role")
    await _check_parents(roles, role_in.inherits_from)
    now = now_iso()
    role = AppRole(**role_in.model_dump(), is_system_role=False, created_at=now, updated_at=now)
    try:
        return await roles.create(role)
    finally:
        # Even a failed write may have landed (a timeout after the backend applied it).
        cache.invalidate()


async def get_or_raise(*, roles: RoleRepository, role_id: str) -> AppRole:
    """The role, or RoleNotFound (404) for the admin API."""
    role = await roles.get(role_id)
    if role is None:
        raise RoleNotFound(f"role {role_id} not found")
    return role


async def list_roles(*, roles: RoleRepository) -> list[AppRole]:
    """Every role, straight from storage (not the cache): an admin sees their own change at once."""
    return await roles.list_roles()


def _check_system_change(role: AppRole, changes: AppRoleUpdate, *, admin_jwt_roles: Sequence[str]) -> None:
    """system_admin stays enabled, keeps the token roles of ADMIN_JWT_ROLES and "*" for tools and models.

    Admins keep their rights without them (see permissions.py), but the stored role would then say
    something other than what applies: refused, with the reason.
    """
    if role.role_id != SYSTEM_ADMIN:
        return
    if changes.enabled is False:
        raise SystemRoleProtected(f"role {SYSTEM_ADMIN} cannot be disabled")
    if changes.jwt_role_mappings is not None:
        dropped = [name for name in admin_jwt_roles if name not in changes.jwt_role_mappings]
        if dropped:
            raise SystemRoleProtected(
                f"role {SYSTEM_ADMIN} must keep the token roles set in ADMIN_JWT_ROLES: {', '.join(dropped)}"
            )
    if changes.granted_tools is not None and WILDCARD not in changes.granted_tools:
        raise SystemRoleProtected(f'role {SYSTEM_ADMIN} must keep granting "{WILDCARD}" tools')
    if changes.granted_models is not None and WILDCARD not in changes.granted_models:
        raise SystemRoleProtected(f'role {SYSTEM_ADMIN} must keep granting "{WILDCARD}" models')


async def update(*, roles: RoleRepository, cache: PermissionCache, role_id: str, changes: AppRoleUpdate) -> AppRole:
    """Apply the sent fields; a system role keeps its id, and system_admin its powers.

    The role as it would be stored is validated first (InvalidInput, 422), on every backend, so that nothing
    that cannot be read back is written.
    """
    current = await get_or_raise(roles=roles, role_id=role_id)
    if current.is_system_role:
        _check_system_change(current, changes, admin_jwt_roles=cache.admin_jwt_roles)
    if changes.inherits_from is not None:
        await _check_parents(roles, changes.inherits_from)
    changes.apply_to(current, updated_at=current.updated_at)  # only to validate: the repository writes it
    try:
        updated = await roles.update(role_id, changes)
    finally:
        cache.invalidate()
    if updated is None:
        raise RoleNotFound(f"role {role_id} not found")
    return updated


async def delete(*, roles: RoleRepository, cache: PermissionCache, role_id: str) -> None:
    """Remove a role; roles that inherit from it simply stop getting its grants. System roles stay.

    The role is not read first (only system roles carry their ids), so a role stored in a shape that can no
    longer be read can still be deleted.
    """
    if role_id in SYSTEM_ROLES:
        raise SystemRoleProtected(f"role {role_id} is a system role and cannot be deleted")
    try:
        deleted = await roles.delete(role_id)
    finally:
        cache.invalidate()
    if not deleted:
        raise RoleNotFound(f"role {role_id} not found")


def with_permissions(role: AppRole, all_roles: Sequence[AppRole]) -> AppRoleRead:
    """`role` as an admin reads it: with what it grants on its own, its direct parents included."""
    return AppRoleRead.model_validate({**role.model_dump(), "effective_permissions": role_permissions(role, all_roles)})
