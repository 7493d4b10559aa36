"""The app API's tool state: the key that seals MCP servers' credentials, and the scheduled discovery."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from apis.shared.bootstrap import ServiceResources
from apis.shared.storage import Storage
from apis.shared.tools.mcp.secrets import SecretBox
from apis.shared.tools.mcp_servers import open_secret_box, sync_all_servers
from apis.shared.tools.repository import ToolRepository

logger = logging.getLogger(__name__)


def start_tools(app: FastAPI, resources: ServiceResources) -> None:
    """Open the secret box and schedule discovery. Without MCP_SECRETS_KEY on DynamoDB there is no box: servers
    without credentials still work, and a request that must seal or open one is answered 503 saying why."""
    settings = resources.settings
    box = open_secret_box(settings)
    app.state.secret_box = box
    interval = settings.tools.mcp_sync_interval_seconds
    if interval > 0:
        storage = resources.storage
        resources.background_tasks.every(
            interval, lambda: sync_all_servers(storage.tools, settings.tools, box), name="mcp-discovery"
        )


async def get_secret_box(request: Request) -> SecretBox | None:
    box: SecretBox | None = request.app.state.secret_box
    return box


async def get_tools(request: Request) -> ToolRepository:
    storage: Storage = request.app.state.storage
    return storage.tools


SecretBoxDep = Annotated[SecretBox | None, Depends(get_secret_box)]
ToolsRepo = Annotated[ToolRepository, Depends(get_tools)]
