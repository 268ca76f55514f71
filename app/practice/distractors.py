"""Plausible wrong answers: the notes' concepts as vectors, and the ones close to an answer.

A distractor is plausible when it is of the same kind as the answer and a learner could
mistake one for the other: a concept from a nearby week whose name-and-definition embedding
lies in a similarity band to the answer's, close enough to be confusable (cosine >= 0.30) yet
not a near-synonym (cosine < 0.80, "vanishing gradients" for "vanishing and exploding
gradients"). Only concepts are options: a name that is a title of the plan (a phase, quarter,
month, week, capstone or note: "sequence models and attention" is month 5's) or a review topic
whose definition places it in the plan ("the week 17-19 progression") is never one.

A true/false swap asks more: the swapped statement must be false by construction, not
merely unusual, and still read as English. So the swap is of the same kind (definitions
closer, cosine >= 0.50, names related too, cosine >= 0.30) and not related to the answer
(`related`): it is no synonym, part, instance or superset of it, as far as the names and the
notes tell. Neither name holds the other's words ("gradient descent" in "stochastic gradient
descent", "BERT" in "DistilBERT") nor has the other's head word as a modifier ("PyTorch
autograd", "custom torch.autograd.Function"); neither definition or intuition names the other
("Multi-head attention runs h scaled dot-product attentions": each head computes what scaled
dot-product attention does, so that definition is true of multi-head attention too; "This
neural n-gram model" says the word-level language model is an n-gram one); neither is defined
as a kind of the other ("The ResNet architecture is a deep convolutional network"); and the
swap's own definition does not make the statement's claim (`entailed`: "PyTorch autograd is
reverse-mode automatic differentiation"). Only definitions that open with their concept as
subject ("[a|the] name [(alias)] verb ...") are swapped, only that subject is, and only for a
concept that fits it: the same number and an article of the same kind ("A masked language
modeling converts" and "Word-level language model together form" are not English). Lists and
comparisons ("latency and throughput", "image vs container") are never swapped either way: a
list is not one thing, and holds each of its members.

The vectors come from the packaged sentence encoder (the one retrieval uses), computed once a
process per set of notes and kept.
"""

from __future__ import annotations

import functools
import random
import re
import threading
from dataclasses import dataclass
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import Stemmer

from app.text import STOPWORDS
from app.text import content_words
from app.text import normalized

if TYPE_CHECKING:
    from app.course.notes import Note
    from app.search.vectors import Embedder

BAND = (0.30, 0.80)  # cosine of name-and-definition embeddings: confusable, not synonymous
SWAP_MIN = 0.50  # a true/false swap: the same kind of thing...
SWAP_NAME_MIN = 0.30  # ...its name related to the answer's
# ...and the swapped statement not true of the swap: its own definition holds less than this
# share of the statement's first clause (its claim) and less than this share of all of it
CLAIM_ENTAILED = 0.75
CLAIM_MIN_WORDS = 3  # a shorter claim ("centers the data") is too little to tell by
STATEMENT_ENTAILED = 0.55
NEARBY_WEEKS = 12  # distractors come from this many weeks either side of the answer's
SHORTLIST = 2  # draw k distractors from the 2k most similar in the band

_STEMMER = Stemmer.Stemmer("english")  # Snowball: "attentions" meets "attention"
_PREPOSITIONS = frozenset({"via", "for", "with", "through", "of", "on", "in", "from", "by"})
_LIST = re.compile(r",|\b(?:and|or|vs|versus)\b", re.I)  # "X and Y", "X vs Y": no one thing
_IN_PLAN = re.compile(r"\bweeks? \d+", re.I)  # "the week 17-19 progression": a review topic
# The end of a definition's first clause, its main claim ("is a deep convolutional network").
_CLAUSE_END = re.compile(r"[:;,(]|\b(?:that|which|where|whose|so|because|while|when)\b", re.I)
_INTUITION = re.compile(r"^\*\*Intuition\.\*\*\s*(.+?)(?:\n\s*\n|\Z)", re.M | re.S)
_SINGULAR_VERBS = frozenset({"is", "was", "has", "does"})
_PLURAL_VERBS = frozenset({"are", "were", "have", "do"})


@dataclass(frozen=True)
class Subject:
    """How a definition that opens with its concept names it: "[article] name [(alias)] verb
    ...". `article` is "", "a", "an" or "the", as written; `plural` whether the verb is;
    `rest` the definition from the verb on."""

    article: str
    plural: bool
    rest: str

    @property
    def kind(self) -> str:
        """The article's kind: "", "a" (for "a" and "an") or "the"."""
        return "a" if self.article == "an" else self.article

    def takes(self, other: Subject) -> bool:
        """Whether the concept `other` opens can stand as this sentence's subject: the same
        number, and an article of the same kind ("the" also takes a concept that opens with
        "a": "the tokenizer" reads as well as "a tokenizer"; "a Hugging Face Hub" does not)."""
        kinds = (self.kind, other.kind)
        return self.plural == other.plural and (kinds[0] == kinds[1] or kinds == ("the", "a"))

    @property
    def claim(self) -> str:
        """The first clause from the verb on: what the definition says the concept is or does."""
        return _CLAUSE_END.split(self.rest, maxsplit=1)[0]


@dataclass(frozen=True)
class Concept:
    """A concept of the notes: its name as the front matter spells it, the week of its first
    note, and what that note says of it."""

    name: str
    week: int
    definition: str = ""
    intuition: str = ""  # the note's "Intuition." paragraph on it: what else it says it is
    topic: bool = False  # a title of the plan or a review topic: never an option nor a swap

    @functools.cached_property
    def subject(self) -> Subject | None:
        """The subject its definition opens with; None when it opens otherwise ("The
        cross-entropy loss for classification is", "Text generation with ... is") or names the
        concept again later."""
        opening = re.match(
            rf"(?:(an?|the)\s+)?{re.escape(self.name)}(?:\s*\([^)]*\))?\s+(\w+)",
            self.definition,
            re.I,
        )
        if not opening or len(re.findall(re.escape(self.name), self.definition, re.I)) > 1:
            return None
        plural = _verb_is_plural(opening.group(2).lower(), self.name)
        if plural is None:
            return None
        article = (opening.group(1) or "").lower()
        return Subject(article, plural, self.definition[opening.start(2) :])

    @functools.cached_property
    def aliases(self) -> list[list[str]]:
        """Its name, the alias its definition gives in brackets ("BPTT", "skip connections"),
        and for a name of three words or more its initials ("SVD") and its first and last
        words ("n-gram model" for "n-gram language model"), each as stems."""
        found = [self.name]
        bracketed = re.search(rf"{re.escape(self.name)}\s*\(([^)]*)\)", self.definition, re.I)
        if bracketed:
            found.append(re.split(r"[;,]", bracketed.group(1))[0])
        letters = re.findall(r"[a-z0-9]+", self.name.lower())
        if len(letters) >= 3:
            found.append("".join(w[0] for w in letters))
        words = self.name.split()
        if len(words) >= 3:
            found.append(f"{words[0]} {words[-1]}")
        return [s for s in (_stem_sequence(a) for a in found) if s]

    @property
    def is_list(self) -> bool:
        """Whether its name lists or compares things ("latency and throughput")."""
        return bool(_LIST.search(self.name))


class ConceptSpace:
    """Every concept of the notes with unit vectors of "name: definition" and of its name."""

    def __init__(self, concepts: list[Concept], vectors: np.ndarray, names: np.ndarray) -> None:
        self.concepts = concepts
        self.vectors = vectors  # (len(concepts), dim), unit length
        self.names = names  # the same, of the names alone
        self._row = {c.name.lower(): i for i, c in enumerate(concepts)}

    @classmethod
    def of(cls, notes: list[Note], embedder: Embedder) -> ConceptSpace:
        """The notes' concepts, a name met twice ("transfer learning", weeks 8 and 15) kept
        once, at its first week. The vectors are kept in the encoder cache by content
        (`Embedder.embed_bank`): a cold `tutor quiz` read them instead of spending 5 s."""
        concepts, texts = _concept_texts(notes)
        vectors = embedder.embed_bank(texts + [c.name for c in concepts])
        return cls(concepts, vectors[: len(concepts)], vectors[len(concepts) :])

    def concept(self, name: str) -> Concept | None:
        """The concept called `name` (in any case); None when the notes have none."""
        row = self._row.get(name.lower())
        return None if row is None else self.concepts[row]

    def similarity(self, a: str, b: str) -> float | None:
        """Cosine of two concepts' vectors; None when either is not a concept of the notes."""
        i, j = self._row.get(a.lower()), self._row.get(b.lower())
        return None if i is None or j is None else float(self.vectors[i] @ self.vectors[j])

    def candidates(
        self, answer: str, week: int, prompt: str, band: tuple[float, float] = BAND
    ) -> list[tuple[float, str]]:
        """(cosine, concept) for each plausible wrong answer to a question on `answer`, most
        similar first: a concept, not a title or review topic, of a week within NEARBY_WEEKS,
        in `band`, not named in `prompt` (an option the prompt names is given away), its
        words neither all among the answer's nor holding all of them ("vanishing gradients"
        is no distractor for "vanishing and exploding gradients", "causal self-attention" is
        one for "multi-head attention")."""
        row = self._row.get(answer.lower())
        if row is None:
            return []
        taken, shown = content_words(answer), prompt.lower()
        cosines = self.vectors @ self.vectors[row]
        found = [
            (float(cosines[i]), c.name)
            for i, c in enumerate(self.concepts)
            if i != row
            and not c.topic
            and abs(c.week - week) <= NEARBY_WEEKS
            and band[0] <= cosines[i] < band[1]
            and not _contains(content_words(c.name), taken)
            and c.name.lower() not in shown
        ]
        return sorted(found, reverse=True)

    def distractors(
        self, answer: str, week: int, prompt: str, rng: random.Random, k: int
    ) -> list[str]:
        """`k` plausible wrong answers drawn from the 2k most similar candidates, or none
        when fewer than `k` are plausible (the question is then not asked)."""
        shortlist = [name for _, name in self.candidates(answer, week, prompt)[: SHORTLIST * k]]
        return rng.sample(shortlist, k) if len(shortlist) >= k else []

    def swap(self, answer: str, week: int, definition: str = "") -> str | None:
        """The concept most like `answer` of which `definition` is false (`_unfit`), for a
        false statement (`swapped`); None when there is none. `definition`: the one the
        question quotes (a later note may define the concept again), by default the concept's
        own; a concept it names is no swap."""
        return self._swap(answer, week, definition)[0]

    def refusal(self, answer: str, week: int, definition: str = "") -> str | None:
        """Why `answer`'s `definition` gets no swap (`swap`), for its closest same-kind concept
        when it has some; None when it gets one."""
        return self._swap(answer, week, definition)[1]

    def swapped(self, answer: str, swap: str, definition: str = "") -> str:
        """`answer`'s `definition` (`swap`) with `swap` as its subject, under the article the
        sentence has, spelled as `swap`'s own definition spells it ("An n-gram language
        model", "An LSTM tagger"), and without the answer's bracketed alias (it would name the
        answer: "Vanilla RNN recurrence (BPTT)")."""
        slot, own = self._as_defined(answer, definition).subject, self._concept(swap).subject
        if slot is None or own is None:
            raise ValueError(f"{swap!r} cannot be the subject of the definition of {answer!r}")
        article = own.article if slot.kind == own.kind else slot.article
        statement = f"{article} {self._concept(swap).name} {slot.rest}".lstrip()
        return statement[0].upper() + statement[1:]

    def _concept(self, name: str) -> Concept:
        return self.concepts[self._row[name.lower()]]

    def _as_defined(self, name: str, definition: str) -> Concept:
        """The concept `name`, defined by `definition` when one is given."""
        concept = self._concept(name)
        return replace(concept, definition=definition) if definition else concept

    def _swap(self, answer: str, week: int, definition: str) -> tuple[str | None, str | None]:
        """(the swap, None), or (None, why there is none)."""
        if answer.lower() not in self._row:
            return None, "not a concept of the notes"
        concept = self._as_defined(answer, definition)
        own = _unswappable(concept)
        if own:
            return None, own
        reasons = []
        for _, name in self.candidates(answer, week, definition, (SWAP_MIN, BAND[1])):
            reason = self._unfit(concept, self._concept(name))
            if reason is None:
                return name, None
            reasons.append(reason)
        return None, reasons[0] if reasons else "no concept of the same kind nearby"

    def _unfit(self, answer: Concept, swap: Concept) -> str | None:
        """Why `swap` cannot stand in for `answer` in `answer`'s definition; None when it can."""
        unswappable = _unswappable(swap)
        if unswappable:
            return f"the closest same-kind concept: {unswappable}"
        rows = self._row[answer.name.lower()], self._row[swap.name.lower()]
        if self.names[rows[0]] @ self.names[rows[1]] < SWAP_NAME_MIN:
            return "the closest same-kind concept has an unrelated name"
        if related(answer, swap):
            return "the closest same-kind concept contains, is contained in or names it"
        if not _fits(answer, swap):
            return "the closest same-kind concept does not fit the sentence (number or article)"
        if entailed(answer, swap):
            return "the swapped statement stays true of the closest same-kind concept"
        return None


def related(a: Concept, b: Concept) -> bool:
    """Whether `a` and `b` are one thing, or one a part, an instance or a use of the other, so
    that a statement about one may hold of the other: one name holds the other's words, one
    definition or intuition names the other (`Concept.aliases`: "This neural n-gram model" in
    the intuition of "word-level language model"), or one is defined as a kind of the other
    (its first clause has the other's head noun and a modifier)."""
    return (
        _contains(_name_stems(a.name), _name_stems(b.name))
        or _overlap(a.name, b.name)
        or _names(f"{a.definition} {a.intuition}", b)
        or _names(f"{b.definition} {b.intuition}", a)
        or _kind_of(a, b)
        or _kind_of(b, a)
    )


def entailed(answer: Concept, swap: Concept) -> bool:
    """Whether `answer`'s definition, said of `swap`, stays true: `swap`'s own definition holds
    CLAIM_ENTAILED of the stems of its first clause ("PyTorch autograd is reverse-mode
    automatic differentiation", whoever's definition it came from) or STATEMENT_ENTAILED of all
    of them ("The transformer architecture is the repeated unit of the network: a multi-head
    self-attention sublayer ..."), both names left out; a claim of under CLAIM_MIN_WORDS
    words is judged only as part of the whole."""
    if answer.subject is None:
        return False
    names = {stem for c in (swap, answer) for alias in c.aliases for stem in alias}
    own = set(_stem_sequence(swap.definition))
    claim = set(_stem_sequence(answer.subject.claim)) - names
    whole = set(_stem_sequence(answer.subject.rest)) - names
    claim_made = len(claim) >= CLAIM_MIN_WORDS and _share(claim, own) >= CLAIM_ENTAILED
    return claim_made or _share(whole, own) >= STATEMENT_ENTAILED


def _share(stems: set[str], among: set[str]) -> float:
    """The share of `stems` that are `among` (0 for none)."""
    return len(stems & among) / len(stems) if stems else 0.0


def _fits(answer: Concept, swap: Concept) -> bool:
    """Whether `swap` can be the subject of `answer`'s definition (`Subject.takes`), its name
    reading as singular or plural as the answer's does ("Vanishing gradients is" is the
    notes' English, "Vanishing gradients updates parameters" is not)."""
    return (
        answer.subject is not None
        and swap.subject is not None
        and answer.subject.takes(swap.subject)
        and _plural(answer.name) == _plural(swap.name)
    )


def _unswappable(concept: Concept) -> str | None:
    """Why `concept` can neither be swapped nor be a swap, if it can't."""
    if concept.topic:
        return "a title or review topic, not a concept"
    if concept.is_list:
        return "its name is a list or a comparison"
    if concept.subject is None:
        return "its definition does not open with it as subject"
    return None


def _overlap(a: str, b: str) -> bool:
    """Whether two names say their things overlap: one's head word modifies the other
    ("PyTorch autograd" and "custom torch.autograd.Function", "gradient descent variants" and
    "stochastic gradient descent"), or both have one head told apart along different lines
    ("PCA via SVD" is a way to compute what "PCA for compression" uses; "PCA via SVD" and
    "PCA via the covariance matrix" are two ways, siblings)."""
    (head_a, line_a, rest_a), (head_b, line_b, rest_b) = _head(a), _head(b)
    if head_a == head_b:
        return line_a != line_b
    return head_a in rest_b or head_b in rest_a


def _head(name: str) -> tuple[str, str, set[str]]:
    """A name's head word (stemmed), the preposition that modifies it ("" for none) and its
    other words: the last word before a preposition ("PCA", "via", {"svd"}), else the last
    ("pass", "", {"cross", "entropi", "backward"})."""
    words = name.lower().split()
    at = next((i for i, w in enumerate(words) if w in _PREPOSITIONS and i > 0), len(words))
    before, line = _stem_sequence(" ".join(words[:at])), words[at] if at < len(words) else ""
    stems = _stem_sequence(name)
    head = before[-1] if before else ""
    return head, line, set(stems) - {head}


def _kind_of(a: Concept, b: Concept) -> bool:
    """Whether `a`'s definition says it is a kind of `b`: its first clause holds `b`'s head
    noun (the name's last word) and, when `b` has modifiers, one of them ("is a deep
    convolutional network" for "convolutional neural network")."""
    if a.subject is None:
        return False
    clause, name = set(_stem_sequence(a.subject.claim)), _stem_sequence(b.name)
    return bool(name) and name[-1] in clause and (len(name) == 1 or bool(clause & set(name[:-1])))


def _names(text: str, concept: Concept) -> bool:
    """Whether `text` names `concept` by any of its aliases, as a run of stems."""
    stems = _stem_sequence(text)
    return any(
        stems[i : i + len(alias)] == alias
        for alias in concept.aliases
        for i in range(len(stems) - len(alias) + 1)
    )


def _stem_sequence(text: str) -> list[str]:
    """`text`'s words less stopwords, stemmed, in order ("scaled dot-product attentions" ->
    scale, dot, product, attent)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [_STEMMER.stemWord(w) for w in words if w not in STOPWORDS]


def _name_stems(name: str) -> set[str]:
    return set(_stem_sequence(name))


def _contains(words: set[str], other: set[str]) -> bool:
    """Whether one set of words holds the other, a word holding another as a compound does
    ("distilbert" holds "bert"): two names for the same thing, or for a thing and its kind."""

    def held(word: str, among: set[str]) -> bool:
        return any(word == w or (len(word) >= 4 and word in w) for w in among)

    return all(held(w, other) for w in words) or all(held(w, words) for w in other)


def _verb_is_plural(verb: str, name: str) -> bool | None:
    """Whether the verb after a concept's name is plural ("are", "predict"), singular ("is",
    "computes"), or None when the word is no verb ("for", "with", "together")."""
    if verb in _SINGULAR_VERBS or (verb.endswith("s") and not verb.endswith("ss")):
        return False
    if verb in _PLURAL_VERBS or (verb.isalpha() and verb not in STOPWORDS and _plural(name)):
        return True
    return None


def _plural(name: str) -> bool:
    """Whether a concept's name reads as plural ("LSTM gates", not "Naive Bayes", "loss")."""
    last = name.split()[-1].lower()
    return last.endswith("s") and not last.endswith(("ss", "us", "is", "bayes"))


def plan_titles(notes: list[Note]) -> frozenset[str]:
    """The titles of the plan (its phases, quarters, months, weeks, capstones and extended
    blocks) and of `notes`, as `_title_key`s."""
    return _curriculum_titles() | {_title_key(n.meta.title) for n in notes}


@functools.cache
def _curriculum_titles() -> frozenset[str]:
    """The plan's titles, read once a process."""
    from app.course.curriculum import load_curriculum

    plan = load_curriculum()
    titles = [
        plan.title,
        *(p.title for p in plan.phases),
        *(q.title for q in plan.quarters),
        *(m.title for m in plan.months),
        *(w.title for w in plan.weeks()),
        *(c.title for c in plan.capstones),
        *(b.title for b in plan.extended),
        *(s.title for b in plan.extended for s in b.sections),
    ]
    return frozenset(_title_key(t) for t in titles)


def _title_key(text: str) -> str:
    """A title's words, lower case, brackets and "and" left out: "Multimodal AI (Optional)" and
    "multimodal AI" are one title, "Sequence Models & Attention" and "sequence models and
    attention" too."""
    return " ".join(w for w in normalized(re.sub(r"\([^)]*\)", " ", text)).split() if w != "and")


def _intuitions(note: Note) -> dict[str, str]:
    """The "**Intuition.**" paragraph of each section of `note`, by its heading in lower case."""
    found = {}
    for section in re.split(r"^## ", note.body, flags=re.M)[1:]:
        heading, _, text = section.partition("\n")
        paragraph = _INTUITION.search(text)
        if paragraph:
            found[heading.strip().lower()] = " ".join(paragraph.group(1).split())
    return found


def _concept_texts(notes: list[Note]) -> tuple[list[Concept], list[str]]:
    concepts: list[Concept] = []
    texts: list[str] = []
    seen: set[str] = set()
    titles = plan_titles(notes)
    for note in sorted(notes, key=lambda n: n.meta.week):
        definitions, intuitions = note.definitions, _intuitions(note)
        for name in note.meta.concepts:
            if name.lower() not in seen:
                seen.add(name.lower())
                definition, intuition = definitions.get(name, ""), intuitions.get(name.lower(), "")
                topic = _title_key(name) in titles or bool(_IN_PLAN.search(definition))
                concepts.append(Concept(name, note.meta.week, definition, intuition, topic))
                texts.append(f"{name}: {definition}".rstrip(": "))
    return concepts, texts


_spaces: dict[tuple[str, tuple[str, ...]], ConceptSpace] = {}
_lock = threading.Lock()


def concept_space(notes: list[Note], embedder: Embedder | None = None) -> ConceptSpace:
    """The notes' concept space, made once a process for each encoder and set of notes
    (about 220 concepts, embedded once per model and content, `ConceptSpace.of`). Without an
    `embedder`, the packaged one."""
    embedder = embedder or default_embedder()
    _, texts = _concept_texts(notes)
    key = (str(embedder.model_path), tuple(texts + [n.meta.title for n in notes]))
    with _lock:
        if key not in _spaces:
            _spaces[key] = ConceptSpace.of(notes, embedder)
        return _spaces[key]


@functools.cache
def default_embedder() -> Embedder:
    """The packaged sentence encoder, loaded once a process (it takes seconds)."""
    from app.search.vectors import Embedder

    return Embedder()
