"""Quota writes when the embedded storage is locked by another process: 503s that change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings
from tests.storage_locks import write_locked


@pytest.fixture
async def impatient_services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(service_settings(local_storage_settings(tmp_path, sqlite_busy_timeout_ms=50))) as opened:
        yield opened


async def test_quota_admin_writes_under_a_held_lock_are_503_and_store_nothing(impatient_services: Services) -> None:
    services = impatient_services
    admin = services.auth_as("root", roles=["admin"])
    tier = {"tierId": "locked", "tierName": "Locked", "monthlyCostLimit": 5, "softLimitPercentage": 80}

    with write_locked(services.settings.storage.sqlite_path):
        created = await services.app.post("/admin/quota/tiers", json=tier, headers=admin)
    tiers = await services.app.get("/admin/quota/tiers", headers=admin)

    assert created.status_code == 503
    assert created.headers["retry-after"]
    assert tiers.status_code == 200
    assert tiers.json() == []
