"""What the turn-accounting tests share: a priced offline model, and the check that storage tells one story.

"One story": every session's `messageCount` is the number of its stored messages and its `totalCost` the sum
of their costs; each user's month summary is the sum of the costs of all their stored answers, to the 1e-10
of a cent that money is kept at, with one request per answer; and every turn that told its client it
finished has its answer stored `complete`, while every turn that told it `stream_error` has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from apis.shared.clock import now_iso
from apis.shared.costs import CostRepository
from apis.shared.costs.summaries import period_of
from apis.shared.sessions import Message, MessageRole, MessageStatus, SessionRepository
from tests.helpers import parse_sse

PRICED_MODEL = {
    "modelId": "local-priced",
    "modelName": "Offline model with prices",
    "provider": "local",
    "inputPricePerMillionTokens": 3.0,
    "outputPricePerMillionTokens": 15.0,
}


async def add_priced_model(app: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await app.post("/admin/managed-models", json=PRICED_MODEL, headers=admin_headers)
    assert response.status_code in (200, 201), response.text


@dataclass
class TurnOutcomes:
    """What each client was told, by the messageId of its answer."""

    finished: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    refused: int = 0  # answered with a plain HTTP error before streaming

    def record(self, status_code: int, body: str) -> None:
        if status_code != 200:
            self.refused += 1
            return
        events = parse_sse(body)
        started = [data["messageId"] for name, data in events if name == "message_start"]
        if any(name == "stream_error" for name, _ in events):
            self.failed.update(str(message_id) for message_id in started)
        else:
            self.finished.update(str(message_id) for message_id in started)


async def stored_messages(sessions: SessionRepository, user_id: str, session_id: str) -> list[Message]:
    return (await sessions.list_messages(user_id, session_id, limit=500)).items


async def assert_one_story(
    *,
    sessions: SessionRepository,
    costs: CostRepository,
    conversations: dict[str, list[str]],
    outcomes: TurnOutcomes,
) -> dict[str, Any]:
    """Check the story (module docstring) for `conversations` (user id -> session ids); the figures it read."""
    drift = 0.0
    answers: dict[str, Message] = {}
    for user_id, session_ids in conversations.items():
        spent = 0.0
        answered = 0
        for session_id in session_ids:
            session = await sessions.get_session(user_id, session_id)
            if session is None:  # every turn of it was refused before anything was stored
                continue
            messages = await stored_messages(sessions, user_id, session_id)
            assert session.message_count == len(messages), session_id
            assert abs(session.total_cost - sum(message.cost for message in messages)) < 1e-9, session_id
            for message in messages:
                if message.role is MessageRole.ASSISTANT:
                    answers[message.message_id] = message
                    spent += message.cost
                    answered += 1
        summary = await costs.get_summary(user_id, period_of(now_iso()))
        drift = max(drift, abs(summary.total_cost - spent))
        assert summary.total_requests == answered, user_id
    assert drift < 1e-9, f"the month summary drifted {drift} USD from the stored answers"
    for message_id in outcomes.finished:
        assert answers[message_id].status is MessageStatus.COMPLETE, message_id
    for message_id in outcomes.failed:
        assert message_id not in answers or answers[message_id].status is not MessageStatus.COMPLETE, message_id
    return {
        "drift_usd": drift,
        "answers": len(answers),
        "finished": len(outcomes.finished),
        "failed": len(outcomes.failed),
        "refused": outcomes.refused,
    }
