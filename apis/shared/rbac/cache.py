"""Every app role, held per process for a short time, so that resolving a request's permissions reads no storage.

Roles change rarely and are read on every request, so each process keeps the whole set for `ttl_seconds`.
A change made through this process (the service functions call `invalidate()`) shows on the next request.
A change made through ANOTHER process, such as the other service or another instance behind the load
balancer, shows there once that process's copy expires: within `ttl_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apis.shared.rbac.models import AppRole, EffectivePermissions
from apis.shared.rbac.permissions import resolve
from apis.shared.rbac.repository import RoleRepository


@dataclass(frozen=True, slots=True)
class _Snapshot:
    roles: list[AppRole]
    expires_at: float


class PermissionCache:
    """The roles of one process, loaded through `list_roles()` at most once per TTL; `admin_jwt_roles` are the
    token roles that always make a system_admin (ADMIN_JWT_ROLES)."""

    def __init__(
        self,
        *,
        roles: RoleRepository,
        admin_jwt_roles: Sequence[str],
        ttl_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._roles = roles
        self.admin_jwt_roles = tuple(admin_jwt_roles)
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._lock = asyncio.Lock()
        # Bumped by invalidate(): a load that began before a write must not be kept as current afterwards.
        self._generation = 0
        # Counts finished loads, so that callers queued behind a failed load share its failure.
        self._loads_finished = 0
        self._failure: Exception | None = None

    async def permissions_for(self, token_roles: Sequence[str]) -> EffectivePermissions:
        """The permissions of a caller whose token carries `token_roles`; a failed load of the roles raises.

        A token role in `admin_jwt_roles` (ADMIN_JWT_ROLES) makes a system_admin whatever the stored roles say.
        """
        return resolve(token_roles, await self.current_roles(), admin_jwt_roles=self.admin_jwt_roles)

    async def current_roles(self) -> list[AppRole]:
        """Every role as of at most `ttl_seconds` ago (or since the last `invalidate()`)."""
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        loads_seen = self._loads_finished
        async with self._lock:
            # Another caller may have loaded while this one waited for the lock.
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            if self._loads_finished != loads_seen and self._failure is not None:
                # The load this caller waited on failed: fail alike rather than queue one more doomed load.
                raise self._failure
            return await self._load()

    def invalidate(self) -> None:
        """Drop the cached roles: the next call reloads them. Called after every write to a role."""
        self._snapshot = None
        self._generation += 1

    def _fresh(self) -> list[AppRole] | None:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < snapshot.expires_at:
            return snapshot.roles
        return None

    async def _load(self) -> list[AppRole]:
        """Read every role; the caller holds the lock. No stale or empty fallback: a failure propagates."""
        self._failure = None
        generation = self._generation
        try:
            roles = await self._roles.list_roles()
        except Exception as exc:
            self._failure = exc
            raise
        finally:
            self._loads_finished += 1
        if generation == self._generation:
            self._snapshot = _Snapshot(roles=roles, expires_at=self._clock() + self._ttl_seconds)
        return roles
