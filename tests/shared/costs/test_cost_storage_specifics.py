"""Backend specifics of cost rollups: SQLite reads them through keys and indexes (query plans), migration 0012 carries
the months counted before it into the system's rollups, and storage init adds gsi6 to an earlier table."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from apis.shared.config import StorageSettings
from apis.shared.storage import dynamo
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Table, dynamodb_client
from apis.shared.storage.dynamo.costs import DynamoCostRepository
from apis.shared.storage.sqlite import cost_rows
from apis.shared.storage.sqlite.costs import SqliteCostRepository
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.migrations import load_migrations, migrate
from tests.helpers import random_user_id
from tests.shared.costs.builders import PERIOD, entry

_ROLLUPS_MIGRATION = 12


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "colloquy.sqlite3", busy_timeout_ms=5000)
    try:
        yield database
    finally:
        database.close()


@pytest.mark.parametrize(
    ("query", "parameters", "index"),
    [
        (cost_rows.TOP_USERS, ("2026-02", 0, 10), "cost_summaries_by_period_cost"),
        (cost_rows.PERIOD_USERS, ("2026-02", "", 10), "cost_summaries_by_period_user"),
        (cost_rows.USER_DAYS, ("u", "2026-01-01", "2026-03-31"), "PRIMARY KEY"),
        (cost_rows.USER_DAY_MODELS, ("u", "2026-01-01", "2026-03-31"), "PRIMARY KEY"),
        (cost_rows.SYSTEM_DAYS, ("2026-01-01", "2026-03-31"), "PRIMARY KEY"),
        (cost_rows.KNOWN_ALREADY, ("u", "2026-02", "u", "2026-02-14", "u", "2026-02", "m"), "PRIMARY KEY"),
    ],
)
async def test_sqlite_reads_costs_through_keys_and_indexes(
    sqlite_database: SqliteDatabase, query: str, parameters: tuple[Any, ...], index: str
) -> None:
    await sqlite_database.run(migrate)

    def plan(connection: sqlite3.Connection) -> list[Any]:
        return connection.execute(f"EXPLAIN QUERY PLAN {query}", parameters).fetchall()

    details = [row[3] for row in await sqlite_database.run(plan)]

    assert any(index in detail for detail in details), details
    assert not any("TEMP B-TREE" in detail for detail in details), details
    assert not any(detail.startswith("SCAN") and detail != "SCAN CONSTANT ROW" for detail in details), details


async def test_the_rollups_migration_carries_earlier_months_into_the_systems_totals(
    sqlite_database: SqliteDatabase,
) -> None:
    alice, bob = random_user_id(), random_user_id()

    def before_rollups(connection: sqlite3.Connection) -> None:
        connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
        for number, name, script in load_migrations():
            if number < _ROLLUPS_MIGRATION:
                connection.executescript(script)
                connection.execute("INSERT INTO schema_migrations VALUES (?, ?, 'then')", (number, name))
        connection.commit()

    await sqlite_database.run(before_rollups)
    earlier = SqliteCostRepository(sqlite_database)

    def count_the_old_way(connection: sqlite3.Connection) -> None:
        for user, cost in ((alice, 0.1), (bob, 0.2), (alice, 0.3)):
            old = entry(user, cost=cost, model_id="m")
            connection.execute(cost_rows.ADD_TO_USER_MONTH, (user, PERIOD, *cost_rows.total_values(old), "then"))
            connection.execute(
                cost_rows.ADD_TO_USER_MONTH_MODEL, (user, PERIOD, "m", *cost_rows.model_values(old), "bedrock")
            )
        connection.commit()

    await sqlite_database.run(count_the_old_way)
    await sqlite_database.run(migrate)
    await earlier.add(entry(bob, cost=0.4, model_id="m"))  # bob was active this month already

    month = await earlier.get_system_summary(PERIOD)
    assert (month.total_cost, month.total_requests, month.active_users) == (1.0, 4, 2)
    assert [(model.model_id, model.unique_users, model.total_cost) for model in month.models] == [("m", 2, 1.0)]
    assert [user.user_id for user in await earlier.list_top_users(PERIOD, limit=5)] == [bob, alice]


@pytest.mark.dynamodb
async def test_storage_init_adds_the_top_users_index_to_an_earlier_table(
    dynamo_storage_settings: StorageSettings,
) -> None:
    settings = dynamo_storage_settings
    client = dynamodb_client(settings)
    try:
        earlier = schema.create_table_request(settings.dynamodb_table_name)
        new = schema.USERS_BY_MONTH_COST.name
        earlier["GlobalSecondaryIndexes"] = [i for i in earlier["GlobalSecondaryIndexes"] if i["IndexName"] != new]
        earlier["AttributeDefinitions"] = schema.attribute_definitions(
            tuple(index for index in schema.INDEXES if index.name != new)
        )
        client.create_table(**earlier)
        repository = DynamoCostRepository(Table(client, settings.dynamodb_table_name))
        user = random_user_id()
        await repository.add(entry(user, cost=0.5))

        lines = await dynamo.initialize(settings)

        assert any(f"index {new}: created" in line for line in lines), lines
        assert [found.user_id for found in await repository.list_top_users(PERIOD, limit=5)] == [user]
    finally:
        client.close()
