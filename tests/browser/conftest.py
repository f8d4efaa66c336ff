"""Pages in a real headless Chromium (Debian's `chromium`, driven by Playwright's Python
client with `executable_path`: no browser is ever downloaded) against the real `starosta
serve` on a demo archive. Screenshots go to var/screenshots/<test>/ (SCREENSHOTS), and each
test prints the paths it wrote. Without a chromium the tests skip, except under CI=true,
where they fail (.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, start_server, stop

CHROMIUM = os.environ.get("STAROSTA_CHROMIUM") or shutil.which("chromium") \
    or shutil.which("chromium-browser")
SCREENSHOTS = Path(os.environ.get("STAROSTA_SCREENSHOTS", ROOT / "var" / "screenshots"))
PHONE = {"width": 390, "height": 844}  # every page works at 390 px wide
DESKTOP = {"width": 1280, "height": 900}
BROWSER_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium: .ci/run installs Debian's chromium (apt-get install chromium)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh demo archive (SQLite) for this test file."""
    db = str(tmp_path_factory.mktemp("browser") / "demo.db")
    made = run_cli("demo", "--db", db, timeout=300)
    assert made.returncode == 0, made.stderr
    return db


@pytest.fixture(scope="module")
def site(demo_db: str) -> Iterator[str]:
    """The real server on the demo archive; its base URL. Stopped by its process group."""
    proc, base = start_server(demo_db)
    try:
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Chromium (Debian's), one per test file."""
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator:
    """A fresh browser context and page at desktop width (`page.set_viewport_size(PHONE)` for
    the phone); the default timeout bounded (10 s)."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def shot(page, request: pytest.FixtureRequest):
    """shot(name): save a full-page screenshot under var/screenshots/<test>/<name>.png and
    print its path (the closing note lists them)."""
    folder = SCREENSHOTS / request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None) -> Path:
        path = folder / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    return take


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """The axe-core violations of the page now of the given impacts (axe-core as
    axe-playwright-python ships it, injected into the page by the test)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in impacts]


def wide_content(page) -> int:
    """How many CSS pixels the page's content is wider than its viewport (0: no sideways
    scrolling at this width)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")
