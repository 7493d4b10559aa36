"""Start-up: a service that cannot seed its system roles or its first model does not start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from apis.shared.bootstrap import service_resources
from apis.shared.errors import StorageUnavailableError
from apis.shared.rbac import AppRole
from apis.shared.storage import open_storage
from tests.fixtures.services import service_settings
from tests.helpers import local_storage_settings


class RolesThatCannotBeRead:
    """A roles repository whose backend refuses every call, as a throttled table would."""

    async def get(self, role_id: str) -> AppRole | None:
        raise StorageUnavailableError("the roles are unreachable")

    async def list_roles(self) -> list[AppRole]:
        raise StorageUnavailableError("the roles are unreachable")


async def test_a_failed_role_seeding_stops_the_start_with_a_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = service_settings(local_storage_settings(tmp_path))
    real_open = open_storage

    async def open_with_broken_roles(storage_settings: object) -> object:
        storage = await real_open(settings.storage)
        object.__setattr__(storage, "roles", RolesThatCannotBeRead())
        return storage

    monkeypatch.setattr("apis.shared.bootstrap.open_storage", open_with_broken_roles)

    with caplog.at_level(logging.CRITICAL), pytest.raises(StorageUnavailableError):
        async with service_resources(settings, seed_roles=True):
            pytest.fail("the service must not start without its roles")

    assert "cannot prepare storage at start: the roles are unreachable" in caplog.text


async def test_the_inference_api_does_not_seed_roles(tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path))

    async with service_resources(settings, seed_roles=False) as resources:
        roles = await resources.storage.roles.list_roles()
        models = await resources.storage.models.list_models()

    assert roles == []
    assert [m.model_id for m in models] == ["local-echo"]
