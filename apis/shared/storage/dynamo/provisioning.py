"""What `colloquy storage init` sets on the table and the bucket besides creating them: the table's time to live,
and the bucket's lifecycle rule for uploads that never finished. Each step reads first and writes only what is
missing, so running the command again changes nothing, and a rule an administrator added is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from apis.shared.errors import StorageError
from apis.shared.storage.dynamo.errors import error_code, record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import LifecycleRuleOutputTypeDef, LifecycleRuleTypeDef

# Items that carry this attribute (epoch seconds) are deleted by DynamoDB once it has passed.
TTL_ATTRIBUTE = "expiresAt"
# A multipart upload that was started and never completed keeps its parts (and their cost) forever unless a
# rule aborts it. Presigned single PUTs that never came are the upload sweep's work (FILES_STALE_UPLOAD_SECONDS):
# their objects share a prefix with ready files, so no lifecycle rule can tell them apart.
ABANDONED_UPLOADS_RULE_ID = "colloquy-abort-abandoned-multipart-uploads"
ABANDONED_UPLOAD_DAYS = 1
_NO_LIFECYCLE = "NoSuchLifecycleConfiguration"


def ensure_ttl(client: DynamoDBClient, table: str) -> str:
    """Turn on the table's time to live on TTL_ATTRIBUTE unless it is on; a line for the output."""
    described = client.describe_time_to_live(TableName=table).get("TimeToLiveDescription", {})
    status, attribute = described.get("TimeToLiveStatus", "DISABLED"), described.get("AttributeName")
    if status in ("ENABLED", "ENABLING") and attribute == TTL_ATTRIBUTE:
        return f"table {table}: time to live on {TTL_ATTRIBUTE}: exists"
    if status in ("ENABLED", "ENABLING"):
        # A table has one TTL attribute; ours would need theirs turned off, which is the owner's decision.
        raise record(StorageError(f"table {table} has time to live on {attribute}, not {TTL_ATTRIBUTE}"))
    if status == "DISABLING":
        raise record(StorageError(f"table {table}: time to live is being turned off; run this again later"))
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    return f"table {table}: time to live on {TTL_ATTRIBUTE}: turned on"


def abandoned_uploads_rule() -> LifecycleRuleTypeDef:
    return {
        "ID": ABANDONED_UPLOADS_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABANDONED_UPLOAD_DAYS},
    }


def _is_ours(rule: LifecycleRuleOutputTypeDef | LifecycleRuleTypeDef) -> bool:
    return rule.get("ID") == ABANDONED_UPLOADS_RULE_ID


def _ours_in_place(rules: list[LifecycleRuleOutputTypeDef]) -> bool:
    wanted = abandoned_uploads_rule()
    return any(
        _is_ours(rule)
        and rule.get("Status") == wanted["Status"]
        and rule.get("AbortIncompleteMultipartUpload") == wanted["AbortIncompleteMultipartUpload"]
        for rule in rules
    )


def _kept(rule: LifecycleRuleOutputTypeDef) -> Any:
    """Another rule as PutBucketLifecycleConfiguration takes it back (the read adds nothing it refuses)."""
    return dict(rule)


def ensure_lifecycle(client: S3Client, bucket: str) -> str:
    """Add the rule that aborts abandoned multipart uploads, keeping every other rule; a line for the output."""
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as exc:
        if error_code(exc) != _NO_LIFECYCLE:
            raise
        rules = []
    line = f"bucket {bucket}: rule aborting multipart uploads abandoned for {ABANDONED_UPLOAD_DAYS} day"
    if _ours_in_place(rules):
        return f"{line}: exists"
    others = [_kept(rule) for rule in rules if not _is_ours(rule)]
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [*others, abandoned_uploads_rule()]}
    )
    return f"{line}: added"
