"""AssistantRepository on DynamoDB: items in the one table, and the access patterns that read them.

    assistant  pk=ASSISTANT#{id}  sk=ASSISTANT      the record's camelCase attributes
               gsi1pk=ASSISTANTS_OF#{ownerId}  gsi1sk={createdAt}#{id}         an owner's assistants
               and, while PUBLIC:  gsi4pk=PUBLIC_ASSISTANTS  gsi4sk={createdAt}#{id}
    share      pk=ASSISTANT#{id}  sk=SHARE#{email}  assistantId, email, createdAt, firstInteracted
               gsi1pk=ASSISTANT_SHARES_TO#{email}  gsi1sk={assistant createdAt}#{id}

Access patterns, none of them a Scan:
- an assistant by id: GetItem (consistent);
- its shares, and everything to delete with it: Query pk=ASSISTANT#{id} (consistent);
- an owner's assistants, newest first: Query gsi1 on ASSISTANTS_OF#{ownerId}, below the page's position;
- the assistants shared with an email: Query gsi1 on ASSISTANT_SHARES_TO#{email}, then BatchGetItem;
- public assistants: Query gsi4 on PUBLIC_ASSISTANTS (sparse: only public ones carry it).
createdAt is fixed-width ISO, so `{createdAt}#{id}` sorts as (createdAt, id). Global indexes are eventually
consistent: an assistant created, shared or made public a moment ago may be missing from a list for a moment.
Ids, owner ids and emails are escaped (`#`) in keys.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.assistants.exceptions import AssistantNotFound
from apis.shared.assistants.models import Assistant, AssistantShare, ListedAssistant, ListPosition, Visibility
from apis.shared.assistants.models import normalize_email as _normal
from apis.shared.errors import ConflictError
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import BATCH_ATTEMPTS, Item, Table, backoff, deserialize, serialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

ASSISTANT_SK = "ASSISTANT"
SHARE_SK_PREFIX = "SHARE#"
PUBLIC_KIND = "PUBLIC_ASSISTANTS"
_BATCH_GET_LIMIT = 100
_KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi4pk", "gsi4sk"})


def _pk(assistant_id: str) -> str:
    return f"ASSISTANT#{schema.escape(assistant_id)}"


def _key(assistant_id: str, sk: str = ASSISTANT_SK) -> Item:
    return serialize({schema.PARTITION_KEY: _pk(assistant_id), schema.SORT_KEY: sk})


def _sk_position(position: ListPosition) -> str:
    return f"{position[0]}#{position[1]}"


def assistant_item(assistant: Assistant) -> Item:
    values: dict[str, Any] = assistant.model_dump(mode="json", by_alias=True)
    values.update(
        {
            schema.PARTITION_KEY: _pk(assistant.assistant_id),
            schema.SORT_KEY: ASSISTANT_SK,
            "gsi1pk": f"ASSISTANTS_OF#{schema.escape(assistant.owner_id)}",
            "gsi1sk": _sk_position(assistant.position),
        }
    )
    if assistant.visibility == Visibility.PUBLIC:
        values.update({"gsi4pk": PUBLIC_KIND, "gsi4sk": _sk_position(assistant.position)})
    return serialize(values)


def _assistant(item: Item) -> Assistant:
    values = {name: value for name, value in deserialize(item).items() if name not in _KEY_ATTRIBUTES}
    return Assistant.model_validate(values)


def _share_item(assistant: Assistant, email: str, now: str) -> Item:
    return serialize(
        {
            schema.PARTITION_KEY: _pk(assistant.assistant_id),
            schema.SORT_KEY: f"{SHARE_SK_PREFIX}{email}",
            "gsi1pk": f"ASSISTANT_SHARES_TO#{schema.escape(email)}",
            "gsi1sk": _sk_position(assistant.position),
            "assistantId": assistant.assistant_id,
            "email": email,
            "createdAt": now,
            "firstInteracted": False,
        }
    )


def _share(item: Item) -> AssistantShare:
    values = deserialize(item)
    return AssistantShare(
        assistant_id=values["assistantId"],
        email=values["email"],
        created_at=values["createdAt"],
        first_interacted=bool(values.get("firstInteracted", False)),
    )


class DynamoAssistantRepository:
    """Assistants and their shares in the shared table; the layout is in the module docstring."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def create(self, assistant: Assistant) -> Assistant:
        reasons = await self._table.transact(
            [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": assistant_item(assistant),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
        if reasons is not None:
            raise ConflictError(f"assistant id {assistant.assistant_id} is taken")
        return assistant

    async def get(self, assistant_id: str) -> Assistant | None:
        get_item = partial(
            self._table.client.get_item, TableName=self._table.name, Key=_key(assistant_id), ConsistentRead=True
        )
        item: Item | None = (await self._table.run(get_item)).get("Item")
        return _assistant(item) if item is not None else None

    async def replace(self, assistant: Assistant) -> Assistant | None:
        reasons = await self._table.transact(
            [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": assistant_item(assistant),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            ]
        )
        return assistant if reasons is None else None

    async def _partition(self, assistant_id: str) -> list[Item]:
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": _pk(assistant_id)}},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        return await self._table.query(request, want=1_000_000, page_size=1000)

    async def delete(self, assistant_id: str) -> bool:
        keys = await self._partition(assistant_id)
        shares = [key for key in keys if deserialize(key)[schema.SORT_KEY] != ASSISTANT_SK]
        await self._table.delete_keys(shares)  # the shares first: a failure leaves the assistant to delete again
        delete_item = partial(
            self._table.client.delete_item, TableName=self._table.name, Key=_key(assistant_id), ReturnValues="ALL_OLD"
        )
        return "Attributes" in await self._table.run(delete_item)

    async def _query_index(
        self, index: schema.Index, partition: str, before: ListPosition | None, limit: int
    ) -> list[Item]:
        condition = f"{index.partition_key} = :p"
        values: Item = {":p": {"S": partition}}
        if before is not None:
            condition += f" AND {index.sort_key} < :b"
            values[":b"] = {"S": _sk_position(before)}
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": index.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        return await self._table.query(request, want=limit)

    async def list_owned(self, owner_id: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        partition = f"ASSISTANTS_OF#{schema.escape(owner_id)}"
        items = await self._query_index(schema.BY_KIND, partition, before, limit)
        return [ListedAssistant(position=(a := _assistant(item)).position, assistant=a) for item in items]

    async def list_public(self, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        items = await self._query_index(schema.PUBLIC_ASSISTANTS, PUBLIC_KIND, before, limit)
        return [ListedAssistant(position=(a := _assistant(item)).position, assistant=a) for item in items]

    async def _batch_get(self, assistant_ids: list[str]) -> dict[str, Assistant]:
        found: dict[str, Assistant] = {}
        for first in range(0, len(assistant_ids), _BATCH_GET_LIMIT):
            pending: Any = {
                self._table.name: {
                    "Keys": [_key(i) for i in dict.fromkeys(assistant_ids[first : first + _BATCH_GET_LIMIT])],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(BATCH_ATTEMPTS):
                response = await self._table.run(partial(self._table.client.batch_get_item, RequestItems=pending))
                for item in response["Responses"].get(self._table.name, []):
                    assistant = _assistant(item)
                    found[assistant.assistant_id] = assistant
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                await backoff(attempt)
            else:
                raise self._table.busy()
        return found

    async def list_shared_with(self, email: str, *, before: ListPosition | None, limit: int) -> list[ListedAssistant]:
        partition = f"ASSISTANT_SHARES_TO#{schema.escape(_normal(email))}"
        items = await self._query_index(schema.BY_KIND, partition, before, limit)
        # The position is the index's sort key: the assistant's createdAt, then its id.
        entries = [(_share(item), str(deserialize(item)["gsi1sk"]).split("#", 1)[0]) for item in items]
        assistants = await self._batch_get([share.assistant_id for share, _ in entries])
        return [
            ListedAssistant(
                position=(created_at, share.assistant_id),
                assistant=assistants.get(share.assistant_id),
                first_interacted=share.first_interacted,
            )
            for share, created_at in entries
        ]

    async def add_shares(self, assistant: Assistant, emails: list[str], *, now: str) -> None:
        for email in (_normal(e) for e in emails):
            reasons = await self._table.transact(
                [
                    {
                        "ConditionCheck": {
                            "TableName": self._table.name,
                            "Key": _key(assistant.assistant_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": _share_item(assistant, email, now),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
            if reasons is not None and reasons[0].code == "ConditionalCheckFailed":
                raise AssistantNotFound.of(assistant.assistant_id)
            # Otherwise the share existed already, and is kept as it is.

    async def remove_shares(self, assistant_id: str, emails: list[str]) -> None:
        await self._table.delete_keys([_key(assistant_id, f"{SHARE_SK_PREFIX}{_normal(e)}") for e in emails])

    async def list_shares(self, assistant_id: str) -> list[AssistantShare]:
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :share)",
            "ExpressionAttributeValues": {":pk": {"S": _pk(assistant_id)}, ":share": {"S": SHARE_SK_PREFIX}},
            "ConsistentRead": True,
        }
        items = await self._table.query(request, want=1_000_000, page_size=1000)
        return sorted((_share(item) for item in items), key=lambda share: share.email)

    async def get_share(self, assistant_id: str, email: str) -> AssistantShare | None:
        get_item = partial(
            self._table.client.get_item,
            TableName=self._table.name,
            Key=_key(assistant_id, f"{SHARE_SK_PREFIX}{_normal(email)}"),
            ConsistentRead=True,
        )
        item: Item | None = (await self._table.run(get_item)).get("Item")
        return _share(item) if item is not None else None
