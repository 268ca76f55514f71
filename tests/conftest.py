"""Shared fixtures: real folders, real files; nothing here fakes the product path."""

from __future__ import annotations

import os
import subprocess
import sys
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


@pytest.fixture(scope="session")
def embedder():
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    from app.store import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory, embedder) -> Path:
    """The bundled corpus (curriculum and our notes), ingested once for the whole run.

    Tests must not write to it; they get a fresh data dir for that."""
    from app.config import Settings
    from ingest.pipeline import CORPUS_DIR, Ingestor

    data_dir = tmp_path_factory.mktemp("corpus-index")
    Ingestor(Settings(data_dir=data_dir), embedder=embedder).run([str(CORPUS_DIR)])
    return data_dir


@pytest.fixture
def settings(data_dir: Path):
    from app.config import Settings

    return Settings(data_dir=data_dir)


@pytest.fixture
def ingestor(settings, embedder):
    from ingest.pipeline import Ingestor

    return Ingestor(settings, embedder=embedder)


def tutor(data_dir: Path, *args: str, stdin: str = "",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real `tutor` command on `data_dir`, in a child process; `env` adds variables."""
    return subprocess.run([sys.executable, "-m", "app.cli", *args, "--data-dir", str(data_dir)],
                          input=stdin, capture_output=True, text=True, cwd=REPO, timeout=600,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120) -> None:
    """Poll a local server until `url` answers 2xx (servers take a while to load models)."""
    import time

    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text`, written out by hand (no PDF library needed to make it)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
