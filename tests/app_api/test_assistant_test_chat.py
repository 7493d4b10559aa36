"""POST /assistants/{id}/test-chat: the owner's trial of an assistant, streamed as the reference does, not stored."""

from __future__ import annotations

from apis.shared.clock import now_iso
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_user_id
from tests.knowledge_bases import MARKDOWN, add_document, new_assistant, request_upload

HANDBOOK = b"# Deployments\n\nOur team deploys on Fridays after the review.\n\n# Office\n\nClosed in August."


async def test_the_owner_gets_passages_then_an_answer_and_only_its_cost_is_stored(
    services: Services,
) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    await add_document(services, owner, assistant_id, "handbook.md", MARKDOWN, HANDBOOK)

    response = await services.app.post(
        f"/assistants/{assistant_id}/test-chat",
        json={"message": "When does the team deploy?", "session_id": "trial-1"},
        headers=services.auth(owner),
    )
    sessions = await services.app.get("/sessions", headers=services.auth(owner))
    month = await services.app_asgi.state.storage.costs.get_summary(owner, now_iso()[:7])

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-session-id"] == "trial-1"
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    debug = events[0][1]
    assert names[0] == "debug"
    assert names[1] == "message_start"
    assert names[-1] == "done"
    assert debug["type"] == "rag_debug"
    assert debug["chunk_count"] == len(debug["chunks"]) >= 1
    assert debug["chunks"][0]["source"] == "handbook.md"
    assert "deploys on Fridays" in debug["chunks"][0]["text"]
    answer = "".join(str(data.get("text", "")) for name, data in events if name == "content_block_delta")
    assert "deploys on Fridays" in answer  # the offline model quotes the context it was given
    assert sessions.json()["sessions"] == []
    assert month.total_requests == 1  # the model call is metered for the owner, though nothing is stored
    assert month.output_tokens > 0


async def test_a_test_chat_needs_a_processed_document(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    await request_upload(services, owner, assistant_id, "pending.md", MARKDOWN, 10)

    response = await services.app.post(
        f"/assistants/{assistant_id}/test-chat", json={"message": "Hello"}, headers=services.auth(owner)
    )

    assert (response.status_code, response.json()["code"]) == (400, "no_processed_documents")


async def test_only_the_owner_may_test_an_assistant(services: Services) -> None:
    owner, friend, stranger = random_user_id(), random_user_id(), random_user_id()
    assistant_id = await new_assistant(services, owner, visibility="PUBLIC")
    await add_document(services, owner, assistant_id, "handbook.md", MARKDOWN, HANDBOOK)
    body = {"message": "When does the team deploy?"}

    reader = await services.app.post(f"/assistants/{assistant_id}/test-chat", json=body, headers=services.auth(friend))
    unknown = await services.app.post("/assistants/nope/test-chat", json=body, headers=services.auth(stranger))
    empty = await services.app.post(
        f"/assistants/{assistant_id}/test-chat", json={"message": ""}, headers=services.auth(owner)
    )
    anonymous = await services.app.post(f"/assistants/{assistant_id}/test-chat", json=body)

    assert (reader.status_code, reader.json()["code"]) == (403, "assistant_not_owned")
    assert unknown.status_code == 404
    assert empty.status_code == 422
    assert anonymous.status_code == 401
