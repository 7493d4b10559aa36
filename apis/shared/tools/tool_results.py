"""What a built-in tool hands back to the model: a Strands tool result, never an exception that ends the turn.

A tool's own failures (a refused address, a page that timed out, a chart with no data) are answers the model
reads and can act on, so each tool has one boundary that turns `ToolFailure` into a result with status `error`
and the failure's message as its text. The message is ours, written for the model: never a library's
exception text, which may name internals or say nothing useful.
"""

from __future__ import annotations

import json
from typing import Any


class ToolFailure(Exception):
    """A tool could not do what it was asked; the message says why, for the model.

    Not an `AppError`: it never reaches HTTP, it becomes the tool's result inside the turn.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_result(message: str) -> dict[str, Any]:
    """A failed call: Strands gives the model `message` as the tool's result, marked as an error."""
    return {"status": "error", "content": [{"text": message}]}


def json_result(payload: dict[str, Any]) -> dict[str, Any]:
    """A successful call answered with a JSON object (a `json` content block, as the reference's URL fetcher)."""
    return {"status": "success", "content": [{"json": payload}]}


def json_text_result(payload: dict[str, Any]) -> dict[str, Any]:
    """A successful call answered with a JSON object written as text (as the reference's search and charts)."""
    return {"status": "success", "content": [{"text": json.dumps(payload, ensure_ascii=False)}]}
