"""`create_visualization` as the model calls it through Strands: the reference's chart specification for good
data, and a tool error saying what to fix for bad data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apis.shared.config import ToolsSettings
from apis.shared.tools import load_tool
from apis.shared.tools.visualization import MAX_POINTS
from tests.shared.tools.pages import call_tool

TOOL = load_tool("create_visualization", ToolsSettings())


def chart(result: dict[str, Any]) -> dict[str, Any]:
    assert result["status"] == "success", result
    [block] = result["content"]
    payload: dict[str, Any] = json.loads(block["text"])
    return payload


def refusal(result: dict[str, Any]) -> str:
    assert result["status"] == "error", result
    [block] = result["content"]
    text: str = block["text"]
    return text


async def test_a_bar_chart_is_the_reference_specification() -> None:
    data = [{"x": "Jan", "y": 100, "color": "hsl(210, 100%, 50%)"}, {"x": "Feb", "y": 150.5}]

    result = await call_tool(TOOL, chart_type="bar", data=data, title="Monthly Sales")

    assert chart(result) == {
        "success": True,
        "chart_data": {
            "chartType": "bar",
            "config": {"title": "Monthly Sales", "description": "Bar chart with 2 data points", "xAxisKey": "x"},
            "data": data,
            "chartConfig": {"y": {"label": "Value", "color": "hsl(var(--chart-1))"}},
        },
        "message": "Created bar chart 'Monthly Sales' with 2 data points",
    }


async def test_axis_labels_are_kept_for_line_charts() -> None:
    result = await call_tool(
        TOOL, chart_type="line", data=[{"x": 1, "y": 2}, {"x": 2, "y": 3}], x_label="Day", y_label="Riders"
    )

    specification = chart(result)["chart_data"]
    assert specification["config"] == {
        "title": "",
        "description": "Line chart with 2 data points",
        "xAxisKey": "x",
        "xAxisLabel": "Day",
        "yAxisLabel": "Riders",
    }
    assert specification["chartConfig"] == {"y": {"label": "Riders", "color": "hsl(var(--chart-1))"}}


async def test_a_pie_chart_takes_the_references_field_names_and_colours_each_segment() -> None:
    data = [
        {"segment": "Food", "value": 300, "color": "orange"},
        {"name": "Transport", "count": 200},
        {"label": "Fun", "amount": 0},
    ]

    specification = chart(await call_tool(TOOL, chart_type="pie", data=data, title="Spending"))["chart_data"]

    assert specification["config"] == {
        "title": "Spending",
        "description": "Pie chart with 3 data points",
        "xAxisKey": None,
    }
    assert [(point["segment"], point["value"]) for point in specification["data"]] == [
        ("Food", 300),
        ("Transport", 200),
        ("Fun", 0),
    ]
    assert specification["chartConfig"] == {
        "Food": {"label": "Food", "color": "orange"},
        "Transport": {"label": "Transport", "color": "hsl(var(--chart-2))"},
        "Fun": {"label": "Fun", "color": "hsl(var(--chart-3))"},
    }


@pytest.mark.parametrize(
    ("chart_type", "data", "message"),
    [
        ("bar", [{"x": "Jan"}], "point 1 of a bar chart needs a 'y' that is a number"),
        (
            "line",
            [{"x": "Jan", "y": 1}, {"x": "Feb", "y": "many"}],
            "point 2 of a line chart needs a 'y' that is a number",
        ),
        ("bar", [{"y": 3}], "point 1 of a bar chart needs an 'x' (text or a number)"),
        ("bar", [{"x": "Jan", "y": True}], "point 1 of a bar chart needs a 'y' that is a number"),
        ("pie", [{"value": 3}], "point 1 of a pie chart needs a 'segment' (its name)"),
        (
            "pie",
            [{"segment": "A", "value": -1}],
            "point 1 of a pie chart needs a 'value' that is a number of at least 0",
        ),
        (
            "pie",
            [{"segment": "A", "value": 1}, {"name": "A", "value": 2}],
            "the pie chart has the segment 'A' twice: segments must differ",
        ),
        (
            "bar",
            [{"x": "Jan", "y": 1, "color": 7}],
            'point 1: color must be a CSS colour such as "hsl(210, 100%, 50%)"',
        ),
        ("bar", [], "data must be a non-empty list of points"),
    ],
)
async def test_bad_data_is_a_tool_error_saying_what_to_fix(
    chart_type: str, data: list[dict[str, Any]], message: str
) -> None:
    assert refusal(await call_tool(TOOL, chart_type=chart_type, data=data)) == message


async def test_too_many_points_are_a_tool_error() -> None:
    data = [{"x": index, "y": index} for index in range(MAX_POINTS + 1)]

    assert refusal(await call_tool(TOOL, chart_type="line", data=data)) == (
        f"a chart has at most {MAX_POINTS} points, not {MAX_POINTS + 1}"
    )


async def test_an_unknown_chart_type_or_a_point_that_is_no_object_is_refused_by_the_schema() -> None:
    scatter = await call_tool(TOOL, chart_type="scatter", data=[{"x": 1, "y": 1}])
    not_objects = await call_tool(TOOL, chart_type="bar", data=[1, 2])

    assert "chart_type" in refusal(scatter)
    assert "'bar', 'line' or 'pie'" in refusal(scatter)
    assert "data" in refusal(not_objects)


def test_the_input_schema_names_the_chart_types() -> None:
    properties = TOOL.tool_spec["inputSchema"]["json"]["properties"]

    assert properties["chart_type"]["enum"] == ["bar", "line", "pie"]
    assert TOOL.tool_spec["inputSchema"]["json"]["required"] == ["chart_type", "data"]
