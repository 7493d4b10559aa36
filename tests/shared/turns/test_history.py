"""The history a provider is sent: alternating roles, no empty blocks, tool uses paired with their results."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from apis.shared.sessions import Message, MessageRole, MessageStatus
from apis.shared.sessions.messages import new_message
from apis.shared.turns.history import provider_history

USER, ASSISTANT = MessageRole.USER, MessageRole.ASSISTANT


def say(role: MessageRole, *blocks: dict[str, Any], status: MessageStatus = MessageStatus.COMPLETE) -> Message:
    return new_message(role, list(blocks), status=status)


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def use(tool_id: str) -> dict[str, Any]:
    return {"toolUse": {"toolUseId": tool_id, "name": "calculator", "input": {"expression": "1+1"}}}


def result(tool_id: str) -> dict[str, Any]:
    return {"toolResult": {"toolUseId": tool_id, "status": "success", "content": [{"text": "2"}]}}


def test_a_clean_conversation_is_sent_as_it_is() -> None:
    history = [say(USER, text("hi")), say(ASSISTANT, text("hello")), say(USER, text("calc")), say(ASSISTANT, use("t1"))]
    history += [say(USER, result("t1")), say(ASSISTANT, text("it is 2"))]

    sent = provider_history(history)

    assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert sent[3]["content"] == [use("t1")]


def test_an_unanswered_question_is_replaced_by_the_new_one() -> None:
    history = [say(USER, text("first")), say(ASSISTANT, text("answer")), say(USER, text("failed turn"))]

    assert [m["content"] for m in provider_history(history)] == [[text("first")], [text("answer")]]


def test_an_interrupted_answer_keeps_its_text_but_not_its_tool_call() -> None:
    history = [say(USER, text("go")), say(ASSISTANT, text("Let me"), use("t9"), status=MessageStatus.INTERRUPTED)]

    assert provider_history(history) == [
        {"role": "user", "content": [text("go")]},
        {"role": "assistant", "content": [text("Let me")]},
    ]


def test_a_window_starting_inside_a_tool_exchange_is_repaired() -> None:
    history = [
        say(USER, result("t0")),
        say(ASSISTANT, text("so, 2")),
        say(USER, text("thanks")),
        say(ASSISTANT, text("welcome")),
    ]

    sent = provider_history(history)

    assert sent == [{"role": "user", "content": [text("thanks")]}, {"role": "assistant", "content": [text("welcome")]}]


def test_empty_text_and_foreign_reasoning_are_not_sent() -> None:
    reasoning = {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}}
    history = [say(USER, text("q"), text("  ")), say(ASSISTANT, reasoning, text(""), text("a"))]

    assert provider_history(history) == [
        {"role": "user", "content": [text("q")]},
        {"role": "assistant", "content": [text("a")]},
    ]


blocks = st.one_of(
    st.builds(text, st.sampled_from(["", " ", "a", "b c"])),
    st.builds(use, st.sampled_from(["t1", "t2"])),
    st.builds(result, st.sampled_from(["t1", "t2"])),
)
messages = st.builds(
    lambda role, content, status: say(role, *content, status=status),
    st.sampled_from([USER, ASSISTANT]),
    st.lists(blocks, max_size=3),
    st.sampled_from(list(MessageStatus)),
)


@given(st.lists(messages, max_size=12))
def test_any_stored_history_becomes_a_valid_conversation(history: list[Message]) -> None:
    sent = provider_history(history)

    roles = [message["role"] for message in sent]
    assert all(first != second for first, second in zip(roles, roles[1:], strict=False))
    assert not sent or (roles[0] == "user" and roles[-1] == "assistant")
    for position, message in enumerate(sent):
        assert message["content"]
        assert all(str(block["text"]).strip() for block in message["content"] if "text" in block)
        for block in message["content"]:
            if "toolUse" in block:
                answers = sent[position + 1]["content"]
                assert any(b.get("toolResult", {}).get("toolUseId") == block["toolUse"]["toolUseId"] for b in answers)
            if "toolResult" in block:
                asks = sent[position - 1]["content"]
                assert any(b.get("toolUse", {}).get("toolUseId") == block["toolResult"]["toolUseId"] for b in asks)
