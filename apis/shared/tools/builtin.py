"""The built-in tools: what the catalogue lists (`BUILTIN_SPECS`) and how a turn builds each one.

Reading this module loads neither Strands nor the tools' code: the app API lists the built-ins without them
(its start stays light), and a turn that enables a tool builds it with `build(settings)`, which imports what the
tool needs then. `calculator` and `current_time` live here; the network tools and the chart each have a module
(url_content.py behind network_guard.py and http_fetch.py, web_search.py, visualization.py). Every tool answers
its own failures as a tool result the model reads (tool_results.py), never with an exception that ends the turn.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apis.shared.config import ToolsSettings

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_MAX_EXPONENT = 1000  # 9 ** 9 ** 9 would keep a worker busy for minutes
_MAX_LENGTH = 500


def evaluate(expression: str) -> float:
    """Arithmetic only (numbers, + - * / // % ** and parentheses), walked over the syntax tree: never `eval`."""
    if len(expression) > _MAX_LENGTH:
        raise ValueError(f"the expression is longer than {_MAX_LENGTH} characters")
    tree = ast.parse(expression.replace("^", "**"), mode="eval")
    return _value(tree.body)


def _value(node: ast.expr) -> float:
    match node:
        case ast.Constant(value=int() | float() as number) if not isinstance(number, bool):
            return number
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            return _UNARY[type(op)](_value(operand))
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            base, exponent = _value(left), _value(right)
            if isinstance(op, ast.Pow) and abs(exponent) > _MAX_EXPONENT:
                raise ValueError("the exponent is too large")
            return _BINARY[type(op)](base, exponent)
    raise ValueError("only numbers, + - * / // % ** and parentheses are allowed")


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as "(2 + 3) * 4 / 7" exactly as written.

    Args:
        expression: numbers with + - * / // % ** and parentheses.
    """
    try:
        result = evaluate(expression)
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError) as exc:
        return f"error: {exc}"
    return f"{result:g}" if isinstance(result, float) else str(result)


def current_time(timezone: str = "UTC") -> str:
    """The current date and time in a time zone.

    Args:
        timezone: an IANA time zone name such as "UTC" or "Europe/Paris".
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"error: unknown time zone {timezone!r}"
    return datetime.now(zone).isoformat(timespec="seconds")


def _always(settings: ToolsSettings) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    """A built-in tool as the catalogue shows it (the reference's id, name, category and icon) and its builder.

    `build` returns the Strands tool, bound to the settings' limits; it builds each tool once per settings and
    then hands out the same one, so that a turn pays nothing for it. `available` says whether this deployment
    can run it (web search needs a search service).
    """

    tool_id: str
    display_name: str
    description: str
    category: str  # a value of models.ToolCategory
    build: Callable[[ToolsSettings], Any]
    available: Callable[[ToolsSettings], bool] = _always
    icon: str | None = None


# Settings are frozen, so they key the cache; a process has one, tests a few.
_once_per_settings = functools.lru_cache(maxsize=16)


def _strands_tool(function: Callable[..., Any]) -> Callable[[ToolsSettings], Any]:
    @_once_per_settings
    def build(settings: ToolsSettings) -> Any:
        from strands import tool

        return tool(function)

    return build


@_once_per_settings
def _fetch_url_content(settings: ToolsSettings) -> Any:
    from apis.shared.tools.url_content import build_fetch_url_content

    return build_fetch_url_content(settings)


@_once_per_settings
def _web_search(settings: ToolsSettings) -> Any:
    from apis.shared.tools.web_search import build_web_search

    return build_web_search(settings)


def _web_search_configured(settings: ToolsSettings) -> bool:
    return bool(settings.web_search_url)


@_once_per_settings
def _create_visualization(settings: ToolsSettings) -> Any:
    from apis.shared.tools.visualization import build_create_visualization

    return build_create_visualization()


BUILTIN_SPECS: tuple[BuiltinTool, ...] = (
    BuiltinTool(
        tool_id="calculator",
        display_name="Calculator",
        description="Evaluate arithmetic expressions exactly.",
        category="utility",
        build=_strands_tool(calculator),
        icon="calculator",
    ),
    BuiltinTool(
        tool_id="current_time",
        display_name="Current Time",
        description="The current date and time in any time zone.",
        category="utility",
        build=_strands_tool(current_time),
        icon="clock",
    ),
    BuiltinTool(
        tool_id="fetch_url_content",
        display_name="URL Fetcher",
        description="Fetch a public web page and read its text: articles, documentation, job descriptions.",
        category="search",
        build=_fetch_url_content,
        icon="link",
    ),
    BuiltinTool(
        tool_id="ddg_web_search",
        display_name="Web Search",
        description="Search the web for current information, news and research.",
        category="search",
        build=_web_search,
        available=_web_search_configured,
        icon="magnifying-glass",
    ),
    BuiltinTool(
        tool_id="create_visualization",
        display_name="Charts & Graphs",
        description="Create bar, line and pie charts from data.",
        category="data",
        build=_create_visualization,
        icon="chart-bar",
    ),
)
