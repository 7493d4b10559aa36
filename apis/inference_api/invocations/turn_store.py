"""Everything a turn writes: each answer and tool result as it completes, then the session and cost totals.

Costs are computed here, per model call: tokens / 1e6 x price per million, for input, output, cache-read and
cache-write tokens, with the model's prices captured in the message as its `pricingSnapshot`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apis.inference_api.invocations.preparation import PreparedTurn
from apis.shared.clock import now_iso
from apis.shared.costs import CostEntry, CostRepository, cost_of_usage, period_of
from apis.shared.costs import summaries as cost_summaries
from apis.shared.observability import TOKENS
from apis.shared.sessions import (
    Latency,
    Message,
    MessageMetadata,
    MessageRole,
    MessageStatus,
    ModelInfo,
    SessionChanges,
    SessionPreferences,
    SessionRepository,
    TokenUsage,
)
from apis.shared.sessions import messages as messages_service

_USAGE_FIELDS = tuple(TokenUsage.model_fields)


def add_usage(first: TokenUsage, second: TokenUsage) -> TokenUsage:
    return TokenUsage(**{name: getattr(first, name) + getattr(second, name) for name in _USAGE_FIELDS})


@dataclass
class TurnStore:
    """The writes of one turn, and the running totals its final `metadata` frame reports."""

    turn: PreparedTurn
    sessions: SessionRepository
    costs: CostRepository
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost: float = 0.0

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

    async def _append(self, message: Message) -> None:
        await messages_service.append(
            sessions=self.sessions, user_id=self.turn.user_id, session_id=self.turn.session.session_id, message=message
        )

    async def save_answer(
        self,
        *,
        message_id: str,
        content: list[dict[str, Any]],
        usage: TokenUsage | None,
        latency: Latency,
        status: MessageStatus = MessageStatus.COMPLETE,
    ) -> Message:
        """Store one model call's message with its usage, latency, model, price snapshot and cost."""
        usage = usage or TokenUsage()
        cost = cost_of_usage(usage, self.turn.model.pricing())
        answer = messages_service.new_message(
            MessageRole.ASSISTANT,
            content,
            status=status,
            metadata=MessageMetadata(token_usage=usage, latency=latency, model_info=self.model_info, cost=cost),
            message_id=message_id,
        )
        await self._append(answer)
        self.usage = add_usage(self.usage, usage)
        self.cost += cost
        provider = self.turn.model.provider
        TOKENS.labels(provider, "input").inc(usage.input_tokens)
        TOKENS.labels(provider, "output").inc(usage.output_tokens)
        return answer

    async def save_tool_results(self, content: list[dict[str, Any]]) -> None:
        """The results of the model's tool calls, as the user-side message the provider expects next."""
        metadata = MessageMetadata(model_info=self.model_info)
        await self._append(messages_service.new_message(MessageRole.USER, content, metadata=metadata))

    async def record_costs(self) -> None:
        """Add the turn to its user's monthly summary, atomically: concurrent turns all count."""
        model = self.turn.model
        saved_per_token = max(
            0.0, model.input_price_per_million_tokens - (model.cache_read_price_per_million_tokens or 0.0)
        )
        entry = CostEntry(
            user_id=self.turn.user_id,
            period=period_of(now_iso()),
            model_id=model.model_id,
            provider=model.provider,
            usage=self.usage,
            cost=self.cost,
            cache_savings=self.usage.cache_read_input_tokens * saved_per_token / 1_000_000,
        )
        await cost_summaries.record(costs=self.costs, entry=entry)

    async def finish_turn(self) -> None:
        """What a complete turn leaves beyond its messages: its cost in the month, and the session's preferences."""
        await self.record_costs()
        request = self.turn.request
        sent: dict[str, Any] = {"last_model": self.turn.model.model_id, "enabled_tools": request.enabled_tools or []}
        if request.temperature is not None:
            sent["last_temperature"] = request.temperature
        preferences = SessionPreferences(**sent)
        await self.sessions.update_session(
            self.turn.user_id, self.turn.session.session_id, SessionChanges(preferences=preferences)
        )

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
