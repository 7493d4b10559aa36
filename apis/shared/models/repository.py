"""The storage port of the model catalogue; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from typing import Protocol

from apis.shared.models.models import ManagedModel, ManagedModelUpdate


class ModelRepository(Protocol):
    """Managed models and the catalogue's one default pointer.

    The catalogue is small (tens of models), so it is listed whole. `isDefault` on a returned model is derived
    from the default pointer at read time. Methods return `None` only for "no such model"; backend failures
    raise `StorageUnavailableError` or `StorageError`. A stored model that no longer validates is left out of
    `list_models` (logged and counted), and reading or updating it raises `CorruptRecord`.
    """

    async def get(self, id: str) -> ManagedModel | None:
        """The model with this id, or None."""
        ...

    async def get_by_model_id(self, model_id: str) -> ManagedModel | None:
        """The model with this provider modelId, or None."""
        ...

    async def list_models(self) -> list[ManagedModel]:
        """Every model, by model name then id."""
        ...

    async def create(self, model: ManagedModel, *, make_default: bool) -> ManagedModel:
        """Store a new model; it becomes the default when `make_default` or when there is no default yet.

        Raises `ModelIdTaken` if another model has its modelId; then nothing is written.
        """
        ...

    async def update(self, id: str, changes: ManagedModelUpdate, *, updated_at: str) -> ManagedModel | None:
        """Apply the sent fields; `isDefault: true` moves the default pointer here in the same write.

        Raises `ModelIdTaken` when the new modelId belongs to another model, and `DefaultModelRequired` for
        `isDefault: false` on the default model (another model must be made the default instead).
        """
        ...

    async def delete(self, id: str) -> bool:
        """Remove the model; False if there is no such model. Raises `DefaultModelRequired` when it is the
        default and other models remain; the last model may go, leaving an empty catalogue without a default.
        A model stored in a shape that can no longer be read is deleted all the same: that is how it is repaired."""
        ...

    async def get_default(self) -> ManagedModel | None:
        """The default model, or None when the catalogue is empty."""
        ...
