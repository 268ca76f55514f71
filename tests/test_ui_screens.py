"""The screens a new learner found wanting (issue #24, "Screens"), driven with AppTest against a
real API on loopback, as in tests/test_ui.py (whose fixtures these share): the library's
results, the empty Evals tab, a card made from an answer, the journal's slider, the Code tab's
week, the quiz's size control and "Quiz me on this" after an answer on batch norm.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from app.course.notes import Note
from app.course.notes import read_notes
from app.practice.quiz import topic_concepts
from app.practice.quiz import topic_notes
from app.practice.quiz import topic_quiz
from tests import test_ui
from tests.test_ui import join
from tests.test_ui import open_tab
from tests.test_ui import stored
from tests.test_ui import texts
from tests.test_ui import week_picker

# tests/test_ui.py's fixtures: an API of this module's own, the UI on it, its reports folder
api_url = test_ui.api_url
ui = test_ui.ui
reports_dir = test_ui.reports_dir

MARKER = re.compile(r"\[\d+\]")
BATCH_NORM = re.compile(r"batch norm|normalizes each feature", re.I)
OTHER_WEEK_7_CONCEPTS = re.compile(r"weight decay|shrinks every weight|dropout|overfit", re.I)


def section(notes: list[Note], week: int, heading: str) -> str:
    """The first 400 characters of a section of a week's note, as an answer cites them."""
    [note] = [n for n in notes if n.meta.week == week]
    return note.body.split(f"## {heading}", 1)[1][:400]


def ask(ui: AppTest, question: str) -> AppTest:
    return ui.chat_input(key="question").set_value(question).run()


def size_control(ui: AppTest) -> int:
    """The value of the Quiz tab's "N questions" control."""
    [control] = [c for c in ui.segmented_control if c.key.startswith("quiz_n")]
    return control.value


@pytest.mark.slow
def test_library_results_show_the_matching_passage_a_rank_and_their_section(ui) -> None:
    week_picker(ui).set_value(7).run()
    open_tab(ui, "Library")
    ui.text_input(key="query").input("batch norm").run()
    assert not ui.exception
    page = texts(ui)
    assert "relevance" not in page  # the raw fused score (0.03) is gone...
    assert "best match first: ranked by how well their meaning and their words match" in page
    headers = [m.value for m in ui.markdown if re.match(r"\*\*\d+\.\*\* ", m.value)]
    assert headers[0] == "**1.** **batch normalization** · week 7"  # ...the rank says it
    assert [int(h[2 : h.index(".")]) for h in headers] == list(range(1, len(headers) + 1))
    quotes = [m.value for m in ui.markdown if m.value.startswith("> ")]
    assert "batch norm" in quotes[0] and len(quotes[0]) < 400  # the passage, trimmed
    places = [e.label for e in ui.expander]
    assert len(places) == len(set(places)) == len(headers)  # no two rows alike
    assert places[0] == "Regularization and training techniques › batch normalization · 2 passages"


@pytest.mark.slow
def test_an_empty_evals_tab_says_what_it_shows_and_how_to_fill_it(ui, reports_dir) -> None:
    open_tab(ui, "Evals")
    [empty] = ui.info
    assert "No eval report yet: run `make eval`" in empty.value
    assert "`make eval SUITE=quick`" in empty.value and "hit@5" in empty.value
    assert f"Reports are read from `{reports_dir.resolve()}`" in empty.value


@pytest.mark.slow
def test_a_card_from_an_answer_has_no_markers_and_its_form_closes_once_saved(ui, api_url) -> None:
    join(ui, week=18)
    ask(ui, "What is my assignment this week?")
    assert MARKER.search(ui.session_state["chat"][-1]["content"])  # the answer cites [1]
    ui.session_state["card_from_answer"] = True  # the learner opens "Make a card"
    ui.run()
    back = ui.text_area(key="card_back-2-answer").value
    assert back.startswith("In week 18 (Attention Mechanisms) your assignment")
    assert not MARKER.search(back)
    preview = ui.get_by_key("card_back_preview")
    assert preview.markdown[0].value == back  # formulas show rendered, as in Reviews
    ui.button(key="save_card-2").click().run()
    assert ui.session_state["card_from_answer"] is False  # the form closed
    assert "Card saved: it is due now in the Reviews tab." in texts(ui)
    assert ui.toast[0].value.startswith("Card made, due now in Reviews")
    [card] = stored(api_url, ui, "/cards")
    assert card["back"] == back


@pytest.mark.slow
def test_the_journal_slider_keeps_showing_the_rating_just_saved(ui, api_url) -> None:
    join(ui, week=18)
    open_tab(ui, "Journal")
    ui.slider(key="rating-18").set_value(7)
    ui.text_area(key="notes-18").input("Softmax over scaled dot products.")
    ui.button(key="FormSubmitter:journal-18-Save").click().run()
    assert ui.slider(key="rating-18").value == 7
    assert ui.text_area(key="notes-18").value == ""  # the note is saved, its box empty again
    assert stored(api_url, ui, "/ratings") == {"18": 7}


@pytest.mark.slow
def test_the_code_tab_starts_at_the_nearest_week_with_a_check_and_follows_the_week(ui) -> None:
    join(ui, week=4)  # weeks 3 and 5 have checks, week 4 none: the earlier, done, is nearer
    open_tab(ui, "Code")
    assert ui.selectbox(key="check-week").value == 3
    assert "Week 4 has no code check; week 3 is the nearest." in texts(ui)
    week_picker(ui).set_value(26).run()
    assert ui.selectbox(key="check-week").value == 26
    ui.selectbox(key="check-week").set_value(25).run()  # the learner's own pick stays
    assert ui.selectbox(key="check-week").value == 25


@pytest.mark.slow
def test_the_quiz_size_control_shows_the_size_of_the_quiz_on_show(ui) -> None:
    join(ui, week=18)
    ui.session_state["quiz_request"] = {"week": 18, "n": 3, "kinds": ["cloze", "short"]}
    open_tab(ui, "Quiz")
    assert len(ui.session_state["quiz"]["questions"]) == 3
    assert size_control(ui) == 3
    assert not ui.info  # as many as asked for: nothing to explain
    ui.segmented_control[0].set_value(5).run()  # the next quiz's size is the learner's choice
    ui.button(key="start_quiz").click().run()
    assert len(ui.session_state["quiz"]["questions"]) == size_control(ui) == 5


@pytest.mark.slow
def test_quiz_me_after_a_batch_norm_answer_asks_only_on_batch_norm_and_says_why_so_few(
    ui,
) -> None:
    join(ui, week=7)
    ask(ui, "What is batch norm?")
    ui.button(key="quiz_me").click().run()
    assert not ui.exception
    quiz = ui.session_state["quiz"]
    assert quiz["concepts"] == ["batch normalization"]
    prompts = [q["prompt"] for q in quiz["questions"]]
    assert prompts and all(BATCH_NORM.search(p) for p in prompts), prompts
    assert not any(OTHER_WEEK_7_CONCEPTS.search(p) for p in prompts), prompts
    asked = len(prompts)
    assert asked < 5 and size_control(ui) == asked
    assert ui.info[0].value.startswith(
        f"{asked} questions, not the 5 asked for: the notes have only {asked} new on "
        "batch normalization"
    )


def test_a_topic_quiz_keeps_to_the_concepts_asked_about_or_the_answer_quoted(embedder) -> None:
    """Without the model: the passages an answer on batch norm cited (week 7's section and
    week 14's on its backward pass) led the cosine-only ranking to week 14's neighbours (the
    cross-entropy and linear-layer backward passes); the question names batch normalization,
    so the quiz asks on it alone. A question naming no concept is on the concepts whose
    sections the answer quoted."""
    notes = read_notes()
    passages = [section(notes, 7, "batch normalization"), section(notes, 14, "Batchnorm backward")]
    quiz = topic_quiz(
        notes, "Explain batch norm simply", passages, {7, 14}, n=5, seed=1, embedder=embedder
    )
    assert quiz and all(BATCH_NORM.search(f"{q.prompt} {q.citation['snippet']}") for q in quiz)
    assert not any(re.search(r"cross-entropy|linear layer|\bdb\b", q.prompt) for q in quiz)
    quoted = [section(notes, 18, "Scaled dot-product attention")]
    asked = "Why divide by the square root of d_k?"
    assert topic_concepts(topic_notes(notes, {18}), asked, quoted) == [
        "scaled dot-product attention"
    ]
