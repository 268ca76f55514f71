"""The Reviews tab: one due card at a time, rated with the keyboard (1-4), as in Anki; the
forecast of reviews to come; the learner's own cards; their export; FSRS fitted to them.

Quiz questions come back with the Quiz tab's answer card (graded by the API); the learner's
own cards show their front, then their back ("Show answer", Space), then take a rating.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import altair as alt
import streamlit as st

from app.answering.citations import strip_markers
from app.practice.grading import RATING_MEANINGS
from app.practice.scheduler import RATINGS  # keys 1-4 in this order, as in Anki
from app.records.reviews import OWN
from app.ui import session
from app.ui.client import Api
from app.ui.quiz import answer_card
from app.ui.session import reported


@session.learner_tab(
    "review what you learned when FSRS says you are about to forget it, and "
    "make cards of your own.",
    ":material/event_repeat:",
)
def render_reviews_tab(api: Api, week: int) -> None:
    review_col, deck_col = st.columns([3, 2], gap="large")
    with review_col:
        render_reviews(api)
    with deck_col:
        render_changed_sources(api)
        render_forecast(api)
        render_own_cards(api, week)
        render_fitting(api)


def refresh() -> None:
    """Forget what was fetched, so the tab asks the API again."""
    for name in ("reviews", "review_results", "review_summary"):
        st.session_state.pop(name, None)


def render_reviews(api: Api) -> None:
    """The reviews done this visit (with their feedback), then the next due card."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("#### :material/event_repeat: Due for review")
        st.button(
            "Refresh",
            icon=":material/refresh:",
            key="refresh_reviews",
            type="tertiary",
            on_click=refresh,
        )
    if "reviews" not in st.session_state:
        with reported():
            st.session_state["reviews"] = api.get(session.path("/reviews/due"))
            st.session_state["review_results"] = {}
    summary = st.session_state.setdefault(
        "review_summary", api.get(session.path("/reviews/summary"))
    )
    reviews = st.session_state.get("reviews") or []
    results = st.session_state.setdefault("review_results", {})
    done = [q for q in reviews if "next_review" in results.get(q["id"], {})]
    waiting = [q for q in reviews if q not in done]
    st.caption(
        f":material/schedule: {summary['text']}."
        if not reviews
        else f":material/schedule: {len(done)} of {len(reviews)} reviewed · keys "
        "**1** again, **2** hard, **3** good, **4** easy; **Space** shows the answer."
    )
    for question in done:
        review_card(api, question, results, current=False)
    if waiting:
        review_card(api, waiting[0], results, current=True)
    elif reviews:
        st.success(
            f"All {len(reviews)} reviewed. Press Refresh for what has come due since.",
            icon=":material/task_alt:",
        )
    else:
        st.caption(
            "Questions you answer in quizzes and cards you make come back here when "
            "it's time to recall them."
        )


def review_card(api: Api, question: dict[str, Any], results: dict[str, Any], current: bool) -> None:
    """One review: an own card flips and takes a rating; a short answer is checked, then
    rated; other questions are graded by the API."""
    path = session.path(f"/reviews/{question['id']}")
    title = f"Review · week {question['citation']['week']}"
    if question["kind"] == OWN:
        own_card(api, question, results, current)
    elif question["kind"] == "short":  # meaning is hard to grade: see the answer, rate yourself
        answer_card(
            question,
            title,
            results,
            lambda response: api.post(f"{path}/check", {"response": response}),
        )
        result = results.get(question["id"])
        if current and result and "next_review" not in result:
            rate_keys(
                question["id"],
                results,
                result["rate_with"],
                lambda rating: api.post(path, {"response": result["response"], "rating": rating}),
            )
    else:
        answer_card(
            question, title, results, lambda response: api.post(path, {"response": response})
        )


def own_card(api: Api, card: dict[str, Any], results: dict[str, Any], current: bool) -> None:
    """Front; "Show answer" (Space) fetches the back; a rating (1-4) reschedules it."""
    with st.container(border=True):
        st.caption(f"Your card · week {card['citation']['week']} · {card['citation']['source']}")
        st.markdown(f"**{card['prompt']}**")
        shown = results.get(card["id"])
        if shown is None:
            if current and st.button(
                "Show answer",
                key=f"show-{card['id']}",
                shortcut="Space",
                icon=":material/visibility:",
            ):
                with reported():
                    results[card["id"]] = api.get(session.path(f"/cards/{card['id']}"))
                    st.rerun()
            return
        st.markdown(shown["back"])
        if "next_review" in shown:
            st.caption(f":material/event: comes back {shown['comes_back']}")
            return
    rate_keys(
        card["id"],
        results,
        RATINGS,
        lambda rating: api.post(session.path(f"/cards/{card['id']}/rating"), {"rating": rating}),
    )


def minute(moment: str) -> str:
    """An ISO UTC time to the minute, as read: "2026-11-30 02:16 UTC"."""
    return f"{moment[:16].replace('T', ' ')} UTC"


def rate_keys(card_id: str, results: dict[str, Any], ratings: Any, rate: Any) -> None:
    """Again, Hard, Good, Easy on keys 1-4: the learner's verdict schedules the next review.
    Only the current card has them, so each key means one button."""
    st.markdown(
        "**How did it go?** Your rating is what counts: it decides when this comes "
        "back (Again: you did not recall it; Hard, Good, Easy: you did, with less "
        "effort each). Keys 1-4."
    )
    with st.container(horizontal=True):
        for rating in ratings:
            key = str(RATINGS.index(rating) + 1)
            if st.button(
                f"{rating.capitalize()}",
                key=f"rate-{card_id}-{rating}",
                shortcut=key,
                help=RATING_MEANINGS[rating].capitalize() + ".",
                type="primary" if rating == "good" else "secondary",
            ):
                with reported():
                    results[card_id] = results[card_id] | rate(rating)
                    st.session_state.pop("review_summary", None)
                    st.rerun()


def render_forecast(api: Api) -> None:
    """Reviews due each of the next 30 days, as bars."""
    forecast = api.get(session.path("/reviews/forecast"), days=30)
    st.markdown("#### :material/bar_chart: Coming up")
    st.caption(
        f"Reviews due each day, from FSRS if you recall each card when it returns: "
        f"**{forecast['next_7_days']}** in the next 7 days, "
        f"**{forecast['next_30_days']}** in 30."
    )
    chart = (
        alt.Chart(alt.Data(values=forecast["days"]))
        .mark_bar()
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%d %b")),
            y=alt.Y("due:Q", title="reviews", axis=alt.Axis(tickMinStep=1)),
            tooltip=["date:T", "due:Q"],
        )
    )
    st.altair_chart(chart.properties(height=160), width="stretch")


def render_own_cards(api: Api, week: int) -> None:
    """Make a card by hand; edit, suspend or delete any of yours; export them all."""
    st.markdown("#### :material/style: Your cards")
    with st.form("new_card", clear_on_submit=True, border=True):
        front = st.text_area(
            "Front",
            key="new_card_front",
            height=68,
            placeholder="A question or cue, e.g. Why divide by √d_k?",
        )
        back = st.text_area(
            "Back", key="new_card_back", height=68, placeholder="The answer you want to recall"
        )
        if st.form_submit_button("Make card", icon=":material/add_card:") and save_card(
            api, {"front": front, "back": back, "week": week}
        ):
            st.rerun()  # the sidebar's due count, drawn before this, counts it
    cards = [c for c in api.get(session.path("/cards")) if c["kind"] == OWN]
    for card in cards:
        edit_card(api, card)
    export_buttons(api)
    import_from_anki(api)


def render_changed_sources(api: Api) -> None:
    """Cards whose quoted passage an ingest changed or removed: what each quoted, what the
    source says now, and the learner's choice (accept the new text, or retire the card).
    Nothing shows while every card's source still says what it quoted."""
    changed = [c for c in api.get(session.path("/cards")) if c["source_changed"]]
    if not changed:
        return
    st.markdown("#### :material/sync_problem: Sources changed")
    st.caption(
        "The notes these cards quote were edited or removed since the cards were made. "
        "Accept the new text, or retire the card (suspended, its history kept)."
    )
    for card in changed:
        now = card["source_changed"]["text"]
        with st.container(border=True):
            st.markdown(f"**{card['front'][:120]}** · `{card['source']}`")
            st.markdown(f"It quoted:\n> {card['passage']}")
            if now:
                st.markdown(f"The source now says:\n> {now}")
            else:
                st.markdown("_The source no longer says anything like it._")
            with st.container(horizontal=True):
                if now and st.button(
                    "Accept the new text", key=f"accept-{card['id']}", icon=":material/check:"
                ):
                    settle(api, card, "accept")
                if st.button(
                    "Retire the card", key=f"retire-{card['id']}", icon=":material/archive:"
                ):
                    settle(api, card, "retire")


def settle(api: Api, card: dict[str, Any], decision: str) -> None:
    with reported():
        api.post(session.path(f"/cards/{card['id']}/source"), {"decision": decision})
        refresh()
        st.rerun()


def save_card(api: Api, card: dict[str, Any]) -> bool:
    """POST a new card: True when it was made (the sidebar's toast says so on the next run,
    which the caller starts), else False, having said why not (the API's reason)."""
    if not card["front"].strip() or not card["back"].strip():
        st.warning("A card needs a front and a back.", icon=":material/edit:")
        return False
    with reported():
        made = api.post(session.path("/cards"), card)
        st.session_state.pop("reviews", None)  # it is due now
        st.session_state.pop("review_summary", None)
        st.session_state["card_made"] = made["front"]
        return True
    return False


def card_made_toast() -> None:
    """Says a card was made, on the run after it was (which redrew the due count)."""
    made = st.session_state.pop("card_made", None)
    if made:
        st.toast(f"Card made, due now in Reviews: {made[:60]}", icon=":material/style:")


def edit_card(api: Api, card: dict[str, Any]) -> None:
    paused = " · suspended" if card["suspended"] else ""
    with st.expander(f"{card['front'][:60]}{paused}", icon=":material/style:"):
        with st.form(f"edit-{card['id']}", border=False):
            front = st.text_area("Front", card["front"], key=f"front-{card['id']}")
            back = st.text_area("Back", card["back"], key=f"back-{card['id']}")
            if st.form_submit_button("Save"):
                change(api, card, {"front": front, "back": back})
        with st.container(horizontal=True):
            if st.button(
                "Unsuspend" if card["suspended"] else "Suspend",
                key=f"suspend-{card['id']}",
                icon=":material/pause_circle:",
            ):
                change(api, card, {"suspended": not card["suspended"]})
            if st.button("Delete", key=f"delete-{card['id']}", icon=":material/delete:"):
                with reported():
                    api.delete(session.path(f"/cards/{card['id']}"))
                    refresh()
                    st.rerun()
        st.caption(f"Due {minute(card['due'])} · from {card['source']}")


def change(api: Api, card: dict[str, Any], fields: dict[str, Any]) -> None:
    with reported():
        api.patch(session.path(f"/cards/{card['id']}"), fields)
        refresh()
        st.rerun()


def export_buttons(api: Api) -> None:
    """Every card with its review history, for Anki (.apkg) or a spreadsheet (.csv)."""
    st.caption("Take every card, with its review history, to Anki or a spreadsheet:")
    path = session.path("/cards/export")  # the download runs on another thread, without state
    with st.container(horizontal=True):
        for kind, label in (("apkg", "Anki package"), ("csv", "CSV")):
            st.download_button(
                label,
                partial(api.download, path, format=kind),
                file_name=f"study-tutor-cards.{kind}",
                key=f"export-{kind}",
                icon=":material/download:",
                on_click="ignore",
                mime="text/csv" if kind == "csv" else "application/octet-stream",
            )


def import_from_anki(api: Api) -> None:
    """A package exported from the learner's Anki brought back: its reviews join the log and
    reschedule their cards, words edited there come back, and conflicts show both texts."""
    st.caption(
        "Reviewed them in Anki or AnkiDroid? In Anki, File > Export with scheduling, and "
        "bring the file back here (importing it twice adds nothing):"
    )
    package = st.file_uploader(
        "Anki package", type=["apkg", "colpkg"], key="anki_package", label_visibility="collapsed"
    )
    if package is not None and st.button(
        "Import from Anki", key="anki-import", icon=":material/upload:"
    ):
        with reported():
            st.session_state["anki_import"] = api.upload(
                session.path("/cards/import"), package.getvalue()
            )
            refresh()
    report = st.session_state.get("anki_import")
    if not report:
        return
    st.success(report["text"], icon=":material/sync:")
    for conflict in report["conflicts"]:
        with st.container(border=True):
            st.markdown(f"**Conflict** · `{conflict['id']}`: {conflict['why']}")
            for side, words in (("Here", conflict["here"]), ("In Anki", conflict["anki"])):
                st.text(f"{side}: {words['front']}\n  {words['back']}")
            st.caption("Your card kept its words here; edit it above to take Anki's.")


def render_fitting(api: Api) -> None:
    """FSRS fitted to the learner: how close they are, and the last fit against defaults."""
    state = api.get(session.path("/fsrs"))
    st.markdown("#### :material/tune: FSRS fitted to you")
    last = state["fit"]
    if last:
        st.caption(
            f"Log loss on {last['held_out_reviews']} held-out reviews (lower predicts "
            f"you better): fitted **{last['fitted_loss']:.3f}**, default "
            f"**{last['default_loss']:.3f}**. Your cards are scheduled with the "
            f"**{state['scheduling_with']}** parameters."
        )
    else:
        st.caption(
            f"{state['counted_reviews']} of the {state['min_reviews']} reviews (on "
            "later days) the FSRS optimizer needs to fit its parameters to you; until "
            "then your cards use FSRS's defaults."
        )
    if st.button(
        "Fit to my reviews",
        key="fit_fsrs",
        disabled=not state["ready"],
        icon=":material/model_training:",
    ):
        with reported(), st.spinner("Fitting FSRS to your reviews…"):
            api.post(session.path("/fsrs/fit"))
            st.rerun()


CARD_FORM = "card_from_answer"  # the popover's open state
CLOSE_CARD_FORM = "close_card_from_answer"  # set by a save, for the run it starts


def card_from_answer(api: Api, history: list[dict[str, Any]]) -> None:
    """ "Make a card" under the tutor's last answer: the question on the front, and on the
    back the answer or one of the passages it cited, to trim before saving. The answer comes
    without its [n] markers (they point at sources the card does not carry); its formulas
    stay as `$...$`, which the Reviews tab shows rendered, as the preview here does. Once
    saved, the form closes and a line under the answer says so."""
    if not session.learner():
        return
    if st.session_state.pop(CLOSE_CARD_FORM, False):  # a widget is set only before it is drawn
        st.session_state[CARD_FORM] = False
    turn, asked = history[-1], history[-2]["content"] if len(history) > 1 else ""
    citations = sorted(turn.get("citations", []), key=lambda c: c["n"])
    backs = {"answer": (strip_markers(turn["content"]), citations[0] if citations else None)} | {
        f"[{c['n']}]": (c["snippet"], c) for c in citations
    }
    with st.popover("Make a card", icon=":material/add_card:", key=CARD_FORM, on_change="rerun"):
        choice = st.selectbox(
            "Back",
            list(backs),
            key=f"card_back_from-{len(history)}",
            format_func=lambda k: "The tutor's answer" if k == "answer" else f"Passage {k}",
        )
        text, cited = backs[choice]
        front = st.text_area("Front", asked, key=f"card_front-{len(history)}")
        back = st.text_area("Back", text, key=f"card_back-{len(history)}-{choice}", height=150)
        st.caption("The back, as the card shows it:")
        with st.container(border=True, key="card_back_preview"):
            st.markdown(back)
        if st.button(
            "Save card", key=f"save_card-{len(history)}", type="primary", icon=":material/save:"
        ) and save_card(
            session.learner_api(api),
            {
                "front": front,
                "back": back,
                "week": (cited or {}).get("week"),
                "source": cited["source"] if cited else "the tutor's answer",
                "passage": cited["snippet"] if cited and choice != "answer" else "",
            },
        ):
            st.session_state[CLOSE_CARD_FORM] = True
            st.session_state["card_made_for"] = turn["content"]
            st.rerun()
    if st.session_state.get("card_made_for") == turn["content"]:
        st.caption(":material/check_circle: Card saved: it is due now in the Reviews tab.")
