"""The tools every deployment has: safe ones, with no access to the network, files or other users' data."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strands import tool

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


@tool
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


@tool
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


BUILTIN_TOOLS = {"calculator": calculator, "current_time": current_time}
