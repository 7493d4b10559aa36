"""The tool catalogue's service functions: the admin's records and grants, and what a user may enable.

Records are stored whole (repository.py); an update reads, changes and writes back only if nobody wrote in
between, trying again a few times before answering 409. Grants are edited on the app roles themselves (through
the roles service, so the permission cache is dropped as for any role change): the catalogue never keeps a
second copy of who may use a tool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from apis.shared.clock import now_iso
from apis.shared.errors import RuleViolation
from apis.shared.rbac import WILDCARD, AppRole, AppRoleUpdate, EffectivePermissions, PermissionCache, RoleRepository
from apis.shared.rbac import service as roles_service
from apis.shared.tools.access import granted_by
from apis.shared.tools.exceptions import ToolChanged, ToolNotFound
from apis.shared.tools.models import ToolRecord, ToolStatus
from apis.shared.tools.repository import ToolRepository

logger = logging.getLogger(__name__)
_WRITE_ATTEMPTS = 3


async def get_or_raise(tools: ToolRepository, tool_id: str) -> ToolRecord:
    tool = await tools.get_tool(tool_id)
    if tool is None:
        raise ToolNotFound(tool_id)
    return tool


async def list_tools(tools: ToolRepository, *, status: ToolStatus | None = None) -> list[ToolRecord]:
    """Every record (or those with `status`), by tool id."""
    records = await tools.list_tools()
    return [tool for tool in records if status is None or tool.status is status]


async def update(tools: ToolRepository, tool_id: str, change: Callable[[ToolRecord], ToolRecord]) -> ToolRecord:
    """Apply `change` to the stored record and write it back if nobody wrote meanwhile; `change` may run more
    than once (on a fresh read each time), so it must not have side effects. ToolNotFound, or ToolChanged
    after a few lost races."""
    for _ in range(_WRITE_ATTEMPTS):
        current = await get_or_raise(tools, tool_id)
        changed = change(current).model_copy(update={"revision": current.revision + 1})
        if await tools.replace_tool(changed, read_revision=current.revision):
            return changed
    raise ToolChanged(tool_id)


async def delete(
    *, tools: ToolRepository, roles: RoleRepository, cache: PermissionCache, tool_id: str, hard: bool, admin_id: str
) -> None:
    """Soft: the record stays, `disabled` (offered to nobody). Hard: the record goes, and so do the roles'
    grants of it, so that a new tool given the same id later is not granted by an old decision."""
    if not hard:
        await update(tools, tool_id, lambda tool: _stamped(tool, admin_id, status=ToolStatus.DISABLED))
        return
    if not await tools.delete_tool(tool_id):
        raise ToolNotFound(tool_id)
    for role in await roles.list_roles():
        if tool_id in role.granted_tools:
            await _set_role_grant(roles, cache, role, tool_id, granted=False)


def _stamped(tool: ToolRecord, admin_id: str, **fields: object) -> ToolRecord:
    return tool.model_copy(update={**fields, "updated_at": now_iso(), "updated_by": admin_id})


# Grants -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role that lets its members use a tool: `direct` when the tool is in its own `grantedTools`,
    `inherited` when a parent's grant or a "*" does (`inherited_from` names the parent, or "*")."""

    role_id: str
    display_name: str
    grant_type: str
    inherited_from: str | None
    enabled: bool


def roles_granting(tool_id: str, roles: Sequence[AppRole]) -> list[RoleGrant]:
    """Every role whose members may use the tool through it, by role id."""
    by_id = {role.role_id: role for role in roles}
    grants: list[RoleGrant] = []
    for role in sorted(roles, key=lambda role: role.role_id):
        source = _grant_source(role, tool_id, by_id)
        if source is not None:
            grant_type, inherited_from = source
            grants.append(RoleGrant(role.role_id, role.display_name, grant_type, inherited_from, role.enabled))
    return grants


def _grant_source(role: AppRole, tool_id: str, by_id: Mapping[str, AppRole]) -> tuple[str, str | None] | None:
    if tool_id in role.granted_tools:
        return "direct", None
    if WILDCARD in role.granted_tools:
        return "inherited", WILDCARD
    for parent_id in role.inherits_from:  # one level, as permissions.py resolves inheritance
        parent = by_id.get(parent_id)
        if (
            parent is not None
            and parent.enabled
            and (tool_id in parent.granted_tools or WILDCARD in parent.granted_tools)
        ):
            return "inherited", parent_id
    return None


def direct_role_ids(tool_id: str, roles: Iterable[AppRole]) -> list[str]:
    """The roles that name the tool in their own `grantedTools`: the reference's `allowedAppRoles`."""
    return sorted(role.role_id for role in roles if tool_id in role.granted_tools)


async def set_granting_roles(
    *, tools: ToolRepository, roles: RoleRepository, cache: PermissionCache, tool_id: str, role_ids: Sequence[str]
) -> None:
    """Make exactly `role_ids` grant the tool directly: added where missing, removed from the others."""
    await get_or_raise(tools, tool_id)
    all_roles = await roles.list_roles()
    _check_roles_exist(role_ids, all_roles)
    wanted = set(role_ids)
    for role in all_roles:
        has = tool_id in role.granted_tools
        if has != (role.role_id in wanted):
            await _set_role_grant(roles, cache, role, tool_id, granted=not has)


async def change_granting_roles(
    *,
    tools: ToolRepository,
    roles: RoleRepository,
    cache: PermissionCache,
    tool_id: str,
    role_ids: Sequence[str],
    granted: bool,
) -> None:
    """Add (`granted`) or remove the tool from each named role's own grants; the other roles are left alone."""
    await get_or_raise(tools, tool_id)
    all_roles = await roles.list_roles()
    _check_roles_exist(role_ids, all_roles)
    for role in all_roles:
        if role.role_id in role_ids and (tool_id in role.granted_tools) != granted:
            await _set_role_grant(roles, cache, role, tool_id, granted=granted)


def _check_roles_exist(role_ids: Sequence[str], roles: Sequence[AppRole]) -> None:
    known = {role.role_id for role in roles}
    missing = [role_id for role_id in role_ids if role_id not in known]
    if missing:
        raise RuleViolation(f"no such app role: {', '.join(missing)}", code="unknown_role")


async def _set_role_grant(
    roles: RoleRepository, cache: PermissionCache, role: AppRole, tool_id: str, *, granted: bool
) -> None:
    tools = [*role.granted_tools, tool_id] if granted else [name for name in role.granted_tools if name != tool_id]
    await roles_service.update(
        roles=roles, cache=cache, role_id=role.role_id, changes=AppRoleUpdate(granted_tools=tools)
    )


# What a user sees --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserTool:
    """A tool the caller may use, with their own choice (`user_enabled`, None if never made)."""

    tool: ToolRecord
    granted_by: list[str]
    user_enabled: bool | None

    @property
    def is_enabled(self) -> bool:
        return self.tool.enabled_by_default if self.user_enabled is None else self.user_enabled


async def user_tools(
    *, tools: ToolRepository, permissions: EffectivePermissions, user_id: str, offered: Callable[[ToolRecord], bool]
) -> list[UserTool]:
    """The active tools the caller may use and this deployment can run (`offered`), by category then name."""
    records = await tools.list_tools()
    preferences = await tools.get_preferences(user_id)
    visible = []
    for tool in records:
        sources = granted_by(tool, permissions)
        if sources and offered(tool):
            visible.append(UserTool(tool, sources, preferences.get(tool.tool_id)))
    return sorted(visible, key=lambda item: (item.tool.category.value, item.tool.display_name.lower()))


async def save_preferences(
    *,
    tools: ToolRepository,
    permissions: EffectivePermissions,
    user_id: str,
    preferences: Mapping[str, bool],
    offered: Callable[[ToolRecord], bool],
) -> dict[str, bool]:
    """Store the caller's choices; a tool they may not use (or that does not exist) is refused (400), and then
    nothing is stored."""
    usable = {
        item.tool.tool_id
        for item in await user_tools(tools=tools, permissions=permissions, user_id=user_id, offered=offered)
    }
    refused = sorted(set(preferences) - usable)
    if refused:
        raise RuleViolation(
            f"cannot set preferences for tools you may not use: {', '.join(refused)}", code="tool_not_allowed"
        )
    return await tools.merge_preferences(user_id, preferences)
