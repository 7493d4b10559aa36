"""The reference client's tool catalogue pages, driven by `e2e.reference_client` in the local trial run.

The admin's catalogue (`/admin/tools`) lists the built-in tools, and the client's own edit form makes one public;
the list then marks it so. Every page load also asks `GET /tools/` for the user's tools, which no longer fails.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect


async def tool_catalogue(page: Page, client: str) -> None:
    """The admin's list shows the built-ins the app API seeded."""
    await page.goto(f"{client}/admin/tools")
    await page.get_by_role("heading", name="Tool Catalog").wait_for(timeout=15_000)
    for name in ("Calculator", "URL Fetcher", "Charts & Graphs"):
        await page.get_by_text(name, exact=True).first.wait_for(timeout=15_000)


async def tool_made_public(page: Page, client: str) -> None:
    """The client's edit form, saved with "public" ticked: the list marks the tool public."""
    await page.goto(f"{client}/admin/tools/edit/current_time")
    public = page.locator("input[formcontrolname=isPublic]")
    await public.wait_for(timeout=15_000)
    await expect(page.locator("input[formcontrolname=displayName]")).to_have_value("Current Time", timeout=15_000)
    if not await public.is_checked():
        await public.check()
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/admin/tools$"), timeout=15_000)
    row = page.locator("tr, li, div").filter(has_text="Current Time").filter(has_text="Public")
    await row.first.wait_for(timeout=15_000)
