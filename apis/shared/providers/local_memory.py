"""What the offline `local` model answers to the memory model's two tasks, deterministically and with no network.

The turn's memory work (apis/shared/turns/memory_*.py, compaction*.py) asks its model for JSON: preferences and
facts the user stated, and a running summary of the conversation. A real model reads the prompt; the offline
model recognises the task by its first line and answers from the payload with plain rules:

- statements of the user's own ("my team deploys on Fridays", "I prefer short answers", "I work at Acme",
  "I live in Lyon", "I am a nurse") become facts or preferences, each with a short subject, so that a later
  statement on the same subject ("my team deploys on Tuesdays now") replaces it; questions are never memories;
- the summary keeps one line per user message, the earliest and the newest when it grows too long, so the
  opening of a long conversation survives every later fold.

Pure Python on purpose: the turns layer imports the task names from here without loading Strands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# The first line of each task's instructions: how the offline model knows what it is asked.
EXTRACTION_TASK = "Task: memory extraction."
SUMMARY_TASK = "Task: conversation summary."
# The offline summary's size (a record holds 2,000 characters) and how many of its first lines always stay.
SUMMARY_MAX_CHARS = 1_600
SUMMARY_KEPT_OPENING_LINES = 4
SUMMARY_LINE_CHARS = 160
SUMMARY_HEADER = "Conversation so far (the user's own words, oldest first):"
_GAP_LINE = "- (...)"
MAX_ITEMS_PER_MESSAGE = 5

_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]?")
_CLAUSE = re.compile(r",?\s+and\s+(?=(?:i|i'm|my)\b)", re.IGNORECASE)
_LEAD = re.compile(
    r"^(?:(?:also|and|but|so|ok|okay|btw|by the way|fyi|note that|remember that|just so you know|"
    r"for the record|for context)[,:]?\s+)+",
    re.IGNORECASE,
)
_WORDS = r"[\w'-]+(?:\s+[\w'-]+){0,2}?"
_PREFERENCE = re.compile(
    r"^i\s+(?:really\s+|also\s+|usually\s+|generally\s+)?"
    r"(?P<verb>prefer|like|love|enjoy|hate|dislike|would\s+rather|'d\s+rather|do\s+not\s+like|don't\s+like|"
    r"dont\s+like)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_MY_IS = re.compile(rf"^my\s+(?P<np>{_WORDS})\s+(?P<verb>is|are|was|were)\s+(?P<rest>.+)$", re.IGNORECASE)
_MY_VERB = re.compile(rf"^my\s+(?P<np>{_WORDS})\s+(?P<verb>[a-z]+s)\s+(?P<rest>.+)$", re.IGNORECASE)
_WORK = re.compile(r"^i\s+(?:work|am\s+working|'m\s+working)\s+(?P<prep>at|for|on|in|as|with)\s+(?P<rest>.+)$", re.I)
_LIVE = re.compile(r"^i\s+(?:live|am\s+based|'m\s+based|am\s+living)\s+in\s+(?P<rest>.+)$", re.IGNORECASE)
_NAME = re.compile(r"^(?:call\s+me|i\s+am\s+called|i'm\s+called)\s+(?P<rest>.+)$", re.IGNORECASE)
_AM = re.compile(r"^(?:i\s+am|i'm|im)\s+(?P<article>a|an)\s+(?P<rest>.+)$", re.IGNORECASE)
# Where the head of a phrase ends ("answers in French" is about answers).
_BOUNDARY = frozenset(
    {"in", "on", "at", "with", "over", "than", "to", "for", "when", "because", "and", "but"}
    | {"if", "so", "as", "from", "by", "of", "before", "after", "during", "while", "every"}
)
_ARTICLES = frozenset(["a", "an", "the", "my", "our", "your", "some"])
_PREFERENCE_WORDS = {
    "prefer": "prefers",
    "like": "likes",
    "love": "loves",
    "enjoy": "enjoys",
    "hate": "hates",
    "dislike": "dislikes",
    "would rather": "would rather",
    "'d rather": "would rather",
    "do not like": "does not like",
    "don't like": "does not like",
    "dont like": "does not like",
}
_WORK_SUBJECTS = {"at": "employer", "for": "employer", "as": "occupation"}


def answer(system_prompt: str | None, payload: str) -> str | None:
    """The offline model's JSON answer when `system_prompt` is one of the memory tasks; None otherwise."""
    if not system_prompt:
        return None
    extract = system_prompt.startswith(EXTRACTION_TASK)
    if not extract and not system_prompt.startswith(SUMMARY_TASK):
        return None
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        data = {}
    data = data if isinstance(data, dict) else {}
    messages = [m for m in data.get("newMessages", []) if isinstance(m, dict)]
    items: list[dict[str, str]] = []
    if extract:
        for message in messages:
            if message.get("role") == "user":
                items.extend(statements(str(message.get("text", ""))))
    summary = fold_summary(str(data.get("previousSummary") or ""), messages)
    items.append({"kind": "summary", "subject": "conversation", "content": summary})
    return json.dumps(items, ensure_ascii=False)


def statements(text: str) -> list[dict[str, str]]:
    """The preferences and facts `text` states about its writer, at most MAX_ITEMS_PER_MESSAGE."""
    found: dict[str, dict[str, str]] = {}
    for sentence in _sentences(text):
        item = _statement(sentence)
        if item is not None:
            found[f"{item['kind']}:{item['subject']}"] = item  # a later sentence on one subject wins
    return list(found.values())[:MAX_ITEMS_PER_MESSAGE]


def _sentences(text: str) -> Iterator[str]:
    """The statements of `text`: its sentences, and the clauses of one joined by "and I" or "and my"."""
    for match in _SENTENCE.finditer(text.replace("\u2019", "'")):
        sentence = " ".join(match.group(0).split())
        if sentence.endswith("?") or not sentence:
            continue
        for clause in _CLAUSE.split(sentence):
            clause = _LEAD.sub("", clause).rstrip(".!;, ")
            if clause:
                yield clause


def _statement(sentence: str) -> dict[str, str] | None:
    if match := _PREFERENCE.match(sentence):
        verb = " ".join(match["verb"].lower().split())
        rest = match["rest"]
        return _item("preference", _head(rest), f"The user {_PREFERENCE_WORDS.get(verb, verb)} {rest}")
    if match := _MY_IS.match(sentence):
        np = match["np"].lower()
        return _item("fact", np, f"The user's {match['np']} {match['verb'].lower()} {match['rest']}")
    if match := _WORK.match(sentence):
        prep = match["prep"].lower()
        subject = _WORK_SUBJECTS.get(prep, f"work {prep} {_head(match['rest'])}".strip())
        return _item("fact", subject, f"The user works {prep} {match['rest']}")
    if match := _LIVE.match(sentence):
        return _item("fact", "home", f"The user lives in {match['rest']}")
    if match := _NAME.match(sentence):
        return _item("fact", "name", f"The user is called {match['rest']}")
    if match := _AM.match(sentence):
        rest = match["rest"]
        return _item("fact", f"is {_head(rest)}", f"The user is {match['article'].lower()} {rest}")
    if match := _MY_VERB.match(sentence):
        np, verb = match["np"].lower(), match["verb"].lower()
        return _item("fact", f"{np} {verb}", f"The user's {match['np']} {verb} {match['rest']}")
    return None


def _head(phrase: str) -> str:
    """What a phrase is about: its words up to the first preposition or conjunction, articles dropped."""
    words = [word.lower().strip(",;:") for word in phrase.split()]
    while words and (words[0] in _ARTICLES or words[0] == "to"):
        words.pop(0)
    head: list[str] = []
    for word in words:
        if word in _BOUNDARY and head:
            break
        head.append(word)
    return " ".join(head[:4])


def _item(kind: str, subject: str, content: str) -> dict[str, str] | None:
    subject = " ".join(subject.split())
    if not subject:
        return None
    return {"kind": kind, "subject": subject, "content": content.rstrip(" ,;:") + "."}


def fold_summary(previous: str, messages: list[dict[str, Any]]) -> str:
    """The previous summary with a line for each new user message; past SUMMARY_MAX_CHARS, the opening lines
    and the newest ones are kept, with a marker where lines were left out."""
    lines = [line for line in previous.splitlines() if line.startswith("- ") and line != _GAP_LINE]
    for message in messages:
        text = " ".join(str(message.get("text", "")).split())
        if message.get("role") == "user" and text:
            clipped = text if len(text) <= SUMMARY_LINE_CHARS else text[: SUMMARY_LINE_CHARS - 3].rstrip() + "..."
            lines.append(f"- {clipped}")
    opening, rest = lines[:SUMMARY_KEPT_OPENING_LINES], lines[SUMMARY_KEPT_OPENING_LINES:]
    room = SUMMARY_MAX_CHARS - len(SUMMARY_HEADER) - sum(len(line) + 1 for line in opening)
    newest: list[str] = []
    for line in reversed(rest):
        if len(line) + 1 + len(_GAP_LINE) + 1 > room:
            break
        newest.insert(0, line)
        room -= len(line) + 1
    gap = [_GAP_LINE] if len(newest) < len(rest) else []
    return "\n".join([SUMMARY_HEADER, *opening, *gap, *newest])
