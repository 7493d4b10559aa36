"""Where ingestion runs: tracked background tasks of the app API, a few at a time, and a periodic sweep.

Ingestion starts when a document's bytes have arrived, which the app API learns three ways: its own signed
upload route receives them (local backend); the client's status poll finds them in the bucket (S3 sends no
signal for a presigned PUT); or the sweep, every KNOWLEDGE_SWEEP_INTERVAL_SECONDS, finds them for a client that
stopped polling, and takes over documents whose worker died (a restart) once their lease has passed. The sweep
reads only unfinished documents, from an index of those statuses.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from apis.shared.assistants import Document, DocumentStatus
from apis.shared.background import BackgroundTasks
from apis.shared.clock import now_iso, to_iso, utc_now
from apis.shared.knowledge import Ingestion, ingest, may_take

logger = logging.getLogger(__name__)

_SWEEP_BATCH = 100
# An upload URL past its expiry by this much will bring no bytes: its document is failed for its owner to see.
_UPLOAD_GRACE_SECONDS = 300


class IngestionWorker:
    """Starts ingestions as background tasks, at most KNOWLEDGE_INGESTION_CONCURRENCY at once in this process."""

    def __init__(self, ingestion: Ingestion, background: BackgroundTasks) -> None:
        self.ingestion = ingestion
        self.background = background
        self._slots = asyncio.Semaphore(ingestion.settings.knowledge_ingestion_concurrency)
        self._running: set[str] = set()

    def submit(self, document: Document) -> None:
        """Ingest `document` in the background unless this process is already at it."""
        if document.document_id in self._running:
            return
        self._running.add(document.document_id)
        self.background.spawn(self._run(document), name="document-ingestion")

    async def _run(self, document: Document) -> None:
        try:
            async with self._slots:
                # The record may have moved on while this waited for a slot.
                current = await self.ingestion.documents.get(document.assistant_id, document.document_id)
                if current is not None and may_take(current, lease_seconds=self._lease):
                    await ingest(self.ingestion, current)
        finally:
            self._running.discard(document.document_id)

    @property
    def _lease(self) -> float:
        return self.ingestion.settings.knowledge_ingestion_lease_seconds

    async def sweep(self) -> int:
        """Submit every unfinished document that is ready for a worker; how many were submitted."""
        submitted = 0
        for document in await self.ingestion.documents.list_unfinished(limit=_SWEEP_BATCH):
            if document.document_id in self._running or not may_take(document, lease_seconds=self._lease):
                continue
            waiting = document.status is DocumentStatus.UPLOADING
            if waiting and await self.ingestion.blobs.size(document.storage_key) is None:
                await self._expire_if_abandoned(document)
                continue
            self.submit(document)
            submitted += 1
        return submitted

    async def _expire_if_abandoned(self, document: Document) -> None:
        """Fail a document whose upload URL expired long ago with no bytes: it would wait forever otherwise."""
        settings = self.ingestion.settings
        cutoff = to_iso(utc_now() - timedelta(seconds=settings.knowledge_upload_url_seconds + _UPLOAD_GRACE_SECONDS))
        if document.created_at >= cutoff:
            return
        failed = document.model_copy(
            update={
                "status": DocumentStatus.FAILED,
                "error_message": "the upload did not arrive before its link expired: please upload the file again",
                "updated_at": now_iso(),
            }
        )
        await self.ingestion.documents.replace_if(failed, expected_updated_at=document.updated_at)


def schedule_sweep(worker: IngestionWorker, *, interval_seconds: float) -> None:
    """Sweep every `interval_seconds` (0: never), each round a tracked background task."""
    if not interval_seconds:
        return

    async def sweep() -> None:
        submitted = await worker.sweep()
        if submitted:
            logger.info("ingestion sweep started %d documents", submitted)

    worker.background.every(interval_seconds, sweep, name="ingestion-sweep")
