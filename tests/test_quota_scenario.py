"""The costs-and-quotas issue's "done when", end to end through HTTP, on SQLite and on DynamoDB (moto server).

A monthly tier of $0.01 with an 80 % soft limit is assigned to an app role. A member's turns through the OpenAI
fake (known prices) are warned past $0.008 (a `quota_warning` first in each such stream, one stored warning
event) and refused past $0.01 (`quota_exceeded`, the provider not called, nothing charged), while a member with
an unlimited override keeps chatting. Then 10 users make 100 turns at once (titles on the free offline model,
so the stored message costs are everything metered), and the user's summary, the admin dashboard, by-model,
top users, by-tier and the CSV export all agree with the sum of the stored message costs, to the cent and to the
1e-9 USD. And turns past the soft limit at the same time are each warned in their stream, while one warning
is stored.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from apis.shared.clock import to_iso, utc_now
from apis.shared.config import ProviderSettings, StorageSettings
from apis.shared.sessions import MessageRole
from apis.shared.storage import Storage, initialize_storage
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.scripts import Text, Usage
from tests.fakes.server import RunningFake
from tests.fixtures.providers import PRICES, PROVIDER_VARIABLES
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import parse_sse, random_session_id, random_user_id

PRICED = "gpt-fake"
FREE_TITLES = "local-free"
# (input tokens, output tokens) of the member's answers at $3 and $15 a million: $0.003, $0.003, $0.0021
# (spend $0.0081: past the soft limit), $0.0003 and $0.003 (spend $0.0114: past the limit).
MEMBER_USAGE = [(500, 100), (500, 100), (200, 100), (50, 10), (500, 100)]
CONCURRENT_USERS = 10
CONCURRENT_TURNS = 100


@dataclass
class Scenario:
    services: Services
    fake: FakeOpenAIState

    @property
    def admin(self) -> dict[str, str]:
        return self.services.auth_as("root", roles=["admin"])

    def headers(self, user_id: str, roles: list[str] | None = None) -> dict[str, str]:
        return self.services.auth_as(user_id, roles=roles or [])

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.services.app.post(path, json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.services.app.get(path, params=params, headers=self.admin)
        assert response.status_code == 200, response.text
        return response

    async def turn(self, user_id: str, session_id: str, roles: list[str] | None = None) -> tuple[Any, list[Any]]:
        body = {"session_id": session_id, "message": f"How much does this cost, {user_id}?", "model_id": PRICED}
        response = await self.services.inference.post("/invocations", json=body, headers=self.headers(user_id, roles))
        assert response.status_code == 200, response.text
        return response, parse_sse(response.text)


@pytest.fixture
async def scenario(
    storage_settings: StorageSettings, openai_fake: RunningFake[FakeOpenAIState], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Scenario]:
    """Both services on the backend, OpenAI on its fake with a priced model, titles by a free offline model."""
    for name in PROVIDER_VARIABLES:  # a developer's own provider settings must not reach the test (AWS's are moto's)
        monkeypatch.delenv(name, raising=False)
    await initialize_storage(storage_settings)
    settings = service_settings(storage_settings)
    providers = ProviderSettings.model_construct(
        openai_api_key="sk-fake", openai_base_url=openai_fake.url, provider_timeout_seconds=10.0
    )
    inference = settings.inference.model_copy(update={"title_model_id": FREE_TITLES})
    async with open_services(settings.model_copy(update={"providers": providers, "inference": inference})) as services:
        scenario = Scenario(services, openai_fake.state)
        await scenario.post(
            "/admin/managed-models", {"modelId": PRICED, "modelName": "GPT (fake)", "provider": "openai", **PRICES}
        )
        await scenario.post(
            "/admin/managed-models", {"modelId": FREE_TITLES, "modelName": "Offline", "provider": "local"}
        )
        yield scenario


async def quotas_of_the_scenario(scenario: Scenario, lucky: str) -> None:
    """Tiny ($0.01, soft 80 %) for app role members (token role member), standard ($100) by default, and an
    unlimited override for `lucky`."""
    await scenario.post("/admin/roles", {"roleId": "members", "displayName": "Members", "jwtRoleMappings": ["member"]})
    tiny = {"tierId": "tiny", "tierName": "Tiny", "monthlyCostLimit": 0.01, "softLimitPercentage": 80}
    await scenario.post("/admin/quota/tiers", tiny)
    await scenario.post("/admin/quota/tiers", {"tierId": "standard", "tierName": "Standard", "monthlyCostLimit": 100})
    await scenario.post(
        "/admin/quota/assignments", {"tierId": "tiny", "assignmentType": "app_role", "appRoleId": "members"}
    )
    await scenario.post("/admin/quota/assignments", {"tierId": "standard", "assignmentType": "default_tier"})
    now = utc_now()
    await scenario.post(
        "/admin/quota/overrides",
        {
            "userId": lucky,
            "overrideType": "unlimited",
            "validFrom": to_iso(now - timedelta(hours=1)),
            "validUntil": to_iso(now + timedelta(days=1)),
            "reason": "keeps chatting",
        },
    )


async def stored_answer_costs(storage: Storage, user_id: str) -> Decimal:
    """The sum of the costs of every stored answer of the user, every session, every page."""
    total = Decimal(0)
    for session in (await storage.sessions.list_sessions(user_id, limit=1000)).items:
        messages = (await storage.sessions.list_messages(user_id, session.session_id, limit=1000)).items
        total += sum((Decimal(repr(m.cost)) for m in messages if m.role is MessageRole.ASSISTANT), Decimal(0))
    return total


def agrees(amount: float | str, expected: Decimal) -> bool:
    """Equal to the 1e-9 USD, and so to the cent."""
    value = Decimal(amount) if isinstance(amount, str) else Decimal(repr(amount))
    cents = Decimal("0.01")
    return abs(value - expected) < Decimal("1e-9") and value.quantize(cents) == expected.quantize(cents)


async def test_the_issues_scenario(scenario: Scenario) -> None:
    services, fake = scenario.services, scenario.fake
    storage: Storage = services.app_asgi.state.storage
    member, lucky = random_user_id(), random_user_id()
    await quotas_of_the_scenario(scenario, lucky)

    # A member is warned past $0.008 and refused past $0.01.
    session = random_session_id()
    member_turns = []
    for input_tokens, output_tokens in MEMBER_USAGE:
        fake.script.add(Text("Answer."), Usage(input_tokens=input_tokens, output_tokens=output_tokens))
        member_turns.append(await scenario.turn(member, session, ["member"]))
    calls_before = len(fake.chat_calls)
    spent_before = (await storage.costs.get_summary(member, to_iso(utc_now())[:7])).total_cost
    refused, refused_events = await scenario.turn(member, session, ["member"])
    spent_after = (await storage.costs.get_summary(member, to_iso(utc_now())[:7])).total_cost

    warnings = [[data for name, data in events if name == "quota_warning"] for _, events in member_turns]
    assert [len(found) for found in warnings] == [0, 0, 0, 1, 1]
    assert all(events[0][0] == "quota_warning" for _, events in member_turns[3:])  # first in the stream
    assert [found[0]["warningLevel"] for found in warnings[3:]] == ["80%", "80%"]
    assert all(found[0]["type"] == "quota_warning" for found in warnings[3:])
    exceeded = dict(refused_events)["quota_exceeded"]
    assert (exceeded["type"], exceeded["tierName"], exceeded["quotaLimit"]) == ("quota_exceeded", "Tiny", 0.01)
    assert int(refused.headers["retry-after"]) >= 1
    assert len(fake.chat_calls) == calls_before == len(MEMBER_USAGE)  # the provider was not called
    assert spent_after == spent_before  # nothing charged
    assert agrees(spent_after, Decimal("0.0114"))
    events = (await scenario.get("/admin/quota/events", user_id=member)).json()
    assert sorted(event["eventType"] for event in events) == ["block", "warning"]  # one warning for two warned turns

    # A member with an unlimited override keeps chatting past the tier's limit.
    for _ in range(5):
        fake.script.add(Text("Answer."), Usage(input_tokens=500, output_tokens=100))
    lucky_turns = [await scenario.turn(lucky, random_session_id(), ["member"]) for _ in range(5)]
    for _, events in lucky_turns:
        names = [name for name, _ in events]
        assert "message_stop" in names
        assert not {"quota_warning", "quota_exceeded", "stream_error"} & set(names)
    assert (await scenario.get("/admin/quota/events", user_id=lucky)).json() == []

    # 100 turns at once by 10 users, each answer priced differently.
    users = [random_user_id() for _ in range(CONCURRENT_USERS)]
    sessions = {user: [random_session_id() for _ in range(2)] for user in users}
    for index in range(CONCURRENT_TURNS):
        fake.script.add(Text(f"Answer {index}."), Usage(input_tokens=100 + 7 * index, output_tokens=10 + index % 13))

    async def concurrent_turn(index: int) -> list[Any]:
        user = users[index % CONCURRENT_USERS]
        _, events = await scenario.turn(user, sessions[user][index // CONCURRENT_USERS % 2])
        return events

    outcomes = await asyncio.gather(*(concurrent_turn(index) for index in range(CONCURRENT_TURNS)))
    assert all(events[-1][0] == "done" for events in outcomes)
    assert not any(name in ("stream_error", "quota_exceeded") for events in outcomes for name, _ in events)

    # Every report agrees with the stored answers.
    everyone = [member, lucky, *users]
    stored = {user: await stored_answer_costs(storage, user) for user in everyone}
    total = sum(stored.values(), Decimal(0))
    for user in everyone:
        # With the roles of their turns: a profile keeps the roles of the last sign-in, and by-tier reads them.
        roles = ["member"] if user in (member, lucky) else []
        own = await services.app.get("/costs/summary", headers=scenario.headers(user, roles))
        assert own.status_code == 200, own.text
        assert agrees(own.json()["totalCost"], stored[user]), user
    dashboard = (await scenario.get("/admin/costs/dashboard")).json()
    assert agrees(dashboard["currentPeriod"]["totalCost"], total)
    assert dashboard["currentPeriod"]["activeUsers"] == len(everyone)
    by_model = {row["modelId"]: row for row in (await scenario.get("/admin/costs/by-model")).json()}
    assert agrees(by_model[PRICED]["totalCost"], total)
    assert set(by_model) == {PRICED}  # the titles cost nothing and call no model
    assert by_model[PRICED]["uniqueUsers"] == len(everyone)
    top = {row["userId"]: row["totalCost"] for row in (await scenario.get("/admin/costs/top-users", limit=1000)).json()}
    assert set(top) == set(everyone)
    assert all(agrees(top[user], stored[user]) for user in everyone)
    assert {row["userId"]: row["totalCost"] for row in dashboard["topUsers"]} == top
    rows = list(csv.DictReader(io.StringIO((await scenario.get("/admin/costs/export")).text)))
    assert sorted(row["User ID"] for row in rows) == sorted(everyone)
    assert all(agrees(row["Total Cost ($)"], stored[row["User ID"]]) for row in rows)
    assert agrees(str(sum(Decimal(row["Total Cost ($)"]) for row in rows)), total)
    tiers = {row["tierId"]: row for row in (await scenario.get("/admin/costs/by-tier")).json()}
    assert agrees(str(sum(Decimal(repr(row["totalCost"])) for row in tiers.values())), total)
    assert (tiers["tiny"]["totalUsers"], tiers["tiny"]["usersAtLimit"]) == (1, 1)
    assert tiers["standard"]["totalUsers"] == CONCURRENT_USERS
    assert agrees(tiers["standard"]["totalCost"], sum((stored[user] for user in users), Decimal(0)))


async def test_turns_past_the_soft_limit_at_once_are_each_warned_and_one_warning_is_stored(scenario: Scenario) -> None:
    member = random_user_id()
    roomy = {"tierId": "roomy", "tierName": "Roomy", "monthlyCostLimit": 0.1, "softLimitPercentage": 10}
    await scenario.post("/admin/quota/tiers", roomy)
    await scenario.post(
        "/admin/quota/assignments", {"tierId": "roomy", "assignmentType": "direct_user", "userId": member}
    )
    for _ in range(4 + 8):
        scenario.fake.script.add(Text("Answer."), Usage(input_tokens=500, output_tokens=100))  # $0.003
    for _ in range(4):  # $0.012: past the soft limit of $0.01, far from the limit of $0.1
        _, events = await scenario.turn(member, random_session_id())
        assert "quota_warning" not in dict(events)

    at_once = await asyncio.gather(*(scenario.turn(member, random_session_id()) for _ in range(8)))
    stored = (await scenario.get("/admin/quota/events", user_id=member)).json()

    assert all(dict(events)["quota_warning"]["warningLevel"] == "10%" for _, events in at_once)
    assert all(events[0][0] == "quota_warning" and events[-1][0] == "done" for _, events in at_once)
    assert [(event["eventType"], event["tierId"], event["metadata"]["threshold"]) for event in stored] == [
        ("warning", "roomy", "10%")
    ]
