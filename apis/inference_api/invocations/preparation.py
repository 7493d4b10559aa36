"""Everything a turn checks and resolves before a byte is streamed; each failure is a plain HTTP error.

In API.md §1's order: session (404 if someone else's), model (400 unknown or disabled, 403 not allowed, 503
provider not configured), tools (403 not granted, 400 unknown), attachments and assistant; then the user
message is stored, so it is kept even if the model fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apis.inference_api.invocations.schemas import InvocationRequest
from apis.shared.auth import AuthenticatedUser
from apis.shared.clock import utc_now
from apis.shared.config import Settings
from apis.shared.errors import ForbiddenError, NotFoundError, RuleViolation
from apis.shared.models import ManagedModel, ModelRepository, managed_models
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.rbac import EffectivePermissions
from apis.shared.sessions import MessageRole, SessionMetadata, SessionRepository
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions import metadata as sessions_service
from apis.shared.sessions.history import provider_history
from apis.shared.tools import BUILTIN_TOOL_IDS, load_tool

if TYPE_CHECKING:
    from strands.models import Model


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """A turn that passed every check, with its user message stored and its history loaded."""

    user_id: str
    session: SessionMetadata
    model: ManagedModel
    chat_model: Model
    request: InvocationRequest
    history: list[dict[str, Any]]
    tools: list[Any]
    system_prompt: str
    started: float
    created_session: bool


def resolve_session_id(body_session_id: str | None, header_session_id: str | None) -> str:
    if body_session_id and header_session_id and body_session_id != header_session_id:
        raise RuleViolation("session_id in the body and the session header disagree", code="session_mismatch")
    session_id = body_session_id or header_session_id
    if not session_id:
        raise RuleViolation(
            "session_id is required, in the body or the X-Amzn-Bedrock-AgentCore-Runtime-Session-Id header",
            code="session_required",
        )
    return session_id


def resolve_tools(requested: list[str] | None, permissions: EffectivePermissions) -> list[Any]:
    """The tools the caller asked for: each must be granted (403) and exist (400)."""
    tools = []
    for tool_id in dict.fromkeys(requested or []):
        if not permissions.allows_tool(tool_id):
            raise ForbiddenError(f"tool {tool_id!r} is not allowed for your roles", code="tool_not_allowed")
        if tool_id not in BUILTIN_TOOL_IDS:
            raise RuleViolation(f"unknown tool {tool_id!r}", code="unknown_tool")
        tools.append(load_tool(tool_id))
    return tools


def check_unavailable_features(request: InvocationRequest) -> None:
    """Refuse what this server cannot do yet, rather than dropping it silently."""
    if request.files or request.file_upload_ids:
        raise RuleViolation("this server does not accept attachments yet", code="attachments_unsupported")
    if request.assistant_id:
        raise NotFoundError(f"assistant {request.assistant_id} not found", code="assistant_not_found")


def default_system_prompt() -> str:
    """Dated, so that the model knows what "today" is."""
    today = utc_now().strftime("%A %d %B %Y")
    return (
        "You are a helpful assistant in a chat application. Answer clearly and concisely, and say so when you "
        f"are not sure. Today is {today} (UTC)."
    )


async def prepare_turn(
    *,
    request: InvocationRequest,
    header_session_id: str | None,
    user: AuthenticatedUser,
    sessions: SessionRepository,
    models: ModelRepository,
    permissions: EffectivePermissions,
    settings: Settings,
) -> PreparedTurn:
    """Validate the request, resolve session, model and tools, load history, and store the user message."""
    started = time.perf_counter()
    session_id = resolve_session_id(request.session_id, header_session_id)
    model = await managed_models.resolve_for_turn(
        models=models, permissions=permissions, model_id=request.model_id, provider=request.provider
    )
    options = TurnOptions(request.temperature, request.max_tokens, bool(request.caching_enabled))
    chat_model = build_chat_model(
        model, options, providers=settings.providers, inference=settings.inference, region=settings.storage.aws_region
    )
    tools = resolve_tools(request.enabled_tools, permissions)
    check_unavailable_features(request)
    user_message = messages_service.new_message(MessageRole.USER, [{"text": request.message}])
    session, created = await sessions_service.get_or_create(
        sessions=sessions, user_id=user.user_id, session_id=session_id, first_message=user_message
    )
    history: list[dict[str, Any]] = []
    if not created:
        recent = await sessions.list_recent_messages(
            user.user_id, session_id, limit=settings.inference.history_max_messages
        )
        history = provider_history(recent)
        session = await messages_service.append(
            sessions=sessions, user_id=user.user_id, session_id=session_id, message=user_message
        )
    return PreparedTurn(
        user_id=user.user_id,
        session=session,
        model=model,
        chat_model=chat_model,
        request=request,
        history=history,
        tools=tools,
        system_prompt=request.system_prompt or default_system_prompt(),
        started=started,
        created_session=created,
    )
