"""The per-domain counts behind the admins' list of domains on DynamoDB (moto), beyond the shared contract:
a profile stored before the counts existed is counted at its next sign-in, and exactly once."""

from __future__ import annotations

import pytest

from apis.shared.config import StorageSettings
from apis.shared.storage import Storage
from apis.shared.storage.dynamo import user_items
from apis.shared.storage.dynamo.client import dynamodb_client
from apis.shared.users import UserLogin
from tests.helpers import random_user_id

pytestmark = pytest.mark.dynamodb


def forget_counts(settings: StorageSettings, user_id: str, domain: str) -> None:
    """Make the stored profile look as an earlier version left it: no `countedDomain`, and no domain count."""
    client = dynamodb_client(settings)
    try:
        client.update_item(
            TableName=settings.dynamodb_table_name,
            Key=user_items.profile_key(user_id),
            UpdateExpression="REMOVE #counted",
            ExpressionAttributeNames={"#counted": user_items.COUNTED_DOMAIN},
        )
        client.delete_item(TableName=settings.dynamodb_table_name, Key=user_items.domain_key(domain))
    finally:
        client.close()


def domain_count(settings: StorageSettings, domain: str) -> int:
    client = dynamodb_client(settings)
    try:
        item = client.get_item(TableName=settings.dynamodb_table_name, Key=user_items.domain_key(domain))["Item"]
    finally:
        client.close()
    return int(item[user_items.DOMAIN_USERS]["N"])


async def test_a_profile_from_before_the_counts_is_counted_at_its_next_sign_in(
    dynamo_storage: Storage, dynamo_storage_settings: StorageSettings
) -> None:
    users = dynamo_storage.users
    earlier = UserLogin(user_id=random_user_id(), email="old@legacy.example")
    await users.upsert_login(earlier, at="2026-01-01T00:00:00.000000Z")
    forget_counts(dynamo_storage_settings, earlier.user_id, "legacy.example")
    before = await users.list_email_domains(limit=10)

    again = await users.upsert_login(earlier, at="2026-01-02T00:00:00.000000Z")
    await users.upsert_login(earlier, at="2026-01-03T00:00:00.000000Z")
    after = await users.list_email_domains(limit=10)

    assert before == []
    assert again.last_login_at == "2026-01-02T00:00:00.000000Z"
    assert after == ["legacy.example"]
    assert domain_count(dynamo_storage_settings, "legacy.example") == 1


async def test_a_domain_longer_than_any_dns_name_is_not_counted(dynamo_storage: Storage) -> None:
    long_domain = "x" * 300 + ".example"

    profile = await dynamo_storage.users.upsert_login(
        UserLogin(user_id=random_user_id(), email=f"a@{long_domain}"), at="2026-01-01T00:00:00.000000Z"
    )

    assert profile.email_domain == long_domain
    assert await dynamo_storage.users.list_email_domains(limit=10) == []
