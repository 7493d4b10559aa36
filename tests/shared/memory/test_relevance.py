"""The lexical relevance of memories: 0..1, stems and stop words, rare words weigh more, and what duplicates are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apis.shared.clock import new_id, now_iso
from apis.shared.memory import MemoryKind, MemoryRecord, relevance


def fact(content: str) -> MemoryRecord:
    moment = now_iso()
    return MemoryRecord(
        record_id=new_id(), user_id="u", kind=MemoryKind.FACT, content=content, created_at=moment, updated_at=moment
    )


def scores(query: str, *contents: str) -> dict[str, float]:
    return {item.record.content: item.score for item in relevance.rank(query, [fact(text) for text in contents])}


def test_words_are_stemmed_lowercased_and_stop_words_dropped() -> None:
    assert relevance.terms("My team DEPLOYS on Fridays!") == {"team", "deploy", "friday"}
    assert relevance.query_terms("what is the") == frozenset()


def test_a_short_query_inside_a_record_and_a_short_record_inside_a_long_query_both_score_one() -> None:
    found = scores(
        "Could you help me plan the release? Remember my team deploys on Fridays and we need a checklist",
        "My team deploys on Fridays",
    )
    assert found == {"My team deploys on Fridays": 1.0}
    assert scores("deploying", "My team deploys on Fridays") == {"My team deploys on Fridays": 1.0}


def test_a_word_every_record_has_counts_for_less_than_a_rare_one() -> None:
    found = scores(
        "user likes Rust",
        "The user likes Rust",
        "The user likes tea",
        "The user likes cycling",
        "The user works in Boise",
    )

    assert found["The user likes Rust"] == 1.0
    # One word of three in common, but the one every record has: less than the unweighted third.
    assert found["The user works in Boise"] < 1 / 3
    assert found["The user works in Boise"] < found["The user likes tea"] < 1


def test_ties_list_the_newest_first_and_unrelated_records_are_left_out() -> None:
    older, newer, unrelated = fact("deploys on Fridays"), fact("deploys on Tuesdays"), fact("allergic to peanuts")

    ranked = relevance.rank("deploys", [older, newer, unrelated])

    assert [item.record for item in ranked] == [newer, older]


def test_min_score_filters() -> None:
    records = [fact("deploys on Fridays"), fact("deploys need long reviews by two other engineers")]

    assert len(relevance.rank("Friday deploys", records, min_score=0.99)) == 1


def test_duplicates_compare_without_case_spaces_or_end_punctuation() -> None:
    assert relevance.normalized("  My team  deploys on FRIDAYS. ") == relevance.normalized("my team deploys on fridays")
    assert relevance.normalized("Fridays") != relevance.normalized("Tuesdays")


@given(st.text(max_size=80), st.lists(st.text(min_size=1, max_size=80), max_size=6))
def test_every_score_is_between_zero_and_one(query: str, contents: list[str]) -> None:
    records = [fact(text) for text in contents if text.strip()]
    for item in relevance.rank(query, records):
        assert 0 < item.score <= 1
