"""Every supported format becomes markdown-flavoured text; bad files say what is wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ingest.loaders import LoadError, load
from tests.conftest import minimal_pdf, write


def test_markdown_front_matter_becomes_metadata_and_title(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "---\ntitle: Attention\nweek: 18\n---\n# Heading\n\nBody text.\n")
    loaded = load(path)
    assert loaded.title == "Attention" and loaded.meta["week"] == 18
    assert "---" not in loaded.text and "Body text." in loaded.text


def test_markdown_without_title_uses_its_first_heading(tmp_path: Path) -> None:
    assert load(write(tmp_path / "a.md", "# Recurrent nets\n\ntext\n")).title == "Recurrent nets"


def test_a_file_with_no_heading_is_titled_from_its_name(tmp_path: Path) -> None:
    assert load(write(tmp_path / "batch_norm-tips.txt", "plain words\n")).title == "Batch norm tips"


def test_mdx_components_and_imports_are_stripped_but_their_text_kept(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Pipelines\n---\n"
        "import { Tip } from '@components'\n\n"
        "<CourseFloatingBanner chapter={1} classNames=\"absolute\" />\n\n"
        "<Tip warning={true}>\nKeep this advice.\n</Tip>\n\n"
        "{/* an editor's comment */}\n"
        "```python\nx = '<NotATag />'\n```\n"
    )
    loaded = load(write(tmp_path / "ch.mdx", text))
    assert "Keep this advice." in loaded.text
    assert "CourseFloatingBanner" not in loaded.text and "<Tip" not in loaded.text
    assert "import {" not in loaded.text and "editor's comment" not in loaded.text
    assert "x = '<NotATag />'" in loaded.text  # code is left exactly as written


def test_code_tabs_for_frameworks_the_plan_does_not_use_are_dropped(tmp_path: Path) -> None:
    text = "".join(
        f"```{{.python .input}}\n%%tab {tab}\nimport_{i} = 1\n```\n\n"
        for i, tab in enumerate(["mxnet", "pytorch", "tensorflow, jax", "all", "mxnet, pytorch"])
    )
    loaded = load(write(tmp_path / "d2l.md", "# Linear layers\n\n" + text))
    kept = [i for i in range(5) if f"import_{i}" in loaded.text]
    assert kept == [1, 3, 4]


def test_html_keeps_headings_as_markdown_and_drops_scripts(tmp_path: Path) -> None:
    html = ("<html><head><title>CNN notes</title><script>var x = 1;</script></head><body>"
            "<nav>menu</nav><h2>Pooling</h2><p>Max pooling keeps the largest value.</p></body></html>")
    loaded = load(write(tmp_path / "cnn.html", html))
    assert loaded.title == "CNN notes"
    assert "## Pooling" in loaded.text and "largest value" in loaded.text
    assert "var x" not in loaded.text and "menu" not in loaded.text


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    loaded = load(write(tmp_path / "paper.pdf", minimal_pdf("Attention weights sum to one")))
    assert "Attention weights sum to one" in loaded.text


def test_notebook_keeps_markdown_and_code_and_drops_outputs(tmp_path: Path) -> None:
    notebook = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Softmax\nNormalises."},
            {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1,
             "source": "import numpy as np\nnp.exp(1)",
             "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                          "data": {"text/plain": "2.718281828459045"}}]},
        ],
    }
    loaded = load(write(tmp_path / "nb.ipynb", json.dumps(notebook)))
    assert "# Softmax" in loaded.text
    assert "```python\nimport numpy as np\nnp.exp(1)\n```" in loaded.text
    assert "2.718" not in loaded.text


@pytest.mark.parametrize("name, content, reason", [
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "corrupt or unreadable PDF"),
    ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
    ("latin1.md", "caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
    ("empty.md", b"", "empty file"),
    ("blank.txt", b"   \n\n  ", "no text"),
    ("nb.ipynb", b"{not json", "not a valid Jupyter notebook"),
    ("bad-front.md", b"---\ntitle: [unclosed\n---\ntext", "malformed front matter"),
])
def test_bad_files_raise_a_specific_reason(tmp_path: Path, name: str, content: bytes,
                                           reason: str) -> None:
    with pytest.raises(LoadError, match=reason):
        load(write(tmp_path / name, content))


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path / "big.md", "word " * 1000)
    with pytest.raises(LoadError, match="over the .* MB limit"):
        load(path, max_bytes=1000)


def test_something_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(LoadError, match="cannot read"):
        load(tmp_path / "folder.md")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_file_without_read_permission_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.md", "text")
    path.chmod(0)
    with pytest.raises(LoadError, match="cannot read"):
        load(path)


def test_unsupported_types_list_what_is_supported(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"unsupported file type \.docx; supported: .*\.md"):
        load(write(tmp_path / "a.docx", "x"))
