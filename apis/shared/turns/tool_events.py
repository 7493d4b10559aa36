"""The stream's tool events, in the shapes the reference's client parses (its stream-parser service).

`tool_use` nests its data under `tool_use` with snake_case keys (`tool_use_id`): the client drops the event
without them. `tool_result` nests the Converse block under `tool_result` as is (`toolUseId`, `status`,
`content`), which the client merges into the matching tool-use block. API.md's flat shapes predate this; for a
route the reference's client reads, the reference wins (docs/decisions.md, "Tool events").
"""

from __future__ import annotations

from typing import Any


def tool_use_event(tool_use: dict[str, Any]) -> dict[str, Any]:
    """The data of a `tool_use` event for one completed tool call of the model."""
    return {
        "tool_use": {
            "tool_use_id": tool_use.get("toolUseId"),
            "name": tool_use.get("name"),
            "input": tool_use.get("input", {}),
        }
    }


def tool_result_event(result: dict[str, Any]) -> dict[str, Any]:
    """The data of a `tool_result` event for one tool's answer."""
    return {"tool_result": {key: result.get(key) for key in ("toolUseId", "status", "content")}}
