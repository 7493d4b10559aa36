"""The inference API's composition root: settings, storage and auth are opened once, in the lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from apis.inference_api.invocations.router import router as invocations_router
from apis.inference_api.ping import ActiveTurns
from apis.inference_api.ping import router as ping_router
from apis.shared.bootstrap import OnStop, ServiceResources, resources_lifespan, service_version
from apis.shared.config import Settings, load_settings
from apis.shared.http import install_common
from apis.shared.providers.warm_up import preload
from apis.shared.tools.mcp.pool import McpClientPool
from apis.shared.tools.mcp_servers import open_secret_box
from apis.shared.tools.turn_tools import TurnToolbox
from apis.shared.turns.quota_gate import QuotaGate


def preload_providers(settings: Settings) -> None:
    """The turn's libraries, loaded in the background right after start."""
    preload(settings.providers)


def start_turn_services(app: FastAPI, resources: ServiceResources) -> OnStop:
    """The turn's quota check (with its per-process cache of resolved tiers) and its toolbox (the cached tool
    catalogue and one MCP client per server, shared by every turn); the MCP clients are stopped at shutdown."""
    settings = resources.settings
    app.state.quota_gate = QuotaGate(
        quotas=resources.storage.quotas,
        costs=resources.storage.costs,
        cache_seconds=settings.inference.quota_cache_seconds,
    )
    pool = McpClientPool(settings.tools)
    app.state.toolbox = TurnToolbox(
        tools=resources.storage.tools,
        settings=settings.tools,
        mcp=pool,
        box=open_secret_box(settings),
        ttl_seconds=settings.auth.permission_cache_seconds,
    )
    return pool.close


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the inference API; called by uvicorn at start (factory mode) or by tests with their own settings."""
    settings = settings or load_settings()

    app = FastAPI(
        title="Colloquy inference API",
        version=service_version(),
        description="The Bedrock AgentCore Runtime contract: GET /ping and POST /invocations.",
        lifespan=resources_lifespan(
            settings, seed_roles=False, warm_up=preload_providers, on_start=start_turn_services
        ),
    )
    app.state.active_turns = ActiveTurns()
    install_common(
        app,
        service="inference-api",
        retry_after_seconds=settings.storage.storage_retry_after_seconds,
        cors_origins=settings.http.cors_origins,
    )
    app.include_router(ping_router)
    app.include_router(invocations_router)
    return app
