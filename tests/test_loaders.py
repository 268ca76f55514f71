"""Every supported format becomes markdown-flavoured text; bad files say what is wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.ingest.loaders import LoadError
from app.ingest.loaders import load
from tests.conftest import minimal_pdf
from tests.conftest import pdf_with_a_blank_page
from tests.conftest import write


def test_markdown_front_matter_becomes_metadata_and_title(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.md", "---\ntitle: Attention\nweek: 18\n---\n# Heading\n\nBody text.\n"
    )
    loaded = load(path)
    assert loaded.title == "Attention" and loaded.meta["week"] == 18
    assert "---" not in loaded.text and "Body text." in loaded.text


def test_markdown_without_title_uses_its_first_heading(tmp_path: Path) -> None:
    assert load(write(tmp_path / "a.md", "# Recurrent nets\n\ntext\n")).title == "Recurrent nets"


def test_the_title_heading_is_outside_code_and_keeps_a_trailing_hash(tmp_path: Path) -> None:
    text = "```python\n# load the data\n```\n\n## Generics in C#\n\ntext\n"
    assert load(write(tmp_path / "a.md", text)).title == "Generics in C#"


def test_a_file_with_no_heading_is_titled_from_its_name(tmp_path: Path) -> None:
    assert load(write(tmp_path / "batch_norm-tips.txt", "plain words\n")).title == "Batch norm tips"


def test_mdx_components_and_imports_are_stripped_but_their_text_kept(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Pipelines\n---\n"
        "import { Tip } from '@components'\n\n"
        '<CourseFloatingBanner chapter={1} classNames="absolute" />\n\n'
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
    html = (
        "<html><head><title>CNN notes</title><script>var x = 1;</script></head><body>"
        "<nav>menu</nav><h2>Pooling</h2><p>Max pooling keeps the largest value.</p></body></html>"
    )
    loaded = load(write(tmp_path / "cnn.html", html))
    assert loaded.title == "CNN notes"
    assert "## Pooling" in loaded.text and "largest value" in loaded.text
    assert "var x" not in loaded.text and "menu" not in loaded.text


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    loaded = load(write(tmp_path / "paper.pdf", minimal_pdf("Attention weights sum to one")))
    assert "Attention weights sum to one" in loaded.text


def test_a_pdf_page_without_a_text_layer_is_a_warning_naming_it(tmp_path: Path) -> None:
    loaded = load(write(tmp_path / "slides.pdf", pdf_with_a_blank_page("Dropout zeroes units")))
    assert "Dropout zeroes units" in loaded.text
    assert loaded.warnings == [
        "page 2 of 2 has no text layer (scanned?) and went in empty: run "
        "OCR on the file (e.g. `ocrmypdf --skip-text in.pdf out.pdf`) and "
        "ingest the result"
    ]


def test_notebook_keeps_markdown_and_code_and_drops_outputs(tmp_path: Path) -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"language_info": {"name": "python"}},
        "cells": [
            {
                "cell_type": "markdown",
                "id": "a",
                "metadata": {},
                "source": "# Softmax\nNormalises.",
            },
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "execution_count": 1,
                "source": "import numpy as np\nnp.exp(1)",
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "metadata": {},
                        "data": {"text/plain": "2.718281828459045"},
                    }
                ],
            },
        ],
    }
    loaded = load(write(tmp_path / "nb.ipynb", json.dumps(notebook)))
    assert "# Softmax" in loaded.text
    assert "```python\nimport numpy as np\nnp.exp(1)\n```" in loaded.text
    assert "2.718" not in loaded.text


def scanned_pdf() -> bytes:
    """A page with no text layer, as a scanner makes (here: blank; a scan holds an image)."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "corrupt or unreadable PDF"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"   \n\n  ", "no text"),
        ("nb.ipynb", b"{not json", "not a valid Jupyter notebook"),
        ("scan.pdf", None, "no text layer"),
    ],
)
def test_bad_files_raise_a_specific_reason(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    content = scanned_pdf() if content is None else content
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


def test_a_leading_block_that_does_not_parse_as_yaml_is_content(tmp_path: Path) -> None:
    loaded = load(write(tmp_path / "a.md", "---\ntitle: [unclosed\n---\ntext\n"))
    assert (
        loaded.meta["title"] == "" and "title: [unclosed" in loaded.text and "text" in loaded.text
    )


def test_a_front_matter_block_that_never_closes_is_content(tmp_path: Path) -> None:
    loaded = load(write(tmp_path / "a.md", "---\ntitle: Open\n\n# Slide\n\nwords\n"))
    assert "title: Open" in loaded.text and loaded.title == "Slide"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32", "utf-32-be"])
def test_byte_order_marks_are_honoured(tmp_path: Path, encoding: str) -> None:
    text = "# Café\n\nSoftmax turns scores into probabilités: naïve but useful.\n"
    bom = {"utf-16-le": b"\xff\xfe", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"")
    loaded = load(write(tmp_path / "a.md", bom + text.encode(encoding)))
    assert loaded.text.strip() == text.strip()
    assert loaded.title == "Café"


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="iso-8859-7">',
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-7">',
    ],
)
def test_html_is_read_in_the_charset_it_declares(tmp_path: Path, declaration: str) -> None:
    html = (
        f"<html><head>{declaration}</head><body><p>Η μάθηση με gradient descent.</p></body></html>"
    )
    loaded = load(write(tmp_path / "greek.html", html.encode("iso-8859-7")))
    assert "Η μάθηση" in loaded.text
    assert loaded.warnings == ["read as iso8859-7 (declared in the file)"]


@pytest.mark.parametrize(
    "text, encoding",
    [
        (
            "Les réseaux de neurones apprennent des représentations; la rétropropagation calcule "
            "le gradient de l'erreur par rapport à chaque poids, couche après couche.",
            "cp1252",
        ),
        (
            "ニューラルネットワークは誤差逆伝播法で学習します。勾配は各層の重みについて計算されます。",
            "shift_jis",
        ),
        (
            "神经网络通过反向传播算法学习。梯度是针对每一层的权重计算的，然后用于更新参数。",
            "gb18030",
        ),
    ],
)
def test_other_encodings_are_detected_and_named(tmp_path: Path, text: str, encoding: str) -> None:
    loaded = load(write(tmp_path / "a.txt", text.encode(encoding)))
    assert loaded.text == text
    assert len(loaded.warnings) == 1 and loaded.warnings[0].startswith("read as ")
    assert "a guess" in loaded.warnings[0] and "save the file as UTF-8" in loaded.warnings[0]


@pytest.mark.parametrize(
    "heading, clean",
    [
        ("# Question answering[[question-answering]]", "Question answering"),
        ("## Fine-tuning <FrameworkSwitchCourse /> {#fine-tune}", "Fine-tuning"),
    ],
)
def test_anchors_and_components_leave_titles_and_headings(
    tmp_path: Path, heading: str, clean: str
) -> None:
    loaded = load(write(tmp_path / "ch.mdx", f"{heading}\n\nBody.\n\n```\n# code[[x]]\n```\n"))
    assert loaded.title == clean and loaded.text.startswith(f"{heading.split()[0]} {clean}\n")
    assert "# code[[x]]" in loaded.text  # code is left exactly as written
