"""Everything a turn writes: each answer (its checkpoints while it streams, then its final version) and tool
result, each in one atomic write with the session's counters and, for an answer, its cost in the month.

Costs are computed here, per model call: tokens / 1e6 x price per million, for input, output, cache-read and
cache-write tokens, with the model's prices captured in the message as its `pricingSnapshot`. Each call's
cost is counted into its user's monthly summary in the same write as the message that records it, so the
summary and the stored messages cannot drift apart: either both moved or neither did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apis.shared.clock import now_iso
from apis.shared.costs import CostEntry
from apis.shared.observability import TOKENS
from apis.shared.sessions import (
    Latency,
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionMetadata,
    SessionRepository,
    TokenUsage,
)
from apis.shared.sessions import messages as messages_service
from apis.shared.turns import PreparedTurn
from apis.shared.turns.metering import cost_entry

_USAGE_FIELDS = tuple(TokenUsage.model_fields)


def add_usage(first: TokenUsage, second: TokenUsage) -> TokenUsage:
    return TokenUsage(**{name: getattr(first, name) + getattr(second, name) for name in _USAGE_FIELDS})


@dataclass
class TurnStore:
    """The writes of one turn, and the running totals its final `metadata` frame reports."""

    turn: PreparedTurn
    sessions: SessionRepository
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost: float = 0.0
    # The turn's citations go on its first answer (the one the client attaches them to), once.
    citations_stored: bool = False
    first_answer_id: str | None = None

    @property
    def model_info(self) -> ModelInfo:
        model = self.turn.model
        return ModelInfo(
            model_id=model.model_id,
            model_name=model.model_name,
            provider=model.provider,
            pricing_snapshot=model.pricing(),
        )

    @staticmethod
    def usage_of(message: dict[str, Any]) -> TokenUsage:
        """The usage Strands attached to a message, for providers whose stream did not report it."""
        return TokenUsage.model_validate(message.get("metadata", {}).get("usage", {}))

    async def append(
        self, message: Message, *, cost: CostEntry | None = None, replaces: Message | None = None
    ) -> SessionMetadata:
        return await messages_service.append(
            sessions=self.sessions,
            user_id=self.turn.user_id,
            session_id=self.turn.session.session_id,
            message=message,
            cost=cost,
            replaces=replaces,
        )

    def checkpoint(self, *, message_id: str, created_at: str, content: list[dict[str, Any]]) -> Message:
        """The version of a growing answer that a checkpoint stores: its text so far, no usage or cost yet."""
        return Message(
            message_id=message_id,
            role=MessageRole.ASSISTANT,
            content=content,
            status=MessageStatus.STREAMING,
            created_at=created_at,
            updated_at=now_iso(),
            metadata=MessageMetadata(model_info=self.model_info),
        )

    def answer(
        self,
        *,
        message_id: str,
        created_at: str,
        content: list[dict[str, Any]],
        usage: TokenUsage | None,
        latency: Latency,
        status: MessageStatus,
    ) -> tuple[Message, CostEntry]:
        """One model call's final message, with its usage, latency, model, price snapshot and cost, and what
        the call adds to its user's month."""
        usage = usage or TokenUsage()
        entry = cost_entry(user_id=self.turn.user_id, model=self.turn.model, usage=usage, at=created_at)
        message = Message(
            message_id=message_id,
            role=MessageRole.ASSISTANT,
            content=content,
            status=status,
            created_at=created_at,
            updated_at=now_iso(),
            metadata=MessageMetadata(
                token_usage=usage,
                latency=latency,
                model_info=self.model_info,
                cost=entry.cost,
                citations=self._citations_for(message_id),
            ),
        )
        return message, entry

    def _citations_for(self, message_id: str) -> list[dict[str, Any]] | None:
        """The turn's citations for its first answer (each of whose versions carries them), None for the others."""
        if not self.turn.citations:
            return None
        if self.citations_stored and self.first_answer_id != message_id:
            return None
        self.citations_stored, self.first_answer_id = True, message_id
        return [citation.model_dump(by_alias=True) for citation in self.turn.citations]

    def count(self, answer: Message) -> None:
        """Add a stored answer to the turn's totals and the token metrics."""
        usage = answer.metadata.token_usage or TokenUsage()
        self.usage = add_usage(self.usage, usage)
        self.cost += answer.cost
        provider = self.turn.model.provider
        TOKENS.labels(provider, "input").inc(usage.input_tokens)
        TOKENS.labels(provider, "output").inc(usage.output_tokens)

    async def save_tool_results(self, content: list[dict[str, Any]]) -> None:
        """The results of the model's tool calls, as the user-side message the provider expects next."""
        metadata = MessageMetadata(model_info=self.model_info)
        await self.append(messages_service.new_message(MessageRole.USER, content, metadata=metadata))

    @staticmethod
    def metadata_frame(message: Message) -> dict[str, Any]:
        """The `metadata` frame of one model call."""
        metadata = message.metadata
        latency = metadata.latency or Latency()
        return {
            "usage": (metadata.token_usage or TokenUsage()).model_dump(by_alias=True),
            "metrics": {"latencyMs": latency.latency_ms, "timeToFirstByteMs": latency.time_to_first_byte_ms},
            "cost": metadata.cost,
        }

    def turn_metadata_frame(self, *, latency_ms: float, first_byte_ms: float | None) -> dict[str, Any]:
        """The final `metadata` frame: usage and cost summed over every model call of the turn."""
        return {
            "usage": self.usage.model_dump(by_alias=True),
            "metrics": {"latencyMs": latency_ms, "timeToFirstByteMs": first_byte_ms},
            "cost": round(self.cost, 10),
        }
