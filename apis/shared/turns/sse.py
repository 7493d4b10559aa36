"""Server-sent event frames: `event: <name>` and one line of JSON data, then a blank line."""

from __future__ import annotations

import json
from typing import Any


def frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"


KEEP_ALIVE = ": keep-alive\n\n"
