"""MemoryRepository on DynamoDB, in each user's own partition beside their sessions.

    record   pk=USER#{userId}  sk=MEMORY#{kind}#{recordId}                     body (the record as JSON), sessionId
    copy     pk=USER#{userId}  sk=MEMORY_SESSION#{sessionId}#{kind}#{recordId}  body: a record of a session, again
    count    pk=USER#{userId}  sk=MEMORY_COUNT#{kind}                          n: the user's records of the kind
    opt-out  pk=USER#{userId}  sk=MEMORY_SETTINGS                              optedOut

Record ids are UUIDv7, so one strongly consistent Query per kind lists a user's records newest first (and its
oldest first, for the trim). A record that came from a session has a copy under that session, written and
removed in the same transactions as the record: a session's records (its summary, read after every turn) are one
Query of that session's copies, where a filter on the user's records read, and paid for, every record of the
kind. Records stored before the copies existed get theirs from `colloquy storage init` (`backfill_session_copies`).
None of these items carries lsi1sk or any index key: the session list and the admin lists never see them.

The count makes MEMORY_MAX_RECORDS_PER_USER exact without a lock: an add is one TransactWriteItems that puts the
record, deletes the kind's oldest records if it would pass the cap (each on condition that it still exists),
and sets the count on condition that it is still the value read; a delete removes the record and decrements the
count in one transaction too. Whichever writer loses a race reads again and retries. An add removes at most
_MAX_TRIM records, so a cap lowered below what users hold is reached over their next adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.errors import ConflictError
from apis.shared.memory.models import MemoryKind, MemoryRecord
from apis.shared.memory.repository import DEFAULT_MAX_PER_KIND
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import BATCH_ATTEMPTS, Item, Table, backoff, deserialize, serialize
from apis.shared.storage.records import read_or_raise, read_or_skip

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

KIND = "memory"
RECORD_SK_PREFIX = "MEMORY#"
SESSION_SK_PREFIX = "MEMORY_SESSION#"
COUNT_SK_PREFIX = "MEMORY_COUNT#"
SETTINGS_SK = "MEMORY_SETTINGS"
_ADD_ATTEMPTS = 10
# Old records deleted in one add's transaction, each with its session copy (DynamoDB allows 100 actions; the
# others are the put, its copy and the count).
_MAX_TRIM = 25
_CONDITION_FAILED = "ConditionalCheckFailed"


def _key(user_id: str, sort_key: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: sort_key})


def _kind_prefix(kind: MemoryKind) -> str:
    return f"{RECORD_SK_PREFIX}{kind.value}#"


def _record_key(user_id: str, kind: MemoryKind, record_id: str) -> Item:
    return _key(user_id, f"{_kind_prefix(kind)}{schema.escape(record_id)}")


def _session_prefix(session_id: str, kind: MemoryKind) -> str:
    return f"{SESSION_SK_PREFIX}{schema.escape(session_id)}#{kind.value}#"


def _copy_key(user_id: str, session_id: str, kind: MemoryKind, record_id: str) -> Item:
    return _key(user_id, f"{_session_prefix(session_id, kind)}{schema.escape(record_id)}")


def _copy_item(user_id: str, record: MemoryRecord) -> Item | None:
    """The session copy of `record`, or None for a record of no session."""
    if record.source_session_id is None:
        return None
    key = _copy_key(user_id, record.source_session_id, record.kind, record.record_id)
    return {**key, **serialize({"body": record.model_dump_json()})}


def _copy_key_of(item: Item) -> Item | None:
    """The key of the session copy of a stored record item (read with its sessionId), or None."""
    session = item.get("sessionId")
    if session is None:
        return None
    escaped_id = str(item[schema.SORT_KEY]["S"]).split("#", 2)[2]  # MEMORY#{kind}#{escaped record id}
    copy_sk = f"{_session_prefix(str(session['S']), _kind_of(item))}{escaped_id}"
    return {schema.PARTITION_KEY: item[schema.PARTITION_KEY], schema.SORT_KEY: {"S": copy_sk}}


def _count_key(user_id: str, kind: MemoryKind) -> Item:
    return _key(user_id, f"{COUNT_SK_PREFIX}{kind.value}")


def _record_item(user_id: str, record: MemoryRecord) -> Item:
    values: dict[str, Any] = {"body": record.model_dump_json()}
    if record.source_session_id is not None:
        values["sessionId"] = record.source_session_id
    return {**_record_key(user_id, record.kind, record.record_id), **serialize(values)}


def _record_of(item: Item) -> MemoryRecord:
    return MemoryRecord.model_validate_json(item["body"]["S"])


def _kind_of(item: Item) -> MemoryKind:
    """The kind in an item's sort key (MEMORY#{kind}#...), readable even when its body is not."""
    return MemoryKind(str(item[schema.SORT_KEY]["S"]).removeprefix(RECORD_SK_PREFIX).split("#", 1)[0])


def _failed(reasons: Sequence[Any], position: int) -> bool:
    return len(reasons) > position and reasons[position].code == _CONDITION_FAILED


class DynamoMemoryRepository:
    """Memory records in the shared table; see the module docstring for the layout."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def _put_new(self, user_id: str, record: MemoryRecord) -> list[TransactWriteItemTypeDef]:
        """The record's put (first: its condition failing means the id is taken), and its session copy's."""
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table.name,
                "Item": _record_item(user_id, record),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        copy = _copy_item(user_id, record)
        return [put] if copy is None else [put, {"Put": {"TableName": self._table.name, "Item": copy}}]

    def _delete_existing(self, key: Item) -> TransactWriteItemTypeDef:
        return {"Delete": {"TableName": self._table.name, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}

    def _delete_stored(self, item: Item) -> list[TransactWriteItemTypeDef]:
        """The deletes of a stored record (on condition that it is still there) and of its session copy, if any
        (a record stored before the copies and not yet backfilled has none: no condition on it)."""
        deletes = [
            self._delete_existing(
                {schema.PARTITION_KEY: item[schema.PARTITION_KEY], schema.SORT_KEY: item[schema.SORT_KEY]}
            )
        ]
        copy_key = _copy_key_of(item)
        if copy_key is not None:
            deletes.append({"Delete": {"TableName": self._table.name, "Key": copy_key}})
        return deletes

    def _count_change(self, user_id: str, kind: MemoryKind, by: int) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": _count_key(user_id, kind),
                "UpdateExpression": "ADD n :by",
                "ExpressionAttributeValues": serialize({":by": by}),
            }
        }

    def _count_set(self, user_id: str, kind: MemoryKind, read: int, new: int) -> TransactWriteItemTypeDef:
        """The count becomes `new`, on condition that it is still `read` (a missing count item reads 0)."""
        condition = "attribute_not_exists(n) OR n = :read" if read == 0 else "n = :read"
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": _count_key(user_id, kind),
                "UpdateExpression": "SET n = :new",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": serialize({":read": read, ":new": new}),
            }
        }

    async def _count(self, user_id: str, kind: MemoryKind) -> int:
        key = _count_key(user_id, kind)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        item = response.get("Item")
        return int(deserialize(item).get("n", 0)) if item else 0

    def _kind_request(self, user_id: str, kind: MemoryKind, *, newest_first: bool) -> QueryInputTypeDef:
        return self._prefix_request(user_id, _kind_prefix(kind), newest_first=newest_first)

    def _prefix_request(self, user_id: str, prefix: str, *, newest_first: bool) -> QueryInputTypeDef:
        return {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": schema.user_pk(user_id), ":prefix": prefix}),
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }

    async def _oldest(self, user_id: str, kind: MemoryKind, count: int) -> list[Item]:
        """The keys (and sessions) of the user's `count` oldest records of `kind`."""
        request = self._kind_request(user_id, kind, newest_first=False)
        request["ProjectionExpression"] = "pk, sk, sessionId"
        return await self._table.query(request, want=count)

    async def _find(self, user_id: str, record_id: str) -> Item | None:
        """The user's record item with this id, whatever its kind: one BatchGetItem of the three keys."""
        keys = [_record_key(user_id, kind, record_id) for kind in MemoryKind]
        pending: Any = {self._table.name: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(BATCH_ATTEMPTS):
            response = await self._table.run(partial(self._table.client.batch_get_item, RequestItems=pending))
            found: list[Item] = response["Responses"].get(self._table.name, [])
            if found:
                return found[0]
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                return None
            await backoff(attempt)
        raise self._table.busy()

    async def add(self, record: MemoryRecord, *, max_per_kind: int = DEFAULT_MAX_PER_KIND) -> MemoryRecord:
        user_id, kind = record.user_id, record.kind
        for attempt in range(_ADD_ATTEMPTS):
            count = await self._count(user_id, kind)
            excess = min(count + 1 - max_per_kind, _MAX_TRIM)
            oldest = await self._oldest(user_id, kind, excess) if excess > 0 else []
            actions = [
                *self._put_new(user_id, record),
                *(delete for item in oldest for delete in self._delete_stored(item)),
                self._count_set(user_id, kind, count, count + 1 - len(oldest)),
            ]
            reasons = await self._table.transact(actions)
            if reasons is None:
                return record
            if _failed(reasons, 0):
                raise ConflictError(f"memory record id {record.record_id} is taken", code="memory_id_taken")
            # Another writer added or removed a record of the kind since the count was read: read again.
            await backoff(attempt)
        raise self._table.busy()

    async def replace(self, user_id: str, old_record_id: str, record: MemoryRecord) -> MemoryRecord | None:
        old = await self._find(user_id, old_record_id)
        if old is None:
            return None
        old_kind = _kind_of(old)
        actions = [*self._put_new(user_id, record), *self._delete_stored(old)]
        if old_kind is not record.kind:
            actions += [self._count_change(user_id, old_kind, -1), self._count_change(user_id, record.kind, 1)]
        reasons = await self._table.transact(actions)
        if reasons is None:
            return record
        if _failed(reasons, 0):
            raise ConflictError(f"memory record id {record.record_id} is taken", code="memory_id_taken")
        return None  # the old record went meanwhile

    async def get(self, user_id: str, record_id: str) -> MemoryRecord | None:
        item = await self._find(user_id, record_id)
        return None if item is None else read_or_raise(KIND, record_id, partial(_record_of, item))

    async def list_records(
        self, user_id: str, kinds: Sequence[MemoryKind], *, limit: int, session_id: str | None = None
    ) -> list[MemoryRecord]:
        if limit <= 0:
            return []
        items: list[Item] = []
        for kind in dict.fromkeys(kinds):
            prefix = _kind_prefix(kind) if session_id is None else _session_prefix(session_id, kind)
            items += await self._table.query(self._prefix_request(user_id, prefix, newest_first=True), want=limit)
        readable = (read_or_skip(KIND, str(item[schema.SORT_KEY]["S"]), partial(_record_of, item)) for item in items)
        records = [record for record in readable if record is not None]
        records.sort(key=lambda record: record.record_id, reverse=True)
        return records[:limit]

    async def delete(self, user_id: str, record_id: str) -> bool:
        item = await self._find(user_id, record_id)
        if item is None:
            return False
        actions = [*self._delete_stored(item), self._count_change(user_id, _kind_of(item), -1)]
        return await self._table.transact(actions) is None

    async def opted_out(self, user_id: str) -> bool:
        key = _key(user_id, SETTINGS_SK)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        item = response.get("Item")
        return bool(item and deserialize(item).get("optedOut"))

    async def set_opted_out(self, user_id: str, opted_out: bool) -> None:
        item = {**_key(user_id, SETTINGS_SK), **serialize({"optedOut": opted_out})}
        await self._table.run(lambda: self._table.client.put_item(TableName=self._table.name, Item=item))


# Where `backfill_session_copies` records that it has run to the end on this table.
BACKFILL_KEY = serialize({schema.PARTITION_KEY: "SCHEMA", schema.SORT_KEY: "BACKFILL#memory-session-copies"})


async def backfill_session_copies(table: Table) -> str:
    """Give every record of a session stored before the copies existed its copy (`colloquy storage init`); one
    Scan of the table, once: a marker item says it has run to the end, so later inits skip it.

    Each copy is written with a check that its record still exists, in one transaction, so a record deleted
    meanwhile gets no copy; one that has its copy already (written by a service since) is left as it is."""
    marker = await table.run(
        partial(table.client.get_item, TableName=table.name, Key=BACKFILL_KEY, ConsistentRead=True)
    )
    if "Item" in marker:
        return "memory session-copy backfill: exists"
    written, start = 0, None
    while True:
        request: dict[str, Any] = {
            "TableName": table.name,
            "FilterExpression": "begins_with(sk, :prefix) AND attribute_exists(sessionId)",
            "ExpressionAttributeValues": serialize({":prefix": RECORD_SK_PREFIX}),
            "ConsistentRead": True,
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        page = await table.run(partial(table.client.scan, **request))
        for item in page.get("Items", []):
            written += await _backfill_one(table, item)
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    await table.run(partial(table.client.put_item, TableName=table.name, Item=BACKFILL_KEY))
    return f"memory session-copy backfill: done, {written} records stored before it copied"


async def _backfill_one(table: Table, item: Item) -> int:
    """1 if `item`'s copy was written now, 0 if the record went or its copy exists already."""
    copy_key = _copy_key_of(item)
    if copy_key is None:
        return 0
    key = {schema.PARTITION_KEY: item[schema.PARTITION_KEY], schema.SORT_KEY: item[schema.SORT_KEY]}
    actions: list[TransactWriteItemTypeDef] = [
        {"ConditionCheck": {"TableName": table.name, "Key": key, "ConditionExpression": "attribute_exists(pk)"}},
        {
            "Put": {
                "TableName": table.name,
                "Item": {**copy_key, "body": item["body"]},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    return 1 if await table.transact(actions) is None else 0
