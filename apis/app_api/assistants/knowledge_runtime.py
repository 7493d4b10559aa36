"""What the documents routes need once the app API is up: the ingestion worker, its sweep, and URL signers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from apis.app_api.assistants.ingestion_worker import IngestionWorker, schedule_sweep
from apis.shared.auth import load_or_create_key_pair
from apis.shared.bootstrap import ServiceResources
from apis.shared.config import StorageBackend
from apis.shared.files.upload_tokens import UploadTokens
from apis.shared.knowledge import Ingestion
from apis.shared.knowledge.documents_service import DOWNLOAD_AUDIENCE, UPLOAD_AUDIENCE


@dataclass(frozen=True, slots=True)
class KnowledgeRuntime:
    """The ingestion worker, and the signers of local upload and download URLs (None on S3, which signs its own)."""

    worker: IngestionWorker
    upload_tokens: UploadTokens | None
    download_tokens: UploadTokens | None


def start_knowledge(app: FastAPI, resources: ServiceResources) -> None:
    """Put the knowledge runtime on `app.state` and schedule the ingestion sweep."""
    settings = resources.settings
    storage = resources.storage
    ingestion = Ingestion(
        documents=storage.documents,
        knowledge=storage.knowledge,
        blobs=storage.blobs,
        embedder=resources.embedder,
        settings=settings.knowledge,
        costs=storage.costs,
    )
    worker = IngestionWorker(ingestion, resources.background_tasks)
    upload_tokens = download_tokens = None
    if settings.storage.storage_backend is StorageBackend.LOCAL:
        key_pair = load_or_create_key_pair(settings.storage.data_dir)
        issuer = settings.auth.local_token_issuer
        upload_tokens = UploadTokens(key_pair, issuer=issuer, audience=UPLOAD_AUDIENCE)
        download_tokens = UploadTokens(key_pair, issuer=issuer, audience=DOWNLOAD_AUDIENCE)
    app.state.knowledge_runtime = KnowledgeRuntime(
        worker=worker, upload_tokens=upload_tokens, download_tokens=download_tokens
    )
    schedule_sweep(worker, interval_seconds=settings.knowledge.knowledge_sweep_interval_seconds)


async def get_knowledge_runtime(request: Request) -> KnowledgeRuntime:
    runtime: KnowledgeRuntime = request.app.state.knowledge_runtime
    return runtime


KnowledgeRuntimeDep = Annotated[KnowledgeRuntime, Depends(get_knowledge_runtime)]
