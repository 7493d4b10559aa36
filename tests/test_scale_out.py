"""Scaling out: two app and two inference processes (`colloquy serve`) on one DynamoDB/S3 endpoint (the moto
server) behave as one service. Requests are spread round-robin, as a load balancer would.

- Turns: 4 users x 2 sessions x 3 turns, the sessions at once, each turn on the next inference replica. Every
  answer is stored once and complete, every session counts its messages and costs exactly, every user's month
  summary is the sum of their stored answers with one request per answer, and the admin reports (read on
  either app replica) agree; both app replicas list the same sessions; each new session is named once.
- The sweep of abandoned uploads runs in both app replicas: each abandoned upload's record and bytes go, once;
  ready files, their quota and a fresh pending upload stay.
- Ingestion: both app replicas sweep for documents and the client polls each in turn; each document is claimed
  by one worker, its chunks embedded once (the embedding server saw each text once) and metered once.
- The rate limit is per replica (a known limit, docs/decisions.md "Scaling out"): a user gets the limit on each.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from apis.shared.auth import mint_local_token
from apis.shared.clock import now_iso, to_iso, utc_now
from apis.shared.config import AuthMode, AuthSettings, StorageBackend, StorageSettings
from apis.shared.files.models import FileRecord, FileStatus, attachment_key
from apis.shared.providers.token_estimates import estimate_tokens
from apis.shared.sessions.metadata import DEFAULT_TITLE
from apis.shared.storage import Storage, open_storage
from tests.attachments import tiny_png
from tests.fakes.openai_server import FakeOpenAIState, running_openai
from tests.fakes.server import RunningFake
from tests.fixtures.moto import unique_storage_names
from tests.fleet import Fleet, running_fleet
from tests.helpers import parse_sse, random_session_id, random_user_id
from tests.turn_accounting import PRICED_MODEL, TurnOutcomes, assert_one_story

pytestmark = pytest.mark.dynamodb

USERS, SESSIONS_PER_USER, TURNS_PER_SESSION = 4, 2, 3
RATE_LIMIT = 4  # per user, per replica, per minute: more than any load user sends one replica (3)
EMBEDDING_PRICE = 20.0
SETTLE_SECONDS = 30.0  # background work (titles, sweeps, ingestion) is waited for, bounded


@dataclass(frozen=True, slots=True)
class Deployment:
    fleet: Fleet
    storage_settings: StorageSettings
    embedding: RunningFake[FakeOpenAIState]
    auth: AuthSettings

    def headers(self, user_id: str, roles: list[str] | None = None) -> dict[str, str]:
        token = mint_local_token(
            settings=self.auth, data_dir=self.storage_settings.data_dir, user_id=user_id, roles=roles or []
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def deployment(
    moto_server_url: str, s3vectors_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """The fleet on a table and buckets of its own, made by `colloquy storage init` as an operator would."""
    data_dir, logs = tmp_path_factory.mktemp("fleet-data"), tmp_path_factory.mktemp("fleet-logs")
    table, bucket = unique_storage_names()
    vectors = bucket.replace("colloquy-files-", "colloquy-vectors-")
    with running_openai() as embedding:
        env = {
            "STORAGE_BACKEND": "dynamodb",
            "AWS_ENDPOINT_URL": moto_server_url,
            "DYNAMODB_TABLE_NAME": table,
            "S3_BUCKET_NAME": bucket,
            "S3_VECTORS_BUCKET_NAME": vectors,
            "S3_VECTORS_ENDPOINT_URL": s3vectors_server_url,
            "AUTH_MODE": "local",
            "DATA_DIR": str(data_dir),
            "MCP_SECRETS_KEY": Fernet.generate_key().decode(),
            "LOG_LEVEL": "WARNING",
            "TURN_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
            "FILES_SWEEP_INTERVAL_SECONDS": "0.5",
            "KNOWLEDGE_SWEEP_INTERVAL_SECONDS": "0.2",
            "EMBEDDING_PROVIDER": "openai",
            "EMBEDDING_DIMENSIONS": "64",
            "EMBEDDING_PRICE_PER_MILLION_TOKENS": str(EMBEDDING_PRICE),
            "OPENAI_API_KEY": "sk-fake",
            "OPENAI_BASE_URL": embedding.url,
        }
        init = subprocess.run(
            [sys.executable, "-m", "apis.shared.cli", "storage", "init"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert init.returncode == 0, init.stderr
        storage_settings = StorageSettings(
            storage_backend=StorageBackend.DYNAMODB,
            aws_endpoint_url=moto_server_url,
            dynamodb_table_name=table,
            s3_bucket_name=bucket,
            s3_vectors_bucket_name=vectors,
            s3_vectors_endpoint_url=s3vectors_server_url,
            data_dir=data_dir,
        )
        auth = AuthSettings(auth_mode=AuthMode.LOCAL)
        mint_local_token(settings=auth, data_dir=data_dir, user_id="warm-up")  # the key pair, before any replica
        with running_fleet(env, logs) as fleet:
            yield Deployment(fleet, storage_settings, embedding, auth)


@pytest.fixture
async def storage(deployment: Deployment) -> AsyncIterator[Storage]:
    """The fleet's store, read directly: what the replicas wrote, not what one of them remembers."""
    opened = await open_storage(deployment.storage_settings)
    try:
        yield opened
    finally:
        await opened.close()


async def metric(client: httpx.AsyncClient, url: str, sample: str) -> float:
    """One sample of a replica's `/metrics` (0 when it has none yet)."""
    text = (await client.get(f"{url}/metrics")).text
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(f"{sample} ")]
    return values[0] if values else 0.0


async def summed(client: httpx.AsyncClient, urls: list[str], sample: str) -> float:
    return sum([await metric(client, url, sample) for url in urls])


async def assert_no_background_failures(client: httpx.AsyncClient, fleet: Fleet) -> None:
    """No replica's background work (titles, sweeps, ingestion, after-turn work) failed."""
    for replica in [*fleet.apps, *fleet.inferences]:
        text = (await client.get(f"{replica.url}/metrics")).text
        failures = [line for line in text.splitlines() if line.startswith("colloquy_background_task_failures_total{")]
        assert all(line.endswith(" 0.0") for line in failures), (failures, fleet.logs())


async def eventually(check: Any, what: str) -> Any:
    """Poll `check()` (async) until it returns a truthy value, bounded by SETTLE_SECONDS."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"never settled: {what}")


async def test_turns_spread_across_replicas_are_stored_and_counted_once(
    deployment: Deployment, storage: Storage
) -> None:
    fleet, admin = deployment.fleet, deployment.headers("scale-admin", ["admin"])
    users = [random_user_id() for _ in range(USERS)]
    conversations = {user: [random_session_id() for _ in range(SESSIONS_PER_USER)] for user in users}
    outcomes = TurnOutcomes()
    sent = Counter[str]()  # each user's turns so far: the next goes to the next replica
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(f"{fleet.app(0)}/admin/managed-models", json=PRICED_MODEL, headers=admin)
        assert created.status_code in (200, 201), created.text

        async def converse(user: str, session_id: str) -> None:
            for index in range(TURNS_PER_SESSION):
                replica = sent[user]
                sent[user] += 1
                body = {
                    "session_id": session_id,
                    "message": f"Turn {index} of {session_id}, please answer.",
                    "model_id": PRICED_MODEL["modelId"],
                }
                response = await client.post(
                    f"{fleet.inference(replica)}/invocations", json=body, headers=deployment.headers(user)
                )
                outcomes.record(response.status_code, response.text)

        await asyncio.gather(
            *(converse(user, session) for user, sessions in conversations.items() for session in sessions)
        )
        figures = await assert_one_story(
            sessions=storage.sessions, costs=storage.costs, conversations=conversations, outcomes=outcomes
        )
        assert figures["finished"] == figures["answers"] == USERS * SESSIONS_PER_USER * TURNS_PER_SESSION, figures
        assert (figures["failed"], figures["refused"]) == (0, 0), fleet.logs()

        spent: dict[str, Decimal] = {}
        for user in users:
            listed = []
            for replica in range(2):  # each app replica lists the same sessions, with the same counts
                page = await client.get(f"{fleet.app(replica)}/sessions", headers=deployment.headers(user))
                listed.append({s["sessionId"]: s["messageCount"] for s in page.json()["sessions"]})
            assert listed[0] == listed[1] == dict.fromkeys(conversations[user], 2 * TURNS_PER_SESSION)
            summary = (await client.get(f"{fleet.app(1)}/costs/summary", headers=deployment.headers(user))).json()
            assert summary["totalRequests"] == SESSIONS_PER_USER * TURNS_PER_SESSION
            spent[user] = Decimal(str(summary["totalCost"]))
            assert spent[user] > 0

        by_model = {
            row["modelId"]: row
            for row in (await client.get(f"{fleet.app(0)}/admin/costs/by-model", headers=admin)).json()
        }
        priced = by_model[PRICED_MODEL["modelId"]]
        assert priced["totalRequests"] == USERS * SESSIONS_PER_USER * TURNS_PER_SESSION
        assert abs(Decimal(str(priced["totalCost"])) - sum(spent.values(), Decimal(0))) < Decimal("1e-9")

        async def titled() -> bool:
            for user, sessions in conversations.items():
                for session_id in sessions:
                    session = await storage.sessions.get_session(user, session_id)
                    if session is None or session.title == DEFAULT_TITLE:
                        return False
            return True

        await eventually(titled, "every new session named")
        await assert_no_background_failures(client, fleet)


async def test_the_upload_sweep_in_every_replica_removes_each_abandoned_upload_once(
    deployment: Deployment, storage: Storage
) -> None:
    fleet, user = deployment.fleet, random_user_id()
    headers, png = deployment.headers(user), tiny_png(4, 4)
    async with httpx.AsyncClient(timeout=30) as client:
        ready = []
        for index in range(2):  # presign on one replica, complete on the other
            body = {
                "sessionId": "files",
                "filename": f"kept-{index}.png",
                "mimeType": "image/png",
                "sizeBytes": len(png),
            }
            presigned = (await client.post(f"{fleet.app(index)}/files/presign", json=body, headers=headers)).json()
            put = await client.put(presigned["presignedUrl"], content=png, headers={"Content-Type": "image/png"})
            assert put.status_code == 200, put.text
            done = await client.post(f"{fleet.app(index + 1)}/files/{presigned['uploadId']}/complete", headers=headers)
            assert done.status_code == 200, done.text
            ready.append(presigned["uploadId"])
        body = {"sessionId": "files", "filename": "fresh.png", "mimeType": "image/png", "sizeBytes": len(png)}
        fresh = (await client.post(f"{fleet.app(0)}/files/presign", json=body, headers=headers)).json()["uploadId"]

        # Abandoned two days ago: pending (some with their bytes sent, never completed) and failed ones.
        long_ago = to_iso(utc_now() - timedelta(days=2))
        abandoned = []
        for index in range(6):
            upload_id = str(uuid.uuid4())
            record = FileRecord(
                upload_id=upload_id,
                user_id=user,
                session_id="files",
                filename=f"abandoned-{index}.png",
                mime_type="image/png",
                size_bytes=len(png),
                storage_key=attachment_key(user, upload_id),
                status=FileStatus.FAILED if index % 3 == 2 else FileStatus.PENDING,
                created_at=long_ago,
                updated_at=long_ago,
            )
            await storage.files.create_file(record)
            if index % 2 == 0:
                await storage.blobs.put(record.storage_key, png, content_type="image/png")
            abandoned.append(record)

        async def swept() -> bool:
            return all([await storage.files.get_file(user, record.upload_id) is None for record in abandoned])

        await eventually(swept, "every abandoned upload swept")
        for record in abandoned:
            assert await storage.blobs.size(record.storage_key) is None, record.upload_id
        quota = (await client.get(f"{fleet.app(1)}/files/quota", headers=headers)).json()
        assert (quota["usedBytes"], quota["fileCount"]) == (2 * len(png), 2)
        listed = (await client.get(f"{fleet.app(0)}/files", headers=headers)).json()
        assert sorted(file["uploadId"] for file in listed["files"]) == sorted(ready)
        still = await storage.files.get_file(user, fresh)
        assert still is not None
        assert still.status is FileStatus.PENDING
        await assert_no_background_failures(client, fleet)


async def test_documents_are_ingested_once_though_every_replica_sweeps_and_polls(
    deployment: Deployment, storage: Storage
) -> None:
    fleet, owner = deployment.fleet, random_user_id()
    headers, calls_before = deployment.headers(owner), len(deployment.embedding.state.embeddings.calls)
    texts = [f"# Handbook {index}\n\nTeam {index} deploys on day {index} after the review." for index in range(4)]
    app_urls = [replica.url for replica in fleet.apps]
    completed = 'colloquy_document_ingestions_total{outcome="complete"}'
    async with httpx.AsyncClient(timeout=30) as client:
        completed_before = await summed(client, app_urls, completed)
        body = {"name": "Handbook", "instructions": "Answer from it.", "visibility": "PRIVATE"}
        assistant = (await client.post(f"{fleet.app(0)}/assistants", json=body, headers=headers)).json()["assistantId"]
        documents = []
        for index, text in enumerate(texts):
            data = text.encode()
            upload_body = {"filename": f"h{index}.md", "contentType": "text/markdown", "sizeBytes": len(data)}
            upload = (
                await client.post(
                    f"{fleet.app(index)}/assistants/{assistant}/documents/upload-url", json=upload_body, headers=headers
                )
            ).json()
            put = await client.put(upload["uploadUrl"], content=data, headers={"Content-Type": "text/markdown"})
            assert put.status_code == 200, put.text
            documents.append(upload["documentId"])

        polls = Counter[str]()

        async def all_complete() -> list[dict[str, Any]] | None:
            found = []
            for document_id in documents:  # the reference client's poll, on the next replica each time
                polls["n"] += 1
                url = f"{fleet.app(polls['n'])}/assistants/{assistant}/documents/{document_id}"
                found.append((await client.get(url, headers=headers)).json())
            assert not [d for d in found if d["status"] == "failed"], found
            return found if all(d["status"] == "complete" for d in found) else None

        finished = await eventually(all_complete, "every document ingested")
        # Every replica took part (sweeps, polls); between them, each document's ingestion completed once.
        assert await summed(client, app_urls, completed) - completed_before == len(documents)
        await assert_no_background_failures(client, fleet)

    calls = deployment.embedding.state.embeddings.calls[calls_before:]
    embedded = Counter(text for call in calls for text in call.texts)
    chunks = sum(document["chunkCount"] for document in finished)
    assert chunks >= len(texts)
    assert sum(embedded.values()) == chunks, embedded  # each chunk embedded once, by one replica
    assert set(embedded.values()) == {1}, embedded
    month = await storage.costs.get_summary(owner, now_iso()[:7])
    [metered] = [model for model in month.models if model.model_id == "text-embedding-3-small"]
    assert metered.input_tokens == sum(estimate_tokens(text) for text in embedded)  # metered once
    assert month.total_cost == pytest.approx(metered.input_tokens * EMBEDDING_PRICE / 1_000_000)


async def test_the_turn_rate_limit_is_counted_per_replica(deployment: Deployment) -> None:
    fleet, user = deployment.fleet, random_user_id()
    session_id, headers = random_session_id(), deployment.headers(user)
    answered: list[int] = []
    limited: list[int] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for index in range(2 * RATE_LIMIT + 2):
            body = {"session_id": session_id, "message": f"Message {index}"}
            response = await client.post(f"{fleet.inference(index)}/invocations", json=body, headers=headers)
            errors = [data for name, data in parse_sse(response.text) if name == "stream_error"]
            (limited if errors and errors[0]["code"] == "rate_limited" else answered).append(index)

    # Each replica let RATE_LIMIT through: with N replicas a user gets N times the limit.
    assert answered == list(range(2 * RATE_LIMIT))
    assert limited == [2 * RATE_LIMIT, 2 * RATE_LIMIT + 1]
