"""The foundation's acceptance scenario on each storage backend: two users, both services, through HTTP."""

from __future__ import annotations

from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id


async def test_a_turn_reads_back_for_its_owner_and_is_invisible_to_others(services: Services) -> None:
    alice, bob, session_id = random_user_id(), random_user_id(), random_session_id()

    turn = await services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "Plan my week"}, headers=services.auth(alice)
    )

    assert turn.status_code == 200
    assert parse_sse(turn.text)[-1][0] == "done"
    session = (await services.app.get(f"/sessions/{session_id}/metadata", headers=services.auth(alice))).json()
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(alice))).json()
    assert session["messageCount"] == 2
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    assert history["messages"][1]["metadata"]["tokenUsage"]["totalTokens"] > 0
    assert session["lastMessageAt"] == history["messages"][1]["createdAt"]

    bobs = services.auth(bob)
    refused = [
        await services.app.get(f"/sessions/{session_id}/metadata", headers=bobs),
        await services.app.put(f"/sessions/{session_id}/metadata", json={"title": "mine"}, headers=bobs),
        await services.app.get(f"/sessions/{session_id}/messages", headers=bobs),
        await services.app.delete(f"/sessions/{session_id}", headers=bobs),
        await services.inference.post("/invocations", json={"session_id": session_id, "message": "x"}, headers=bobs),
    ]
    assert [r.status_code for r in refused] == [404] * 5
    assert (await services.app.get("/sessions", headers=bobs)).json()["sessions"] == []
    again = (await services.app.get(f"/sessions/{session_id}/metadata", headers=services.auth(alice))).json()
    # The title may have changed meanwhile: a new session is named in the background after its first turn.
    unchanged = ("messageCount", "lastMessageAt", "createdAt", "starred", "status", "totalCost")
    assert {key: again[key] for key in unchanged} == {key: session[key] for key in unchanged}


async def test_list_paging_and_delete_on_each_backend(services: Services) -> None:
    user = random_user_id()
    headers = services.auth(user)
    ids = [random_session_id() for _ in range(5)]
    for session_id in ids:
        await services.inference.post("/invocations", json={"session_id": session_id, "message": "hi"}, headers=headers)

    first = (await services.app.get("/sessions", params={"limit": 3}, headers=headers)).json()
    second = (
        await services.app.get("/sessions", params={"limit": 3, "next_token": first["nextToken"]}, headers=headers)
    ).json()
    deleted = await services.app.post("/sessions/bulk-delete", json={"sessionIds": ids[:2]}, headers=headers)
    remaining = (await services.app.get("/sessions", headers=headers)).json()

    assert [s["sessionId"] for s in first["sessions"] + second["sessions"]] == list(reversed(ids))
    assert second["nextToken"] is None
    assert deleted.json()["deletedCount"] == 2
    assert {s["sessionId"] for s in remaining["sessions"]} == set(ids[2:])
    gone = await services.app.get(f"/sessions/{ids[0]}/messages", headers=headers)
    assert gone.status_code == 404
