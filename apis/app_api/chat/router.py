"""Chat helpers outside a turn: naming a conversation (API.md "Chat helpers")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import StringConstraints

from apis.app_api.deps import AppSettings, CostsRepo, CurrentUser, ModelCallAllowed, ModelsRepo, SessionsRepo
from apis.shared.schemas import ApiModel
from apis.shared.sessions import SessionChanges, SessionId
from apis.shared.sessions import metadata as sessions_service
from apis.shared.turns import title_for

router = APIRouter(prefix="/chat", tags=["chat"])


class TitleIn(ApiModel):
    session_id: SessionId
    input: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class TitleOut(ApiModel):
    title: str
    session_id: str


@router.post("/generate-title", response_model=TitleOut, dependencies=[ModelCallAllowed])
async def generate_session_title(
    body: TitleIn,
    user: CurrentUser,
    sessions: SessionsRepo,
    models: ModelsRepo,
    costs: CostsRepo,
    settings: AppSettings,
) -> TitleOut:
    """Name the caller's session from `input` and store the title; a provider failure is 502, title kept."""
    await sessions_service.get_or_raise(sessions=sessions, user_id=user.user_id, session_id=body.session_id)
    title = await title_for(models=models, costs=costs, settings=settings, user_id=user.user_id, text=body.input)
    updated = await sessions_service.update(
        sessions=sessions, user_id=user.user_id, session_id=body.session_id, changes=SessionChanges(title=title)
    )
    return TitleOut(title=updated.title, session_id=updated.session_id)
