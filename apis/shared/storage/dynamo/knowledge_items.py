"""Keys and items of the knowledge index in the shared table: chunks, postings, term lists, manifests, statistics.

    stats     pk=ASSISTANT#{a}#KNOWLEDGE              sk=STATS             chunkCount, termCount (ADD)
    manifest  pk=ASSISTANT#{a}#KNOWLEDGE              sk=DOC#{d}           what the document's put wrote
    chunk     pk=ASSISTANT#{a}#KNOWLEDGE#DOC#{d}      sk=CHUNK#{position}  text, filename, heading, index, length
    terms     pk=ASSISTANT#{a}#KNOWLEDGE#DOC#{d}      sk=TERMS#{n}         the document's terms and posting parts
    posting   pk=ASSISTANT#{a}#KNOWLEDGE#TERM#{term}  sk={d}#{part}        "position:tf:length ..." of its chunks

`position` is the chunk's place in the put (0, 1, ...; six digits), `length` its number of terms. A posting item
holds one document's entries for one term, at most ENTRIES_PER_POSTING of them (more go to further parts), so
its size stays far below DynamoDB's 400 KB; a terms item lists at most TERMS_PER_ITEM `term parts` lines.
Terms are letters and digits only (lexical.py), so they never contain `#`; ids are escaped (schema.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apis.shared.assistants.documents import Chunk, ChunkHit
from apis.shared.assistants.lexical import index_terms
from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize

STATS_SK = "STATS"
MANIFEST_SK_PREFIX = "DOC#"
CHUNK_SK_PREFIX = "CHUNK#"
TERMS_SK_PREFIX = "TERMS#"
CHUNKS, TERMS = "chunkCount", "termCount"
ENTRIES_PER_POSTING = 2000  # about 30 KB of "position:tf:length " entries
TERMS_PER_ITEM = 4000  # at most 45 characters a line: under 200 KB


def _unescape(part: str) -> str:
    return part.replace("%23", "#").replace("%25", "%")


def knowledge_pk(assistant_id: str) -> str:
    return f"ASSISTANT#{schema.escape(assistant_id)}#KNOWLEDGE"


def document_pk(assistant_id: str, document_id: str) -> str:
    return f"{knowledge_pk(assistant_id)}#DOC#{schema.escape(document_id)}"


def term_pk(assistant_id: str, term: str) -> str:
    return f"{knowledge_pk(assistant_id)}#TERM#{term}"


def _key(pk: str, sk: str) -> Item:
    return serialize({schema.PARTITION_KEY: pk, schema.SORT_KEY: sk})


def stats_key(assistant_id: str) -> Item:
    return _key(knowledge_pk(assistant_id), STATS_SK)


def manifest_key(assistant_id: str, document_id: str) -> Item:
    return _key(knowledge_pk(assistant_id), f"{MANIFEST_SK_PREFIX}{schema.escape(document_id)}")


def chunk_key(assistant_id: str, document_id: str, position: int) -> Item:
    return _key(document_pk(assistant_id, document_id), f"{CHUNK_SK_PREFIX}{position:06d}")


def terms_key(assistant_id: str, document_id: str, part: int) -> Item:
    return _key(document_pk(assistant_id, document_id), f"{TERMS_SK_PREFIX}{part:04d}")


def posting_key(assistant_id: str, term: str, document_id: str, part: int) -> Item:
    return _key(term_pk(assistant_id, term), f"{schema.escape(document_id)}#{part:04d}")


@dataclass(frozen=True, slots=True)
class Manifest:
    """What one put of a document wrote, read back to remove exactly that (and to count it).

    `version` tells this put's manifest from a later one's, so a removal deletes only the manifest it read.
    """

    document_id: str
    chunks: int
    length: int
    term_items: int
    vector_index: str | None
    vectors: int
    version: str

    def item(self, assistant_id: str) -> Item:
        values: dict[str, Any] = {
            **manifest_key_values(assistant_id, self.document_id),
            "documentId": self.document_id,
            CHUNKS: self.chunks,
            TERMS: self.length,
            "termItems": self.term_items,
            "vectors": self.vectors,
            "version": self.version,
        }
        if self.vector_index is not None:
            values["vectorIndex"] = self.vector_index
        return serialize(values)

    @classmethod
    def from_item(cls, item: Item) -> Manifest:
        values = deserialize(item)
        return cls(
            document_id=str(values["documentId"]),
            chunks=int(values[CHUNKS]),
            length=int(values[TERMS]),
            term_items=int(values["termItems"]),
            vector_index=values.get("vectorIndex"),
            vectors=int(values["vectors"]),
            version=str(values["version"]),
        )


def manifest_key_values(assistant_id: str, document_id: str) -> dict[str, str]:
    return {
        schema.PARTITION_KEY: knowledge_pk(assistant_id),
        schema.SORT_KEY: f"{MANIFEST_SK_PREFIX}{schema.escape(document_id)}",
    }


@dataclass(frozen=True, slots=True)
class DocumentItems:
    """The items of one document's chunks, in the order they are written: terms, chunks, postings."""

    term_items: list[Item]
    chunk_items: list[Item]
    posting_items: list[Item]
    length: int


def _chunk_item(assistant_id: str, document_id: str, position: int, chunk: Chunk, length: int) -> Item:
    values = {
        schema.PARTITION_KEY: document_pk(assistant_id, document_id),
        schema.SORT_KEY: f"{CHUNK_SK_PREFIX}{position:06d}",
        "documentId": document_id,
        "index": chunk.index,
        "text": chunk.text,
        "filename": chunk.filename,
        "heading": chunk.heading,
        "length": length,
    }
    return serialize(values)


def document_items(assistant_id: str, document_id: str, chunks: Sequence[Chunk]) -> DocumentItems:
    """Every table item of a document's chunks: the same terms the other backends index (heading, then text)."""
    postings: dict[str, list[str]] = {}
    chunk_items: list[Item] = []
    total = 0
    for position, chunk in enumerate(chunks):
        terms = index_terms(f"{chunk.heading} {chunk.text}")
        total += len(terms)
        chunk_items.append(_chunk_item(assistant_id, document_id, position, chunk, len(terms)))
        for term, frequency in Counter(terms).items():
            postings.setdefault(term, []).append(f"{position}:{frequency}:{len(terms)}")
    posting_items: list[Item] = []
    lines: list[str] = []
    for term, entries in sorted(postings.items()):
        parts = range(0, len(entries), ENTRIES_PER_POSTING)
        lines.append(f"{term} {len(parts)}")
        for part, first in enumerate(parts):
            key = posting_key(assistant_id, term, document_id, part)
            posting_items.append({**key, "p": {"S": " ".join(entries[first : first + ENTRIES_PER_POSTING])}})
    term_items = [
        {**terms_key(assistant_id, document_id, n), "t": {"S": "\n".join(lines[first : first + TERMS_PER_ITEM])}}
        for n, first in enumerate(range(0, len(lines), TERMS_PER_ITEM))
    ]
    return DocumentItems(term_items, chunk_items, posting_items, total)


def posting_keys_of(assistant_id: str, document_id: str, terms_item: Item) -> list[Item]:
    """The keys of the posting items a terms item lists."""
    keys: list[Item] = []
    for line in str(terms_item["t"]["S"]).splitlines():
        term, parts = line.rsplit(" ", 1)
        keys.extend(posting_key(assistant_id, term, document_id, part) for part in range(int(parts)))
    return keys


@dataclass(frozen=True, slots=True)
class Posting:
    """One chunk that holds a term: where it is, how often the term occurs in it, and its length in terms."""

    document_id: str
    position: int
    frequency: int
    length: int


def postings_of(item: Item) -> list[Posting]:
    document_id = _unescape(str(item[schema.SORT_KEY]["S"]).rsplit("#", 1)[0])
    postings = []
    for entry in str(item["p"]["S"]).split():
        position, frequency, length = entry.split(":")
        postings.append(Posting(document_id, int(position), int(frequency), int(length)))
    return postings


def chunk_place(item: Item) -> tuple[str, int]:
    """A chunk item's (document id, position), as postings and vector keys name it."""
    return (str(item["documentId"]["S"]), int(str(item[schema.SORT_KEY]["S"]).removeprefix(CHUNK_SK_PREFIX)))


def chunk_hit(assistant_id: str, item: Item, score: float) -> ChunkHit:
    values = deserialize(item)
    return ChunkHit(
        assistant_id=assistant_id,
        document_id=str(values["documentId"]),
        index=int(values["index"]),
        text=str(values["text"]),
        filename=str(values["filename"]),
        heading=str(values["heading"]),
        score=score,
    )
