"""The command line's key to its learner through a running API (`app.cli.local_key`): kept
for one database, readable by its user alone, made by one command at a time, and forgotten only
while it is the key the API refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.local_key import KEY_FILE
from app.cli.local_key import LocalKey
from app.cli.local_key import forget_key
from app.cli.local_key import keep_key
from app.cli.local_key import new_key
from app.cli.local_key import read_key
from app.config import Settings
from app.records.learners import LearnerRecords

TOKEN = "t" * 43


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_a_kept_key_is_read_back_and_only_this_users_alone(settings: Settings) -> None:
    keep_key(settings, LocalKey(1, TOKEN))
    path = settings.data_dir / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_key(settings) == LocalKey(1, TOKEN)
    path.chmod(0o640)
    assert read_key(settings) is None  # others could have read it: not trusted


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"database": null, "learner_id": 1, "token": null}',
        json.dumps({"learner_id": 1, "token": TOKEN}),
        "x" * 100_000,
    ],
)
def test_a_key_file_that_is_no_key_is_not_used(settings: Settings, body: str) -> None:
    settings.data_dir.mkdir(mode=0o700)
    path = settings.data_dir / KEY_FILE
    path.write_text(body)
    path.chmod(0o600)
    assert read_key(settings) is None


def test_a_key_is_for_one_database_and_a_token_no_api_made_is_not_sent(
    settings: Settings, tmp_path: Path
) -> None:
    keep_key(settings, LocalKey(1, TOKEN))
    other = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'other.db'}"})
    assert read_key(other) is None
    path = settings.data_dir / KEY_FILE
    kept = json.loads(path.read_text())
    path.write_text(json.dumps(kept | {"token": "Bearer x\nX-Injected: 1" + "a" * 40}))
    assert read_key(settings) is None  # it would go into a header as it is


def test_a_key_is_forgotten_only_while_it_is_the_one_refused(settings: Settings) -> None:
    """Two commands: one's key refused (401) while the other has just kept a new one. The
    refused one must not take the new one with it."""
    refused, kept_since = LocalKey(1, TOKEN), LocalKey(1, "n" * 43)
    keep_key(settings, kept_since)
    forget_key(settings, refused)
    assert read_key(settings) == kept_since
    forget_key(settings, kept_since)
    assert read_key(settings) is None and not (settings.data_dir / KEY_FILE).exists()


def test_a_key_that_cannot_be_kept_leaves_no_copy_of_its_token_behind(settings: Settings) -> None:
    (settings.data_dir / KEY_FILE).mkdir(parents=True)  # a folder where the file goes
    with pytest.raises(OSError):
        keep_key(settings, LocalKey(1, TOKEN))
    assert sorted(p.name for p in settings.data_dir.iterdir()) == [KEY_FILE]


def test_a_new_key_works_and_the_one_before_it_stops(settings: Settings) -> None:
    store = LearnerRecords(settings.resolved_database_url)
    first, second = new_key(store), new_key(store)
    assert first.learner_id == second.learner_id
    assert store.by_token(first.token) is None
    learner = store.by_token(second.token)
    assert learner is not None and learner.local
