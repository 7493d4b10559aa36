"""Annotated dependencies for the inference API's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apis.inference_api.ping import ActiveTurns
from apis.shared.dependencies import (
    AppSettings,
    CallerPermissions,
    CostsRepo,
    CurrentUser,
    EmbedderDep,
    ModelsRepo,
    RateLimiterDep,
    SessionsRepo,
    StorageDep,
)
from apis.shared.tools.turn_tools import TurnToolbox
from apis.shared.turns.quota_gate import QuotaGate


async def get_active_turns(request: Request) -> ActiveTurns:
    active: ActiveTurns = request.app.state.active_turns
    return active


ActiveTurnsDep = Annotated[ActiveTurns, Depends(get_active_turns)]


async def get_quota_gate(request: Request) -> QuotaGate:
    gate: QuotaGate = request.app.state.quota_gate
    return gate


QuotaGateDep = Annotated[QuotaGate, Depends(get_quota_gate)]


async def get_toolbox(request: Request) -> TurnToolbox:
    toolbox: TurnToolbox = request.app.state.toolbox
    return toolbox


ToolboxDep = Annotated[TurnToolbox, Depends(get_toolbox)]

__all__ = [
    "ActiveTurnsDep",
    "QuotaGateDep",
    "ToolboxDep",
    "AppSettings",
    "CallerPermissions",
    "CostsRepo",
    "CurrentUser",
    "ModelsRepo",
    "SessionsRepo",
    "EmbedderDep",
    "RateLimiterDep",
    "StorageDep",
]
