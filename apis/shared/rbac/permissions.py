"""Permission resolution: which app roles a token's roles select, and what those roles grant together.

Pure functions over a snapshot of every role, so that the cache, the admin API and the property tests share
one definition:

- a role applies when it is enabled and one of its `jwtRoleMappings` equals one of the token's roles
  (exact and case-sensitive); when none applies, the `default` role does, if it exists and is enabled;
- an applied role grants its own tools and models and, ONE level up, what each enabled role in its
  `inheritsFrom` grants directly; a parent's own parents add nothing, so cycles need no special care;
  a missing or disabled parent grants nothing;
- grants are a union, and "*" is kept as is (it allows every id);
- the caller is an admin when `system_admin` is an applied role or an enabled direct parent of one;
- a token carrying one of ADMIN_JWT_ROLES always gets `system_admin`, with its full grants, whatever the
  stored role says (its mappings, its flag, even its absence): no change to the stored roles can lock every
  admin out, as only the setting decides who the admins are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from apis.shared.rbac.models import DEFAULT_ROLE, SYSTEM_ADMIN, WILDCARD, AppRole, EffectivePermissions


def _grantors(applied: Iterable[AppRole], by_id: Mapping[str, AppRole]) -> list[AppRole]:
    """The applied roles and their enabled direct parents: every role whose own grants count."""
    grantors: dict[str, AppRole] = {}
    for role in applied:
        grantors[role.role_id] = role
        for parent_id in role.inherits_from:
            parent = by_id.get(parent_id)
            if parent is not None and parent.enabled:
                grantors.setdefault(parent_id, parent)
    return list(grantors.values())


def _combine(applied: Sequence[AppRole], by_id: Mapping[str, AppRole]) -> EffectivePermissions:
    grantors = _grantors(applied, by_id)
    return EffectivePermissions(
        app_roles=sorted({role.role_id for role in applied}),
        tools=sorted({tool for role in grantors for tool in role.granted_tools}),
        models=sorted({model for role in grantors for model in role.granted_models}),
        is_admin=any(role.role_id == SYSTEM_ADMIN for role in grantors),
    )


# What the token roles of ADMIN_JWT_ROLES grant, stored system_admin or not: everything, and the admin API.
_ADMIN_BY_SETTING = AppRole(
    role_id=SYSTEM_ADMIN,
    display_name="System administrator",
    granted_tools=[WILDCARD],
    granted_models=[WILDCARD],
    is_system_role=True,
    created_at="",
    updated_at="",
)


def applied_roles(
    token_roles: Iterable[str], roles: Sequence[AppRole], *, admin_jwt_roles: Iterable[str] = ()
) -> list[AppRole]:
    """The enabled roles mapped from one of `token_roles`, with `system_admin` for a token that carries one of
    `admin_jwt_roles`; or the enabled `default` role when there are none."""
    wanted = set(token_roles)
    applied = [role for role in roles if role.enabled and not wanted.isdisjoint(role.jwt_role_mappings)]
    if not wanted.isdisjoint(admin_jwt_roles):
        applied = [role for role in applied if role.role_id != SYSTEM_ADMIN] + [_ADMIN_BY_SETTING]
    if applied:
        return applied
    return [role for role in roles if role.role_id == DEFAULT_ROLE and role.enabled][:1]


def resolve(
    token_roles: Iterable[str], roles: Sequence[AppRole], *, admin_jwt_roles: Iterable[str] = ()
) -> EffectivePermissions:
    """What a caller whose token carries `token_roles` may do, given every app role and ADMIN_JWT_ROLES."""
    return _combine(applied_roles(token_roles, roles, admin_jwt_roles=admin_jwt_roles), _by_id(roles))


def role_permissions(role: AppRole, roles: Sequence[AppRole]) -> EffectivePermissions:
    """What `role` grants when it applies on its own, its direct parents included; nothing while disabled."""
    if not role.enabled:
        return EffectivePermissions()
    return _combine([role], _by_id(roles))


def _by_id(roles: Sequence[AppRole]) -> dict[str, AppRole]:
    return {role.role_id: role for role in roles}
