"""Fair quizzes (issue #24): a right answer in a learner's own words is accepted, a wrong one
that borrows the answer's words is not, and a miss says what it lacked. Graded with the real
packaged embedder, as the product grades."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.course.notes import read_notes
from app.practice.grading import glossary
from app.practice.grading import grade
from app.practice.grading import key_terms
from app.practice.grading import names_term
from app.practice.grading import spelled_out
from app.practice.quiz import GENERATORS
from app.practice.quiz import Question
from evals.grading import figures
from evals.grading import graded
from evals.grading import load_answers

NOTES = read_notes()
TERMS = glossary(NOTES)


def asked(kind: str, week: int, words: str) -> Question:
    """The notes' own question of `kind` on `week` whose prompt (short) or answer (cloze)
    is or contains `words`."""
    return next(
        q
        for note in NOTES
        if note.meta.week == week
        for q in GENERATORS[kind](note, None, None)
        if (words in q.prompt if kind == "short" else q.answer == words)
    )


def test_the_issue_examples_are_accepted(embedder) -> None:
    cloze = asked("cloze", 5, "computational graph")
    assert grade(cloze, "computation graph").correct
    short = asked("short", 5, "accumulated with")
    response = (
        "bc if a value is used in more than one place the grads from each path need to "
        "add up, = would overwrite"
    )
    assert grade(short, response, embedder.similarity, terms=TERMS).correct


@pytest.mark.parametrize(
    "term, given",
    [
        ("computational graph", "computational graphs"),  # plural
        ("permutation invariance", "permutation invariant"),  # another inflection
        ("generalization gap", "generalisation gap"),  # British spelling
        ("dropout", "drop out"),  # compound written apart
        ("multi-head attention", "multihead attention"),  # ... or together
        ("Lloyd's algorithm", "lloyds algorithm"),
        ("backpropagation", "backprop"),  # learners' shorthand
        ("batch normalization", "batchnorm"),
        ("singular value decomposition", "SVD"),  # the initials
        ("KV cache", "key-value cache"),  # the initials spelled out
        ("Adam", "the Adam optimizer"),  # with words around it
    ],
)
def test_a_cloze_accepts_the_term_in_any_inflection_spelling_or_compounding(term, given) -> None:
    assert names_term(term, given)


@pytest.mark.parametrize(
    "term, given",
    [
        ("batch normalization", "layer normalization"),  # a sibling sharing a word
        ("permutation invariance", "permutation equivariance"),
        ("vanishing and exploding gradients", "exploding gradients"),  # half of it
        ("stochastic gradient descent", "gradient descent"),  # the key word missing
        ("eigendecomposition", "singular value decomposition"),
    ],
)
def test_a_cloze_rejects_another_term_that_shares_words(term, given) -> None:
    assert not names_term(term, given)


def test_short_answers_accept_paraphrases_and_inflections(embedder) -> None:
    overfitting = asked("short", 7, "Training loss falls")
    inflected = "the model is overfitted to the training data"
    assert grade(overfitting, inflected, embedder.similarity).correct
    saturation = asked("short", 18, "divided by $\\sqrt{d_k}$")
    paraphrase = "bc dot products get big as the dimension grows and softmax saturates"
    assert grade(saturation, paraphrase, embedder.similarity).correct


def test_shorthand_is_spelled_out_and_words_compared_by_their_stems() -> None:
    assert spelled_out("bc the grads add up") == "because the gradients add up"
    assert key_terms("computation graphs") == key_terms("computational graph")
    assert key_terms("about 3.30") == key_terms("about 3.3")  # numbers by value


def test_a_wrong_answer_with_the_answers_words_is_rejected(embedder) -> None:
    lloyd = asked("short", 10, "guarantee the global minimum")  # "No; it converges to a local..."
    wrong = grade(lloyd, "yes, k-means always converges to the global minimum", embedder.similarity)
    assert not wrong.correct and wrong.score == 0.0
    right = grade(
        lloyd, "nope, only a local min, depends on the starting centroids", embedder.similarity
    )
    assert right.correct


def test_a_number_is_graded_by_its_value_not_its_likeness(embedder) -> None:
    heads = asked("short", 18, "8 heads")  # 64
    assert grade(heads, "512/8 = 64", embedder.similarity).correct
    assert not grade(heads, "32", embedder.similarity).correct  # close in meaning, not in value


def test_a_missed_short_answer_names_words_of_the_answer_it_lacks(embedder) -> None:
    test_set = asked("short", 4, "test set separate")
    response = "the test set is what you tune the hyperparameters on"
    missed = grade(test_set, response, embedder.similarity, terms=TERMS)
    assert not missed.correct and missed.feedback.startswith("Not yet. The answer also names ")
    named = missed.feedback.removeprefix("Not yet. The answer also names ").rstrip(".")
    assert key_terms(named) <= key_terms(test_set.answer) - key_terms(response)
    no_idea = grade(test_set, "I do not know", embedder.similarity, terms=TERMS)
    assert no_idea.feedback == "Not yet."  # nothing to build on: no hint


def test_multiple_choice_stays_exact() -> None:
    options = ["decision trees", "random forests", "perceptron", "momentum"]
    mcq = replace(asked("cloze", 4, "decision trees"), kind="mcq", options=options)
    assert grade(mcq, "decision trees").correct and grade(mcq, "A").correct
    assert not grade(mcq, "decision tree").correct


# Reached on the test split with the cut calibrated on dev (2026-12-06): accuracy 0.833 (40 of
# 48 verdicts right) and a false-accept rate of 0.19 (4 of 21 wrong answers accepted). One more
# wrong verdict fails the test; the nearest test answer lies 0.014 from the cut, far beyond
# float noise.
TEST_ACCURACY_FLOOR = 0.81  # reached: 0.833; one answer of the 48 as margin
TEST_FALSE_ACCEPT_CEILING = 0.24  # reached: 0.191; one answer as margin


def test_the_labelled_learner_answers_are_graded_as_a_teacher_would(embedder) -> None:
    results = figures(graded(load_answers(), embedder.similarity, TERMS))
    assert results["test"]["accuracy"] >= TEST_ACCURACY_FLOOR, results["test"]
    assert results["test"]["false_accept"] <= TEST_FALSE_ACCEPT_CEILING, results["test"]
