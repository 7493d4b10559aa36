"""Server-sent event frames: `event: <name>` and one line of JSON data, then a blank line."""

from __future__ import annotations

import json
from typing import Any

# One encoder for every frame: `json.dumps` with options other than its defaults builds a new one per call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {_encode(data)}\n\n"


KEEP_ALIVE = ": keep-alive\n\n"
