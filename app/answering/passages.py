"""Source passages as a reader sees them: the sentences that can stand alone in an answer.

A passage is markdown written for a page, not for quoting: it has headings, labels such as
"**Definition.**", code, display formulas, the source's own reference numbers ("[2]"), a
bibliography, sentences that lean on the one before ("This refers to…") and sentences that
only announce ("this week explains why…"). `quotable_units` turns one passage into units an
answer can quote word for word: one sentence, or a sentence with the sentence it leans on,
each with the role its label or wording gives it (what it is, why/how, a formula, an
example). Pure functions: the composer (`app.answering.compose`) ranks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.answering.citations import without_source_references
from app.text import MATH_OR_CODE
from app.text import outside
from app.text import split_sentences

Role = Literal["definition", "explanation", "formula", "example", "pitfall", "other"]
ROLE_ORDER: dict[str, int] = {
    "definition": 0,
    "explanation": 1,
    "formula": 2,
    "example": 3,
    "pitfall": 4,
    "other": 5,
}

_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})")
_LABEL = re.compile(r"^\*\*([^*\n]{1,80}?)\.?\*\*\s*:?\s*")
_HEADING = re.compile(r"^#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# A bibliography entry opens its line: "[3] A follow-up…", "Smith, J. …", "He et al. Title".
_BIBLIOGRAPHY_ENTRY = re.compile(r"^\s*(\[\d+\]\s|[A-Z][\w'-]+,\s+[A-Z]\.|[A-Z][\w'-]+ et al\.)")
# ...and these mark a reference inside a sentence.
_REFERENCE_WORDS = re.compile(r"\barxiv\b|\bdoi:|\bin proceedings\b", re.I)
# Words that make a sentence lean on the one before it.
_LEANS = re.compile(
    r"^(this|that|these|those|it|its|they|their|them|then|such|here|so|thus|"
    r"hence|therefore|however|but|and|also|both|similarly|instead|otherwise|"
    r"as a result|in this case|in that case|in this situation|in other words|"
    r"for this reason|likewise|moreover|furthermore|in practice|again|in fact|"
    r"indeed|nonetheless|nevertheless|fortunately|unfortunately|crucially|"
    r"to see this|second|third|next|finally|he|she|his|her|the former|"
    r"the latter|accordingly|consequently|conversely|meanwhile|still|yet|"
    r"the answer is|as (mentioned|shown|discussed|noted)|one takeaway|"
    r"in the (previous|last) (section|example|step))(?![\w-])",
    re.I,
)
# Sentences that announce or navigate rather than say something.
_ANNOUNCES = re.compile(
    r"^(in this (section|chapter|notebook|lesson|tutorial|week|post|part)|in the (current|next|"
    r"previous|following) (section|chapter)|we('ll| will| now| shall)|let's|let us|below,? |"
    r"the following|next,|recall that|as we (saw|will see|will introduce|discussed)|"
    r"see (also|below|above)|this week you|you will|you start|you begin|timed practice|"
    r"next capstone|(quarter|month|week|module) \d+ (opens|starts|begins|closes|ends|covers|"
    r"introduces|explains|shows))\b"
    r"|\bas follows[.:]?$|\b(explained|described|shown|discussed) (below|later)\b"
    r"|\b(this|next|last) week (explains|shows|covers|introduces|builds|you)\b"
    r"|\b(explains|shows|covers|we will see) (why|how|what)\b[^.]*…?$",
    re.I,
)
_EXAMPLE = re.compile(
    r"\b(for example|for instance|e\.g\.|example|suppose|consider|say we)\b", re.I
)
_DEFINITION = re.compile(
    r"^[^,;:]{1,80}?\b(is|are|means|refers to|is called|is defined as|"
    r"denotes|computes|measures)\b",
    re.I,
)
_EXPLANATION = re.compile(
    r"\b(because|so that|which is why|so |therefore|why|reason|since|"
    r"helps|prevents|allows|lets|causes|leads to|in order to)\b",
    re.I,
)
_LABEL_ROLES: list[tuple[re.Pattern[str], Role]] = [
    (re.compile(r"pitfall|mistake|gotcha|common error|caveat|watch out", re.I), "pitfall"),
    (re.compile(r"defin|what it is|in short|summary|idea", re.I), "definition"),
    (re.compile(r"formula|equation|update rule", re.I), "formula"),
    (re.compile(r"example|worked|demo|in code", re.I), "example"),
    (re.compile(r"intuition|why|how|mechanism|explanation|insight|key point", re.I), "explanation"),
]
# Words that warn: under a "Pitfalls." label, a sentence after the first is a pitfall with them.
_WARNS = re.compile(
    r"\b(not|never|don't|do not|avoid|instead|rather than|mistake|wrong|forget|forgetting|"
    r"careful|beware|fails?|breaks?|silently|only if|must|bugs?|errors?|pitfall|trap)\b|n't\b",
    re.I,
)
_SKIP_LABELS = re.compile(
    r"^(q|a|question|answer|quiz|exercise|exercises|check yourself|"
    r"connections|resources|further reading|references)$",
    re.I,
)
# Sections that ask or point elsewhere rather than explain.
_SKIP_SECTIONS = re.compile(
    r"^#{1,6}\s*(check yourself|exercises?|quiz|questions|self-check|"
    r"discussion|further reading|resources|references|bibliography|"
    r"works cited|citations|sources)\b",
    re.I,
)
# Markup of the page, not the prose: MDX/JSX components (a quiz's `<Question choices={[…]}>`
# holds wrong options as plain strings), d2l's cross-reference roles and cs231n's escaped
# math delimiters. A unit that holds a reference it can't resolve is left out; links and
# emphasis keep their words.
_COMPONENT = re.compile(r"^<([A-Z]\w*)")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
_UNRESOLVED = re.compile(r":(numref|eqref|ref):`|\\{1,2}[(\[]|\{\{|\}\}")
_CITE_ROLE = re.compile(r"\s*:(cite|citet|citep|label):`[^`]*`")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)")
# Inline HTML in a Markdown note (cs231n's and d2l's mix it in) is markup, not prose: a tag of
# an HTML element goes, its words stay; script and style go with their content. Only names of
# HTML elements count, so `x<y and y>z` in prose is left alone.
_HTML_ELEMENTS = (
    "a|abbr|b|bdi|bdo|big|blockquote|br|caption|center|cite|code|col|colgroup|dd|del|details|"
    "dfn|div|dl|dt|em|figcaption|figure|font|h[1-6]|hr|i|iframe|img|ins|kbd|label|li|mark|"
    "object|ol|p|picture|pre|q|s|samp|small|source|span|strike|strong|sub|summary|sup|table|"
    "tbody|td|tfoot|th|thead|tr|tt|u|ul|var|video|audio|embed|input|button|form|svg|wbr"
)
_HTML_TAG = re.compile(rf"</?(?:{_HTML_ELEMENTS})\b(?:\s[^<>]*)?/?>", re.IGNORECASE)
_HTML_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# Code blocks, and the formulas and inline code `MATH_OR_CODE` protects.
_FENCED = re.compile(rf"^(`{{3,}}|~{{3,}}).*?^\1|{MATH_OR_CODE.pattern}", re.MULTILINE | re.DOTALL)
_REMOVED = "\x02"  # where markup was, until the space before it is settled
_GAP_BEFORE_PUNCTUATION = re.compile(rf"[ \t]*{_REMOVED}+(?=[,.;:!?])")


def without_html(text: str) -> str:
    """`text` without inline HTML tags (their words kept), outside code blocks, code and
    formulas; markup removed before punctuation leaves no space before it ("training ,")."""

    def clean(prose: str) -> str:
        prose = _HTML_TAG.sub(_REMOVED, _HTML_HIDDEN.sub(_REMOVED, prose))
        return _GAP_BEFORE_PUNCTUATION.sub("", prose).replace(_REMOVED, "")

    return outside(_FENCED, clean, text)


_D2L_EMPHASIS = re.compile(r"\[\*\*(.+?)\*\*\]")
# A self-check pair, "**Q:** Why…? **A:** Because…": the answer alone leans on its question
# ("About 0.167 (1/6)."), so the two are quoted together, as the source wrote them.
_QUESTION_LINE = re.compile(r"^(\*\*Q[:.]?\*\*|Q:)\s*:?\s*")
_ANSWER_LINE = re.compile(r"^(\*\*A[:.]?\*\*|A:)\s*:?\s*")
_SYMBOL_FIRST = re.compile(r"\$[^$\s][^$]*\$")  # "$U$ has orthonormal columns, …"
# A sentence that starts mid-thought: lower case, or a year in brackets ("(2003), showed…").
_FRAGMENT = re.compile(r"[a-z]|\(\d")
_STATEMENT_END = re.compile(r"(\.|!|\.\)|\.\"|\.'|\.\*\*)$")
MIN_WORDS = 6  # shorter "sentences" are labels, captions or fragments
MAX_UNIT_SENTENCES = 3


@dataclass(frozen=True)
class Unit:
    """Words an answer can quote as they are: one sentence, or a few that belong together."""

    text: str
    role: Role
    position: int  # order within its passage
    context: str = ""  # its heading and label ("Attention > Why divide by $\\sqrt{d_k}$"): what
    # it is about, for choosing it; never shown
    asks: str = ""  # a self-check pair's question: quoted only for a learner who asks the same
    overview: bool = False  # under a page's title, before its first section: what the page is
    # about ("Week 8 introduces…", d2l's chapter lead-in), rarely what a question asks


def _level(heading_line: str) -> int:
    return len(heading_line) - len(heading_line.lstrip("#"))


def _blocks(passage: str, heading: str = "") -> list[tuple[str, str, int]]:
    """(heading, paragraph, heading level) for each paragraph and list item, with code blocks,
    tables, exercises and a bibliography left out; a display formula stays with the paragraph
    that introduces it, and a self-check's answer with its question (one "**Q:** … **A:** …"
    block, wherever it is). The level is 1 under a page's title, 0 where it is not known."""
    blocks: list[tuple[str, str, int]] = []
    current: list[str] = []
    # A chunk that starts mid-section: its heading path says how deep it is.
    level = heading.count(" > ") + 1 if heading else 0
    heading = heading.rsplit(" > ", 1)[-1]
    fence = ""
    in_math = False
    skipping = bool(_SKIP_SECTIONS.match(f"# {heading}"))  # a section that asks or points away
    asking = False  # inside a question and its answer
    component: int | None = 0  # inside a multi-line MDX tag (`_in_component`)

    def close() -> None:
        if current:
            blocks.append((heading, " ".join(current), level))
            current.clear()

    for line in passage.splitlines():
        stripped = line.strip()
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(2)[0] == fence[0] and len(opened.group(2)) >= len(fence):
                fence = ""
            continue
        if opened:
            close()
            fence = opened.group(2)
            continue
        component = _in_component(stripped, component or 0)
        if component is not None:
            continue
        component = 0
        if in_math:
            current.append(stripped)
            in_math = "$$" not in stripped
            continue
        if stripped.startswith("$$"):
            current.append(stripped)
            in_math = stripped.count("$$") == 1
            continue
        if _HEADING.match(stripped):
            close()
            skipping = bool(_SKIP_SECTIONS.match(stripped))
            heading = _HEADING.sub("", stripped).strip()
            level = _level(stripped)
            continue
        if _QUESTION_LINE.match(stripped):
            close()
            asking = True
        elif asking and not stripped:
            close()
            asking = False
        if asking:
            current.append(stripped)
            continue
        if skipping:
            continue
        if not stripped or stripped.startswith(("|", "<", ">", "![")):
            close()
            continue
        if _LIST_ITEM.match(line):
            close()
            current.append(_LIST_ITEM.sub("", line).strip())
            continue
        current.append(stripped)
    close()
    return blocks


def _in_component(line: str, depth: int) -> int | None:
    """Inside an MDX tag that spans lines (`<Question` … `/>`): 1 + the depth of its `{…}`
    props, 0 on its last line; None outside one. `depth` is the previous line's answer."""
    if not depth and not (_COMPONENT.match(line) and ">" not in line.split(" ", 1)[0]):
        return None
    depth = max(depth, 1) + line.count("{") - line.count("}")
    return 0 if depth == 1 and line.endswith(">") else depth


def _role(sentence: str, label_role: Role | None) -> Role:
    if label_role:
        return label_role
    if _EXAMPLE.search(sentence):
        return "example"
    if _DEFINITION.search(sentence):
        return "definition"
    if _EXPLANATION.search(sentence):
        return "explanation"
    return "other"


def _quotable(sentence: str, min_words: int = MIN_WORDS) -> bool:
    """A statement that ends as a sentence ends: not a question (a self-check asks, it doesn't
    answer), a lead-in, a list line or a fragment."""
    return (
        len(sentence.split()) >= min_words
        and not _ANNOUNCES.search(sentence)
        and not _FRAGMENT.match(sentence)
        # outside formulas: `d_{\text{model}}` closes two braces, not a template's {{ }}
        and not _UNRESOLVED.search(_MATH.sub("", sentence))
        and not _REFERENCE_WORDS.search(sentence)
        and bool(_STATEMENT_END.search(sentence.rstrip()))
        and sentence.count("$") % 2 == 0
    )


def statements(passage: str) -> list[str]:
    """Every sentence of the passage's prose as a reader sees it (`_plain`: labels, reference
    numbers and link markup gone), the same text the quotes are cut from: what a claim about the
    passage is checked against (`app.answering.support`)."""
    found = []
    for _, block, _ in _blocks(passage):
        pair = _question_and_answer(block)
        if pair:
            found += split_sentences(_plain(pair[1]))
            continue
        label = _LABEL.match(block)
        found += split_sentences(_plain(block[label.end() :] if label else block))
    return found


def _question_and_answer(block: str) -> tuple[str, str] | None:
    """A self-check block's question and answer, their labels gone; None for other blocks."""
    if not _QUESTION_LINE.match(block):
        return None
    asked, _, answered = _QUESTION_LINE.sub("", block).partition(" **A")
    answered = _ANSWER_LINE.sub("", f"**A{answered}") if answered else ""
    if not asked.rstrip().endswith("?") or not answered:
        return None
    return asked.strip(), answered.strip()


def _plain(block: str) -> str:
    """A block's prose as a reader sees it: the source's reference numbers and citation roles
    gone, a link or d2l's `[**emphasis**]` reduced to its words, images and HTML tags gone."""
    block = _LINK.sub(
        lambda m: _REMOVED if m.group(0).startswith("!") else m.group(1),
        without_source_references(block.replace(_REMOVED, "")),
    )
    # An image inside a code block was removed before (as now); its mark goes there too.
    return without_html(_CITE_ROLE.sub("", _D2L_EMPHASIS.sub(r"\1", block))).replace(_REMOVED, "")


def quotable_units(passage: str, heading: str = "") -> list[Unit]:
    """The passage's units that stand alone, in the passage's order.

    A sentence that leans on the one before ("This is why…") is quoted together with it (up to
    three sentences); one that leans on nothing quotable is left out, and so are announcements,
    bibliography entries, lead-ins that end in a colon, fragments and broken formulas.
    `heading` is the passage's heading path where it starts mid-section (a chunk's metadata).
    """
    units: list[Unit | None] = []
    pending: tuple[str, str] | None = (
        None  # (section, label) alone in its block: "**Key formula.**"
    )
    for section, block, level in _blocks(passage, heading):
        label = _LABEL.match(block)
        if label and not block[label.end() :].strip():
            pending = (section, block[: label.end()])
            continue
        if pending and pending[0] == section and not label:
            block = f"{pending[1]} {block}"
        pending = None
        if _BIBLIOGRAPHY_ENTRY.match(block):
            continue
        block = _plain(block)
        pair = _question_and_answer(block)
        if pair:
            units.append(_answered(*pair, len(units), section))
            continue
        label_role: Role | None = None
        context = section
        label = _LABEL.match(block)
        if label:
            name = label.group(1).strip()
            if _SKIP_LABELS.match(name):
                continue
            label_role = next(
                (role for pattern, role in _LABEL_ROLES if pattern.search(name)), None
            )
            context = f"{section} > {name}" if section else name
            block = block[label.end() :]
        group: list[str] = []
        first = len(units)  # the block's first unit: a label's own sentence
        for sentence in split_sentences(block):
            if _LEANS.match(sentence) and group and len(group) < MAX_UNIT_SENTENCES:
                group.append(sentence)
                continue
            if group:
                units.append(
                    _unit(group, label_role, len(units), context, len(units) == first, level == 1)
                )
            group = [] if _LEANS.match(sentence) else [sentence]
        if group:
            units.append(
                _unit(group, label_role, len(units), context, len(units) == first, level == 1)
            )
    return [u for u in units if u]


def _answered(question: str, answer: str, position: int, heading: str) -> Unit | None:
    """A self-check quoted whole, "Why…? Because…": its role is what the question asks, and
    one worked on numbers ("Eigenvalues are 6, 3 and 1. What fraction…?") is an example."""
    text = f"{question} {answer}"
    if (
        len(text.split()) < MIN_WORDS
        or not _STATEMENT_END.search(answer.rstrip())
        or text.count("$") % 2
    ):
        return None
    role: Role = (
        "example"
        if re.search(r"\d", question)
        else "explanation"
        if re.match(r"(why|how)\b", question, re.I)
        else _role(question, None)
    )
    context = f"{heading} > {question}" if heading else question
    return Unit(text, role, position, context, asks=question)


def _unit(
    sentences: list[str],
    label_role: Role | None,
    position: int,
    context: str,
    first: bool,
    overview: bool = False,
) -> Unit | None:
    """`first`: the first unit of its block. Under a "Pitfalls." label the first sentence is a
    pitfall; a later one only if it warns (a paragraph of pitfalls can end on a plain fact:
    "After training, BA can be merged into W_0", which is no mistake). A sentence that opens on
    a symbol ("$U$ has orthonormal columns, $S$ is diagonal…") reads a formula's symbols: it
    goes where the formula goes, unless a label says what it is ("**Example.** $p = 0.5$…")."""
    text = " ".join(sentences)
    if "$$" in text:  # a display formula, with the words that introduce it if any
        return Unit(text, "formula", position, context, overview=overview)
    if not _quotable(sentences[0]):
        return None
    if not all(_quotable(s, 1) for s in sentences[1:]):  # "…It answers:" the head still stands
        text = sentences[0]
    if label_role == "pitfall" and not first and not _WARNS.search(text):
        label_role = None
    role: Role = (
        "formula"
        if not label_role and _SYMBOL_FIRST.match(text)
        else _role(sentences[0], label_role)
    )
    return Unit(text, role, position, context, overview=overview)


def readable_text(passage: str) -> str:
    """The passage as plain readable markdown: headings as bold lines, page markup gone."""
    lines = []
    depth: int | None = 0
    for line in _plain(passage).splitlines():
        depth = _in_component(line.strip(), depth or 0)
        if depth is not None:
            continue
        heading = _HEADING.match(line.strip())
        lines.append(f"**{line.strip()[heading.end() :].strip()}**" if heading else line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


WINDOW = " … "  # between the windows of one card


def excerpt_around(passage: str, quoted: list[str], limit: int) -> str:
    """A citation card's excerpt that shows what its marker supports: a window of about
    `limit` characters centred on each quoted sentence (overlapping windows merged, in the
    passage's order, each cut at sentence ends where near), so a learner can check every
    sentence that cites the card. The start of the passage (`readable_excerpt`) when no quote
    is found in it (the model wrote in its own words)."""
    text = readable_text(passage)
    flat, where = _flattened(text)
    flat = flat.lower()
    spans = []
    for quote in (" ".join(q.split()).lower() for q in quoted):
        found = flat.find(quote[:60])  # its start: the rest may differ in markup
        if found >= 0:
            last = min(found + len(quote), len(where)) - 1
            spans.append((where[found], where[last] + 1))
    if not spans:
        return readable_excerpt(passage, limit)
    windows: list[list[int]] = []
    for start, end in sorted(spans):
        pad = max(0, (limit - (end - start)) // 2)
        lo = _sentence_start(text, max(0, start - pad), start)
        hi = _sentence_end(text, end + pad, end)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    parts = [_closed(text[lo:hi].strip()) for lo, hi in windows]
    head = "" if windows[0][0] == 0 else "… "
    tail = "" if windows[-1][1] >= len(text) else " …"
    return head + WINDOW.join(parts) + tail


def _flattened(text: str) -> tuple[str, list[int]]:
    """`text` with every run of white space one space, and where each character came from."""
    flat: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        if char.isspace():
            if flat and flat[-1] == " ":
                continue
            char = " "
        flat.append(char)
        where.append(i)
    return "".join(flat), where


def _sentence_start(text: str, at: int, limit: int) -> int:
    """A sentence start at or after `at` and no later than `limit` (else `at`)."""
    for match in re.finditer(r"(?<=[.!?])\s+|\n\n", text[at:limit]):
        return at + match.end()
    return at if at == 0 else limit if limit - at < 20 else at


def _sentence_end(text: str, at: int, limit: int) -> int:
    """A sentence end at or before `at` and no earlier than `limit` (else `at`)."""
    window = text[limit:at]
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", window)]
    return limit + ends[-1] if ends else min(at, len(text))


def _closed(cut: str) -> str:
    """A window without an unclosed code block or formula (it would show raw)."""
    for opener in ("```", "$$", "$"):
        if cut.count(opener) % 2:
            cut = cut[: cut.rindex(opener)]
    return cut.rstrip()


def readable_excerpt(passage: str, limit: int) -> str:
    """The passage as plain readable markdown for a citation card, about `limit` characters.

    Headings become bold lines (a card is not a page), the source's reference numbers,
    citation roles, images and multi-line MDX tags go, links keep their words, and
    the cut falls at a sentence end when one is near, else at a word boundary, never inside a
    formula or a code block."""
    text = readable_text(passage)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    sentence_end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("? "), cut.rfind("! "))
    cut = cut[: sentence_end + 1] if sentence_end >= limit // 2 else cut.rsplit(None, 1)[0]
    return _closed(cut) + " …"
