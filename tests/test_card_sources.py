"""Cards that know their source: a card keeps the hash of the words it quotes; when an ingest
changes or removes that passage, the card is flagged, with the source's new text to accept or
the card to retire, in `tutor cards list`, the API and the Reviews tab. Nothing changes
silently."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.records.card_sources import closest_sentence
from app.records.card_sources import flag_changed_sources
from app.records.card_sources import quote_hash
from app.records.card_sources import still_says
from app.records.learners import LearnerRecords
from app.records.reviews import CardError
from app.records.reviews import ReviewRecords
from tests.conftest import new_learner
from tests.conftest import tutor
from tests.conftest import write

SCALE = "Attention divides the scores by the square root of d_k so the softmax stays soft."
MASK = "A causal mask hides the positions after the current token."
NOTE = f"# Attention\n\n{SCALE} {MASK}\n\nMore on heads later.\n"
EDITED = (
    "# Attention\n\nAttention divides the scores by the square root of the key dimension, "
    f"which keeps the softmax from saturating. {MASK}\n\nMore on heads later.\n"
)


def test_a_quote_is_known_by_its_words_whatever_their_spacing() -> None:
    assert quote_hash("a  b\nc") == quote_hash("a b c") != quote_hash("a b d")
    assert still_says(MASK, quote_hash(MASK), [NOTE])
    assert not still_says(SCALE, quote_hash(SCALE), [EDITED])
    two = f"{SCALE} {MASK}"  # a passage of two sentences, kept whole
    assert still_says(two, quote_hash(two), [NOTE]) and not still_says(
        two, quote_hash(two), [EDITED]
    )


def test_an_excerpt_as_a_citation_card_shows_it_matches_the_raw_chunk() -> None:
    """The UI makes a card from a citation's excerpt: headings bold, links without targets,
    pieces joined by "…", ligatures folded. An edit elsewhere must not flag it."""
    chunk = (
        "# Scaling\n\nSee [the paper](http://x.org/a) on \ufb01ne scaling.\u00a0"
        + SCALE
        + "\n\n"
        + "Unrelated filler sentence one. " * 20
        + MASK
    )
    excerpt = f"**Scaling** See the paper on fine scaling. {SCALE} … {MASK}"
    assert still_says(excerpt, quote_hash(excerpt), [chunk])
    assert still_says("sca\u200bling", quote_hash("scaling"), ["scaling"])
    assert not still_says(excerpt, quote_hash(excerpt), [chunk.replace(MASK, "Masks differ.")])


def test_the_new_text_offered_is_the_sentence_closest_to_the_old_quote() -> None:
    assert closest_sentence("Attention", ["# Attention\n\nAttention weighs values."]) == (
        "Attention weighs values."
    ), "never a heading"
    assert closest_sentence(SCALE, [EDITED]).startswith("Attention divides the scores")
    assert closest_sentence(SCALE, []) is None
    assert closest_sentence(SCALE, ["Nothing alike here."]) is None


@pytest.fixture
def deck(settings) -> tuple[ReviewRecords, int]:
    store = LearnerRecords(settings.resolved_database_url)
    return ReviewRecords(store), store.local_learner(dt.date.today()).id


def test_an_edited_passage_flags_the_card_quoting_it_and_only_that_one(
    ingestor, deck, data_dir: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    write(notes / "attention.md", NOTE)
    ingestor.run([str(notes)])
    reviews, learner = deck
    scaled = reviews.add(
        learner, "Why divide by sqrt(d_k)?", "Keeps softmax soft", 18, "attention.md", SCALE
    )
    masked = reviews.add(
        learner, "What does a causal mask hide?", "Later positions", 18, "attention.md", MASK
    )
    mine = reviews.add(learner, "A card of my own", "with no passage", 18)

    write(notes / "attention.md", EDITED)
    summary = ingestor.run([str(notes)])
    assert summary.changed == 1 and summary.cards_flagged == 1
    cards = {c["id"]: c for c in reviews.cards(learner)}
    changed = cards[scaled["id"]]["source_changed"]
    assert changed["text"].startswith("Attention divides the scores by the square root of the key")
    assert not changed["removed"]
    assert (
        cards[masked["id"]]["source_changed"] is None
        and cards[mine["id"]]["source_changed"] is None
    )
    assert cards[scaled["id"]]["passage"] == SCALE, "nothing changes until the learner decides"

    listed = tutor(data_dir, "cards", "list")
    assert (
        "source changed" in listed.stdout
        and "the source now says: Attention divides" in listed.stdout
    )
    assert f"tutor cards source {scaled['id']} accept | retire" in listed.stdout

    accepted = tutor(data_dir, "cards", "source", scaled["id"], "accept")
    assert accepted.returncode == 0, accepted.stderr
    card = next(c for c in reviews.cards(learner) if c["id"] == scaled["id"])
    assert card["passage"] == changed["text"] and card["source_changed"] is None
    assert card["front"] == "Why divide by sqrt(d_k)?" and card["due"] == scaled["due"]
    again = tutor(data_dir, "cards", "source", scaled["id"], "accept")
    assert again.returncode == 2 and "has not changed" in again.stderr

    assert ingestor.run([str(notes)]).cards_flagged == 0  # unchanged: nothing to flag again


def test_a_removed_source_leaves_only_retiring_and_a_reverted_edit_clears_the_flag(
    ingestor, deck, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    write(notes / "attention.md", NOTE)
    write(notes / "other.md", "# Other\n\nSomething else entirely, kept as it is.\n")
    ingestor.run([str(notes)])
    reviews, learner = deck
    card = reviews.add(learner, "Why divide?", "Soft softmax", 18, "attention.md", SCALE)

    write(notes / "attention.md", EDITED)
    assert ingestor.run([str(notes)]).cards_flagged == 1
    write(notes / "attention.md", NOTE)  # the edit undone: the card's words are back
    assert ingestor.run([str(notes)]).cards_flagged == 0
    assert reviews.card(learner, card["id"])["source_changed"] is None

    (notes / "attention.md").unlink()
    summary = ingestor.run([str(notes)])
    assert summary.removed == 1 and summary.cards_flagged == 1
    flagged = reviews.card(learner, card["id"])["source_changed"]
    assert flagged["removed"] and flagged["text"] is None
    with pytest.raises(CardError, match="no new text to accept"):
        reviews.settle_source(learner, card["id"], "accept")
    retired = reviews.settle_source(learner, card["id"], "retire")
    assert retired["suspended"] and retired["source_changed"] is None


def test_a_rebuild_flags_too_and_a_file_put_back_clears_its_flag(
    ingestor, deck, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    write(notes / "attention.md", NOTE)
    ingestor.run([str(notes)])
    reviews, learner = deck
    card = reviews.add(learner, "Why divide?", "Soft softmax", 18, "attention.md", SCALE)
    write(notes / "attention.md", EDITED)
    assert ingestor.run([str(notes)], rebuild=True).cards_flagged == 1
    reviews.settle_source(learner, card["id"], "accept")
    (notes / "attention.md").unlink()  # gone, and the folder rebuilt: the card is told
    rebuilt = ingestor.run([str(notes)], rebuild=True)
    assert (
        rebuilt.cards_flagged == 1
        and reviews.card(learner, card["id"])["source_changed"]["removed"]
    )
    reviews.settle_source(learner, card["id"], "retire")
    write(notes / "attention.md", EDITED)
    ingestor.run([str(notes)])
    moved = tmp_path / "away.md"
    (notes / "attention.md").rename(moved)
    assert ingestor.run([str(notes)]).removed == 1
    assert reviews.card(learner, card["id"])["source_changed"]["removed"]
    write(notes / "attention.md", EDITED)  # put back as it was
    assert ingestor.run([str(notes)]).added == 1
    assert reviews.card(learner, card["id"])["source_changed"] is None


def test_the_api_shows_the_flag_and_takes_the_learners_decision(api_client, database_url) -> None:
    base, auth = new_learner(api_client)
    made = api_client.post(
        f"{base}/cards",
        json={
            "front": "Why divide?",
            "back": "Soft",
            "week": 18,
            "source": "attention.md",
            "passage": SCALE,
        },
        headers=auth,
    ).json()
    assert made["source_changed"] is None
    sessions = LearnerRecords(database_url).sessions
    read: list[set[str]] = []

    def passages_of(sources: set[str]) -> dict[str, list[str]]:
        read.append(sources)
        return {"attention.md": [EDITED]}

    assert flag_changed_sources(sessions, {"other.md"}, passages_of) == 0
    assert read == [], "a source no card quotes is not read"
    assert flag_changed_sources(sessions, {"attention.md", "other.md"}, passages_of) == 1
    assert read == [{"attention.md"}]
    assert flag_changed_sources(sessions, {"attention.md"}, passages_of) == 0, "flagged once"
    [card] = api_client.get(f"{base}/cards", headers=auth).json()
    assert card["source_changed"]["text"].startswith("Attention divides the scores")

    wrong = api_client.post(
        f"{base}/cards/{card['id']}/source", json={"decision": "keep"}, headers=auth
    )
    assert wrong.status_code == 422
    accepted = api_client.post(
        f"{base}/cards/{card['id']}/source", json={"decision": "accept"}, headers=auth
    )
    assert accepted.status_code == 200 and accepted.json()["passage"].startswith(
        "Attention divides"
    )
    twice = api_client.post(
        f"{base}/cards/{card['id']}/source", json={"decision": "accept"}, headers=auth
    )
    assert twice.status_code == 422 and "has not changed" in twice.json()["detail"]
    other = new_learner(api_client)[1]  # another learner's key: not theirs to settle
    assert api_client.post(
        f"{base}/cards/{card['id']}/source", json={"decision": "retire"}, headers=other
    ).status_code in (403, 404)
    assert not api_client.get(f"{base}/cards", headers=auth).json()[0]["suspended"]
