"""A real MCP server on loopback for each test, and settings that give up quickly on one that is gone."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from apis.shared.config import ToolsSettings
from apis.shared.tools.mcp.pool import STRANDS_STOP_WARNING
from tests.fakes.mcp_server import RunningMcpServer, running_mcp_server


@pytest.fixture(autouse=True)
def _strands_stop_warning_hidden() -> None:
    """pytest resets the warning filters around each test: the pool's (apis/shared/tools/mcp/pool.py) is set again."""
    warnings.filterwarnings("ignore", message=STRANDS_STOP_WARNING, category=RuntimeWarning)


@pytest.fixture
def mcp_server() -> Iterator[RunningMcpServer]:
    with running_mcp_server() as server:
        yield server


@pytest.fixture
def tools_settings() -> ToolsSettings:
    return ToolsSettings(mcp_secrets_key=None, mcp_connect_timeout_seconds=5, mcp_call_timeout_seconds=20)
