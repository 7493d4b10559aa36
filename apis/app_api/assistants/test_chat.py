"""POST /assistants/{assistant_id}/test-chat: the owner tries an assistant before using it, nothing stored.

As the reference: owner only; 400 until at least one document is complete; a `debug` event first with the
passages retrieved (the reference's `rag_debug`), then the answer of the default model with the assistant's
instructions and those passages, in the chat's SSE vocabulary.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import StringConstraints

from apis.app_api.assistants.dependencies import OwnedAssistant
from apis.app_api.deps import (
    AppSettings,
    CallerPermissions,
    CurrentUser,
    DocumentsRepo,
    EmbedderDep,
    ModelCallAllowed,
    StorageDep,
)
from apis.shared.assistants import Assistant, DocumentRepository, DocumentStatus
from apis.shared.clock import new_id
from apis.shared.errors import RuleViolation
from apis.shared.knowledge import Retrieval
from apis.shared.models import managed_models
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.schemas import ApiModel
from apis.shared.turns import KnowledgeBases
from apis.shared.turns.assistant_context import knowledge_for, system_prompt_with
from apis.shared.turns.ephemeral import stream_ephemeral
from apis.shared.turns.metering import meter_call
from apis.shared.turns.preparation import default_system_prompt
from apis.shared.turns.sse import frame

router = APIRouter(prefix="/assistants", tags=["assistants"])
_DEBUG_EXCERPT_CHARS = 500


class TestChatIn(ApiModel):
    message: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    session_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class NoCompleteDocuments(RuleViolation):
    """A test chat needs a knowledge base to test: at least one document processed."""

    code = "no_processed_documents"


@router.post(
    "/{assistant_id}/test-chat",
    dependencies=[ModelCallAllowed],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the answer as server-sent events"}},
)
async def test_chat(
    body: TestChatIn,
    assistant: OwnedAssistant,
    user: CurrentUser,
    permissions: CallerPermissions,
    storage: StorageDep,
    documents: DocumentsRepo,
    embedder: EmbedderDep,
    settings: AppSettings,
) -> StreamingResponse:
    """The default model's answer with the assistant's instructions and retrieved passages, not stored."""
    await _require_complete_document(documents, assistant)
    model = await managed_models.resolve_for_turn(
        models=storage.models, permissions=permissions, model_id=None, provider=None
    )
    chat_model = build_chat_model(
        model,
        TurnOptions(None, None, False),
        providers=settings.providers,
        inference=settings.inference,
        region=settings.storage.aws_region,
    )
    bases = KnowledgeBases(
        assistants=storage.assistants,
        documents=documents,
        index=storage.knowledge,
        embedder=embedder,
        settings=settings.knowledge,
        costs=storage.costs,
    )
    retrieval = await knowledge_for(bases, assistant, body.message, user.user_id)
    prompt = [{"text": retrieval.context}] if retrieval.context else []
    session_id = body.session_id or f"test-{new_id()}"
    frames = stream_ephemeral(
        chat_model=chat_model,
        provider=model.provider,
        system_prompt=system_prompt_with(default_system_prompt(), assistant),
        prompt=[*prompt, {"text": body.message}],
        leading_frames=[frame("debug", _debug(retrieval))],
        keepalive_seconds=settings.inference.keepalive_seconds,
        meter=lambda usage: meter_call(costs=storage.costs, user_id=user.user_id, model=model, usage=usage),
    )
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Session-ID": session_id},
    )


async def _require_complete_document(documents: DocumentRepository, assistant: Assistant) -> None:
    """400 unless a document is complete; reads pages only until one is found."""
    after = None
    while page := await documents.list_documents(assistant.assistant_id, after=after, limit=100):
        if any(document.status is DocumentStatus.COMPLETE for document in page):
            return
        after = (page[-1].created_at, page[-1].document_id)
    raise NoCompleteDocuments(
        "this assistant has no processed documents: upload a document and wait for it to be processed first"
    )


def _debug(retrieval: Retrieval) -> dict[str, object]:
    """What the retrieval found, as the reference's test chat reports it."""
    return {
        "type": "rag_debug",
        "chunk_count": len(retrieval.hits),
        "chunks": [
            {
                "index": number,
                "text": hit.text[:_DEBUG_EXCERPT_CHARS] + ("..." if len(hit.text) > _DEBUG_EXCERPT_CHARS else ""),
                "score": round(hit.score, 6),
                "key": f"{hit.document_id}#{hit.index}",
                "source": hit.filename,
            }
            for number, hit in enumerate(retrieval.hits, start=1)
        ],
    }
