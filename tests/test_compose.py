"""Answers composed from the sources: quotable units, their choice and order, the support check.

The embedding model is the real packaged one; the passages are small hand-written notes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.answering.compose import BUDGETS
from app.answering.compose import Budget
from app.answering.compose import Composition
from app.answering.compose import Quote
from app.answering.compose import compose
from app.answering.compose import covers
from app.answering.compose import intent_boosts
from app.answering.compose import lexical_scores
from app.answering.compose import said_form
from app.answering.passages import quotable_units
from app.answering.passages import readable_excerpt
from app.answering.support import check

ATTENTION = """# Attention

## Scaled dot-product attention

**Definition.** Scaled dot-product attention computes a softmax-weighted average of value vectors, with weights from query-key dot products divided by $\\sqrt{d_k}$.

**Why divide by $\\sqrt{d_k}$.** The dot product of two random vectors with unit-variance components has variance $d_k$. This pushes the softmax towards a one-hot output whose gradients are nearly zero, so learning stalls.

**Example.** With $d_k = 64$ the scores spread by about 8, and dividing by 8 brings a score of 16 down to 2.

**Pitfalls.** Dividing by $d_k$ instead of $\\sqrt{d_k}$ makes the scores far too small.

```python
scores = q @ k.T / k.shape[-1] ** 0.5
```

This week explains why the softmax saturates.
"""

RESIDUAL = """## Residual connections

Residual connections let each block learn a correction to its input, because the block outputs its input plus a learned residual [2]. The identity path gives gradients a direct route back to early layers [2, 3].

## References

[1] A survey of deep learning. [2] A paper on deep residual learning. [3] A follow-up on identity mappings.
"""


def test_units_keep_the_sentence_a_leaning_sentence_needs() -> None:
    units = quotable_units(ATTENTION)
    texts = [u.text for u in units]
    assert (
        "The dot product of two random vectors with unit-variance components has variance "
        "$d_k$. This pushes the softmax towards a one-hot output whose gradients are nearly "
        "zero, so learning stalls."
    ) in texts
    assert not any(t.startswith("This ") for t in texts)


def test_labels_give_roles_and_announcements_code_and_headings_are_left_out() -> None:
    roles = {u.text.split()[0]: u.role for u in quotable_units(ATTENTION)}
    assert roles == {
        "Scaled": "definition",
        "The": "explanation",
        "With": "example",
        "Dividing": "pitfall",
    }


def test_source_reference_numbers_and_the_bibliography_never_become_sentences() -> None:
    texts = [u.text for u in quotable_units(RESIDUAL)]
    assert texts == [
        "Residual connections let each block learn a correction to its input, because the block "
        "outputs its input plus a learned residual.",
        "The identity path gives gradients a direct route back to early layers.",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "[4] Smith, J. Deep nets. 2016.",
        "He et al. Deep residual learning for image recognition.",
        "Vaswani, A. and others, Attention is all you need, arXiv 2017.",
    ],
)
def test_bibliography_entries_of_any_style_are_not_quotable(line: str) -> None:
    assert quotable_units(f"Some heading text here.\n\n{line}") == []


def test_an_unclosed_fence_hides_only_code_not_the_sentences_before_it() -> None:
    units = quotable_units(
        "Gradient clipping rescales the gradient when its norm is too large.\n"
        "```python\nclip(model)\n"
    )
    assert [u.text for u in units] == [
        "Gradient clipping rescales the gradient when its norm is too large."
    ]


def test_a_display_formula_stays_with_the_words_that_introduce_it() -> None:
    units = quotable_units(
        "The Adam update divides the corrected mean by the root of the "
        "corrected variance:\n$$\n\\theta \\leftarrow \\theta - \\alpha "
        "\\hat m / \\sqrt{\\hat v}\n$$,\nThe default step size is 0.001 in "
        "most libraries today."
    )
    assert units[0].role == "formula"
    assert units[0].text.startswith("The Adam update") and units[0].text.endswith("$$,")
    assert units[1].text == "The default step size is 0.001 in most libraries today."


def test_lexical_scores_weigh_the_rare_topic_word_most() -> None:
    scores = lexical_scores(
        "what does dropout do to activations",
        [
            "dropout zeroes units",
            "activations grow with depth",
            "activations shrink with width",
            "activations need care",
        ],
    )
    assert scores[0] > scores[1]


def test_an_ask_for_an_example_lifts_examples() -> None:
    assert intent_boosts("Can you give me a small example of that?")["example"] > 0
    assert "example" not in intent_boosts("Why do we divide by the square root?")


def test_numbers_and_worked_cases_are_asks_for_an_example() -> None:
    for ask in (
        "Can you plug some numbers into that for a single unit?",
        "Could you compute it for a tiny batch of two pairs?",
        "Walk me through a toy case.",
    ):
        assert "example" in intent_boosts(ask), ask
    assert "example" not in intent_boosts("What does GPT-2 change in week 3?")


def test_an_ask_for_an_example_opens_with_the_example(embedder) -> None:
    quotes = compose(
        "Can you show me a small example of scaled dot-product attention?",
        [ATTENTION],
        embedder.embed,
    ).quotes
    assert quotes[0].role == "example" and quotes[0].text.startswith("With $d_k = 64$")


DROPOUT_NOTE = """## dropout

**Definition.** Dropout is a regularizer that, during training only, sets each activation to zero with probability $p$ and scales the survivors by $1/(1-p)$.

**Example.** $p = 0.5$, $h = (2, 4, 6, 8)$, mask $(1, 0, 1, 0)$ gives $(4, 0, 12, 0)$.
"""
MLP = """## multi-layer perceptron

**Example.** With $H = 128$ the network has $784 \\cdot 128 + 128 + 128 \\cdot 10 + 10 = 101{,}770$ parameters.
"""


def test_a_worked_example_is_as_close_as_the_topic_it_works_through(embedder) -> None:
    """An example in symbols says little of its topic in words: asked for, the dropout
    example leads, not another page's example whose words happen to be closer."""
    [unit] = [u for u in quotable_units(DROPOUT_NOTE) if u.text.startswith("$p")]
    assert unit.role == "example", "the label says what it is, though it opens on a symbol"
    composed = compose(
        "Can you show me a small numeric example of what inverted dropout does?",
        [MLP, DROPOUT_NOTE],
        embedder.embed,
    )
    assert covers(composed) and composed.quotes[0].text.startswith("$p = 0.5$")


WEEK_NOTE = """# Convolutional neural networks

Week 8 introduces the architecture that made deep learning work on images. You implement convolution by hand, switch to `nn.Conv2d`, then take a ResNet pretrained on ImageNet and fine-tune it on your own data.

## transfer learning

**Definition.** Transfer learning reuses a network trained on a large dataset as the starting point for a new task, replacing its output layer with a new head.

**Intuition.** Feature extraction freezes the pretrained backbone and trains only the new head; fine-tuning also updates the pretrained weights with a small learning rate.

$U$ has orthonormal columns and $S$ is diagonal with the singular values.
"""


def test_a_pages_introduction_and_a_formulas_legend_are_not_what_was_asked(embedder) -> None:
    """The lines under a page's title say what the page covers ("You implement convolution by
    hand…"), a line that opens on a symbol reads a formula: neither answers a question alone."""
    units = {u.text.split()[0]: u for u in quotable_units(WEEK_NOTE)}
    assert units["You"].overview and not units["Transfer"].overview
    assert units["$U$"].role == "formula"
    quotes = compose(
        "What is the difference between feature extraction and fine-tuning a ResNet?",
        [WEEK_NOTE],
        embedder.embed,
    ).quotes
    assert quotes[0].text.startswith("Feature extraction freezes")
    assert not any(q.text.startswith("You implement") for q in quotes)


def test_a_chunk_that_starts_mid_page_knows_how_deep_it_is() -> None:
    intro = "You implement convolution by hand and then fine-tune a pretrained ResNet."
    assert quotable_units(intro, "Convolutional neural networks")[0].overview
    assert not quotable_units(intro, "Convolutional neural networks > convolution")[0].overview
    assert not quotable_units(intro)[0].overview  # depth unknown: not an introduction


def test_a_why_question_leads_with_the_reason(embedder) -> None:
    quotes = compose(
        "Why is attention divided by the square root of d_k?", [ATTENTION], embedder.embed
    ).quotes
    assert quotes[0].role == "explanation", "the first sentence answers the why"
    assert "example" not in [q.role for q in quotes], "nobody asked for an example"
    assert len({said_form(q.text) for q in quotes}) == len(quotes)


def test_a_follow_up_never_repeats_what_was_shown_and_gets_its_example(embedder) -> None:
    question = "Why is attention divided by the square root of d_k?"
    first = compose(question, [ATTENTION], embedder.embed, budget=BUDGETS["quick"]).quotes
    follow_up = compose(
        f"{question} Can you give me an example of that?",
        [ATTENTION],
        embedder.embed,
        ask="Can you give me an example of that?",
        shown=[q.text for q in first],
    ).quotes
    assert follow_up, "the follow-up has something new to say"
    assert not {said_form(q.text) for q in follow_up} & {said_form(q.text) for q in first}
    assert "example" not in [q.role for q in first]
    assert "example" in [q.role for q in follow_up]


def test_budgets_bound_the_answer(embedder) -> None:
    quotes = compose(
        "What is scaled dot-product attention?",
        [ATTENTION, RESIDUAL],
        embedder.embed,
        budget=BUDGETS["quick"],
    ).quotes
    assert 1 <= len(quotes) <= BUDGETS["quick"].units


def test_the_support_check_rejects_a_wrong_claim_made_of_the_sources_words(embedder) -> None:
    passages = [ATTENTION]
    right = check(
        "Dividing by $\\sqrt{d_k}$ keeps the softmax from a one-hot output whose "
        "gradients are nearly zero.",
        passages,
        embedder.embed,
    )
    wrong_number = check("With $d_k = 64$ the scores spread by about 12.", passages, embedder.embed)
    negated = check(
        "Dividing by $\\sqrt{d_k}$ does not keep the softmax from a one-hot output.",
        passages,
        embedder.embed,
    )
    unrelated = check("Paris is the capital of France.", passages, embedder.embed)
    assert right.supported, right
    assert not wrong_number.supported
    assert not negated.supported
    assert not unrelated.supported


def test_a_number_said_in_words_must_be_the_sources(embedder) -> None:
    adam = (
        "## Bias correction\nAdam's moving averages start at zero, so early on they are "
        "biased toward zero; bias correction divides by $1 - \\beta^t$ to remove it."
    )
    right = check("Adam's moving averages are biased toward zero early on.", [adam], embedder.embed)
    wrong = check("Adam's moving averages are biased toward one early on.", [adam], embedder.embed)
    assert right.supported, right
    assert not wrong.supported and wrong.reason == "a number the source does not give"


def test_a_quote_is_checked_against_the_same_plain_text_it_was_cut_from(embedder) -> None:
    passage = (
        "## Attention\nThe transformer is described in the [attention paper]"
        "(https://arxiv.org/abs/1706.03762) [12], which replaced recurrence with "
        "self-attention."
    )
    [unit] = quotable_units(passage)
    verdict = check(unit.text, [passage], embedder.embed)
    assert verdict.supported and verdict.agreement > 0.999, verdict


def test_a_card_excerpt_is_plain_text_cut_at_a_boundary() -> None:
    excerpt = readable_excerpt(ATTENTION, 200)
    assert "\n#" not in excerpt and not excerpt.startswith("#")
    assert excerpt.startswith("**Attention**")
    assert excerpt.endswith(" …") and len(excerpt) <= 202
    assert excerpt.count("$") % 2 == 0
    assert readable_excerpt(RESIDUAL, 2000).count("[2]") == 0


SELF_CHECK = """## Check yourself

**Q:** Why must the data be centered before PCA?
**A:** Otherwise the leading direction partly points toward the mean instead of the direction of greatest variance.

**Q:** Eigenvalues are 6, 3 and 1. What fraction of variance do the first two components explain?
**A:** $9/10 = 90\\%$.

**Q:** Which component explains the most variance?
"""


def test_a_self_check_answer_is_quoted_with_its_question() -> None:
    units = quotable_units(SELF_CHECK)
    assert [(u.text, u.role) for u in units] == [
        (
            "Why must the data be centered before PCA? Otherwise the leading direction partly "
            "points toward the mean instead of the direction of greatest variance.",
            "explanation",
        ),
        (
            "Eigenvalues are 6, 3 and 1. What fraction of variance do the first two components "
            "explain? $9/10 = 90\\%$.",
            "example",
        ),
    ]  # the question without an answer is not quotable


def test_a_self_check_is_quoted_only_for_a_learner_who_asks_the_same(embedder) -> None:
    """A self-check pair is a line of a quiz: padding under a nearby question, the answer to
    the same question asked in other words (then its answer alone, as prose)."""
    pca = "## PCA\n\nPCA projects centered data onto the directions of greatest variance.\n\n"
    same = compose("Why do I have to center data before PCA?", [pca + SELF_CHECK], embedder.embed)
    nearby = compose("What does PCA do?", [pca + SELF_CHECK], embedder.embed)
    assert not any("?" in q.text for q in same.quotes + nearby.quotes), "no quiz lines"
    assert any(q.text.startswith("Otherwise the leading direction") for q in same.quotes)
    assert not any("leading direction" in q.text for q in nearby.quotes)


def test_a_pitfall_comes_when_asked_for_and_never_leads_unasked(embedder) -> None:
    why = "Why is attention divided by the square root of d_k?"
    unasked = compose(why, [ATTENTION], embedder.embed).quotes
    asked = compose(
        "What goes wrong when people scale attention scores?", [ATTENTION], embedder.embed
    )
    assert unasked[0].role != "pitfall"
    assert "pitfall" in [q.role for q in asked.quotes]


def test_under_a_pitfalls_label_a_plain_fact_is_not_called_a_mistake() -> None:
    units = quotable_units(
        "## LoRA\n\n**Pitfalls.** LoRA is run with a higher learning rate than full "
        "fine-tuning, so tune it rather than copying full fine-tuning settings. After "
        "training, $BA$ can be merged into $W_0$, so inference has no extra latency.\n"
    )
    assert units[0].role == "pitfall" and units[1].role != "pitfall"


def test_a_formulas_braces_are_not_template_markup() -> None:
    sentence = "The original transformer uses $d_{\\text{model}} = 512$ and $h = 8$ heads of 64."
    assert [u.text for u in quotable_units(sentence)] == [sentence]
    assert quotable_units("Fill in {{ name }} and the page shows your name here.") == []


def test_a_label_alone_on_its_line_names_the_formula_below_it() -> None:
    units = quotable_units(
        "## Negative log-likelihood\n\n**Key formula.**\n\n$$\n"
        "\\mathrm{perplexity} = e^{\\mathrm{NLL}}\n$$\n"
    )
    assert [(u.role, u.context) for u in units] == [
        ("formula", "Negative log-likelihood > Key formula")
    ]


@pytest.mark.parametrize(
    "fragment",
    [
        "(2003), generalizes to unseen word combinations because similar words are close.",
        "generalizes to unseen word combinations because similar words are close.",
        "Quarter 2 opens by building language models from scratch in this course.",
        "You start with a counting-based bigram model over characters and grow it.",
    ],
)
def test_fragments_and_course_announcements_are_not_quotable(fragment: str) -> None:
    assert quotable_units(fragment) == []


def test_demoted_passages_need_a_clear_lead(embedder) -> None:
    """Two passages say the same: the one not demoted (a week the learner has reached, not a
    plan entry) is quoted."""
    passages = ["Dropout zeroes each activation with probability p during training, at random."] * 2
    question = "What does dropout do during training?"
    one = Budget(units=1, words=50)
    assert compose(question, passages, embedder.embed, budget=one).quotes[0].passage == 0
    assert (
        compose(question, passages, embedder.embed, budget=one, demoted=[0]).quotes[0].passage == 1
    )


QUIZ_PAGE = """### 1. What does this pipeline return?

<Question
	choices={[
		{
			text: "Fields contain the metadata of the records.",
			explain: "No: fields hold the data the annotators label. <em>Metadata</em> is apart."
		},
		{
			text: "It returns the named entities found in the sentence.",
			correct: true
		}
	]}
/>

Named entity recognition finds the persons, places and organisations in a sentence.
"""


def test_a_quizs_options_in_mdx_are_never_quoted_or_shown_on_a_card() -> None:
    assert [u.text for u in quotable_units(QUIZ_PAGE)] == [
        "Named entity recognition finds the persons, places and organisations in a sentence."
    ]
    assert "Fields contain" not in readable_excerpt(QUIZ_PAGE, 2000)


@pytest.mark.parametrize(
    "sentence, quoted",
    [
        ("We saw that :numref:`sec_sgd` is more effective than plain gradient descent here.", None),
        (
            "The tanh function squashes its input to the range from minus one to one :cite:`Kalman.1992`.",
            "The tanh function squashes its input to the range from minus one to one.",
        ),
        (
            "We can [**test out the dropout layer function**] on a few examples of inputs.",
            "We can test out the dropout layer function on a few examples of inputs.",
        ),
        (
            "This [wikipedia article](http://en.wikipedia.org/wiki/Dropout) explains dropout in depth.",
            None,
        ),  # leans on nothing ("This"): left out either way
        (
            "The [Reformer](https://arxiv.org/abs/2001.04451) model uses hashing to save attention memory.",
            "The Reformer model uses hashing to save attention memory.",
        ),
        ("The expected output is \\(px + (1-p)0\\) for a neuron kept with probability p.", None),
    ],
)
def test_page_markup_is_cleaned_or_the_sentence_left_out(sentence: str, quoted: str | None) -> None:
    assert [u.text for u in quotable_units(sentence)] == ([quoted] if quoted else [])


@pytest.mark.parametrize(
    "sentence",
    [
        "In this situation, the perplexity is positive infinity for every model we train.",
        "Indeed this algorithm is the basis of many methods used in numerical practice.",
        "Fortunately, the chain rule takes care of this for every composite function.",
        "We'll explain how the attention mask works later in this chapter of the course.",
        "Week 3 introduces the probability you need for the Naive Bayes assignment.",
        "Timed practice this week: 3 hours of coding on the reward model.",
    ],
)
def test_sentences_that_lean_or_announce_are_not_quoted_alone(sentence: str) -> None:
    assert quotable_units(sentence) == []


def test_a_sentence_stands_when_the_one_leaning_on_it_is_a_lead_in() -> None:
    units = quotable_units(
        "The most basic object in the library is the pipeline function. It "
        "connects a model with its preprocessing and postprocessing steps:"
    )
    assert [u.text for u in units] == [
        "The most basic object in the library is the pipeline function."
    ]


def test_a_chunk_that_starts_inside_an_exercises_section_is_not_quoted() -> None:
    text = "1. Invent another technique for injecting random noise at each layer of a network."
    assert quotable_units(text, heading="Dropout > Exercises") == []
    assert quotable_units(text.removeprefix("1. "), heading="Dropout > Concise") != []


DROPOUT = """## Dropout
Dropout works because no unit can rely on another being present, so the network learns redundant \
features. Dropout is a regularization technique that zeroes each activation with probability p \
during training. For example, with p = 0.5 half of a layer's units are off in each step."""
DROPOUT_AT_TEST = """## Dropout at test time
For example, a network trained with dropout p = 0.2 scales its activations by 0.8 at test time, \
when no unit is dropped."""


def test_an_answer_leads_with_what_answers_then_keeps_the_sources_order(embedder) -> None:
    quotes = compose(
        "What is dropout, why does it work, and what changes at test time?",
        [DROPOUT_AT_TEST, DROPOUT],
        embedder.embed,
    ).quotes
    passages = [q.passage for q in quotes]
    assert passages == sorted(passages, key=passages.index), "a passage's quotes stay together"
    assert passages[0] == 1, "the passage that says what dropout is comes first"
    lead, *rest = [q.text for q in quotes if q.passage == 1]
    assert rest == sorted(rest, key=DROPOUT.index), "after the lead, in the note's own order"


def test_quotes_that_name_none_of_the_questions_words_do_not_cover_it() -> None:
    """Passages can share words with an off-topic question away from the sentences that would
    be quoted ("running total with SQL window functions" against notes on attention windows):
    then the quotes answer something else, however close their meaning."""
    quote = Quote("Sliding-window attention keeps the cost linear.", 0, "definition")
    off_topic = Composition(
        [quote], similarity=0.45, shared_words=3, question_words=7, quoted_words=0
    )
    assert not covers(off_topic)
    assert covers(replace(off_topic, quoted_words=1))
    shown_before = Composition([], similarity=0.6, shared_words=3, question_words=3)
    assert covers(shown_before), "a follow-up whose quotes were all shown is judged as before"
