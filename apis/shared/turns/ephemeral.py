"""A turn that is streamed and not stored: an assistant's test chat, as the reference runs it in the app API.

The same agent and the same SSE vocabulary as a stored turn (translator.py), with none of its persistence: the
owner tries the assistant's instructions and knowledge base before using it, and nothing of it is kept. A
failure after streaming began ends the stream with an `error` event, which the reference's test chat shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, cast

from apis.shared.clock import new_id
from apis.shared.errors import StorageError
from apis.shared.providers.failures import provider_failure
from apis.shared.sessions import TokenUsage
from apis.shared.turns.sse import KEEP_ALIVE, frame
from apis.shared.turns.translator import CallTranslator

if TYPE_CHECKING:
    from strands.models import Model

logger = logging.getLogger(__name__)


async def stream_ephemeral(
    *,
    chat_model: Model,
    provider: str,
    system_prompt: str,
    prompt: list[dict[str, Any]],
    leading_frames: list[str],
    keepalive_seconds: float,
    meter: Callable[[TokenUsage | None], Awaitable[None]],
) -> AsyncIterator[str]:
    """`leading_frames`, then the model's answer as SSE frames, `done` last; keep-alives while it is quiet.

    `meter` records the call's usage once the model has answered (a test chat costs what a turn costs).
    """
    for leading in leading_frames:
        yield leading
    frames: asyncio.Queue[str | None] = asyncio.Queue()
    task = asyncio.create_task(_run(chat_model, provider, system_prompt, prompt, frames, meter), name="test-chat")
    try:
        while True:
            try:
                item = await asyncio.wait_for(frames.get(), keepalive_seconds)
            except TimeoutError:
                yield KEEP_ALIVE
                continue
            if item is None:
                break
            yield item
        await task  # re-raises a bug, after the client was told
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait([task])


async def _run(
    chat_model: Model,
    provider: str,
    system_prompt: str,
    prompt: list[dict[str, Any]],
    frames: asyncio.Queue[str | None],
    meter: Callable[[TokenUsage | None], Awaitable[None]],
) -> None:
    from strands import Agent
    from strands.agent.conversation_manager import NullConversationManager

    agent = Agent(
        model=chat_model,
        system_prompt=system_prompt,
        callback_handler=None,
        conversation_manager=NullConversationManager(),
        retry_strategy=None,
    )
    call: CallTranslator | None = None
    try:
        stream = cast("AsyncGenerator[dict[str, Any], None]", agent.stream_async(cast("Any", prompt)))
        async with aclosing(stream) as events:
            async for event in events:
                model_event = event.get("event")
                if model_event is None:
                    continue
                if "messageStart" in model_event:
                    call = CallTranslator(message_id=new_id())
                if call is not None:
                    for name, data in call.translate(model_event):
                        frames.put_nowait(frame(name, data))
        await meter(call.usage if call is not None else None)
    except StorageError as exc:
        frames.put_nowait(frame("error", {"code": exc.code, "message": exc.detail}))
    except Exception as exc:
        failure = provider_failure(exc, provider)
        if failure is None:
            frames.put_nowait(frame("error", {"code": "internal_error", "message": "the test chat failed"}))
            raise
        frames.put_nowait(frame("error", {"code": failure.code, "message": failure.detail}))
    finally:
        frames.put_nowait(frame("done", {}))
        frames.put_nowait(None)
