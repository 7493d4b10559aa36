"""A dict-backed ModelRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from apis.shared.models.catalogue_rules import (
    catalogue_order,
    check_default_kept,
    check_deletable,
    updated_model,
    with_default_flag,
)
from apis.shared.models.exceptions import ModelIdTaken
from apis.shared.models.models import ManagedModel, ManagedModelUpdate


class InMemoryModelRepository:
    """The catalogue in one process."""

    def __init__(self) -> None:
        self._models: dict[str, ManagedModel] = {}
        self._default_id: str | None = None

    def _read(self, model: ManagedModel | None) -> ManagedModel | None:
        return with_default_flag(model, self._default_id) if model is not None else None

    def _model_id_taken(self, model_id: str, by_other_than: str) -> bool:
        return any(m.model_id == model_id and m.id != by_other_than for m in self._models.values())

    async def get(self, id: str) -> ManagedModel | None:
        return self._read(self._models.get(id))

    async def get_by_model_id(self, model_id: str) -> ManagedModel | None:
        return self._read(next((m for m in self._models.values() if m.model_id == model_id), None))

    async def list_models(self) -> list[ManagedModel]:
        return catalogue_order([with_default_flag(m, self._default_id) for m in self._models.values()])

    async def create(self, model: ManagedModel, *, make_default: bool) -> ManagedModel:
        if self._model_id_taken(model.model_id, by_other_than=model.id):
            raise ModelIdTaken(f"a model with modelId {model.model_id!r} exists")
        self._models[model.id] = model.model_copy(update={"is_default": False})
        if make_default or self._default_id is None:
            self._default_id = model.id
        return with_default_flag(self._models[model.id], self._default_id)

    async def update(self, id: str, changes: ManagedModelUpdate, *, updated_at: str) -> ManagedModel | None:
        current = self._models.get(id)
        if current is None:
            return None
        check_default_kept(id=id, default_id=self._default_id, changes=changes)
        updated = updated_model(current, changes, updated_at=updated_at)
        if self._model_id_taken(updated.model_id, by_other_than=id):
            raise ModelIdTaken(f"a model with modelId {updated.model_id!r} exists")
        self._models[id] = updated
        if changes.is_default:
            self._default_id = id
        return with_default_flag(updated, self._default_id)

    async def delete(self, id: str) -> bool:
        if id not in self._models:
            return False
        check_deletable(id=id, default_id=self._default_id, model_count=len(self._models))
        del self._models[id]
        if self._default_id == id:
            self._default_id = None
        return True

    async def get_default(self) -> ManagedModel | None:
        return self._read(self._models.get(self._default_id)) if self._default_id else None
