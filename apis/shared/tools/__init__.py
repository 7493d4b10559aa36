"""Tools a chat turn may offer the model, by id; which ones a caller may enable is the roles' business.

The tools are Strands tools, loaded with Strands on first use rather than when a service starts.
"""

from __future__ import annotations

from typing import Any

BUILTIN_TOOL_IDS = ("calculator", "current_time")


def load_tool(tool_id: str) -> Any:
    """The Strands tool with this id (one of BUILTIN_TOOL_IDS)."""
    from apis.shared.tools.builtin import BUILTIN_TOOLS

    return BUILTIN_TOOLS[tool_id]


__all__ = ["BUILTIN_TOOL_IDS", "load_tool"]
