"""The words a lexical search compares: one normalisation for indexed chunks and for queries, on every backend.

Words are normalised as everywhere in Colloquy (apis/shared/text_terms.py: NFKC, lower case, stop words dropped,
Snowball stems: "deploys", "deployed", "deploying" all match "deploy"). The SQLite index stores these terms
in FTS5 and the DynamoDB one in postings; both rank them with BM25, so a query ranks alike on either backend.
"""

from __future__ import annotations

from apis.shared.text_terms import stems

# Queries rarely need more; a pasted page as a question would otherwise make a search of thousands of terms.
MAX_QUERY_TERMS = 32


def index_terms(text: str) -> list[str]:
    """Every term of `text` in order, repeats kept (BM25 counts them)."""
    return list(stems(text))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query in the order they first appear, at most MAX_QUERY_TERMS."""
    return list(dict.fromkeys(index_terms(text)))[:MAX_QUERY_TERMS]
