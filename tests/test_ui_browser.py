"""End to end in a real browser: `tutor serve` and `tutor ui` on loopback, driven through
Debian's Chromium with Playwright (no browser download). A learner joins, asks a question,
sees the streamed answer with its citation cards, ticks a task, reloads, and finds the tick
and the conversation (and themselves, from this browser's cookie) still there; then makes a
card from the answer, reviews it with the keyboard and opens its Anki export in Anki's library.

A second learner comes back after three weeks away: behind, they re-plan, work through the
month (today's task, the month's milestone quiz and checklist, the capstone rubric) and see
it in their progress. Its screenshots, test-artifacts/month-*.png, are the README's.

The screenshots land in test-artifacts/: look at them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright

from app.cli.launcher import api_command
from app.cli.launcher import ui_command
from tests.conftest import REPO
from tests.test_ui import back_after_a_gap
from tests.test_ui import loopback
from tests.test_ui import running

CHROMIUM = Path(os.environ.get("TUTOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO / "test-artifacts"
THEME_PRIMARY = "rgb(79, 70, 229)"  # primaryColor in app/ui/.streamlit/config.toml
ANSWER_TIMEOUT_MS = 240_000  # the local model on a busy two-core machine
MARKER = re.compile(r"\[\d+\]")  # a citation marker, [1]
# Batch norm's formulas in one group that KaTeX cannot wrap: far wider than the chat column.
LONG_FORMULA = (
    r"$\left( \mu_B = \frac{1}{m}\sum_{i=1}^{m} x_i, \quad "
    r"\sigma_B^2 = \frac{1}{m}\sum_{i=1}^{m} (x_i - \mu_B)^2, \quad "
    r"y_i = \gamma \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta \right)$"
)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's (`apt-get install chromium "
            "chromium-driver`, as .ci/run does) or point TUTOR_CHROMIUM at one"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def app_urls(corpus_index, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The API and the UI as `make run` starts them, on free loopback ports; the UI from a
    folder outside the repo, as `tutor up` may be. Yields (UI URL, API URL). One pair for the
    module, as a study group shares one: each journey is a learner of its own in a browser of
    its own (starting both took 5-7 s a test)."""
    folder = tmp_path_factory.mktemp("browser")
    settings = loopback(corpus_index.copy(folder))
    ui = f"http://{settings.api_host}:{settings.ui_port}"
    with (
        running(api_command(settings), settings, f"{settings.resolved_api_url}/health"),
        running(ui_command(settings), settings, f"{ui}/_stcore/health", cwd=folder),
    ):
        yield ui, settings.resolved_api_url


@pytest.fixture(scope="module")
def ui_url(app_urls: tuple[str, str]) -> str:
    return app_urls[0]


@pytest.mark.slow
def test_a_learner_asks_sees_cited_answer_ticks_a_task_and_it_survives_a_reload(
    chromium: Path, ui_url: str
) -> None:
    in_browser(chromium, lambda page: learner_journey(page, ui_url), "ui-e2e-failure.png")


@pytest.mark.slow
def test_a_learner_back_after_a_gap_replans_and_works_through_the_month(
    chromium: Path, app_urls: tuple[str, str]
) -> None:
    ui, api = app_urls
    key = back_after_a_gap(api)
    quizzed(api, key, range(1, 5))
    in_browser(chromium, lambda page: learners_month(page, ui, key), "month-failure.png")


def quizzed(api: str, key: str, weeks: range) -> None:
    """A quiz on each of `weeks`, every question answered with its first option (or "no
    idea"): some right, some wrong, so the concept map has colours."""
    number, token = key.split(".", 1)
    base, auth = f"{api}/learners/{number}", {"Authorization": f"Bearer {token}"}
    for week in weeks:
        quiz = httpx.post(f"{base}/quizzes", json={"week": week, "n": 5}, headers=auth).json()
        for question in quiz["questions"]:
            response = (question.get("options") or ["no idea"])[0]
            httpx.post(
                f"{base}/quizzes/{quiz['quiz_id']}/answers",
                json={"question_id": question["id"], "response": response},
                headers=auth,
            ).raise_for_status()


def open_a_concept(page: Page) -> str:
    """Click a concept on the Progress tab's map (the first chart on it): hover over the map
    until Vega's tooltip names a concept, click there; the concept's name."""
    chart = page.locator("[data-testid='stVegaLiteChart'] >> visible=true").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    tooltip = page.locator("#vg-tooltip-element")
    for y in range(8, int(box["height"]), 8):
        for x in range(8, int(box["width"] / 3), 8):
            page.mouse.move(box["x"] + x, box["y"] + y)
            if tooltip.is_visible() and "Concept" in (text := tooltip.inner_text()):
                page.mouse.click(box["x"] + x, box["y"] + y)
                named = re.search(r"Concept\s*:?\s*(.+)", text)
                assert named is not None, text
                return named.group(1).strip()
    raise AssertionError("no concept found on the map")


@pytest.mark.slow
def test_a_long_formula_scrolls_within_the_chat_column(chromium: Path, ui_url: str) -> None:
    in_browser(chromium, lambda page: long_formula(page, ui_url), "chat-formula-failure.png")


@pytest.mark.slow
def test_the_screens_a_new_learner_found_wanting_now_say_what_they_show(
    chromium: Path, ui_url: str
) -> None:
    in_browser(chromium, lambda page: screens(page, ui_url), "screens-failure.png")


def in_browser(chromium: Path, journey: Callable[[Page], None], on_failure: str) -> None:
    """Run `journey` in a fresh headless Chromium page; a failure leaves a screenshot."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        try:
            journey(page)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / on_failure), full_page=True)
            raise
        finally:
            browser.close()


def learner_journey(page: Page, url: str) -> None:
    page.goto(url)
    sidebar = page.get_by_test_id("stSidebar")

    # our theme, whatever folder the UI was started from
    join = sidebar.get_by_role("button", name="Start learning")
    expect(join).to_have_css("background-color", THEME_PRIMARY, timeout=30_000)  # first draw

    # join as a new learner on week 18
    sidebar.get_by_label("Your name").fill("Ada")
    sidebar.get_by_role("spinbutton", name="Starting week").fill("18")
    join.click()
    expect(sidebar.get_by_text("On week 18 of 72")).to_be_visible(timeout=30_000)
    sidebar.get_by_role("button", name="I've saved it").click()
    expect(sidebar.get_by_test_id("stCode")).to_be_hidden()  # the key is shown only once
    expect(page.get_by_text("Week 18 · Attention Mechanisms").first).to_be_visible()
    settled(page)  # a question typed while "I've saved it" reruns the page was lost (twice)

    # ask; the answer streams in with citation cards
    page.get_by_placeholder("Ask about week 18").fill("Why divide by the square root of d_k?")
    page.keyboard.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(page.get_by_role("button", name="Quiz me on this")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS
    )  # drawn once the stream is done
    cards = answer.get_by_test_id("stExpander")
    expect(cards.first).to_be_visible()
    # the answer's text, with its markers (retried: the last frame may still be drawing)
    expect(answer.get_by_test_id("stMarkdown").first).to_contain_text(re.compile(r"\w.*\[\d+\]"))
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
    card_from_the_answer_reviewed_by_keyboard_and_exported(page)


def card_from_the_answer_reviewed_by_keyboard_and_exported(page: Page) -> None:
    """A card made from the tutor's answer, reviewed with the keyboard (Space shows the
    back, 3 rates it good) and exported to Anki: the package opens in Anki's own library."""
    from tests.test_reviews import anki_import

    sidebar = page.get_by_test_id("stSidebar")
    page.get_by_role("button", name="Make a card").click()
    popover = page.get_by_test_id("stPopoverBody")
    expect(popover.get_by_label("Front")).to_have_value("Why divide by the square root of d_k?")
    expect(popover.get_by_role("textbox", name="Back")).not_to_have_value(MARKER)
    shot(page, "card-form.png")
    popover.get_by_role("button", name="Save card").click()
    expect(sidebar.get_by_text("1 card due now")).to_be_visible(timeout=30_000)
    expect(popover).to_be_hidden()  # the form closes once the card is saved, and says so
    expect(page.get_by_text("Card saved: it is due now in the Reviews tab.")).to_be_visible()
    shot(page, "card-from-answer.png")
    page.get_by_role("tab", name="Reviews").click()
    expect(page.get_by_text("Your card · week").first).to_be_visible(timeout=30_000)
    settled(page)
    page.get_by_text("Due for review").click()  # focus off the tabs: keys go to the page
    page.keyboard.press("Space")
    expect(page.get_by_text("How did it go?")).to_be_visible(timeout=30_000)
    settled(page)
    page.keyboard.press("3")
    expect(page.get_by_text("All 1 reviewed").first).to_be_visible(timeout=30_000)
    expect(sidebar.get_by_text("Nothing due now; the next card in")).to_be_visible()
    shot(page, "reviews.png")
    # the package is written when asked for: on a loaded machine that takes a while
    with page.expect_download(timeout=90_000) as download:
        page.get_by_role("button", name="Anki package").click()
    package = ARTIFACTS / "study-tutor-cards.apkg"
    download.value.save_as(package)
    folder = ARTIFACTS / "anki-import"
    shutil.rmtree(folder, ignore_errors=True)
    imported = anki_import(package, folder)
    assert imported["fronts"] == ["Why divide by the square root of d_k?"]
    assert imported["eases"] == [3]  # the keyboard's "good", in Anki's review log
    reviewed_in_anki_and_brought_back(page, package)


def reviewed_in_anki_and_brought_back(page: Page, package: Path) -> None:
    """The exported card answered "easy" in Anki, exported from there and imported in the
    Reviews tab: its answer joins the log, once."""
    from tests.test_anki_import import reviewed_in_anki

    folder = ARTIFACTS / "anki-review"
    shutil.rmtree(folder, ignore_errors=True)
    from_anki = reviewed_in_anki(package, folder, ease=4)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(from_anki))
    # The upload is the browser's, after set_input_files returns: a click before it ends
    # imported nothing, and the page never said "added" (a flake on a loaded machine).
    expect(page.get_by_text(from_anki.name)).to_be_visible(timeout=30_000)
    for added in (1, 0):  # the same file twice: nothing more the second time
        settled(page)
        page.get_by_role("button", name="Import from Anki").click()
        expect(
            page.get_by_text(f"{added} review{'s' if added != 1 else ''} added from Anki")
        ).to_be_visible(timeout=30_000)
    shot(page, "anki-import.png")


def settled(page: Page) -> None:
    """Wait for Streamlit's runs to finish: a click during a rerun may be lost. The rerun a
    click starts can take a moment to show its status (eight tabs are drawn each run), so
    wait for it to have begun first; and a run may start another (a ticked box saves itself,
    then reruns), so the page counts as settled only once it has stayed idle for a moment.
    (A click on the milestone quiz was lost in the gap between two such runs.)"""
    status = page.get_by_test_id("stStatusWidget")
    for _ in range(20):
        page.wait_for_timeout(1_000)
        expect(status).to_be_hidden(timeout=60_000)
        page.wait_for_timeout(1_500)
        if status.is_hidden():
            return
    raise AssertionError("the page kept running for minutes")


def shot(page: Page, name: str) -> None:
    page.wait_for_timeout(700)  # let the last frame settle for the picture
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def pick_week(page: Page, label: str) -> None:
    """Choose a week in the sidebar's picker, e.g. "Week 8 · Convolutional Neural Networks"."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.keyboard.type(label.split(" · ")[0] + " ")  # the list shows a few weeks: filter it
    page.get_by_role("option", name=label).click()
    expect(page.get_by_text(label).first).to_be_visible(timeout=30_000)


def learners_month(page: Page, url: str, key: str) -> None:
    page.goto(url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("tab", name="Sign in").click()
    sidebar.get_by_role("textbox", name="Sign-in key").fill(key)
    sidebar.get_by_role("button", name="Sign in", exact=True).click()

    # three weeks away: the plan says week 8, the ticks say week 5
    expect(page.get_by_text("3 weeks behind").first).to_be_visible(timeout=30_000)
    expect(sidebar.get_by_text("On week 8 of 72")).to_be_visible()
    expect(page.get_by_text("Today ·").first).to_be_visible()
    shot(page, "month-1-behind.png")

    # re-plan: the rest of the plan moves to start from week 5 today
    page.get_by_role("button", name="Re-plan from week 5").click()
    expect(page.get_by_text("you resume at week 5 today").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("On track").first).to_be_visible()
    expect(sidebar.get_by_text("On week 5 of 72")).to_be_visible()
    page.get_by_text("Reading", exact=True).click()  # a task of the week, done
    expect(page.get_by_text("1 of 4 tasks done this week")).to_be_visible(timeout=30_000)
    settled(page)
    shot(page, "month-2-replanned.png")

    # the month's last week: its milestone checklist and quiz
    pick_week(page, "Week 8 · Convolutional Neural Networks")
    expect(page.get_by_text("Month 2 milestone").first).to_be_visible(timeout=30_000)
    page.get_by_text("Peer feedback session", exact=True).click()
    expect(page.get_by_role("checkbox", name="Peer feedback session")).to_be_checked(timeout=30_000)
    settled(page)
    page.get_by_role("button", name="Take the milestone quiz").click()
    # the local model writes the quiz: beside another worker's CPU burners, minutes
    expect(page.get_by_text("ready in the Quiz tab").first).to_be_visible(timeout=180_000)
    page.get_by_role("tab", name="Quiz").click()
    expect(page.get_by_text("Quiz · month 2 milestone").first).to_be_visible(timeout=30_000)
    shot(page, "month-3-milestone-quiz.png")

    # the quarter's capstone: its rubric, a deliverable ticked
    page.get_by_role("tab", name="Chat").click()
    pick_week(page, "Week 12 · First Quarter Capstone Preparation")
    expect(page.get_by_text("Q1 capstone rubric").first).to_be_visible(timeout=30_000)
    page.get_by_text("Deliverable · GitHub repo").first.click()
    expect(page.get_by_role("checkbox", name="GitHub repo")).to_be_checked(timeout=30_000)
    settled(page)
    shot(page, "month-4-capstone.png")

    # progress: pace, the milestone, the capstone and the re-plan; month 3's milestone,
    # shown under week 12, was not ticked by month 2's boxes
    page.get_by_role("tab", name="Progress").click()
    expect(page.get_by_text("Re-planned on").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Month 2 milestone").first).to_be_visible()
    expect(page.get_by_text("Month 3 milestone")).to_have_count(0)
    shot(page, "month-5-progress.png")

    # the concept map: weeks 1-4's concepts coloured by the quizzes; one clicked opens its
    # passage, cards and a quiz on it
    expect(page.get_by_text("Click one to open it").first).to_be_visible(timeout=30_000)
    name = open_a_concept(page)
    opened = re.compile(rf"{re.escape(name)} · week \d+ · chance of a right answer now")
    expect(page.get_by_text(opened).first).to_be_visible(timeout=30_000)
    quiz_me = page.get_by_role("button", name="Quiz me on this")
    expect(quiz_me).to_be_visible()
    settled(page)
    shot(page, "month-6-concept-map.png")
    quiz_me.click()
    expect(page.get_by_text(f"“{name}”").first).to_be_visible(timeout=60_000)


def long_formula(page: Page, url: str) -> None:
    """A question with a formula too wide for the chat column, its answer and a cited passage:
    every formula stays inside the column, in a box that scrolls it sideways; before, the
    formula ran over the column's edge and off the page."""
    page.goto(url)
    ask = page.get_by_placeholder("Ask about week")
    expect(ask).to_be_editable(timeout=30_000)  # the chat column draws after the plan
    ask.fill(f"What does batch norm compute in {LONG_FORMULA}?")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Quiz me on this")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS
    )  # drawn once the answer is done
    question, answer = page.get_by_test_id("stChatMessage").all()
    answer.get_by_test_id("stExpander").first.click()  # a cited passage, with its formula
    settled(page)
    column = question.locator("xpath=ancestor::*[@data-testid='stColumn'][1]")
    shot(page, "chat-long-formula.png")
    edge = column.bounding_box()
    assert edge is not None
    boxes = column.locator(".katex-display, :is(p, li):has(.katex)")  # what holds each formula
    assert boxes.count() >= 2  # the question's, and the answer's or its passage's
    for box in (boxes.nth(i).bounding_box() for i in range(boxes.count())):
        assert box is not None
        assert edge["x"] <= box["x"] and box["x"] + box["width"] <= edge["x"] + edge["width"]
    assert column.evaluate("c => c.scrollWidth <= c.clientWidth")  # nothing runs over
    long = question.locator("p:has(.katex)")
    formula = long.locator(".katex").bounding_box()
    assert formula is not None and formula["width"] > edge["width"]  # wide: it scrolls...
    assert long.evaluate("p => { p.scrollLeft = p.scrollWidth; return p.scrollLeft; }") > 0


def screens(page: Page, url: str) -> None:
    """A learner on week 4: the Code tab on the nearest week with a check, a journal rating
    that stays as saved, library results with their passage and rank, and an empty Evals tab
    that says how to fill it."""
    page.goto(url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_label("Your name").fill("Ada")
    sidebar.get_by_role("spinbutton", name="Starting week").fill("4")
    sidebar.get_by_role("button", name="Start learning").click()
    expect(sidebar.get_by_text("On week 4 of 72")).to_be_visible(timeout=30_000)
    sidebar.get_by_role("button", name="I've saved it").click()
    expect(sidebar.get_by_test_id("stCode")).to_be_hidden()

    page.get_by_role("tab", name="Code").click()
    expect(page.get_by_text("Week 4 has no code check; week 3 is the nearest.")).to_be_visible(
        timeout=30_000
    )

    page.get_by_role("tab", name="Journal").click()
    rating = page.get_by_role("slider")
    expect(rating).to_have_value("5", timeout=30_000)
    rating.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(rating).to_have_value("7")
    page.get_by_label("Notes").fill("Matrix rank clicked; eigenvectors not yet.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Week 4 · 7/10")).to_be_visible(timeout=30_000)
    settled(page)
    expect(rating).to_have_value("7")  # it showed 5 again
    expect(page.get_by_label("Notes")).to_have_value("")
    shot(page, "journal-saved.png")

    page.get_by_role("tab", name="Library").click()
    page.get_by_label("Search the course library").fill("batch norm")
    page.keyboard.press("Enter")
    expect(page.get_by_text("best match first", exact=False)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("relevance", exact=False)).to_have_count(0)
    expect(page.locator("blockquote").first).to_contain_text("batch norm")
    shot(page, "library-results.png")

    page.get_by_role("tab", name="Evals").click()
    expect(page.get_by_text("No eval report yet: run make eval")).to_be_visible(timeout=30_000)
    shot(page, "evals-empty.png")
