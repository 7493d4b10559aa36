"""FileRepository on DynamoDB: an item per attachment, a usage item per user, a claim per upload id.

The layout is in file_items.py. Every change of status is one TransactWriteItems whose file action is
conditioned on the status (and size) read just before, so of two concurrent calls exactly one writes; the
usage item changes in the same transaction by `ADD`, which the server applies to the stored numbers. A
condition that fails because the record changed meanwhile sends the call back to read it again, and what it
is then decides (gone: None; no longer pending: FileNotPending). Reads are strongly consistent, so a caller
always sees its own writes; the one exception is the sweeper's list of unfinished uploads, read from a global
index (see `list_stale_uploads`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.errors import ConflictError
from apis.shared.files.exceptions import FileNotPending, StorageQuotaExceeded
from apis.shared.files.listing import NEWEST_FIRST, FileCursor, FileSort, FileSortBy, decode_cursor, encode_cursor
from apis.shared.files.models import FileRecord, FileStatus, FileUsage
from apis.shared.pagination import Page
from apis.shared.storage.dynamo import file_items as codec
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table, serialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

_ATTEMPTS = 5  # re-reads after a record changed under a write; each one means another writer got through
_FILTERED_PAGE_SIZE = 100  # the list reads this many items a page, as pending and failed ones are filtered out
_SESSION_PAGE_SIZE = 1000  # a session's files are read in pages of this many
_CHECK_FAILED = "ConditionalCheckFailed"
_UNCHANGED = "#status = :seen AND #size = :size"
_SORT_INDEXES = {FileSortBy.SIZE: schema.FILES_BY_SIZE, FileSortBy.TYPE: schema.FILES_BY_TYPE}
_NAMES = {"#status": codec.STATUS, "#size": codec.SIZE_BYTES}


def _as_seen(record: FileRecord) -> Item:
    """The values of the `_UNCHANGED` condition: the record is still as `record` shows it."""
    return {":seen": {"S": record.status.value}, ":size": codec.number(record.size_bytes)}


class DynamoFileRepository:
    """Attachment records and usage counters in the shared table; see file_items.py for the item layout."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def _get_item(self, key: Item) -> Item | None:
        get_item = partial(self._table.client.get_item, TableName=self._table.name, Key=key, ConsistentRead=True)
        item: Item | None = (await self._table.run(get_item)).get("Item")
        return item

    async def create_file(self, record: FileRecord) -> FileRecord:
        absent = "attribute_not_exists(pk)"
        reasons = await self._table.transact(
            [
                {"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": absent}}
                for item in (codec.claim_item(record), codec.file_item(record))
            ]
        )
        if reasons is not None:
            raise ConflictError(f"upload id {record.upload_id} is taken")
        return record

    async def get_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        item = await self._get_item(codec.file_key(user_id, upload_id))
        return codec.file_from_item(item) if item is not None else None

    async def get_usage(self, user_id: str) -> FileUsage:
        return codec.usage_from_item(await self._get_item(codec.usage_key(user_id)))

    async def _pending(self, user_id: str, upload_id: str) -> FileRecord | None:
        """The record as it is now: None if there is none; FileNotPending unless it is pending."""
        current = await self.get_file(user_id, upload_id)
        if current is not None and current.status != FileStatus.PENDING:
            raise FileNotPending.of(current.upload_id, current.status)
        return current

    def _move(self, record: FileRecord, status: FileStatus, now: str) -> TransactWriteItemTypeDef:
        """Set a new status on a file that is still as it was read; a ready file leaves the unfinished uploads."""
        expression = "SET #status = :status, #updatedAt = :now"
        names = {**_NAMES, "#updatedAt": "updatedAt"}
        if status == FileStatus.READY:
            expression += " REMOVE #unfinishedKind, #unfinishedKey"
            names["#unfinishedKind"] = codec.UNFINISHED_UPLOADS.partition_key
            names["#unfinishedKey"] = codec.UNFINISHED_UPLOADS.sort_key
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": codec.file_key(record.user_id, record.upload_id),
                "UpdateExpression": expression,
                "ConditionExpression": _UNCHANGED,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {**_as_seen(record), ":status": {"S": status.value}, ":now": {"S": now}},
            }
        }

    def _count(self, record: FileRecord, sign: int, *, max_user_bytes: int | None = None) -> TransactWriteItemTypeDef:
        """Add (sign 1) or remove (sign -1) a file on its owner's usage; adding checks that it fits the quota."""
        values: Item = {":bytes": codec.number(sign * record.size_bytes), ":files": codec.number(sign)}
        if max_user_bytes is not None:
            values[":room"] = codec.number(max_user_bytes - record.size_bytes)
        update: UpdateTypeDef = {
            "TableName": self._table.name,
            "Key": codec.usage_key(record.user_id),
            "UpdateExpression": "ADD #used :bytes, #count :files",
            "ExpressionAttributeNames": {"#used": codec.USED_BYTES, "#count": codec.FILE_COUNT},
            "ExpressionAttributeValues": values,
        }
        if max_user_bytes is not None:
            # used + size <= limit, as used <= limit - size: the server compares with what is stored.
            update["ConditionExpression"] = "attribute_not_exists(#used) OR #used <= :room"
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": update}

    async def mark_ready(self, user_id: str, upload_id: str, *, max_user_bytes: int, now: str) -> FileRecord | None:
        for _ in range(_ATTEMPTS):
            current = await self._pending(user_id, upload_id)
            if current is None:
                return None
            if current.size_bytes > max_user_bytes:  # no usage can make room for it: the condition cannot say so
                used = (await self.get_usage(user_id)).used_bytes
                raise StorageQuotaExceeded.of(
                    used_bytes=used, max_user_bytes=max_user_bytes, size_bytes=current.size_bytes
                )
            reasons = await self._table.transact(
                [self._move(current, FileStatus.READY, now), self._count(current, 1, max_user_bytes=max_user_bytes)]
            )
            if reasons is None:
                return current.model_copy(update={"status": FileStatus.READY, "updated_at": now})
            if reasons[0].code != _CHECK_FAILED:
                used = codec.usage_from_item(reasons[1].item).used_bytes
                raise StorageQuotaExceeded.of(
                    used_bytes=used, max_user_bytes=max_user_bytes, size_bytes=current.size_bytes
                )
        raise self._table.busy()

    async def mark_failed(self, user_id: str, upload_id: str, *, now: str) -> FileRecord | None:
        for _ in range(_ATTEMPTS):
            current = await self._pending(user_id, upload_id)
            if current is None:
                return None
            if await self._table.transact([self._move(current, FileStatus.FAILED, now)]) is None:
                return current.model_copy(update={"status": FileStatus.FAILED, "updated_at": now})
        raise self._table.busy()

    async def delete_file(self, user_id: str, upload_id: str) -> FileRecord | None:
        for _ in range(_ATTEMPTS):
            current = await self.get_file(user_id, upload_id)
            if current is None:
                return None
            actions: list[TransactWriteItemTypeDef] = [
                {
                    "Delete": {
                        "TableName": self._table.name,
                        "Key": codec.file_key(user_id, upload_id),
                        "ConditionExpression": _UNCHANGED,
                        "ExpressionAttributeNames": _NAMES,
                        "ExpressionAttributeValues": _as_seen(current),
                    }
                },
                {"Delete": {"TableName": self._table.name, "Key": codec.claim_key(upload_id)}},
            ]
            if current.status == FileStatus.READY:
                actions.append(self._count(current, -1))
            if await self._table.transact(actions) is None:
                return current
        raise self._table.busy()

    async def list_files(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        session_id: str | None = None,
        sort: FileSort = NEWEST_FIRST,
    ) -> Page[FileRecord]:
        after = decode_cursor(page_token, sort=sort, session_id=session_id) if page_token is not None else None
        request = _list_request(self._table.name, user_id, sort=sort, session_id=session_id, after=after)
        # One more than a page tells whether another page exists; the token is the last item returned, so
        # whatever was read beyond it is read again next time rather than skipped.
        found = await self._table.query(request, want=limit + 1, page_size=_FILTERED_PAGE_SIZE)
        items = [codec.file_from_item(item) for item in found[:limit]]
        more = len(found) > limit
        token = encode_cursor(items[-1], sort=sort, session_id=session_id) if more else None
        return Page(items=items, next_token=token)

    async def list_session_files(self, user_id: str, session_id: str) -> list[FileRecord]:
        index = codec.FILES_BY_SESSION
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#lsk, :prefix)",
            "ExpressionAttributeNames": {"#pk": index.partition_key, "#lsk": index.sort_key},
            "ExpressionAttributeValues": serialize(
                {":pk": codec.files_pk(user_id), ":prefix": codec.session_files_prefix(session_id)}
            ),
            "Limit": _SESSION_PAGE_SIZE,
            "ConsistentRead": True,  # a local index can be read consistently
        }
        found: list[Item] = []
        while True:
            response = await self._table.run(partial(self._table.client.query, **request))
            found.extend(response["Items"])
            start = response.get("LastEvaluatedKey")
            if start is None:
                return [codec.file_from_item(item) for item in found]
            request["ExclusiveStartKey"] = start

    async def list_stale_uploads(self, *, created_before: str, limit: int) -> list[FileRecord]:
        """Read from gsi1, which is eventually consistent: an upload completed or deleted a moment ago may still
        be listed, and one created a moment ago may be missing; the sweeper runs again and its writes settle it.
        """
        # Files written before uploads joined gsi1 carry no gsi1 attributes, so those are simply not listed.
        index = codec.UNFINISHED_UPLOADS
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": index.name,
            "KeyConditionExpression": "#kind = :kind AND #key < :before",
            "ExpressionAttributeNames": {"#kind": index.partition_key, "#key": index.sort_key},
            "ExpressionAttributeValues": serialize({":kind": codec.UNFINISHED_UPLOAD_KIND, ":before": created_before}),
            "ScanIndexForward": True,
        }
        return [codec.file_from_item(item) for item in await self._table.query(request, want=limit)]


def _read_path(
    sort: FileSort, session_id: str | None
) -> tuple[schema.Index | None, str, dict[str, str], dict[str, Any]]:
    """The index an order is read from (None: the table's own keys), its key condition, and that condition's
    names and values besides the partition's.

    By upload: the table's keys (`sk` is FILE#{uploadId}), or lsi1 for one session ({sessionId}#{uploadId}).
    By size or type: gsi2 or gsi3, keyed by the user's files partition and the record's own `sizeBytes` or
    `mimeType`; one session's files are filtered there.
    """
    sort_index = _SORT_INDEXES.get(sort.by)
    if sort_index is not None:
        return sort_index, "#pk = :pk", {}, {}
    condition = "#pk = :pk AND begins_with(#key, :prefix)"
    if session_id is not None:
        index = codec.FILES_BY_SESSION
        return index, condition, {"#key": index.sort_key}, {":prefix": codec.session_files_prefix(session_id)}
    return None, condition, {"#key": schema.SORT_KEY}, {":prefix": codec.FILE_SK_PREFIX}


def _start_key(index: schema.Index | None, pk: str, session_id: str | None, after: FileCursor) -> Item:
    """The key, in the index read, of the last file shown: DynamoDB resumes just after it."""
    key: dict[str, Any] = {schema.PARTITION_KEY: pk, schema.SORT_KEY: codec.file_sk(after.upload_id)}
    if index is codec.FILES_BY_SESSION and session_id is not None:
        key[index.sort_key] = codec.file_session_sk(session_id, after.upload_id)
    elif index is not None:
        key[index.sort_key] = after.value
    return serialize(key)


def _list_request(
    table_name: str, user_id: str, *, sort: FileSort, session_id: str | None, after: FileCursor | None
) -> QueryInputTypeDef:
    """The Query of one user's ready files in the order of `sort`, resuming after `after` (see `_read_path`).

    The table and its local index read consistently; global indexes read eventually consistently.
    """
    pk = codec.files_pk(user_id)
    index, condition, key_names, key_values = _read_path(sort, session_id)
    names = {"#pk": schema.PARTITION_KEY, "#status": codec.STATUS, **key_names}
    values: dict[str, Any] = {":pk": pk, ":ready": FileStatus.READY.value, **key_values}
    filters = ["#status = :ready"]
    if session_id is not None and index is not codec.FILES_BY_SESSION:
        names["#session"], values[":session"] = codec.SESSION_ID, session_id
        filters.append("#session = :session")
    request: QueryInputTypeDef = {
        "TableName": table_name,
        "KeyConditionExpression": condition,
        "FilterExpression": " AND ".join(filters),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
        "ScanIndexForward": not sort.descending,
        "ConsistentRead": index is None or index.kind == "local",
    }
    if index is not None:
        request["IndexName"] = index.name
    if after is not None:
        request["ExclusiveStartKey"] = _start_key(index, pk, session_id, after)
    return request
