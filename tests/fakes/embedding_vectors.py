"""What the fakes' embedding endpoints answer, written once for all three providers.

`fake_embedding` is a stand-in model that retrieval tests can reason about: each word stem of the text (the
lexical index's own terms) is hashed to one coordinate and sign of the requested dimension, and the sum is
scaled to unit length, so texts that share words are near (their cosine grows with the stems they share) and
texts that share none are nearly orthogonal. The same text gives the same vector in every run and process.

Each fake's state holds an `EmbeddingScript`: every call to an embedding endpoint is recorded in `calls`
(scripted failures included, to count batches and retries); `fail_next(429, 500)` makes the next calls fail
with those statuses, one each, in the provider's error shape; `fewer_vectors` and `wrong_dimensions` make
every answer malformed, as a broken provider or proxy would; `delay_seconds` holds every answer back, and
`most_in_flight` says how many calls were being answered at once, at most.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import anyio

from apis.shared.assistants.lexical import index_terms


def _coordinate(term: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    number = int.from_bytes(digest, "big")
    return number % dimensions, 1.0 if (number >> 63) & 1 else -1.0


def fake_embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector of `dimensions` floats: the text's hashed bag of word stems."""
    # A text of stop words only has no term: its whole lower-cased text stands for one, so no vector is zero.
    terms = index_terms(text) or [text.strip().lower()]
    vector = [0.0] * dimensions
    for term in terms:
        position, sign = _coordinate(term, dimensions)
        vector[position] += sign
    norm = math.sqrt(math.fsum(value * value for value in vector))
    return [value / norm for value in vector]


def cosine(first: Sequence[float], second: Sequence[float]) -> float:
    """The cosine similarity of two vectors."""
    dot = math.fsum(a * b for a, b in zip(first, second, strict=True))
    norms = math.sqrt(math.fsum(a * a for a in first)) * math.sqrt(math.fsum(b * b for b in second))
    return dot / norms


@dataclass(frozen=True, slots=True)
class EmbeddingCall:
    """One call to an embedding endpoint, as the fake read it."""

    model: str
    texts: list[str]
    # What the request asked for; None when it did not say (the model's full size).
    dimensions: int | None
    # Gemini's taskType of the call's requests (RETRIEVAL_DOCUMENT, RETRIEVAL_QUERY); None elsewhere.
    task_type: str | None = None
    # The scripted failure status it was answered with; None when it got vectors.
    failed_with: int | None = None


@dataclass
class EmbeddingScript:
    """How a fake's embedding endpoint answers; the test's thread sets it, the fake's thread reads it."""

    calls: list[EmbeddingCall] = field(default_factory=list)
    # Statuses of the next calls to refuse, one each, in order.
    failures: list[int] = field(default_factory=list)
    # Every answer holds this many vectors fewer than the texts sent (Titan's: no `embedding` at all).
    fewer_vectors: int = 0
    # Every answer's vectors have this many dimensions, whatever was asked.
    wrong_dimensions: int | None = None
    # Every call is answered after this long.
    delay_seconds: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def fail_next(self, *statuses: int) -> EmbeddingScript:
        """Refuse the next calls with these statuses, one call each; returns the script so calls chain."""
        with self._lock:
            self.failures.extend(statuses)
        return self

    def take(self, call: EmbeddingCall) -> int | None:
        """Record the call; the status of the scripted failure that answers it, or None for vectors."""
        with self._lock:
            status = self.failures.pop(0) if self.failures else None
            self.calls.append(replace(call, failed_with=status))
        return status

    @asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Hold a call for `delay_seconds`, counting it in flight meanwhile."""
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await anyio.sleep(self.delay_seconds)
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def vectors(self, texts: Sequence[str], dimensions: int) -> list[list[float]]:
        """The answer's vectors for `texts` at `dimensions`, malformed as the script says."""
        size = self.wrong_dimensions or dimensions
        vectors = [fake_embedding(text, size) for text in texts]
        return vectors[: max(0, len(vectors) - self.fewer_vectors)]

    def answered(self) -> list[EmbeddingCall]:
        """The calls that got vectors, in order."""
        with self._lock:
            return [call for call in self.calls if call.failed_with is None]


def token_count(text: str) -> int:
    """A stand-in for the provider's token count: the words of the text."""
    return len(text.split())
