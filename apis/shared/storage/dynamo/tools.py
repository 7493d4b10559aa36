"""ToolRepository on DynamoDB.

    tool        pk=TOOLS         sk=TOOL#{toolId}   body (the record as JSON), revision
    preference  pk=USER#{userId}  sk=TOOL_PREFERENCES  tool:{toolId} = enabled, one attribute per tool

The catalogue is small and admin-made: one partition, read whole by a strongly consistent Query. A replace is a
PutItem conditioned on the revision that was read. A user's preferences are one item in their own partition
beside their sessions (it carries no lsi1sk, so the session list never sees it); a merge is one UpdateItem that
sets only the sent tools' attributes, so two merges of different tools both land.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, Table, deserialize, serialize
from apis.shared.storage.dynamo.errors import error_code
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.tools.exceptions import ToolExists
from apis.shared.tools.models import ToolRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

TOOLS_PK = "TOOLS"
TOOL_SK_PREFIX = "TOOL#"
PREFERENCES_SK = "TOOL_PREFERENCES"
PREFERENCE_PREFIX = "tool:"
KIND = "tool"
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _tool_key(tool_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: TOOLS_PK, schema.SORT_KEY: f"{TOOL_SK_PREFIX}{tool_id}"})


def _preferences_key(user_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: PREFERENCES_SK})


def _tool_item(tool: ToolRecord) -> Item:
    return {**_tool_key(tool.tool_id), **serialize({"body": tool.model_dump_json(), "revision": tool.revision})}


def _tool_of(item: Item) -> ToolRecord:
    return ToolRecord.model_validate_json(item["body"]["S"])


def _preferences_of(item: Item | None) -> dict[str, bool]:
    if item is None:
        return {}
    values = deserialize(item)
    return {
        name.removeprefix(PREFERENCE_PREFIX): bool(enabled)
        for name, enabled in values.items()
        if name.startswith(PREFERENCE_PREFIX)
    }


class DynamoToolRepository:
    """The catalogue and preferences in the shared table; see the module docstring for the layout."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def _conditional(self, call: Any) -> bool:
        """Run a conditional write in the table's thread; False when its condition failed."""

        def attempt() -> bool:
            try:
                call()
            except ClientError as exc:
                if error_code(exc) == _CONDITION_FAILED:
                    return False
                raise
            return True

        return bool(await self._table.run(attempt))

    async def get_tool(self, tool_id: str) -> ToolRecord | None:
        key = _tool_key(tool_id)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        item = response.get("Item")
        return None if item is None else read_or_raise(KIND, tool_id, partial(_tool_of, item))

    async def list_tools(self) -> list[ToolRecord]:
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": TOOLS_PK, ":prefix": TOOL_SK_PREFIX}),
            "ConsistentRead": True,
        }
        items: list[Item] = []
        while True:  # every page: a partial catalogue would hide tools from the people granted them
            response = await self._table.run(partial(self._table.client.query, **request))
            items.extend(response["Items"])
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
            request["ExclusiveStartKey"] = start
        tools = []
        for item in items:
            tool_id = str(item[schema.SORT_KEY]["S"]).removeprefix(TOOL_SK_PREFIX)
            tool = read_or_skip(KIND, tool_id, partial(_tool_of, item))
            if tool is not None:
                tools.append(tool)
        return sorted(tools, key=lambda tool: tool.tool_id)

    async def create_tool(self, tool: ToolRecord) -> ToolRecord:
        item = _tool_item(tool)
        put = partial(
            self._table.client.put_item,
            TableName=self._table.name,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
        )
        if not await self._conditional(put):
            raise ToolExists(tool.tool_id)
        return tool

    async def replace_tool(self, tool: ToolRecord, *, read_revision: int) -> bool:
        put = partial(
            self._table.client.put_item,
            TableName=self._table.name,
            Item=_tool_item(tool),
            ConditionExpression="revision = :read",
            ExpressionAttributeValues=serialize({":read": read_revision}),
        )
        return await self._conditional(put)

    async def delete_tool(self, tool_id: str) -> bool:
        delete = partial(
            self._table.client.delete_item,
            TableName=self._table.name,
            Key=_tool_key(tool_id),
            ConditionExpression="attribute_exists(pk)",
        )
        return await self._conditional(delete)

    async def get_preferences(self, user_id: str) -> dict[str, bool]:
        key = _preferences_key(user_id)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        return _preferences_of(response.get("Item"))

    async def merge_preferences(self, user_id: str, changes: Mapping[str, bool]) -> dict[str, bool]:
        if not changes:
            return await self.get_preferences(user_id)
        names = {f"#t{index}": f"{PREFERENCE_PREFIX}{tool_id}" for index, tool_id in enumerate(changes)}
        values = {f":v{index}": enabled for index, enabled in enumerate(changes.values())}
        update = partial(
            self._table.client.update_item,
            TableName=self._table.name,
            Key=_preferences_key(user_id),
            UpdateExpression="SET " + ", ".join(f"#t{index} = :v{index}" for index in range(len(changes))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
            ReturnValues="ALL_NEW",
        )
        response = await self._table.run(update)
        return _preferences_of(response["Attributes"])
