"""Titles: cleaned model output, at most 50 characters, and the offline model's opening words."""

from __future__ import annotations

import pytest

from apis.shared.turns.titles import MAX_TITLE_LENGTH, clean_title, opening_words


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ('"Trip to Lisbon"', "Trip to Lisbon"),
        ("Title: Budget planning.\nExtra line", "Budget planning"),
        ("  **Rust lifetimes**  ", "Rust lifetimes"),
        ("", ""),
    ],
)
def test_model_output_is_cleaned(raw: str, title: str) -> None:
    assert clean_title(raw) == title


def test_long_titles_are_cut_at_a_word() -> None:
    title = clean_title("A remarkably long title about the history of distributed consensus algorithms in practice")

    assert len(title) <= MAX_TITLE_LENGTH
    assert title == "A remarkably long title about the history of"


def test_an_unbroken_long_word_is_cut_hard() -> None:
    assert len(clean_title("x" * 80)) == MAX_TITLE_LENGTH


def test_the_offline_model_names_a_conversation_by_its_opening_words() -> None:
    assert opening_words("How do I set up WAL mode in SQLite for two processes at once?") == (
        "How do I set up WAL mode in"
    )
    assert opening_words("   ") == "New conversation"
