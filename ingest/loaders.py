"""File -> text: one small function per format, registered by suffix.

Each loader returns markdown-flavoured text (headings as `#`, code in fences) so that one
chunker serves every format. Problems raise `LoadError` with a reason a learner can act on;
the pipeline reports it by file name and moves on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter

MAX_FILE_BYTES = 20 * 1024 * 1024


class LoadError(ValueError):
    """A file that cannot be ingested, and why."""


@dataclass
class Loaded:
    text: str
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


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
        raise LoadError(f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:g} MB limit per "
                        "file (TUTOR_INGEST_MAX_FILE_MB)")
    if size == 0:
        raise LoadError("empty file")
    fn = LOADERS.get(path.suffix.lower())
    if fn is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}; supported: "
                        + ", ".join(sorted(LOADERS)))
    loaded = fn(path)
    if not loaded.text.strip():
        raise LoadError("no text in file")
    loaded.title = loaded.title.strip() or _first_heading(loaded.text) or _title_from_name(path)
    return loaded


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}") from exc
    if b"\x00" in data[:8192]:
        raise LoadError("binary content, not text (wrong file extension?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc


def _first_heading(text: str) -> str:
    match = re.search(r"^#{1,2}\s+(.+?)\s*#*\s*$", text, re.M)
    return match.group(1).strip() if match else ""


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


# -- formats ---------------------------------------------------------------------------------


def _split_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    raw = read_text(path)
    try:
        post = frontmatter.loads(raw)
    except Exception as exc:  # yaml errors of many kinds: the front matter is malformed
        raise LoadError(f"malformed front matter: {exc}") from exc
    return dict(post.metadata), post.content


# Multi-framework books (Dive into Deep Learning) repeat each code cell for MXNet, TensorFlow,
# JAX and PyTorch, marked `%%tab <frameworks>`. The plan teaches PyTorch, so the other tabs are
# dropped: they would crowd search results with code the learner never runs.
_FRAMEWORK_TAB = re.compile(r"^```\{\.python \.input\}\n%%tab ([^\n]+)\n.*?^```[ \t]*$\n?",
                            re.M | re.S)


def drop_other_framework_tabs(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        frameworks = {f.strip() for f in match.group(1).split(",")}
        return match.group(0) if frameworks & {"pytorch", "all"} else ""

    return _FRAMEWORK_TAB.sub(keep, text)


@loader(".md", ".markdown")
def load_markdown(path: Path) -> Loaded:
    meta, body = _split_front_matter(path)
    return Loaded(text=drop_other_framework_tabs(body), title=str(meta.get("title") or ""), meta=meta)


_FENCE = re.compile(r"^(```|~~~)")
_MDX_IMPORT = re.compile(r"^\s*(import|export)\s.+$")
_JSX_SELF_CLOSING = re.compile(r"<[A-Z][\w.]*\b[^<>]*/>")
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*\b[^<>]*>")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)


@loader(".mdx")
def load_mdx(path: Path) -> Loaded:
    """Markdown with JSX: drop imports/exports and component tags, keep the prose inside."""
    meta, body = _split_front_matter(path)
    body = _MDX_COMMENT.sub("", body)
    out, in_fence = [], False
    for line in body.splitlines():
        if _FENCE.match(line.lstrip()):
            in_fence = not in_fence
        elif not in_fence:
            if _MDX_IMPORT.match(line):
                continue
            line = _JSX_TAG.sub("", _JSX_SELF_CLOSING.sub("", line))
        out.append(line)
    return Loaded(text="\n".join(out), title=str(meta.get("title") or ""), meta=meta)


@loader(".txt")
def load_text(path: Path) -> Loaded:
    return Loaded(text=read_text(path))


@loader(".html", ".htm")
def load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    body = soup.body or soup
    return Loaded(text=markdownify(str(body), heading_style="ATX"), title=title)


@loader(".pdf")
def load_pdf(path: Path) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from exc
    return Loaded(text="\n\n".join(p.strip() for p in pages if p.strip()), title=str(title))


@loader(".ipynb")
def load_notebook(path: Path) -> Loaded:
    """Markdown cells as they are, code cells as fenced code; outputs are dropped."""
    import nbformat

    try:
        notebook = nbformat.reads(read_text(path), as_version=4)
    except Exception as exc:  # nbformat raises JSON and validation errors of several types
        raise LoadError(f"not a valid Jupyter notebook: {exc}") from exc
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        elif cell.cell_type == "code" and cell.source.strip():
            language = notebook.metadata.get("language_info", {}).get("name", "python")
            parts.append(f"```{language}\n{cell.source}\n```")
    return Loaded(text="\n\n".join(parts))
