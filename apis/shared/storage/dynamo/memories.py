"""MemoryRepository on DynamoDB, in each user's own partition beside their sessions.

    record   pk=USER#{userId}  sk=MEMORY#{kind}#{recordId}  body (the record as JSON), sessionId
    count    pk=USER#{userId}  sk=MEMORY_COUNT#{kind}       n: how many records of the kind the user holds
    opt-out  pk=USER#{userId}  sk=MEMORY_SETTINGS           optedOut

Record ids are UUIDv7, so one strongly consistent Query per kind lists a user's records newest first (and its
oldest first, for the trim). None of these items carries lsi1sk or any index key: the session list and the
admin lists never see them.

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
COUNT_SK_PREFIX = "MEMORY_COUNT#"
SETTINGS_SK = "MEMORY_SETTINGS"
_ADD_ATTEMPTS = 10
# Deletes of old records in one add's transaction (DynamoDB allows 100 actions; two are the put and the count).
_MAX_TRIM = 25
_CONDITION_FAILED = "ConditionalCheckFailed"


def _key(user_id: str, sort_key: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: sort_key})


def _kind_prefix(kind: MemoryKind) -> str:
    return f"{RECORD_SK_PREFIX}{kind.value}#"


def _record_key(user_id: str, kind: MemoryKind, record_id: str) -> Item:
    return _key(user_id, f"{_kind_prefix(kind)}{schema.escape(record_id)}")


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

    def _put_new(self, user_id: str, record: MemoryRecord) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": _record_item(user_id, record),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _delete_existing(self, key: Item) -> TransactWriteItemTypeDef:
        return {"Delete": {"TableName": self._table.name, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}

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
        return {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": schema.user_pk(user_id), ":prefix": _kind_prefix(kind)}),
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }

    async def _oldest_keys(self, user_id: str, kind: MemoryKind, count: int) -> list[Item]:
        request = self._kind_request(user_id, kind, newest_first=False)
        request["ProjectionExpression"] = "pk, sk"
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
            oldest = await self._oldest_keys(user_id, kind, excess) if excess > 0 else []
            actions = [
                self._put_new(user_id, record),
                *(self._delete_existing(key) for key in oldest),
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
        actions = [self._put_new(user_id, record), self._delete_existing(_record_key(user_id, old_kind, old_record_id))]
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
            request = self._kind_request(user_id, kind, newest_first=True)
            if session_id is not None:
                request["FilterExpression"] = "sessionId = :session"
                request["ExpressionAttributeValues"] = {
                    **request["ExpressionAttributeValues"],
                    **serialize({":session": session_id}),
                }
            items += await self._table.query(request, want=limit)
        readable = (read_or_skip(KIND, str(item[schema.SORT_KEY]["S"]), partial(_record_of, item)) for item in items)
        records = [record for record in readable if record is not None]
        records.sort(key=lambda record: record.record_id, reverse=True)
        return records[:limit]

    async def delete(self, user_id: str, record_id: str) -> bool:
        item = await self._find(user_id, record_id)
        if item is None:
            return False
        kind = _kind_of(item)
        actions = [
            self._delete_existing(_record_key(user_id, kind, record_id)),
            self._count_change(user_id, kind, -1),
        ]
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
