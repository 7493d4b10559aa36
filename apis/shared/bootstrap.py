"""What both services open at start and close at shutdown: logging, storage and the token validator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from apis.shared import heap
from apis.shared.auth import TokenValidator, build_token_validator
from apis.shared.background import BackgroundTasks
from apis.shared.config import Settings
from apis.shared.durable_files import make_private
from apis.shared.errors import StorageError
from apis.shared.models import ensure_first_model
from apis.shared.observability import configure_logging
from apis.shared.providers.embeddings import ProviderEmbedder, build_embedder
from apis.shared.rate_limits import TurnRateLimiter
from apis.shared.rbac import PermissionCache, seed_system_roles
from apis.shared.storage import Storage, open_storage
from apis.shared.storage.agentcore import open_memory_backend
from apis.shared.tools.builtin_catalog import seed_builtin_tools
from apis.shared.users import LoginSync

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10.0
# What a service closes of its own at shutdown.
OnStop = Callable[[], Awaitable[None]]


def service_version() -> str:
    try:
        return version("colloquy")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class ServiceResources:
    settings: Settings
    storage: Storage
    token_validator: TokenValidator
    login_sync: LoginSync
    permission_cache: PermissionCache
    background_tasks: BackgroundTasks
    # Model calls per user per minute (TURN_RATE_LIMIT_PER_MINUTE), counted in this process.
    rate_limiter: TurnRateLimiter
    # The knowledge bases' embedding model (EMBEDDING_PROVIDER), or None: lexical search only.
    embedder: ProviderEmbedder | None


async def seed_storage(settings: Settings, storage: Storage, *, seed_roles: bool = True) -> list[str]:
    """What a service must find in storage before it serves: the default model and (`seed_roles`) the system
    roles and the built-in tools' catalogue records; a line per thing created or found.

    Idempotent. Each service runs it at start, and `colloquy storage init` after creating the schema or the
    table, so that a store emptied under running services serves turns again without a restart.
    """
    lines = [await ensure_first_model(models=storage.models)]
    if seed_roles:
        lines += await seed_system_roles(roles=storage.roles, admin_jwt_roles=settings.auth.admin_roles)
        lines.append(await seed_builtin_tools(storage.tools))
    return lines


async def _seed(settings: Settings, storage: Storage, *, seed_roles: bool) -> None:
    """Seed at start; a failure stops the start with a clear line."""
    try:
        lines = await seed_storage(settings, storage, seed_roles=seed_roles)
    except StorageError as exc:
        logger.critical("cannot prepare storage at start: %s", exc.detail)
        raise
    logger.info("storage ready: %s", "; ".join(lines))


@asynccontextmanager
async def service_resources(settings: Settings, *, seed_roles: bool) -> AsyncIterator[ServiceResources]:
    """Open storage and auth once for the life of a service, and seed what it needs; a failure stops the start."""
    configure_logging(level=settings.observability.log_level, fmt=settings.observability.log_format)
    # A DATA_DIR made before its files were private is made private once, here (docs/decisions.md).
    await asyncio.to_thread(make_private, settings.storage.data_dir)
    storage = await open_memory_backend(settings, await open_storage(settings.storage))
    try:
        validator = build_token_validator(settings)
        await _seed(settings, storage, seed_roles=seed_roles)
        embedder = build_embedder(settings.knowledge, settings.providers, region=settings.storage.aws_region)
        tasks = BackgroundTasks()
        try:
            yield ServiceResources(
                settings=settings,
                storage=storage,
                token_validator=validator,
                login_sync=LoginSync(users=storage.users, interval_seconds=settings.auth.user_sync_interval_seconds),
                permission_cache=PermissionCache(
                    roles=storage.roles,
                    admin_jwt_roles=settings.auth.admin_roles,
                    ttl_seconds=settings.auth.permission_cache_seconds,
                ),
                background_tasks=tasks,
                embedder=embedder,
                rate_limiter=TurnRateLimiter(settings.inference.turn_rate_limit_per_minute),
            )
        finally:
            # Turns still storing their answers, titles and ingestions still being written: let them finish first.
            await tasks.drain(timeout_seconds=SHUTDOWN_GRACE_SECONDS)
            # Imported here: aiohttp loads with the first provider model, not with the service.
            from apis.shared.providers.provider_http import close_provider_sessions

            await close_provider_sessions()
            if embedder is not None:
                await embedder.aclose()
    finally:
        await storage.close()


async def _warm_then_settle(warm_up: Callable[[Settings], None] | None, settings: Settings) -> None:
    if warm_up is not None:
        await asyncio.to_thread(warm_up, settings)
    heap.settle()


def resources_lifespan(
    settings: Settings,
    *,
    seed_roles: bool,
    warm_up: Callable[[Settings], None] | None = None,
    on_start: Callable[[FastAPI, ServiceResources], OnStop | None] | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that opens the service's resources and puts them on `app.state`.

    `warm_up`, if given, runs in a worker thread once the service is up: work it would rather do before
    its first request than during it, without delaying the start. Then, in a process `colloquy serve` runs,
    the heap is settled (apis/shared/heap.py). `on_start` lets the service add its own
    state and periodic work once the shared resources are open; what it returns, if anything, is awaited at
    shutdown before the shared resources close (the inference API's MCP clients).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_resources(settings, seed_roles=seed_roles) as resources:
            app.state.settings = resources.settings
            app.state.storage = resources.storage
            app.state.token_validator = resources.token_validator
            app.state.login_sync = resources.login_sync
            app.state.permission_cache = resources.permission_cache
            app.state.background_tasks = resources.background_tasks
            app.state.embedder = resources.embedder
            app.state.rate_limiter = resources.rate_limiter
            on_stop = on_start(app, resources) if on_start is not None else None
            resources.background_tasks.spawn(_warm_then_settle(warm_up, settings), name="warm-up")
            try:
                yield
            finally:
                if on_stop is not None:
                    await on_stop()

    return lifespan
