"""deploy/iam/*.json against the AWS calls each service makes (tests/deploy/iam_calls.py).

Both services run on DynamoDB/S3 and S3 Vectors (moto, and the front that adds QueryVectors) with an embedding
model, and go through their flows: every GET route of each (as an admin), and the writes of every domain that
reaches AWS (sessions, attachments uploaded, completed, downloaded, deleted and swept, assistants with a
knowledge base ingested, retrieved in test chat and in a turn, then deleted; roles, models, users, quotas, memory,
titles; turns new and old, with attachments). Each call, and each presigned URL, is checked against that
service's policy: every one is allowed. And nothing is granted that no flow needed, beyond a short list of
actions named with the reason they are there (UNEXERCISED), so the policies stay least-privilege.
`colloquy storage init` is checked against the provisioning policy the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from apis.app_api.main import create_app as create_app_api
from apis.inference_api.main import create_app as create_inference_api
from apis.shared.auth import mint_local_token
from apis.shared.bootstrap import seed_storage
from apis.shared.config import (
    EmbeddingProvider,
    FilesSettings,
    KnowledgeSettings,
    ProviderSettings,
    Settings,
    StorageBackend,
    StorageSettings,
    ToolsSettings,
)
from apis.shared.storage import initialize_storage, open_storage
from tests.attachments import tiny_png
from tests.deploy.iam_calls import CALLER, AwsCalls, allows, granted_actions, load_policy
from tests.fakes.openai_server import running_openai
from tests.fixtures.moto import unique_storage_names
from tests.fixtures.services import service_settings
from tests.helpers import random_session_id, random_user_id

pytestmark = pytest.mark.dynamodb

IAM = Path(__file__).resolve().parents[2] / "deploy" / "iam"
BEDROCK_MODELS = {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
# Granted but not reached by these flows, each for a reason (the flows use the offline model and an OpenAI fake).
UNEXERCISED = {
    # Bedrock as the chat, title and embedding provider; its live catalogue on the admins' page.
    "app-api.json": {*BEDROCK_MODELS, "bedrock:ListFoundationModels"},
    "inference-api.json": BEDROCK_MODELS,
    # Upgrades: a global index added to a table an earlier version made (UpdateTable), the seeded local model
    # given the token limits an earlier version did not store (UpdateItem), and memory records stored before
    # their session copies given one, each on condition that its record still exists (a TransactWriteItems of
    # a ConditionCheck and a Put: dynamodb/memories.py).
    "provisioning.json": {"dynamodb:UpdateTable", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"},
}
# What only `colloquy storage init` may do: make or reshape the table and buckets.
PROVISIONING_ONLY = {
    "dynamodb:CreateTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTimeToLive",
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketCORS",
    "s3:PutBucketPolicy",
    "s3vectors:CreateVectorBucket",
    "s3vectors:DeleteVectorBucket",
    "s3vectors:CreateIndex",
    "s3vectors:DeleteIndex",
}


class Called:
    """A client of one service's ASGI app that marks everything the app does as that service's."""

    def __init__(self, name: str, app: FastAPI, headers: dict[str, str]) -> None:
        self.name, self.app, self.headers = name, app, headers

        async def marked(scope: Any, receive: Any, send: Any) -> None:
            token = CALLER.set(name)
            try:
                await app(scope, receive, send)
            finally:
                CALLER.reset(token)

        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=marked), base_url=f"http://{name}")

    async def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code in ok, (method, path, response.status_code, response.text[:300])
        if response.content and "json" in response.headers.get("content-type", ""):
            return response.json()
        return response


@asynccontextmanager
async def started(name: str, app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan, entered as `name`: its periodic work and clients are that service's."""
    token = CALLER.set(name)
    try:
        async with app.router.lifespan_context(app):
            CALLER.reset(token)
            yield
    finally:
        if CALLER.get() == name:
            CALLER.reset(token)


def settings_for(storage: StorageSettings, embedding_url: str) -> Settings:
    base = service_settings(storage)
    return base.model_copy(
        update={
            "providers": ProviderSettings.model_construct(openai_api_key="sk-fake", openai_base_url=embedding_url),
            "knowledge": KnowledgeSettings.model_construct(
                embedding_provider=EmbeddingProvider.OPENAI,
                embedding_dimensions=64,
                knowledge_sweep_interval_seconds=0.2,
            ),
            "files": FilesSettings(files_sweep_interval_seconds=0.2),
            "tools": ToolsSettings(mcp_secrets_key=Fernet.generate_key().decode()),
        }
    )


async def app_flows(app: Called, admin: Called, owner: str) -> dict[str, Any]:
    """The app API's writes in every domain that reaches AWS; the ids the inference flows use."""
    session_id, png = random_session_id(), tiny_png(3, 3)
    await app.call("PUT", f"/sessions/{session_id}/metadata", json={"title": "IAM", "starred": True})
    presign = {"sessionId": session_id, "filename": "a.png", "mimeType": "image/png", "sizeBytes": len(png)}
    uploads = []
    for _ in range(2):
        presigned = await app.call("POST", "/files/presign", json=presign)
        async with httpx.AsyncClient() as plain:
            put = await plain.put(presigned["presignedUrl"], content=png, headers={"Content-Type": "image/png"})
        assert put.status_code == 200, put.text
        await app.call("POST", f"/files/{presigned['uploadId']}/complete")
        uploads.append(presigned["uploadId"])
    await app.call("GET", f"/files/{uploads[0]}/download", ok=(200, 307), follow_redirects=False)
    await app.call("DELETE", f"/files/{uploads[1]}")
    await app.call("POST", "/files/presign", json=presign)  # never completed: left to the sweep

    assistant = await app.call("POST", "/assistants", json={"name": "Docs", "instructions": "Use the docs."})
    assistant_id = assistant["assistantId"]
    text = b"# Deployments\n\nThe team deploys on Fridays after the review."
    body = {"filename": "d.md", "contentType": "text/markdown", "sizeBytes": len(text)}
    upload = await app.call("POST", f"/assistants/{assistant_id}/documents/upload-url", json=body)
    async with httpx.AsyncClient() as plain:
        put = await plain.put(upload["uploadUrl"], content=text, headers={"Content-Type": "text/markdown"})
    assert put.status_code == 200, put.text
    document_path = f"/assistants/{assistant_id}/documents/{upload['documentId']}"
    for _ in range(300):
        if (await app.call("GET", document_path))["status"] in ("complete", "failed"):
            break
        await asyncio.sleep(0.02)
    assert (await app.call("GET", document_path))["status"] == "complete"
    await app.call("GET", f"{document_path}/download", ok=(200, 307), follow_redirects=False)
    await app.call("POST", f"/assistants/{assistant_id}/test-chat", json={"message": "When does the team deploy?"})
    await app.call("POST", f"/assistants/{assistant_id}/shares", json={"emails": ["friend@example.com"]})
    await app.call("PUT", f"/assistants/{assistant_id}", json={"description": "Deployment notes"})
    await app.call("POST", "/chat/generate-title", json={"session_id": session_id, "input": "Plans for the release"})
    await app.call("PUT", "/memory/settings", json={"enabled": True})
    await app.call("POST", "/memory/search", json={"query": "deploy", "topK": 5})

    role = {"roleId": "iam_staff", "displayName": "Staff", "jwtRoleMappings": ["staff"], "enabled": True}
    await admin.call("POST", "/admin/roles", json=role)
    await admin.call("PATCH", "/admin/roles/iam_staff", json={"description": "Staff members"})
    model = {"modelId": "iam-local", "modelName": "Offline", "provider": "local"}
    created = await admin.call("POST", "/admin/managed-models", json=model)
    await admin.call("PUT", f"/admin/managed-models/{created['id']}", json={"modelName": "Offline too"})
    await admin.call("DELETE", f"/admin/managed-models/{created['id']}")
    await admin.call("POST", "/admin/quota/tiers", json={"tierId": "iam", "tierName": "IAM", "monthlyCostLimit": 100})
    assignment = {"tierId": "iam", "assignmentType": "default_tier"}
    await admin.call("POST", "/admin/quota/assignments", json=assignment)
    await admin.call("PATCH", f"/admin/users/{owner}", json={"status": "active"})
    return {"session_id": session_id, "upload_id": uploads[0], "assistant_id": assistant_id, "document": document_path}


# The providers' live catalogues call the providers themselves (Bedrock's would leave this machine).
PROVIDER_CATALOGUES = ("/admin/bedrock/", "/admin/openai/", "/admin/gemini/")


async def every_get(service: Called) -> None:
    """Every GET route without a path parameter, as an admin (a route that needs a query answers 4xx; none 5xx)."""
    paths = [
        path
        for path, item in service.app.openapi()["paths"].items()
        if "get" in item and "{" not in path and not path.startswith(PROVIDER_CATALOGUES)
    ]
    for path in paths:
        await service.call("GET", path, ok=tuple(range(200, 500)), follow_redirects=False)


async def inference_flows(inference: Called, ids: dict[str, Any]) -> None:
    remembered = random_session_id()
    turns = [
        # Memory after each turn: a fact, then the same fact changed (the record replaced), and the summary.
        {"session_id": remembered, "message": "My team deploys on Fridays."},
        {"session_id": remembered, "message": "My team deploys on Tuesdays now."},
        {"session_id": ids["session_id"], "message": "Look at this", "file_upload_ids": [ids["upload_id"]]},
        {"session_id": random_session_id(), "message": "When?", "assistant_id": ids["assistant_id"]},
        {
            "session_id": random_session_id(),
            "message": "Read this",
            "files": [{"filename": "n.txt", "content_type": "text/plain", "bytes": "aGVsbG8="}],
        },
    ]
    for turn in turns:
        response = await inference.call("POST", "/invocations", json=turn)
        assert "event: done" in response.text
        assert "stream_error" not in response.text, response.text


async def provision(settings: Settings) -> None:
    """What `colloquy storage init` does, with CORS origins and an embedding model configured."""
    token = CALLER.set("provisioning")
    try:
        storage = settings.storage.model_copy(update={"s3_cors_origins": "https://chat.example.com"})
        await initialize_storage(storage, vector_dimensions=settings.knowledge.embedding_dimensions)
        opened = await open_storage(storage)
        try:
            await seed_storage(settings, opened)
        finally:
            await opened.close()
    finally:
        CALLER.reset(token)


async def run_flows(settings: Settings) -> None:
    """Provisioning, then both services' flows, then the deletions, with the sweeps' rounds in between."""
    await provision(settings)
    storage, owner = settings.storage, random_user_id()

    def headers(user: str, roles: list[str]) -> dict[str, str]:
        token = mint_local_token(settings=settings.auth, data_dir=storage.data_dir, user_id=user, roles=roles)
        return {"Authorization": f"Bearer {token}"}

    app_api, inference_api = create_app_api(settings), create_inference_api(settings)
    async with started("app", app_api), started("inference", inference_api):
        app, admin = Called("app", app_api, headers(owner, [])), Called("app", app_api, headers("root", ["admin"]))
        inference = Called("inference", inference_api, headers(owner, []))
        ids = await app_flows(app, admin, owner)
        await inference_flows(inference, ids)
        await every_get(admin)
        await every_get(inference)
        await asyncio.sleep(0.5)  # a round of each sweep
        await app.call("DELETE", ids["document"])
        await app.call("DELETE", f"/assistants/{ids['assistant_id']}")
        await app.call("POST", "/sessions/bulk-delete", json={"sessionIds": [ids["session_id"]]})
        for client in (app, admin, inference):
            await client.client.aclose()


@pytest.fixture(scope="module")
def calls(moto_server_url: str, s3vectors_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AwsCalls:
    """Every AWS call the flows made, by who made it: run once for the module's tests."""
    table, bucket = unique_storage_names()
    storage = StorageSettings(
        storage_backend=StorageBackend.DYNAMODB,
        aws_endpoint_url=moto_server_url,
        dynamodb_table_name=table,
        s3_bucket_name=bucket,
        s3_vectors_bucket_name=bucket.replace("colloquy-files-", "colloquy-vectors-"),
        s3_vectors_endpoint_url=s3vectors_server_url,
        data_dir=tmp_path_factory.mktemp("iam"),
    )
    recorded = AwsCalls(
        names={table: "colloquy", bucket: "colloquy-files", storage.s3_vectors_bucket_name: "colloquy-vectors"}
    )
    with pytest.MonkeyPatch.context() as patch, running_openai() as embedding:
        recorded.install(patch)
        asyncio.run(run_flows(settings_for(storage, embedding.url)))
    return recorded


@pytest.mark.parametrize(
    ("caller", "policy"),
    [("app", "app-api.json"), ("inference", "inference-api.json"), ("provisioning", "provisioning.json")],
)
def test_each_role_is_allowed_every_call_it_makes_and_granted_nothing_else(
    calls: AwsCalls, caller: str, policy: str
) -> None:
    statements = load_policy(IAM / policy)
    needed = calls.by_caller(caller)

    refused = sorted(pair for pair in needed if not allows(statements, *pair))
    unused = sorted(granted_actions(statements) - {action for action, _ in needed} - UNEXERCISED[policy])

    assert needed, "no AWS call was recorded"
    assert refused == [], f"{policy} refuses calls that {caller} makes"
    assert unused == [], f"{policy} grants actions that {caller} never needed: {unused}"


@pytest.mark.parametrize("policy", ["app-api.json", "inference-api.json"])
def test_a_service_can_neither_make_nor_reshape_storage(policy: str) -> None:
    statements = load_policy(IAM / policy)

    assert not granted_actions(statements) & PROVISIONING_ONLY
    assert not [action for action in granted_actions(statements) if "*" in action]
    wildcard = [s for s in statements if "*" in s["Resource"] or s["Resource"] == "*"]
    assert {action for s in wildcard for action in s["Action"]} <= {"bedrock:ListFoundationModels"}


def test_an_object_outside_the_services_prefixes_is_refused() -> None:
    app, inference = load_policy(IAM / "app-api.json"), load_policy(IAM / "inference-api.json")
    elsewhere = "arn:aws:s3:::colloquy-files/exports/report.csv"

    assert not allows(app, "s3:GetObject", elsewhere)
    assert allows(app, "s3:GetObject", "arn:aws:s3:::colloquy-files/knowledge/a/b")
    assert not allows(inference, "s3:GetObject", "arn:aws:s3:::colloquy-files/knowledge/a/b")
    assert not allows(inference, "s3:DeleteObject", "arn:aws:s3:::colloquy-files/attachments/a/b")
    assert not allows(app, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other")
