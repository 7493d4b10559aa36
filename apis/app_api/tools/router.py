"""The caller's tools, in the reference's shapes: `GET /tools/` (with their preferences), `PUT /tools/preferences`,
and the reference's older listings `/tools/catalog`, `/tools/available` and `/tools/my-permissions`."""

from __future__ import annotations

from fastapi import APIRouter

from apis.app_api.deps import AppSettings, CallerPermissions, CurrentUser
from apis.app_api.tools.runtime import ToolsRepo
from apis.app_api.tools.schemas import (
    CatalogueList,
    CatalogueTool,
    Message,
    ToolPermissionsRead,
    ToolPreferencesIn,
    UserToolRead,
    UserToolsRead,
)
from apis.shared.rbac import WILDCARD
from apis.shared.tools import catalog
from apis.shared.tools.access import may_use
from apis.shared.tools.builtin_catalog import deployment_runs
from apis.shared.tools.models import ToolCategory, ToolStatus

router = APIRouter(prefix="/tools", tags=["tools"])


@router.get("", response_model=UserToolsRead)
async def my_tools(
    caller: CurrentUser, permissions: CallerPermissions, tools: ToolsRepo, settings: AppSettings
) -> UserToolsRead:
    """The active tools the caller may use, each with whether it is on for them (their choice, or the tool's
    default), grouped by category."""
    items = await catalog.user_tools(
        tools=tools,
        permissions=permissions,
        user_id=caller.user_id,
        offered=lambda tool: deployment_runs(tool, settings.tools),
    )
    return UserToolsRead(
        tools=[UserToolRead.of(item) for item in items],
        categories=sorted({item.tool.category.value for item in items}),
        app_roles_applied=permissions.app_roles,
    )


@router.put("/preferences", response_model=Message)
async def save_preferences(
    body: ToolPreferencesIn,
    caller: CurrentUser,
    permissions: CallerPermissions,
    tools: ToolsRepo,
    settings: AppSettings,
) -> Message:
    """Switch tools on or off for the caller; 400 (and nothing stored) if one is not theirs to use."""
    await catalog.save_preferences(
        tools=tools,
        permissions=permissions,
        user_id=caller.user_id,
        preferences=body.preferences,
        offered=lambda tool: deployment_runs(tool, settings.tools),
    )
    return Message(message="Preferences saved successfully")


@router.get("/catalog", response_model=CatalogueList)
async def whole_catalogue(
    caller: CurrentUser, tools: ToolsRepo, settings: AppSettings, category: ToolCategory | None = None
) -> CatalogueList:
    """Every active tool this deployment runs, whoever may use it (the reference's older listing)."""
    records = await catalog.list_tools(tools, status=ToolStatus.ACTIVE)
    listed = [
        tool
        for tool in records
        if deployment_runs(tool, settings.tools) and (category is None or tool.category is category)
    ]
    return CatalogueList(tools=[CatalogueTool.of(tool) for tool in listed], total=len(listed))


@router.get("/available", response_model=CatalogueList)
async def available_tools(
    permissions: CallerPermissions, tools: ToolsRepo, settings: AppSettings, category: ToolCategory | None = None
) -> CatalogueList:
    """The tools the caller may use (the same rule as a turn's `enabled_tools`), in the older listing's shape."""
    records = await catalog.list_tools(tools, status=ToolStatus.ACTIVE)
    listed = [
        tool
        for tool in records
        if may_use(tool, permissions)
        and deployment_runs(tool, settings.tools)
        and (category is None or tool.category is category)
    ]
    return CatalogueList(tools=[CatalogueTool.of(tool) for tool in listed], total=len(listed))


@router.get("/my-permissions", response_model=ToolPermissionsRead)
async def my_tool_permissions(caller: CurrentUser, permissions: CallerPermissions) -> ToolPermissionsRead:
    """What the caller's app roles grant ("*" for every tool); public tools come on top of these."""
    return ToolPermissionsRead(
        user_id=caller.user_id,
        allowed_tools=permissions.tools,
        has_wildcard=WILDCARD in permissions.tools,
        app_roles=permissions.app_roles,
    )
