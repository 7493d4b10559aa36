"""SessionRepository on DynamoDB: one item per session, one per message, one claim per session id.

    session  pk=USER#{userId}                     sk=SESSION#{sessionId}  lsi1sk={lastMessageAt}#{sessionId}
    claim    pk=SESSIONID#{sessionId}             sk=OWNER                (session ids are unique across users)
    message  pk=USER#{userId}#SESSION#{sessionId} sk=MSG#{messageId}      (UUIDv7 ids: sk order is creation order)

How records become items is in session_items.py.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.clock import now_iso
from apis.shared.costs.models import CostEntry
from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.sessions.exceptions import MessageIdTaken, MessageSuperseded, SessionIdTaken, SessionNotFound
from apis.shared.sessions.models import Message, SessionChanges, SessionMetadata, SessionPreferences
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo import session_items as codec
from apis.shared.storage.dynamo.client import Item, Table, deserialize, serialize, set_expression
from apis.shared.storage.dynamo.cost_writes import CostWrite
from apis.shared.storage.records import read_or_raise, read_or_skip

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

KIND = "session"
_FILTERED_PAGE_SIZE = 100  # a filtered list reads this many sessions a page, as most may not match
_DELETE_ATTEMPTS = 5
_APPEND_ATTEMPTS = 5


def _message_taken(message: Message) -> MessageIdTaken:
    return MessageIdTaken(f"message {message.message_id} is stored already")


class DynamoSessionRepository:
    """Sessions and messages in the shared table; see the module docstring for the item layout."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def _key(self, user_id: str, session_id: str) -> Item:
        return serialize(
            {schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: schema.session_sk(session_id)}
        )

    def _claim_key(self, session_id: str) -> Item:
        return serialize(
            {schema.PARTITION_KEY: schema.session_claim_pk(session_id), schema.SORT_KEY: schema.SESSION_CLAIM_SK}
        )

    async def create_session(
        self, user_id: str, session: SessionMetadata, first_message: Message | None = None
    ) -> SessionMetadata:
        if first_message is not None:
            session = session.with_message_counted(first_message)
        absent = "attribute_not_exists(pk)"
        items = [
            {**self._claim_key(session.session_id), "owner": {"S": user_id}},
            codec.session_item(user_id, session),
            *([codec.message_item(user_id, session.session_id, first_message)] if first_message is not None else []),
        ]
        reasons = await self._table.transact(
            [{"Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": absent}} for item in items]
        )
        if reasons is None:
            return session
        if first_message is not None and {reason.code for reason in reasons[:2]} == {"None"}:
            raise _message_taken(first_message)
        raise SessionIdTaken(f"session id {session.session_id} is taken")

    async def get_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        key = self._key(user_id, session_id)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        item = response.get("Item")
        return read_or_raise(KIND, session_id, partial(codec.session_from_item, item)) if item is not None else None

    async def list_sessions(
        self,
        user_id: str,
        *,
        limit: int,
        page_token: str | None = None,
        starred: bool | None = None,
        title_query: str | None = None,
    ) -> Page[SessionMetadata]:
        after = decode_token(page_token, fields=("lastMessageAt", "sessionId")) if page_token is not None else None
        request = self._list_request(user_id, after, starred=starred, title_query=title_query)
        # One more than a page tells whether another page exists; the token is the last item returned, so
        # whatever was read beyond it is read again next time rather than skipped.
        found = await self._table.query(
            request, want=limit + 1, page_size=_FILTERED_PAGE_SIZE if "FilterExpression" in request else 0
        )
        # An unreadable session is left out of the page (records.py); the cursor still moves past it.
        readable = (
            read_or_skip(KIND, deserialize(item)[schema.SORT_KEY], partial(codec.session_from_item, item))
            for item in found[:limit]
        )
        items = [session for session in readable if session is not None]
        if len(found) <= limit:
            return Page(items=items, next_token=None)
        last_at, last_id = deserialize(found[limit - 1])[schema.SESSIONS_BY_LAST_MESSAGE.sort_key].split("#", 1)
        return Page(items=items, next_token=encode_token({"lastMessageAt": last_at, "sessionId": last_id}))

    def _list_request(
        self, user_id: str, after: dict[str, str] | None, *, starred: bool | None, title_query: str | None
    ) -> QueryInputTypeDef:
        """The Query of the caller's sessions on lsi1, newest first, after the cursor, with the filters."""
        index = schema.SESSIONS_BY_LAST_MESSAGE
        names = {"#pk": index.partition_key}
        values: dict[str, Any] = {":pk": schema.user_pk(user_id)}
        key_condition = "#pk = :pk"
        if after is not None:
            names["#lsk"] = index.sort_key
            key_condition += " AND #lsk < :after"
            values[":after"] = schema.session_list_sk(after["lastMessageAt"], after["sessionId"])
        filters: list[str] = []
        if starred is not None:
            names["#starred"], values[":starred"] = "starred", starred
            filters.append("#starred = :starred")
        if title_query is not None:
            names["#titleLower"], values[":title"] = "titleLower", title_query.lower()
            filters.append("contains(#titleLower, :title)")
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": index.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": False,
            "ConsistentRead": True,  # a local index can be read consistently: a new session shows at once
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        return request

    async def update_session(self, user_id: str, session_id: str, changes: SessionChanges) -> SessionMetadata | None:
        current = await self.get_session(user_id, session_id)
        if current is None:
            return None
        paths = codec.changed_fields(changes, changes.apply_to(current))
        if not paths:
            return current
        expression, names, values = set_expression(paths)
        key = self._key(user_id, session_id)

        item = await self._table.update_existing(key, expression, names, values)
        return codec.session_from_item(item) if item is not None else None

    async def delete_session(self, user_id: str, session_id: str) -> SessionMetadata | None:
        for _ in range(_DELETE_ATTEMPTS):
            current = await self.get_session(user_id, session_id)
            if current is None:
                return None
            await self._delete_messages(user_id, session_id)
            # The count read before the messages were listed proves no message arrived since: otherwise
            # the session stays, and the next round deletes the newcomer too. No message outlives it.
            reasons = await self._table.transact(
                [
                    {
                        "Delete": {
                            "TableName": self._table.name,
                            "Key": self._key(user_id, session_id),
                            "ConditionExpression": "attribute_exists(pk) AND messageCount = :count",
                            "ExpressionAttributeValues": {":count": {"N": str(current.message_count)}},
                        }
                    },
                    {"Delete": {"TableName": self._table.name, "Key": self._claim_key(session_id)}},
                ]
            )
            if reasons is None:
                return current
        raise self._table.busy()

    async def _delete_messages(self, user_id: str, session_id: str) -> None:
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": schema.messages_pk(user_id, session_id)}},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        while keys := await self._table.query(request, want=1000):
            await self._table.delete_keys(keys)

    async def append_message(
        self,
        user_id: str,
        session_id: str,
        message: Message,
        *,
        cost: CostEntry | None = None,
        replaces: Message | None = None,
        preferences: SessionPreferences | None = None,
    ) -> SessionMetadata:
        # One transaction: the message, the session's side and the month's cost. botocore resends it with the
        # same ClientRequestToken after a lost answer, which DynamoDB itself treats as idempotent; a condition
        # that fails because the write already landed (a server that ignores the token, or a retry after the
        # token expired) is recognised below by reading back exactly the message we wrote.
        put = self._message_put(user_id, session_id, message, replaces)
        costs = await CostWrite.prepare(self._table, cost, now_iso()) if cost is not None else None
        moves_forward = True  # the usual case: the message is the newest of its session
        for _ in range(_APPEND_ATTEMPTS):
            session_side = (
                self._count_message(user_id, session_id, message, moves_forward, preferences)
                if replaces is None
                else self._add_cost(user_id, session_id, message.cost - replaces.cost, preferences)
            )
            reasons = await self._table.transact([put, session_side, *(costs.actions if costs else [])])
            if reasons is None:
                break
            if reasons[0].code == "ConditionalCheckFailed":
                stored = await self._stored_message(user_id, session_id, message.message_id, reasons[0].item)
                if stored == message:
                    break  # it landed on an earlier attempt whose answer was lost
                if replaces is None:
                    raise _message_taken(message)
                raise MessageSuperseded(f"message {message.message_id} changed since its checkpoint")
            if costs is not None and costs.refused(reasons[2:]):
                # Another write created one of the user's totals first (cost_writes.py): count without it.
                costs = await costs.retried()
                continue
            old = reasons[1].item
            if old is None:
                raise SessionNotFound(f"session {session_id} not found")
            # The guess about lastMessageAt was wrong (an out-of-order message): guess from what is stored.
            moves_forward = deserialize(old)["lastMessageAt"] <= message.created_at
        else:
            raise self._table.busy()
        session = await self.get_session(user_id, session_id)
        if session is None:
            raise SessionNotFound(f"session {session_id} not found")
        return session

    def _message_put(
        self, user_id: str, session_id: str, message: Message, replaces: Message | None
    ) -> TransactWriteItemTypeDef:
        """The message's side of an append: a new item, or the replacement of exactly the checkpoint `replaces`."""
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table.name,
                "Item": codec.message_item(user_id, session_id, message),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        if replaces is not None:
            put["Put"]["ConditionExpression"] = "#status = :streaming AND #updatedAt = :replaced"
            put["Put"]["ExpressionAttributeNames"] = {"#status": "status", "#updatedAt": "updatedAt"}
            put["Put"]["ExpressionAttributeValues"] = serialize(
                {":streaming": replaces.status.value, ":replaced": replaces.updated_at}
            )
        return put

    async def _stored_message(
        self, user_id: str, session_id: str, message_id: str, item: Item | None
    ) -> Message | None:
        """The message stored under `message_id`: from a cancelled transaction's answer, or read again."""
        if item is None:
            key = serialize(
                {
                    schema.PARTITION_KEY: schema.messages_pk(user_id, session_id),
                    schema.SORT_KEY: schema.message_sk(message_id),
                }
            )
            response = await self._table.run(
                lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
            )
            item = response.get("Item")
        return codec.message_from_item(item) if item else None

    def _add_cost(
        self, user_id: str, session_id: str, cost: float, preferences: SessionPreferences | None
    ) -> TransactWriteItemTypeDef:
        """The session's side of replacing a checkpoint: the message is counted already, only its cost is new."""
        return self._session_update(
            user_id, session_id, sets=[], adds=["totalCost :cost"], values={":cost": cost}, preferences=preferences
        )

    def _count_message(
        self,
        user_id: str,
        session_id: str,
        message: Message,
        moves_forward: bool,
        preferences: SessionPreferences | None,
    ) -> TransactWriteItemTypeDef:
        """The session's side of an append: count the message and, if it is the newest, move lastMessageAt."""
        values: dict[str, Any] = {":one": 1, ":at": message.created_at, ":cost": message.cost}
        sets: list[str] = []
        if moves_forward:
            sets = ["lastMessageAt = :at", "lsi1sk = :lsk"]
            condition = "lastMessageAt <= :at"
            values[":lsk"] = schema.session_list_sk(message.created_at, session_id)
        else:
            condition = "lastMessageAt > :at"
        return self._session_update(
            user_id,
            session_id,
            sets=sets,
            adds=["messageCount :one", "totalCost :cost"],
            values=values,
            preferences=preferences,
            condition=condition,
        )

    def _session_update(
        self,
        user_id: str,
        session_id: str,
        *,
        sets: list[str],
        adds: list[str],
        values: dict[str, Any],
        preferences: SessionPreferences | None,
        condition: str | None = None,
    ) -> TransactWriteItemTypeDef:
        """An update of the session item that must exist; the preferences set in `preferences` are SET too."""
        names: dict[str, str] = {}
        if preferences is not None:
            dumped = preferences.model_dump(mode="json", by_alias=True)
            for position, name in enumerate(sorted(preferences.model_fields_set)):
                alias = SessionPreferences.model_fields[name].alias or name
                names["#preferences"], names[f"#p{position}"] = "preferences", alias
                values[f":p{position}"] = dumped[alias]
                sets.append(f"#preferences.#p{position} = :p{position}")
        expression = f"ADD {', '.join(adds)}"
        if sets:
            expression = f"SET {', '.join(sets)} {expression}"
        update: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table.name,
                "Key": self._key(user_id, session_id),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(pk)" + (f" AND {condition}" if condition else ""),
                "ExpressionAttributeValues": serialize(values),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        if names:
            update["Update"]["ExpressionAttributeNames"] = names
        return update

    async def list_messages(
        self, user_id: str, session_id: str, *, limit: int, page_token: str | None = None
    ) -> Page[Message]:
        after = decode_token(page_token, fields=("messageId",))["messageId"] if page_token is not None else None
        if await self.get_session(user_id, session_id) is None:
            raise SessionNotFound(f"session {session_id} not found")
        values: dict[str, Any] = {":pk": schema.messages_pk(user_id, session_id)}
        if after is None:
            key_condition = "pk = :pk AND begins_with(sk, :prefix)"
            values[":prefix"] = schema.MESSAGE_SK_PREFIX
        else:
            key_condition = "pk = :pk AND sk > :after"
            values[":after"] = schema.message_sk(after)
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": serialize(values),
            "ConsistentRead": True,
        }
        found = await self._table.query(request, want=limit + 1)
        items = [codec.message_from_item(item) for item in found[:limit]]
        more = len(found) > limit
        return Page(items=items, next_token=encode_token({"messageId": items[-1].message_id}) if more else None)

    async def list_recent_messages(self, user_id: str, session_id: str, *, limit: int) -> list[Message]:
        if await self.get_session(user_id, session_id) is None:
            raise SessionNotFound(f"session {session_id} not found")
        if limit <= 0:
            return []
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize(
                {":pk": schema.messages_pk(user_id, session_id), ":prefix": schema.MESSAGE_SK_PREFIX}
            ),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found = await self._table.query(request, want=limit)
        return [codec.message_from_item(item) for item in reversed(found)]

    async def ping(self) -> None:
        await self._table.run(lambda: self._table.client.describe_table(TableName=self._table.name))
