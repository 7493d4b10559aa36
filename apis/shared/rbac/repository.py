"""The storage port of the roles domain; one implementation per backend under apis/shared/storage/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from apis.shared.rbac.models import AppRole, AppRoleUpdate


def in_list_order(roles: Iterable[AppRole]) -> list[AppRole]:
    """Highest priority first, then by role id: the order of `list_roles` on every backend."""
    return sorted(roles, key=lambda role: (-role.priority, role.role_id))


class RoleRepository(Protocol):
    """The app roles of the whole installation, one record per role id.

    The set is small (tens of roles) and read as a whole by the permission cache, so there is no paging.
    Methods return `None` only for "no such role"; any backend failure raises `StorageUnavailableError`
    (transient) or `StorageError`. Validation (parents exist, system roles keep their grants) is the
    service's job: the repository stores what it is given. A stored role that no longer validates is left
    out of `list_roles` (logged and counted); `get` and `update` of it raise `CorruptRecord`.
    """

    async def get(self, role_id: str) -> AppRole | None:
        """The role with this id, or None."""
        ...

    async def list_roles(self) -> list[AppRole]:
        """Every role, highest `priority` first, ties by `roleId` ascending (see `in_list_order`)."""
        ...

    async def create(self, role: AppRole) -> AppRole:
        """Store a new role as given and return it.

        Raises `RoleExists` if a role with this id is stored already; then nothing is written.
        """
        ...

    async def update(self, role_id: str, changes: AppRoleUpdate) -> AppRole | None:
        """Apply the fields sent in `changes` and set `updatedAt` to now, atomically; None if there is no such role.

        Fields not sent are left as stored, even when another writer changed them meanwhile.
        """
        ...

    async def delete(self, role_id: str) -> bool:
        """Remove the role; False if there is no such role. The stored role is not read, so one that can no
        longer be read back is deleted all the same."""
        ...
