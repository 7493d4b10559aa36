"""UserRepository on DynamoDB: one item per user in the shared table (layout in user_items.py).

A sign-in is one UpdateItem that sets the claims and writes `status` and `createdAt` only through
`if_not_exists`, so it creates a profile or refreshes one without ever undoing a suspension that raced it.
Lists and search read the USERS partition of gsi1 in user id order, filtering as they go. A global index is
eventually consistent: a profile created or suspended a moment ago may show in a list a moment later; `get`
reads the table itself, consistently, and is what the suspension check uses.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from apis.shared.pagination import Page, decode_token, encode_token
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo import user_items as codec
from apis.shared.storage.dynamo.client import Item, Table, serialize, set_expression
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.users.models import UserLogin, UserProfile, UserStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

_FILTERED_PAGE_SIZE = 100  # a filtered list reads this many profiles a page, as most may not match
_CURSOR = ("userId",)
KIND = "user profile"


def _profile(user_id: str, item: Item) -> UserProfile:
    """The profile of an item; CorruptRecord when it no longer validates."""
    return read_or_raise(KIND, user_id, partial(codec.profile_from_item, item))


class DynamoUserRepository:
    """User profiles in the shared table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def get(self, user_id: str) -> UserProfile | None:
        key = codec.profile_key(user_id)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        item = response.get("Item")
        return _profile(user_id, item) if item is not None else None

    async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
        expression, names, values = set_expression(codec.login_attributes(login, at=at))
        expression += ", #status = if_not_exists(#status, :active), #createdAt = if_not_exists(#createdAt, :at)"
        names |= {"#status": codec.STATUS, "#createdAt": codec.CREATED_AT}
        values |= serialize({":active": UserStatus.ACTIVE.value, ":at": at})
        key = codec.profile_key(login.user_id)
        response = await self._table.run(
            lambda: self._table.client.update_item(
                TableName=self._table.name,
                Key=key,
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        )
        return _profile(login.user_id, response["Attributes"])

    async def set_status(self, user_id: str, status: UserStatus) -> UserProfile | None:
        key = codec.profile_key(user_id)

        item = await self._table.update_existing(
            key, "SET #status = :status", {"#status": codec.STATUS}, serialize({":status": status.value})
        )
        return _profile(user_id, item) if item is not None else None

    async def list_users(
        self,
        *,
        limit: int,
        page_token: str | None = None,
        status: UserStatus | None = None,
        email_domain: str | None = None,
    ) -> Page[UserProfile]:
        filters: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if status is not None:
            filters.append("#status = :status")
            names["#status"], values[":status"] = codec.STATUS, status.value
        if email_domain is not None:
            filters.append("#emailDomain = :domain")
            names["#emailDomain"], values[":domain"] = codec.EMAIL_DOMAIN, email_domain.lower()
        return await self._page(filters, names, values, limit=limit, page_token=page_token)

    async def search(self, query: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        """A filtered read of the whole USERS partition of gsi1: fine at the scale of an organisation's users
        (it is for admins and for picking people to share with), not for millions of them."""
        names = {"#nameLower": codec.NAME_LOWER, "#emailLower": codec.EMAIL_LOWER}
        values = {":query": query.lower()}
        filters = ["(contains(#nameLower, :query) OR contains(#emailLower, :query))"]
        return await self._page(filters, names, values, limit=limit, page_token=page_token)

    async def _page(
        self,
        filters: list[str],
        names: dict[str, str],
        values: dict[str, Any],
        *,
        limit: int,
        page_token: str | None,
    ) -> Page[UserProfile]:
        """A page of the profiles passing every filter, by user id, after the token's cursor."""
        after = decode_token(page_token, fields=_CURSOR)["userId"] if page_token is not None else None
        request = self._list_request(after, filters, names, values)
        # One more than a page tells whether another page exists; the token is the last item returned, so
        # whatever was read beyond it is read again next time rather than skipped.
        found = await self._table.query(request, want=limit + 1, page_size=_FILTERED_PAGE_SIZE if filters else 0)
        readable = (
            read_or_skip(KIND, codec.user_id_of(item), partial(codec.profile_from_item, item)) for item in found[:limit]
        )
        items = [profile for profile in readable if profile is not None]
        if len(found) <= limit:
            return Page(items=items, next_token=None)
        # After the page's last item, read or not: a skipped profile is neither read again nor a dead end.
        return Page(items=items, next_token=encode_token({"userId": codec.user_id_of(found[limit - 1])}))

    def _list_request(
        self, after: str | None, filters: list[str], names: dict[str, str], values: dict[str, Any]
    ) -> QueryInputTypeDef:
        """The Query of the USERS partition of gsi1, in user id order, after the cursor, with the filters."""
        index = schema.BY_KIND
        names = {**names, "#kind": index.partition_key}
        values = {**values, ":kind": codec.USERS_KIND}
        key_condition = "#kind = :kind"
        if after is not None:
            names["#listKey"], values[":after"] = index.sort_key, codec.user_list_sk(after)
            key_condition += " AND #listKey > :after"
        request: QueryInputTypeDef = {
            "TableName": self._table.name,
            "IndexName": index.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": True,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        return request
