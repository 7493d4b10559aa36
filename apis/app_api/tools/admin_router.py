"""The admin's tool catalogue, in the reference's shapes (`/admin/tools/...`): records, their grants, and sync.

Grants are edited on the app roles (catalog.py); every change drops this process's permission cache, and other
processes (the inference API) see it within PERMISSION_CACHE_SECONDS. An MCP server's tools are discovered when
it is registered or its settings change; a server that cannot be reached is still registered, with the reason
in `mcpConfig.syncError`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from apis.app_api.deps import AdminPermissions, AppSettings, CurrentUser, PermissionCacheDep, RolesRepo
from apis.app_api.tools.records import new_record, updated_record
from apis.app_api.tools.runtime import SecretBoxDep, ToolsRepo
from apis.app_api.tools.schemas import (
    AdminToolList,
    AdminToolRead,
    Message,
    RoleGrantRead,
    SyncRead,
    ToolCreate,
    ToolRolesIn,
    ToolRolesRead,
    ToolUpdate,
)
from apis.app_api.updates import merged_record_validated
from apis.shared.errors import RuleViolation
from apis.shared.rbac import RoleRepository
from apis.shared.tools import catalog
from apis.shared.tools.builtin_catalog import sync_builtin_tools
from apis.shared.tools.mcp_servers import discovered, sync_all_servers, sync_server
from apis.shared.tools.models import TOOL_ID_PATTERN, ToolRecord, ToolStatus

router = APIRouter(prefix="/admin/tools", tags=["admin: tools"])
ToolIdPath = Annotated[str, Path(pattern=TOOL_ID_PATTERN)]


async def _read(tool: ToolRecord, roles: RoleRepository) -> AdminToolRead:
    return AdminToolRead.of(tool, catalog.direct_role_ids(tool.tool_id, await roles.list_roles()))


@router.get("", response_model=AdminToolList)
async def list_tools(
    admin: AdminPermissions, tools: ToolsRepo, roles: RolesRepo, status: ToolStatus | None = None
) -> AdminToolList:
    """Every record, with the roles that grant each one directly."""
    records = await catalog.list_tools(tools, status=status)
    all_roles = await roles.list_roles()
    listed = [AdminToolRead.of(tool, catalog.direct_role_ids(tool.tool_id, all_roles)) for tool in records]
    return AdminToolList(tools=listed, total=len(listed))


@router.post("", response_model=AdminToolRead, status_code=status.HTTP_201_CREATED)
async def create_tool(
    body: ToolCreate,
    admin: AdminPermissions,
    caller: CurrentUser,
    tools: ToolsRepo,
    roles: RolesRepo,
    box: SecretBoxDep,
    settings: AppSettings,
) -> AdminToolRead:
    """A new record: a built-in's (its id must be one), or an MCP server's, whose tools are discovered first.
    409 if the id is taken; 422 for what cannot run here."""
    with merged_record_validated():
        record = new_record(body, box=box, admin_id=caller.user_id)
    if record.is_mcp_server:
        record, _ = await discovered(record, settings.tools, box)
    return await _read(await tools.create_tool(record), roles)


@router.post("/sync", response_model=SyncRead)
async def sync_catalogue(
    admin: AdminPermissions,
    caller: CurrentUser,
    tools: ToolsRepo,
    box: SecretBoxDep,
    settings: AppSettings,
    dry_run: bool = True,
) -> SyncRead:
    """Compare the catalogue with the built-in tools of this version (the reference's registry sync); unless
    `dry_run`, create the missing ones, deprecate `local` records with no code, and discover every MCP server's
    tools again."""
    report = await sync_builtin_tools(tools, admin_id=caller.user_id, dry_run=dry_run)
    servers = [] if dry_run else await sync_all_servers(tools, settings.tools, box)
    return SyncRead(
        discovered=report.discovered,
        orphaned=report.orphaned,
        unchanged=report.unchanged,
        dry_run=dry_run,
        mcp_servers=servers,
    )


@router.get("/{tool_id}", response_model=AdminToolRead)
async def read_tool(tool_id: ToolIdPath, admin: AdminPermissions, tools: ToolsRepo, roles: RolesRepo) -> AdminToolRead:
    return await _read(await catalog.get_or_raise(tools, tool_id), roles)


@router.put("/{tool_id}", response_model=AdminToolRead)
async def update_tool(
    tool_id: ToolIdPath,
    body: ToolUpdate,
    admin: AdminPermissions,
    caller: CurrentUser,
    tools: ToolsRepo,
    roles: RolesRepo,
    box: SecretBoxDep,
    settings: AppSettings,
) -> AdminToolRead:
    """Change the sent fields; a changed MCP server is asked for its tools again."""
    before = await catalog.get_or_raise(tools, tool_id)
    with merged_record_validated():
        after = await catalog.update(
            tools, tool_id, lambda current: updated_record(current, body, box=box, admin_id=caller.user_id)
        )
    if after.is_mcp_server and after.mcp_config != before.mcp_config:
        after, _ = await sync_server(tools, tool_id, settings.tools, box)
    return await _read(after, roles)


@router.delete("/{tool_id}", response_model=Message)
async def delete_tool(
    tool_id: ToolIdPath,
    admin: AdminPermissions,
    caller: CurrentUser,
    tools: ToolsRepo,
    roles: RolesRepo,
    cache: PermissionCacheDep,
    hard: Annotated[bool, Query(description="remove the record (and its grants) instead of disabling it")] = False,
) -> Message:
    await catalog.delete(tools=tools, roles=roles, cache=cache, tool_id=tool_id, hard=hard, admin_id=caller.user_id)
    return Message(message=f"Tool '{tool_id}' {'deleted' if hard else 'disabled'} successfully")


@router.post("/{tool_id}/sync", response_model=AdminToolRead)
async def sync_tool(
    tool_id: ToolIdPath,
    admin: AdminPermissions,
    tools: ToolsRepo,
    roles: RolesRepo,
    box: SecretBoxDep,
    settings: AppSettings,
) -> AdminToolRead:
    """Ask one MCP server for its tools now. The outcome is stored either way; a failure is then answered as
    the server's error (502, or 503 when it cannot be reached)."""
    tool = await catalog.get_or_raise(tools, tool_id)
    if not tool.is_mcp_server:
        raise RuleViolation(f"tool {tool_id!r} is built in: only MCP servers are synced", code="not_an_mcp_server")
    synced, failure = await sync_server(tools, tool_id, settings.tools, box)
    if failure is not None:
        raise failure
    return await _read(synced, roles)


@router.get("/{tool_id}/roles", response_model=ToolRolesRead)
async def tool_roles(tool_id: ToolIdPath, admin: AdminPermissions, tools: ToolsRepo, roles: RolesRepo) -> ToolRolesRead:
    """The roles whose members may use the tool: directly granted, or through "*" or a parent role."""
    await catalog.get_or_raise(tools, tool_id)
    grants = catalog.roles_granting(tool_id, await roles.list_roles())
    return ToolRolesRead(tool_id=tool_id, roles=[RoleGrantRead.of(grant) for grant in grants])


@router.put("/{tool_id}/roles", response_model=Message)
async def set_tool_roles(
    tool_id: ToolIdPath,
    body: ToolRolesIn,
    admin: AdminPermissions,
    tools: ToolsRepo,
    roles: RolesRepo,
    cache: PermissionCacheDep,
) -> Message:
    """Exactly these roles grant the tool directly; 400 naming roles that do not exist (nothing changed then)."""
    await catalog.set_granting_roles(tools=tools, roles=roles, cache=cache, tool_id=tool_id, role_ids=body.app_role_ids)
    return Message(message=f"Roles updated for tool '{tool_id}'")


@router.post("/{tool_id}/roles/add", response_model=Message)
async def add_tool_roles(
    tool_id: ToolIdPath,
    body: ToolRolesIn,
    admin: AdminPermissions,
    tools: ToolsRepo,
    roles: RolesRepo,
    cache: PermissionCacheDep,
) -> Message:
    await catalog.change_granting_roles(
        tools=tools, roles=roles, cache=cache, tool_id=tool_id, role_ids=body.app_role_ids, granted=True
    )
    return Message(message=f"Roles added to tool '{tool_id}'")


@router.post("/{tool_id}/roles/remove", response_model=Message)
async def remove_tool_roles(
    tool_id: ToolIdPath,
    body: ToolRolesIn,
    admin: AdminPermissions,
    tools: ToolsRepo,
    roles: RolesRepo,
    cache: PermissionCacheDep,
) -> Message:
    await catalog.change_granting_roles(
        tools=tools, roles=roles, cache=cache, tool_id=tool_id, role_ids=body.app_role_ids, granted=False
    )
    return Message(message=f"Roles removed from tool '{tool_id}'")
