"""The assistants service: who may read and write an assistant, its lifecycle, shares and the merged list.

Access: the owner reads and writes. A SHARED assistant may also be read (and chatted with) by the emails it is
shared with, a PUBLIC one by every user. Anyone else is told it does not exist (404); a reader who tries to
write is refused (403). Shares of a PRIVATE assistant are kept but grant nothing until it is SHARED again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apis.shared.assistants.exceptions import AssistantNotFound, AssistantNotOwned
from apis.shared.assistants.models import (
    DRAFT_NAME,
    Assistant,
    AssistantFields,
    AssistantShare,
    AssistantStatus,
    AssistantView,
    ListedAssistant,
    ListPosition,
    Visibility,
    normalize_email,
)
from apis.shared.assistants.repository import AssistantRepository
from apis.shared.clock import new_id, now_iso
from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.partial_updates import merged

_BATCH = 50  # entries read at a time from each list while statuses and visibility are filtered
_TOKEN_FIELDS = ("createdAt", "assistantId")
Fetch = Callable[[ListPosition | None, int], Awaitable[list[ListedAssistant]]]


async def create_draft(
    *, assistants: AssistantRepository, owner_id: str, owner_name: str, name: str | None = None
) -> Assistant:
    """A DRAFT with an id at once, so documents can be added before the form is saved."""
    now = now_iso()
    draft = Assistant(
        assistant_id=new_id(),
        owner_id=owner_id,
        owner_name=owner_name,
        name=name or DRAFT_NAME,
        status=AssistantStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    return await assistants.create(draft)


async def create(
    *, assistants: AssistantRepository, owner_id: str, owner_name: str, assistant_in: AssistantFields
) -> Assistant:
    """A COMPLETE assistant from the owner's fields."""
    now = now_iso()
    assistant = Assistant(
        **assistant_in.model_dump(),
        assistant_id=new_id(),
        owner_id=owner_id,
        owner_name=owner_name,
        status=AssistantStatus.COMPLETE,
        created_at=now,
        updated_at=now,
    )
    return await assistants.create(assistant)


async def may_read(*, assistants: AssistantRepository, assistant: Assistant, user_id: str, email: str | None) -> bool:
    """The access rule of the module docstring."""
    if assistant.owner_id == user_id or assistant.visibility == Visibility.PUBLIC:
        return True
    if assistant.visibility == Visibility.SHARED and email:
        return await assistants.get_share(assistant.assistant_id, normalize_email(email)) is not None
    return False


async def get_readable_or_raise(
    *, assistants: AssistantRepository, assistant_id: str, user_id: str, email: str | None
) -> Assistant:
    """The assistant if the caller may read it; else AssistantNotFound, as if it did not exist."""
    assistant = await assistants.get(assistant_id)
    if assistant is None or not await may_read(
        assistants=assistants, assistant=assistant, user_id=user_id, email=email
    ):
        raise AssistantNotFound.of(assistant_id)
    return assistant


async def get_owned_or_raise(
    *, assistants: AssistantRepository, assistant_id: str, user_id: str, email: str | None
) -> Assistant:
    """The caller's own assistant; AssistantNotOwned if they may only read it, AssistantNotFound otherwise."""
    assistant = await get_readable_or_raise(
        assistants=assistants, assistant_id=assistant_id, user_id=user_id, email=email
    )
    if assistant.owner_id != user_id:
        raise AssistantNotOwned(f"only the owner of assistant {assistant_id} may change it")
    return assistant


async def update(*, assistants: AssistantRepository, assistant: Assistant, changes: dict[str, Any]) -> Assistant:
    """The owner's changes (field name -> value) merged into the stored record and checked as a whole."""
    updated = merged(assistant, {**changes, "updated_at": now_iso()})
    stored = await assistants.replace(updated)
    if stored is None:
        raise AssistantNotFound.of(assistant.assistant_id)
    return stored


async def archive(*, assistants: AssistantRepository, assistant: Assistant) -> Assistant:
    """Hide the assistant from default lists; setting the status back to COMPLETE restores it."""
    return await update(assistants=assistants, assistant=assistant, changes={"status": AssistantStatus.ARCHIVED})


async def delete(*, assistants: AssistantRepository, assistant: Assistant) -> None:
    """Remove the assistant and its shares (documents do not exist yet; when they do, their bytes and index
    entries go first, here). A failure raises, and the same call finishes the work."""
    if not await assistants.delete(assistant.assistant_id):
        raise AssistantNotFound.of(assistant.assistant_id)


async def share(*, assistants: AssistantRepository, assistant: Assistant, emails: list[str]) -> list[AssistantShare]:
    """Grant the assistant to these emails; the shares after the change."""
    await assistants.add_shares(assistant, sorted({normalize_email(e) for e in emails}), now=now_iso())
    return await assistants.list_shares(assistant.assistant_id)


async def unshare(*, assistants: AssistantRepository, assistant: Assistant, emails: list[str]) -> list[AssistantShare]:
    """Withdraw the grants to these emails; the shares after the change."""
    await assistants.remove_shares(assistant.assistant_id, sorted({normalize_email(e) for e in emails}))
    return await assistants.list_shares(assistant.assistant_id)


def statuses_listed(*, include_archived: bool, include_drafts: bool) -> frozenset[AssistantStatus]:
    """COMPLETE always; DRAFT and ARCHIVED when asked for, as the reference's flags say."""
    statuses = {AssistantStatus.COMPLETE}
    if include_archived:
        statuses.add(AssistantStatus.ARCHIVED)
    if include_drafts:
        statuses.add(AssistantStatus.DRAFT)
    return frozenset(statuses)


async def _collect(
    fetch: Fetch, before: ListPosition | None, want: int, keep: Callable[[Assistant], bool]
) -> list[tuple[Assistant, bool | None]]:
    """Up to `want` assistants of one list below `before` that `keep` accepts (with `first_interacted`),
    reading on past the others."""
    found: list[tuple[Assistant, bool | None]] = []
    size = max(_BATCH, want)
    while len(found) < want:
        batch = await fetch(before, size)
        found += [(e.assistant, e.first_interacted) for e in batch if e.assistant is not None and keep(e.assistant)]
        if len(batch) < size:
            break
        before = batch[-1].position
    return found[:want]


async def list_assistants(
    *,
    assistants: AssistantRepository,
    user_id: str,
    email: str | None,
    statuses: frozenset[AssistantStatus],
    include_public: bool,
    limit: int,
    page_token: str | None = None,
) -> Page[AssistantView]:
    """The caller's own assistants, those shared with them and (`include_public`) the public ones, merged newest
    first without repeats, one page of `limit` with a token when more follow.

    Each list is read below the page's position only as far as the page needs, never every assistant.
    """
    before: ListPosition | None = None
    if page_token is not None:
        cursor = decode_token(page_token, fields=_TOKEN_FIELDS)
        before = (cursor["createdAt"], cursor["assistantId"])
    want = limit + 1

    def listed(a: Assistant) -> bool:
        return a.status in statuses

    views: dict[str, AssistantView] = {}
    own = await _collect(lambda b, n: assistants.list_owned(user_id, before=b, limit=n), before, want, listed)
    for assistant, _ in own:
        views[assistant.assistant_id] = AssistantView(assistant, is_shared_with_me=False)
    if email:
        shared = await _collect(
            lambda b, n: assistants.list_shared_with(normalize_email(email), before=b, limit=n),
            before,
            want,
            lambda a: listed(a) and a.visibility != Visibility.PRIVATE and a.owner_id != user_id,
        )
        for assistant, first_interacted in shared:
            views.setdefault(
                assistant.assistant_id,
                AssistantView(assistant, is_shared_with_me=True, first_interacted=bool(first_interacted)),
            )
    if include_public:
        public = await _collect(
            lambda b, n: assistants.list_public(before=b, limit=n),
            before,
            want,
            lambda a: listed(a) and a.visibility == Visibility.PUBLIC and a.owner_id != user_id,
        )
        for assistant, _ in public:
            views.setdefault(assistant.assistant_id, AssistantView(assistant, is_shared_with_me=False))
    ordered = sorted(views.values(), key=lambda view: view.assistant.position, reverse=True)
    page = ordered[:limit]
    next_token = None
    if len(ordered) > limit:
        created_at, assistant_id = page[-1].assistant.position
        next_token = encode_token({"createdAt": created_at, "assistantId": assistant_id})
    return Page(items=page, next_token=next_token)
