"""File -> text: one small function per format, registered by suffix.

Each loader returns markdown-flavoured text (headings as `#`, code in fences) so that one
chunker serves every format. Problems raise `LoadError` with a reason a learner can act on;
the pipeline reports it by file name and moves on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from app.as_read import as_read
from app.ingest.decoding import Decoded
from app.ingest.decoding import DecodeError
from app.ingest.decoding import decode
from app.ingest.front_matter import split_front_matter
from app.ingest.front_matter import validate_front_matter
from app.ingest.markdown import HEADING
from app.ingest.markdown import lines_in_code
from app.ingest.markdown import map_prose_lines

MAX_FILE_BYTES = 20 * 1024 * 1024


class LoadError(ValueError):
    """A file that cannot be ingested, and why."""


@dataclass
class Loaded:
    text: str
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # read, but with something to tell


Loader = Callable[[Path], Loaded]
LOADERS: dict[str, Loader] = {}


def loader(*suffixes: str) -> Callable[[Loader], Loader]:
    def register(fn: Loader) -> Loader:
        for suffix in suffixes:
            LOADERS[suffix] = fn
        return fn

    return register


def supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Loaded:
    """Load one file, checking the things that go wrong before the format loader runs."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}") from exc
    if size > max_bytes:
        raise LoadError(
            f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:g} MB limit per "
            "file (TUTOR_INGEST_MAX_FILE_MB)"
        )
    if size == 0:
        raise LoadError("empty file")
    fn = LOADERS.get(path.suffix.lower())
    if fn is None:
        raise LoadError(
            f"unsupported file type {path.suffix or '(none)'}; supported: "
            + ", ".join(sorted(LOADERS))
        )
    loaded = fn(path)
    loaded.text = as_read(loaded.text)  # the one place every format's text passes through
    if not loaded.text.strip():
        raise LoadError("no text in file")
    loaded.title = (
        clean_heading(as_read(loaded.title))
        or _first_heading(loaded.text)
        or _title_from_name(path)
    )
    return loaded


def read_text(path: Path, markup: bool = False) -> Decoded:
    """A text file's content in whatever common encoding it was saved in (see `decoding`)."""
    try:
        return decode(path.read_bytes(), markup=markup)
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}") from exc
    except DecodeError as exc:
        raise LoadError(str(exc)) from exc


def _notices(decoded: Decoded) -> list[str]:
    return [decoded.notice] if decoded.notice else []


def _first_heading(text: str) -> str:
    """The first level-1 or level-2 heading outside code (a `# comment` in code is not one)."""
    for line, code in lines_in_code(text):
        match = None if code else HEADING.match(line)
        if match and len(match.group(1)) <= 2:
            return clean_heading(match.group(2))
    return ""


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


# -- formats ---------------------------------------------------------------------------------


# Anchors that doc builders put in headings (`Question answering[[question-answering]]` in
# Hugging Face docs, `{#sec-intro}` in pandoc/Quarto) and inline HTML such as `<a id=...></a>`:
# a reader never sees them, so they are not part of a title or a heading path.
_HEADING_NOISE = re.compile(r"\[\[[^\[\]]*\]\]|\{#[^{}]*\}|</?[A-Za-z][^<>]*>")


def clean_heading(text: str) -> str:
    return " ".join(_HEADING_NOISE.sub("", text).split())


def _clean_heading_line(line: str) -> str:
    match = HEADING.match(line)
    if match is None:
        return line
    cleaned = clean_heading(match.group(2))
    return f"{match.group(1)} {cleaned}" if cleaned else line


def _markdown(
    path: Path,
    prose_line: Callable[[str], str | None] = _clean_heading_line,
    body_filter: Callable[[str], str] = lambda body: body,
) -> Loaded:
    """Markdown and its dialects: front matter (when it really is one), then the body with
    `prose_line` applied outside code fences."""
    decoded = read_text(path)
    raw_meta, body = split_front_matter(decoded.text)
    meta, warnings = validate_front_matter(raw_meta)
    text = map_prose_lines(body_filter(body), prose_line)
    return Loaded(text=text, title=meta["title"], meta=meta, warnings=_notices(decoded) + warnings)


# Multi-framework books (Dive into Deep Learning) repeat each code cell for MXNet, TensorFlow,
# JAX and PyTorch, marked `%%tab <frameworks>`. The plan teaches PyTorch, so the other tabs are
# dropped: they would crowd search results with code the learner never runs.
_FRAMEWORK_TAB = re.compile(
    r"^```\{\.python \.input\}\n%%tab ([^\n]+)\n.*?^```[ \t]*$\n?", re.M | re.S
)


def drop_other_framework_tabs(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        frameworks = {f.strip() for f in match.group(1).split(",")}
        return match.group(0) if frameworks & {"pytorch", "all"} else ""

    return _FRAMEWORK_TAB.sub(keep, text)


@loader(".md", ".markdown")
def load_markdown(path: Path) -> Loaded:
    return _markdown(path, body_filter=drop_other_framework_tabs)


_MDX_IMPORT = re.compile(r"^\s*(import|export)\s.+$")
_JSX_SELF_CLOSING = re.compile(r"<[A-Z][\w.]*\b[^<>]*/>")
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*\b[^<>]*>")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)


def _mdx_line(line: str) -> str | None:
    if _MDX_IMPORT.match(line):
        return None
    return _clean_heading_line(_JSX_TAG.sub("", _JSX_SELF_CLOSING.sub("", line)))


@loader(".mdx")
def load_mdx(path: Path) -> Loaded:
    """Markdown with JSX: drop imports/exports and component tags, keep the prose inside."""
    return _markdown(
        path, prose_line=_mdx_line, body_filter=lambda body: _MDX_COMMENT.sub("", body)
    )


@loader(".txt")
def load_text(path: Path) -> Loaded:
    decoded = read_text(path)
    return Loaded(text=decoded.text, warnings=_notices(decoded))


# What a browser does not render is not content: a page can hide text from its readers and
# still show it to a model (case 08: hidden "instructions" asking students for passwords).
_NOT_RENDERED = ["script", "style", "template", "noscript", "nav", "header", "footer"]
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _hidden(tag: Any) -> bool:
    return (
        tag.has_attr("hidden")
        or str(tag.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))
    )


@loader(".html", ".htm")
def load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup
    from bs4 import Comment
    from markdownify import markdownify

    decoded = read_text(path, markup=True)
    soup = BeautifulSoup(decoded.text, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in [*soup(_NOT_RENDERED), *soup.find_all(_hidden)]:
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    body = soup.body or soup
    return Loaded(
        text=markdownify(str(body), heading_style="ATX"), title=title, warnings=_notices(decoded)
    )


@loader(".pdf")
def load_pdf(path: Path) -> Loaded:
    """Text layer of every page. An encrypted PDF with an empty user password (most "protected"
    handouts) opens as in any viewer; one that needs a password, or has no text layer, is a
    skip that says so."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError
    from pypdf.errors import FileNotDecryptedError
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except FileNotDecryptedError as exc:
        raise LoadError(
            "the PDF needs a password to open: save a copy without one and ingest that"
        ) from exc
    except DependencyError as exc:
        raise LoadError(f"cannot decrypt this PDF: {exc} (pip install cryptography)") from exc
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from exc
    blank = [n for n, page in enumerate(pages, 1) if not page.strip()]
    if pages and len(blank) == len(pages):
        raise LoadError(
            f"no text layer in its {len(pages)} page(s) (a scanned PDF?): run OCR "
            "on it first (e.g. `ocrmypdf in.pdf out.pdf`) and ingest the result"
        )
    warnings = (
        [
            f"{_pages(blank)} of {len(pages)} {'has' if len(blank) == 1 else 'have'} no "
            "text layer (scanned?) and went in empty: run OCR on the file (e.g. `ocrmypdf "
            "--skip-text in.pdf out.pdf`) and ingest the result"
        ]
        if blank
        else []
    )
    return Loaded(
        text="\n\n".join(p.strip() for p in pages if p.strip()), title=str(title), warnings=warnings
    )


def _pages(numbers: list[int], shown: int = 10) -> str:
    """`page 3`, `pages 2, 5`, or the first `shown` of many and how many more."""
    listed = ", ".join(map(str, numbers[:shown]))
    more = f" and {len(numbers) - shown} more" if len(numbers) > shown else ""
    return f"page {listed}" if len(numbers) == 1 else f"pages {listed}{more}"


def _cell_text(cell: dict[str, Any]) -> str:
    """A cell's source; off-schema cells (no `source`, a list of lines) are read leniently."""
    source = cell.get("source") or ""
    return "".join(source) if isinstance(source, list) else str(source)


@loader(".ipynb")
def load_notebook(path: Path) -> Loaded:
    """Markdown cells as they are, code cells as fenced code; outputs are dropped. Old
    (nbformat 3) notebooks are upgraded; cells off the schema are read as far as they go."""
    import json
    import warnings

    import nbformat

    decoded = read_text(path)
    try:
        # Plain JSON, not nbformat's reader: its schema check rejects a whole notebook for one
        # odd cell. Only old formats (nbformat 3: worksheets, `input`) go through its upgrade.
        notebook = json.loads(decoded.text)
        if not isinstance(notebook, dict) or not isinstance(notebook.get("nbformat", 4), int):
            raise ValueError("not a notebook object")
        if notebook.get("nbformat", 4) < 4:
            with warnings.catch_warnings():  # it warns about the schema; we read what we can
                warnings.simplefilter("ignore")
                notebook = nbformat.reads(decoded.text, as_version=4)
    except Exception as exc:  # JSON errors, and the upgrade's errors of several types
        raise LoadError(f"not a valid Jupyter notebook: {exc}") from exc
    language = (notebook.get("metadata") or {}).get("language_info", {}).get("name", "python")
    parts = []
    for cell in notebook.get("cells") or []:
        text = _cell_text(cell)
        if cell.get("cell_type") == "markdown" and text.strip():
            parts.append(text)
        elif cell.get("cell_type") == "code" and text.strip():
            parts.append(f"```{language}\n{text}\n```")
    return Loaded(text="\n\n".join(parts), warnings=_notices(decoded))
