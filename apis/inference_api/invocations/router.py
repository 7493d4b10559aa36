"""POST /invocations: one chat turn streamed as server-sent events (API.md §1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from apis.inference_api.deps import (
    ActiveTurnsDep,
    AppSettings,
    CallerPermissions,
    CurrentUser,
    ModelsRepo,
    SessionsRepo,
)
from apis.inference_api.invocations.schemas import InvocationRequest
from apis.inference_api.invocations.turn import prepare_turn, stream_turn

router = APIRouter(tags=["runtime"])

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


@router.post(
    "/invocations",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the turn as server-sent events"}},
)
async def invocations(
    body: InvocationRequest,
    user: CurrentUser,
    sessions: SessionsRepo,
    models: ModelsRepo,
    permissions: CallerPermissions,
    settings: AppSettings,
    active: ActiveTurnsDep,
    session_header: Annotated[str | None, Header(alias=SESSION_HEADER, max_length=128)] = None,
) -> StreamingResponse:
    """Check and store the user's message, then stream the model's answer and store it too."""
    turn = await prepare_turn(
        request=body,
        header_session_id=session_header,
        user=user,
        sessions=sessions,
        models=models,
        permissions=permissions,
    )
    return StreamingResponse(
        stream_turn(turn, sessions=sessions, settings=settings.inference, active=active),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "X-Session-ID": turn.session.session_id,
        },
    )
