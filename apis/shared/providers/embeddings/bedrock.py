"""Embeddings through Bedrock's InvokeModel, in the request format of Amazon Titan Text Embeddings v2.

Titan v2 embeds one text per call, `{"inputText", "dimensions", "normalize"}`, answered by `{"embedding",
"embeddingsByType", "inputTextTokenCount"}`, and gives 256, 512 or 1024 dimensions only. So a batch of N texts
is N calls, made on worker threads (boto3 blocks) with a few in flight at a time for the whole embedder,
which keeps one ingestion from taking every thread and Bedrock's per-minute quota at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from apis.shared.config import ProviderSettings
from apis.shared.errors import ConfigurationError, ProviderError, ProviderUnavailableError
from apis.shared.providers.embeddings.base import ProviderEmbedder

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

TITAN_V2_DIMENSIONS = (256, 512, 1024)
# Calls in flight at once, per embedder.
CONCURRENCY = 4
_CREDENTIALS = "AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role)"


class BedrockEmbedder(ProviderEmbedder):
    """Titan Text Embeddings v2 by InvokeModel: one call per text, at most `CONCURRENCY` in flight."""

    provider = "bedrock"

    def __init__(self, client: BedrockRuntimeClient, *, model_id: str, dimensions: int, batch_size: int) -> None:
        super().__init__(model_id=model_id, dimensions=dimensions, batch_size=batch_size, label="Bedrock")
        self._client = client
        self._limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[object]:
        vectors: list[object] = [None] * len(texts)

        async def embed(position: int) -> None:
            vectors[position] = await anyio.to_thread.run_sync(
                partial(self._invoke, texts[position]), limiter=self._limiter
            )

        try:
            async with anyio.create_task_group() as group:
                for position in range(len(texts)):
                    group.start_soon(embed, position)
        except* ProviderError as failures:
            # The first call to fail cancels those not started; its error is the batch's.
            raise failures.exceptions[0]  # noqa: B904 -- it carries its own cause, the SDK's exception
        return vectors

    def _invoke(self, text: str) -> object:
        """One call, on a worker thread: the `embedding` of Titan's answer (checked by the base class)."""
        body = json.dumps({"inputText": text, "dimensions": self.dimensions, "normalize": True})
        with self._provider_errors():
            response = self._client.invoke_model(
                modelId=self.model_id, body=body, contentType="application/json", accept="application/json"
            )
            raw = response["body"].read()
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise self.reported(self.unexpected(), exc) from exc
        return answer.get("embedding") if isinstance(answer, dict) else None

    @contextmanager
    def _provider_errors(self) -> Iterator[None]:
        """Raise our error for any failure of boto3 inside the block (its retries spent)."""
        try:
            yield
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            raise self.reported(self.status_failure(status, credentials=_CREDENTIALS), exc) from exc
        except (ConnectionError, HTTPClientError) as exc:  # refused, unresolvable, timed out, dropped
            raise self.reported(self.unreachable(), exc) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:  # an expired role, a removed profile
            unavailable = ProviderUnavailableError(f"Bedrock has no {_CREDENTIALS} for embeddings now")
            raise self.reported(unavailable, exc) from exc
        except BotoCoreError as exc:
            raise self.reported(self.unexpected(), exc) from exc

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)


def build_bedrock_embedder(
    providers: ProviderSettings, *, region: str, model_id: str, dimensions: int, batch_size: int, attempts: int
) -> BedrockEmbedder:
    """The embedder in BEDROCK_REGION (else `region`); ConfigurationError without credentials or a Titan size.

    Blocks while boto3 looks for credentials (files, or an instance role): call it at the composition root.
    """
    if dimensions not in TITAN_V2_DIMENSIONS:
        raise ConfigurationError(
            f"EMBEDDING_DIMENSIONS is {dimensions}, but Titan Text Embeddings v2 ({model_id}) gives 256, 512 or 1024"
        )
    session = boto3.session.Session(region_name=providers.bedrock_region or region)
    if session.get_credentials() is None:
        raise ConfigurationError(f"EMBEDDING_PROVIDER=bedrock needs {_CREDENTIALS}")
    timeout = providers.provider_timeout_seconds
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        # botocore's standard retries: throttling, 5xx and dropped connections, with full-jitter backoff.
        retries={"mode": "standard", "total_max_attempts": attempts},
        max_pool_connections=CONCURRENCY,
    )
    client = session.client("bedrock-runtime", config=config)
    return BedrockEmbedder(client, model_id=model_id, dimensions=dimensions, batch_size=batch_size)
