"""The built-in tools' registry, as the catalogue and turns read it: ids, names and categories as the reference
shows them, built with the settings (once), and nothing of Strands loaded to list them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apis.shared.config import ToolsSettings
from apis.shared.errors import RuleViolation
from apis.shared.tools import BUILTIN_TOOL_IDS, load_tool
from apis.shared.tools.builtin import BUILTIN_SPECS
from apis.shared.tools.models import ToolCategory
from tests.shared.tools.pages import call_tool

ROOT = Path(__file__).resolve().parents[3]
SEARCH = ToolsSettings(web_search_url="http://127.0.0.1:9/search")


def test_the_built_ins_have_the_reference_ids_names_and_categories() -> None:
    assert [(spec.tool_id, spec.display_name, spec.category, spec.icon) for spec in BUILTIN_SPECS] == [
        ("calculator", "Calculator", "utility", "calculator"),
        ("current_time", "Current Time", "utility", "clock"),
        ("fetch_url_content", "URL Fetcher", "search", "link"),
        ("ddg_web_search", "Web Search", "search", "magnifying-glass"),
        ("create_visualization", "Charts & Graphs", "data", "chart-bar"),
    ]
    assert tuple(spec.tool_id for spec in BUILTIN_SPECS) == BUILTIN_TOOL_IDS
    assert all(ToolCategory(spec.category) for spec in BUILTIN_SPECS)
    assert all(0 < len(spec.description) <= 500 for spec in BUILTIN_SPECS)


@pytest.mark.parametrize("settings", [ToolsSettings(), SEARCH], ids=["no-search-service", "search-service"])
def test_each_tool_is_built_under_its_id_once_per_settings(settings: ToolsSettings) -> None:
    for spec in BUILTIN_SPECS:
        if not spec.available(settings):
            continue
        built = spec.build(settings)
        assert built.tool_name == spec.tool_id
        assert spec.build(settings) is built
        assert load_tool(spec.tool_id, settings) is built


def test_web_search_is_available_only_with_a_search_service() -> None:
    [web_search] = [spec for spec in BUILTIN_SPECS if spec.tool_id == "ddg_web_search"]

    assert (web_search.available(ToolsSettings()), web_search.available(SEARCH)) == (False, True)
    assert all(spec.available(ToolsSettings()) for spec in BUILTIN_SPECS if spec is not web_search)
    with pytest.raises(RuleViolation) as unavailable:
        load_tool("ddg_web_search", ToolsSettings())
    assert unavailable.value.code == "tool_unavailable"


def test_an_unknown_id_is_a_400() -> None:
    with pytest.raises(RuleViolation) as unknown:
        load_tool("shell", ToolsSettings())

    assert unknown.value.code == "unknown_tool"


def test_listing_the_built_ins_loads_neither_strands_nor_their_code() -> None:
    probe = (
        "import sys; import apis.shared.tools; from apis.shared.tools.builtin import BUILTIN_SPECS; "
        "loaded = [name for name in ('strands', 'apis.shared.tools.url_content', 'apis.shared.tools.web_search', "
        "'apis.shared.tools.visualization') if name in sys.modules]; print(loaded)"
    )

    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)

    assert completed.stdout.strip() == "[]"


async def test_the_calculator_and_the_clock_still_answer_through_strands() -> None:
    calculator = load_tool("calculator", ToolsSettings())
    clock = load_tool("current_time", ToolsSettings())

    assert (await call_tool(calculator, expression="(2 + 3) * 4"))["content"] == [{"text": "20"}]
    assert (await call_tool(calculator, expression="1 / 0"))["content"] == [{"text": "error: division by zero"}]
    assert (await call_tool(clock, timezone="Mars/Olympus"))["content"] == [
        {"text": "error: unknown time zone 'Mars/Olympus'"}
    ]
