"""The Strands tools a turn gets for an MCP server: its live tools, or stand-ins while it cannot be reached.

Either way a failure is a tool result with status `error` that the model reads and the stream shows, never an
exception out of the turn. The text names the tool, not the server's address or the library's message: tool
results are stored and shown to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from strands.tools.mcp import MCPAgentTool
from strands.types.events import ToolResultEvent
from strands.types.exceptions import MCPClientInitializationError
from strands.types.tools import AgentTool, ToolGenerator, ToolResult, ToolSpec, ToolUse

EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


class ToolDescription(Protocol):
    """A tool as the catalogue last saw it on its server (discovery.DiscoveredTool, or the catalogue's record)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def input_schema(self) -> dict[str, Any]: ...


def unavailable_result(tool_use: ToolUse, tool_name: str) -> ToolResult:
    """What the model reads when the server cannot run the tool now."""
    text = f"The tool {tool_name} could not be run: its MCP server is not answering. Try again later."
    return {"toolUseId": tool_use["toolUseId"], "status": "error", "content": [{"text": text}]}


def failed_outside_the_tool(result: ToolResult) -> bool:
    """An error the client made (the connection failed, no answer in time), not one the tool reported.

    The tool's own errors come back with `isError` set; a call the caller cancelled is not the server's fault.
    """
    return result["status"] == "error" and "isError" not in result and not result.get("cancelled", False)


class PooledMcpTool(AgentTool):
    """A tool of a started client, shared by every turn; a call that fails outside the tool is reported."""

    def __init__(self, inner: MCPAgentTool, on_failure: Callable[[], None]) -> None:
        super().__init__()
        self._inner = inner
        self._on_failure = on_failure

    @property
    def tool_name(self) -> str:
        return self._inner.tool_name

    @property
    def tool_spec(self) -> ToolSpec:
        return self._inner.tool_spec

    @property
    def tool_type(self) -> str:
        return self._inner.tool_type

    async def stream(self, tool_use: ToolUse, invocation_state: dict[str, Any], **kwargs: Any) -> ToolGenerator:
        try:
            async for event in self._inner.stream(tool_use, invocation_state, **kwargs):
                if isinstance(event, ToolResultEvent) and failed_outside_the_tool(event.tool_result):
                    self._on_failure()
                    yield ToolResultEvent(unavailable_result(tool_use, self.tool_name))
                    return
                yield event
        except MCPClientInitializationError:
            # The client's session ended before this call (an earlier call found the server gone).
            self._on_failure()
            yield ToolResultEvent(unavailable_result(tool_use, self.tool_name))


class UnavailableMcpTool(AgentTool):
    """A stand-in, with the spec the catalogue last discovered, for a tool whose server cannot be reached."""

    def __init__(self, name: str, description: str, input_schema: dict[str, Any], on_call: Callable[[], None]) -> None:
        super().__init__()
        self._spec: ToolSpec = {
            "name": name,
            "description": description or f"The {name} tool of an MCP server",
            "inputSchema": {"json": input_schema or EMPTY_SCHEMA},
        }
        self._on_call = on_call

    @property
    def tool_name(self) -> str:
        return self._spec["name"]

    @property
    def tool_spec(self) -> ToolSpec:
        return self._spec

    @property
    def tool_type(self) -> str:
        return "python"

    async def stream(self, tool_use: ToolUse, invocation_state: dict[str, Any], **kwargs: Any) -> ToolGenerator:
        self._on_call()
        yield ToolResultEvent(unavailable_result(tool_use, self.tool_name))
