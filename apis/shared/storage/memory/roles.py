"""A dict-backed RoleRepository: the fake that service tests use, held to the same contract suite."""

from __future__ import annotations

from apis.shared.clock import now_iso
from apis.shared.rbac.exceptions import RoleExists
from apis.shared.rbac.models import AppRole, AppRoleUpdate
from apis.shared.rbac.repository import in_list_order


class InMemoryRoleRepository:
    """Keeps every role in one process; hands out copies, as a real backend would."""

    def __init__(self) -> None:
        self._roles: dict[str, AppRole] = {}

    async def get(self, role_id: str) -> AppRole | None:
        role = self._roles.get(role_id)
        return role.model_copy(deep=True) if role is not None else None

    async def list_roles(self) -> list[AppRole]:
        return in_list_order(role.model_copy(deep=True) for role in self._roles.values())

    async def create(self, role: AppRole) -> AppRole:
        if role.role_id in self._roles:
            raise RoleExists(f"role {role.role_id} exists already")
        self._roles[role.role_id] = role.model_copy(deep=True)
        return role

    async def update(self, role_id: str, changes: AppRoleUpdate) -> AppRole | None:
        current = self._roles.get(role_id)
        if current is None:
            return None
        updated = changes.apply_to(current, updated_at=now_iso())
        self._roles[role_id] = updated
        return updated.model_copy(deep=True)

    async def delete(self, role_id: str) -> bool:
        return self._roles.pop(role_id, None) is not None
