"""The reference client's cost and quota pages, driven by `e2e.reference_client` in the local trial run.

The user's usage page (`/costs`), the admin cost dashboard (`/admin/costs`) and the quota admin pages
(`/admin/quota/...`): a tier and a default-tier assignment are created through the client's own forms, then
the events page and the per-user inspector are opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Page, expect


@dataclass
class QuotaTrial:
    """What the quota steps hand on: the tier made through the form, and the trial user's id."""

    tier_id: str = "e2e-tier"
    tier_name: str = "E2E tier"
    user_id: str = ""


async def user_costs(page: Page, client: str) -> None:
    """The user's own cost dashboard shows the month's figures: the turns made earlier count as requests."""
    await page.goto(f"{client}/costs")
    await page.get_by_role("heading", name="Cost Dashboard").wait_for(timeout=15_000)
    requests = page.locator("div").filter(has=page.get_by_role("heading", name="Total Requests", exact=True)).last
    await expect(requests).to_contain_text(re.compile(r"Total Requests\s*[1-9]"), timeout=15_000)
    await page.get_by_role("heading", name="Total Cost", exact=True).wait_for(timeout=15_000)
    await page.get_by_role("heading", name="Cost by Model").wait_for(timeout=15_000)
    await expect(page.get_by_text("Error Loading Cost Data")).to_have_count(0)


async def admin_costs(page: Page, client: str, email: str) -> None:
    """The admin cost dashboard: its summary cards, the model breakdown, and the trial user among top users."""
    await page.goto(f"{client}/admin/costs")
    await page.get_by_role("heading", name="Cost Analytics").wait_for(timeout=15_000)
    await page.get_by_text("Total Cost", exact=True).first.wait_for(timeout=15_000)
    await page.get_by_text("Active Users", exact=True).first.wait_for(timeout=15_000)
    await page.get_by_role("heading", name="Model Usage Breakdown").wait_for(timeout=15_000)
    await page.get_by_role("heading", name="Top Users by Cost").wait_for(timeout=15_000)
    await page.get_by_text(re.compile(r"^\s*[1-9]\d* users? loaded")).first.wait_for(timeout=15_000)
    await page.get_by_text(email).first.wait_for(timeout=15_000)


async def quota_tier(page: Page, client: str, trial: QuotaTrial) -> None:
    """A tier through the client's form: id, name, monthly limit and soft limit; then it is listed."""
    await page.goto(f"{client}/admin/quota/tiers")
    await page.get_by_role("heading", name="Quota Tiers").wait_for(timeout=15_000)
    await page.get_by_role("link", name=re.compile("Create Tier")).click()
    await page.wait_for_url(re.compile(r"/admin/quota/tiers/new$"), timeout=15_000)
    await page.locator("#tierId").fill(trial.tier_id)
    await page.locator("#tierName").fill(trial.tier_name)
    await page.locator("#description").fill("Made by the reference client run")
    await page.locator("#monthlyCostLimit").fill("25")
    await page.locator("#softLimitPercentage").fill("75")
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/admin/quota/tiers$"), timeout=15_000)
    await page.get_by_text(trial.tier_name, exact=True).first.wait_for(timeout=15_000)


async def quota_assignment(page: Page, client: str, trial: QuotaTrial) -> None:
    """The new tier made everyone's default through the assignment form; then it is listed."""
    await page.goto(f"{client}/admin/quota/assignments")
    await page.get_by_text(re.compile(r"Showing \d+ assignments?")).first.wait_for(timeout=15_000)
    await page.get_by_role("link", name=re.compile("Create Assignment")).click()
    await page.wait_for_url(re.compile(r"/admin/quota/assignments/new$"), timeout=15_000)
    tier = page.locator("select#tierId")
    await expect(tier.locator(f"option[value='{trial.tier_id}']")).to_have_count(1, timeout=15_000)
    await tier.select_option(trial.tier_id)
    await page.locator("label").filter(has_text="Default Tier").locator("input[type=radio]").check()
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/admin/quota/assignments$"), timeout=15_000)
    await page.get_by_text(re.compile(r"Showing [1-9]\d* assignments?")).first.wait_for(timeout=15_000)
    await page.get_by_text("(Default for all users)").first.wait_for(timeout=15_000)
    await page.get_by_text(trial.tier_name, exact=True).filter(visible=True).first.wait_for(timeout=15_000)


async def quota_events(page: Page, client: str) -> None:
    await page.goto(f"{client}/admin/quota/events")
    await page.get_by_role("heading", name="Quota Events").wait_for(timeout=15_000)
    await page.wait_for_load_state("networkidle")


async def quota_inspector(page: Page, client: str, trial: QuotaTrial) -> None:
    """The per-user inspector resolves the trial user to the default tier made above."""
    await page.goto(f"{client}/admin/quota/inspector")
    await page.get_by_role("heading", name="Quota Inspector").wait_for(timeout=15_000)
    await page.locator("#userId").fill(trial.user_id)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("heading", name="Quota Resolution").wait_for(timeout=15_000)
    await page.get_by_text(trial.tier_name, exact=True).first.wait_for(timeout=15_000)
    await page.get_by_role("heading", name="Current Usage").wait_for(timeout=15_000)
