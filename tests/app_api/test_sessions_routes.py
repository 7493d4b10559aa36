"""The sessions routes of the app API, through HTTP: happy paths, every 4xx, and other users' ids."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id


async def put_session(services: Services, user: str, session_id: str, **fields: Any) -> dict[str, Any]:
    response = await services.app.put(f"/sessions/{session_id}/metadata", json=fields, headers=services.auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_put_creates_then_updates_and_get_reads_it(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()

    created = await put_session(local_services, user, session_id, title="Holiday plans", tags=["travel"])
    updated = await put_session(local_services, user, session_id, starred=True, preferences={"lastModel": "m1"})
    read = await local_services.app.get(f"/sessions/{session_id}/metadata", headers=local_services.auth(user))

    assert created["title"] == "Holiday plans"
    assert created["messageCount"] == 0
    assert created["createdAt"] == created["lastMessageAt"]
    assert (updated["title"], updated["starred"], updated["tags"]) == ("Holiday plans", True, ["travel"])
    assert updated["preferences"]["lastModel"] == "m1"
    assert read.status_code == 200
    assert read.json() == updated


async def test_put_accepts_snake_case_too(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()

    body = await put_session(local_services, user, session_id, preferences={"last_temperature": 0.3})

    assert body["preferences"]["lastTemperature"] == 0.3


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"status": "deleted"},
        {"starred": "sometimes"},
        {"unknownField": 1},
        {"tags": "not-a-list"},
        {"title": "x" * 201},
    ],
)
async def test_put_with_bad_fields_is_422_and_changes_nothing(local_services: Services, body: dict[str, Any]) -> None:
    user, session_id = random_user_id(), random_session_id()
    before = await put_session(local_services, user, session_id, title="Kept")

    response = await local_services.app.put(
        f"/sessions/{session_id}/metadata", json=body, headers=local_services.auth(user)
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    after = await local_services.app.get(f"/sessions/{session_id}/metadata", headers=local_services.auth(user))
    assert after.json() == before


@pytest.mark.parametrize("bad_id", ["has space", "-leading-dash", "a" * 129, "semi;colon"])
async def test_malformed_session_ids_are_422(local_services: Services, bad_id: str) -> None:
    headers = local_services.auth(random_user_id())

    response = await local_services.app.get(f"/sessions/{bad_id}/metadata", headers=headers)

    assert response.status_code == 422


async def test_another_users_session_is_404_on_every_route(local_services: Services) -> None:
    owner, stranger = random_user_id(), random_user_id()
    session_id = random_session_id()
    original = await put_session(local_services, owner, session_id, title="Private")
    theirs = local_services.auth(stranger)

    responses = [
        await local_services.app.get(f"/sessions/{session_id}/metadata", headers=theirs),
        await local_services.app.put(f"/sessions/{session_id}/metadata", json={"title": "Mine now"}, headers=theirs),
        await local_services.app.get(f"/sessions/{session_id}/messages", headers=theirs),
        await local_services.app.delete(f"/sessions/{session_id}", headers=theirs),
    ]
    bulk = await local_services.app.post("/sessions/bulk-delete", json={"sessionIds": [session_id]}, headers=theirs)
    listed = await local_services.app.get("/sessions", headers=theirs)

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert {r.json()["code"] for r in responses} == {"session_not_found"}
    assert bulk.json()["results"] == [
        {"sessionId": session_id, "success": False, "error": f"session {session_id} not found"}
    ]
    assert listed.json()["sessions"] == []
    still = await local_services.app.get(f"/sessions/{session_id}/metadata", headers=local_services.auth(owner))
    assert still.json() == original


async def test_unknown_session_is_404(local_services: Services) -> None:
    headers = local_services.auth(random_user_id())

    response = await local_services.app.get(f"/sessions/{random_session_id()}/metadata", headers=headers)

    assert response.status_code == 404
    assert response.json()["requestId"] == response.headers["x-request-id"]


async def test_list_pages_newest_first_with_filters(local_services: Services) -> None:
    user = random_user_id()
    ids = [random_session_id() for _ in range(5)]
    for index, session_id in enumerate(ids):
        await put_session(local_services, user, session_id, title=f"Chat {index}", starred=index % 2 == 0)
    headers = local_services.auth(user)

    first = (await local_services.app.get("/sessions", params={"limit": 2}, headers=headers)).json()
    rest = (
        await local_services.app.get(
            "/sessions", params={"limit": 10, "next_token": first["nextToken"]}, headers=headers
        )
    ).json()
    starred = (await local_services.app.get("/sessions", params={"starred": "true"}, headers=headers)).json()
    searched = (await local_services.app.get("/sessions", params={"q": "chat 3"}, headers=headers)).json()

    listed = [s["sessionId"] for s in first["sessions"] + rest["sessions"]]
    assert sorted(listed) == sorted(ids)
    assert len(first["sessions"]) == 2
    assert rest["nextToken"] is None
    assert {s["sessionId"] for s in starred["sessions"]} == {ids[0], ids[2], ids[4]}
    assert [s["sessionId"] for s in searched["sessions"]] == [ids[3]]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"limit": 0}, 422, "validation_error"),
        ({"limit": 101}, 422, "validation_error"),
        ({"limit": "many"}, 422, "validation_error"),
        ({"next_token": "not-a-token"}, 400, "invalid_page_token"),
        ({"starred": "maybe"}, 422, "validation_error"),
    ],
)
async def test_list_rejects_bad_query(local_services: Services, params: dict[str, Any], status: int, code: str) -> None:
    response = await local_services.app.get("/sessions", params=params, headers=local_services.auth(random_user_id()))

    assert response.status_code == status
    assert response.json()["code"] == code


async def test_delete_is_204_then_404(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()
    await put_session(local_services, user, session_id)
    headers = local_services.auth(user)

    first = await local_services.app.delete(f"/sessions/{session_id}", headers=headers)
    again = await local_services.app.delete(f"/sessions/{session_id}", headers=headers)
    read = await local_services.app.get(f"/sessions/{session_id}/metadata", headers=headers)

    assert first.status_code == 204
    assert first.content == b""
    assert (again.status_code, read.status_code) == (404, 404)


async def test_bulk_delete_reports_each_session(local_services: Services) -> None:
    user = random_user_id()
    mine = [random_session_id() for _ in range(3)]
    for session_id in mine:
        await put_session(local_services, user, session_id)
    missing = random_session_id()

    response = await local_services.app.post(
        "/sessions/bulk-delete", json={"session_ids": [*mine, missing]}, headers=local_services.auth(user)
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["deletedCount"], body["failedCount"]) == (3, 1)
    assert [row["success"] for row in body["results"]] == [True, True, True, False]
    listed = await local_services.app.get("/sessions", headers=local_services.auth(user))
    assert listed.json()["sessions"] == []


@pytest.mark.parametrize("ids", [[], [f"s{i}" for i in range(21)], ["bad id"]])
async def test_bulk_delete_rejects_bad_lists(local_services: Services, ids: list[str]) -> None:
    response = await local_services.app.post(
        "/sessions/bulk-delete", json={"sessionIds": ids}, headers=local_services.auth(random_user_id())
    )

    assert response.status_code == 422


async def test_messages_of_an_empty_session_and_bad_paging(local_services: Services) -> None:
    user, session_id = random_user_id(), random_session_id()
    await put_session(local_services, user, session_id)
    headers = local_services.auth(user)

    empty = await local_services.app.get(f"/sessions/{session_id}/messages", headers=headers)
    too_many = await local_services.app.get(f"/sessions/{session_id}/messages", params={"limit": 501}, headers=headers)
    bad_token = await local_services.app.get(
        f"/sessions/{session_id}/messages", params={"next_token": "%%%"}, headers=headers
    )

    assert empty.json() == {"messages": []}
    assert too_many.status_code == 422
    assert bad_token.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sessions"),
        ("GET", "/sessions/abc/metadata"),
        ("PUT", "/sessions/abc/metadata"),
        ("DELETE", "/sessions/abc"),
        ("POST", "/sessions/bulk-delete"),
        ("GET", "/sessions/abc/messages"),
    ],
)
async def test_every_sessions_route_needs_a_token(local_services: Services, method: str, path: str) -> None:
    response = await local_services.app.request(method, path, json={})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthenticated"
