"""App roles: map the roles that arrive in tokens to permissions (tools, models, administration)."""

from apis.shared.rbac import seeder, service
from apis.shared.rbac.cache import PermissionCache
from apis.shared.rbac.exceptions import RoleExists, RoleNotFound, SystemRoleProtected, UnknownParentRole
from apis.shared.rbac.models import (
    DEFAULT_ROLE,
    MAX_LIST_LENGTH,
    ROLE_ID_PATTERN,
    SYSTEM_ADMIN,
    SYSTEM_ROLES,
    WILDCARD,
    AppRole,
    AppRoleCreate,
    AppRoleRead,
    AppRoleUpdate,
    EffectivePermissions,
    RoleId,
)
from apis.shared.rbac.permissions import resolve, role_permissions
from apis.shared.rbac.repository import RoleRepository, in_list_order
from apis.shared.rbac.seeder import seed_system_roles

__all__ = [
    "DEFAULT_ROLE",
    "MAX_LIST_LENGTH",
    "ROLE_ID_PATTERN",
    "SYSTEM_ADMIN",
    "SYSTEM_ROLES",
    "WILDCARD",
    "AppRole",
    "AppRoleCreate",
    "AppRoleRead",
    "AppRoleUpdate",
    "EffectivePermissions",
    "PermissionCache",
    "RoleExists",
    "RoleId",
    "RoleNotFound",
    "RoleRepository",
    "SystemRoleProtected",
    "UnknownParentRole",
    "in_list_order",
    "resolve",
    "role_permissions",
    "seed_system_roles",
    "seeder",
    "service",
]
