"""Everything a turn checks and resolves before a byte is streamed, then the user message stored.

In API.md §1's order: model (400 unknown or disabled, 403 not allowed, 503 provider not configured), tools (403
not granted, 400 unknown), assistant (404 not visible, 409 another one's conversation) with its retrieval, and
attachments; then the user message is stored (404 if the session is someone else's), so it is kept even if the
model fails. Each failure is an error of `errors.py`, which the
service answers as a plain HTTP error before it streams anything.

A service over repositories and settings, not over a request: where the turn came from (its body, its
session header) is the inference API's business, and retrieval or memory will add their steps here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.assistants import Citation
from apis.shared.clock import utc_now
from apis.shared.config import Settings
from apis.shared.files import BlobStore, FileRepository
from apis.shared.models import ManagedModel, ModelRepository, managed_models
from apis.shared.providers.chat_models import TurnOptions, build_chat_model
from apis.shared.rbac import EffectivePermissions
from apis.shared.sessions import (
    Message,
    MessageRole,
    SessionMetadata,
    SessionNotFound,
    SessionPreferences,
    SessionRepository,
)
from apis.shared.sessions import messages as messages_service
from apis.shared.sessions import metadata as sessions_service
from apis.shared.tools.turn_tools import TurnToolbox
from apis.shared.turns.assistant_context import (
    AssistantContext,
    KnowledgeBases,
    assistant_for_turn,
    system_prompt_with,
)
from apis.shared.turns.attachments import (
    InlineAttachment,
    TurnAttachments,
    check_attachments,
    discard_inline,
    load_bytes,
    model_blocks,
    persist_inline,
    rehydrate_history,
)
from apis.shared.turns.compaction import HistoryCompactor, summary_section
from apis.shared.turns.history import provider_history
from apis.shared.turns.memory_turn import TurnMemory, with_memory
from apis.shared.turns.provider_input import RequestBudget
from apis.shared.turns.titles import title_without_a_call

if TYPE_CHECKING:
    from strands.models import Model


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """What the caller asks of one turn, in the turn's own terms (the inference API translates its body)."""

    session_id: str
    message: str
    model_id: str | None = None
    provider: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = None
    caching: bool = False
    enabled_tools: tuple[str, ...] = ()
    upload_ids: tuple[str, ...] = ()
    inline_files: tuple[InlineAttachment, ...] = ()
    assistant_id: str | None = None


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """A turn that passed every check, with its user message stored and its history loaded."""

    user_id: str
    session: SessionMetadata
    model: ManagedModel
    chat_model: Model
    request: TurnRequest
    history: list[dict[str, Any]]
    prompt: list[dict[str, Any]]
    tools: list[Any]
    system_prompt: str
    started: float
    # The conversation's first turn (new, or made by an upload before any message): it gets a title after.
    first_turn: bool
    # The passages of the assistant's knowledge base the model was given, as the client shows them.
    citations: list[Citation] = field(default_factory=list)
    # The `quota_warning` event's data when the caller is past their soft limit: streamed first.
    quota_warning: dict[str, Any] | None = None


def turn_preferences(request: TurnRequest, model: ManagedModel) -> SessionPreferences:
    """What the session remembers of the settings its latest turn asked for, stored with the user's message."""
    sent: dict[str, Any] = {"last_model": model.model_id, "enabled_tools": list(request.enabled_tools)}
    if request.temperature is not None:
        sent["last_temperature"] = request.temperature
    if request.assistant_id is not None:
        sent["assistant_id"] = request.assistant_id
    return SessionPreferences(**sent)


def default_system_prompt() -> str:
    """Dated, so that the model knows what "today" is."""
    today = utc_now().strftime("%A %d %B %Y")
    return (
        "You are a helpful assistant in a chat application. Answer clearly and concisely, and say so when you "
        f"are not sure. Today is {today} (UTC)."
    )


async def prepare_turn(
    *,
    request: TurnRequest,
    user_id: str,
    email: str | None,
    permissions: EffectivePermissions,
    sessions: SessionRepository,
    models: ModelRepository,
    files: FileRepository,
    blobs: BlobStore,
    knowledge_bases: KnowledgeBases,
    toolbox: TurnToolbox,
    settings: Settings,
    started: float,
    quota_warning: dict[str, Any] | None = None,
    memory: TurnMemory | None = None,
) -> PreparedTurn:
    """Resolve model, tools, assistant and attachments, retrieve from the assistant's knowledge base, load
    history, store the message (with the session if new).

    `started` is the `time.perf_counter()` of the request's arrival: the turn's latency figures count from it.
    With `memory`, the user's relevant memories join the system prompt and a long conversation's older turns
    stand there as its summary (compaction.py); without it, history is the newest HISTORY_MAX_MESSAGES.
    """
    model = await managed_models.resolve_for_turn(
        models=models, permissions=permissions, model_id=request.model_id, provider=request.provider
    )
    options = TurnOptions(request.temperature, request.max_tokens, request.caching)
    chat_model = build_chat_model(
        model, options, providers=settings.providers, inference=settings.inference, region=settings.storage.aws_region
    )
    tools = await toolbox.resolve(request.enabled_tools, permissions)
    assistant = None
    if request.assistant_id is not None:
        assistant = await assistant_for_turn(
            bases=knowledge_bases,
            sessions=sessions,
            user_id=user_id,
            email=email,
            session_id=request.session_id,
            assistant_id=request.assistant_id,
            message=request.message,
        )
    budget = RequestBudget(model.provider)  # this turn's files first; earlier ones fill what room is left
    attachments, attachment_blocks = await _attachments_of(
        request, files=files, blobs=blobs, settings=settings, user_id=user_id, budget=budget
    )
    user_message = messages_service.new_message(
        MessageRole.USER, [*attachments.stored_blocks, {"text": request.message}]
    )
    prompt = [*attachment_blocks, *_knowledge_blocks(assistant), {"text": request.message}]
    system_prompt, compactor = _system_prompt(request, assistant), None
    if memory is not None:
        system_prompt, compactor = await with_memory(
            memory,
            user_id=user_id,
            session_id=request.session_id,
            message=request.message,
            max_tokens=request.max_tokens,
            model=model,
            system_prompt=system_prompt,
            prompt=prompt,
            tools=tools,
            sessions=sessions,
            models=models,
            settings=settings,
        )
    session, first_turn, history = await _store_user_message(
        sessions=sessions,
        files=files,
        blobs=blobs,
        settings=settings,
        user_id=user_id,
        session_id=request.session_id,
        message=user_message,
        preferences=turn_preferences(request, model),
        attachments=attachments,
        budget=budget,
        compactor=compactor,
        # The offline title model's title is the message's opening words: stored with the new session, it
        # saves the after-turn work a read and a write, and the client has the name as soon as the session.
        title=partial(title_without_a_call, models=models, settings=settings, text=request.message),
    )
    if compactor is not None and compactor.summary is not None:
        system_prompt += summary_section(compactor.summary)
    return PreparedTurn(
        user_id=user_id,
        session=session,
        model=model,
        chat_model=chat_model,
        request=request,
        history=history,
        prompt=prompt,
        tools=tools,
        system_prompt=system_prompt,
        started=started,
        first_turn=first_turn,
        citations=assistant.citations if assistant is not None else [],
        quota_warning=quota_warning,
    )


def _knowledge_blocks(assistant: AssistantContext | None) -> list[dict[str, Any]]:
    """The retrieved passages, as a text block before the user's own text (which alone is stored)."""
    if assistant is None or not assistant.retrieval.context:
        return []
    return [{"text": assistant.retrieval.context}]


def _system_prompt(request: TurnRequest, assistant: AssistantContext | None) -> str:
    """The caller's prompt or the default; an assistant with instructions wins over the caller's (API.md §1)."""
    if assistant is not None and assistant.assistant.instructions.strip():
        return system_prompt_with(default_system_prompt(), assistant.assistant)
    return request.system_prompt or default_system_prompt()


async def _attachments_of(
    request: TurnRequest,
    *,
    files: FileRepository,
    blobs: BlobStore,
    settings: Settings,
    user_id: str,
    budget: RequestBudget,
) -> tuple[TurnAttachments, list[dict[str, Any]]]:
    """The turn's attachments, checked and read, and the blocks the model gets for them.

    All of it before anything is stored: a file that is not usable, too large for the provider or cannot be
    read is a 400 or 413 that leaves no trace.
    """
    attachments = await check_attachments(
        files=files,
        settings=settings.files,
        user_id=user_id,
        session_id=request.session_id,
        upload_ids=request.upload_ids,
        inline=request.inline_files,
    )
    await load_bytes(attachments, blobs=blobs)
    blocks = await model_blocks(attachments, settings=settings.files, budget=budget)
    return attachments, blocks


async def _store_user_message(
    *,
    sessions: SessionRepository,
    files: FileRepository,
    blobs: BlobStore,
    settings: Settings,
    user_id: str,
    session_id: str,
    message: Message,
    preferences: SessionPreferences,
    attachments: TurnAttachments,
    budget: RequestBudget,
    compactor: HistoryCompactor | None = None,
    title: Callable[[], Awaitable[str | None]] | None = None,
) -> tuple[SessionMetadata, bool, list[dict[str, Any]]]:
    """Store the inline files and the message (with the session if new, named by `title` when it can be);
    (session, first turn, history).

    History is read before the message is appended, so that it holds only earlier messages.
    """
    await persist_inline(attachments, files=files, blobs=blobs, settings=settings.files)
    try:
        session, created = await sessions_service.get_or_create(
            sessions=sessions,
            user_id=user_id,
            session_id=session_id,
            first_message=message,
            preferences=preferences,
            title=title,
        )
    except SessionNotFound:
        # The id is someone else's: the inline files just stored for it go again before the 404.
        await discard_inline(attachments, files=files, blobs=blobs)
        raise
    if created:
        return session, True, []
    # A session made by an upload before its first message is not new here, but its first turn names it.
    first_turn = session.message_count == 0
    recent = await messages_service.recent_messages(
        sessions=sessions,
        user_id=user_id,
        session_id=session_id,
        limit=settings.inference.history_max_messages,
        abandoned_after_seconds=settings.inference.turn_abandoned_after_seconds,
    )
    if compactor is not None:
        recent = await compactor.compact(recent, session)
    history = await rehydrate_history(
        provider_history(recent),
        files=files,
        blobs=blobs,
        settings=settings.files,
        user_id=user_id,
        budget=budget,
    )
    session = await messages_service.append(
        sessions=sessions, user_id=user_id, session_id=session_id, message=message, preferences=preferences
    )
    return session, first_turn, history
