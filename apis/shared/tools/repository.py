"""The storage port of the tool catalogue and of users' tool preferences; one implementation per backend.

The catalogue is admin-made and small (tens of records), so it is read whole; a turn reads it once, through
`CatalogueCache`. Preferences are one record per user, read and written by that user's id.

Access patterns (every backend):
- a tool by id; every tool (one partition or table, never a scan of anything else);
- a tool written only if the revision it was read at is still the stored one (`replace_tool`);
- a user's preferences by user id; a merge of some of them, atomic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from apis.shared.tools.models import ToolRecord


class ToolRepository(Protocol):
    """Methods return None or False only for "no such record"; a backend failure raises StorageError."""

    async def get_tool(self, tool_id: str) -> ToolRecord | None: ...

    async def list_tools(self) -> list[ToolRecord]:
        """Every record, by tool id. A record that cannot be read is logged and left out."""
        ...

    async def create_tool(self, tool: ToolRecord) -> ToolRecord:
        """Store a new record as given; `ToolExists` (nothing written) if the id is taken."""
        ...

    async def replace_tool(self, tool: ToolRecord, *, read_revision: int) -> bool:
        """Store `tool` over the record if that is still at `read_revision`; False if it changed or is gone."""
        ...

    async def delete_tool(self, tool_id: str) -> bool:
        """Remove the record; False if there was none."""
        ...

    async def get_preferences(self, user_id: str) -> dict[str, bool]:
        """Tool id -> enabled, as the user last set them; empty when they never did."""
        ...

    async def merge_preferences(self, user_id: str, changes: Mapping[str, bool]) -> dict[str, bool]:
        """Set the given tools' preferences, keep the others, atomically; the whole map after."""
        ...
