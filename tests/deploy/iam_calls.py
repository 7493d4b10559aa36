"""The AWS calls a service makes, as IAM sees them, and a small evaluator of the policies in deploy/iam/.

`AwsCalls.install` wraps botocore's one door to AWS (`BaseClient._make_api_call`) and the presigner (a
presigned URL is a request the service signs, so its role must be allowed the operation), recording each call
with the service that made it: `CALLER` is set by each service's ASGI app while it serves a request, and
around its start, so its background work (sweeps, ingestion, titles) carries it too; boto3 calls made on
worker threads see it, as anyio copies the context into them.

`required` turns a call into the (action, resource) pairs IAM checks: most operations are their own action on
the table, bucket, object or index named in the call; a few are not (HeadObject is s3:GetObject, a
TransactWriteItems is the PutItem, UpdateItem, DeleteItem and ConditionCheckItem of its items). An operation
this table does not know fails the test, rather than passing unchecked.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.signers
import pytest
from botocore.client import BaseClient

CALLER: ContextVar[str | None] = ContextVar("aws_caller", default=None)
REGION, ACCOUNT = "us-east-1", "123456789012"
IAM_PREFIX = {
    "dynamodb": "dynamodb",
    "s3": "s3",
    "s3vectors": "s3vectors",
    "bedrock": "bedrock",
    "bedrock-runtime": "bedrock",
    "bedrock-agentcore": "bedrock-agentcore",
}
# S3 operations whose IAM action has another name (the rest are s3:<Operation>).
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True, slots=True)
class Call:
    caller: str
    service: str
    operation: str
    params: str  # JSON, so that calls hash


@dataclass
class AwsCalls:
    """Every call made while installed, by caller; `names` maps this test's resource names to the defaults the
    policies are written for (DYNAMODB_TABLE_NAME=colloquy, S3_BUCKET_NAME=colloquy-files, ...)."""

    names: Mapping[str, str]
    calls: set[Call] = field(default_factory=set)

    def _record(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        caller = CALLER.get()
        if caller is not None:
            self.calls.add(Call(caller, service, operation, json.dumps(params, default=str, sort_keys=True)))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        make_api_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 -- private in the stubs
        presign = botocore.signers.generate_presigned_url

        def recorded_call(client: BaseClient, operation_name: str, api_params: Mapping[str, Any]) -> Any:
            self._record(client.meta.service_model.service_name, operation_name, api_params)
            return make_api_call(client, operation_name, api_params)

        def recorded_presign(client: BaseClient, ClientMethod: str, Params: Any = None, **rest: Any) -> Any:
            name = client.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
            self._record(client.meta.service_model.service_name, name, Params or {})
            return presign(client, ClientMethod, Params=Params, **rest)

        monkeypatch.setattr(BaseClient, "_make_api_call", recorded_call)
        # Read when an S3 client class is made (botocore.signers.add_generate_presigned_url): before the services.
        monkeypatch.setattr(botocore.signers, "generate_presigned_url", recorded_presign)

    def by_caller(self, caller: str) -> set[tuple[str, str]]:
        """The (action, resource) pairs IAM checks for every call `caller` made."""
        found: set[tuple[str, str]] = set()
        for call in self.calls:
            if call.caller == caller:
                found.update(self.required(call))
        return found

    def _name(self, name: str) -> str:
        return self.names.get(name, name)

    def required(self, call: Call) -> Iterator[tuple[str, str]]:
        params = json.loads(call.params)
        prefix = IAM_PREFIX.get(call.service)
        if prefix is None:
            raise AssertionError(f"no IAM mapping for {call.service}:{call.operation}: add one to iam_calls.py")
        if call.service == "dynamodb":
            yield from self._dynamodb(call.operation, params)
        elif call.service == "s3":
            yield from self._s3(call.operation, params)
        elif call.service == "s3vectors":
            yield from self._s3vectors(call.operation, params)
        else:
            yield f"{prefix}:{call.operation}", "*"

    def _table(self, table: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self._name(table)}"
        return f"{arn}/index/{index}" if index else arn

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                [(kind, body)] = item.items()
                yield f"dynamodb:{TRANSACT_ACTIONS[kind]}", self._table(body["TableName"])
        elif operation == "TransactGetItems":
            for item in params["TransactItems"]:
                yield "dynamodb:GetItem", self._table(item["Get"]["TableName"])
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for table in params["RequestItems"]:
                yield f"dynamodb:{operation}", self._table(table)
        else:
            yield f"dynamodb:{operation}", self._table(params["TableName"], params.get("IndexName"))

    def _s3(self, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
        bucket = f"arn:aws:s3:::{self._name(params['Bucket'])}"
        action = f"s3:{S3_ACTIONS.get(operation, operation)}"
        if operation == "DeleteObjects":
            for item in params["Delete"]["Objects"]:
                yield action, f"{bucket}/{item['Key']}"
        elif "Key" in params:
            yield action, f"{bucket}/{params['Key']}"
        else:
            yield action, bucket

    def _s3vectors(self, operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
        bucket = f"arn:aws:s3vectors:{REGION}:{ACCOUNT}:bucket/{self._name(params['vectorBucketName'])}"
        resource = f"{bucket}/index/{params['indexName']}" if "indexName" in params else bucket
        yield f"s3vectors:{operation}", resource
        if operation == "QueryVectors" and (params.get("returnMetadata") or "filter" in params):
            yield "s3vectors:GetVectors", resource  # as S3 Vectors requires for metadata and filters


def load_policy(path: Path) -> list[dict[str, Any]]:
    document: dict[str, Any] = json.loads(path.read_text())
    assert document["Version"] == "2012-10-17", path
    statements: list[dict[str, Any]] = document["Statement"]
    for statement in statements:
        # The evaluator reads Effect, Action and Resource; anything else would be a grant it cannot judge.
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, (path, statement)
    return statements


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    if case_sensitive:
        return fnmatch.fnmatchcase(value, pattern)
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an identity policy of `statements` allows `action` on `resource` (an explicit Deny wins)."""

    def applies(statement: dict[str, Any]) -> bool:
        return any(_matches(p, action, case_sensitive=False) for p in _listed(statement["Action"])) and any(
            _matches(p, resource, case_sensitive=True) for p in _listed(statement["Resource"])
        )

    matching = [statement for statement in statements if applies(statement)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


def granted_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for s in statements if s["Effect"] == "Allow" for action in _listed(s["Action"])}
