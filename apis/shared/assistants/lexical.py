"""The words a lexical search compares: one normalisation for indexed chunks and for queries, on every backend.

Lower case after Unicode NFKC, words of letters and digits, English stop words dropped, each word reduced to its
Snowball stem ("deploys", "deployed", "deploying" all match "deploy"). The SQLite index stores these terms
in FTS5 and the DynamoDB one in postings; both rank them with BM25, so a query ranks alike on either backend.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
# A token longer than this is not a word a person would search for (hashes, base64): it is not indexed.
_MAX_WORD_CHARS = 40
# Queries rarely need more; a pasted page as a question would otherwise make a search of thousands of terms.
MAX_QUERY_TERMS = 32

_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers herself him himself his how i if in into is it its itself just me more most my myself no nor
    not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    stemmed: str = _stemmer.stemWord(word)
    return stemmed


def _words(text: str) -> list[str]:
    normalised = unicodedata.normalize("NFKC", text).lower()
    return [word for word in _WORD.findall(normalised) if len(word) <= _MAX_WORD_CHARS and word not in _STOP_WORDS]


def index_terms(text: str) -> list[str]:
    """Every term of `text` in order, repeats kept (BM25 counts them)."""
    return [_stem(word) for word in _words(text)]


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query in the order they first appear, at most MAX_QUERY_TERMS."""
    return list(dict.fromkeys(index_terms(text)))[:MAX_QUERY_TERMS]
