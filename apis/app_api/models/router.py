"""The models a caller may use, and the admin's catalogue of managed models (API.md "Models")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from apis.app_api.deps import AdminPermissions, CallerPermissions, ModelsRepo
from apis.app_api.updates import merged_record_validated
from apis.shared.models import ManagedModel, ManagedModelCreate, ManagedModelList, ManagedModelUpdate, managed_models

router = APIRouter(tags=["models"])
ModelPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/models", response_model=ManagedModelList)
async def list_usable_models(permissions: CallerPermissions, models: ModelsRepo) -> ManagedModelList:
    """The enabled models the caller's roles allow: exactly those /invocations accepts from this caller."""
    usable = await managed_models.list_available(models=models, permissions=permissions)
    return ManagedModelList(models=usable, total_count=len(usable))


@router.get("/admin/managed-models", response_model=ManagedModelList, tags=["admin: models"])
async def list_managed_models(admin: AdminPermissions, models: ModelsRepo) -> ManagedModelList:
    every = await managed_models.list_models(models=models)
    return ManagedModelList(models=every, total_count=len(every))


@router.post(
    "/admin/managed-models",
    response_model=ManagedModel,
    status_code=status.HTTP_201_CREATED,
    tags=["admin: models"],
)
async def create_managed_model(
    model_in: ManagedModelCreate, admin: AdminPermissions, models: ModelsRepo
) -> ManagedModel:
    """Add a model; 409 when its modelId is in the catalogue already."""
    return await managed_models.create(models=models, model_in=model_in)


@router.get("/admin/managed-models/{id}", response_model=ManagedModel, tags=["admin: models"])
async def read_managed_model(id: ModelPath, admin: AdminPermissions, models: ModelsRepo) -> ManagedModel:
    return await managed_models.get_or_raise(models=models, id=id)


@router.put("/admin/managed-models/{id}", response_model=ManagedModel, tags=["admin: models"])
async def update_managed_model(
    id: ModelPath, changes: ManagedModelUpdate, admin: AdminPermissions, models: ModelsRepo
) -> ManagedModel:
    """Change the sent fields (a null clears one that may be empty); `isDefault: true` makes this the default."""
    with merged_record_validated():
        return await managed_models.update(models=models, id=id, changes=changes)


@router.delete("/admin/managed-models/{id}", status_code=status.HTTP_204_NO_CONTENT, tags=["admin: models"])
async def delete_managed_model(id: ModelPath, admin: AdminPermissions, models: ModelsRepo) -> Response:
    """409 for the default model while others remain: make another the default first."""
    await managed_models.delete(models=models, id=id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
