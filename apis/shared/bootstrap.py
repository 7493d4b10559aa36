"""What both services open at start and close at shutdown: logging, storage and the token validator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from apis.shared.auth import TokenValidator, build_token_validator
from apis.shared.config import Settings
from apis.shared.observability import configure_logging
from apis.shared.storage import Storage, open_storage


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


@asynccontextmanager
async def service_resources(settings: Settings) -> AsyncIterator[ServiceResources]:
    """Open storage and auth once for the life of a service; a failure here stops the start."""
    configure_logging(level=settings.observability.log_level, fmt=settings.observability.log_format)
    storage = await open_storage(settings.storage)
    try:
        validator = build_token_validator(settings)
        yield ServiceResources(settings=settings, storage=storage, token_validator=validator)
    finally:
        await storage.close()


def resources_lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that opens the service's resources and puts them on `app.state`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_resources(settings) as resources:
            app.state.settings = resources.settings
            app.state.storage = resources.storage
            app.state.token_validator = resources.token_validator
            yield

    return lifespan
