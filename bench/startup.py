"""Each service's start time (process start to first 200) and idle resident memory, on the embedded default.

Budget (ARCHITECTURE.md): each service starts in at most 2 s and holds at most 150 MB resident when idle.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import Row, median, print_table, resident_megabytes, service_process

RUNS = 3


def measure(service: str) -> tuple[float, float]:
    starts, memory = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as folder, service_process(service, Path(folder)) as (_, process, took):
            starts.append(took)
            time.sleep(1.0)  # idle: whatever start-up allocated has settled
            memory.append(resident_megabytes(process.pid))
    return median(starts), median(memory)


def main() -> None:
    rows: list[Row] = []
    for service in ("app", "inference"):
        took, megabytes = measure(service)
        rows.append(Row(f"{service} API start, process to first 200 (median of {RUNS})", took, 2.0, "s"))
        rows.append(Row(f"{service} API resident memory when idle", megabytes, 150, "MB"))
    print_table("Service start and memory (local backend)", rows)


if __name__ == "__main__":
    main()
