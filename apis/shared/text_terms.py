"""The words a lexical comparison uses, one normalisation for every search in Colloquy (knowledge bases and
long-term memory alike): lower case after Unicode NFKC, words of letters and digits, English stop words dropped,
each word reduced to its Snowball stem ("deploys", "deployed", "deploying" all become "deploy")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
# A token longer than this is not a word a person would search for (hashes, base64).
MAX_WORD_CHARS = 40
_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers herself him himself his how i if in into is it its itself just me more most my myself no nor
    not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    stemmed: str = _stemmer.stemWord(word)
    return stemmed


def stems(text: str) -> Iterator[str]:
    """Every term of `text`, in order, repeats kept."""
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if len(word) <= MAX_WORD_CHARS and word not in STOP_WORDS:
            yield _stem(word)
