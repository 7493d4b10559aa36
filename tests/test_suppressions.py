"""Every `except` that goes on instead of raising is marked on its line, says why, and is listed in
docs/suppressions.md: broad ones with `# noqa: BLE001 -- suppressed: <why>`, narrow ones with `# suppressed: <why>`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = re.compile(r"#\s*(?:noqa:\s*(?:BLE001|S110)\b(?P<rest>.*)|(?P<narrow>suppressed:.*))$")
LISTED = re.compile(r"^\|\s*`(?P<place>[^`]+)`\s*\|")


def suppressions_in_code() -> dict[str, str]:
    """`path:function` of each marked line, with its justification."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "apis").rglob("*.py")):
        function = "<module>"
        for line in path.read_text().splitlines():
            definition = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
            if definition:
                function = definition.group(1)
            marked = MARK.search(line)
            if marked:
                found[f"{path.relative_to(ROOT)}:{function}"] = marked.group("rest") or f"-- {marked.group('narrow')}"
    return found


def suppressions_listed() -> set[str]:
    text = (ROOT / "docs" / "suppressions.md").read_text()
    return {match.group("place") for line in text.splitlines() if (match := LISTED.match(line))}


def test_each_suppression_says_why_on_its_line() -> None:
    for place, rest in suppressions_in_code().items():
        assert re.match(r"\s*--\s*suppressed:\s*\S", rest), f"{place} lacks '-- suppressed: <why>'"


def test_the_list_and_the_code_agree() -> None:
    assert set(suppressions_in_code()) == suppressions_listed()
