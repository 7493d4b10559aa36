"""Who may use a tool: the one rule, read by `GET /tools/`, the preferences route and a turn's `enabled_tools`.

A tool may be used when it is active and either public (`isPublic`: every signed-in user) or granted by one of
the caller's app roles (`grantedTools`, where "*" grants every tool, including those added later). Grants live
on the roles only; a tool's `allowedAppRoles` is read from them, never stored twice.
"""

from __future__ import annotations

from apis.shared.rbac import EffectivePermissions
from apis.shared.tools.models import ToolRecord, ToolStatus

PUBLIC = "public"


def granted_by(tool: ToolRecord, permissions: EffectivePermissions) -> list[str]:
    """What lets the caller use `tool`, as the reference names it: "public" and the caller's app roles; empty
    when nothing does. An inactive tool is granted to nobody."""
    if tool.status is not ToolStatus.ACTIVE:
        return []
    sources = [PUBLIC] if tool.is_public else []
    if permissions.allows_tool(tool.tool_id):
        sources += [role for role in permissions.app_roles if role not in sources]
    return sources


def may_use(tool: ToolRecord, permissions: EffectivePermissions) -> bool:
    return bool(granted_by(tool, permissions))


def is_granted(tool_id: str, tool: ToolRecord | None, permissions: EffectivePermissions) -> bool:
    """The grant alone, whatever the tool's status or existence: what tells a 403 from a 400 in a turn."""
    return (tool is not None and tool.is_public) or permissions.allows_tool(tool_id)
