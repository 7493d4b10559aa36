"""How relevant a memory is to a query, lexically, from 0 (no word in common) to 1, and what makes two records the
same memory.

Memory needs less than the knowledge bases' index: a user holds at most MEMORY_MAX_RECORDS_PER_USER records of a
kind, so a search scores each of them here rather than through an index. Words are normalised as there
(apis/shared/text_terms.py: "deploys" matches "deploy"), and the score is a weighted overlap coefficient:

    score(Q, D) = w(Q ∩ D) / min(w(Q), w(D))

the share of the smaller side's words that the other side has too, each word weighted by how rare it is among
the records searched (w(t) = ln(1 + (N + 1) / (df(t) + 1))). A short query wholly inside a record scores 1, so
does a short record wholly inside a long message (a turn's recall query), and a word every record has ("user")
counts for less than one only a few have. It stays in 0..1, as the reference's semantic scores do, so the
reference's recall thresholds (MEMORY_RECALL_*_MIN_SCORE) read the same way.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from apis.shared.memory.models import MemoryRecord, ScoredMemory
from apis.shared.text_terms import stems

_SPACE = re.compile(r"\s+")
# A pasted page as a query would otherwise compare thousands of words against every record.
MAX_QUERY_TERMS = 64
_DECIMALS = 4


def terms(text: str) -> frozenset[str]:
    """The distinct stemmed words of `text`, stop words left out."""
    return frozenset(stems(text))


def query_terms(text: str) -> frozenset[str]:
    """The terms of a query, at most MAX_QUERY_TERMS (the first ones)."""
    return frozenset(list(dict.fromkeys(stems(text)))[:MAX_QUERY_TERMS])


def normalized(text: str) -> str:
    """`text` as duplicates compare it: NFKC, case folded, runs of spaces as one, without end punctuation, so
    "My team deploys on Fridays." and "my team deploys on fridays" are the same memory."""
    folded = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return folded.rstrip(" .!?;:,").strip()


def _weights(documents: Sequence[frozenset[str]]) -> dict[str, float]:
    frequency: Counter[str] = Counter()
    for document in documents:
        frequency.update(document)
    total = len(documents)
    return {term: math.log(1 + (total + 1) / (count + 1)) for term, count in frequency.items()}


def _overlap(query: frozenset[str], document: frozenset[str], weight: dict[str, float], unseen: float) -> float:
    if not query or not document:
        return 0.0
    shared = query & document
    if not shared:
        return 0.0

    def mass(words: Iterable[str]) -> float:
        return sum(weight.get(word, unseen) for word in words)

    return min(1.0, mass(shared) / min(mass(query), mass(document)))


def rank(query: str, records: Sequence[MemoryRecord], *, min_score: float = 0.0) -> list[ScoredMemory]:
    """`records` that share a word with `query` and score at least `min_score`, best first (newest first among
    equals), each with its score rounded to four decimals."""
    wanted = query_terms(query)
    if not wanted:
        return []
    documents = [terms(record.content) for record in records]
    weight = _weights(documents)
    unseen = math.log(2 + len(documents))  # a query word no record has: as rare as a word can be
    scored = []
    for record, document in zip(records, documents, strict=True):
        score = round(_overlap(wanted, document, weight, unseen), _DECIMALS)
        if score > 0 and score >= min_score:
            scored.append(ScoredMemory(record=record, score=score))
    scored.sort(key=lambda item: item.record.record_id, reverse=True)
    scored.sort(key=lambda item: item.score, reverse=True)  # stable: newest first within one score
    return scored
