"""The knowledge base's ports on every backend: DocumentRepository (records, pages, claims, the sweep's list) and
KnowledgeIndex (replacing a document's entries, lexical and vector search confined to one assistant, counts)."""

from __future__ import annotations

import math

import pytest

from apis.shared.assistants import (
    Chunk,
    ChunkHit,
    Document,
    DocumentRepository,
    DocumentStatus,
    KnowledgeIndex,
    document_key,
)
from apis.shared.assistants.lexical import query_terms
from apis.shared.clock import new_id
from apis.shared.errors import ConflictError


def moment(second: int) -> str:
    """A fixed-width timestamp `second` seconds into a day: strings sort as times do."""
    return f"2026-03-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000000Z"


def make_document(
    assistant_id: str,
    *,
    created: int = 0,
    updated: int | None = None,
    status: DocumentStatus = DocumentStatus.UPLOADING,
    document_id: str | None = None,
) -> Document:
    document_id = document_id or new_id()
    return Document(
        document_id=document_id,
        assistant_id=assistant_id,
        owner_id="owner-1",
        filename=f"notes-{document_id[-6:]}.md",
        content_type="text/markdown",
        size_bytes=120,
        storage_key=document_key(assistant_id, document_id),
        status=status,
        created_at=moment(created),
        updated_at=moment(created if updated is None else updated),
    )


# ---- documents


async def test_a_document_reads_back_under_its_assistant_only_and_its_id_is_unique(
    document_repository: DocumentRepository,
) -> None:
    assistant, other = new_id(), new_id()
    document = await document_repository.create(make_document(assistant))

    assert await document_repository.get(assistant, document.document_id) == document
    assert await document_repository.get(other, document.document_id) is None
    assert await document_repository.get(assistant, new_id()) is None
    with pytest.raises(ConflictError):
        await document_repository.create(document)
    with pytest.raises(ConflictError):
        await document_repository.create(document.model_copy(update={"filename": "again.md"}))


async def test_documents_list_oldest_first_and_pages_meet_exactly(document_repository: DocumentRepository) -> None:
    assistant, other = new_id(), new_id()
    # Two pairs share a creation time: the document id orders each pair.
    created = [5, 1, 3, 3, 9, 7, 7]
    documents = [await document_repository.create(make_document(assistant, created=c)) for c in created]
    await document_repository.create(make_document(other, created=2))
    expected = [d.document_id for d in sorted(documents, key=lambda d: (d.created_at, d.document_id))]

    pages: list[list[str]] = []
    after = None
    while True:
        page = await document_repository.list_documents(assistant, after=after, limit=3)
        pages.append([d.document_id for d in page])
        if len(page) < 3:
            break
        after = (page[-1].created_at, page[-1].document_id)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [d for page in pages for d in page] == expected
    everything = await document_repository.list_documents(assistant, after=None, limit=100)
    assert everything == sorted(documents, key=lambda d: (d.created_at, d.document_id))
    last = everything[-1]
    assert await document_repository.list_documents(assistant, after=(last.created_at, last.document_id), limit=3) == []
    assert await document_repository.list_documents(new_id(), after=None, limit=3) == []
    assert await document_repository.count(assistant) == 7
    assert await document_repository.count(other) == 1
    assert await document_repository.count(new_id()) == 0


async def test_replace_if_wins_once_and_a_stale_updated_at_writes_nothing(
    document_repository: DocumentRepository,
) -> None:
    assistant = new_id()
    stored = await document_repository.create(make_document(assistant, created=10))
    claim = stored.model_copy(update={"status": DocumentStatus.CHUNKING, "attempts": 1, "updated_at": moment(20)})
    rival = stored.model_copy(update={"status": DocumentStatus.FAILED, "updated_at": moment(21)})

    won = await document_repository.replace_if(claim, expected_updated_at=stored.updated_at)
    lost = await document_repository.replace_if(rival, expected_updated_at=stored.updated_at)

    assert won == claim
    assert lost is None
    assert await document_repository.get(assistant, stored.document_id) == claim
    done = claim.model_copy(update={"status": DocumentStatus.COMPLETE, "chunk_count": 4, "updated_at": moment(30)})
    assert await document_repository.replace_if(done, expected_updated_at=claim.updated_at) == done
    assert await document_repository.get(assistant, stored.document_id) == done


async def test_replace_if_refuses_a_missing_record_and_another_assistants(
    document_repository: DocumentRepository,
) -> None:
    assistant = new_id()
    stored = await document_repository.create(make_document(assistant))
    missing = make_document(assistant)
    elsewhere = stored.model_copy(update={"assistant_id": new_id(), "status": DocumentStatus.FAILED})

    assert await document_repository.replace_if(missing, expected_updated_at=missing.updated_at) is None
    assert await document_repository.replace_if(elsewhere, expected_updated_at=stored.updated_at) is None
    assert await document_repository.get(assistant, stored.document_id) == stored
    assert await document_repository.get(missing.assistant_id, missing.document_id) is None


async def test_delete_removes_the_record_once_and_only_for_its_assistant(
    document_repository: DocumentRepository,
) -> None:
    assistant = new_id()
    kept = await document_repository.create(make_document(assistant, created=1))
    removed = await document_repository.create(make_document(assistant, created=2))

    assert await document_repository.delete(new_id(), removed.document_id) is False
    assert await document_repository.delete(assistant, removed.document_id) is True
    assert await document_repository.delete(assistant, removed.document_id) is False
    assert await document_repository.get(assistant, removed.document_id) is None
    assert await document_repository.list_documents(assistant, after=None, limit=10) == [kept]
    assert await document_repository.count(assistant) == 1


async def test_list_unfinished_is_least_recently_updated_first_without_final_ones(
    document_repository: DocumentRepository,
) -> None:
    first, second = new_id(), new_id()
    uploading = await document_repository.create(make_document(first, created=1, updated=40))
    chunking = await document_repository.create(
        make_document(second, created=2, updated=10, status=DocumentStatus.CHUNKING)
    )
    embedding = await document_repository.create(
        make_document(first, created=3, updated=20, status=DocumentStatus.EMBEDDING)
    )
    await document_repository.create(make_document(first, created=4, updated=5, status=DocumentStatus.COMPLETE))
    await document_repository.create(make_document(second, created=5, updated=6, status=DocumentStatus.FAILED))

    listed = await document_repository.list_unfinished(limit=10)
    limited = await document_repository.list_unfinished(limit=2)

    assert listed == [chunking, embedding, uploading]
    assert limited == [chunking, embedding]
    finished = chunking.model_copy(update={"status": DocumentStatus.COMPLETE, "updated_at": moment(50)})
    await document_repository.replace_if(finished, expected_updated_at=chunking.updated_at)
    restarted = embedding.model_copy(update={"status": DocumentStatus.CHUNKING, "updated_at": moment(60)})
    await document_repository.replace_if(restarted, expected_updated_at=embedding.updated_at)
    assert await document_repository.list_unfinished(limit=10) == [uploading, restarted]


# ---- the index: lexical search

HANDBOOK = [
    ("Deployment", "The platform team deploys containers to Kubernetes every Tuesday after review."),
    ("Invoices", "Suppliers' invoices are paid within thirty days of receipt by the finance office."),
    ("Cafeteria", "The cafeteria serves vegetarian lunches and fresh soup on weekdays."),
    ("Security", "Passwords must be rotated every ninety days; auditors check each account."),
    ("Expense policy", "Receipts for taxis and hotels go to your manager within a month."),
]


def chunks_of(document_id: str, passages: list[tuple[str, str]], filename: str = "handbook.md") -> list[Chunk]:
    return [
        Chunk(document_id=document_id, index=index, text=text, filename=filename, heading=heading)
        for index, (heading, text) in enumerate(passages)
    ]


async def search(index: KnowledgeIndex, assistant_id: str, question: str, limit: int = 5) -> list[ChunkHit]:
    return await index.search_lexical(assistant_id, query_terms(question), limit=limit)


def keys(hits: list[ChunkHit]) -> list[tuple[str, int]]:
    return [hit.key for hit in hits]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How do we deploy containers?", 0),
        ("When are invoices paid?", 1),
        ("Is there vegetarian soup for lunch?", 2),
        ("How often do I rotate my password?", 3),
        ("Which expenses can I claim?", 4),  # found by its heading alone
    ],
)
async def test_lexical_search_ranks_the_passage_that_answers_first(
    knowledge_index: KnowledgeIndex, question: str, expected: int
) -> None:
    assistant, document = new_id(), new_id()
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK), None)

    hits = await search(knowledge_index, assistant, question)

    assert hits, question
    assert hits[0].key == (document, expected)
    assert hits[0].score > 0
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    top = hits[0]
    heading, text = HANDBOOK[expected]
    assert (top.assistant_id, top.text, top.heading, top.filename) == (assistant, text, heading, "handbook.md")


async def test_lexical_search_matches_stems_and_answers_at_most_limit(knowledge_index: KnowledgeIndex) -> None:
    assistant, document = new_id(), new_id()
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK), None)

    assert keys(await search(knowledge_index, assistant, "deploying")) == [(document, 0)]
    assert keys(await search(knowledge_index, assistant, "deployed")) == [(document, 0)]
    assert len(await search(knowledge_index, assistant, "the team, invoices, soup and passwords", limit=2)) == 2
    assert await search(knowledge_index, assistant, "submarine") == []
    assert await knowledge_index.search_lexical(assistant, [], limit=5) == []


async def test_lexical_search_never_answers_another_assistants_chunks(knowledge_index: KnowledgeIndex) -> None:
    mine, theirs = new_id(), new_id()
    my_document, their_document = new_id(), new_id()
    await knowledge_index.put_document(mine, my_document, chunks_of(my_document, HANDBOOK), None)
    # Their passage matches the question far better than any of mine.
    better = [("Deploying containers", "Deploy containers: deploying containers, deployed containers, deploys.")]
    await knowledge_index.put_document(theirs, their_document, chunks_of(their_document, better), None)

    my_hits = await search(knowledge_index, mine, "deploy containers")
    their_hits = await search(knowledge_index, theirs, "invoices paid")

    assert keys(my_hits) == [(my_document, 0)]
    assert {hit.assistant_id for hit in my_hits} == {mine}
    assert their_hits == []
    assert await search(knowledge_index, new_id(), "deploy containers") == []


async def test_putting_a_document_again_replaces_its_entries(knowledge_index: KnowledgeIndex) -> None:
    assistant, document, other = new_id(), new_id(), new_id()
    await knowledge_index.put_document(assistant, other, chunks_of(other, [("Soup", "Tomato soup recipe.")]), None)
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK), None)
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK), None)

    assert await knowledge_index.count_entries(assistant, document) == len(HANDBOOK)
    assert keys(await search(knowledge_index, assistant, "invoices")) == [(document, 1)]

    shorter = [("Travel", "Trains are booked through the travel desk.")]
    await knowledge_index.put_document(assistant, document, chunks_of(document, shorter), None)

    assert await knowledge_index.count_entries(assistant, document) == 1
    assert await search(knowledge_index, assistant, "invoices") == []
    assert keys(await search(knowledge_index, assistant, "travel desk")) == [(document, 0)]
    assert keys(await search(knowledge_index, assistant, "soup")) == [(other, 0)]
    await knowledge_index.put_document(assistant, document, [], None)
    assert await knowledge_index.count_entries(assistant, document) == 0
    assert await knowledge_index.count_entries(assistant) == 1


async def test_deleting_a_document_removes_it_from_both_searches_and_the_counts(
    knowledge_index: KnowledgeIndex,
) -> None:
    assistant, removed, kept = new_id(), new_id(), new_id()
    await knowledge_index.put_document(assistant, removed, chunks_of(removed, HANDBOOK[:2]), [[1, 0, 0], [0, 1, 0]])
    await knowledge_index.put_document(assistant, kept, chunks_of(kept, HANDBOOK[2:3]), [[0, 0, 1]])

    await knowledge_index.delete_document(assistant, removed)
    await knowledge_index.delete_document(assistant, removed)  # nothing stored is not an error
    await knowledge_index.delete_document(new_id(), kept)  # another assistant's id removes nothing

    assert await search(knowledge_index, assistant, "deploy invoices") == []
    assert keys(await search(knowledge_index, assistant, "soup")) == [(kept, 0)]
    assert keys(await knowledge_index.search_vectors(assistant, [1, 0, 0], limit=5)) == [(kept, 0)]
    assert await knowledge_index.count_entries(assistant, removed) == 0
    assert await knowledge_index.count_entries(assistant, kept) == 2
    assert await knowledge_index.count_entries(assistant) == 2


async def test_deleting_an_assistant_removes_all_of_its_entries_and_no_others(
    knowledge_index: KnowledgeIndex,
) -> None:
    gone, stays = new_id(), new_id()
    for assistant in (gone, stays):
        for _ in range(2):
            document = new_id()
            await knowledge_index.put_document(
                assistant, document, chunks_of(document, HANDBOOK[:2]), [[1, 0, 0], [0, 1, 0]]
            )

    await knowledge_index.delete_assistant(gone)
    await knowledge_index.delete_assistant(new_id())

    assert await knowledge_index.count_entries(gone) == 0
    assert await search(knowledge_index, gone, "deploy invoices") == []
    assert await knowledge_index.search_vectors(gone, [1, 0, 0], limit=5) == []
    assert await knowledge_index.count_entries(stays) == 8
    assert len(await search(knowledge_index, stays, "deploy invoices")) == 4
    assert len(await knowledge_index.search_vectors(stays, [1, 0, 0], limit=5)) == 4


# ---- the index: vectors

AXES = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.dist(a, [0.0] * len(a)) / math.dist(b, [0.0] * len(b))


async def test_vector_search_answers_the_nearest_chunks_first_with_their_similarity(
    knowledge_index: KnowledgeIndex,
) -> None:
    assistant, document = new_id(), new_id()
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK[:3]), AXES)
    query = [0.9, 0.3, 0.1]

    hits = await knowledge_index.search_vectors(assistant, query, limit=5)
    top = await knowledge_index.search_vectors(assistant, query, limit=1)

    assert keys(hits) == [(document, 0), (document, 1), (document, 2)]
    assert [hit.score for hit in hits] == pytest.approx([cosine(query, axis) for axis in AXES], abs=1e-4)
    assert keys(top) == [(document, 0)]
    heading, text = HANDBOOK[0]
    assert (hits[0].assistant_id, hits[0].text, hits[0].heading) == (assistant, text, heading)


async def test_vector_search_never_answers_another_assistants_chunks(knowledge_index: KnowledgeIndex) -> None:
    mine, theirs = new_id(), new_id()
    my_document, their_document = new_id(), new_id()
    await knowledge_index.put_document(mine, my_document, chunks_of(my_document, HANDBOOK[:1]), [[0.0, 1.0, 0.0]])
    # Theirs is exactly the query; mine is far from it.
    await knowledge_index.put_document(
        theirs, their_document, chunks_of(their_document, HANDBOOK[:2]), [[1.0, 0.0, 0.0], [0.9, 0.1, 0.0]]
    )

    hits = await knowledge_index.search_vectors(mine, [1.0, 0.0, 0.0], limit=5)

    assert keys(hits) == [(my_document, 0)]
    assert await knowledge_index.search_vectors(new_id(), [1.0, 0.0, 0.0], limit=5) == []


async def test_two_vector_dimensions_coexist_and_an_unknown_one_finds_nothing(knowledge_index: KnowledgeIndex) -> None:
    assistant, small, large, plain = new_id(), new_id(), new_id(), new_id()
    await knowledge_index.put_document(assistant, small, chunks_of(small, HANDBOOK[:2]), AXES[:2])
    await knowledge_index.put_document(
        assistant, large, chunks_of(large, HANDBOOK[2:4]), [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]
    )
    await knowledge_index.put_document(assistant, plain, chunks_of(plain, HANDBOOK[4:]), None)

    assert keys(await knowledge_index.search_vectors(assistant, [1.0, 0.1, 0.0], limit=5)) == [(small, 0), (small, 1)]
    assert keys(await knowledge_index.search_vectors(assistant, [0.0, 0.0, 0.1, 1.0], limit=5)) == [
        (large, 0),
        (large, 1),
    ]
    assert await knowledge_index.search_vectors(assistant, [1.0, 0.0, 0.0, 0.0, 0.0], limit=5) == []
    assert keys(await search(knowledge_index, assistant, "taxis and hotels")) == [(plain, 0)]
    assert await knowledge_index.count_entries(assistant, small) == 4
    assert await knowledge_index.count_entries(assistant, large) == 4
    assert await knowledge_index.count_entries(assistant, plain) == 1
    assert await knowledge_index.count_entries(assistant) == 9


async def test_an_index_without_vectors_answers_vector_searches_with_nothing(knowledge_index: KnowledgeIndex) -> None:
    assistant, document = new_id(), new_id()
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK), None)

    assert await knowledge_index.search_vectors(assistant, [1.0, 0.0, 0.0], limit=5) == []
    assert await knowledge_index.count_entries(assistant) == len(HANDBOOK)
    assert await knowledge_index.count_entries(new_id()) == 0


async def test_putting_a_document_again_replaces_its_vectors_whatever_their_dimension(
    knowledge_index: KnowledgeIndex,
) -> None:
    assistant, document = new_id(), new_id()
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK[:3]), AXES)
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK[:3]), AXES)
    assert len(await knowledge_index.search_vectors(assistant, [1.0, 0.0, 0.0], limit=10)) == 3

    four = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK[:2]), four)

    assert await knowledge_index.search_vectors(assistant, [1.0, 0.0, 0.0], limit=10) == []
    assert keys(await knowledge_index.search_vectors(assistant, [0.0, 1.0, 0.0, 0.0], limit=1)) == [(document, 1)]
    assert await knowledge_index.count_entries(assistant, document) == 4

    await knowledge_index.put_document(assistant, document, chunks_of(document, HANDBOOK[:2]), None)

    assert await knowledge_index.search_vectors(assistant, [0.0, 1.0, 0.0, 0.0], limit=10) == []
    assert await knowledge_index.count_entries(assistant, document) == 2
