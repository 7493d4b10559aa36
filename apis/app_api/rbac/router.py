"""Admin CRUD of app roles: which token roles map to which tools, models and admin rights."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from apis.app_api.deps import AdminPermissions, PermissionCacheDep, RolesRepo
from apis.app_api.updates import merged_record_validated
from apis.shared.rbac import ROLE_ID_PATTERN, AppRoleCreate, AppRoleRead, AppRoleUpdate
from apis.shared.rbac import service as roles_service
from apis.shared.schemas import ApiModel

router = APIRouter(prefix="/admin/roles", tags=["admin: roles"])
RoleIdPath = Annotated[str, Path(pattern=ROLE_ID_PATTERN)]


class RoleList(ApiModel):
    roles: list[AppRoleRead]
    total_count: int


@router.get("", response_model=RoleList)
async def list_roles(admin: AdminPermissions, roles: RolesRepo) -> RoleList:
    every = await roles_service.list_roles(roles=roles)
    return RoleList(roles=[roles_service.with_permissions(role, every) for role in every], total_count=len(every))


@router.post("", response_model=AppRoleRead, status_code=status.HTTP_201_CREATED)
async def create_role(
    role_in: AppRoleCreate, admin: AdminPermissions, roles: RolesRepo, cache: PermissionCacheDep
) -> AppRoleRead:
    created = await roles_service.create(roles=roles, cache=cache, role_in=role_in)
    return roles_service.with_permissions(created, await roles_service.list_roles(roles=roles))


@router.get("/{role_id}", response_model=AppRoleRead)
async def read_role(role_id: RoleIdPath, admin: AdminPermissions, roles: RolesRepo) -> AppRoleRead:
    role = await roles_service.get_or_raise(roles=roles, role_id=role_id)
    return roles_service.with_permissions(role, await roles_service.list_roles(roles=roles))


@router.patch("/{role_id}", response_model=AppRoleRead)
async def update_role(
    role_id: RoleIdPath, changes: AppRoleUpdate, admin: AdminPermissions, roles: RolesRepo, cache: PermissionCacheDep
) -> AppRoleRead:
    """Change the sent fields (a null clears a list or the description); system_admin keeps its powers (400)."""
    with merged_record_validated():
        updated = await roles_service.update(roles=roles, cache=cache, role_id=role_id, changes=changes)
    return roles_service.with_permissions(updated, await roles_service.list_roles(roles=roles))


@router.delete("/{role_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_role(
    role_id: RoleIdPath, admin: AdminPermissions, roles: RolesRepo, cache: PermissionCacheDep
) -> Response:
    """System roles cannot be deleted (400)."""
    await roles_service.delete(roles=roles, cache=cache, role_id=role_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
