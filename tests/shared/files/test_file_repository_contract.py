"""The FileRepository contract, run against the in-memory fake, SQLite and DynamoDB (moto server)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from typing import Any

import pytest

from apis.shared.clock import new_id, now_iso
from apis.shared.errors import ConflictError, InvalidPageToken
from apis.shared.files import (
    FileNotPending,
    FileRecord,
    FileRepository,
    FileStatus,
    FileUsage,
    StorageQuotaExceeded,
)
from apis.shared.storage.sqlite.files import SqliteFileRepository
from tests.helpers import random_session_id, random_user_id
from tests.shared.files.conftest import random_file

ROOMY = 10**12  # a quota no test comes near


def complete(
    repository: FileRepository, user_id: str, upload_id: str, *, limit: int = ROOMY
) -> Coroutine[Any, Any, FileRecord | None]:
    """mark_ready with a quota of `limit` bytes, now."""
    return repository.mark_ready(user_id, upload_id, max_user_bytes=limit, now=now_iso())


async def created(repository: FileRepository, user_id: str, session_id: str, *, size: int = 100) -> FileRecord:
    return await repository.create_file(random_file(user_id, session_id, size=size))


async def ready(repository: FileRepository, user_id: str, session_id: str, *, size: int = 100) -> FileRecord:
    record = await created(repository, user_id, session_id, size=size)
    marked = await complete(repository, user_id, record.upload_id)
    assert marked is not None
    return marked


async def failed(repository: FileRepository, user_id: str, session_id: str, *, size: int = 100) -> FileRecord:
    record = await created(repository, user_id, session_id, size=size)
    marked = await repository.mark_failed(user_id, record.upload_id, now=now_iso())
    assert marked is not None
    return marked


async def page_ids(
    repository: FileRepository, user_id: str, *, limit: int, session_id: str | None = None
) -> list[list[str]]:
    """Every page of the list, as upload ids; checks that each page but the last is full and has a token."""
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = await repository.list_files(user_id, limit=limit, page_token=token, session_id=session_id)
        pages.append([record.upload_id for record in page.items])
        assert all(record.status == FileStatus.READY for record in page.items)
        if page.next_token is None:
            return pages
        assert len(page.items) == limit
        token = page.next_token


def mentions(message: str, number: int) -> bool:
    return re.search(rf"(?<!\d){number}(?!\d)", message) is not None


async def test_a_created_file_reads_back_for_its_owner_only(file_repository: FileRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    record = random_file(owner, random_session_id())

    assert await file_repository.create_file(record) == record

    assert await file_repository.get_file(owner, record.upload_id) == record
    assert await file_repository.get_file(stranger, record.upload_id) is None
    assert await file_repository.get_file(owner, new_id()) is None


async def test_an_upload_id_is_taken_for_every_user(file_repository: FileRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    session, other_session = random_session_id(), random_session_id()
    taken = await created(file_repository, owner, session)

    with pytest.raises(ConflictError):
        await file_repository.create_file(random_file(stranger, other_session, upload_id=taken.upload_id))
    with pytest.raises(ConflictError):
        await file_repository.create_file(random_file(owner, session, size=7, upload_id=taken.upload_id))

    assert await file_repository.get_file(owner, taken.upload_id) == taken
    assert await file_repository.get_file(stranger, taken.upload_id) is None
    assert await file_repository.list_session_files(stranger, other_session) == []
    assert await file_repository.list_session_files(owner, session) == [taken]


async def test_mark_ready_moves_a_pending_file_and_charges_its_owner(file_repository: FileRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    record = await created(file_repository, owner, random_session_id(), size=1234)
    now = now_iso()

    marked = await file_repository.mark_ready(owner, record.upload_id, max_user_bytes=ROOMY, now=now)

    assert marked == record.model_copy(update={"status": FileStatus.READY, "updated_at": now})
    assert await file_repository.get_file(owner, record.upload_id) == marked
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=1234, file_count=1)
    assert await file_repository.get_usage(stranger) == FileUsage()


async def test_a_ready_file_cannot_be_completed_or_failed_again(file_repository: FileRepository) -> None:
    owner = random_user_id()
    record = await ready(file_repository, owner, random_session_id(), size=500)

    with pytest.raises(FileNotPending, match=record.upload_id):
        await complete(file_repository, owner, record.upload_id)
    with pytest.raises(FileNotPending, match=record.upload_id):
        await file_repository.mark_failed(owner, record.upload_id, now=now_iso())

    assert await file_repository.get_file(owner, record.upload_id) == record
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=500, file_count=1)


async def test_mark_failed_charges_nothing_and_ends_the_upload(file_repository: FileRepository) -> None:
    owner = random_user_id()
    record = await created(file_repository, owner, random_session_id(), size=800)
    now = now_iso()

    marked = await file_repository.mark_failed(owner, record.upload_id, now=now)

    assert marked == record.model_copy(update={"status": FileStatus.FAILED, "updated_at": now})
    with pytest.raises(FileNotPending, match=record.upload_id):
        await complete(file_repository, owner, record.upload_id)
    with pytest.raises(FileNotPending, match=record.upload_id):
        await file_repository.mark_failed(owner, record.upload_id, now=now_iso())
    assert await file_repository.get_file(owner, record.upload_id) == marked
    assert await file_repository.get_usage(owner) == FileUsage()


async def test_missing_and_foreign_files_answer_none_and_change_nothing(file_repository: FileRepository) -> None:
    owner, stranger = random_user_id(), random_user_id()
    session = random_session_id()
    pending = await created(file_repository, owner, session, size=30)
    charged = await ready(file_repository, owner, session, size=70)

    for user_id, upload_id in [(stranger, pending.upload_id), (stranger, charged.upload_id), (owner, new_id())]:
        assert await complete(file_repository, user_id, upload_id) is None
        assert await file_repository.mark_failed(user_id, upload_id, now=now_iso()) is None
        assert await file_repository.delete_file(user_id, upload_id) is None

    assert await file_repository.get_file(owner, pending.upload_id) == pending
    assert await file_repository.get_file(owner, charged.upload_id) == charged
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=70, file_count=1)
    assert await file_repository.get_usage(stranger) == FileUsage()
    assert (await file_repository.list_files(stranger, limit=10)).items == []
    assert (await file_repository.list_files(stranger, limit=10, session_id=session)).items == []
    assert await file_repository.list_session_files(stranger, session) == []


async def test_the_quota_allows_exactly_its_limit_and_refuses_one_byte_more(file_repository: FileRepository) -> None:
    owner, session, limit = random_user_id(), random_session_id(), 1000
    for size in (600, 399):
        record = await created(file_repository, owner, session, size=size)
        assert await complete(file_repository, owner, record.upload_id, limit=limit)
    over = await created(file_repository, owner, session, size=2)
    exact = await created(file_repository, owner, session, size=1)

    with pytest.raises(StorageQuotaExceeded) as refused:
        await complete(file_repository, owner, over.upload_id, limit=limit)
    fits = await complete(file_repository, owner, exact.upload_id, limit=limit)

    message = refused.value.detail
    assert [mentions(message, number) for number in (999, limit, 2)] == [True] * 3
    assert await file_repository.get_file(owner, over.upload_id) == over
    assert fits is not None
    assert fits.status == FileStatus.READY
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=limit, file_count=3)


async def test_a_refused_file_can_be_completed_once_room_is_made(file_repository: FileRepository) -> None:
    owner, session, limit = random_user_id(), random_session_id(), 1000
    first = await created(file_repository, owner, session, size=900)
    await complete(file_repository, owner, first.upload_id, limit=limit)
    waiting = await created(file_repository, owner, session, size=300)
    with pytest.raises(StorageQuotaExceeded):
        await complete(file_repository, owner, waiting.upload_id, limit=limit)

    await file_repository.delete_file(owner, first.upload_id)
    marked = await complete(file_repository, owner, waiting.upload_id, limit=limit)

    assert marked is not None
    assert marked.status == FileStatus.READY
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=300, file_count=1)


async def test_a_file_larger_than_the_whole_quota_is_refused(file_repository: FileRepository) -> None:
    owner, session = random_user_id(), random_session_id()
    await ready(file_repository, owner, session, size=40)
    too_big = await created(file_repository, owner, session, size=501)

    with pytest.raises(StorageQuotaExceeded) as refused:
        await complete(file_repository, owner, too_big.upload_id, limit=500)

    message = refused.value.detail
    assert [mentions(message, number) for number in (40, 500, 501)] == [True] * 3
    assert await file_repository.get_file(owner, too_big.upload_id) == too_big
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=40, file_count=1)


async def test_delete_releases_a_ready_file_once_and_frees_its_id(file_repository: FileRepository) -> None:
    owner, stranger, session = random_user_id(), random_user_id(), random_session_id()
    kept = await ready(file_repository, owner, session, size=10)
    gone = await ready(file_repository, owner, session, size=300)

    assert await file_repository.delete_file(owner, gone.upload_id) == gone
    assert await file_repository.delete_file(owner, gone.upload_id) is None

    assert await file_repository.get_file(owner, gone.upload_id) is None
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=10, file_count=1)
    assert await file_repository.list_session_files(owner, session) == [kept]
    reborn = await file_repository.create_file(random_file(stranger, random_session_id(), upload_id=gone.upload_id))
    assert await file_repository.get_file(stranger, gone.upload_id) == reborn


async def test_deleting_a_pending_or_failed_file_releases_nothing(file_repository: FileRepository) -> None:
    owner, session = random_user_id(), random_session_id()
    await ready(file_repository, owner, session, size=50)
    pending = await created(file_repository, owner, session, size=70)
    rejected = await failed(file_repository, owner, session, size=90)

    assert await file_repository.delete_file(owner, pending.upload_id) == pending
    assert await file_repository.delete_file(owner, rejected.upload_id) == rejected

    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=50, file_count=1)


async def test_the_list_pages_ready_files_newest_first_exactly(
    file_repository: FileRepository, small_dynamo_pages: None
) -> None:
    owner, stranger = random_user_id(), random_user_id()
    sessions = [random_session_id(), random_session_id()]
    expected: dict[str, list[str]] = {sessions[0]: [], sessions[1]: []}
    for index in range(20):
        session = sessions[index % 2]
        match index % 5:
            case 1:
                await created(file_repository, owner, session)
            case 3:
                await failed(file_repository, owner, session)
            case _:
                expected[session].append((await ready(file_repository, owner, session)).upload_id)
        if index % 4 == 0:
            await ready(file_repository, stranger, session)
    newest_first = sorted(expected[sessions[0]] + expected[sessions[1]], reverse=True)

    pages = await page_ids(file_repository, owner, limit=5)
    session_pages = await page_ids(file_repository, owner, limit=2, session_id=sessions[1])

    assert [len(page) for page in pages] == [5, 5, 2]
    assert [upload_id for page in pages for upload_id in page] == newest_first
    assert [len(page) for page in session_pages] == [2, 2, 2]
    assert [upload_id for page in session_pages for upload_id in page] == expected[sessions[1]][::-1]


async def test_a_list_that_ends_on_a_full_page_has_no_token(file_repository: FileRepository) -> None:
    owner, session = random_user_id(), random_session_id()
    charged = [await ready(file_repository, owner, session) for _ in range(4)]
    await created(file_repository, owner, session)  # newer than all, and not listed

    first = await file_repository.list_files(owner, limit=2)
    second = await file_repository.list_files(owner, limit=2, page_token=first.next_token)
    whole = await file_repository.list_files(owner, limit=4)

    assert first.items == charged[:1:-1]
    assert second.items == charged[1::-1]
    assert second.next_token is None
    assert (whole.items, whole.next_token) == (charged[::-1], None)
    empty = await file_repository.list_files(random_user_id(), limit=3)
    assert (empty.items, empty.next_token) == ([], None)


@pytest.mark.parametrize("token", ["garbage!", "e30", "eyJ4IjogMX0", "a" * 5000])
async def test_a_damaged_page_token_is_refused(file_repository: FileRepository, token: str) -> None:
    owner = random_user_id()
    await ready(file_repository, owner, random_session_id())

    with pytest.raises(InvalidPageToken):
        await file_repository.list_files(owner, limit=5, page_token=token)


async def test_session_files_hold_every_status_of_that_session_only(
    file_repository: FileRepository, small_dynamo_pages: None
) -> None:
    owner, stranger = random_user_id(), random_user_id()
    session, other_session = random_session_id(), random_session_id()
    mine = [
        await ready(file_repository, owner, session),
        await created(file_repository, owner, session),
        await failed(file_repository, owner, session),
        *[await created(file_repository, owner, session) for _ in range(4)],
    ]
    await ready(file_repository, owner, other_session)
    await ready(file_repository, stranger, session)

    listed = await file_repository.list_session_files(owner, session)

    assert sorted(listed, key=lambda record: record.upload_id) == mine
    assert await file_repository.list_session_files(owner, random_session_id()) == []


async def test_usage_is_zero_for_a_user_with_no_files(file_repository: FileRepository) -> None:
    assert await file_repository.get_usage(random_user_id()) == FileUsage(used_bytes=0, file_count=0)


@pytest.mark.parametrize("callers", [2, 8])
async def test_concurrent_completions_of_one_file_charge_once(file_repository: FileRepository, callers: int) -> None:
    owner = random_user_id()
    record = await created(file_repository, owner, random_session_id(), size=321)

    results = await asyncio.gather(
        *(complete(file_repository, owner, record.upload_id) for _ in range(callers)),
        return_exceptions=True,
    )

    assert len([result for result in results if isinstance(result, FileRecord)]) == 1
    assert len([result for result in results if isinstance(result, FileNotPending)]) == callers - 1
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=321, file_count=1)


@pytest.mark.parametrize("callers", [2, 8])
async def test_concurrent_deletes_release_once(file_repository: FileRepository, callers: int) -> None:
    owner, session = random_user_id(), random_session_id()
    await ready(file_repository, owner, session, size=5)
    target = await ready(file_repository, owner, session, size=700)

    results = await asyncio.gather(*(file_repository.delete_file(owner, target.upload_id) for _ in range(callers)))

    assert [result for result in results if result is not None] == [target]
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=5, file_count=1)


async def test_concurrent_completions_never_pass_the_quota(file_repository: FileRepository) -> None:
    owner, session, limit = random_user_id(), random_session_id(), 1000
    records = [await created(file_repository, owner, session, size=400) for _ in range(6)]

    results = await asyncio.gather(
        *(complete(file_repository, owner, record.upload_id, limit=limit) for record in records),
        return_exceptions=True,
    )

    assert len([result for result in results if isinstance(result, FileRecord)]) == 2
    assert len([result for result in results if isinstance(result, StorageQuotaExceeded)]) == 4
    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=800, file_count=2)
    statuses = [(await file_repository.get_file(owner, record.upload_id)) for record in records]
    assert sorted(record.status for record in statuses if record is not None) == ["pending"] * 4 + ["ready"] * 2


async def test_concurrent_completions_of_many_files_all_count(file_repository: FileRepository) -> None:
    owner, session = random_user_id(), random_session_id()
    records = [await created(file_repository, owner, session, size=size) for size in range(1, 9)]

    await asyncio.gather(*(complete(file_repository, owner, record.upload_id) for record in records))

    assert await file_repository.get_usage(owner) == FileUsage(used_bytes=36, file_count=8)


async def test_a_completion_racing_a_delete_leaves_nothing_charged(file_repository: FileRepository) -> None:
    owner = random_user_id()
    record = await created(file_repository, owner, random_session_id(), size=250)

    marked, deleted = await asyncio.gather(
        complete(file_repository, owner, record.upload_id),
        file_repository.delete_file(owner, record.upload_id),
    )

    # Either the completion came first and the delete released it, or the delete came first.
    assert deleted is not None
    assert deleted.status == (FileStatus.READY if marked is not None else FileStatus.PENDING)
    assert await file_repository.get_file(owner, record.upload_id) is None
    assert await file_repository.get_usage(owner) == FileUsage()


async def test_two_sqlite_connections_complete_and_delete_once(
    sqlite_file_repositories: tuple[SqliteFileRepository, SqliteFileRepository],
) -> None:
    first, second = sqlite_file_repositories
    owner = random_user_id()
    record = await first.create_file(random_file(owner, random_session_id(), size=42))

    completions = await asyncio.gather(
        *(complete(repository, owner, record.upload_id) for repository in (first, second) * 4),
        return_exceptions=True,
    )
    assert len([result for result in completions if isinstance(result, FileRecord)]) == 1
    assert len([result for result in completions if isinstance(result, FileNotPending)]) == 7
    assert await second.get_usage(owner) == FileUsage(used_bytes=42, file_count=1)

    deletions = await asyncio.gather(
        *(repository.delete_file(owner, record.upload_id) for repository in (second, first) * 3)
    )
    assert len([result for result in deletions if result is not None]) == 1
    assert await first.get_usage(owner) == FileUsage()
