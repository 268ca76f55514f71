"""End to end in a real browser: `tutor serve` and `tutor ui` on loopback, driven through
Debian's Chromium with Playwright (no browser download). A learner joins, asks a question,
sees the streamed answer with its citation cards, ticks a task, reloads, and finds the tick
and the conversation (and themselves, from this browser's cookie) still there.

The screenshot lands in test-artifacts/ui-e2e.png: look at it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from app.launcher import api_command, ui_command
from tests.conftest import REPO
from tests.test_ui import loopback, running

CHROMIUM = Path(os.environ.get("TUTOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO / "test-artifacts"
THEME_PRIMARY = "rgb(79, 70, 229)"  # primaryColor in app/ui/.streamlit/config.toml
ANSWER_TIMEOUT_MS = 240_000  # the local model on a busy two-core machine


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's (`apt-get install chromium "
                    "chromium-driver`, as .ci/run does) or point TUTOR_CHROMIUM at one")
    return CHROMIUM


@pytest.fixture
def ui_url(corpus_dir: Path, tmp_path: Path) -> Iterator[str]:
    """The API and the UI as `make run` starts them, on free loopback ports; the UI from a
    folder outside the repo, as `tutor up` may be."""
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    settings = loopback(data_dir)
    ui = f"http://{settings.api_host}:{settings.ui_port}"
    with (running(api_command(settings), settings, f"{settings.resolved_api_url}/health"),
          running(ui_command(settings), settings, f"{ui}/_stcore/health", cwd=tmp_path)):
        yield ui


@pytest.mark.slow
def test_a_learner_asks_sees_cited_answer_ticks_a_task_and_it_survives_a_reload(
        chromium: Path, ui_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        try:
            learner_journey(page, ui_url)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "ui-e2e-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def learner_journey(page: Page, url: str) -> None:
    page.goto(url)
    sidebar = page.get_by_test_id("stSidebar")

    # our theme, whatever folder the UI was started from
    join = sidebar.get_by_role("button", name="Start learning")
    expect(join).to_have_css("background-color", THEME_PRIMARY)

    # join as a new learner on week 18
    sidebar.get_by_label("Your name").fill("Ada")
    sidebar.get_by_role("spinbutton", name="Starting week").fill("18")
    join.click()
    expect(sidebar.get_by_text("On week 18 of 72")).to_be_visible(timeout=30_000)
    sidebar.get_by_role("button", name="I've saved it").click()
    expect(sidebar.get_by_test_id("stCode")).to_be_hidden()  # the key is shown only once
    expect(page.get_by_text("Week 18 · Attention Mechanisms").first).to_be_visible()

    # ask; the answer streams in with citation cards
    page.get_by_placeholder("Ask about week 18").fill("Why divide by the square root of d_k?")
    page.keyboard.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(page.get_by_role("button", name="Quiz me on this")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)  # drawn once the stream is done
    cards = answer.get_by_test_id("stExpander")
    expect(cards.first).to_be_visible()
    assert answer.get_by_test_id("stMarkdown").first.inner_text().strip()
    cards.first.click()  # a card opens to its source passage
    expect(cards.first.locator("blockquote")).to_be_visible()

    # tick a task; the progress bar follows
    page.get_by_text("Assignment", exact=True).click()
    expect(page.get_by_text("1 of 4 tasks done this week")).to_be_visible(timeout=30_000)
    page.wait_for_timeout(500)  # let the last frame settle for the picture
    page.screenshot(path=str(ARTIFACTS / "ui-e2e.png"), full_page=True)

    # reload: a new session signs in from the cookie; the tick and the conversation are back
    page.reload()
    expect(sidebar.get_by_text("On week 18 of 72")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Why divide by the square root of d_k?")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Assignment")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Reading")).not_to_be_checked()
