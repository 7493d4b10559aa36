"""Validation dependencies of the assistants routes: load the assistant and check the caller's access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from apis.app_api.deps import AssistantsRepo, CurrentUser
from apis.shared.assistants import Assistant
from apis.shared.assistants import service as assistants_service

AssistantIdPath = Annotated[str, Path(min_length=1, max_length=128, description="the assistant's id")]


async def valid_readable_assistant(
    assistant_id: AssistantIdPath, user: CurrentUser, assistants: AssistantsRepo
) -> Assistant:
    """An assistant the caller may read (own, shared with their email, or public); 404 otherwise."""
    return await assistants_service.get_readable_or_raise(
        assistants=assistants, assistant_id=assistant_id, user_id=user.user_id, email=user.email
    )


async def valid_owned_assistant(
    assistant_id: AssistantIdPath, user: CurrentUser, assistants: AssistantsRepo
) -> Assistant:
    """The caller's own assistant; 403 for one they may only read, 404 for any other."""
    return await assistants_service.get_owned_or_raise(
        assistants=assistants, assistant_id=assistant_id, user_id=user.user_id, email=user.email
    )


ReadableAssistant = Annotated[Assistant, Depends(valid_readable_assistant)]
OwnedAssistant = Annotated[Assistant, Depends(valid_owned_assistant)]
