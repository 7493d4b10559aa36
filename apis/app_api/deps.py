"""Annotated dependencies for the app API's routes (the shared ones, re-exported in one place)."""

from __future__ import annotations

from apis.shared.dependencies import (
    AdminPermissions,
    AppSettings,
    CallerPermissions,
    CurrentProfile,
    CurrentUser,
    ModelsRepo,
    PermissionCacheDep,
    RolesRepo,
    SessionsRepo,
    StorageDep,
    UsersRepo,
)

__all__ = [
    "AdminPermissions",
    "AppSettings",
    "CallerPermissions",
    "CurrentProfile",
    "CurrentUser",
    "ModelsRepo",
    "PermissionCacheDep",
    "RolesRepo",
    "SessionsRepo",
    "StorageDep",
    "UsersRepo",
]
