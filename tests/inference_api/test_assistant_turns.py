"""Turns with an assistant: its instructions and passages reach the model, citations stream first and are
stored, the reference's rules on attaching an assistant, and who may chat with it."""

from __future__ import annotations

from typing import Any

from tests.attachments import pdf_document, word_document
from tests.fakes.scripts import Text, Usage
from tests.fakes.server import FakeProviderState
from tests.fixtures.providers import MODEL_IDS
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id
from tests.knowledge_bases import DOCX, MARKDOWN, PDF, add_document, new_assistant

HANDBOOK = (
    b"# Deployments\n\nOur team deploys on Fridays after the weekly review, never on holidays.\n\n"
    b"# Office\n\nThe office is closed for the whole of August; the support line stays open."
)
EXPENSES = word_document("Expense policy.", "Travel expenses are refunded within ten working days of the claim.")
REPORT = pdf_document(["Annual report.", "Revenue grew by nine percent, driven by the new subscription plans."])


async def knowledgeable_assistant(services: Services, owner: str, **fields: Any) -> tuple[str, dict[str, str]]:
    """An assistant with three documents (Markdown, DOCX, PDF); its id and {filename: documentId}."""
    assistant_id = await new_assistant(services, owner, instructions="Answer as the company handbook.", **fields)
    ids = {}
    for name, kind, data in (
        ("handbook.md", MARKDOWN, HANDBOOK),
        ("expenses.docx", DOCX, EXPENSES),
        ("report.pdf", PDF, REPORT),
    ):
        document = await add_document(services, owner, assistant_id, name, kind, data)
        assert document["status"] == "complete", document
        ids[name] = document["documentId"]
    return assistant_id, ids


async def ask(
    services: Services, user: str, assistant_id: str | None, message: str, session_id: str | None = None, **body: Any
) -> tuple[Any, str]:
    session_id = session_id or random_session_id()
    payload: dict[str, Any] = {"session_id": session_id, "message": message, **body}
    if assistant_id is not None:
        payload["assistant_id"] = assistant_id
    response = await services.inference.post("/invocations", json=payload, headers=services.auth(user))
    return response, session_id


def citations_of(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [data for name, data in events if name == "citation"]


def answer_of(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(str(data.get("text", "")) for name, data in events if name == "content_block_delta")


async def test_the_offline_model_answers_from_the_right_passages_with_citations_first(local_services: Services) -> None:
    services = local_services
    owner = random_user_id()
    assistant_id, ids = await knowledgeable_assistant(services, owner)

    friday, session_id = await ask(services, owner, assistant_id, "When does the team deploy?")
    refunds, _ = await ask(services, owner, assistant_id, "How fast are travel expenses refunded?")
    revenue, _ = await ask(services, owner, assistant_id, "How much did revenue grow?")

    for response in (friday, refunds, revenue):
        assert response.status_code == 200, response.text
    events = parse_sse(friday.text)
    names = [name for name, _ in events]
    cited = citations_of(events)
    assert names.index("message_start") > max(i for i, name in enumerate(names) if name == "citation")
    assert cited[0] == {
        "assistantId": assistant_id,
        "documentId": ids["handbook.md"],
        "fileName": "handbook.md",
        "text": "Our team deploys on Fridays after the weekly review, never on holidays.",
    }
    assert "deploys on Fridays" in answer_of(events)  # the passage was in the model's context
    assert citations_of(parse_sse(refunds.text))[0]["fileName"] == "expenses.docx"
    assert citations_of(parse_sse(revenue.text))[0]["fileName"] == "report.pdf"
    assert "nine percent" in answer_of(parse_sse(revenue.text))

    history = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(owner))
    user_message, answer = history.json()["messages"]
    assert user_message["content"] == [{"type": "text", "text": "When does the team deploy?"}]  # the user's own text
    assert answer["citations"] == cited
    metadata = await services.app.get(f"/sessions/{session_id}/metadata", headers=services.auth(owner))
    assert metadata.json()["preferences"]["assistantId"] == assistant_id


async def test_through_the_openai_sdk_the_model_gets_instructions_and_passages(
    cloud: tuple[Services, dict[str, FakeProviderState]],
) -> None:
    services, fakes = cloud
    owner = random_user_id()
    assistant_id, ids = await knowledgeable_assistant(services, owner)
    fakes["openai"].script.add(Text("On Fridays."), Usage(300, 4))

    response, session_id = await ask(
        services,
        owner,
        assistant_id,
        "When does the team deploy?",
        model_id=MODEL_IDS["openai"],
        system_prompt="You are a pirate.",
    )

    assert response.status_code == 200, response.text
    [call] = fakes["openai"].chat_calls
    messages = call.body["messages"]
    system = " ".join(str(m["content"]) for m in messages if m["role"] == "system")
    user = str(messages[-1]["content"])
    assert "Answer as the company handbook." in system
    assert "pirate" not in system  # an assistant with instructions wins over the caller's prompt
    assert "Our team deploys on Fridays" in user
    assert "When does the team deploy?" in user
    assert citations_of(parse_sse(response.text))[0]["documentId"] == ids["handbook.md"]
    history = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(owner))
    assert history.json()["messages"][0]["content"] == [{"type": "text", "text": "When does the team deploy?"}]


async def test_a_conversation_keeps_its_assistant(local_services: Services) -> None:
    services = local_services
    owner = random_user_id()
    first = await new_assistant(services, owner)
    second = await new_assistant(services, owner)

    started, session_id = await ask(services, owner, first, "Hello")
    same, _ = await ask(services, owner, first, "Again", session_id=session_id)
    switched, _ = await ask(services, owner, second, "Switch", session_id=session_id)
    plain, plain_session = await ask(services, owner, None, "No assistant")
    attached_late, _ = await ask(services, owner, first, "Now with one", session_id=plain_session)
    history = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(owner))

    assert (started.status_code, same.status_code, plain.status_code) == (200, 200, 200)
    assert (switched.status_code, switched.json()["code"]) == (409, "assistant_switched")
    assert (attached_late.status_code, attached_late.json()["code"]) == (409, "assistant_switched")
    assert len(history.json()["messages"]) == 4  # the refused turn stored nothing


async def test_who_may_chat_with_an_assistant_and_open_a_cited_source(local_services: Services) -> None:
    services = local_services
    owner, friend, stranger = random_user_id(), random_user_id(), random_user_id()
    assistant_id, ids = await knowledgeable_assistant(services, owner, visibility="SHARED")
    await services.app.post(
        f"/assistants/{assistant_id}/shares", json={"emails": [f"{friend}@example.com"]}, headers=services.auth(owner)
    )

    friend_turn, _ = await ask(services, friend, assistant_id, "When does the team deploy?")
    stranger_turn, stranger_session = await ask(services, stranger, assistant_id, "When does the team deploy?")
    cited = citations_of(parse_sse(friend_turn.text))[0]
    source = await services.app.get(
        f"/assistants/{assistant_id}/documents/{cited['documentId']}/download", headers=services.auth(friend)
    )
    stranger_source = await services.app.get(
        f"/assistants/{assistant_id}/documents/{cited['documentId']}/download", headers=services.auth(stranger)
    )
    stranger_sessions = await services.app.get(
        f"/sessions/{stranger_session}/metadata", headers=services.auth(stranger)
    )

    assert friend_turn.status_code == 200
    assert cited["documentId"] == ids["handbook.md"]
    assert source.status_code == 200
    assert (stranger_turn.status_code, stranger_turn.json()["code"]) == (404, "assistant_not_found")
    assert stranger_source.status_code == 404
    assert stranger_sessions.status_code == 404  # nothing was stored for the refused turn


async def test_a_deleted_document_is_never_cited_again(local_services: Services) -> None:
    services = local_services
    owner = random_user_id()
    assistant_id, ids = await knowledgeable_assistant(services, owner)
    before, _ = await ask(services, owner, assistant_id, "When does the team deploy on Fridays?")
    deleted = await services.app.delete(
        f"/assistants/{assistant_id}/documents/{ids['handbook.md']}", headers=services.auth(owner)
    )
    after, _ = await ask(services, owner, assistant_id, "When does the team deploy on Fridays?")

    assert ids["handbook.md"] in {c["documentId"] for c in citations_of(parse_sse(before.text))}
    assert deleted.status_code == 204
    assert ids["handbook.md"] not in {c["documentId"] for c in citations_of(parse_sse(after.text))}
    assert "deploys on Fridays" not in answer_of(parse_sse(after.text))


async def test_an_assistant_with_nothing_relevant_streams_no_citation(local_services: Services) -> None:
    services = local_services
    owner = random_user_id()
    assistant_id, _ = await knowledgeable_assistant(services, owner)
    response, _ = await ask(services, owner, assistant_id, "zebra xylophone quantum")

    assert response.status_code == 200
    assert citations_of(parse_sse(response.text)) == []
