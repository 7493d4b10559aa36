"""The app API sweeps uploads that were never completed, on its own, every FILES_SWEEP_INTERVAL_SECONDS."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from apis.shared.clock import to_iso, utc_now
from apis.shared.config import FilesSettings
from apis.shared.files import FILE_TYPES
from apis.shared.files import service as files_service
from apis.shared.storage import Storage
from tests.fixtures.services import open_services, service_settings
from tests.helpers import local_storage_settings, random_session_id, random_user_id


async def test_an_abandoned_upload_is_swept_while_the_service_runs(tmp_path: Path) -> None:
    files = FilesSettings(files_sweep_interval_seconds=0.02, files_stale_upload_seconds=60, files_upload_url_seconds=30)
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(update={"files": files})
    async with open_services(settings) as services:
        storage: Storage = services.app_asgi.state.storage
        record = files_service.new_record(
            user_id=random_user_id(),
            session_id=random_session_id(),
            filename="left.pdf",
            file_type=FILE_TYPES["pdf"],
            size_bytes=8,
        )
        old = to_iso(utc_now() - timedelta(hours=2))
        record = record.model_copy(update={"created_at": old, "updated_at": old})
        await storage.files.create_file(record)
        await storage.blobs.put(record.storage_key, b"%PDF-1.4", content_type=record.mime_type)

        for _ in range(500):
            if await storage.files.get_file(record.user_id, record.upload_id) is None:
                break
            await asyncio.sleep(0.01)

        assert await storage.files.get_file(record.user_id, record.upload_id) is None
        assert await storage.blobs.get(record.storage_key) is None
