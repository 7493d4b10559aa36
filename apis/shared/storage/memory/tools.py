"""A dict-backed ToolRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from collections.abc import Mapping

from apis.shared.tools.exceptions import ToolExists
from apis.shared.tools.models import ToolRecord


class InMemoryToolRepository:
    """The catalogue and preferences of one process."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolRecord] = {}
        self._preferences: dict[str, dict[str, bool]] = {}

    async def get_tool(self, tool_id: str) -> ToolRecord | None:
        tool = self._tools.get(tool_id)
        return tool.model_copy(deep=True) if tool else None

    async def list_tools(self) -> list[ToolRecord]:
        return [self._tools[tool_id].model_copy(deep=True) for tool_id in sorted(self._tools)]

    async def create_tool(self, tool: ToolRecord) -> ToolRecord:
        if tool.tool_id in self._tools:
            raise ToolExists(tool.tool_id)
        self._tools[tool.tool_id] = tool.model_copy(deep=True)
        return tool

    async def replace_tool(self, tool: ToolRecord, *, read_revision: int) -> bool:
        current = self._tools.get(tool.tool_id)
        if current is None or current.revision != read_revision:
            return False
        self._tools[tool.tool_id] = tool.model_copy(deep=True)
        return True

    async def delete_tool(self, tool_id: str) -> bool:
        return self._tools.pop(tool_id, None) is not None

    async def get_preferences(self, user_id: str) -> dict[str, bool]:
        return dict(self._preferences.get(user_id, {}))

    async def merge_preferences(self, user_id: str, changes: Mapping[str, bool]) -> dict[str, bool]:
        merged = {**self._preferences.get(user_id, {}), **changes}
        self._preferences[user_id] = merged
        return dict(merged)
