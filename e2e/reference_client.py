"""A real browser run of the reference web client against Colloquy (issue: "the seed system's own web client").

The client (the Angular app `frontend/ai.client` of Boise-State-Development/agentcore-public-stack) is not
part of this repository: build it yourself, with its `environment.development.ts` pointing `appApiUrl` and
`inferenceApiUrl` at the ports below, and serve its `dist/` from another origin (README, "Running the
reference web client"). This script starts both Colloquy services itself on a fresh DATA_DIR with the
settings that client needs, drives Debian's Chromium through Playwright, and reports every request that
failed, apart from the routes of features Colloquy has not built yet. It signs in twice: through OIDC against
the test suite's fake provider (on loopback), then through the local trial sign-in, which the rest uses.

    python -m e2e.reference_client --client http://localhost:4200 --screenshots /tmp/shots

Exit status 0 when every step passed and no unexpected request failed. It is kept beside CI, not in it: it
needs the client's build, which this repository does not make.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, Request, Response, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from e2e.cost_pages import (
    QuotaTrial,
    admin_costs,
    quota_assignment,
    quota_events,
    quota_inspector,
    quota_tier,
    user_costs,
)
from e2e.memory_page import delete_the_fact, fact_on_memories_page, state_a_fact
from e2e.tool_pages import tool_catalogue, tool_made_public
from tests.fakes.oidc_server import FakeOidcState, running_oidc_provider
from tests.fakes.server import RunningFake

# Routes of features with issues of their own (OAuth connections): the client calls them on some pages, and their
# 404s are expected until that issue lands.
NOT_BUILT_YET = re.compile(r"/(oauth|admin/oauth-providers)(/|\?|$)")
EMPLOYEE_NUMBER_CLAIM = "http://schemas.boisestate.edu/claims/employeenumber"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Run:
    """What the browser saw: failed requests (unexpected and expected) and the outcome of each step."""

    screenshots: Path
    unexpected: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self._record(f"{response.status} {response.request.method} {response.url}", response.url)

    def _on_failed(self, request: Request) -> None:
        # An aborted stream read after its `done` is the client closing it, not a failure.
        if "ERR_ABORTED" in str(request.failure) and "/invocations" in request.url:
            return
        self._record(f"failed {request.method} {request.url}: {request.failure}", request.url)

    def _record(self, line: str, url: str) -> None:
        (self.expected if NOT_BUILT_YET.search(httpx.URL(url).path) else self.unexpected).append(line)

    async def step(self, page: Page, name: str, action: Callable[[], Awaitable[None]]) -> None:
        try:
            await action()
        except Exception as exc:  # noqa: BLE001 -- a report: every step runs, and each failure is printed
            self.steps.append((name, f"FAILED: {type(exc).__name__}: {exc}"))
        else:
            self.steps.append((name, "ok"))
        await settled(page)
        await page.screenshot(path=self.screenshots / f"{len(self.steps):02d}-{name.replace(' ', '-')}.png")


async def settled(page: Page) -> None:
    """Let the page's own requests finish before the next step navigates: a request the browser cancels when the
    page is left (net::ERR_ABORTED) says nothing about the server. A page that keeps a connection open never
    settles; after a few seconds the run goes on, and whatever was cut off then is reported."""
    with contextlib.suppress(PlaywrightTimeoutError):  # suppressed: a page that never settles is not a failure
        await page.wait_for_load_state("networkidle", timeout=5000)


def png_bytes() -> bytes:
    """A real 2x2 PNG, made here so the run needs no file beside it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (2).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xff\x00\x00\x00\x00\xff\x00" * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def local_trial_settings(client_origin: str) -> dict[str, str]:
    """Local auth with the trial sign-in: every typed name becomes an admin with the claims the client checks."""
    return {
        "AUTH_MODE": "local",
        "LOCAL_SIGNIN_ENABLED": "true",
        "LOCAL_SIGNIN_ROLES": "Admin",
        "LOCAL_SIGNIN_CLAIMS": json.dumps({EMPLOYEE_NUMBER_CLAIM: "123456789"}),
        "LOCAL_SIGNIN_REDIRECT_URI": f"{client_origin}/auth/callback",
    }


def oidc_settings(client_origin: str, provider: RunningFake[FakeOidcState]) -> dict[str, str]:
    """OIDC against the suite's fake provider, found by discovery like any other."""
    return {
        "AUTH_MODE": "oidc",
        "OIDC_ISSUER": provider.url,
        "OIDC_AUDIENCE": provider.state.api_audience,
        "OIDC_CLIENT_ID": provider.state.client_id,
        "OIDC_CLIENT_SECRET": provider.state.client_secret or "",
        "OIDC_REDIRECT_URI": f"{client_origin}/auth/callback",
        "OIDC_STATE_SECRET": secrets.token_urlsafe(32),
    }


@contextmanager
def services_running(
    data_dir: Path, client_origin: str, ports: tuple[int, int], settings: dict[str, str]
) -> Iterator[None]:
    """Both Colloquy services on a DATA_DIR of their own, with the client's origin allowed and `settings`."""
    app_port, inference_port = ports
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "STORAGE_BACKEND": "local",
        "CORS_ALLOWED_ORIGINS": client_origin,
        "ADMIN_JWT_ROLES": "Admin",
        "LOCAL_PROVIDER_DELTA_DELAY_MS": "20",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "apis.shared.cli", "serve", "--app-port", str(app_port)]
        + ["--inference-port", str(inference_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "services.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(app_port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"Colloquy did not start; see {data_dir / 'services.log'}")
            time.sleep(0.2)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


async def sign_in_with_oidc(page: Page, client: str, name: str) -> None:
    """The client's own sign-in against an OIDC provider: its login button, the provider, its callback."""
    await page.goto(f"{client}/auth/login")
    await page.get_by_role("button", name=re.compile("sign in|log in|continue", re.I)).first.click()
    await page.wait_for_url(lambda url: "/auth/" not in url, timeout=20_000)
    # The greeting varies; it always names the signed-in user, taken from the token.
    await page.get_by_role("heading", name=re.compile(rf"\b{name}\b")).first.wait_for(timeout=15_000)


async def sign_in(page: Page, client: str, user: str) -> None:
    """The local trial sign-in: the client's login button, our page, a user name, back to the client."""
    await page.goto(f"{client}/auth/login")
    await page.get_by_role("button", name=re.compile("sign in|log in|continue", re.I)).first.click()
    await page.wait_for_url(re.compile(r"/auth/local/sign-in"), timeout=15_000)
    await page.get_by_label(re.compile("user name", re.I)).fill(user)
    await page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    await page.wait_for_url(lambda url: "/auth/" not in url, timeout=20_000)


async def chat(page: Page, client: str) -> str:
    """A new conversation, one turn; returns the conversation's URL."""
    await page.goto(client)
    await page.get_by_text(re.compile("Local echo", re.I)).first.wait_for(timeout=15_000)
    box = page.locator("textarea").first
    await box.fill("Hello from the reference client")
    await box.press("Enter")
    await page.get_by_text(re.compile("offline model", re.I)).first.wait_for(timeout=30_000)
    await page.wait_for_url(re.compile(r"/s/"), timeout=15_000)
    await page.wait_for_timeout(1500)  # the automatic title and the session list catch up
    return page.url


async def history_after_reload(page: Page, conversation: str) -> None:
    await page.goto(conversation)
    await page.get_by_text("Hello from the reference client").first.wait_for(timeout=15_000)
    await page.get_by_text(re.compile("offline model", re.I)).first.wait_for(timeout=15_000)


async def attachments(page: Page, client: str, folder: Path) -> None:
    notes, picture = folder / "notes.txt", folder / "dot.png"
    notes.write_text("Meeting notes: ship on Friday.\n")
    picture.write_bytes(png_bytes())
    await page.goto(client)
    await page.locator("input[type=file]").first.set_input_files([str(notes), str(picture)])
    await page.get_by_text("notes.txt").first.wait_for(timeout=15_000)
    await page.wait_for_timeout(2000)  # presign, PUT and complete of both files
    box = page.locator("textarea").first
    await box.fill("What do my files say?")
    await box.press("Enter")
    await page.get_by_text(re.compile("notes.txt", re.I)).nth(1).wait_for(timeout=30_000)
    await page.get_by_text(re.compile("offline model", re.I)).first.wait_for(timeout=30_000)


async def model_form(page: Page, client: str) -> None:
    """Create a model through the admin form, edit it, delete it."""
    await page.goto(f"{client}/admin/manage-models/new")
    await page.locator("#modelId").fill("e2e-model")
    await page.locator("#modelName").fill("E2E model")
    await page.locator("#provider").select_option("openai")
    await page.locator("#providerName").fill("OpenAI")
    await page.locator("#knowledgeCutoffDate").fill("2025-01-01")
    inputs = page.get_by_role("button", name="TEXT", exact=True)
    await inputs.nth(0).click()  # input modalities
    await inputs.nth(1).click()  # output modalities
    await page.get_by_role("button", name="IMAGE", exact=True).first.click()
    await page.get_by_role("button", name=re.compile(r"^\s*Default", re.I)).first.click()  # an app role
    await page.locator("#maxInputTokens").fill("128000")
    await page.locator("#maxOutputTokens").fill("4096")
    await page.locator("#inputPricePerMillionTokens").fill("0.15")
    await page.locator("#outputPricePerMillionTokens").fill("0.6")
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/admin/manage-models$"), timeout=15_000)
    await page.get_by_text("E2E model").first.wait_for(timeout=15_000)
    card = page.locator("div").filter(has_text="E2E model").filter(has=page.get_by_text("Edit")).last
    await card.get_by_text("Edit").click()
    await page.locator("#modelName").fill("E2E model, renamed")
    await page.locator("button[type=submit]").click()
    await page.get_by_text("E2E model, renamed").first.wait_for(timeout=15_000)
    card = page.locator("div").filter(has_text="E2E model, renamed").filter(has=page.get_by_text("Delete")).last
    await card.get_by_role("button", name=re.compile("Delete")).click()
    await page.get_by_text("E2E model, renamed").first.wait_for(state="detached", timeout=15_000)


async def provider_catalogues(page: Page, client: str) -> None:
    """The three live catalogues; with no provider configured each is an empty list, not an error."""
    for provider in ("bedrock", "openai", "gemini"):
        await page.goto(f"{client}/admin/{provider}/models")
        await page.get_by_text(re.compile(r"Showing \d+ models|No models", re.I)).first.wait_for(timeout=15_000)


async def users(page: Page, client: str, email: str) -> None:
    await page.goto(f"{client}/admin/users")
    await page.get_by_text(re.compile("Last login")).first.wait_for(timeout=15_000)
    search = page.get_by_placeholder(re.compile("email", re.I))
    await search.fill(email)
    await search.press("Enter")
    await page.get_by_text(re.compile("Last login")).first.click()  # the search result, not the user menu
    await page.wait_for_url(re.compile(r"/admin/users/."), timeout=15_000)
    await page.get_by_text(email).first.wait_for(timeout=15_000)


async def roles(page: Page, client: str) -> None:
    await page.goto(f"{client}/admin/roles")
    await page.get_by_text("system_admin").first.wait_for(timeout=15_000)


KNOWLEDGE = "Our team deploys on Fridays after the review.\n"


@dataclass
class AssistantTrial:
    """What the assistant steps hand on: the assistant's id and name, its document, the conversation's URL."""

    folder: Path
    name: str = "Release helper"
    document: str = "release-notes.md"
    assistant_id: str = ""
    conversation: str = ""


async def assistant_form(page: Page, client: str, trial: AssistantTrial) -> None:
    """The assistants page's Create New (a draft), then its form: name, description and instructions."""
    await page.goto(f"{client}/assistants")
    await page.get_by_role("heading", name="Assistants").wait_for(timeout=15_000)
    await page.get_by_role("button", name="Create New").click()
    await page.wait_for_url(re.compile(r"/assistants/[^/]+/edit"), timeout=15_000)
    trial.assistant_id = page.url.split("/assistants/")[1].split("/")[0]
    name = page.locator("#name")
    await expect(name).to_have_value("Untitled Assistant", timeout=15_000)  # the draft is in the form
    await name.fill(trial.name)
    await page.locator("#description").fill("Answers questions about how the team ships.")
    await page.locator("#instructions").fill("Answer from the release notes, and say which document you used.")


async def assistant_document(page: Page, trial: AssistantTrial) -> None:
    """The form's file input: upload URL, PUT of the bytes, then the page polls until the document is complete."""
    notes = trial.folder / trial.document
    notes.write_text("# Release notes\n\n" + KNOWLEDGE)
    await page.locator("#file-upload").set_input_files(str(notes))
    row = page.locator("div.rounded-lg").filter(has=page.get_by_text(trial.document, exact=True)).last
    await row.wait_for(timeout=15_000)
    await row.get_by_text("complete", exact=True).wait_for(timeout=60_000)  # the status the client polls for
    await page.get_by_placeholder("Ask a question about your documents...").wait_for(timeout=15_000)


async def assistant_test_chat(page: Page) -> None:
    """The form's test chat streams an answer built on the document's passage."""
    box = page.get_by_placeholder("Ask a question about your documents...")
    await box.fill("When does the team deploy?")
    await box.press("Enter")
    answer = page.locator(".assistant-bubble .markdown-content").last
    await expect(answer).to_contain_text("deploys on Fridays", timeout=30_000)
    await expect(page.locator(".assistant-bubble").last).not_to_contain_text("Error:")


async def assistant_save(page: Page, client: str, trial: AssistantTrial) -> None:
    """Update Assistant: saved as COMPLETE, back on the list, which shows it."""
    await page.get_by_role("button", name="Update Assistant").click()
    await page.wait_for_url(re.compile(r"/assistants$"), timeout=15_000)
    await page.get_by_role("heading", name=trial.name).first.wait_for(timeout=15_000)


async def assistant_chat(page: Page, trial: AssistantTrial) -> None:
    """The list's card opens a chat with the assistant; the answer streams with one cited source, the document."""
    await page.get_by_role("button", name=re.compile(re.escape(trial.name))).first.click()
    await page.wait_for_url(re.compile(rf"\?assistantId={re.escape(trial.assistant_id)}"), timeout=15_000)
    await page.get_by_text(trial.name).first.wait_for(timeout=15_000)  # the assistant's card above the input
    await page.get_by_text(re.compile("Local echo", re.I)).first.wait_for(timeout=15_000)
    box = page.locator("textarea").first
    await box.fill("When does the team deploy?")
    await box.press("Enter")
    await page.get_by_text(re.compile("deploys on Fridays")).first.wait_for(timeout=30_000)
    await page.wait_for_url(re.compile(r"/s/"), timeout=15_000)
    trial.conversation = page.url
    await show_sources(page, trial)


async def show_sources(page: Page, trial: AssistantTrial) -> None:
    """Hover the answer: its badge says one source; hovering that lists the document with its passage."""
    answer = page.get_by_role("group", name="Assistant message with metadata").last
    await answer.hover()
    badge = answer.get_by_role("button", name="1 source")
    await badge.wait_for(timeout=15_000)
    await badge.hover()
    sources = answer.get_by_role("listbox")
    await sources.get_by_text(trial.document, exact=True).wait_for(timeout=15_000)
    await expect(sources).to_contain_text("deploys on Fridays")


async def assistant_download(page: Page, trial: AssistantTrial) -> None:
    """Download source: the download-URL request answers 200, and its signed link serves the document's bytes."""
    answer = page.get_by_role("group", name="Assistant message with metadata").last
    async with (
        page.context.expect_page(timeout=15_000) as opened,
        page.expect_response(re.compile(r"/documents/[^/]+/download$")) as answered,
    ):
        await answer.get_by_role("button", name=re.compile("Download source")).click()
    response = await answered.value
    if response.status != 200:
        raise AssertionError(f"the download URL request answered {response.status}")
    link = await response.json()
    if link.get("filename") != trial.document:
        raise AssertionError(f"the download URL names {link.get('filename')!r}, not {trial.document!r}")
    served = await page.request.get(link["downloadUrl"])
    if served.status != 200 or KNOWLEDGE.strip() not in (await served.text()):
        raise AssertionError(f"the signed link answered {served.status} without the document's text")
    await (await opened.value).close()  # the tab the client opened on the link


async def assistant_history(page: Page, trial: AssistantTrial) -> None:
    """After a reload the answer comes from history, and its stored citation shows the same source."""
    await page.goto(trial.conversation)
    await page.get_by_text("When does the team deploy?").first.wait_for(timeout=15_000)
    await page.get_by_text(re.compile("deploys on Fridays")).first.wait_for(timeout=15_000)
    await show_sources(page, trial)


async def drive_oidc(browser: Browser, run: Run, client: str) -> None:
    page = await browser.new_page(viewport={"width": 1300, "height": 900})
    run.watch(page)
    await run.step(page, "sign in with OIDC", lambda: sign_in_with_oidc(page, client, "Ada"))
    await page.close()


async def drive_local(browser: Browser, run: Run, client: str, folder: Path) -> None:
    page = await browser.new_page(viewport={"width": 1300, "height": 900})
    run.watch(page)
    await run.step(page, "local trial sign-in", lambda: sign_in(page, client, "alice@example.com"))
    conversation: list[str] = []

    async def turn() -> None:
        conversation.append(await chat(page, client))

    await run.step(page, "stream a turn", turn)
    await run.step(page, "history after a reload", lambda: history_after_reload(page, conversation[0]))
    await run.step(page, "text file and PNG with a message", lambda: attachments(page, client, folder))
    await run.step(page, "admin: model form", lambda: model_form(page, client))
    await run.step(page, "admin: provider catalogues", lambda: provider_catalogues(page, client))
    quota = QuotaTrial()

    async def admin_users() -> None:
        await users(page, client, "alice@example.com")
        quota.user_id = page.url.split("/admin/users/")[1].split("?")[0]

    await run.step(page, "admin: users", admin_users)
    await run.step(page, "admin: roles", lambda: roles(page, client))
    trial = AssistantTrial(folder)
    await run.step(page, "assistants: create through the form", lambda: assistant_form(page, client, trial))
    await run.step(page, "assistants: upload a document", lambda: assistant_document(page, trial))
    await run.step(page, "assistants: test chat", lambda: assistant_test_chat(page))
    await run.step(page, "assistants: save", lambda: assistant_save(page, client, trial))
    await run.step(page, "assistants: chat with citations", lambda: assistant_chat(page, trial))
    await run.step(page, "assistants: download a source", lambda: assistant_download(page, trial))
    await run.step(page, "assistants: citations after a reload", lambda: assistant_history(page, trial))
    await run.step(page, "costs: the user's usage page", lambda: user_costs(page, client))
    await run.step(page, "admin: cost dashboard", lambda: admin_costs(page, client, "alice@example.com"))
    await run.step(page, "admin: quota tier through the form", lambda: quota_tier(page, client, quota))
    await run.step(page, "admin: quota default-tier assignment", lambda: quota_assignment(page, client, quota))
    await run.step(page, "admin: quota events", lambda: quota_events(page, client))
    await run.step(page, "admin: quota inspector", lambda: quota_inspector(page, client, quota))
    await run.step(page, "admin: tool catalogue", lambda: tool_catalogue(page, client))
    await run.step(page, "admin: a tool made public through the form", lambda: tool_made_public(page, client))
    await run.step(page, "memory: a fact stated in a chat", lambda: state_a_fact(page, client))
    await run.step(page, "memory: the fact on the memories page", lambda: fact_on_memories_page(page, client))
    await run.step(page, "memory: deleted through the page", lambda: delete_the_fact(page, client))
    await page.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", default="http://localhost:4200", help="where the built client is served")
    parser.add_argument("--app-port", type=int, default=8000)
    parser.add_argument("--inference-port", type=int, default=8080)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshots", type=Path, default=Path(tempfile.gettempdir()) / "colloquy-e2e")
    arguments = parser.parse_args()
    arguments.screenshots.mkdir(parents=True, exist_ok=True)
    run = Run(arguments.screenshots)
    client = arguments.client.rstrip("/")
    ports = (arguments.app_port, arguments.inference_port)
    employee = {EMPLOYEE_NUMBER_CLAIM: "987654321", "roles": ["Admin"]}
    provider_state = FakeOidcState(
        redirect_uris=[f"{client}/auth/callback"],
        user={"sub": "ada", "email": "ada@example.com", "name": "Ada", **employee},
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=arguments.chromium, args=CHROMIUM_FLAGS)
            with (
                running_oidc_provider(provider_state) as provider,
                services_running(folder / "oidc", client, ports, oidc_settings(client, provider)),
            ):
                await drive_oidc(browser, run, client)
            with services_running(folder / "local", client, ports, local_trial_settings(client)):
                await drive_local(browser, run, client, folder)
            await browser.close()
    for name, outcome in run.steps:
        print(f"{outcome:>6}  {name}" if outcome == "ok" else f"{name}: {outcome}")
    print(f"unexpected failed requests: {len(run.unexpected)}", *run.unexpected, sep="\n  ")
    print(f"failed requests of features not built yet: {len(run.expected)}", *sorted(set(run.expected)), sep="\n  ")
    print(f"screenshots: {arguments.screenshots}")
    return 0 if all(outcome == "ok" for _, outcome in run.steps) and not run.unexpected else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
