"""FileRepository.list_stale_uploads, the sweeper's list of unfinished uploads, on the fake, SQLite and DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apis.shared.clock import new_id, now_iso, to_iso, utc_now
from apis.shared.files import FileRecord, FileRepository, FileStatus
from apis.shared.storage.sqlite.database import SqliteDatabase
from apis.shared.storage.sqlite.files import STALE_UPLOADS_QUERY
from tests.helpers import random_session_id, random_user_id
from tests.shared.files.conftest import random_file

ROOMY = 10**12  # a quota no test comes near
_EPOCH = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LATER = to_iso(_EPOCH + timedelta(days=1))  # after every moment these tests give a record


def minute(offset: int, *, microseconds: int = 0) -> str:
    """A fixed moment `offset` minutes after the tests' epoch, formatted as apis.shared.clock formats times."""
    return to_iso(_EPOCH + timedelta(minutes=offset, microseconds=microseconds))


async def pending_at(
    repository: FileRepository, user_id: str, created_at: str, *, upload_id: str | None = None
) -> FileRecord:
    record = random_file(user_id, random_session_id(), created_at=created_at, upload_id=upload_id)
    return await repository.create_file(record)


async def failed_at(repository: FileRepository, user_id: str, created_at: str) -> FileRecord:
    record = await pending_at(repository, user_id, created_at)
    marked = await repository.mark_failed(user_id, record.upload_id, now=now_iso())
    assert marked is not None
    return marked


async def ready_at(repository: FileRepository, user_id: str, created_at: str) -> FileRecord:
    record = await pending_at(repository, user_id, created_at)
    marked = await repository.mark_ready(user_id, record.upload_id, max_user_bytes=ROOMY, now=now_iso())
    assert marked is not None
    return marked


async def stale(repository: FileRepository, *, created_before: str = LATER, limit: int = 100) -> list[FileRecord]:
    return await repository.list_stale_uploads(created_before=created_before, limit=limit)


async def test_pending_and_failed_uploads_of_every_user_are_listed_oldest_first(
    file_repository: FileRepository,
) -> None:
    alice, bob, carol = random_user_id(), random_user_id(), random_user_id()
    # Made in an order that is neither their creation times nor their owners', and with ready files among
    # them (one stored ready from the start), so only the contract's order and filter give the list below.
    fourth = await failed_at(file_repository, bob, minute(4))
    await ready_at(file_repository, alice, minute(0))
    second = await pending_at(file_repository, carol, minute(2))
    first = await pending_at(file_repository, alice, minute(1))
    await ready_at(file_repository, carol, minute(3))
    born_ready = random_file(bob, random_session_id(), created_at=minute(2)).model_copy(
        update={"status": FileStatus.READY}
    )
    await file_repository.create_file(born_ready)
    third = await failed_at(file_repository, alice, minute(3))
    fifth = await pending_at(file_repository, bob, minute(5))

    listed = await stale(file_repository)

    assert listed == [first, second, third, fourth, fifth]
    assert [record.status for record in listed] == ["pending", "pending", "failed", "failed", "pending"]


async def test_uploads_created_at_the_same_moment_are_listed_by_upload_id(file_repository: FileRepository) -> None:
    smaller, larger = new_id(), new_id()
    assert smaller < larger
    second = await pending_at(file_repository, random_user_id(), minute(1), upload_id=larger)
    first = await pending_at(file_repository, random_user_id(), minute(1), upload_id=smaller)

    assert await stale(file_repository) == [first, second]


async def test_an_upload_leaves_the_list_once_completed_and_stays_once_failed(file_repository: FileRepository) -> None:
    owner = random_user_id()
    completed = await pending_at(file_repository, owner, minute(1))
    rejected = await pending_at(file_repository, owner, minute(2))
    assert await stale(file_repository) == [completed, rejected]

    assert await file_repository.mark_ready(owner, completed.upload_id, max_user_bytes=ROOMY, now=now_iso())
    marked = await file_repository.mark_failed(owner, rejected.upload_id, now=now_iso())

    assert marked is not None
    assert await stale(file_repository) == [marked]


async def test_a_deleted_upload_leaves_the_list(file_repository: FileRepository) -> None:
    owner, other = random_user_id(), random_user_id()
    pending = await pending_at(file_repository, owner, minute(1))
    rejected = await failed_at(file_repository, owner, minute(2))
    kept = await pending_at(file_repository, other, minute(3))
    assert await stale(file_repository) == [pending, rejected, kept]

    assert await file_repository.delete_file(owner, pending.upload_id) == pending
    assert await file_repository.delete_file(owner, rejected.upload_id) == rejected

    assert await stale(file_repository) == [kept]


async def test_only_uploads_created_strictly_before_the_bound_are_listed(file_repository: FileRepository) -> None:
    owner = random_user_id()
    early = await pending_at(file_repository, owner, minute(1))
    on_the_bound = await failed_at(file_repository, owner, minute(2))
    await pending_at(file_repository, owner, minute(3))
    fresh = await file_repository.create_file(random_file(owner, random_session_id()))  # created now

    assert await stale(file_repository, created_before=minute(0)) == []
    assert await stale(file_repository, created_before=minute(2)) == [early]
    assert await stale(file_repository, created_before=minute(2, microseconds=1)) == [early, on_the_bound]
    assert fresh not in await stale(file_repository, created_before=to_iso(utc_now() - timedelta(hours=1)))
    assert (await stale(file_repository, created_before=to_iso(utc_now() + timedelta(hours=1))))[-1] == fresh


async def test_the_list_holds_at_most_limit_of_the_oldest(file_repository: FileRepository) -> None:
    owner = random_user_id()
    await ready_at(file_repository, owner, minute(0))  # older than all, and never counted against the limit
    newest_first = [await pending_at(file_repository, owner, minute(offset)) for offset in range(5, 0, -1)]
    oldest_first = newest_first[::-1]

    assert await stale(file_repository, limit=1) == oldest_first[:1]
    assert await stale(file_repository, limit=2) == oldest_first[:2]
    assert await stale(file_repository, limit=5) == oldest_first
    assert await stale(file_repository, limit=6) == oldest_first
    assert await stale(file_repository, created_before=minute(4), limit=2) == oldest_first[:2]
    assert await stale(file_repository, created_before=minute(3), limit=5) == oldest_first[:2]


async def test_a_store_without_unfinished_uploads_lists_nothing(file_repository: FileRepository) -> None:
    assert await stale(file_repository) == []

    await ready_at(file_repository, random_user_id(), minute(1))

    assert await stale(file_repository) == []


async def test_sqlite_reads_the_list_through_its_partial_index_in_order(sqlite_database: SqliteDatabase) -> None:
    plan = await sqlite_database.run(
        lambda connection: connection.execute(f"EXPLAIN QUERY PLAN {STALE_UPLOADS_QUERY}", (LATER, 10)).fetchall()
    )

    details = [row[3] for row in plan]
    assert any("USING INDEX files_unfinished_by_age" in detail for detail in details), details
    assert not any("TEMP B-TREE" in detail for detail in details), details
