"""RoleRepository on DynamoDB: every role in one partition of the shared table (layout in role_items.py)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from apis.shared.clock import now_iso
from apis.shared.rbac.exceptions import RoleExists
from apis.shared.rbac.models import AppRole, AppRoleUpdate
from apis.shared.rbac.repository import in_list_order
from apis.shared.storage.dynamo import role_items as codec
from apis.shared.storage.dynamo.client import Item, Table, serialize, set_expression
from apis.shared.storage.dynamo.errors import error_code
from apis.shared.storage.records import read_or_raise, read_or_skip

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

_CONDITION_FAILED = "ConditionalCheckFailedException"
KIND = "role"


class DynamoRoleRepository:
    """App roles in the shared table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def get(self, role_id: str) -> AppRole | None:
        key = codec.role_key(role_id)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        item = response.get("Item")
        return read_or_raise(KIND, role_id, partial(codec.role_from_item, item)) if item is not None else None

    async def list_roles(self) -> list[AppRole]:
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": codec.ROLE_PK, ":prefix": codec.ROLE_SK_PREFIX}),
            "ConsistentRead": True,
        }
        items: list[Item] = []
        # Every page, however many: a partial list would silently drop someone's permissions.
        while True:
            response = await self._table.run(partial(self._table.client.query, **request))
            items.extend(response["Items"])
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
            request["ExclusiveStartKey"] = start
        readable = (read_or_skip(KIND, codec.role_id_of(item), partial(codec.role_from_item, item)) for item in items)
        return in_list_order(role for role in readable if role is not None)

    async def create(self, role: AppRole) -> AppRole:
        item = codec.role_item(role)

        def put() -> bool:
            try:
                self._table.client.put_item(
                    TableName=self._table.name, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            except ClientError as exc:
                if error_code(exc) == _CONDITION_FAILED:
                    return False
                raise
            return True

        if not await self._table.run(put):
            raise RoleExists(f"role {role.role_id} exists already")
        return role

    async def update(self, role_id: str, changes: AppRoleUpdate) -> AppRole | None:
        # One UpdateItem of the sent attributes only: concurrent updates of other fields are kept.
        expression, names, values = set_expression(codec.changed_attributes(changes, now_iso()))
        key = codec.role_key(role_id)

        item = await self._table.update_existing(key, expression, names, values)
        return read_or_raise(KIND, role_id, partial(codec.role_from_item, item)) if item is not None else None

    async def delete(self, role_id: str) -> bool:
        key = codec.role_key(role_id)
        response = await self._table.run(
            lambda: self._table.client.delete_item(TableName=self._table.name, Key=key, ReturnValues="ALL_OLD")
        )
        return "Attributes" in response
