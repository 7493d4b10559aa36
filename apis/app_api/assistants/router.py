"""Assistants: draft, create, list (own, shared with me, public), read, update, archive, delete, shares by email."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from apis.app_api.assistants.dependencies import OwnedAssistant, ReadableAssistant
from apis.app_api.assistants.schemas import (
    AssistantCreate,
    AssistantDraftIn,
    AssistantPage,
    AssistantRead,
    SharesIn,
    SharesOut,
)
from apis.app_api.deps import AssistantsRepo, BlobsStore, CurrentUser, DocumentsRepo, KnowledgeIdx
from apis.shared.assistants import AssistantUpdate, AssistantView
from apis.shared.assistants import service as assistants_service
from apis.shared.knowledge import documents_service
from apis.shared.pagination import Page

router = APIRouter(prefix="/assistants", tags=["assistants"])

NextToken = Annotated[str | None, Query(max_length=2048, description="the nextToken of the previous page")]
# Without `limit` the whole list is answered, read this many at a time: the reference client sends no limit
# and never follows a token, so a default page would hide the rest from it.
_WHOLE_LIST_CHUNK = 200


@router.post("/draft", response_model=AssistantRead, response_model_exclude_none=True)
async def create_draft(body: AssistantDraftIn, user: CurrentUser, assistants: AssistantsRepo) -> AssistantRead:
    """A DRAFT with an id at once (the reference answers 200, as here)."""
    draft = await assistants_service.create_draft(
        assistants=assistants, owner_id=user.user_id, owner_name=user.name or "", name=body.name
    )
    return AssistantRead.of(draft)


@router.post("", response_model=AssistantRead, response_model_exclude_none=True)
async def create_assistant(body: AssistantCreate, user: CurrentUser, assistants: AssistantsRepo) -> AssistantRead:
    """A COMPLETE assistant (the reference answers 200, as here)."""
    created = await assistants_service.create(
        assistants=assistants, owner_id=user.user_id, owner_name=user.name or "", assistant_in=body.fields()
    )
    return AssistantRead.of(created)


@router.get("", response_model=AssistantPage, response_model_exclude_none=True)
async def list_assistants(
    user: CurrentUser,
    assistants: AssistantsRepo,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    next_token: NextToken = None,
    include_archived: bool = False,
    include_drafts: bool = False,
    include_public: bool = False,
) -> AssistantPage:
    """Own, shared with the caller's email, and (include_public) public assistants, newest first."""
    statuses = assistants_service.statuses_listed(include_archived=include_archived, include_drafts=include_drafts)

    async def page(size: int, token: str | None) -> Page[AssistantView]:
        return await assistants_service.list_assistants(
            assistants=assistants,
            user_id=user.user_id,
            email=user.email,
            statuses=statuses,
            include_public=include_public,
            limit=size,
            page_token=token,
        )

    if limit is not None:
        one = await page(limit, next_token)
        return AssistantPage(assistants=[AssistantRead.of_view(v) for v in one.items], next_token=one.next_token)
    views: list[AssistantView] = []
    token = next_token
    while True:
        chunk = await page(_WHOLE_LIST_CHUNK, token)
        views += chunk.items
        token = chunk.next_token
        if token is None:
            return AssistantPage(assistants=[AssistantRead.of_view(v) for v in views])


@router.get("/{assistant_id}", response_model=AssistantRead, response_model_exclude_none=True)
async def get_assistant(assistant: ReadableAssistant) -> AssistantRead:
    """An assistant the caller owns, is shared with (SHARED), or that is PUBLIC; 404 otherwise."""
    return AssistantRead.of(assistant)


@router.put("/{assistant_id}", response_model=AssistantRead, response_model_exclude_none=True)
async def update_assistant(
    body: AssistantUpdate, assistant: OwnedAssistant, assistants: AssistantsRepo
) -> AssistantRead:
    """The owner's changes; only the fields sent change."""
    updated = await assistants_service.update(assistants=assistants, assistant=assistant, changes=body.changes())
    return AssistantRead.of(updated)


@router.post("/{assistant_id}/archive", response_model=AssistantRead, response_model_exclude_none=True)
async def archive_assistant(assistant: OwnedAssistant, assistants: AssistantsRepo) -> AssistantRead:
    """Status ARCHIVED: hidden from lists unless include_archived; PUT status COMPLETE restores it."""
    return AssistantRead.of(await assistants_service.archive(assistants=assistants, assistant=assistant))


@router.delete("/{assistant_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_assistant(
    assistant: OwnedAssistant,
    assistants: AssistantsRepo,
    documents: DocumentsRepo,
    knowledge: KnowledgeIdx,
    blobs: BlobsStore,
) -> Response:
    """Remove the knowledge base (documents, bytes, index entries), then the shares and the assistant.

    The assistant goes last: a failure part way is a 503 that leaves it in place, and the same DELETE finishes.
    """
    await documents_service.delete_knowledge_base(
        documents=documents, knowledge=knowledge, blobs=blobs, assistant_id=assistant.assistant_id
    )
    await assistants_service.delete(assistants=assistants, assistant=assistant)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{assistant_id}/shares", response_model=SharesOut)
async def list_shares(assistant: OwnedAssistant, assistants: AssistantsRepo) -> SharesOut:
    """The emails the assistant is shared with (owner only)."""
    return SharesOut.of(assistant.assistant_id, await assistants.list_shares(assistant.assistant_id))


@router.post("/{assistant_id}/shares", response_model=SharesOut)
async def add_shares(body: SharesIn, assistant: OwnedAssistant, assistants: AssistantsRepo) -> SharesOut:
    """Share with these emails (lower case, trimmed); the shares after the change."""
    shares = await assistants_service.share(assistants=assistants, assistant=assistant, emails=body.emails)
    return SharesOut.of(assistant.assistant_id, shares)


@router.delete("/{assistant_id}/shares", response_model=SharesOut)
async def remove_shares(body: SharesIn, assistant: OwnedAssistant, assistants: AssistantsRepo) -> SharesOut:
    """Stop sharing with these emails; the shares after the change."""
    shares = await assistants_service.unshare(assistants=assistants, assistant=assistant, emails=body.emails)
    return SharesOut.of(assistant.assistant_id, shares)
