"""One chat turn: every check that can fail with a plain HTTP error first, then the stream.

`prepare_turn` runs before any byte is sent, so its failures are ordinary JSON errors (API.md §1). Once the
stream has begun, failures become a `stream_error` frame followed by `done`, and what the model said is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from apis.inference_api.invocations.schemas import InvocationRequest
from apis.inference_api.invocations.sse import frame
from apis.inference_api.invocations.translator import StreamTranslator
from apis.inference_api.ping import ActiveTurns
from apis.shared.auth import AuthenticatedUser
from apis.shared.clock import new_id
from apis.shared.config import InferenceSettings
from apis.shared.costs import cost_of_usage
from apis.shared.errors import ForbiddenError, NotFoundError, ProviderUnavailableError, RuleViolation, StorageError
from apis.shared.models import ManagedModel, ModelRepository, managed_models
from apis.shared.observability import PROVIDER_SECONDS, STREAMS, TIME_TO_FIRST_BYTE_SECONDS, TOKENS
from apis.shared.providers import LocalChatModel
from apis.shared.rbac import EffectivePermissions
from apis.shared.sessions import (
    Latency,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionMetadata,
    SessionRepository,
)
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions import metadata as sessions_service

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """A turn that passed every check, with its user message already stored."""

    user_id: str
    session: SessionMetadata
    model: ManagedModel
    request: InvocationRequest
    started: float


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


def check_tools(request: InvocationRequest, permissions: EffectivePermissions) -> None:
    """Each requested tool must be granted to the caller (403); none is built in yet, so a granted one is 400."""
    for tool_id in request.enabled_tools or []:
        if not permissions.allows_tool(tool_id):
            raise ForbiddenError(f"tool {tool_id!r} is not allowed for your roles", code="tool_not_allowed")
        raise RuleViolation(f"unknown tool {tool_id!r}", code="unknown_tool")


def check_unavailable_features(request: InvocationRequest) -> None:
    """Refuse what this server cannot do yet, rather than dropping it silently."""
    if request.files or request.file_upload_ids:
        raise RuleViolation("this server does not accept attachments yet", code="attachments_unsupported")
    if request.assistant_id:
        raise NotFoundError(f"assistant {request.assistant_id} not found", code="assistant_not_found")


async def prepare_turn(
    *,
    request: InvocationRequest,
    header_session_id: str | None,
    user: AuthenticatedUser,
    sessions: SessionRepository,
    models: ModelRepository,
    permissions: EffectivePermissions,
) -> PreparedTurn:
    """Validate the request, resolve session and model, and store the user message (API.md §1 order)."""
    started = time.perf_counter()
    session_id = resolve_session_id(request.session_id, header_session_id)
    model = await managed_models.resolve_for_turn(
        models=models, permissions=permissions, model_id=request.model_id, provider=request.provider
    )
    if model.provider != "local":
        raise ProviderUnavailableError(
            f"the {model.provider} provider cannot run chat turns on this server yet; use a local model",
            code="provider_not_wired",
        )
    check_tools(request, permissions)
    check_unavailable_features(request)
    user_message = messages_service.new_message(MessageRole.USER, [{"text": request.message}])
    session, created = await sessions_service.get_or_create(
        sessions=sessions, user_id=user.user_id, session_id=session_id, first_message=user_message
    )
    if not created:
        session = await messages_service.append(
            sessions=sessions, user_id=user.user_id, session_id=session_id, message=user_message
        )
    return PreparedTurn(user_id=user.user_id, session=session, model=model, request=request, started=started)


def _metadata_frame(translator: StreamTranslator, *, cost: float, latency: Latency) -> str:
    return frame(
        "metadata",
        {
            "usage": translator.usage.model_dump(by_alias=True),
            "metrics": {"latencyMs": latency.latency_ms, "timeToFirstByteMs": latency.time_to_first_byte_ms},
            "cost": cost,
        },
    )


async def stream_turn(
    turn: PreparedTurn, *, sessions: SessionRepository, settings: InferenceSettings, active: ActiveTurns
) -> AsyncIterator[str]:
    """The SSE body of a prepared turn: model events, then the stored assistant message, then `done`."""
    model = LocalChatModel(
        words_per_delta=settings.local_provider_delta_words, delta_delay_ms=settings.local_provider_delta_delay_ms
    )
    translator = StreamTranslator(message_id=new_id())
    first_byte_ms: float | None = None
    outcome = "complete"
    active.enter()
    try:
        prompt: list[dict[str, Any]] = [{"role": "user", "content": [{"text": turn.request.message}]}]
        call_started = time.perf_counter()
        async for event in model.stream(prompt, system_prompt=turn.request.system_prompt):
            for name, data in translator.translate(event):
                if first_byte_ms is None and name == "content_block_delta":
                    first_byte_ms = (time.perf_counter() - turn.started) * 1000
                    TIME_TO_FIRST_BYTE_SECONDS.labels(model.provider).observe(first_byte_ms / 1000)
                yield frame(name, data)
        PROVIDER_SECONDS.labels(model.provider).observe(time.perf_counter() - call_started)
        latency = Latency(
            time_to_first_byte_ms=round(first_byte_ms, 3) if first_byte_ms is not None else None,
            latency_ms=round((time.perf_counter() - turn.started) * 1000, 3),
        )
        cost = cost_of_usage(translator.usage, turn.model.pricing())
        yield _metadata_frame(translator, cost=cost, latency=latency)
        TOKENS.labels(model.provider, "input").inc(translator.usage.input_tokens)
        TOKENS.labels(model.provider, "output").inc(translator.usage.output_tokens)
        try:
            await _store_answer(turn, translator, sessions=sessions, latency=latency, cost=cost)
        except StorageError as exc:
            outcome = "storage_error"
            yield frame("stream_error", {"code": "storage_unavailable", "message": exc.detail, "recoverable": True})
        else:
            yield _metadata_frame(translator, cost=cost, latency=latency)
        yield frame("done", {})
    except (GeneratorExit, asyncio.CancelledError):
        outcome = "interrupted"  # the client went away; storing the partial answer is the chat-turn issue's work
        raise
    finally:
        active.leave()
        STREAMS.labels(outcome).inc()


async def _store_answer(
    turn: PreparedTurn,
    translator: StreamTranslator,
    *,
    sessions: SessionRepository,
    latency: Latency,
    cost: float,
) -> None:
    metadata = MessageMetadata(
        token_usage=translator.usage,
        latency=latency,
        model_info=ModelInfo(
            model_id=turn.model.model_id,
            model_name=turn.model.model_name,
            provider=turn.model.provider,
            pricing_snapshot=turn.model.pricing(),
        ),
        cost=cost,
    )
    answer = messages_service.new_message(
        MessageRole.ASSISTANT,
        translator.content(),
        status=MessageStatus.COMPLETE,
        metadata=metadata,
        message_id=translator.message_id,
    )
    await messages_service.append(
        sessions=sessions, user_id=turn.user_id, session_id=turn.session.session_id, message=answer
    )
