"""Real spend for the cost routes' tests: turns through the inference API on a priced offline model, and what the
stored answers say they cost, read back through the app API."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tests.fixtures.services import Services
from tests.helpers import parse_sse, random_session_id
from tests.turn_accounting import PRICED_MODEL

PRICED = str(PRICED_MODEL["modelId"])


@dataclass
class Spent:
    """What a user's stored answers on the priced model add up to (money exactly, as Decimals)."""

    cost: Decimal = Decimal(0)
    answers: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    sessions: list[str] = field(default_factory=list)

    @property
    def usd(self) -> float:
        return float(self.cost)


async def spend(services: Services, user_id: str, *, turns: int, sessions: int = 2) -> Spent:
    """Run `turns` turns of `user_id` on the priced model over `sessions` conversations; what their answers cost."""
    spent = Spent(sessions=[random_session_id() for _ in range(sessions)])
    headers = services.auth(user_id)
    for index in range(turns):
        body = {"session_id": spent.sessions[index % sessions], "message": f"question {index} " * (index + 1)}
        response = await services.inference.post("/invocations", json={**body, "model_id": PRICED}, headers=headers)
        assert response.status_code == 200, response.text
        assert not any(name == "stream_error" for name, _ in parse_sse(response.text)), response.text
    for session_id in spent.sessions:
        page = await services.app.get(f"/sessions/{session_id}/messages", params={"limit": 500}, headers=headers)
        assert page.status_code == 200, page.text
        for message in page.json()["messages"]:
            metadata = message.get("metadata") or {}
            if message["role"] != "assistant" or (metadata.get("modelInfo") or {}).get("modelId") != PRICED:
                continue
            usage = metadata["tokenUsage"]
            spent.cost += Decimal(repr(metadata["cost"]))
            spent.answers += 1
            spent.input_tokens += usage["inputTokens"]
            spent.output_tokens += usage["outputTokens"]
    assert spent.answers == turns
    assert spent.cost > 0
    return spent


def cents(amount: float | Decimal) -> Decimal:
    """`amount` rounded to the cent, for "agrees to the cent"."""
    return Decimal(repr(amount) if isinstance(amount, float) else amount).quantize(Decimal("0.01"))
