"""Embeddings through the Gemini Developer API (by API key), with the google-genai SDK.

With an API key, `models.embed_content` posts every text of a call to `{model}:batchEmbedContents` as one
request each, `{"requests": [{"model", "content", "taskType", "outputDimensionality"}]}`, answered by
`{"embeddings": [{"values": [...]}]}`; Google takes at most 100 requests in one batch, so larger batches are cut.
Each text goes as a `Content` of its own: the SDK merges plain strings into one content (one vector for the
lot) for the gemini-embedding-2 models.

Passages are embedded as RETRIEVAL_DOCUMENT and queries as RETRIEVAL_QUERY. Vectors shortened below the
model's full size are not of unit length (Google says so); the base class scales every vector.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# The SDK's HTTP client: its transport errors reach us unwrapped.
import httpx
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from apis.shared.config import ProviderSettings
from apis.shared.errors import ConfigurationError
from apis.shared.providers.embeddings.base import (
    FIRST_RETRY_DELAY_SECONDS,
    MAX_RETRY_DELAY_SECONDS,
    RETRY_JITTER_SECONDS,
    TRANSIENT_STATUSES,
    ProviderEmbedder,
)
from apis.shared.providers.genai_transport import httpx_client_args

MAX_BATCH = 100
_CREDENTIALS = "GEMINI_API_KEY (or GOOGLE_API_KEY)"
# The sizes gemini-embedding-001 can shorten its vectors to.
_DIMENSION_RANGES = {"gemini-embedding-001": range(128, 3073)}


def _key_refused(exc: genai_errors.APIError) -> bool:
    """Whether Google refused the API key, which it answers with 400 and the reason API_KEY_INVALID."""
    error = exc.details.get("error", {}) if isinstance(exc.details, dict) else {}
    details = error.get("details", []) if isinstance(error, dict) else []
    return any(isinstance(detail, dict) and detail.get("reason") == "API_KEY_INVALID" for detail in details)


class GeminiEmbedder(ProviderEmbedder):
    """`embed_content` with a batch of texts per call, the task type telling passages from queries."""

    provider = "gemini"

    def __init__(self, client: genai.Client, *, model_id: str, dimensions: int, batch_size: int) -> None:
        super().__init__(
            model_id=model_id, dimensions=dimensions, batch_size=min(batch_size, MAX_BATCH), label="Gemini"
        )
        self._client = client

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[object]:
        config = types.EmbedContentConfig(
            output_dimensionality=self.dimensions,
            task_type="RETRIEVAL_QUERY" if query else "RETRIEVAL_DOCUMENT",
        )
        contents: list[types.Content] = [types.Content(parts=[types.Part(text=text)], role="user") for text in texts]
        with self._provider_errors():
            response = await self._client.aio.models.embed_content(
                model=self.model_id,
                contents=contents,
                config=config,
            )
        return [embedding.values for embedding in response.embeddings or []]

    @contextmanager
    def _provider_errors(self) -> Iterator[None]:
        """Raise our error for any failure of the SDK inside the block (its retries spent)."""
        try:
            yield
        except genai_errors.APIError as exc:
            failure = self.status_failure(exc.code, credentials=_CREDENTIALS, key_refused=_key_refused(exc))
            raise self.reported(failure, exc) from exc
        except httpx.TransportError as exc:
            raise self.reported(self.unreachable(), exc) from exc
        except (httpx.HTTPError, genai_errors.UnknownApiResponseError, pydantic.ValidationError) as exc:
            raise self.reported(self.unexpected(), exc) from exc

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        self._client.close()


def build_gemini_embedder(
    providers: ProviderSettings, *, model_id: str, dimensions: int, batch_size: int, attempts: int
) -> GeminiEmbedder:
    """The embedder on GEMINI_BASE_URL (Google's endpoint when unset); ConfigurationError if not configured."""
    if not providers.gemini_api_key:
        raise ConfigurationError(f"EMBEDDING_PROVIDER=gemini needs {_CREDENTIALS}")
    sizes = _DIMENSION_RANGES.get(model_id)
    if sizes is not None and dimensions not in sizes:
        raise ConfigurationError(
            f"EMBEDDING_DIMENSIONS is {dimensions}, but {model_id} gives from {sizes.start} to {sizes.stop - 1}"
        )
    retries = types.HttpRetryOptions(
        attempts=attempts,
        initial_delay=FIRST_RETRY_DELAY_SECONDS,
        max_delay=MAX_RETRY_DELAY_SECONDS,
        jitter=RETRY_JITTER_SECONDS,
        http_status_codes=list(TRANSIENT_STATUSES),
    )
    http_options = types.HttpOptions(
        base_url=providers.gemini_base_url,
        timeout=round(providers.provider_timeout_seconds * 1000),  # the SDK counts in milliseconds
        retry_options=retries,
        async_client_args=httpx_client_args(),
    )
    client = genai.Client(api_key=providers.gemini_api_key, vertexai=False, http_options=http_options)
    return GeminiEmbedder(client, model_id=model_id, dimensions=dimensions, batch_size=batch_size)
