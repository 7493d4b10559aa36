"""Every place in apis/ that catches an exception and goes on is named, with its reason, in docs/suppressions.md.

A marker on the line is not enough: nobody has to add one. So this test reads the syntax tree of every module.
The rule, also written at the top of docs/suppressions.md:

- An `except` handler that raises on every path through its body (a bare `raise`, or `raise Other(...) from exc`)
  lets the failure go on: it is not a site.
- Any other handler, and every `contextlib.suppress(...)` call (however `contextlib` or `suppress` was imported),
  is a site. Each site is one row of one of the two tables in docs/suppressions.md: "Justified suppressions"
  (best-effort side work, ARCHITECTURE.md "Errors"; its line says `suppressed: <why>`) or "Control flow, not
  suppression" (the exception is an answer, not a failure, or the failure reaches the user another way).
- A broad catch (`Exception`, `BaseException`, a bare `except`) with no `raise` in it is always a suppression: only
  the first table may hold it. One that re-raises what it does not recognise is a classifier, and may be either.

A site is named by `path:Qualified.name` and what it catches, never by line number, so rows survive edits.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "suppressions.md"
JUSTIFIED = "Justified suppressions"
CONTROL_FLOW = "Control flow, not suppression"
BROAD = {"Exception", "BaseException"}
MARK = re.compile(r"#.*\bsuppressed:\s*\S")
ROW = re.compile(r"^\|\s*`(?P<where>[^`]+)`\s*\|\s*`(?P<catches>[^`]+)`\s*\|(?P<why>.*)\|\s*$")

Outcome = Literal["falls through", "raises", "returns", "leaves loop"]


@dataclass(frozen=True)
class Site:
    """One handler or `suppress(...)` that can stop a failure."""

    where: str  # apis/shared/users/sync.py:LoginSync.ensure_active
    catches: str  # `except StorageError`, `except (A, B)`, `suppress(FileExistsError)`, with ` #2` for a repeat
    line: int
    broad_and_never_raises: bool
    marked: bool  # its line carries `# ... suppressed: <why>`

    @property
    def key(self) -> tuple[str, str]:
        return self.where, self.catches

    def __str__(self) -> str:
        return f"`{self.where}` `{self.catches}` (line {self.line})"


# --- Which ways out of a block are possible -------------------------------------------------------------------------


def outcomes(block: list[ast.stmt]) -> set[Outcome]:
    """The ways control can leave `block`; a statement after one that always leaves is never reached."""
    found: set[Outcome] = set()
    for statement in block:
        these = _statement_outcomes(statement)
        found |= these - {"falls through"}
        if "falls through" not in these:
            return found
    return found | {"falls through"}


def _statement_outcomes(node: ast.stmt) -> set[Outcome]:
    """Conservative: a construct not understood here is taken to fall through, which makes its handler a site."""
    match node:
        case ast.Raise():
            return {"raises"}
        case ast.Return():
            return {"returns"}
        case ast.Break() | ast.Continue():
            return {"leaves loop"}
        case ast.If():
            return outcomes(node.body) | outcomes(node.orelse)
        case ast.With() | ast.AsyncWith():
            # A context manager can swallow what its body raises (`suppress` is reported on its own).
            return outcomes(node.body) | {"falls through"} if _is_suppressing_with(node) else outcomes(node.body)
        case ast.Try() | ast.TryStar():
            return _try_outcomes(node)
        case ast.For() | ast.AsyncFor() | ast.While():
            # The loop may run zero times; a `break` or `continue` in it stays in it.
            inner = outcomes(node.body) | outcomes(node.orelse)
            return (inner - {"leaves loop"}) | {"falls through"}
        case ast.Match():
            return set().union(*(outcomes(case.body) for case in node.cases)) | {"falls through"}
        case _:
            return {"falls through"}


def _try_outcomes(node: ast.Try | ast.TryStar) -> set[Outcome]:
    body = outcomes(node.body)
    found = body - {"falls through"}
    for handler in node.handlers:
        found |= outcomes(handler.body)
    if "falls through" in body:
        found |= outcomes(node.orelse)
    final = outcomes(node.finalbody)
    return final if "falls through" not in final else found | (final - {"falls through"})


def _is_suppressing_with(node: ast.With | ast.AsyncWith) -> bool:
    """`with suppress(...)` or `with contextlib.suppress(...)`; an alias under another name is missed (harmless:
    the `suppress` call is a site itself, so the handler around it is only reported twice, or not at all)."""
    return any(
        isinstance(item.context_expr, ast.Call) and _called_name(item.context_expr).endswith("suppress")
        for item in node.items
    )


def _called_name(call: ast.Call) -> str:
    """`suppress` or `contextlib.suppress` as written; the import check happens in the finder."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return ""


# --- Finding the sites in one module -------------------------------------------------------------------------------


class _SiteFinder(ast.NodeVisitor):
    """Walks one module, keeping the qualified name of the function or class each site sits in."""

    def __init__(self, path: str, source: str, tree: ast.Module) -> None:
        self.path = path
        self.lines = source.splitlines()
        self.scope: list[str] = []
        self.sites: list[Site] = []
        self.seen: Counter[tuple[str, str]] = Counter()
        self.suppress_names = _suppress_aliases(tree)

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def visit_Try(self, node: ast.Try) -> None:
        self._handlers(node, "except")

    def visit_TryStar(self, node: ast.TryStar) -> None:
        self._handlers(node, "except*")

    def _handlers(self, node: ast.Try | ast.TryStar, keyword: str) -> None:
        for handler in node.handlers:
            if outcomes(handler.body) != {"raises"}:
                caught = _names(handler.type)
                broad = not caught or bool(BROAD & {name.rsplit(".", 1)[-1] for name in caught})
                never_raises = not any(isinstance(inner, ast.Raise) for inner in ast.walk(handler))
                listed = ", ".join(caught) if len(caught) < 2 else f"({', '.join(caught)})"
                text = f"{keyword} {listed}".rstrip()
                self._add(text, handler.lineno, broad and never_raises)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if _called_name(node) in self.suppress_names:
            caught = [ast.unparse(arg) for arg in node.args]
            broad = not caught or bool(BROAD & {name.rsplit(".", 1)[-1] for name in caught})
            self._add(f"suppress({', '.join(caught)})", node.lineno, broad)
        self.generic_visit(node)

    def _add(self, catches: str, line: int, broad_and_never_raises: bool) -> None:
        where = f"{self.path}:{'.'.join(self.scope) or '<module>'}"
        self.seen[where, catches] += 1
        if (count := self.seen[where, catches]) > 1:
            catches = f"{catches} #{count}"
        marked = bool(MARK.search(self.lines[line - 1]))
        self.sites.append(Site(where, catches, line, broad_and_never_raises, marked))


def _names(caught: ast.expr | None) -> list[str]:
    """The exception names of an `except` clause as written; none for a bare `except`."""
    if caught is None:
        return []
    if isinstance(caught, ast.Tuple):
        return [ast.unparse(element) for element in caught.elts]
    return [ast.unparse(caught)]


def _suppress_aliases(tree: ast.Module) -> set[str]:
    """Every spelling of `contextlib.suppress` this module's imports make possible."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {f"{alias.asname or alias.name}.suppress" for alias in node.names if alias.name == "contextlib"}
        elif isinstance(node, ast.ImportFrom) and node.module == "contextlib":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "suppress"}
    return names


def sites_in_source(source: str, path: str = "snippet.py") -> list[Site]:
    """The sites of one module's source."""
    tree = ast.parse(source)
    finder = _SiteFinder(path, source, tree)
    finder.visit(tree)
    return finder.sites


def sites_in_code() -> dict[tuple[str, str], Site]:
    """Every site under apis/, by key."""
    sites: dict[tuple[str, str], Site] = {}
    for path in sorted((ROOT / "apis").rglob("*.py")):
        for site in sites_in_source(path.read_text(), str(path.relative_to(ROOT))):
            sites[site.key] = site
    return sites


# --- The two tables ------------------------------------------------------------------------------------------------


def listed(section: str, text: str | None = None) -> dict[tuple[str, str], str]:
    """The rows of the table under `## <section>` in docs/suppressions.md: key to reason."""
    rows: dict[tuple[str, str], str] = {}
    current = ""
    for line in (DOCS.read_text() if text is None else text).splitlines():
        if line.startswith("## "):
            current = line.removeprefix("## ").strip()
        elif current == section and (row := ROW.match(line)):
            rows[row["where"], row["catches"]] = row["why"].strip()
    return rows


def _report(title: str, lines: list[str]) -> str:
    return f"{title}:\n  " + "\n  ".join(lines)


def test_every_site_is_listed() -> None:
    known = listed(JUSTIFIED).keys() | listed(CONTROL_FLOW).keys()
    unlisted = [str(site) for key, site in sorted(sites_in_code().items()) if key not in known]
    assert not unlisted, _report("catches that go on but are not in docs/suppressions.md", unlisted)


def test_no_row_is_stale() -> None:
    code = sites_in_code()
    rows = listed(JUSTIFIED) | listed(CONTROL_FLOW)
    stale = [f"`{where}` `{catches}`" for where, catches in rows if (where, catches) not in code]
    assert not stale, _report("rows of docs/suppressions.md that match no code (moved or gone?)", stale)


def test_each_row_gives_a_reason_and_sits_in_one_table() -> None:
    justified, control = listed(JUSTIFIED), listed(CONTROL_FLOW)
    assert justified, f"docs/suppressions.md lost its '## {JUSTIFIED}' table"
    assert control, f"docs/suppressions.md lost its '## {CONTROL_FLOW}' table"
    both = [f"`{where}` `{catches}`" for where, catches in justified.keys() & control.keys()]
    assert not both, _report("rows in both tables", both)
    silent = [f"`{where}` `{catches}`" for (where, catches), why in (justified | control).items() if len(why) < 20]
    assert not silent, _report("rows without a reason", silent)


def test_a_broad_catch_that_goes_on_is_a_justified_suppression() -> None:
    control = listed(CONTROL_FLOW)
    broad = [str(site) for key, site in sites_in_code().items() if site.broad_and_never_raises and key in control]
    assert not broad, _report("broad catches that never raise cannot be control flow", broad)


def test_justified_sites_say_why_on_their_line_and_only_they_do() -> None:
    justified = listed(JUSTIFIED)
    sites = sites_in_code().values()
    unmarked = [str(site) for site in sites if site.key in justified and not site.marked]
    assert not unmarked, _report("justified suppressions whose line lacks `# suppressed: <why>`", unmarked)
    stray = [str(site) for site in sites if site.marked and site.key not in justified]
    assert not stray, _report("lines marked `suppressed:` that are not in the justified table", stray)


# --- The checker itself bites --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def f():\n    try:\n        g()\n    except Exception:\n        logger.exception('failed')\n",
            ("snippet.py:f", "except Exception"),
        ),
        (
            "class Repo:\n    def get(self):\n        try:\n            return g()\n"
            "        except StorageError:\n            return None\n",
            ("snippet.py:Repo.get", "except StorageError"),
        ),
        (
            "import contextlib\nwith contextlib.suppress(Exception):\n    g()\n",
            ("snippet.py:<module>", "suppress(Exception)"),
        ),
        ("import contextlib as cl\ndef f():\n    cl.suppress(OSError)\n", ("snippet.py:f", "suppress(OSError)")),
        (
            "from contextlib import suppress as quiet\nwith quiet(KeyError):\n    g()\n",
            ("snippet.py:<module>", "suppress(KeyError)"),
        ),
        ("try:\n    g()\nexcept:\n    pass\n", ("snippet.py:<module>", "except")),
        ("try:\n    g()\nexcept* (A, b.B):\n    pass\n", ("snippet.py:<module>", "except* (A, b.B)")),
    ],
)
def test_a_catch_that_goes_on_is_reported(source: str, expected: tuple[str, str]) -> None:
    assert [site.key for site in sites_in_source(source)] == [expected]


@pytest.mark.parametrize(
    "handler",
    [
        "if missing(exc):\n        return None\n    raise",  # raises on one path only
        "for attempt in range(3):\n        raise",  # the loop may not run
        "with contextlib.suppress(OSError):\n        raise",  # the raise itself is swallowed
        "try:\n        raise\n    except ValueError:\n        pass",  # caught again inside
        "for item in items:\n        if item:\n            return item\n    raise",  # a return inside a loop
    ],
)
def test_a_handler_that_may_go_on_is_reported(handler: str) -> None:
    source = f"import contextlib\ntry:\n    g()\nexcept KeyError as exc:\n    {handler}\n"
    assert ("snippet.py:<module>", "except KeyError") in [site.key for site in sites_in_source(source)]


@pytest.mark.parametrize(
    "handler",
    [
        "raise",
        "raise Other('translated') from exc",
        "log(exc)\n    if fatal(exc):\n        raise\n    else:\n        raise Other() from exc",
        "try:\n        cleanup()\n    finally:\n        raise",
        "with lock:\n        undo()\n        raise",
        "match exc:\n        case _:\n            pass\n    raise",
    ],
)
def test_a_handler_that_raises_on_every_path_is_not_reported(handler: str) -> None:
    source = f"try:\n    g()\nexcept KeyError as exc:\n    {handler}\n"
    assert sites_in_source(source) == []


def test_a_repeated_catch_in_one_function_gets_its_own_key() -> None:
    source = "def f():\n" + "    try:\n        g()\n    except KeyError:\n        pass\n" * 2
    assert [site.catches for site in sites_in_source(source)] == ["except KeyError", "except KeyError #2"]


def test_broad_is_told_apart_from_a_broad_classifier() -> None:
    swallow = "try:\n    g()\nexcept Exception:\n    log()\n"
    classify = "try:\n    g()\nexcept Exception as exc:\n    if unknown(exc):\n        raise\n    report(exc)\n"
    narrow = "try:\n    g()\nexcept ValueError:\n    log()\n"
    flags = [site.broad_and_never_raises for site in sites_in_source(swallow + classify + narrow)]
    assert flags == [True, False, False]


def test_the_tables_are_read_by_section() -> None:
    text = (
        f"## {JUSTIFIED}\n\n| where | catches | why |\n|---|---|---|\n| `a.py:f` | `except E` | best effort |\n\n"
        f"## {CONTROL_FLOW}\n\n| where | catches | why |\n|---|---|---|\n| `a.py:g` | `suppress(E)` | an answer |\n"
    )
    assert listed(JUSTIFIED, text) == {("a.py:f", "except E"): "best effort"}
    assert listed(CONTROL_FLOW, text) == {("a.py:g", "suppress(E)"): "an answer"}


def test_ruff_flags_a_narrow_catch_that_goes_on_silently() -> None:
    """`check-typed-exception`: S110/S112 apply to `except KeyError`, not only to `except Exception`."""
    source = (
        "def f(items):\n    try:\n        g()\n    except KeyError:\n        pass\n"
        "    for item in items:\n        try:\n            g(item)\n        except KeyError:\n            continue\n"
    )
    ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format=concise", "--select=S110,S112"]
    found = subprocess.run(
        [*ruff, "--stdin-filename", "apis/snippet.py", "-"], input=source, capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert "S110" in found
    assert "S112" in found
