"""The assistants routes through HTTP on both backends: the reference's shapes, access, flags, pages, shares."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.services import Services
from tests.helpers import random_user_id

READ_FIELDS = {
    "assistantId",
    "ownerName",
    "name",
    "description",
    "instructions",
    "vectorIndexId",
    "visibility",
    "tags",
    "usageCount",
    "createdAt",
    "updatedAt",
    "status",
}


def assistant_body(**fields: Any) -> dict[str, Any]:
    """What the reference client's form sends, vectorIndexId included."""
    return {
        "name": "Syllabus helper",
        "description": "Answers questions on the syllabus",
        "instructions": "Be brief.",
        "vectorIndexId": "idx_assistants",
        "visibility": "PRIVATE",
        "tags": ["course"],
        **fields,
    }


async def create(services: Services, user: str, **fields: Any) -> dict[str, Any]:
    response = await services.app.post("/assistants", json=assistant_body(**fields), headers=services.auth(user))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def listed_ids(services: Services, user: str, query: str = "") -> list[str]:
    response = await services.app.get(f"/assistants{query}", headers=services.auth(user))
    assert response.status_code == 200, response.text
    return [a["assistantId"] for a in response.json()["assistants"]]


async def test_draft_then_complete_through_put(services: Services) -> None:
    owner = random_user_id()
    headers = services.auth(owner)

    draft = await services.app.post("/assistants/draft/", json={}, headers=headers)
    assistant_id = draft.json()["assistantId"]
    completed = await services.app.put(
        f"/assistants/{assistant_id}",
        json={**assistant_body(name="Done"), "status": "COMPLETE"},
        headers=headers,
    )
    read = await services.app.get(f"/assistants/{assistant_id}", headers=headers)

    assert draft.status_code == 200
    assert set(draft.json()) == READ_FIELDS
    assert (draft.json()["name"], draft.json()["status"], draft.json()["visibility"]) == (
        "Untitled Assistant",
        "DRAFT",
        "PRIVATE",
    )
    assert draft.json()["ownerName"] == owner.title()
    assert completed.status_code == 200
    assert (completed.json()["name"], completed.json()["status"]) == ("Done", "COMPLETE")
    assert read.json() == completed.json()
    assert "ownerId" not in read.json()


async def test_the_list_follows_the_reference_flags(services: Services) -> None:
    owner, other = random_user_id(), random_user_id()
    headers = services.auth(owner)
    complete = await create(services, owner)
    draft = (await services.app.post("/assistants/draft", json={"name": "Later"}, headers=headers)).json()
    archived = await create(services, owner)
    archive = await services.app.post(f"/assistants/{archived['assistantId']}/archive", json={}, headers=headers)
    public = await create(services, other, visibility="PUBLIC")

    default = await listed_ids(services, owner)
    as_the_client = await listed_ids(
        services, owner, "?include_archived=false&include_drafts=true&include_public=false"
    )
    everything = await listed_ids(services, owner, "?include_archived=true&include_drafts=true&include_public=true")

    assert archive.json()["status"] == "ARCHIVED"
    assert default == [complete["assistantId"]]
    assert as_the_client == [draft["assistantId"], complete["assistantId"]]
    assert everything == [public["assistantId"], archived["assistantId"], draft["assistantId"], complete["assistantId"]]


async def test_sharing_by_email_lets_the_grantee_read_but_not_write(services: Services) -> None:
    owner, friend, stranger = random_user_id(), random_user_id(), random_user_id()
    assistant = await create(services, owner, visibility="SHARED")
    path = f"/assistants/{assistant['assistantId']}"

    shared = await services.app.post(
        f"{path}/shares", json={"emails": [f" {friend.upper()}@Example.com"]}, headers=services.auth(owner)
    )
    friend_list = (await services.app.get("/assistants", headers=services.auth(friend))).json()["assistants"]
    friend_read = await services.app.get(path, headers=services.auth(friend))
    friend_put = await services.app.put(path, json={"name": "Mine now"}, headers=services.auth(friend))
    friend_shares = await services.app.get(f"{path}/shares", headers=services.auth(friend))
    stranger_read = await services.app.get(path, headers=services.auth(stranger))
    stranger_delete = await services.app.delete(path, headers=services.auth(stranger))
    listed = await services.app.get(f"{path}/shares", headers=services.auth(owner))
    removed = await services.app.request(
        "DELETE", f"{path}/shares", json={"emails": [f"{friend}@example.com"]}, headers=services.auth(owner)
    )
    after = await services.app.get(path, headers=services.auth(friend))

    assert shared.json() == {"assistantId": assistant["assistantId"], "sharedWith": [f"{friend}@example.com"]}
    assert [(a["assistantId"], a["isSharedWithMe"], a["firstInteracted"]) for a in friend_list] == [
        (assistant["assistantId"], True, False)
    ]
    assert friend_read.status_code == 200
    assert (friend_put.status_code, friend_put.json()["code"]) == (403, "assistant_not_owned")
    assert friend_shares.status_code == 403
    assert (stranger_read.status_code, stranger_read.json()["code"]) == (404, "assistant_not_found")
    assert stranger_delete.status_code == 404
    assert listed.json()["sharedWith"] == [f"{friend}@example.com"]
    assert removed.json()["sharedWith"] == []
    assert after.status_code == 404


async def test_private_and_public_visibility(services: Services) -> None:
    owner, anyone = random_user_id(), random_user_id()
    private = await create(services, owner)
    public = await create(services, owner, visibility="PUBLIC")

    hidden = await services.app.get(f"/assistants/{private['assistantId']}", headers=services.auth(anyone))
    seen = await services.app.get(f"/assistants/{public['assistantId']}", headers=services.auth(anyone))
    archive = await services.app.post(f"/assistants/{public['assistantId']}/archive", headers=services.auth(anyone))

    assert hidden.status_code == 404
    assert seen.status_code == 200
    assert archive.status_code == 403


async def test_delete_removes_the_assistant_and_its_shares(services: Services) -> None:
    owner, friend = random_user_id(), random_user_id()
    assistant = await create(services, owner, visibility="SHARED")
    path = f"/assistants/{assistant['assistantId']}"
    await services.app.post(f"{path}/shares", json={"emails": [f"{friend}@example.com"]}, headers=services.auth(owner))

    deleted = await services.app.delete(path, headers=services.auth(owner))
    again = await services.app.delete(path, headers=services.auth(owner))
    friend_list = await listed_ids(services, friend)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert friend_list == []


async def test_pages_with_limit_and_next_token(services: Services) -> None:
    owner = random_user_id()
    made = [(await create(services, owner, name=f"A{n}"))["assistantId"] for n in range(5)]

    seen: list[str] = []
    token: str | None = None
    while True:
        query = "?limit=2" + (f"&next_token={token}" if token else "")
        body = (await services.app.get(f"/assistants{query}", headers=services.auth(owner))).json()
        seen += [a["assistantId"] for a in body["assistants"]]
        token = body.get("nextToken")
        if token is None:
            break
    bad = await services.app.get("/assistants?next_token=garbage", headers=services.auth(owner))

    assert seen == made[::-1]
    assert await listed_ids(services, owner) == made[::-1]  # without limit: the whole list, as the reference
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_page_token")


@pytest.mark.parametrize(
    "body",
    [
        assistant_body(visibility="FRIENDS"),
        assistant_body(name=""),
        assistant_body(surprise=True),
        assistant_body(tags="not-a-list"),
    ],
)
async def test_malformed_assistants_are_422(local_services: Services, body: dict[str, Any]) -> None:
    response = await local_services.app.post("/assistants", json=body, headers=local_services.auth(random_user_id()))

    assert response.status_code == 422


async def test_malformed_updates_and_shares_are_422(local_services: Services) -> None:
    owner = random_user_id()
    assistant = await create(local_services, owner)
    path = f"/assistants/{assistant['assistantId']}"
    headers = local_services.auth(owner)

    null_name = await local_services.app.put(path, json={"name": None}, headers=headers)
    bad_status = await local_services.app.put(path, json={"status": "DELETED"}, headers=headers)
    no_emails = await local_services.app.post(f"{path}/shares", json={"emails": []}, headers=headers)
    not_email = await local_services.app.post(f"{path}/shares", json={"emails": ["nobody"]}, headers=headers)
    cleared = await local_services.app.put(path, json={"description": None, "tags": None}, headers=headers)

    assert [r.status_code for r in (null_name, bad_status, no_emails, not_email)] == [422, 422, 422, 422]
    assert (cleared.json()["description"], cleared.json()["tags"]) == ("", [])
    assert cleared.json()["name"] == assistant["name"]


async def test_assistants_need_a_token(local_services: Services) -> None:
    response = await local_services.app.get("/assistants")

    assert response.status_code == 401
