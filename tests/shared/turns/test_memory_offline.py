"""The offline model as the memory model: statements become preferences and facts by rule, and its summary keeps a
long conversation's opening and its newest lines within a record's size."""

from __future__ import annotations

import json

import pytest

from apis.shared.memory.models import MAX_CONTENT_CHARS
from apis.shared.providers.local_memory import (
    EXTRACTION_TASK,
    SUMMARY_HEADER,
    SUMMARY_MAX_CHARS,
    SUMMARY_TASK,
    answer,
    fold_summary,
    statements,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My team deploys on Fridays.", [("fact", "team deploys", "The user's team deploys on Fridays.")]),
        ("my favourite colour is blue", [("fact", "favourite colour", "The user's favourite colour is blue.")]),
        ("By the way, I prefer answers in French!", [("preference", "answers", "The user prefers answers in French.")]),
        ("I don't like meetings.", [("preference", "meetings", "The user does not like meetings.")]),
        (
            "I work at Acme. I live in Lyon.",
            [("fact", "employer", "The user works at Acme."), ("fact", "home", "The user lives in Lyon.")],
        ),
        (
            "I'm a nurse and I like to swim before work",
            [
                ("fact", "is nurse", "The user is a nurse."),
                ("preference", "swim", "The user likes to swim before work."),
            ],
        ),
        ("Call me Ada.", [("fact", "name", "The user is called Ada.")]),
    ],
)
def test_statements_of_the_user_become_memories_with_a_subject(text: str, expected: list[tuple[str, ...]]) -> None:
    assert [(item["kind"], item["subject"], item["content"]) for item in statements(text)] == expected


@pytest.mark.parametrize("text", ["hi", "Can my team deploy on Fridays?", "What do I prefer?", "I am tired.", ""])
def test_questions_greetings_and_passing_states_are_not_memories(text: str) -> None:
    assert statements(text) == []


def test_an_update_on_one_subject_has_the_same_subject() -> None:
    [before] = statements("My team deploys on Fridays.")
    [after] = statements("Also, my team deploys on Tuesdays now.")
    [liked] = statements("I like meetings.")
    [disliked] = statements("I dislike meetings.")

    assert before["subject"] == after["subject"]
    assert liked["subject"] == disliked["subject"]


def test_the_summary_keeps_the_opening_and_the_newest_lines_within_its_size() -> None:
    summary = ""
    for index in range(300):
        summary = fold_summary(summary, [{"role": "user", "text": f"Turn {index}: about topic {index}."}])

    lines = summary.splitlines()
    assert len(summary) <= SUMMARY_MAX_CHARS <= MAX_CONTENT_CHARS
    assert lines[0] == SUMMARY_HEADER
    assert lines[1:6] == [f"- Turn {index}: about topic {index}." for index in range(4)] + ["- (...)"]
    assert lines[-1] == "- Turn 299: about topic 299."


def test_the_summary_leaves_out_what_the_user_did_not_say() -> None:
    messages = [
        {"role": "user", "text": "Plan the offsite."},
        {"role": "assistant", "text": "Sure."},
        {"role": "tool", "text": "[a tool's result]"},
    ]

    assert fold_summary("", messages) == f"{SUMMARY_HEADER}\n- Plan the offsite."


def test_the_offline_model_answers_each_task_with_json_and_nothing_else() -> None:
    payload = json.dumps({"previousSummary": "", "newMessages": [{"role": "user", "text": "My codename is Falcon."}]})

    extracted = json.loads(answer(EXTRACTION_TASK + "\n...", payload) or "")
    summarised = json.loads(answer(SUMMARY_TASK + "\n...", payload) or "")

    assert [item["kind"] for item in extracted] == ["fact", "summary"]
    assert [item["kind"] for item in summarised] == ["summary"], "a summary task extracts nothing"
    assert answer("You are a helpful assistant.", payload) is None
    assert answer(None, payload) is None
    assert json.loads(answer(SUMMARY_TASK, "not json") or "")[0]["kind"] == "summary"
