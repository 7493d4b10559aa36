"""Quotas in the turn, through HTTP and the OpenAI fake with known prices: a warning past the soft limit, the
reference's refusal past the limit (the provider not called, nothing charged, the exchange kept), and an
unlimited override that keeps a member chatting."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apis.shared.clock import now_iso, to_iso, utc_now
from apis.shared.costs import today
from tests.fakes.scripts import Text, Usage
from tests.fakes.server import FakeProviderState
from tests.fixtures.providers import MODEL_IDS
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id

# 500 input and 100 output tokens at $3 and $15 a million: $0.003 a turn.
TURN_COST = (500 * 3.0 + 100 * 15.0) / 1_000_000


async def member_tier(services: Services, **limits: object) -> None:
    """A $0.01 monthly tier with an 80 % soft limit (unless `limits` say otherwise), assigned to the app role of
    token role `member`."""
    admin = services.auth_as("root", roles=["admin"])
    role = {"roleId": "members", "displayName": "Members", "jwtRoleMappings": ["member"], "enabled": True}
    assert (await services.app.post("/admin/roles", json=role, headers=admin)).status_code == 201
    tier = {"tierId": "tiny", "tierName": "Tiny", "monthlyCostLimit": 0.01, "softLimitPercentage": 80, **limits}
    assert (await services.app.post("/admin/quota/tiers", json=tier, headers=admin)).status_code == 201
    assignment = {"tierId": "tiny", "assignmentType": "app_role", "appRoleId": "members", "priority": 100}
    created = await services.app.post("/admin/quota/assignments", json=assignment, headers=admin)
    assert created.status_code == 201, created.text


async def member_turn(
    services: Services, fake: FakeProviderState, user: str, session_id: str
) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    fake.script.add(Text("Answer."), Usage(input_tokens=500, output_tokens=100))
    response = await services.inference.post(
        "/invocations",
        json={"session_id": session_id, "message": "Hello", "model_id": MODEL_IDS["openai"]},
        headers={"Authorization": f"Bearer {services.token(user, roles=['member'])}"},
    )
    return response, parse_sse(response.text)


async def test_a_member_is_warned_past_the_soft_limit_then_refused_past_the_limit(
    cloud: tuple[Services, dict[str, FakeProviderState]],
) -> None:
    services, fakes = cloud
    fake = fakes["openai"]
    await member_tier(services)
    session_id = random_session_id()

    turns = [await member_turn(services, fake, "ada", session_id) for _ in range(5)]
    calls_before_refusal = len(fake.chat_calls)
    refused, refused_events = turns[4]
    history = await services.app.get(
        f"/sessions/{session_id}/messages", headers={"Authorization": f"Bearer {services.token('ada')}"}
    )
    month = await services.app_asgi.state.storage.costs.get_summary("ada", now_iso()[:7])
    events = await services.app.get(
        "/admin/quota/events?user_id=ada", headers=services.auth_as("root", roles=["admin"])
    )

    warnings = [[data for name, data in events_of if name == "quota_warning"] for _, events_of in turns]
    assert [len(w) for w in warnings] == [0, 0, 0, 1, 0]  # past $0.008 only before the fourth turn
    assert warnings[3][0]["type"] == "quota_warning"
    assert warnings[3][0]["warningLevel"] == "90%"  # $0.009 of $0.01
    assert warnings[3][0]["currentUsage"] == pytest.approx(3 * TURN_COST)
    assert [name for name, _ in turns[3][1]][0] == "quota_warning"  # first in the stream
    assert refused.status_code == 200
    assert 1 <= int(refused.headers["retry-after"]) <= 31 * 86400
    assert [name for name, _ in refused_events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_stop",
        "quota_exceeded",
        "done",
    ]
    exceeded = refused_events[5][1]
    assert exceeded["type"] == "quota_exceeded"
    assert exceeded["quotaLimit"] == pytest.approx(0.01)
    assert exceeded["currentUsage"] == pytest.approx(4 * TURN_COST)
    assert exceeded["tierName"] == "Tiny"
    assert exceeded["resetInfo"].startswith("Your quota resets")
    assert refused_events[4][1] == {"stopReason": "quota_exceeded"}
    assert calls_before_refusal == 4  # the fifth turn never reached the provider
    assert month.total_cost == pytest.approx(4 * TURN_COST)  # nothing charged for the refusal
    messages = history.json()["messages"]
    assert len(messages) == 10  # the refused exchange stays in the conversation, as in the reference
    assert messages[-1]["content"][0]["text"] == exceeded["message"]
    assert sorted(e["eventType"] for e in events.json()) == ["block", "warning"]


async def test_an_unlimited_override_keeps_a_member_chatting(
    cloud: tuple[Services, dict[str, FakeProviderState]],
) -> None:
    services, fakes = cloud
    await member_tier(services)
    admin = services.auth_as("root", roles=["admin"])
    override = {
        "userId": "grace",
        "overrideType": "unlimited",
        "validFrom": to_iso(utc_now() - timedelta(hours=1)),
        "validUntil": to_iso(utc_now() + timedelta(days=1)),
        "reason": "conference week",
    }
    assert (await services.app.post("/admin/quota/overrides", json=override, headers=admin)).status_code == 201

    turns = [await member_turn(services, fakes["openai"], "grace", random_session_id()) for _ in range(6)]

    for response, events in turns:
        assert response.status_code == 200
        names = [name for name, _ in events]
        assert "quota_exceeded" not in names
        assert "quota_warning" not in names
        assert "message_start" in names


def seconds_to_midnight(moment: datetime) -> float:
    """Seconds from `moment` to the next midnight UTC."""
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)
    return (midnight - moment).total_seconds()


async def test_a_daily_limit_warns_then_refuses_until_midnight_while_the_month_is_under_its_limit(
    cloud: tuple[Services, dict[str, FakeProviderState]],
) -> None:
    services, fakes = cloud
    fake = fakes["openai"]
    # $1 a month, but $0.01 a day: the day binds long before the month.
    await member_tier(services, monthlyCostLimit=1.0, dailyCostLimit=0.01, periodType="daily")
    session_id = random_session_id()

    turns = [await member_turn(services, fake, "ada", session_id) for _ in range(4)]
    before = utc_now()
    refused, refused_events = await member_turn(services, fake, "ada", session_id)
    after = utc_now()
    month = await services.app_asgi.state.storage.costs.get_summary("ada", now_iso()[:7])
    events = await services.app.get(
        "/admin/quota/events?user_id=ada", headers=services.auth_as("root", roles=["admin"])
    )

    warnings = [[data for name, data in events_of if name == "quota_warning"] for _, events_of in turns]
    assert [len(w) for w in warnings] == [0, 0, 0, 1]  # $0.009 of the day's $0.01 before the fourth turn
    assert (warnings[3][0]["warningLevel"], warnings[3][0]["quotaLimit"]) == ("90%", pytest.approx(0.01))
    exceeded = dict(refused_events)["quota_exceeded"]
    assert (exceeded["periodType"], exceeded["resetInfo"]) == ("daily", "Your quota resets at midnight UTC.")
    assert exceeded["quotaLimit"] == pytest.approx(0.01)
    assert exceeded["currentUsage"] == pytest.approx(4 * TURN_COST)
    # Retry-After is the time left until the next midnight UTC, as the clock read it during the request.
    retry_after = int(refused.headers["retry-after"])
    assert math.floor(seconds_to_midnight(after)) <= retry_after <= math.ceil(seconds_to_midnight(before))
    assert len(fake.chat_calls) == 4  # the refused turn never reached the provider
    assert month.total_cost == pytest.approx(4 * TURN_COST)  # 1.2 % of the monthly limit, nothing for the refusal
    stored = {event["eventType"]: event for event in events.json()}
    assert sorted(event["eventType"] for event in events.json()) == ["block", "warning"]
    assert stored["warning"]["metadata"]["period"] == today()
    assert stored["block"]["metadata"]["period_type"] == "daily"
