"""FastAPI dependencies that both services share: what the lifespan put on `app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apis.shared.config import Settings
from apis.shared.sessions import SessionRepository
from apis.shared.storage import Storage


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_sessions(request: Request) -> SessionRepository:
    return get_storage(request).sessions


AppSettings = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
SessionsRepo = Annotated[SessionRepository, Depends(get_sessions)]
