"""What an assistant adds to a turn: the check that it may be used here, its instructions, and its knowledge.

The reference's rules: an assistant is attached to a conversation by its first turn and stays; naming another
one later, or one for a conversation that already has messages without it, is refused (409 here: the state of
the conversation conflicts with the request) before anything is stored. The caller must be able to read the
assistant (own, shared with their email, or public), or it is a 404 that does not reveal it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from apis.shared.assistants import (
    Assistant,
    AssistantRepository,
    Citation,
    DocumentRepository,
    Embedder,
    KnowledgeIndex,
)
from apis.shared.assistants import service as assistants_service
from apis.shared.config import KnowledgeSettings
from apis.shared.costs import CostRepository
from apis.shared.errors import ConflictError
from apis.shared.knowledge import Retrieval, retrieve
from apis.shared.knowledge.metering import meter_embedding
from apis.shared.sessions import SessionRepository


@dataclass(frozen=True, slots=True)
class KnowledgeBases:
    """The ports a turn reads assistants and their knowledge through, and the embedding model if configured."""

    assistants: AssistantRepository
    documents: DocumentRepository
    index: KnowledgeIndex
    embedder: Embedder | None
    settings: KnowledgeSettings
    # Where a query's embedding is metered, for the user it serves.
    costs: CostRepository


@dataclass(frozen=True, slots=True)
class AssistantContext:
    """The assistant of a turn, and what its knowledge base found for the turn's message."""

    assistant: Assistant
    retrieval: Retrieval

    @property
    def citations(self) -> list[Citation]:
        return self.retrieval.citations


class AssistantSwitched(ConflictError):
    """The conversation belongs to another assistant, or began without one."""

    code = "assistant_switched"


async def check_attachable(*, sessions: SessionRepository, user_id: str, session_id: str, assistant_id: str) -> None:
    """409 if the conversation has another assistant, or messages and no assistant (the reference's rules)."""
    session = await sessions.get_session(user_id, session_id)
    if session is None:
        return  # new (or someone else's, which the session step answers with a 404)
    attached = session.preferences.assistant_id
    if attached is not None and attached != assistant_id:
        raise AssistantSwitched("this conversation is with another assistant: start a new conversation to use this one")
    if attached is None and session.message_count > 0:
        raise AssistantSwitched(
            "an assistant can only be attached to a new conversation: start one to chat with this assistant"
        )


async def assistant_for_turn(
    *,
    bases: KnowledgeBases,
    sessions: SessionRepository,
    user_id: str,
    email: str | None,
    session_id: str,
    assistant_id: str,
    message: str,
) -> AssistantContext:
    """The assistant (404 unless the caller may read it; 409 per the rules above) and its retrieval."""
    assistant = await assistants_service.get_readable_or_raise(
        assistants=bases.assistants, assistant_id=assistant_id, user_id=user_id, email=email
    )
    await check_attachable(sessions=sessions, user_id=user_id, session_id=session_id, assistant_id=assistant_id)
    return AssistantContext(assistant=assistant, retrieval=await knowledge_for(bases, assistant, message, user_id))


async def knowledge_for(bases: KnowledgeBases, assistant: Assistant, message: str, user_id: str) -> Retrieval:
    """The assistant's passages for `message`, within the context budget, with their citations; the query's
    embedding (when a model embeds) is metered for `user_id`."""
    retrieval = await retrieve(
        knowledge=bases.index,
        documents=bases.documents,
        embedder=bases.embedder,
        assistant_id=assistant.assistant_id,
        query=message,
        top_k=bases.settings.knowledge_top_k,
        max_chars=bases.settings.knowledge_context_max_chars,
    )
    if bases.embedder is not None and message.strip():
        await meter_embedding(
            costs=bases.costs, user_id=user_id, embedder=bases.embedder, settings=bases.settings, texts=[message]
        )
    return retrieval


def system_prompt_with(base_prompt: str, assistant: Assistant) -> str:
    """The dated base prompt followed by the assistant's instructions (appended, as the reference does)."""
    if not assistant.instructions.strip():
        return base_prompt
    return f"{base_prompt}\n\n## Assistant-specific instructions\n\n{assistant.instructions.strip()}"
