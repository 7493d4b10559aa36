"""`colloquy storage init` on DynamoDB/S3 (a moto server): the table's time to live, the bucket's rule for
abandoned multipart uploads beside an administrator's own rules, and the S3 Vectors index of the configured
embedding size; each made once, and nothing changed by running it again."""

from __future__ import annotations

from typing import Any

import pytest

from apis.shared.cli import main
from apis.shared.config import StorageSettings
from apis.shared.errors import StorageError
from apis.shared.storage.dynamo import initialize
from apis.shared.storage.dynamo.client import dynamodb_client, s3_client, s3vectors_client
from apis.shared.storage.dynamo.provisioning import ABANDONED_UPLOADS_RULE_ID, TTL_ATTRIBUTE
from tests.helpers import with_s3vectors

pytestmark = pytest.mark.dynamodb

ADMINS_RULE: Any = {
    "ID": "expire-exports",
    "Status": "Enabled",
    "Filter": {"Prefix": "exports/"},
    "Expiration": {"Days": 7},
}


def lifecycle_rules(settings: StorageSettings) -> list[Any]:
    client = s3_client(settings)
    try:
        return list(client.get_bucket_lifecycle_configuration(Bucket=settings.s3_bucket_name)["Rules"])
    finally:
        client.close()


async def test_time_to_live_is_turned_on_once(dynamo_storage_settings: StorageSettings) -> None:
    table = dynamo_storage_settings.dynamodb_table_name

    first = await initialize(dynamo_storage_settings)
    second = await initialize(dynamo_storage_settings)

    assert f"table {table}: time to live on {TTL_ATTRIBUTE}: turned on" in first
    assert f"table {table}: time to live on {TTL_ATTRIBUTE}: exists" in second
    client = dynamodb_client(dynamo_storage_settings)
    try:
        described = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    finally:
        client.close()
    assert (described["TimeToLiveStatus"], described["AttributeName"]) == ("ENABLED", TTL_ATTRIBUTE)


async def test_time_to_live_on_another_attribute_is_left_and_named(dynamo_storage_settings: StorageSettings) -> None:
    await initialize(dynamo_storage_settings)
    table = dynamo_storage_settings.dynamodb_table_name
    client = dynamodb_client(dynamo_storage_settings)
    try:
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": TTL_ATTRIBUTE}
        )
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "purgeAt"}
        )
    finally:
        client.close()

    with pytest.raises(StorageError, match="purgeAt"):
        await initialize(dynamo_storage_settings)


async def test_the_abandoned_upload_rule_is_added_once_beside_an_administrators_rules(
    dynamo_storage_settings: StorageSettings,
) -> None:
    await initialize(dynamo_storage_settings)
    client = s3_client(dynamo_storage_settings)
    try:
        rules: Any = [*lifecycle_rules(dynamo_storage_settings), ADMINS_RULE]
        client.put_bucket_lifecycle_configuration(
            Bucket=dynamo_storage_settings.s3_bucket_name,
            LifecycleConfiguration={"Rules": rules},
        )
    finally:
        client.close()

    again = await initialize(dynamo_storage_settings)
    once_more = await initialize(dynamo_storage_settings)

    rules = lifecycle_rules(dynamo_storage_settings)
    assert sorted(str(rule["ID"]) for rule in rules) == sorted([ABANDONED_UPLOADS_RULE_ID, "expire-exports"])
    [ours] = [rule for rule in rules if rule["ID"] == ABANDONED_UPLOADS_RULE_ID]
    assert ours["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert ours["Status"] == "Enabled"
    assert not any(line.endswith(": added") for line in [*again, *once_more])


async def test_a_changed_rule_of_ours_is_put_back_and_other_rules_kept(
    dynamo_storage_settings: StorageSettings,
) -> None:
    await initialize(dynamo_storage_settings)
    client = s3_client(dynamo_storage_settings)
    try:
        loosened: Any = {
            "ID": ABANDONED_UPLOADS_RULE_ID,
            "Status": "Disabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 30},
        }
        client.put_bucket_lifecycle_configuration(
            Bucket=dynamo_storage_settings.s3_bucket_name,
            LifecycleConfiguration={"Rules": [loosened, ADMINS_RULE]},
        )
    finally:
        client.close()

    lines = await initialize(dynamo_storage_settings)

    assert any(line.endswith(": added") for line in lines)
    rules = lifecycle_rules(dynamo_storage_settings)
    [ours] = [rule for rule in rules if rule["ID"] == ABANDONED_UPLOADS_RULE_ID]
    [theirs] = [rule for rule in rules if rule["ID"] == "expire-exports"]
    assert theirs["Expiration"] == {"Days": 7}
    assert (ours["Status"], ours["AbortIncompleteMultipartUpload"]) == ("Enabled", {"DaysAfterInitiation": 1})


async def test_the_vector_index_of_the_embedding_size_is_made_once(
    dynamo_storage_settings: StorageSettings, s3vectors_server_url: str
) -> None:
    settings = with_s3vectors(dynamo_storage_settings, s3vectors_server_url)
    index = f"{settings.s3_vectors_index_prefix}-256"

    first = await initialize(settings, vector_dimensions=256)
    second = await initialize(settings, vector_dimensions=256)

    assert first[-1] == second[-1] == f"vector index {index} (256 dimensions): ready"
    client = s3vectors_client(settings)
    try:
        found = client.get_index(vectorBucketName=settings.s3_vectors_bucket_name, indexName=index)["index"]
    finally:
        client.close()
    assert found["dimension"] == 256


def test_the_command_makes_the_index_of_the_configured_embedding_model(
    dynamo_storage_settings: StorageSettings,
    s3vectors_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = with_s3vectors(dynamo_storage_settings, s3vectors_server_url)
    monkeypatch.chdir(settings.data_dir)  # no .env of the developer's
    environment = {
        "STORAGE_BACKEND": "dynamodb",
        "AWS_ENDPOINT_URL": str(settings.aws_endpoint_url),
        "DYNAMODB_TABLE_NAME": settings.dynamodb_table_name,
        "S3_BUCKET_NAME": settings.s3_bucket_name,
        "S3_VECTORS_BUCKET_NAME": settings.s3_vectors_bucket_name,
        "S3_VECTORS_ENDPOINT_URL": str(settings.s3_vectors_endpoint_url),
        "DATA_DIR": str(settings.data_dir),
        "AUTH_MODE": "local",
        "EMBEDDING_PROVIDER": "openai",
        "EMBEDDING_DIMENSIONS": "64",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert main(["storage", "init"]) == 0
    assert main(["storage", "init"]) == 0

    printed = capsys.readouterr().out.splitlines()
    index = f"vector index {settings.s3_vectors_index_prefix}-64 (64 dimensions): ready"
    assert printed.count(index) == 2
    made = [f"table {settings.dynamodb_table_name}: created", f"bucket {settings.s3_bucket_name}: created"]
    assert [printed.count(line) for line in made] == [1, 1]  # the second run found them
