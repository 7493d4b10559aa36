"""Annotated dependencies for the app API's routes (the shared ones, re-exported in one place)."""

from __future__ import annotations

from apis.shared.dependencies import (
    AdminPermissions,
    AppSettings,
    AssistantsRepo,
    BlobsStore,
    CallerPermissions,
    CostsRepo,
    CurrentProfile,
    CurrentUser,
    DocumentsRepo,
    EmbedderDep,
    FilesRepo,
    KnowledgeIdx,
    ModelCallAllowed,
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
    "AssistantsRepo",
    "BlobsStore",
    "CallerPermissions",
    "CostsRepo",
    "CurrentProfile",
    "CurrentUser",
    "DocumentsRepo",
    "EmbedderDep",
    "FilesRepo",
    "KnowledgeIdx",
    "ModelCallAllowed",
    "ModelsRepo",
    "PermissionCacheDep",
    "RolesRepo",
    "SessionsRepo",
    "StorageDep",
    "UsersRepo",
]
