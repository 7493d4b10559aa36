"""What can go wrong with app roles."""

from __future__ import annotations

from apis.shared.errors import ConflictError, NotFoundError, RuleViolation


class RoleNotFound(NotFoundError):
    """No app role has this id."""

    code = "role_not_found"


class RoleExists(ConflictError):
    """An app role with this id exists already."""

    code = "role_exists"


class SystemRoleProtected(RuleViolation):
    """The change would delete a system role or take away what makes it work (system_admin's full grants, or
    the token roles of ADMIN_JWT_ROLES that it follows)."""

    code = "system_role_protected"


class UnknownParentRole(RuleViolation):
    """`inheritsFrom` names a role that does not exist."""

    code = "unknown_parent_role"
