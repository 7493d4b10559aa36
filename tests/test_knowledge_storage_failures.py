"""Knowledge bases when the embedded storage is locked by another process: 503s that change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apis.shared.config import EmbeddingProvider, KnowledgeSettings, ProviderSettings
from tests.fakes.openai_server import FakeOpenAIState
from tests.fakes.server import RunningFake
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id
from tests.knowledge_bases import MARKDOWN, add_document, new_assistant
from tests.storage_locks import index_locked, write_locked

TEXT = b"# Deployments\n\nOur team deploys on Fridays."


@pytest.fixture
async def impatient_services(tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose busy timeout is short, so a held lock fails fast."""
    async with open_services(service_settings(local_storage_settings(tmp_path, sqlite_busy_timeout_ms=50))) as opened:
        yield opened


async def test_document_writes_under_a_held_lock_are_503_and_change_nothing(impatient_services: Services) -> None:
    services = impatient_services
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    document = await add_document(services, owner, assistant_id, "a.md", MARKDOWN, TEXT)
    one = f"/assistants/{assistant_id}/documents/{document['documentId']}"
    body = {"filename": "b.md", "contentType": MARKDOWN, "sizeBytes": 5}

    with write_locked(services.settings.storage.sqlite_path):
        upload = await services.app.post(
            f"/assistants/{assistant_id}/documents/upload-url", json=body, headers=services.auth(owner)
        )
        delete_document = await services.app.delete(one, headers=services.auth(owner))
        delete_assistant = await services.app.delete(f"/assistants/{assistant_id}", headers=services.auth(owner))
    listed = await services.app.get(f"/assistants/{assistant_id}/documents", headers=services.auth(owner))

    assert [r.status_code for r in (upload, delete_document, delete_assistant)] == [503, 503, 503]
    assert all(r.headers["retry-after"] for r in (upload, delete_document, delete_assistant))
    assert [d["documentId"] for d in listed.json()["documents"]] == [document["documentId"]]


async def test_reads_go_on_while_another_process_writes_the_index(impatient_services: Services) -> None:
    services = impatient_services
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    await add_document(services, owner, assistant_id, "a.md", MARKDOWN, TEXT)
    body = {"session_id": random_session_id(), "message": "When do we deploy?", "assistant_id": assistant_id}

    with index_locked(services.settings.storage.data_dir / "knowledge.sqlite3"):
        turn = await services.inference.post("/invocations", json=body, headers=services.auth(owner))

    assert turn.status_code == 200  # WAL: a writer does not block the search
    assert "event: citation" in turn.text


async def test_a_turn_whose_query_cannot_be_embedded_fails_before_anything_is_stored(
    tmp_path: Path, openai_fake: RunningFake[FakeOpenAIState]
) -> None:
    base = service_settings(local_storage_settings(tmp_path))
    settings = base.model_copy(
        update={
            "providers": ProviderSettings.model_construct(openai_api_key="sk-fake", openai_base_url=openai_fake.url),
            "knowledge": KnowledgeSettings.model_construct(
                embedding_provider=EmbeddingProvider.OPENAI, embedding_dimensions=64
            ),
        }
    )
    async with open_services(settings) as services:
        owner = random_user_id()
        assistant_id = await new_assistant(services, owner)
        document = await add_document(services, owner, assistant_id, "a.md", MARKDOWN, TEXT)
        session_id = random_session_id()
        body = {"session_id": session_id, "message": "When do we deploy?", "assistant_id": assistant_id}
        openai_fake.state.embeddings.fail_next(503, 503, 503, 503)

        turn = await services.inference.post("/invocations", json=body, headers=services.auth(owner))
        metadata = await services.app.get(f"/sessions/{session_id}/metadata", headers=services.auth(owner))
        again = await services.inference.post("/invocations", json=body, headers=services.auth(owner))

    assert document["status"] == "complete"
    assert turn.status_code in (502, 503)
    assert turn.json()["code"].startswith("provider_")
    assert metadata.status_code == 404  # the user's message was not stored
    assert again.status_code == 200
    assert "event: citation" in again.text
