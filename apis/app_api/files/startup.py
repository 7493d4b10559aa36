"""What the app API's files routes need once the service is up: upload signing, and the periodic sweep."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from apis.shared.auth import load_or_create_key_pair
from apis.shared.bootstrap import ServiceResources
from apis.shared.config import Settings, StorageBackend
from apis.shared.files import service as files_service
from apis.shared.files.upload_tokens import UploadTokens

logger = logging.getLogger(__name__)


def start_files(app: FastAPI, resources: ServiceResources) -> None:
    """Put the upload signer on `app.state` and schedule the sweep of abandoned uploads."""
    app.state.upload_tokens = upload_tokens_for(resources.settings)
    schedule_upload_sweep(resources)


def upload_tokens_for(settings: Settings) -> UploadTokens | None:
    """The local folder has no presigned URLs: the app API signs its own, with the key kept in DATA_DIR."""
    if settings.storage.storage_backend is not StorageBackend.LOCAL:
        return None
    key_pair = load_or_create_key_pair(settings.storage.data_dir)
    return UploadTokens(key_pair, issuer=settings.auth.local_token_issuer)


def schedule_upload_sweep(resources: ServiceResources) -> None:
    """Every FILES_SWEEP_INTERVAL_SECONDS (unless 0); with several instances each sweeps, harmlessly."""
    interval = resources.settings.files.files_sweep_interval_seconds
    if not interval:
        return

    async def sweep() -> None:
        storage = resources.storage
        swept = await files_service.sweep_stale_uploads(
            files=storage.files, blobs=storage.blobs, settings=resources.settings.files
        )
        if swept:
            logger.info("deleted %d uploads that were never completed", swept)

    resources.background_tasks.every(interval, sweep, name="upload-sweep")
