"""The events of a turn's model work: Strands' agent loop when the turn offers tools, one model call otherwise.

The agent loop exists to run tools and call the model again with their results. A turn without tools is one
model call, and the loop's machinery around it (hooks, middleware, tracing spans, typed events per chunk, two
copies of the history) cost about 1 ms of CPU a turn where the call itself costs 0.2 ms (bench/turns.py,
docs/decisions.md "The agent loop only for turns with tools"). Both paths stream through Strands' own
`stream_messages` (the agent loop calls it too), so the model sees the same request, the answer message is
assembled by the same code, and the runner receives the same two kinds of event either way:
`{"event": <model chunk>}` and `{"message": <assistant message with usage metadata>}`. A model that stops at
its output limit raises MaxTokensReachedException after its message, as the agent loop does.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

from apis.shared.turns import PreparedTurn

TurnEvent = dict[str, Any]


def turn_events(turn: PreparedTurn) -> AsyncGenerator[TurnEvent, None]:
    """The turn's events, by the cheapest path that can run it."""
    return _agent_events(turn) if turn.tools else _single_call_events(turn)


async def _agent_events(turn: PreparedTurn) -> AsyncGenerator[TurnEvent, None]:
    from strands import Agent  # loaded at the first turn, or earlier by the service's warm-up
    from strands.agent.conversation_manager import NullConversationManager

    agent = Agent(
        model=turn.chat_model,
        messages=cast("Any", turn.history),
        tools=turn.tools,
        system_prompt=turn.system_prompt,
        callback_handler=None,
        conversation_manager=NullConversationManager(),
        retry_strategy=None,
    )
    stream = cast("AsyncGenerator[TurnEvent, None]", agent.stream_async(cast("Any", turn.prompt)))
    try:
        async for event in stream:
            yield event
    finally:
        # Closed here, in the task that iterates it, whatever happens: the agent's spans end where they began.
        await stream.aclose()


async def _single_call_events(turn: PreparedTurn) -> AsyncGenerator[TurnEvent, None]:
    from strands.event_loop.streaming import stream_messages
    from strands.types._events import ModelStopReason, ModelStreamChunkEvent
    from strands.types.exceptions import MaxTokensReachedException

    messages = [*turn.history, {"role": "user", "content": turn.prompt}]
    system_content = [{"text": turn.system_prompt}] if turn.system_prompt else None
    events = cast(
        "AsyncGenerator[Any, None]",
        stream_messages(
            turn.chat_model,
            turn.system_prompt or None,
            cast("Any", messages),
            [],
            system_prompt_content=cast("Any", system_content),
        ),
    )
    stop_reason = "end_turn"
    try:
        async for event in cast("AsyncIterator[Any]", events):
            if isinstance(event, ModelStreamChunkEvent):
                yield {"event": event.chunk}
            elif isinstance(event, ModelStopReason):
                stop_reason, message, usage, metrics = event["stop"]
                # As the agent loop attaches it: the usage of providers that report it only here.
                message["metadata"] = {"usage": usage, "metrics": metrics}
                yield {"message": message}
    finally:
        await events.aclose()
    if stop_reason == "max_tokens":
        raise MaxTokensReachedException(message="the model stopped at its output token limit")
