"""Tools a chat turn may offer the model, by id; which ones a caller may enable is the roles' business.

The tools are Strands tools, loaded with Strands on first use rather than when a service starts.
"""

from __future__ import annotations

from typing import Any

from apis.shared.config import ToolsSettings
from apis.shared.errors import RuleViolation
from apis.shared.tools.builtin import BUILTIN_SPECS

# The registry by id, built once: the catalogue, the user's list and every turn look built-ins up here.
BUILTIN_BY_ID = {spec.tool_id: spec for spec in BUILTIN_SPECS}
BUILTIN_TOOL_IDS = tuple(BUILTIN_BY_ID)


def load_tool(tool_id: str, settings: ToolsSettings) -> Any:
    """The Strands tool of the built-in with this id, bound to the settings; 400 if there is none or this
    deployment cannot run it (web search without WEB_SEARCH_URL)."""
    spec = BUILTIN_BY_ID.get(tool_id)
    if spec is None:
        raise RuleViolation(f"unknown tool {tool_id!r}", code="unknown_tool")
    if not spec.available(settings):
        raise RuleViolation(f"tool {tool_id!r} is not configured on this deployment", code="tool_unavailable")
    return spec.build(settings)


__all__ = ["BUILTIN_BY_ID", "BUILTIN_TOOL_IDS", "load_tool"]
