"""Stored messages → the conversation a provider accepts. Providers are strict where storage is not:

- roles must alternate, starting with the user;
- no empty text blocks;
- every toolUse must be answered by a toolResult in the next message, and every toolResult must answer one;
- reasoning blocks of an earlier model (with its signatures) are refused by another, so they are not sent.

Stored history breaks these rules in ordinary ways: a turn whose model failed leaves a user message with no
answer; an interrupted answer may stop inside a tool call; a window of the newest messages may begin in the
middle of a tool exchange. This module repairs exactly that, and nothing of what was said is reworded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apis.shared.sessions import Message, MessageRole, MessageStatus

Converse = dict[str, Any]
_SENDABLE = ("text", "toolUse", "toolResult", "image", "document")


def _blocks(message: Message) -> list[dict[str, Any]]:
    kept = []
    for block in message.content:
        if "text" in block and not str(block["text"]).strip():
            continue
        if any(kind in block for kind in _SENDABLE):
            kept.append(block)
    if message.status is not MessageStatus.COMPLETE:
        # The tools of an answer that broke off never ran: only what it said is kept.
        kept = [block for block in kept if "toolUse" not in block]
    return kept


def _pair_tools(messages: list[Converse]) -> list[Converse]:
    """Drop toolUse blocks whose result is not in the next message, and results whose use is not just before."""
    for position, message in enumerate(messages):
        following = messages[position + 1] if position + 1 < len(messages) else None
        previous = messages[position - 1] if position > 0 else None
        answered = {b["toolResult"]["toolUseId"] for b in (following or {}).get("content", []) if "toolResult" in b}
        asked = {b["toolUse"]["toolUseId"] for b in (previous or {}).get("content", []) if "toolUse" in b}
        message["content"] = [
            block
            for block in message["content"]
            if ("toolUse" not in block or block["toolUse"]["toolUseId"] in answered)
            and ("toolResult" not in block or block["toolResult"]["toolUseId"] in asked)
        ]
    return [message for message in messages if message["content"]]


def _alternate(messages: list[Converse]) -> list[Converse]:
    """Merge neighbours of one role; start with the user; end with the model (the new question follows)."""
    merged: list[Converse] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1]["content"] = merged[-1]["content"] + message["content"]
        else:
            merged.append(message)
    while merged and merged[0]["role"] != MessageRole.USER:
        merged.pop(0)
    while merged and merged[-1]["role"] == MessageRole.USER:
        # A question that never got an answer: the new message of this turn takes its place.
        merged.pop()
    return merged


def provider_history(messages: Sequence[Message]) -> list[Converse]:
    """The stored `messages` (oldest first) as a Converse conversation that every provider accepts."""
    converse = [{"role": message.role.value, "content": _blocks(message)} for message in messages]
    converse = [message for message in converse if message["content"]]
    # Pairing can empty a message, and merging can make new neighbours: repeat until nothing changes.
    while True:
        repaired = _alternate(_pair_tools(converse))
        if repaired == converse:
            return repaired
        converse = repaired
