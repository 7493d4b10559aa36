"""What every embedding model shares: batches, the metric, the checks on what came back, and our errors.

Retries are the SDKs' own (as for the model listings): each SDK knows which of its failures are transient and
honours the server's Retry-After, so the provider modules configure it to `EMBEDDING_ATTEMPTS` attempts and
translate only what is left once they are spent. An HTTP status or a connection failure that retrying could
still fix (408, 429, 5xx, refused, dropped, timed out) is then a `ProviderUnavailableError`; any other failure
a `ProviderError`. Messages are ours: the SDK's text goes to the log with its exception.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, TypeVar

from apis.shared.errors import ProviderError, ProviderUnavailableError
from apis.shared.observability import EMBEDDING_SECONDS

logger = logging.getLogger(__name__)

# Attempts per call, the first included. Ingestion runs in the background, so it can afford to wait out a
# throttled minute better than a chat turn can; beyond a few attempts the document's own retry takes over.
EMBEDDING_ATTEMPTS = 4
# The exponential backoff between attempts where the SDK lets us choose it (Gemini), as OpenAI's SDK has it.
FIRST_RETRY_DELAY_SECONDS = 0.5
MAX_RETRY_DELAY_SECONDS = 8.0
RETRY_JITTER_SECONDS = 0.5
TRANSIENT_STATUSES = (408, 429, 500, 502, 503, 504)

E = TypeVar("E", bound=ProviderError)


class ProviderEmbedder(ABC):
    """An `Embedder` (apis/shared/assistants' port) over one provider's SDK.

    Texts go to `_embed_batch` in batches of `batch_size`, one batch after another; each answer is checked
    (one vector per text, each of `dimensions` finite numbers) and every vector is scaled to unit length,
    whatever the provider did (Gemini's shortened vectors are not), so a dot product is the cosine.
    An embedder holds one SDK client with its connection pool: `aclose` it when the service stops.
    """

    provider: ClassVar[str]

    def __init__(self, *, model_id: str, dimensions: int, batch_size: int, label: str) -> None:
        self._model_id = model_id
        self._dimensions = dimensions
        self._batch_size = batch_size
        self._label = label

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimensions(self) -> int:
        return self._dimensions

    @property
    def batch_size(self) -> int:
        return self._batch_size

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for passages to be indexed, in order."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed_checked(list(texts[start : start + self._batch_size]), query=False))
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        """The vector of a search query."""
        return (await self._embed_checked([text], query=True))[0]

    @abstractmethod
    async def aclose(self) -> None:
        """Close the SDK client's connections."""

    @abstractmethod
    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[object]:
        """The provider's vectors for `texts` as it sent them, unchecked; failures raised as ProviderError."""

    async def _embed_checked(self, texts: list[str], *, query: bool) -> list[list[float]]:
        started = time.perf_counter()
        outcome = "error"
        try:
            vectors = checked_vectors(await self._embed_batch(texts, query=query), len(texts), self)
            outcome = "ok"
            return vectors
        finally:
            EMBEDDING_SECONDS.labels(self.provider, outcome).observe(time.perf_counter() - started)

    def reported(self, error: E, exc: BaseException | None = None) -> E:
        """`error` after logging it, with the SDK's exception if any (which its message must not carry)."""
        extra = {"provider": self.provider, "embedding_model": self._model_id}
        logger.warning("embedding failed: %s", error.detail, exc_info=exc, extra=extra)
        return error

    def status_failure(self, status: int, *, credentials: str, key_refused: bool = False) -> ProviderError:
        """The error for an HTTP error answer that outlasted the SDK's retries."""
        label = self._label
        if key_refused or status in (401, 403):
            return ProviderError(
                f"{label} refused the credentials for embeddings (HTTP {status}): check {credentials}",
                code="provider_auth_failed",
            )
        if status == 404:
            return ProviderError(
                f"{label} has no embedding model {self._model_id!r} (HTTP 404): check EMBEDDING_MODEL_ID",
                code="embedding_model_not_found",
            )
        if status == 429:
            return ProviderUnavailableError(
                f"{label} is still limiting embedding requests (HTTP 429) after retries: try again later",
                code="provider_throttled",
            )
        if status == 408 or status >= 500:
            return ProviderUnavailableError(
                f"{label} failed to embed (HTTP {status}) after retries: try again later", code="provider_unavailable"
            )
        return ProviderError(f"{label} refused the embedding request (HTTP {status}); the service log has the details")

    def unreachable(self) -> ProviderUnavailableError:
        """The error for a refused, dropped or timed-out connection, after retries."""
        return ProviderUnavailableError(
            f"{self._label} could not be reached for embeddings (connection refused, dropped or timed out)",
            code="provider_unreachable",
        )

    def unexpected(self) -> ProviderError:
        """The error for any other failure of the SDK, such as an answer it could not read."""
        return ProviderError(f"{self._label}'s embedding call failed; the service log has the details")

    def invalid(self, problem: str, *, code: str = "embedding_response_invalid") -> ProviderError:
        """The error, logged, for an answer that is not the vectors asked for."""
        return self.reported(ProviderError(f"{self._label} {problem}", code=code))


def checked_vectors(raw: Sequence[object], count: int, embedder: ProviderEmbedder) -> list[list[float]]:
    """`raw` as unit-length vectors of floats, or the ProviderError saying how it is not `count` of them."""
    if len(raw) != count:
        raise embedder.invalid(f"answered {len(raw)} embeddings for {count} texts")
    vectors: list[list[float]] = []
    for vector in raw:
        if not isinstance(vector, list | tuple) or not all(_is_number(value) for value in vector):
            raise embedder.invalid("answered an embedding that is not a list of numbers")
        if len(vector) != embedder.dimensions:
            raise embedder.invalid(
                f"answered embeddings of {len(vector)} dimensions, but EMBEDDING_DIMENSIONS is"
                f" {embedder.dimensions}: set it to the model's size, or choose a model that can shorten its vectors",
                code="embedding_dimensions_mismatch",
            )
        vectors.append(unit_length([float(value) for value in vector]))
    return vectors


def _is_number(value: object) -> bool:
    # bool is an int to isinstance, and never a coordinate.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def unit_length(vector: list[float]) -> list[float]:
    """`vector` scaled to length 1; a zero vector (which has no direction) as it is."""
    norm = math.sqrt(math.fsum(value * value for value in vector))
    return vector if norm == 0.0 else [value / norm for value in vector]
