"""The app API's composition root: settings, storage and auth are opened once, in the lifespan."""

from __future__ import annotations

from fastapi import FastAPI

from apis.app_api.assistants.documents_router import router as documents_router
from apis.app_api.assistants.documents_router import signed_router as documents_signed_router
from apis.app_api.assistants.knowledge_runtime import start_knowledge
from apis.app_api.assistants.router import router as assistants_router
from apis.app_api.assistants.test_chat import router as test_chat_router
from apis.app_api.auth.local_page import router as local_sign_in_router
from apis.app_api.auth.router import router as auth_router
from apis.app_api.chat.router import router as chat_router
from apis.app_api.costs.admin_router import router as admin_costs_router
from apis.app_api.costs.router import router as costs_router
from apis.app_api.files.router import router as files_router
from apis.app_api.files.startup import start_files
from apis.app_api.health.router import router as health_router
from apis.app_api.memory.router import router as memory_router
from apis.app_api.models.router import router as models_router
from apis.app_api.providers.router import router as providers_router
from apis.app_api.quota.router import router as quota_router
from apis.app_api.rbac.router import router as roles_router
from apis.app_api.sessions.router import router as sessions_router
from apis.app_api.tools.admin_router import router as admin_tools_router
from apis.app_api.tools.router import router as tools_router
from apis.app_api.tools.runtime import start_tools
from apis.app_api.users.admin_router import router as admin_users_router
from apis.app_api.users.router import router as users_router
from apis.shared.bootstrap import ServiceResources, resources_lifespan, service_version
from apis.shared.config import Settings, load_settings
from apis.shared.http import install_common


def start_services(app: FastAPI, resources: ServiceResources) -> None:
    """The app API's own state and periodic work, once the shared resources are open."""
    start_files(app, resources)
    start_knowledge(app, resources)
    start_tools(app, resources)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app API; called by uvicorn at start (factory mode) or by tests with their own settings."""
    settings = settings or load_settings()

    app = FastAPI(
        title="Colloquy app API",
        version=service_version(),
        description="Conversations, attachments, models, assistants, users, costs and memory.",
        lifespan=resources_lifespan(settings, seed_roles=True, on_start=start_services),
    )
    install_common(
        app,
        service="app-api",
        retry_after_seconds=settings.storage.storage_retry_after_seconds,
        cors_origins=settings.http.cors_origins,
    )
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(local_sign_in_router)
    app.include_router(sessions_router)
    app.include_router(chat_router)
    app.include_router(files_router)
    # The signed routes first: their fixed segments must not be read as an assistant's id.
    app.include_router(documents_signed_router)
    app.include_router(assistants_router)
    app.include_router(documents_router)
    app.include_router(test_chat_router)
    app.include_router(users_router)
    app.include_router(admin_users_router)
    app.include_router(costs_router)
    app.include_router(admin_costs_router)
    app.include_router(roles_router)
    app.include_router(models_router)
    app.include_router(providers_router)
    app.include_router(quota_router)
    app.include_router(tools_router)
    app.include_router(admin_tools_router)
    app.include_router(memory_router)
    return app
