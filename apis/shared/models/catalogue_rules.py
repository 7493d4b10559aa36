"""Rules every catalogue backend applies the same way, kept here so that they cannot drift apart."""

from __future__ import annotations

from apis.shared.models.exceptions import DefaultModelRequired
from apis.shared.models.models import ManagedModel, ManagedModelUpdate
from apis.shared.partial_updates import merged


def updated_model(current: ManagedModel, changes: ManagedModelUpdate, *, updated_at: str) -> ManagedModel:
    """`current` with the sent fields replaced, validated as a whole (InvalidInput, 422, if it is not a valid
    model: nothing is written then). isDefault is the catalogue's, not the record's."""
    return merged(current, {**changes.field_changes(), "updated_at": updated_at, "is_default": False})


def check_default_kept(*, id: str, default_id: str | None, changes: ManagedModelUpdate) -> None:
    """`isDefault: false` on the default would leave none: another model must be made the default instead."""
    if changes.is_default is False and default_id == id:
        raise DefaultModelRequired("make another model the default instead of unsetting this one")


def check_deletable(*, id: str, default_id: str | None, model_count: int) -> None:
    if default_id == id and model_count > 1:
        raise DefaultModelRequired("make another model the default before deleting this one")


def with_default_flag(model: ManagedModel, default_id: str | None) -> ManagedModel:
    return model.model_copy(update={"is_default": model.id == default_id})


def catalogue_order(models: list[ManagedModel]) -> list[ManagedModel]:
    return sorted(models, key=lambda model: (model.model_name.lower(), model.id))
