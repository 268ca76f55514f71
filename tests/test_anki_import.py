"""Anki both ways: a learner's cards go to Anki (`cards/export`), are reviewed and edited
there, and come back (`cards/import`). Anki's side is Anki's own library, the desktop app's
backend: its importer, its scheduler (FSRS on) and its exporter, as the learner's Anki runs
them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.practice.anki_package import DAY_STARTS
from app.practice.anki_package import anki_days
from app.practice.anki_package import field_text
from app.practice.card_export import anki_field
from app.practice.scheduler import replay
from app.practice.scheduler import schedule
from app.records.learners import LearnerRecords
from app.records.reviews import ReviewCard
from app.records.reviews import ReviewRecords
from tests.conftest import new_learner
from tests.conftest import tutor

anki = pytest.importorskip("anki.collection")


@pytest.fixture(autouse=True)
def anki_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Anki counts its days from 4:00 in the machine's zone; the tutor reads them from 4:00
    UTC. The learner's Anki here runs in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@contextmanager
def learners_anki(folder: Path) -> Iterator[Any]:
    """A new Anki collection with FSRS on, as a learner's Anki 23.10+ is set up."""
    folder.mkdir()
    collection = anki.Collection(str(folder / "collection.anki2"))
    collection.set_config("fsrs", True)
    try:
        yield collection
    finally:
        collection.close()


def open_in_anki(collection: Any, package: Path) -> dict[str, Any]:
    """The package imported with its scheduling, as File > Import does: note id by front."""
    collection.import_anki_package(
        anki.ImportAnkiPackageRequest(
            package_path=str(package),
            options=anki.ImportAnkiPackageOptions(with_scheduling=True),
        )
    )
    return {collection.get_note(n)["Front"]: n for n in collection.find_notes("")}


def review_in_anki(collection: Any, note_id: int, ease: int) -> Any:
    """One answer in Anki (1 again - 4 easy), through its scheduler, now: the card after it."""
    card = collection.get_note(note_id).cards()[0]
    card.start_timer()
    collection.sched.answerCard(card, ease)
    return collection.get_card(card.id)


def export_from_anki(collection: Any, path: Path) -> Path:
    """File > Export with scheduling: a deck package (.apkg) or the whole collection
    (.colpkg; Anki closes the collection to write it, and it is opened again)."""
    if path.suffix == ".colpkg":
        collection.export_collection_package(str(path), include_media=False, legacy=False)
        collection.reopen()
    else:
        collection.export_anki_package(
            out_path=str(path),
            options=anki.ExportAnkiPackageOptions(
                with_scheduling=True, with_deck_configs=True, with_media=False, legacy=False
            ),
            limit=None,
        )
    return path


def reviewed_in_anki(package: Path, folder: Path, ease: int) -> Path:
    """`package` opened in a new Anki, every card answered `ease` there, and exported again
    with its scheduling: the file a learner brings back."""
    with learners_anki(folder) as collection:
        for note_id in open_in_anki(collection, package).values():
            review_in_anki(collection, note_id, ease)
        return export_from_anki(collection, folder / "from-anki.apkg")


def export_here(api_client: Any, base: str, auth: dict[str, str], path: Path) -> Path:
    response = api_client.get(f"{base}/cards/export", headers=auth)
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return path


def import_here(api_client: Any, base: str, auth: dict[str, str], path: Path) -> dict[str, Any]:
    response = api_client.post(
        f"{base}/cards/import",
        content=path.read_bytes(),
        headers=auth | {"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def anki_due(collection: Any, card: Any) -> dt.datetime:
    """When Anki will show the card: a (re)learning card at its time, a review card on its
    day (counted from today)."""
    if card.type == 2:
        today = dt.datetime.now(dt.UTC).date()
        return dt.datetime.combine(
            today + dt.timedelta(days=card.due - collection.sched.today), dt.time(), dt.UTC
        )
    return dt.datetime.fromtimestamp(card.due, dt.UTC)


def learner_id(base: str) -> int:
    return int(base.rsplit("/", 1)[1])


def test_reviews_made_in_anki_come_back_once_and_schedule_the_cards_as_anki_does(
    api_client, database_url, tmp_path: Path
) -> None:
    base, auth = new_learner(api_client, current_week=18)
    deck = ReviewRecords(LearnerRecords(database_url))
    api_client.post(
        f"{base}/cards", headers=auth, json={"front": "What is RoPE?", "back": "A rotation"}
    ).raise_for_status()
    # a card met here an hour ago (a learning step), and one last answered three days ago at a
    # later hour than now: 24-hour periods since then are 2, the day starts Anki counts are 3
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    met = deck.add(learner_id(base), "Why sqrt(d_k)?", "Dot products grow", 18, now=hour_ago)
    deck.rate(learner_id(base), met["id"], "good", hour_ago)
    now = dt.datetime.now(dt.UTC)
    day_start = dt.datetime.combine((now - DAY_STARTS).date(), dt.time(), dt.UTC) + DAY_STARTS
    next_start = day_start + dt.timedelta(days=1)
    if next_start - now < dt.timedelta(minutes=3):
        # Anki's answers below must come before the next day start: wait for it to pass
        time.sleep((next_start - now).total_seconds() + 1)
        now, next_start = dt.datetime.now(dt.UTC), next_start + dt.timedelta(days=1)
    # the last answer halfway between this hour three days ago and that day's end (at 03:50,
    # with ten minutes left, an answer eleven minutes after one placed so crossed into the
    # next day: 2 days, not 3)
    last = now - dt.timedelta(days=3) + (next_start - now) / 2
    assert (anki_days(last, now), (now - last).days) == (3, 2)
    first = last - dt.timedelta(minutes=11)
    older = deck.add(learner_id(base), "What does LoRA train?", "A low-rank update", 18, now=first)
    deck.rate(learner_id(base), older["id"], "good", first)
    deck.rate(learner_id(base), older["id"], "good", last)
    package = export_here(api_client, base, auth, tmp_path / "cards.apkg")

    with learners_anki(tmp_path / "anki") as collection:
        notes = open_in_anki(collection, package)
        assert set(notes) == {"Why sqrt(d_k)?", "What is RoPE?", "What does LoRA train?"}
        in_anki = {
            "Why sqrt(d_k)?": review_in_anki(collection, notes["Why sqrt(d_k)?"], 3),
            "What is RoPE?": review_in_anki(collection, notes["What is RoPE?"], 4),
            "What does LoRA train?": review_in_anki(collection, notes["What does LoRA train?"], 3),
        }
        dues = {front: anki_due(collection, card) for front, card in in_anki.items()}
        back_from_anki = export_from_anki(collection, tmp_path / "from-anki.apkg")
        whole = export_from_anki(collection, tmp_path / "from-anki.colpkg")

    report = import_here(api_client, base, auth, back_from_anki)
    assert (report["matched"], report["reviews_added"], report["reviews_known"]) == (3, 3, 3)
    assert len(report["rescheduled"]) == 3 and report["conflicts"] == []
    assert "3 reviews added from Anki (3 already here), 3 cards rescheduled." in report["text"]

    cards = {c["front"]: c for c in api_client.get(f"{base}/cards", headers=auth).json()}
    for front, card in in_anki.items():
        here = cards[front]
        assert here["state"] == card.type  # FSRS's learning/review/relearning, Anki's 1/2/3
        assert here["stability"] == pytest.approx(card.memory_state.stability, rel=2e-3)
        assert here["difficulty"] == pytest.approx(card.memory_state.difficulty, rel=2e-3)
        due = dt.datetime.fromisoformat(here["due"])
        if card.type == 2:  # a day; each side fuzzes by up to a day and 15% of the interval
            assert abs((due.date() - dues[front].date()).days) <= 3 + 0.3 * here["stability"]
        else:  # a learning step; Anki adds up to a quarter of it
            assert dt.timedelta(0) <= dues[front] - due <= dt.timedelta(minutes=5)
    # the day counted as Anki counts it: 3 days since the card was learned, not 2
    assert cards["What does LoRA train?"]["stability"] > 13

    history = api_client.get(f"{base}/cards", headers=auth).json()
    for again in (back_from_anki, whole):  # the same answers, twice: nothing changes
        report = import_here(api_client, base, auth, again)
        assert (report["reviews_added"], report["reviews_known"], report["rescheduled"]) == (
            0,
            6,
            [],
        )
        assert api_client.get(f"{base}/cards", headers=auth).json() == history
    assert len(deck.history(learner_id(base))) == 6


def test_words_edited_in_anki_come_back_and_edits_on_both_sides_are_named(
    api_client, database_url, tmp_path: Path
) -> None:
    base, auth = new_learner(api_client, current_week=18)
    ids = {
        front: api_client.post(
            f"{base}/cards", headers=auth, json={"front": front, "back": "b"}
        ).json()["id"]
        for front in ("edited in Anki", "edited on both sides", "edited here", "as it was")
    }
    quiz = quiz_card(database_url, learner_id(base))
    package = export_here(api_client, base, auth, tmp_path / "cards.apkg")
    for front in ("edited on both sides", "edited here"):
        api_client.patch(
            f"{base}/cards/{ids[front]}", headers=auth, json={"back": "changed here"}
        ).raise_for_status()

    with learners_anki(tmp_path / "anki") as collection:
        notes = open_in_anki(collection, package)
        for front, fields in (
            ("edited in Anki", {"Front": "edited in <b>Anki</b>", "Back": "b<br>line two"}),
            ("edited on both sides", {"Back": "changed in Anki"}),
            ("Which is a rotation?\nA. RoPE\nB. ALiBi".replace("\n", "<br>"), {"Back": "ALiBi"}),
        ):
            note = collection.get_note(notes[front])
            for name, value in fields.items():
                note[name] = value
            collection.update_note(note)
        from_anki = export_from_anki(collection, tmp_path / "from-anki.apkg")

    report = import_here(api_client, base, auth, from_anki)
    assert report["edited"] == [{"id": ids["edited in Anki"], "front": "edited in Anki"}]
    conflicts = {c["id"]: c for c in report["conflicts"]}
    assert set(conflicts) == {ids["edited on both sides"], quiz}
    both = conflicts[ids["edited on both sides"]]
    assert both["why"] == "edited on both sides since the export"
    assert both["here"]["back"] == "changed here" and both["anki"]["back"] == "changed in Anki"
    assert "come from your notes" in conflicts[quiz]["why"]
    cards = {c["id"]: c for c in api_client.get(f"{base}/cards", headers=auth).json()}
    assert (cards[ids["edited in Anki"]]["front"], cards[ids["edited in Anki"]]["back"]) == (
        "edited in Anki",
        "b\nline two",
    )
    assert cards[ids["edited on both sides"]]["back"] == "changed here"  # kept, and named
    assert cards[ids["edited here"]]["back"] == "changed here"
    assert cards[quiz]["back"] == "RoPE"
    again = import_here(api_client, base, auth, from_anki)  # Anki's words, already taken
    assert again["edited"] == [] and len(again["conflicts"]) == 2


def quiz_card(database_url: str, learner: int) -> str:
    """A quiz question in the learner's deck, as answering a quiz leaves it."""
    from fsrs import Card

    from app.practice.quiz import Question

    question = Question(
        "q-rope",
        "mcq",
        "Which is a rotation?",
        ["RoPE", "ALiBi"],
        "RoPE",
        "",
        "easy",
        {"source": "notes/w18.md", "snippet": "RoPE rotates.", "week": 18},
        "test",
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with LearnerRecords(database_url).sessions.begin() as session:
        session.add(
            ReviewCard(
                learner_id=learner,
                question_id=question.id,
                question=question.to_dict(),
                card=Card(due=now).to_dict(),
                due=now,
                suspended=False,
            )
        )
    return question.id


def test_fields_are_read_by_name_and_only_the_tutors_card_of_a_note_counts(
    api_client, tmp_path: Path
) -> None:
    """In Anki the learner reorders the note type's fields, adds a reverse template and
    answers it, and resets ("forgets") a card: no words swap, the reverse card's answers
    stay out, and each is said."""
    base, auth = new_learner(api_client)
    for front in ("kept", "forgotten"):
        api_client.post(f"{base}/cards", headers=auth, json={"front": front, "back": "b"})
    package = export_here(api_client, base, auth, tmp_path / "cards.apkg")
    with learners_anki(tmp_path / "anki") as collection:
        notes = open_in_anki(collection, package)
        models = collection.models
        notetype = models.by_name("Study Tutor card")
        models.reposition_field(notetype, notetype["flds"][1], 0)  # Back first
        reverse = models.new_template("Card 2")
        reverse["qfmt"], reverse["afmt"] = "{{Back}}", "{{Front}}"
        models.add_template(notetype, reverse)
        models.update_dict(notetype)
        review_in_anki(collection, notes["kept"], 4)
        (second,) = [c for c in collection.get_note(notes["kept"]).cards() if c.ord == 1]
        second.start_timer()
        collection.sched.answerCard(second, 1)
        forgotten = review_in_anki(collection, notes["forgotten"], 3)
        collection.sched.schedule_cards_as_new([forgotten.id], restore_position=False)
        from_anki = export_from_anki(collection, tmp_path / "from-anki.apkg")
    report = import_here(api_client, base, auth, from_anki)
    assert (report["edited"], report["conflicts"]) == ([], [])
    assert (report["reviews_added"], report["other_card_answers"]) == (2, 1)
    assert report["reset_in_anki"] == 1
    assert "1 answer on cards of a template added in Anki left out" in report["text"]
    assert 'Reset ("forget") in Anki: 1 card' in report["text"]
    cards = api_client.get(f"{base}/cards", headers=auth).json()
    kept = next(c for c in cards if c["front"] == "kept")
    assert kept["back"] == "b" and kept["state"] == 2  # easy, not easy then again


def test_two_imports_of_one_file_at_once_add_its_reviews_once(
    api_client, database_url, tmp_path: Path
) -> None:
    """Two requests (two workers) importing the same file together: one waits for the
    other, sees its reviews, and adds none."""
    from concurrent.futures import ThreadPoolExecutor

    from app.practice.anki_package import read_package
    from app.records.anki_import import import_from_anki

    base, auth = new_learner(api_client)
    for front in ("one", "two", "three"):
        api_client.post(f"{base}/cards", headers=auth, json={"front": front, "back": "b"})
    package = export_here(api_client, base, auth, tmp_path / "cards.apkg")
    notes = read_package(reviewed_in_anki(package, tmp_path / "anki", ease=3))
    stores = [LearnerRecords(database_url) for _ in range(2)]  # two workers' connections
    with ThreadPoolExecutor(2) as pool:
        reports = list(
            pool.map(lambda s: import_from_anki(s.sessions, learner_id(base), notes), stores)
        )
    assert sorted(r["reviews_added"] for r in reports) == [0, 3]
    assert len(ReviewRecords(stores[0]).history(learner_id(base))) == 3


def test_notes_the_tutor_did_not_make_are_counted_and_its_deleted_cards_named(
    api_client, tmp_path: Path
) -> None:
    base, auth = new_learner(api_client)
    kept, gone = (
        api_client.post(f"{base}/cards", headers=auth, json={"front": f, "back": "b"}).json()
        for f in ("kept", "deleted here")
    )
    package = export_here(api_client, base, auth, tmp_path / "cards.apkg")
    api_client.delete(f"{base}/cards/{gone['id']}", headers=auth).raise_for_status()
    with learners_anki(tmp_path / "anki") as collection:
        open_in_anki(collection, package)
        basic = collection.new_note(collection.models.by_name("Basic"))
        basic["Front"], basic["Back"] = "made in Anki", "x"
        collection.add_note(basic, collection.decks.id("Default"))
        from_anki = export_from_anki(collection, tmp_path / "from-anki.colpkg")
    report = import_here(api_client, base, auth, from_anki)
    assert (report["notes"], report["matched"], report["not_from_tutor"]) == (3, 1, 1)
    assert report["deleted_here"] == ["deleted here"]
    assert report["reviews_added"] == 0
    assert "The package holds no answers" in report["text"]
    assert [c["id"] for c in api_client.get(f"{base}/cards", headers=auth).json()] == [kept["id"]]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not an Anki package"),
        (b"front,back\nq,a\n", "not an Anki package"),
        (None, "Anki could not read this package"),  # a zip holding no collection
        (b"PK\x03\x04" + b"\0" * 64, "not an Anki package"),  # a zip's start, then nothing
    ],
)
def test_a_file_anki_cannot_read_is_refused_with_a_reason_and_changes_nothing(
    api_client, body: bytes | None, reason: str, tmp_path: Path
) -> None:
    base, auth = new_learner(api_client)
    api_client.post(f"{base}/cards", headers=auth, json={"front": "f", "back": "b"})
    before = api_client.get(f"{base}/cards", headers=auth).json()
    if body is None:
        with zipfile.ZipFile(tmp_path / "x.apkg", "w") as archive:
            archive.writestr("collection.anki21b", b"not zstd, not sqlite")
        body = (tmp_path / "x.apkg").read_bytes()
    response = api_client.post(
        f"{base}/cards/import",
        content=body,
        headers=auth | {"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 422 and reason in response.json()["detail"]
    assert api_client.get(f"{base}/cards", headers=auth).json() == before


def test_a_package_over_the_upload_limit_is_refused_unread(settings, database_url) -> None:
    from app.api import create_app
    from tests.conftest import local_client

    small = settings.model_copy(update={"database_url": database_url, "max_upload_mb": 1})
    with local_client(create_app(small)) as client:
        base, auth = new_learner(client)
        response = client.post(f"{base}/cards/import", content=b"\0" * (2 * 2**20), headers=auth)
        assert response.status_code == 413
        assert "TUTOR_MAX_UPLOAD_MB" in response.json()["detail"]
        # the larger limit is the import's alone: other bodies keep TUTOR_MAX_BODY_KB
        assert client.post(f"{base}/cards", content=b"{" * 300_000, headers=auth).status_code == 413


def test_the_command_line_imports_from_anki(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = json.loads(
        tutor(data, "cards", "add", "Why RoPE?", "Relative positions", "--json").stdout
    )
    exported = tutor(data, "cards", "export", "-o", str(tmp_path / "cards.apkg"))
    assert exported.returncode == 0, exported.stderr
    with learners_anki(tmp_path / "anki") as collection:
        notes = open_in_anki(collection, tmp_path / "cards.apkg")
        review_in_anki(collection, notes["Why RoPE?"], 3)
        from_anki = export_from_anki(collection, tmp_path / "from-anki.apkg")
    shown = tutor(data, "cards", "import", str(from_anki))
    assert shown.returncode == 0, shown.stderr
    assert "1 card found of 1 note; 1 review added from Anki (0 already here)" in shown.stdout
    report = json.loads(tutor(data, "cards", "import", str(from_anki), "--json").stdout)
    assert (report["reviews_added"], report["rescheduled"]) == (0, [])
    card = json.loads(tutor(data, "cards", "list", "--json").stdout)[0]
    assert card["id"] == made["id"] and card["state"] == 1  # learning: Anki's first answer
    refused = tutor(data, "cards", "import", str(tmp_path / "cards.apkg.csv"))
    assert refused.returncode == 2
    (tmp_path / "notes.txt").write_text("not a package")
    refused = tutor(data, "cards", "import", str(tmp_path / "notes.txt"))
    assert refused.returncode == 2 and "not an Anki package" in refused.stderr


# -- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Why divide by sqrt(d_k)?",
        "Softmax of $QK^T/\\sqrt{d_k}$, then\n$$x^2$$",
        "if a < b and c > d:\n    return a & b",
        "money: $5 and $10",
    ],
)
def test_a_field_read_back_from_anki_is_the_text_it_was_written_from(text: str) -> None:
    assert field_text(anki_field(text)) == text


def test_anki_edits_read_as_text() -> None:
    assert field_text("line one<div>line two</div>") == "line one\nline two"
    assert field_text("<b>bold</b>&nbsp;and <i>italic</i>") == "bold and italic"


def test_anki_counts_day_starts_not_whole_days() -> None:
    evening = dt.datetime(2026, 3, 2, 22, 0, tzinfo=dt.UTC)
    assert anki_days(evening, evening + dt.timedelta(hours=7)) == 1  # past 4:00 the next day
    assert anki_days(evening, evening + dt.timedelta(hours=5)) == 0
    assert anki_days(evening, evening + dt.timedelta(days=2, hours=23)) == 3


def test_a_replay_is_the_reviews_made_one_by_one_unless_days_are_counted_otherwise() -> None:
    t0 = dt.datetime(2026, 3, 2, 22, 0, tzinfo=dt.UTC)
    times = [t0, t0 + dt.timedelta(minutes=11), t0 + dt.timedelta(days=2, hours=23)]
    state: dict[str, Any] | None = None
    for moment in times:
        state, _ = schedule(state, "good", moment)
    replayed, _ = replay([(moment, 3, None) for moment in times])
    assert state is not None and replayed["stability"] == state["stability"]
    as_anki, _ = replay([(times[0], 3, None), (times[1], 3, 0), (times[2], 3, 3)])
    assert as_anki["stability"] > replayed["stability"]  # 3 days since, not 2
    with pytest.raises(ValueError, match="at least one review"):
        replay([])


def test_answers_logged_at_no_real_time_are_left_out_and_counted(
    api_client, tmp_path: Path
) -> None:
    """A package written by hand (the export's legacy collection, its revlog edited): answers
    whose ids are no time a clock gave."""
    import sqlite3

    base, auth = new_learner(api_client)
    api_client.post(f"{base}/cards", headers=auth, json={"front": "f", "back": "b"})
    package = export_here(api_client, base, auth, tmp_path / "cards.apkg")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "unpacked")
    collection = sqlite3.connect(tmp_path / "unpacked" / "collection.anki2")
    with collection:
        (card_id,) = collection.execute("SELECT id FROM cards").fetchone()
        now_ms = int(time.time() * 1000)
        for revlog_id in (now_ms - 60_000, 2**50, 1_000):  # a minute ago, year 37648, 1970
            collection.execute(
                "INSERT INTO revlog VALUES (?, ?, -1, 3, -600, 0, 0, 0, 0)", (revlog_id, card_id)
            )
    collection.close()
    crafted = tmp_path / "crafted.apkg"
    with zipfile.ZipFile(crafted, "w") as archive:
        for member in ("collection.anki2", "media"):
            archive.write(tmp_path / "unpacked" / member, member)
    report = import_here(api_client, base, auth, crafted)
    assert (report["reviews_added"], report["reviews_undated"]) == (1, 2)
    assert "2 answers left out: logged at a time no clock gave" in report["text"]
    # Anki's importer dates the one from the future now: it is still left out the second time
    assert import_here(api_client, base, auth, crafted)["reviews_added"] == 0


def test_a_package_that_unpacks_too_large_is_refused_before_anki_opens_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.practice import anki_package

    monkeypatch.setattr(anki_package, "MAX_UNPACKED", 1_000)
    with zipfile.ZipFile(tmp_path / "bomb.apkg", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki21b", b"\0" * 5_000)
    with pytest.raises(anki_package.PackageError, match="unpacks to .* without media"):
        anki_package.read_package(tmp_path / "bomb.apkg")
