"""POST /invocations: one chat turn streamed as server-sent events (API.md §1)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from apis.inference_api.deps import CallerPermissions, CurrentUser
from apis.inference_api.invocations.after_turn import after_turn
from apis.inference_api.invocations.quota_refusal import refused_by_quota
from apis.inference_api.invocations.refusals import refused_stream
from apis.inference_api.invocations.runner import TurnRun
from apis.inference_api.invocations.schemas import SESSION_HEADER, InvocationRequest
from apis.inference_api.invocations.turn_store import TurnStore
from apis.inference_api.ping import ActiveTurns
from apis.shared.assistants import Embedder
from apis.shared.background import BackgroundTasks
from apis.shared.config import Settings
from apis.shared.quota import warning_event
from apis.shared.rate_limits import RateLimited, TurnRateLimiter
from apis.shared.sessions import SessionId
from apis.shared.storage import Storage
from apis.shared.tools.turn_tools import TurnToolbox
from apis.shared.turns import KnowledgeBases, TurnMemory, prepare_turn
from apis.shared.turns.quota_gate import QuotaGate

router = APIRouter(tags=["runtime"])


@router.post(
    "/invocations",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the turn as server-sent events"}},
)
async def invocations(
    request: Request,
    body: InvocationRequest,
    user: CurrentUser,
    permissions: CallerPermissions,
    # The same type as the body's `session_id`: an id the session routes could never address is a 422 here too.
    session_header: Annotated[SessionId | None, Header(alias=SESSION_HEADER)] = None,
) -> StreamingResponse:
    """Check and store the user's message, run the model, and stream its answer while storing it."""
    started = time.perf_counter()
    # What the service's startup put on app.state, read here rather than as one dependency each: FastAPI spends
    # about 10 us solving each dependency of every request, and this route is a turn's hot path.
    state = request.app.state
    storage: Storage = state.storage
    settings: Settings = state.settings
    active: ActiveTurns = state.active_turns
    embedder: Embedder | None = state.embedder
    limiter: TurnRateLimiter = state.rate_limiter
    quota_gate: QuotaGate = state.quota_gate
    toolbox: TurnToolbox = state.toolbox
    turn_request = body.turn_request(header_session_id=session_header)
    try:
        limiter.check_and_count(user.user_id)
    except RateLimited as limited:
        return refused_stream(limited, session_id=turn_request.session_id)
    decision = await quota_gate.check(
        user_id=user.user_id,
        email=user.email,
        jwt_roles=user.roles,
        app_roles=permissions.app_roles,
        session_id=turn_request.session_id,
    )
    if not decision.check.allowed:
        return await refused_by_quota(
            decision.check,
            sessions=storage.sessions,
            user_id=user.user_id,
            session_id=turn_request.session_id,
            message=turn_request.message,
        )
    warning = warning_event(decision.check)
    turn = await prepare_turn(
        request=turn_request,
        user_id=user.user_id,
        email=user.email,
        permissions=permissions,
        sessions=storage.sessions,
        models=storage.models,
        files=storage.files,
        blobs=storage.blobs,
        knowledge_bases=KnowledgeBases(
            assistants=storage.assistants,
            documents=storage.documents,
            index=storage.knowledge,
            embedder=embedder,
            settings=settings.knowledge,
            costs=storage.costs,
        ),
        toolbox=toolbox,
        settings=settings,
        started=started,
        quota_warning=warning.model_dump(by_alias=True) if warning is not None else None,
        memory=TurnMemory(memories=storage.memories, costs=storage.costs),
    )
    run = TurnRun(
        turn,
        store=TurnStore(turn=turn, sessions=storage.sessions),
        active=active,
        keepalive_seconds=settings.inference.keepalive_seconds,
        checkpoint_seconds=settings.inference.turn_checkpoint_seconds,
        abandoned_after_seconds=settings.inference.turn_abandoned_after_seconds,
        after_success=after_turn(turn=turn, storage=storage, settings=settings),
    )
    tasks: BackgroundTasks = request.app.state.background_tasks
    run.start(tasks)
    # A provider that fails before its first event is a plain 502 (or 503), not a stream.
    await run.wait_for_first_event(settings.inference.provider_first_event_wait_seconds)
    return StreamingResponse(
        run.relay(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Session-ID": turn.session.session_id},
    )
