"""The reference client's memories page, driven by `e2e.reference_client` in the local trial run.

A fact stated in a chat ("my team deploys on Fridays") is extracted after the turn by the offline model and
shows on `/memories`; its delete button (shown on hover) removes it.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

FACT = "My team deploys on Fridays"
# How the offline model words the fact it extracts; the sidebar lists the conversation under FACT itself.
REMEMBERED = re.compile(r"user.s team deploys on fridays", re.I)


async def state_a_fact(page: Page, client: str) -> None:
    """A new conversation where the user states the fact; the offline model answers."""
    await page.goto(client)
    await page.get_by_text(re.compile("Local echo", re.I)).first.wait_for(timeout=15_000)
    box = page.locator("textarea").first
    await box.fill(f"{FACT}.")
    await box.press("Enter")
    await page.get_by_text(re.compile("offline model", re.I)).first.wait_for(timeout=30_000)


async def fact_on_memories_page(page: Page, client: str) -> None:
    """Extraction runs after the turn: the page shows the fact within a few reloads."""
    for _ in range(10):
        await page.goto(f"{client}/memories")
        await page.get_by_role("heading", name="Memories", exact=True).wait_for(timeout=15_000)
        await expect(page.get_by_text("Memory Not Available")).to_have_count(0)
        if await page.get_by_text(REMEMBERED).count():
            return
        await page.wait_for_timeout(1000)
    raise AssertionError("the stated fact never showed on the memories page")


async def delete_the_fact(page: Page, client: str) -> None:
    """The record's delete button removes it, and it stays gone after a reload."""
    item = page.locator("li").filter(has_text=REMEMBERED).first
    await item.hover()
    await item.get_by_role("button").last.click()
    await expect(page.get_by_text(REMEMBERED)).to_have_count(0, timeout=15_000)
    await page.goto(f"{client}/memories")
    await page.get_by_role("heading", name="Memories", exact=True).wait_for(timeout=15_000)
    await page.wait_for_timeout(1000)
    await expect(page.get_by_text(REMEMBERED)).to_have_count(0)
