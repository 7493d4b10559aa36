"""Chunking: by headings and paragraphs first, by size after, with overlap inside a section only."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from apis.shared.knowledge.chunking import chunk_text


def chunks_of(text: str, *, max_chars: int = 300, overlap: int = 60) -> list[tuple[str, str]]:
    return [
        (chunk.heading, chunk.text)
        for chunk in chunk_text(text, document_id="d", filename="f.md", max_chars=max_chars, overlap_chars=overlap)
    ]


def test_headings_name_their_sections_with_the_path_of_parent_headings() -> None:
    text = "Preface.\n\n# Guide\nIntro.\n\n## Setup\nInstall it.\n\n## Use\nRun it.\n\n# Appendix\nMore."
    assert chunks_of(text) == [
        ("", "Preface."),
        ("Guide", "Intro."),
        ("Guide › Setup", "Install it."),
        ("Guide › Use", "Run it."),
        ("Appendix", "More."),
    ]


def test_small_paragraphs_of_a_section_share_a_chunk() -> None:
    assert chunks_of("# A\nOne.\n\nTwo.\n\nThree.") == [("A", "One.\n\nTwo.\n\nThree.")]


def test_a_long_paragraph_is_cut_at_sentence_ends_and_each_chunk_repeats_the_end_of_the_last() -> None:
    sentences = [f"Sentence {i} talks about topic {i}." for i in range(60)]
    chunks = chunks_of(" ".join(sentences), max_chars=300, overlap=60)
    assert len(chunks) > 3
    for (_, previous), (_, current) in zip(chunks, chunks[1:], strict=False):
        assert len(current) <= 300
        overlap_words = previous.split()[-3:]
        assert " ".join(overlap_words) in current  # the end of the previous chunk opens this one
    for sentence in sentences:
        assert any(sentence in text for _, text in chunks), sentence


def test_numbering_counts_from_zero_in_reading_order() -> None:
    chunks = chunk_text("# A\n" + "word " * 500, document_id="doc", filename="a.md", max_chars=200, overlap_chars=20)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert {chunk.document_id for chunk in chunks} == {"doc"}
    assert {chunk.filename for chunk in chunks} == {"a.md"}


def test_text_without_words_makes_no_chunks() -> None:
    assert chunks_of("") == []
    assert chunks_of("\n\n   \n# \n") == [("", "#")]  # a lone `#` is no heading: it is text


def test_a_word_longer_than_a_chunk_is_cut_anyway() -> None:
    chunks = chunks_of("x" * 1000, max_chars=300, overlap=0)
    assert [len(text) for _, text in chunks] == [300, 300, 300, 100]


words = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
paragraphs = st.lists(words, min_size=1, max_size=80).map(" ".join)
documents = st.lists(st.one_of(paragraphs, words.map(lambda title: f"## {title}")), min_size=1, max_size=12).map(
    "\n\n".join
)


@settings(max_examples=150, deadline=None)
@given(text=documents, max_chars=st.integers(min_value=200, max_value=800), overlap=st.integers(0, 100))
def test_every_chunk_fits_and_every_word_is_kept(text: str, max_chars: int, overlap: int) -> None:
    chunks = chunk_text(text, document_id="d", filename="f", max_chars=max_chars, overlap_chars=overlap)
    assert all(0 < len(chunk.text) <= max_chars for chunk in chunks)
    indexed = " ".join(f"{chunk.heading} {chunk.text}" for chunk in chunks).split()
    for word in text.replace("#", " ").split():
        assert word in indexed
