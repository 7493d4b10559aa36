"""UserRepository on DynamoDB: one item per user in the shared table (layout in user_items.py).

A sign-in is one UpdateItem that sets the claims and writes `status` and `createdAt` only through
`if_not_exists`, so it creates a profile or refreshes one without ever undoing a suspension that raced it.
It is conditioned on the profile being counted under its email domain already, which holds for every sign-in
but a user's first and a change of domain; those are one transaction that also moves the domain counts.
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
from apis.shared.storage.dynamo.client import Item, Table, backoff, serialize, set_expression
from apis.shared.storage.records import read_or_raise, read_or_skip
from apis.shared.users.models import UserLogin, UserProfile, UserStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

_FILTERED_PAGE_SIZE = 100  # a filtered list reads this many profiles a page, as most may not match
# A sign-in racing another change of the same profile's domain reads it again. Each failed condition means a
# rival's write landed, so contenders finish one by one: ten rounds, spread by jittered backoff, outlast the
# handful of simultaneous sign-ins a single user can make (six alternating domains needed six under moto).
_RECOUNT_ATTEMPTS = 10
_CURSOR = ("userId",)
KIND = "user profile"
Expression = tuple[str, dict[str, str], Item]


def _profile(user_id: str, item: Item) -> UserProfile:
    """The profile of an item; CorruptRecord when it no longer validates."""
    return read_or_raise(KIND, user_id, partial(codec.profile_from_item, item))


def _login_update(login: UserLogin, at: str, domain: str) -> Expression:
    """What a sign-in writes: the claims and lastLoginAt; status and createdAt only for a new profile."""
    expression, names, values = set_expression(codec.login_attributes(login, at=at))
    expression += ", #status = if_not_exists(#status, :active), #createdAt = if_not_exists(#createdAt, :at)"
    names |= {"#status": codec.STATUS, "#createdAt": codec.CREATED_AT, "#counted": codec.COUNTED_DOMAIN}
    values |= serialize({":active": UserStatus.ACTIVE.value, ":at": at, ":domain": domain})
    return expression, names, values


class DynamoUserRepository:
    """User profiles in the shared table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    async def get(self, user_id: str) -> UserProfile | None:
        item = await self._item(user_id)
        return _profile(user_id, item) if item is not None else None

    async def upsert_login(self, login: UserLogin, *, at: str) -> UserProfile:
        domain = codec.counted_domain(login)
        expression, names, values = _login_update(login, at, domain)
        item = await self._table.update_existing(
            codec.profile_key(login.user_id), expression, names, values, condition="#counted = :domain"
        )
        if item is not None:
            return _profile(login.user_id, item)
        await self._upsert_and_recount(login, at, domain)
        profile = await self.get(login.user_id)
        if profile is None:  # users are never deleted, so the profile just written is there
            raise self._table.busy()
        return profile

    async def _upsert_and_recount(self, login: UserLogin, at: str, domain: str) -> None:
        """Write a new profile, or one whose domain changed or was never counted, with its domain counts, in one
        transaction conditioned on the count it read; another change in between makes it read again."""
        for attempt in range(_RECOUNT_ATTEMPTS):
            if attempt:
                await backoff(attempt - 1)
            stored = await self._item(login.user_id)
            was = stored[codec.COUNTED_DOMAIN]["S"] if stored and codec.COUNTED_DOMAIN in stored else None
            expression, names, values = _login_update(login, at, domain)
            if stored is None:
                condition = "attribute_not_exists(pk)"
            elif was is None:
                condition = "attribute_exists(pk) AND attribute_not_exists(#counted)"
            else:
                condition, values = "#counted = :was", values | serialize({":was": was})
            profile: Any = {
                "TableName": self._table.name,
                "Key": codec.profile_key(login.user_id),
                "UpdateExpression": expression + ", #counted = :domain",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            actions: list[TransactWriteItemTypeDef] = [{"Update": profile}]
            if domain and domain != was:
                actions.append(self._count(domain, 1))
            if was and was != domain:
                actions.append(self._count(was, -1))
            if await self._table.transact(actions) is None:
                return
        raise self._table.busy()

    def _count(self, domain: str, delta: int) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": codec.domain_key(domain),
                "UpdateExpression": "ADD #users :delta SET #domain = :domain",
                "ExpressionAttributeNames": {"#users": codec.DOMAIN_USERS, "#domain": codec.DOMAIN},
                "ExpressionAttributeValues": serialize({":delta": delta, ":domain": domain}),
            }
        }

    async def _item(self, user_id: str) -> Item | None:
        key = codec.profile_key(user_id)
        response = await self._table.run(
            lambda: self._table.client.get_item(TableName=self._table.name, Key=key, ConsistentRead=True)
        )
        return response.get("Item")

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

    async def search_by_email(self, email: str, *, limit: int, page_token: str | None = None) -> Page[UserProfile]:
        """A filtered read of the USERS partition, as `search` is: an admin's lookup, at an organisation's scale."""
        names, values = {"#emailLower": codec.EMAIL_LOWER}, {":email": email.lower()}
        return await self._page(["#emailLower = :email"], names, values, limit=limit, page_token=page_token)

    async def list_email_domains(self, *, limit: int) -> list[str]:
        """One Query of the domain counts (user_items.py), never of the profiles."""
        request: Any = {
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#users > :none",
            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#users": codec.DOMAIN_USERS},
            "ExpressionAttributeValues": serialize({":pk": codec.DOMAINS_PARTITION, ":none": 0}),
            "ConsistentRead": True,
        }
        items = await self._table.query(request, want=limit, page_size=_FILTERED_PAGE_SIZE)
        return [item[codec.DOMAIN]["S"] for item in items]

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
