"""The AssistantRepository contract, and the service's access rules and merged list over it, on every backend."""

from __future__ import annotations

import uuid

import pytest

from apis.shared.assistants import (
    Assistant,
    AssistantFields,
    AssistantNotFound,
    AssistantNotOwned,
    AssistantRepository,
    AssistantStatus,
    Visibility,
)
from apis.shared.assistants import service as assistants_service
from apis.shared.errors import ConflictError, InvalidPageToken
from tests.helpers import random_user_id


def random_email() -> str:
    return f"person-{uuid.uuid4().hex[:8]}@example.edu"


async def add(
    repo: AssistantRepository,
    owner: str,
    *,
    visibility: Visibility = Visibility.PRIVATE,
    status: AssistantStatus = AssistantStatus.COMPLETE,
) -> Assistant:
    fields = AssistantFields(name=f"Helper {uuid.uuid4().hex[:6]}", description="d", visibility=visibility)
    created = await assistants_service.create(assistants=repo, owner_id=owner, owner_name="Owner", assistant_in=fields)
    if status != AssistantStatus.COMPLETE:
        created = await assistants_service.update(assistants=repo, assistant=created, changes={"status": status})
    return created


async def ids_of_list(repo: AssistantRepository, user: str, email: str | None, **flags: bool) -> list[str]:
    statuses = assistants_service.statuses_listed(
        include_archived=flags.get("include_archived", False), include_drafts=flags.get("include_drafts", False)
    )
    page = await assistants_service.list_assistants(
        assistants=repo,
        user_id=user,
        email=email,
        statuses=statuses,
        include_public=flags.get("include_public", False),
        limit=100,
    )
    return [view.assistant.assistant_id for view in page.items]


async def test_an_assistant_reads_back_and_its_id_is_unique(assistant_repository: AssistantRepository) -> None:
    owner = random_user_id()
    created = await add(assistant_repository, owner)

    assert await assistant_repository.get(created.assistant_id) == created
    assert await assistant_repository.get("missing") is None
    with pytest.raises(ConflictError):
        await assistant_repository.create(created)


async def test_a_draft_has_the_reference_defaults(assistant_repository: AssistantRepository) -> None:
    draft = await assistants_service.create_draft(assistants=assistant_repository, owner_id="o", owner_name="O")

    stored = await assistant_repository.get(draft.assistant_id)
    assert stored is not None
    assert (stored.name, stored.status, stored.visibility) == ("Untitled Assistant", "DRAFT", "PRIVATE")
    assert (stored.description, stored.instructions, stored.tags, stored.usage_count) == ("", "", [], 0)


async def test_replace_writes_the_new_record_and_refuses_a_missing_one(
    assistant_repository: AssistantRepository,
) -> None:
    created = await add(assistant_repository, random_user_id())

    updated = await assistants_service.update(
        assistants=assistant_repository,
        assistant=created,
        changes={"name": "Renamed", "tags": ["a", "b"], "visibility": Visibility.PUBLIC},
    )

    assert await assistant_repository.get(created.assistant_id) == updated
    assert updated.name == "Renamed"
    assert updated.created_at == created.created_at
    ghost = created.model_copy(update={"assistant_id": "never-stored"})
    assert await assistant_repository.replace(ghost) is None


async def test_shares_are_normalised_idempotent_and_removable(assistant_repository: AssistantRepository) -> None:
    created = await add(assistant_repository, random_user_id(), visibility=Visibility.SHARED)

    await assistants_service.share(
        assistants=assistant_repository, assistant=created, emails=[" B@Example.edu", "a@example.edu"]
    )
    shares = await assistants_service.share(
        assistants=assistant_repository, assistant=created, emails=["b@example.edu"]
    )

    assert [share.email for share in shares] == ["a@example.edu", "b@example.edu"]
    assert await assistant_repository.get_share(created.assistant_id, "A@EXAMPLE.EDU") is not None
    left = await assistants_service.unshare(
        assistants=assistant_repository, assistant=created, emails=["a@example.edu", "nobody@example.edu"]
    )
    assert [share.email for share in left] == ["b@example.edu"]


async def test_deleting_an_assistant_removes_its_shares(assistant_repository: AssistantRepository) -> None:
    created = await add(assistant_repository, random_user_id(), visibility=Visibility.SHARED)
    email = random_email()
    await assistants_service.share(assistants=assistant_repository, assistant=created, emails=[email])

    await assistants_service.delete(assistants=assistant_repository, assistant=created)

    assert await assistant_repository.get(created.assistant_id) is None
    assert await assistant_repository.list_shares(created.assistant_id) == []
    assert await assistant_repository.list_shared_with(email, before=None, limit=10) == []
    assert not await assistant_repository.delete(created.assistant_id)
    with pytest.raises(AssistantNotFound):
        await assistants_service.delete(assistants=assistant_repository, assistant=created)


async def test_who_may_read_and_who_may_write(assistant_repository: AssistantRepository) -> None:
    owner, friend, stranger = random_user_id(), random_user_id(), random_user_id()
    friend_email = random_email()
    private = await add(assistant_repository, owner)
    shared = await add(assistant_repository, owner, visibility=Visibility.SHARED)
    public = await add(assistant_repository, owner, visibility=Visibility.PUBLIC)
    for assistant in (private, shared):
        await assistants_service.share(assistants=assistant_repository, assistant=assistant, emails=[friend_email])

    async def readable(assistant: Assistant, user: str, email: str | None) -> bool:
        try:
            await assistants_service.get_readable_or_raise(
                assistants=assistant_repository, assistant_id=assistant.assistant_id, user_id=user, email=email
            )
        except AssistantNotFound:
            return False
        return True

    assert [await readable(a, owner, None) for a in (private, shared, public)] == [True, True, True]
    assert [await readable(a, friend, friend_email.upper()) for a in (private, shared, public)] == [False, True, True]
    assert [await readable(a, stranger, random_email()) for a in (private, shared, public)] == [False, False, True]
    with pytest.raises(AssistantNotOwned):
        await assistants_service.get_owned_or_raise(
            assistants=assistant_repository, assistant_id=shared.assistant_id, user_id=friend, email=friend_email
        )
    with pytest.raises(AssistantNotFound):
        await assistants_service.get_owned_or_raise(
            assistants=assistant_repository, assistant_id=private.assistant_id, user_id=friend, email=friend_email
        )


async def test_the_list_merges_own_shared_and_public_newest_first(assistant_repository: AssistantRepository) -> None:
    me, other = random_user_id(), random_user_id()
    my_email = random_email()
    mine = await add(assistant_repository, me)
    my_draft = await add(assistant_repository, me, status=AssistantStatus.DRAFT)
    my_archived = await add(assistant_repository, me, status=AssistantStatus.ARCHIVED)
    shared = await add(assistant_repository, other, visibility=Visibility.SHARED)
    private_with_share = await add(assistant_repository, other)
    public = await add(assistant_repository, other, visibility=Visibility.PUBLIC)
    public_and_shared = await add(assistant_repository, other, visibility=Visibility.PUBLIC)
    for assistant in (shared, private_with_share, public_and_shared):
        await assistants_service.share(assistants=assistant_repository, assistant=assistant, emails=[my_email])

    default = await ids_of_list(assistant_repository, me, my_email)
    everything = await ids_of_list(
        assistant_repository, me, my_email, include_archived=True, include_drafts=True, include_public=True
    )

    assert default == [public_and_shared.assistant_id, shared.assistant_id, mine.assistant_id]
    expected = [public_and_shared, public, shared, my_archived, my_draft, mine]
    assert everything == [a.assistant_id for a in expected]
    page = await assistants_service.list_assistants(
        assistants=assistant_repository,
        user_id=me,
        email=my_email,
        statuses=assistants_service.statuses_listed(include_archived=False, include_drafts=False),
        include_public=True,
        limit=10,
    )
    flags = {v.assistant.assistant_id: (v.is_shared_with_me, v.first_interacted) for v in page.items}
    assert flags[shared.assistant_id] == (True, False)
    assert flags[public.assistant_id] == (False, None)
    assert flags[mine.assistant_id] == (False, None)


async def test_the_list_pages_without_repeats_or_gaps(assistant_repository: AssistantRepository) -> None:
    me, other = random_user_id(), random_user_id()
    email = random_email()
    made = [await add(assistant_repository, me) for _ in range(4)]
    for _ in range(3):
        shared = await add(assistant_repository, other, visibility=Visibility.SHARED)
        await assistants_service.share(assistants=assistant_repository, assistant=shared, emails=[email])
        made.append(shared)
    statuses = assistants_service.statuses_listed(include_archived=False, include_drafts=False)

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = await assistants_service.list_assistants(
            assistants=assistant_repository,
            user_id=me,
            email=email,
            statuses=statuses,
            include_public=False,
            limit=3,
            page_token=token,
        )
        pages += 1
        seen += [view.assistant.assistant_id for view in page.items]
        token = page.next_token
        if token is None:
            break

    assert pages == 3
    assert seen == [a.assistant_id for a in sorted(made, key=lambda a: a.position, reverse=True)]
    with pytest.raises(InvalidPageToken):
        await assistants_service.list_assistants(
            assistants=assistant_repository,
            user_id=me,
            email=email,
            statuses=statuses,
            include_public=False,
            limit=3,
            page_token="not-a-token",
        )


async def test_an_assistant_leaves_the_public_list_when_it_stops_being_public(
    assistant_repository: AssistantRepository,
) -> None:
    public = await add(assistant_repository, random_user_id(), visibility=Visibility.PUBLIC)
    listed_before = await assistant_repository.list_public(before=None, limit=1000)

    await assistants_service.update(
        assistants=assistant_repository, assistant=public, changes={"visibility": Visibility.PRIVATE}
    )
    listed_after = await assistant_repository.list_public(before=None, limit=1000)

    assert public.assistant_id in [e.assistant.assistant_id for e in listed_before if e.assistant]
    assert public.assistant_id not in [e.assistant.assistant_id for e in listed_after if e.assistant]


async def test_sharing_a_deleted_assistant_is_refused_and_stores_nothing(
    assistant_repository: AssistantRepository,
) -> None:
    ghost = await add(assistant_repository, random_user_id(), visibility=Visibility.SHARED)
    await assistant_repository.delete(ghost.assistant_id)

    with pytest.raises(AssistantNotFound):
        await assistant_repository.add_shares(ghost, ["late@example.edu"], now=ghost.created_at)

    assert await assistant_repository.list_shares(ghost.assistant_id) == []
    assert await assistant_repository.list_shared_with("late@example.edu", before=None, limit=10) == []
