"""Chat helpers outside a turn: naming a conversation (API.md "Chat helpers")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import StringConstraints

from apis.app_api.deps import AppSettings, CurrentUser, ModelsRepo, SessionsRepo
from apis.shared.providers.chat_models import build_chat_model
from apis.shared.schemas import ApiModel
from apis.shared.sessions import SessionChanges, SessionId
from apis.shared.sessions import metadata as sessions_service
from apis.shared.sessions.titles import TITLE_OPTIONS, generate_title, title_model

router = APIRouter(prefix="/chat", tags=["chat"])


class TitleIn(ApiModel):
    session_id: SessionId
    input: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class TitleOut(ApiModel):
    title: str
    session_id: str


@router.post("/generate-title", response_model=TitleOut)
async def generate_session_title(
    body: TitleIn, user: CurrentUser, sessions: SessionsRepo, models: ModelsRepo, settings: AppSettings
) -> TitleOut:
    """Name the caller's session from `input` and store the title; a provider failure is 502, title kept."""
    await sessions_service.get_or_raise(sessions=sessions, user_id=user.user_id, session_id=body.session_id)
    model = await title_model(models=models, title_model_id=settings.inference.title_model_id)
    chat_model = build_chat_model(
        model,
        TITLE_OPTIONS,
        providers=settings.providers,
        inference=settings.inference,
        region=settings.storage.aws_region,
    )
    title = await generate_title(chat_model=chat_model, provider=model.provider, text=body.input)
    updated = await sessions_service.update(
        sessions=sessions, user_id=user.user_id, session_id=body.session_id, changes=SessionChanges(title=title)
    )
    return TitleOut(title=updated.title, session_id=updated.session_id)
