"""ModelRepository on SQLite: a row per model (JSON body), and one row naming the default."""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Literal

from apis.shared.models.catalogue_rules import (
    catalogue_order,
    check_default_kept,
    check_deletable,
    updated_model,
    with_default_flag,
)
from apis.shared.models.exceptions import ModelIdTaken
from apis.shared.models.models import ManagedModel, ManagedModelUpdate
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.storage.sqlite.database import SqliteDatabase, write_transaction

KIND = "managed model"


def _default_id(connection: sqlite3.Connection) -> str | None:
    row = connection.execute("SELECT model_ref FROM default_model WHERE singleton = 1").fetchone()
    return str(row[0]) if row else None


def _set_default(connection: sqlite3.Connection, id: str) -> None:
    connection.execute(
        "INSERT INTO default_model (singleton, model_ref) VALUES (1, ?)"
        " ON CONFLICT (singleton) DO UPDATE SET model_ref = excluded.model_ref",
        (id,),
    )


def _read_one(connection: sqlite3.Connection, where: Literal["id", "model_id"], value: str) -> ManagedModel | None:
    """The model, or None; CorruptRecord when its stored body no longer validates."""
    row = connection.execute(f"SELECT id, body FROM managed_models WHERE {where} = ?", (value,)).fetchone()
    if row is None:
        return None
    model = read_or_raise(KIND, row[0], lambda: ManagedModel.model_validate_json(row[1]))
    return with_default_flag(model, _default_id(connection))


def _model_id_taken(connection: sqlite3.Connection, model: ManagedModel) -> bool:
    row = connection.execute(
        "SELECT 1 FROM managed_models WHERE model_id = ? AND id <> ?", (model.model_id, model.id)
    ).fetchone()
    return row is not None


def _write(connection: sqlite3.Connection, model: ManagedModel, *, insert: bool) -> None:
    stored = model.model_copy(update={"is_default": False})
    values = (stored.model_id, stored.model_name.lower(), stored.model_dump_json(), stored.id)
    if insert:
        connection.execute("INSERT INTO managed_models (model_id, sort_name, body, id) VALUES (?, ?, ?, ?)", values)
    else:
        connection.execute("UPDATE managed_models SET model_id = ?, sort_name = ?, body = ? WHERE id = ?", values)


class SqliteModelRepository:
    """The catalogue in the shared SQLite file; each write is one transaction."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def get(self, id: str) -> ManagedModel | None:
        return await self._db.read(lambda connection: _read_one(connection, "id", id))

    async def get_by_model_id(self, model_id: str) -> ManagedModel | None:
        return await self._db.read(lambda connection: _read_one(connection, "model_id", model_id))

    async def list_models(self) -> list[ManagedModel]:
        def select(connection: sqlite3.Connection) -> list[ManagedModel]:
            default_id = _default_id(connection)
            rows = connection.execute("SELECT id, body FROM managed_models").fetchall()
            readable = (read_or_skip(KIND, id, partial(ManagedModel.model_validate_json, body)) for id, body in rows)
            return [with_default_flag(model, default_id) for model in readable if model is not None]

        return catalogue_order(await self._db.run(select))

    async def create(self, model: ManagedModel, *, make_default: bool) -> ManagedModel:
        def insert(connection: sqlite3.Connection) -> ManagedModel:
            with write_transaction(connection):
                if _model_id_taken(connection, model):
                    raise ModelIdTaken(f"a model with modelId {model.model_id!r} exists")
                _write(connection, model, insert=True)
                if make_default or _default_id(connection) is None:
                    _set_default(connection, model.id)
                return with_default_flag(model, _default_id(connection))

        return await self._db.run(insert)

    async def update(self, id: str, changes: ManagedModelUpdate, *, updated_at: str) -> ManagedModel | None:
        def change(connection: sqlite3.Connection) -> ManagedModel | None:
            with write_transaction(connection):
                current = _read_one(connection, "id", id)
                if current is None:
                    return None
                check_default_kept(id=id, default_id=_default_id(connection), changes=changes)
                updated = updated_model(current, changes, updated_at=updated_at)
                if _model_id_taken(connection, updated):
                    raise ModelIdTaken(f"a model with modelId {updated.model_id!r} exists")
                _write(connection, updated, insert=False)
                if changes.is_default:
                    _set_default(connection, id)
                return with_default_flag(updated, _default_id(connection))

        return await self._db.run(change)

    async def delete(self, id: str) -> bool:
        def remove(connection: sqlite3.Connection) -> bool:
            # The body is not read: a model stored in a shape that cannot be read back can still be deleted.
            with write_transaction(connection):
                if connection.execute("SELECT 1 FROM managed_models WHERE id = ?", (id,)).fetchone() is None:
                    return False
                count = connection.execute("SELECT count(*) FROM managed_models").fetchone()[0]
                check_deletable(id=id, default_id=_default_id(connection), model_count=int(count))
                connection.execute("DELETE FROM default_model WHERE model_ref = ?", (id,))
                connection.execute("DELETE FROM managed_models WHERE id = ?", (id,))
                return True

        return await self._db.run(remove)

    async def get_default(self) -> ManagedModel | None:
        def select(connection: sqlite3.Connection) -> ManagedModel | None:
            default_id = _default_id(connection)
            return _read_one(connection, "id", default_id) if default_id else None

        return await self._db.read(select)
