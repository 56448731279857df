"""Shared set-up of the console tests: the API's test roster served over real HTTP, and a
browser session of Debian's chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from playwright.async_api import Browser, Page, Request, async_playwright

from store import repository
from tests.api_helpers import PHONES, Api
from tests.test_pipeline import IMSI, parts_of

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Two tabs watch the feed at once: the one behind must not have its timers throttled.
    "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]  # fmt: skip
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SERVER_START_S = 20.0
BROWSER_START_S = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def served(api: Api) -> AsyncIterator[str]:
    """The test API's app on a real port of 127.0.0.1 (a browser needs one); its base URL."""
    app = api.client._transport.app  # type: ignore[attr-defined]
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(SERVER_START_S):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, SERVER_START_S)


@dataclass
class Watched:
    """A browser tab and what it did wrong: console errors, and requests to other hosts."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def watch(self) -> None:
        own = urlsplit(self.base).netloc
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

        def requested(request: Request) -> None:
            where = urlsplit(request.url)
            if where.scheme not in ("data", "blob") and where.netloc != own:
                self.foreign.append(request.url)

        self.page.on("request", requested)

    async def sign_in(self, token: str) -> None:
        """Through the sign-in form, as a person would."""
        await self.page.goto(f"{self.base}/")
        await self.page.fill("#token", token)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_url(f"{self.base}/")

    async def visit(self, path: str) -> None:
        await self.page.goto(f"{self.base}{path}")

    async def shot(self, name: str) -> None:
        """A screenshot under tests/artifacts/ (git-ignored; CI keeps them)."""
        ARTIFACTS.mkdir(exist_ok=True)
        # In front first: a test may have opened another tab after this one, and a screenshot
        # of a tab behind another once waited out its 30 s under a loaded CI run.
        await self.page.bring_to_front()
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    async def overflows_sideways(self) -> bool:
        """Whether the page is wider than the window (tables scroll inside their own box)."""
        return bool(await self.page.evaluate(
            "document.documentElement.scrollWidth > window.innerWidth + 1"
        ))  # fmt: skip


@contextmanager
def chromium_process(profile: Path) -> Iterator[str]:
    """Debian's chromium, headless, for a whole test session (never a browser Playwright
    downloads); its DevTools endpoint, which each test connects to with a context of its own."""
    port = free_port()
    process = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_ARGS, f"--remote-debugging-port={port}",
         f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + BROWSER_START_S
        while not _answers(f"{endpoint}/json/version"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit status {process.returncode})")
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(BROWSER_START_S)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own 127.0.0.1 URL
            return True
    except OSError:
        return False


@asynccontextmanager
async def chromium(endpoint: str) -> AsyncIterator[Browser]:
    """The session's chromium, connected to through DevTools; disconnected after."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.connect_over_cdp(endpoint)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def tab(browser: Browser, base: str, viewport: dict[str, int]) -> AsyncIterator[Watched]:
    """A fresh browser context (no cookies) with one watched tab."""
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    try:
        watched = Watched(await context.new_page(), base)
        watched.watch()
        yield watched
    finally:
        await context.close()


FOURTH = {"code": "3456", "name": "Dinara", "phones": ["+996555444333"], "station_code": "S004",
          "language": "ky"}  # fmt: skip


async def two_reports_a_region(api: Api) -> None:
    """A fourth sampled station (Chui) and its observer, and an accepted OP from each sampled
    station (A: Yes, Yes, No, Yes): every stratum has the two reports an estimate needs."""
    async with api.db.transaction() as session:
        await repository.upsert_stations(session, [
            {"code": "S004", "name": "School 4", "region": "Chui", "district": "Sokuluk",
             "registered_voters": 800, "in_sample": True},
        ])  # fmt: skip
        await repository.upsert_observers(session, [FOURTH])
    senders = [("1234", PHONES["1234"], 1), ("3456", FOURTH["phones"][0], 1),
               ("5678", PHONES["5678"], 2), ("9012", PHONES["9012"], 1)]  # fmt: skip
    for reference, (code, phone, answer) in enumerate(senders, start=50):
        await api.ingest.store(IMSI, parts_of(f"OP {code} A{answer} B100", phone, reference))
    await api.pipeline.process_pending([IMSI])
