"""The app API's periodic removal of uploads that were never completed (see files_service.sweep_stale_uploads)."""

from __future__ import annotations

import logging

from apis.shared.bootstrap import ServiceResources
from apis.shared.files import service as files_service

logger = logging.getLogger(__name__)


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
