"""GET /ping, the AgentCore health contract: `HealthyBusy` while a turn streams. It never touches storage."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from apis.shared.observability import STREAMS_ACTIVE

router = APIRouter(tags=["runtime"])


class ActiveTurns:
    """Counts streaming turns and remembers when the busy state last changed (all on the event loop)."""

    def __init__(self) -> None:
        self.count = 0
        self.changed_at = int(time.time())

    def enter(self) -> None:
        self.count += 1
        STREAMS_ACTIVE.inc()
        if self.count == 1:
            self.changed_at = int(time.time())

    def leave(self) -> None:
        self.count -= 1
        STREAMS_ACTIVE.dec()
        if self.count == 0:
            self.changed_at = int(time.time())


class PingStatus(BaseModel):
    status: Literal["Healthy", "HealthyBusy"]
    time_of_last_update: int


@router.get("/ping", response_model=PingStatus)
async def ping(request: Request) -> PingStatus:
    active: ActiveTurns = request.app.state.active_turns
    return PingStatus(status="HealthyBusy" if active.count > 0 else "Healthy", time_of_last_update=active.changed_at)
