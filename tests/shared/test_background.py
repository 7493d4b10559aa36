"""BackgroundTasks: tracked tasks, failures counted, periodic rounds that survive a failed round."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from apis.shared.background import BackgroundTasks


def failures(task: str) -> float:
    return REGISTRY.get_sample_value("colloquy_background_task_failures_total", {"task": task}) or 0.0


async def test_a_periodic_job_goes_on_after_a_failed_round_and_stops_at_drain() -> None:
    tasks, rounds = BackgroundTasks(), list[int]()
    three_rounds = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            three_rounds.set()
        if len(rounds) == 2:
            raise RuntimeError("the second round fails")

    before = failures("test-periodic")
    tasks.every(0.001, work, name="test-periodic")
    await asyncio.wait_for(three_rounds.wait(), timeout=10)
    await tasks.drain(timeout_seconds=10)
    settled = len(rounds)
    await asyncio.sleep(0.01)

    assert failures("test-periodic") == before + 1
    assert len(rounds) == settled, "no round starts after drain"
    assert len(tasks) == 0


async def test_drain_waits_for_a_running_task() -> None:
    tasks, finished = BackgroundTasks(), list[bool]()

    async def work() -> None:
        await asyncio.sleep(0.01)
        finished.append(True)

    tasks.spawn(work(), name="test-drain")
    await tasks.drain(timeout_seconds=10)

    assert finished == [True]
