"""`create_visualization`: a chart specification in the reference's format, for the client to show.

The reference's client shows a tool's result as it comes (a text block as text, a `json` block pretty-printed);
its tool returns the specification as JSON text, and so does this one, with the same fields:
`{"success": true, "chart_data": {"chartType", "config": {"title", "description", "xAxisKey"}, "data",
"chartConfig"}, "message"}`, where `data` holds the points (`x`/`y` for bar and line charts, `segment`/`value`
for pie charts, an optional `color` each) and `chartConfig` the series' labels and colours as recharts reads
them. Pie points may name their fields as the reference accepts (`name`, `label`, `category`, `key`; `count`,
`amount`, `total`, `size`), and come out with `segment` and `value`. The axis labels, which the reference takes
and drops, are kept as `config.xAxisLabel` and `config.yAxisLabel` and label the `y` series.

Unlike the reference, bad input is a tool error (status `error`) saying what to fix, not a success whose JSON
says `"success": false`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from apis.shared.tools.tool_results import ToolFailure, error_result, json_text_result

ChartType = Literal["bar", "line", "pie"]
CHART_TYPES: tuple[str, ...] = ("bar", "line", "pie")
MAX_POINTS = 500
_MAX_LABEL = 200
# shadcn/ui's chart colours (CSS variables of the client's theme), as the reference uses them.
_PALETTE = tuple(f"hsl(var(--chart-{index}))" for index in range(1, 6))
_SEGMENT_FIELDS = ("segment", "name", "label", "category", "key")
_VALUE_FIELDS = ("value", "count", "amount", "total", "size")


def create_visualization(
    chart_type: ChartType,
    data: list[dict[str, Any]],
    title: str = "",
    x_label: str = "",
    y_label: str = "",
) -> dict[str, Any]:
    """Create a bar, line or pie chart from data; the chat shows it to the user.

    Args:
        chart_type: "bar", "line" or "pie".
        data: the points. Bar and line charts: [{"x": "Jan", "y": 100}, ...] where y is a number. Pie charts:
            [{"segment": "Food", "value": 300}, ...] with distinct segments and values of at least 0. Each point
            may have a "color" such as "hsl(210, 100%, 50%)" or a CSS colour name.
        title: the chart's title.
        x_label: the x axis's label (bar and line charts).
        y_label: the y axis's label (bar and line charts).
    """
    try:
        return json_text_result(chart_specification(chart_type, data, title, x_label, y_label))
    except ToolFailure as failure:
        return error_result(failure.message)


def chart_specification(
    chart_type: str, data: Any, title: str = "", x_label: str = "", y_label: str = ""
) -> dict[str, Any]:
    """The reference's result for a valid chart; ToolFailure saying what is wrong otherwise."""
    if chart_type not in CHART_TYPES:
        raise ToolFailure(f"chart_type must be 'bar', 'line' or 'pie', not {str(chart_type)[:40]!r}")
    if not isinstance(data, list) or not data:
        raise ToolFailure("data must be a non-empty list of points")
    if len(data) > MAX_POINTS:
        raise ToolFailure(f"a chart has at most {MAX_POINTS} points, not {len(data)}")
    for name, label in (("title", title), ("x_label", x_label), ("y_label", y_label)):
        if not isinstance(label, str) or len(label) > _MAX_LABEL:
            raise ToolFailure(f"{name} must be text of at most {_MAX_LABEL} characters")
    points = [_point(chart_type, index, item) for index, item in enumerate(data, start=1)]
    if chart_type == "pie":
        _check_distinct_segments(points)
    config: dict[str, Any] = {
        "title": title,
        "description": f"{chart_type.title()} chart with {len(points)} data points",
        "xAxisKey": None if chart_type == "pie" else "x",
    }
    if chart_type != "pie":
        config |= {key: label for key, label in (("xAxisLabel", x_label), ("yAxisLabel", y_label)) if label}
    return {
        "success": True,
        "chart_data": {
            "chartType": chart_type,
            "config": config,
            "data": points,
            "chartConfig": _series(chart_type, points, y_label),
        },
        "message": f"Created {chart_type} chart '{title}' with {len(points)} data points",
    }


def _point(chart_type: str, index: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ToolFailure(f"point {index} must be an object")
    point = dict(item)
    if "color" in point and not (isinstance(point["color"], str) and 0 < len(point["color"]) <= 100):
        raise ToolFailure(f'point {index}: color must be a CSS colour such as "hsl(210, 100%, 50%)"')
    if chart_type == "pie":
        segment = _first(point, _SEGMENT_FIELDS)
        value = _first(point, _VALUE_FIELDS)
        if not (isinstance(segment, str) and segment.strip()) and not _is_number(segment):
            raise ToolFailure(f"point {index} of a pie chart needs a 'segment' (its name)")
        if not _is_number(value) or value < 0:
            raise ToolFailure(f"point {index} of a pie chart needs a 'value' that is a number of at least 0")
        point["segment"], point["value"] = str(segment), value
        return point
    x, y = point.get("x"), point.get("y")
    if not (isinstance(x, str) and x.strip()) and not _is_number(x):
        raise ToolFailure(f"point {index} of a {chart_type} chart needs an 'x' (text or a number)")
    if not _is_number(y):
        raise ToolFailure(f"point {index} of a {chart_type} chart needs a 'y' that is a number")
    return point


def _first(point: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((point[name] for name in names if name in point), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_distinct_segments(points: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for point in points:
        if point["segment"] in seen:
            raise ToolFailure(f"the pie chart has the segment {point['segment']!r} twice: segments must differ")
        seen.add(point["segment"])


def _series(chart_type: str, points: list[dict[str, Any]], y_label: str) -> dict[str, Any]:
    """recharts' chartConfig: a label and colour per pie segment, or for the one `y` series."""
    if chart_type == "pie":
        return {
            point["segment"]: {"label": point["segment"], "color": point.get("color", _PALETTE[index % len(_PALETTE)])}
            for index, point in enumerate(points)
        }
    return {"y": {"label": y_label or "Value", "color": _PALETTE[0]}}


def build_create_visualization() -> Any:
    """The Strands tool."""
    from strands import tool

    return tool(create_visualization)
