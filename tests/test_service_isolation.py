"""Each service starts and serves with the other service's code and dependencies absent (ARCHITECTURE.md:
each image holds only what its service needs). Each probe runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("service", ["app", "inference"])
def test_a_service_runs_without_the_other_installed(service: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.service_isolation_probe", service, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith(f"{service} ok")
