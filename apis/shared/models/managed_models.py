"""The model catalogue service: admin CRUD, the caller's list, and choosing the model of a turn."""

from __future__ import annotations

from apis.shared.clock import new_id, now_iso
from apis.shared.models.access import can_use_model
from apis.shared.models.exceptions import ManagedModelNotFound, ModelNotAllowed, ProviderMismatch, UnknownModel
from apis.shared.models.models import ManagedModel, ManagedModelCreate, ManagedModelUpdate
from apis.shared.models.repository import ModelRepository
from apis.shared.rbac import EffectivePermissions


async def create(*, models: ModelRepository, model_in: ManagedModelCreate) -> ManagedModel:
    now = now_iso()
    fields = model_in.model_dump(exclude={"is_default"})
    model = ManagedModel(id=new_id(), created_at=now, updated_at=now, **fields)
    return await models.create(model, make_default=model_in.is_default)


async def get_or_raise(*, models: ModelRepository, id: str) -> ManagedModel:
    model = await models.get(id)
    if model is None:
        raise ManagedModelNotFound(f"managed model {id} not found")
    return model


async def list_models(*, models: ModelRepository) -> list[ManagedModel]:
    return await models.list_models()


async def update(*, models: ModelRepository, id: str, changes: ManagedModelUpdate) -> ManagedModel:
    updated = await models.update(id, changes, updated_at=now_iso())
    if updated is None:
        raise ManagedModelNotFound(f"managed model {id} not found")
    return updated


async def delete(*, models: ModelRepository, id: str) -> None:
    if not await models.delete(id):
        raise ManagedModelNotFound(f"managed model {id} not found")


async def list_available(*, models: ModelRepository, permissions: EffectivePermissions) -> list[ManagedModel]:
    """The enabled models the caller may use: exactly what `resolve_for_turn` would accept."""
    return [model for model in await models.list_models() if can_use_model(permissions, model)]


async def resolve_for_turn(
    *, models: ModelRepository, permissions: EffectivePermissions, model_id: str | None, provider: str | None
) -> ManagedModel:
    """The model a turn runs on: the named one, or the default; 400 unknown or disabled, 403 not allowed."""
    if model_id is None:
        model = await models.get_default()
        if model is None:
            raise UnknownModel("no model is configured: an admin must add one to the catalogue")
    else:
        model = await models.get_by_model_id(model_id)
        if model is None or not model.enabled:
            raise UnknownModel(f"unknown model {model_id!r}")
    if provider is not None and provider != model.provider:
        raise ProviderMismatch(f"model {model.model_id!r} is served by {model.provider!r}, not {provider!r}")
    if not can_use_model(permissions, model):
        raise ModelNotAllowed(f"your roles do not allow the model {model.model_id!r}")
    return model
