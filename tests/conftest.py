"""Shared fixtures: real folders, real files; nothing here fakes the product path."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PUBLIC_NOTES = REPO.parent / "shared" / "public-notes"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir, also exported as TUTOR_DATA_DIR so every command uses it."""
    path = tmp_path / "data"
    monkeypatch.setenv("TUTOR_DATA_DIR", str(path))
    return path


@pytest.fixture
def public_notes() -> Path:
    if not PUBLIC_NOTES.is_dir():
        pytest.skip(f"public notes not found at {PUBLIC_NOTES}")
    return PUBLIC_NOTES
