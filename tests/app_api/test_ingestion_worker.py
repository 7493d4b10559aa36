"""Ingestion as tracked background work: it resumes after a restart, takes over a dead worker's document once
its lease has passed, retries what may pass, and fails what never will with a message for the owner."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from apis.app_api.assistants.knowledge_runtime import KnowledgeRuntime
from apis.shared.assistants import Document, DocumentStatus
from apis.shared.clock import to_iso, utc_now
from apis.shared.config import KnowledgeSettings, Settings
from apis.shared.storage import Storage
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_user_id
from tests.knowledge_bases import MARKDOWN, new_assistant, request_upload
from tests.storage_locks import index_locked

TEXT = b"# Deployments\n\nOur team deploys on Fridays."


def settings_without_sweep(tmp_path: Path, **knowledge: Any) -> Settings:
    """Services whose sweep runs only when a test calls it, with a short busy timeout so a held lock fails fast."""
    base = service_settings(local_storage_settings(tmp_path, sqlite_busy_timeout_ms=50))
    return base.model_copy(
        update={"knowledge": KnowledgeSettings.model_construct(knowledge_sweep_interval_seconds=0, **knowledge)}
    )


async def bytes_arrived_silently(services: Services) -> tuple[str, str, str]:
    """An assistant with one document whose bytes are in the store with no signal (as after a presigned S3 PUT):
    (owner, assistant id, document id)."""
    storage, _ = parts(services)
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    upload = await request_upload(services, owner, assistant_id, "notes.md", MARKDOWN, len(TEXT))
    document_id: str = upload["documentId"]
    await storage.blobs.put(f"knowledge/{assistant_id}/{document_id}", TEXT, content_type=MARKDOWN)
    return owner, assistant_id, document_id


def parts(services: Services) -> tuple[Storage, KnowledgeRuntime]:
    return services.app_asgi.state.storage, services.app_asgi.state.knowledge_runtime


async def settled(storage: Storage, assistant_id: str, document_id: str) -> Document:
    for _ in range(300):
        document = await storage.documents.get(assistant_id, document_id)
        assert document is not None
        if document.status.is_final:
            return document
        await asyncio.sleep(0.01)
    raise AssertionError(f"document never settled: {document}")


async def test_bytes_that_arrived_while_no_worker_ran_are_ingested_by_the_sweep_after_a_restart(
    tmp_path: Path,
) -> None:
    settings = settings_without_sweep(tmp_path)
    async with open_services(settings) as before:
        # The bytes land in the store with no signal (as a presigned S3 PUT would), and the service stops.
        _, assistant_id, document_id = await bytes_arrived_silently(before)

    async with open_services(settings) as after:
        storage, runtime = parts(after)
        submitted = await runtime.worker.sweep()
        document = await settled(storage, assistant_id, document_id)

    assert submitted == 1
    assert document.status is DocumentStatus.COMPLETE
    assert document.chunk_count == 1
    assert document.attempts == 1


async def test_a_document_left_in_progress_is_taken_over_once_its_lease_has_passed(tmp_path: Path) -> None:
    async with open_services(settings_without_sweep(tmp_path, knowledge_ingestion_lease_seconds=60)) as services:
        storage, runtime = parts(services)
        owner, assistant_id, document_id = await bytes_arrived_silently(services)
        stored = await storage.documents.get(assistant_id, document_id)
        assert stored is not None
        # A worker claimed it and died: chunking, last written just now (still within its lease).
        claimed = stored.model_copy(
            update={"status": DocumentStatus.CHUNKING, "attempts": 1, "updated_at": to_iso(utc_now())}
        )
        assert await storage.documents.replace_if(claimed, expected_updated_at=stored.updated_at) is not None

        within_lease = await runtime.worker.sweep()
        expired = claimed.model_copy(update={"updated_at": to_iso(utc_now() - timedelta(seconds=120))})
        assert await storage.documents.replace_if(expired, expected_updated_at=claimed.updated_at) is not None
        after_lease = await runtime.worker.sweep()
        document = await settled(storage, assistant_id, document_id)

    assert (within_lease, after_lease) == (0, 1)
    assert document.status is DocumentStatus.COMPLETE
    assert document.attempts == 2


async def test_a_transient_failure_hands_the_document_back_and_a_later_sweep_finishes_it(tmp_path: Path) -> None:
    async with open_services(settings_without_sweep(tmp_path)) as services:
        storage, runtime = parts(services)
        owner, assistant_id, document_id = await bytes_arrived_silently(services)
        with index_locked(services.settings.storage.data_dir / "knowledge.sqlite3"):
            await runtime.worker.sweep()
            for _ in range(300):
                waiting = await storage.documents.get(assistant_id, document_id)
                if waiting is not None and waiting.status is DocumentStatus.UPLOADING and waiting.attempts == 1:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the document was not handed back")
        await asyncio.sleep(0.05)  # the failed worker's task ends
        await runtime.worker.sweep()
        document = await settled(storage, assistant_id, document_id)

    assert document.status is DocumentStatus.COMPLETE
    assert document.attempts == 2


async def test_a_document_that_keeps_failing_its_worker_is_failed_for_its_owner_to_see(tmp_path: Path) -> None:
    async with open_services(settings_without_sweep(tmp_path, knowledge_max_ingestion_attempts=2)) as services:
        storage, runtime = parts(services)
        owner, assistant_id, document_id = await bytes_arrived_silently(services)
        stored = await storage.documents.get(assistant_id, document_id)
        assert stored is not None
        tried = stored.model_copy(update={"attempts": 2, "updated_at": to_iso(utc_now())})
        assert await storage.documents.replace_if(tried, expected_updated_at=stored.updated_at) is not None
        await runtime.worker.sweep()
        document = await settled(storage, assistant_id, document_id)
        read = await services.app.get(
            f"/assistants/{assistant_id}/documents/{document_id}", headers=services.auth(owner)
        )

    assert document.status is DocumentStatus.FAILED
    assert read.json()["errorMessage"].startswith("the document could not be processed")
    assert read.json()["errorDetails"] == "ingestion was tried 2 times without finishing"


async def test_an_upload_that_never_arrived_is_failed_once_its_link_expired_long_ago(tmp_path: Path) -> None:
    async with open_services(settings_without_sweep(tmp_path, knowledge_upload_url_seconds=60)) as services:
        storage, runtime = parts(services)
        owner = random_user_id()
        assistant_id = await new_assistant(services, owner)
        fresh = await request_upload(services, owner, assistant_id, "fresh.md", MARKDOWN, 5)
        stale = await request_upload(services, owner, assistant_id, "stale.md", MARKDOWN, 5)
        record = await storage.documents.get(assistant_id, stale["documentId"])
        assert record is not None
        old = record.model_copy(update={"created_at": to_iso(utc_now() - timedelta(hours=1))})
        assert await storage.documents.replace_if(old, expected_updated_at=record.updated_at) is not None

        await runtime.worker.sweep()
        fresh_now = await storage.documents.get(assistant_id, fresh["documentId"])
        stale_now = await storage.documents.get(assistant_id, stale["documentId"])

    assert fresh_now is not None
    assert fresh_now.status is DocumentStatus.UPLOADING
    assert stale_now is not None
    assert stale_now.status is DocumentStatus.FAILED
    assert stale_now.error_message is not None
    assert "did not arrive" in stale_now.error_message
