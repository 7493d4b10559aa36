"""The admin quota routes through HTTP on both backends: the reference's shapes, who may call them, 404/409/422,
the event log, the inspector, and the quota half of the admin user page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from apis.shared.clock import new_id, now_iso, to_iso, utc_now
from apis.shared.costs import CostEntry, period_of
from apis.shared.quota import QuotaEvent, QuotaEventType, QuotaRepository
from apis.shared.sessions.models import TokenUsage
from apis.shared.storage import Storage
from tests.fixtures.services import Services
from tests.helpers import random_user_id

TIER_FIELDS = {
    "tierId",
    "tierName",
    "description",
    "monthlyCostLimit",
    "dailyCostLimit",
    "periodType",
    "softLimitPercentage",
    "actionOnLimit",
    "enabled",
    "createdAt",
    "updatedAt",
    "createdBy",
}
ASSIGNMENT_FIELDS = {
    "assignmentId",
    "tierId",
    "assignmentType",
    "userId",
    "appRoleId",
    "jwtRole",
    "emailDomain",
    "priority",
    "enabled",
    "createdAt",
    "updatedAt",
    "createdBy",
}


def admin(services: Services) -> dict[str, str]:
    return services.auth_as("root", roles=["admin"])


def storage_of(services: Services) -> Storage:
    storage: Storage = services.app_asgi.state.storage
    return storage


async def create_tier(services: Services, tier_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"tierId": tier_id or f"tier-{new_id()[-12:]}", "tierName": "Standard", "monthlyCostLimit": 10, **fields}
    response = await services.app.post("/admin/quota/tiers", json=body, headers=admin(services))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def assign(services: Services, tier_id: str, assignment_type: str, **fields: Any) -> dict[str, Any]:
    body = {"tierId": tier_id, "assignmentType": assignment_type, **fields}
    response = await services.app.post("/admin/quota/assignments", json=body, headers=admin(services))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def in_days(days: float) -> str:
    return to_iso(utc_now() + timedelta(days=days))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/quota/tiers"),
        ("POST", "/admin/quota/tiers"),
        ("PATCH", "/admin/quota/tiers/standard"),
        ("DELETE", "/admin/quota/tiers/standard"),
        ("GET", "/admin/quota/assignments"),
        ("POST", "/admin/quota/assignments"),
        ("DELETE", "/admin/quota/assignments/some-id"),
        ("GET", "/admin/quota/overrides"),
        ("POST", "/admin/quota/overrides"),
        ("GET", "/admin/quota/events"),
        ("GET", "/admin/quota/users/someone"),
    ],
)
async def test_only_admins_reach_the_quota_routes(services: Services, method: str, path: str) -> None:
    anonymous = await services.app.request(method, path, json={})
    user = await services.app.request(method, path, json={}, headers=services.auth(random_user_id()))

    assert (anonymous.status_code, anonymous.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert (user.status_code, user.json()["code"]) == (403, "admin_required")
    assert set(user.json()) >= {"detail", "code", "requestId"}


async def test_a_tier_is_created_read_listed_changed_and_deleted(services: Services) -> None:
    headers = admin(services)
    created = await create_tier(services, description="for staff", dailyCostLimit=1.5, softLimitPercentage=75)

    tier_id = created["tierId"]
    read = await services.app.get(f"/admin/quota/tiers/{tier_id}", headers=headers)
    listed = await services.app.get("/admin/quota/tiers/", params={"enabled_only": "false"}, headers=headers)
    patched = await services.app.patch(
        f"/admin/quota/tiers/{tier_id}",
        json={"tierName": "Gold", "actionOnLimit": "warn", "enabled": False, "dailyCostLimit": None},
        headers=headers,
    )
    enabled_only = await services.app.get("/admin/quota/tiers", params={"enabled_only": "true"}, headers=headers)
    deleted = await services.app.delete(f"/admin/quota/tiers/{tier_id}", headers=headers)
    gone = await services.app.get(f"/admin/quota/tiers/{tier_id}", headers=headers)

    assert set(created) == TIER_FIELDS
    assert (created["periodType"], created["actionOnLimit"], created["enabled"], created["createdBy"]) == (
        "monthly",
        "block",
        True,
        "root",
    )
    assert read.json() == created
    assert listed.json() == [created]
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["tierName"], body["actionOnLimit"], body["enabled"], body["dailyCostLimit"]) == (
        "Gold",
        "warn",
        False,
        None,
    )
    assert (body["description"], body["monthlyCostLimit"]) == ("for staff", 10.0)
    assert enabled_only.json() == []
    assert deleted.status_code == 204
    assert (gone.status_code, gone.json()["code"]) == (404, "quota_tier_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"tierName": "x", "monthlyCostLimit": 10, "softLimitPercentage": 101},
        {"tierName": "x", "monthlyCostLimit": 10, "softLimitPercentage": -1},
        {"tierName": "x", "monthlyCostLimit": 0},
        {"tierName": "x", "monthlyCostLimit": 10, "dailyCostLimit": -2},
        {"tierName": "x", "monthlyCostLimit": 10, "actionOnLimit": "explode"},
        {"tierName": "x", "monthlyCostLimit": 10, "periodType": "weekly"},
        {"tierName": "", "monthlyCostLimit": 10},
        {"tierName": "x"},
    ],
)
async def test_a_malformed_tier_is_422(services: Services, body: dict[str, Any]) -> None:
    response = await services.app.post(
        "/admin/quota/tiers", json={"tierId": "some-tier", **body}, headers=admin(services)
    )

    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


async def test_tier_ids_conflicts_and_unknown_tiers(services: Services) -> None:
    headers = admin(services)
    tier = await create_tier(services)
    body = {"tierId": tier["tierId"], "tierName": "Again", "monthlyCostLimit": 1}

    taken = await services.app.post("/admin/quota/tiers", json=body, headers=headers)
    bad_id = await services.app.post("/admin/quota/tiers", json={**body, "tierId": "Has Spaces"}, headers=headers)
    null_limit = await services.app.patch(
        f"/admin/quota/tiers/{tier['tierId']}", json={"monthlyCostLimit": None}, headers=headers
    )
    over = await services.app.patch(
        f"/admin/quota/tiers/{tier['tierId']}", json={"softLimitPercentage": 150}, headers=headers
    )
    unknown_patch = await services.app.patch(
        "/admin/quota/tiers/no-such-tier", json={"enabled": False}, headers=headers
    )
    unknown_delete = await services.app.delete("/admin/quota/tiers/no-such-tier", headers=headers)

    assert (taken.status_code, taken.json()["code"]) == (409, "quota_tier_exists")
    assert bad_id.status_code == 422
    assert null_limit.status_code == 422
    assert over.status_code == 422
    assert (unknown_patch.status_code, unknown_delete.status_code) == (404, 404)


async def test_a_tier_that_assignments_name_cannot_be_deleted(services: Services) -> None:
    headers = admin(services)
    tier = await create_tier(services)
    assignment = await assign(services, tier["tierId"], "default_tier")

    refused = await services.app.delete(f"/admin/quota/tiers/{tier['tierId']}", headers=headers)
    removed = await services.app.delete(f"/admin/quota/assignments/{assignment['assignmentId']}", headers=headers)
    deleted = await services.app.delete(f"/admin/quota/tiers/{tier['tierId']}", headers=headers)

    assert (refused.status_code, refused.json()["code"]) == (409, "quota_tier_in_use")
    assert (removed.status_code, deleted.status_code) == (204, 204)


async def test_assignments_of_every_kind_are_listed_by_priority_and_filtered(services: Services) -> None:
    headers = admin(services)
    tier, other = await create_tier(services), await create_tier(services)
    user = await assign(services, tier["tierId"], "direct_user", userId="ada", priority=300)
    app_role = await assign(services, tier["tierId"], "app_role", appRoleId="faculty", priority=250)
    jwt = await assign(services, other["tierId"], "jwt_role", jwtRole="Staff", priority=200, enabled=False)
    domain = await assign(services, other["tierId"], "email_domain", emailDomain="*.Example.EDU", priority=150)
    default = await assign(services, tier["tierId"], "default_tier")

    every = await services.app.get("/admin/quota/assignments", headers=headers)
    by_type = await services.app.get(
        "/admin/quota/assignments/", params={"assignment_type": "jwt_role"}, headers=headers
    )
    by_tier = await services.app.get("/admin/quota/assignments", params={"tier_id": other["tierId"]}, headers=headers)
    enabled = await services.app.get(
        "/admin/quota/assignments", params={"tier_id": other["tierId"], "enabled_only": True}, headers=headers
    )
    read = await services.app.get(f"/admin/quota/assignments/{jwt['assignmentId']}", headers=headers)

    assert set(user) == ASSIGNMENT_FIELDS
    assert (user["userId"], user["appRoleId"], user["createdBy"]) == ("ada", None, "root")
    assert (default["priority"], default["enabled"]) == (100, True)
    assert domain["emailDomain"] == "*.example.edu"
    assert [a["assignmentId"] for a in every.json()] == [
        a["assignmentId"] for a in (user, app_role, jwt, domain, default)
    ]
    assert by_type.json() == [jwt]
    assert by_tier.json() == [jwt, domain]
    assert enabled.json() == [domain]
    assert read.json() == jwt


@pytest.mark.parametrize(
    "body",
    [
        {"assignmentType": "direct_user"},
        {"assignmentType": "direct_user", "userId": ""},
        {"assignmentType": "app_role", "userId": "ada"},
        {"assignmentType": "jwt_role", "jwtRole": "staff", "userId": "ada"},
        {"assignmentType": "default_tier", "emailDomain": "x.edu"},
        {"assignmentType": "email_domain", "emailDomain": "not a domain"},
        {"assignmentType": "email_domain", "emailDomain": "regex:(unclosed"},
        {"assignmentType": "app_role", "appRoleId": "Not-A-Role-Id"},
        {"assignmentType": "everyone"},
        {"assignmentType": "default_tier", "priority": -1},
    ],
)
async def test_a_malformed_assignment_is_422(services: Services, body: dict[str, Any]) -> None:
    tier = await create_tier(services)

    response = await services.app.post(
        "/admin/quota/assignments", json={"tierId": tier["tierId"], **body}, headers=admin(services)
    )

    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


async def test_assignment_conflicts_and_unknown_tiers(services: Services) -> None:
    headers = admin(services)
    tier = await create_tier(services)
    first = await assign(services, tier["tierId"], "direct_user", userId="ada")
    await assign(services, tier["tierId"], "app_role", appRoleId="faculty")

    second_user = await services.app.post(
        "/admin/quota/assignments",
        json={"tierId": tier["tierId"], "assignmentType": "direct_user", "userId": "ada"},
        headers=headers,
    )
    second_role = await services.app.post(
        "/admin/quota/assignments",
        json={"tierId": tier["tierId"], "assignmentType": "app_role", "appRoleId": "faculty"},
        headers=headers,
    )
    unknown = await services.app.post(
        "/admin/quota/assignments", json={"tierId": "no-such-tier", "assignmentType": "default_tier"}, headers=headers
    )
    move_to_unknown = await services.app.patch(
        f"/admin/quota/assignments/{first['assignmentId']}", json={"tierId": "no-such-tier"}, headers=headers
    )
    missing = await services.app.patch("/admin/quota/assignments/nope", json={"priority": 1}, headers=headers)
    missing_delete = await services.app.delete("/admin/quota/assignments/nope", headers=headers)

    assert (second_user.status_code, second_user.json()["code"]) == (409, "quota_assignment_exists")
    assert second_role.status_code == 409
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_quota_tier")
    assert move_to_unknown.status_code == 400
    assert (missing.status_code, missing.json()["code"]) == (404, "quota_assignment_not_found")
    assert missing_delete.status_code == 404


async def test_an_assignment_moves_to_another_tier(services: Services) -> None:
    headers = admin(services)
    old, new = await create_tier(services), await create_tier(services)
    assignment = await assign(services, old["tierId"], "jwt_role", jwtRole="staff")

    moved = await services.app.patch(
        f"/admin/quota/assignments/{assignment['assignmentId']}",
        json={"tierId": new["tierId"], "priority": 7, "enabled": False},
        headers=headers,
    )
    old_deleted = await services.app.delete(f"/admin/quota/tiers/{old['tierId']}", headers=headers)

    assert moved.status_code == 200, moved.text
    assert (moved.json()["tierId"], moved.json()["priority"], moved.json()["jwtRole"]) == (new["tierId"], 7, "staff")
    assert old_deleted.status_code == 204


async def test_overrides_are_created_listed_changed_and_deleted(services: Services) -> None:
    headers = admin(services)
    user = random_user_id()
    body = {"userId": user, "overrideType": "custom_limit", "monthlyCostLimit": 50, "reason": "exam week"}
    active = await services.app.post(
        "/admin/quota/overrides",
        json={**body, "validFrom": "2020-01-01T00:00:00.000Z", "validUntil": in_days(3)},
        headers=headers,
    )
    future = await services.app.post(
        "/admin/quota/overrides",
        json={
            "userId": user,
            "overrideType": "unlimited",
            "reason": "r",
            "validFrom": in_days(5),
            "validUntil": in_days(9),
        },
        headers=headers,
    )
    other = await services.app.post(
        "/admin/quota/overrides",
        json={**body, "userId": random_user_id(), "validFrom": in_days(-1), "validUntil": in_days(1)},
        headers=headers,
    )
    assert (active.status_code, future.status_code, other.status_code) == (201, 201, 201), active.text
    created = active.json()

    mine = await services.app.get("/admin/quota/overrides", params={"user_id": user}, headers=headers)
    mine_active = await services.app.get(
        "/admin/quota/overrides/", params={"user_id": user, "active_only": "true"}, headers=headers
    )
    every = await services.app.get("/admin/quota/overrides", headers=headers)
    patched = await services.app.patch(
        f"/admin/quota/overrides/{created['overrideId']}",
        json={"validUntil": in_days(10), "enabled": False, "reason": "longer"},
        headers=headers,
    )
    deleted = await services.app.delete(f"/admin/quota/overrides/{created['overrideId']}", headers=headers)
    gone = await services.app.get(f"/admin/quota/overrides/{created['overrideId']}", headers=headers)

    assert set(created) == {
        "overrideId",
        "userId",
        "overrideType",
        "monthlyCostLimit",
        "dailyCostLimit",
        "validFrom",
        "validUntil",
        "reason",
        "createdBy",
        "createdAt",
        "enabled",
    }
    assert (created["validFrom"], created["enabled"], created["createdBy"]) == (
        "2020-01-01T00:00:00.000000Z",
        True,
        "root",
    )
    assert [o["overrideId"] for o in mine.json()] == [future.json()["overrideId"], created["overrideId"]]
    assert mine_active.json() == [created]
    assert len(every.json()) == 3
    assert (patched.json()["enabled"], patched.json()["reason"]) == (False, "longer")
    assert (deleted.status_code, gone.status_code) == (204, 404)


@pytest.mark.parametrize(
    "body",
    [
        {"overrideType": "custom_limit", "validFrom": "2025-01-02T00:00:00Z", "validUntil": "2025-01-01T00:00:00Z"},
        {"overrideType": "custom_limit", "validFrom": "2025-01-01T00:00:00Z", "validUntil": "2025-01-01T00:00:00Z"},
        {"overrideType": "custom_limit", "monthlyCostLimit": None},
        {"overrideType": "unlimited", "monthlyCostLimit": 5},
        {"overrideType": "forever"},
        {"overrideType": "custom_limit", "validFrom": "yesterday"},
        {"overrideType": "custom_limit", "reason": ""},
    ],
)
async def test_a_malformed_override_is_422(services: Services, body: dict[str, Any]) -> None:
    valid = {
        "userId": "ada",
        "monthlyCostLimit": 5,
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2025-02-01T00:00:00Z",
        "reason": "why",
    }

    response = await services.app.post("/admin/quota/overrides", json={**valid, **body}, headers=admin(services))

    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


async def test_an_override_cannot_end_before_it_starts_or_be_unknown(services: Services) -> None:
    headers = admin(services)
    created = await services.app.post(
        "/admin/quota/overrides",
        json={
            "userId": "ada",
            "overrideType": "unlimited",
            "validFrom": in_days(1),
            "validUntil": in_days(2),
            "reason": "r",
        },
        headers=headers,
    )
    override_id = created.json()["overrideId"]

    early = await services.app.patch(
        f"/admin/quota/overrides/{override_id}", json={"validUntil": in_days(0)}, headers=headers
    )
    null = await services.app.patch(f"/admin/quota/overrides/{override_id}", json={"reason": None}, headers=headers)
    unknown = await services.app.patch("/admin/quota/overrides/nope", json={"enabled": False}, headers=headers)

    assert (early.status_code, early.json()["code"]) == (422, "validation_error")
    assert null.status_code == 422
    assert (unknown.status_code, unknown.json()["code"]) == (404, "quota_override_not_found")


async def record_events(quotas: QuotaRepository, *specs: tuple[str, str, QuotaEventType]) -> list[QuotaEvent]:
    """Events of (user, tier, type), a second apart, oldest first; returned newest first."""
    start = utc_now() - timedelta(hours=1)
    events = []
    for n, (user_id, tier_id, event_type) in enumerate(specs):
        event = QuotaEvent(
            event_id=new_id(),
            user_id=user_id,
            tier_id=tier_id,
            event_type=event_type,
            current_usage=9.0,
            quota_limit=10.0,
            percentage_used=90.0,
            timestamp=to_iso(start + timedelta(seconds=n)),
            metadata={"threshold": "90%"},
        )
        await quotas.record_event(event)
        events.append(event)
    return events[::-1]


async def test_the_event_log_is_newest_first_filtered_and_paged(services: Services) -> None:
    headers = admin(services)
    ada, bob = random_user_id(), random_user_id()
    warning, block = QuotaEventType.WARNING, QuotaEventType.BLOCK
    events = await record_events(
        storage_of(services).quotas,
        (ada, "gold", warning),
        (bob, "gold", block),
        (ada, "basic", block),
        (ada, "gold", warning),
    )
    ids = [event.event_id for event in events]

    every = await services.app.get("/admin/quota/events", headers=headers)
    of_ada = await services.app.get("/admin/quota/events", params={"user_id": ada}, headers=headers)
    gold_blocks = await services.app.get(
        "/admin/quota/events/", params={"tier_id": "gold", "event_type": "block"}, headers=headers
    )
    first = await services.app.get("/admin/quota/events", params={"limit": 3}, headers=headers)
    rest = await services.app.get(
        "/admin/quota/events", params={"limit": 3, "next_token": first.headers["X-Next-Token"]}, headers=headers
    )
    bad_token = await services.app.get("/admin/quota/events", params={"next_token": "garbage"}, headers=headers)
    bad_type = await services.app.get("/admin/quota/events", params={"event_type": "explosion"}, headers=headers)

    assert [e["eventId"] for e in every.json()] == ids
    assert set(every.json()[0]) == {
        "eventId",
        "userId",
        "tierId",
        "eventType",
        "currentUsage",
        "quotaLimit",
        "percentageUsed",
        "timestamp",
        "metadata",
    }
    assert every.json()[0]["metadata"] == {"threshold": "90%"}
    assert "X-Next-Token" not in every.headers
    assert [e["eventId"] for e in of_ada.json()] == [ids[0], ids[1], ids[3]]
    assert [e["eventId"] for e in gold_blocks.json()] == [ids[2]]
    assert [e["eventId"] for e in first.json() + rest.json()] == ids
    assert "X-Next-Token" not in rest.headers
    assert (bad_token.status_code, bad_token.json()["code"]) == (400, "invalid_page_token")
    assert bad_type.status_code == 422


async def test_the_inspector_resolves_a_signed_in_user_from_their_profile(services: Services) -> None:
    headers = admin(services)
    user = random_user_id()
    assert (await services.app.get("/users/me", headers=services.auth_as(user, roles=["Staff"]))).status_code == 200
    tier = await create_tier(services, tierName="Staff", monthlyCostLimit=4)
    await assign(services, tier["tierId"], "jwt_role", jwtRole="Staff")
    storage = storage_of(services)
    period = period_of(now_iso())
    await storage.costs.add(
        CostEntry(user_id=user, period=period, model_id="m", provider="local", usage=TokenUsage(), cost=3.0)
    )
    blocks = await record_events(storage.quotas, (user, tier["tierId"], QuotaEventType.BLOCK))

    info = await services.app.get(f"/admin/quota/users/{user}", headers=headers)
    as_other = await services.app.get(
        f"/admin/quota/users/{user}", params={"roles": "nobody", "email": "x@y.org"}, headers=headers
    )

    assert info.status_code == 200, info.text
    body = info.json()
    assert (body["userId"], body["email"], body["roles"], body["appRoles"]) == (
        user,
        f"{user}@example.com",
        ["Staff"],
        ["default"],
    )
    assert (body["tier"]["tierId"], body["matchedBy"], body["assignment"]["jwtRole"]) == (
        tier["tierId"],
        "jwt_role:Staff",
        "Staff",
    )
    assert (body["currentPeriod"], body["currentUsage"], body["quotaLimit"], body["percentageUsed"]) == (
        period,
        3.0,
        4.0,
        75.0,
    )
    assert (body["remaining"], body["warningLevel"], body["override"]) == (1.0, "none", None)
    assert (body["recentBlocks"], body["lastBlockTime"]) == (1, blocks[0].timestamp)
    assert [event["eventId"] for event in body["recentEvents"]] == [blocks[0].event_id]
    assert (as_other.json()["tier"], as_other.json()["email"], as_other.json()["roles"]) == (
        None,
        "x@y.org",
        ["nobody"],
    )


async def test_the_inspector_reads_the_days_spend_for_a_daily_limit(services: Services) -> None:
    user = random_user_id()
    await services.app.get("/users/me", headers=services.auth(user))
    tier = await create_tier(services, monthlyCostLimit=100, dailyCostLimit=2)
    await assign(services, tier["tierId"], "direct_user", userId=user)
    await storage_of(services).costs.add(
        CostEntry(
            user_id=user, period=period_of(now_iso()), model_id="m", provider="local", usage=TokenUsage(), cost=1.5
        )
    )

    body = (await services.app.get(f"/admin/quota/users/{user}", headers=admin(services))).json()

    assert (body["currentPeriod"], body["currentUsage"], body["quotaLimit"], body["percentageUsed"]) == (
        now_iso()[:10],
        1.5,
        2.0,
        75.0,
    )


async def test_the_inspector_is_404_for_a_user_who_never_signed_in(services: Services) -> None:
    headers = admin(services)
    user = random_user_id()
    tier = await create_tier(services)
    await assign(services, tier["tierId"], "direct_user", userId=user)

    unknown = await services.app.get(f"/admin/quota/users/{user}", headers=headers)
    described = await services.app.get(f"/admin/quota/users/{user}", params={"email": "a@b.org"}, headers=headers)

    assert (unknown.status_code, unknown.json()["code"]) == (404, "user_not_found")
    assert (described.status_code, described.json()["matchedBy"]) == (200, "direct_user")


async def test_the_admin_user_page_shows_the_quota_status_and_recent_events(services: Services) -> None:
    headers = admin(services)
    user = random_user_id()
    await services.app.get("/users/me", headers=services.auth(user))
    tier = await create_tier(services, tierName="Student", monthlyCostLimit=8)
    await assign(services, tier["tierId"], "email_domain", emailDomain="example.com")
    storage = storage_of(services)
    await storage.costs.add(
        CostEntry(
            user_id=user, period=period_of(now_iso()), model_id="m", provider="local", usage=TokenUsage(), cost=2.0
        )
    )
    events = await record_events(storage.quotas, *((user, tier["tierId"], QuotaEventType.WARNING) for _ in range(6)))

    detail = await services.app.get(f"/admin/users/{user}", headers=headers)
    await services.app.post(
        "/admin/quota/overrides",
        json={
            "userId": user,
            "overrideType": "unlimited",
            "validFrom": in_days(-1),
            "validUntil": in_days(1),
            "reason": "exams",
        },
        headers=headers,
    )
    overridden = await services.app.get(f"/admin/users/{user}", headers=headers)

    assert detail.status_code == 200, detail.text
    assert detail.json()["quotaStatus"] == {
        "tierId": tier["tierId"],
        "tierName": "Student",
        "matchedBy": "email_domain:example.com",
        "monthlyLimit": 8.0,
        "currentUsage": 2.0,
        "usagePercentage": 25.0,
        "remaining": 6.0,
        "hasActiveOverride": False,
        "overrideReason": None,
    }
    assert detail.json()["recentEvents"] == [
        {"eventId": e.event_id, "eventType": "warning", "timestamp": e.timestamp, "percentageUsed": 90.0}
        for e in events[:5]
    ]
    status = overridden.json()["quotaStatus"]
    assert (status["tierName"], status["monthlyLimit"], status["hasActiveOverride"], status["overrideReason"]) == (
        "Unlimited Override",
        None,
        True,
        "exams",
    )
