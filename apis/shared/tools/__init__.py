"""Tools a chat turn may offer the model, by id; which ones a caller may enable is the roles' business.

The tools are Strands tools, loaded with Strands on first use rather than when a service starts.
"""

from __future__ import annotations

from typing import Any

from apis.shared.config import ToolsSettings
from apis.shared.errors import RuleViolation
from apis.shared.tools.builtin import BUILTIN_SPECS

BUILTIN_TOOL_IDS = tuple(spec.tool_id for spec in BUILTIN_SPECS)


def load_tool(tool_id: str, settings: ToolsSettings) -> Any:
    """The Strands tool of the built-in with this id, bound to the settings; 400 if there is none or this
    deployment cannot run it (web search without WEB_SEARCH_URL)."""
    spec = next((spec for spec in BUILTIN_SPECS if spec.tool_id == tool_id), None)
    if spec is None:
        raise RuleViolation(f"unknown tool {tool_id!r}", code="unknown_tool")
    if not spec.available(settings):
        raise RuleViolation(f"tool {tool_id!r} is not configured on this deployment", code="tool_unavailable")
    return spec.build(settings)


__all__ = ["BUILTIN_TOOL_IDS", "load_tool"]
