"""`colloquy storage init` seeds the default model and the system roles, as each service does at start, so a store
emptied under running services serves turns again at once, on either backend."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from apis.shared.cli import main
from apis.shared.config import StorageBackend, StorageSettings
from apis.shared.storage import open_storage
from apis.shared.storage.dynamo.client import dynamodb_client
from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id, random_user_id


def delete_every_row(database: Path) -> None:
    """Empty every table of the database but the migrations' record: the schema stays, the data goes."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
            )
        ]
        connection.execute("BEGIN IMMEDIATE")  # foreign keys are off on a plain connection
        for table in tables:
            connection.execute(f'DELETE FROM "{table}"')
        connection.execute("COMMIT")
    finally:
        connection.close()


def delete_table(settings: StorageSettings) -> None:
    client = dynamodb_client(settings)
    try:
        client.delete_table(TableName=settings.dynamodb_table_name)
        client.get_waiter("table_not_exists").wait(TableName=settings.dynamodb_table_name)
    finally:
        client.close()


def empty_store(settings: StorageSettings) -> None:
    if settings.storage_backend is StorageBackend.LOCAL:
        delete_every_row(settings.sqlite_path)
    else:
        delete_table(settings)


def point_the_command_at(settings: StorageSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment `colloquy` reads, naming the same store as `settings`."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("STORAGE_BACKEND", settings.storage_backend.value)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AUTH_MODE", "local")
    monkeypatch.setenv("DYNAMODB_TABLE_NAME", settings.dynamodb_table_name)
    monkeypatch.setenv("S3_BUCKET_NAME", settings.s3_bucket_name)
    if settings.aws_endpoint_url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", settings.aws_endpoint_url)


async def test_storage_init_seeds_an_emptied_store_under_running_services(
    services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage_settings = services.settings.storage
    point_the_command_at(storage_settings, monkeypatch, tmp_path)
    await asyncio.to_thread(empty_store, storage_settings)

    assert await asyncio.to_thread(main, ["storage", "init"]) == 0
    printed = capsys.readouterr().out
    headers = services.auth(random_user_id())
    turn = await services.inference.post(
        "/invocations", json={"session_id": random_session_id(), "message": "hi"}, headers=headers
    )

    assert turn.status_code == 200, turn.text
    assert parse_sse(turn.text)[-1][0] == "done"
    assert "created the default model local-echo" in printed
    storage = await open_storage(storage_settings)
    try:
        default = await storage.models.get_default()
        roles = {role.role_id for role in await storage.roles.list_roles()}
    finally:
        await storage.close()
    assert default is not None
    assert default.model_id == "local-echo"
    assert roles == {"system_admin", "default"}


async def test_storage_init_twice_finds_what_it_seeded(
    storage_settings: StorageSettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_the_command_at(storage_settings, monkeypatch, tmp_path)

    assert await asyncio.to_thread(main, ["storage", "init"]) == 0
    first = capsys.readouterr().out
    assert await asyncio.to_thread(main, ["storage", "init"]) == 0
    second = capsys.readouterr().out

    assert "created the default model local-echo" in first
    assert "model catalogue: exists" in second
    assert "created built-in tools calculator, current_time" in first
    assert "built-in tools: exist" in second
    assert "created" not in second
