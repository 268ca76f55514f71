"""Fair quizzes (issue #24): a false true/false item is false by construction and still
English, and the wrong options of a question are concepts, never the plan's or the notes'
titles. Checked on every item the generators make for weeks 1-48."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pytest

from app.course.curriculum import load_curriculum
from app.course.notes import Note
from app.course.notes import read_notes
from app.practice.distractors import ConceptSpace
from app.practice.distractors import concept_space
from app.practice.quiz import GENERATORS
from app.practice.quiz import Question
from app.practice.quiz import notes_for_week
from app.text import content_words

NOTES = read_notes()
WEEKS = range(1, 49)
OWN = list({n.path: n for week in WEEKS for n in notes_for_week(NOTES, week)}.values())
ATTENTIONS = {"scaled dot-product attention", "causal self-attention", "multi-head attention"}


@dataclass(frozen=True)
class Swapped:
    """A false true/false item: the concept its definition is about and the one put in its
    place."""

    question: Question
    concept: str
    swap: str

    @property
    def statement(self) -> str:
        return self.question.prompt.removeprefix("True or false? ")


@pytest.fixture(scope="module")
def space(embedder) -> ConceptSpace:
    return concept_space(NOTES, embedder)


@pytest.fixture(scope="module")
def swapped(space) -> list[Swapped]:
    """Every false true/false item on weeks 1-48."""
    found = []
    for note in OWN:
        for question in GENERATORS["truefalse"](note, random.Random(0), space):
            if question.answer == "False":
                concept, swap = re.fullmatch(
                    r"False: that describes (.+), not (.+)\.", question.explanation
                ).groups()
                found.append(Swapped(question, concept, swap))
    assert len(found) >= 10  # enough to judge by
    return found


def test_multi_head_attention_and_the_attention_it_runs_are_never_swapped(space, swapped):
    # "Multi-head attention runs h scaled dot-product attentions": the definition of either
    # said of the other stays true, so neither stands in for the other.
    for concept in ATTENTIONS:
        note = next(n for n in NOTES if concept in n.definitions)
        swap = space.swap(concept, note.meta.week, note.definitions[concept])
        assert swap not in ATTENTIONS - {concept}
    assert not any({s.concept, s.swap} <= ATTENTIONS for s in swapped)
    assert not any(s.statement.startswith("Multi-head attention computes") for s in swapped)


def test_a_sentence_whose_subject_is_a_list_is_never_swapped(space, swapped):
    # "Language modeling and backpropagation together form ..." becomes no "Word-level
    # language model together form ...": it stays true, as the notes word it.
    listed = re.compile(r",| and | or | vs | versus ")
    assert not [s for s in swapped if listed.search(s.concept) or listed.search(s.swap)]
    assert not [s for s in swapped if " together " in s.statement]
    w20 = next(n for n in NOTES if n.meta.week == 20)
    concept = "language modeling and backpropagation"
    assert space.swap(concept, 20, w20.definitions[concept]) is None


def test_a_false_statement_is_its_cited_definition_with_only_the_subject_changed(space, swapped):
    # The rest of the sentence is the note's own (week 15's definition of transfer learning,
    # not week 8's), an alias that would name the true concept ("Vanilla RNN recurrence (BPTT)
    # is") is gone, the verb left as it was agrees with the new subject, and the article is
    # one the new subject takes: no "A masked language modeling converts", no "A Hugging Face
    # Hub is" (the notes say "The Hugging Face Hub").
    for s in swapped:
        definition = s.question.citation["snippet"]
        opening = re.match(
            rf"(?:(?:an?|the) )?{re.escape(s.concept)}(?: \([^)]*\))? ", definition, re.I
        )
        assert opening, definition
        rest = definition[opening.end() :]
        assert re.fullmatch(
            rf"(?:(?:An?|The) )?{re.escape(s.swap)} {re.escape(rest)}", s.statement, re.I
        )
        assert not s.statement[0].islower()  # "[CLS] embeddings are"
        assert s.concept.endswith("s") == s.swap.endswith("s")
        article = re.match(r"(An?|The) ", s.statement)
        own = re.match(r"(An?|The) ", space.concept(s.swap).definition)
        if article is None or article[1] != "The":
            assert (article and article[1]) == (own and own[1]), s.statement


def test_the_swap_and_the_true_concept_never_hold_one_another(space, swapped):
    # Neither name holds the other's words (a thing and its kind: "gradient descent" and
    # "stochastic gradient descent", "BERT" and "DistilBERT"), and neither definition names
    # the other ("Multi-head attention runs h scaled dot-product attentions").
    for s in swapped:
        mine, theirs = content_words(s.concept), content_words(s.swap)
        assert not (mine <= theirs or theirs <= mine), (s.concept, s.swap)
        assert not any(word in other for word in mine for other in theirs - mine if len(word) >= 4)
        assert not any(
            word in other for word in theirs for other in mine - theirs if len(word) >= 4
        )
        assert s.swap.lower() not in s.question.citation["snippet"].lower()
        assert s.concept.lower() not in space.concept(s.swap).definition.lower()


def test_no_distractor_or_swap_is_a_title_of_the_plan_or_of_a_note(space, swapped):
    # "sequence models and attention" is month 5's title (and a review topic of week 20), not a
    # concept a learner could mistake an answer for.
    titles = _titles(NOTES)
    options = [
        option
        for note in OWN
        for question in GENERATORS["mcq"](note, random.Random(0), space)
        for option in question.options
        if option != question.answer
    ]
    assert len(options) > 300
    assert not {_key(o) for o in options} & titles
    assert not {_key(s.swap) for s in swapped} & titles
    review_topics = {c.name for c in space.concepts if re.search(r"\bweeks? \d", c.definition)}
    assert "sequence models and attention" in review_topics
    assert not review_topics & set(options)


def test_batchnorm_backward_pass_is_a_concept_and_stays_an_option(space):
    # Week 14 defines it like its siblings "cross-entropy backward pass" and "linear layer
    # backward pass"; no week, month or note is called so: it is a wrong option for them.
    assert "batchnorm backward pass" not in _titles(NOTES)
    assert "batchnorm backward pass" in {
        name for _, name in space.candidates("cross-entropy backward pass", 14, "")
    }


def _titles(notes: list[Note]) -> set[str]:
    """The titles of the plan's phases, quarters, months and weeks, and of the notes."""
    plan = load_curriculum()
    return {
        _key(title)
        for title in [
            *(p.title for p in plan.phases),
            *(q.title for q in plan.quarters),
            *(m.title for m in plan.months),
            *(w.title for w in plan.weeks()),
            *(n.meta.title for n in notes),
        ]
    }


def _key(title: str) -> str:
    """Words in lower case, "&" read as "and", a bracketed remark ("(Optional)") left out."""
    return " ".join(
        re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)", "", title.lower().replace("&", "and")))
    )
