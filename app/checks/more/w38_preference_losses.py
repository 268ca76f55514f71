"""Week 38: the losses of preference learning - the reward model's pairwise (Bradley-Terry)
loss and the DPO loss, both means over pairs of -log sigmoid(margin).

Each loss is compared with the reference on ordinary inputs and on margins of hundreds to
thousands, where log(sigmoid(z)) taken literally gives inf or NaN; the reward loss also obeys
a law whatever the code: adding the same constant to both scores changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import matrices
from app.checks.properties import show
from app.checks.references import w38_preference_losses as ref

BETAS = (0.1, 0.5, 1.0)

Scores = tuple[np.ndarray, np.ndarray, float]  # r_chosen, r_rejected, a shift for both
LogProbs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]  # the four, beta

RM_DEF = Hint(
    "Each pair costs -log sigmoid(r_chosen - r_rejected); return the mean over the pairs.",
    38,
    "reward model",
    "\\mathcal{L}_{\\text{RM}}",
)
RM_CHOSEN = Hint(
    "The chosen response's score comes first in the difference: the loss is small when "
    "the chosen one scores higher.",
    38,
    "reward model",
    "preferred (chosen)",
)
RM_SHIFT = Hint(
    "The loss depends only on z = r_chosen - r_rejected, however large the scores: compute "
    "-log sigmoid(z) as np.logaddexp(0, -z), finite for any z.",
    38,
    "reward model",
    "Only the difference matters",
)
STABLE = Hint(
    "-log sigmoid(z) = log(1 + exp(-z)) = np.logaddexp(0, -z): finite for any z, where "
    "log(sigmoid(z)) gives log(0) = -inf once sigmoid(z) rounds to 0.",
    13,
    "Negative log-likelihood",
    "numerically unstable",
)
LOGSIGMOID = Hint(
    "Use a log-sigmoid, np.logaddexp(0, -margin) for -log sigmoid(margin), as F.logsigmoid "
    "does in PyTorch.",
    38,
    "direct preference optimization",
    "F.logsigmoid",
)
DPO_DEF = Hint(
    "margin = beta * ((logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected)); "
    "the loss is the mean of -log sigmoid(margin).",
    38,
    "direct preference optimization",
    "\\mathcal{L}_{\\text{DPO}}",
)
DPO_BETA = Hint(
    "beta multiplies the whole difference of the two log-ratios, inside the sigmoid.",
    38,
    "direct preference optimization",
    "margin = beta * ((pw - rw) - (pl - rl))",
)
DPO_DIRECTION = Hint(
    "The loss falls as the chosen response's log-ratio (policy minus reference) rises above "
    "the rejected one's.",
    38,
    "direct preference optimization",
    "raises the likelihood of chosen responses",
)


@st.composite
def scores(draw: st.DrawFn, scale: float) -> Scores:
    """1-4 pairs of scores in [-5, 5] in steps of 0.01, times `scale`, and a shift for both,
    a whole number in [1, 1000] either way."""
    r_chosen, r_rejected = draw(matrices(st.just(2), st.integers(1, 4))) * scale
    return r_chosen, r_rejected, float(draw(st.integers(1, 1000)) * draw(st.sampled_from((1, -1))))


@st.composite
def log_probs(draw: st.DrawFn, low: int) -> LogProbs:
    """1-4 pairs of whole-response log-probabilities, whole numbers in [low, 0], and beta."""
    n = draw(st.integers(1, 4))
    rows = draw(arrays(np.float64, (4, n), elements=st.integers(low, 0).map(float)))
    return rows[0], rows[1], rows[2], rows[3], draw(st.sampled_from(BETAS))


def describe_scores(example: Scores) -> str:
    r_chosen, r_rejected, _ = example
    return f"r_chosen={show(r_chosen)}, r_rejected={show(r_rejected)}"


def describe_shifted(example: Scores) -> str:
    return f"{describe_scores(example)} (then both plus {example[2]:g})"


def describe_log_probs(example: LogProbs) -> str:
    names = ("logp_chosen", "logp_rejected", "ref_logp_chosen", "ref_logp_rejected")
    arrays_shown = ", ".join(f"{name}={show(a)}" for name, a in zip(names, example[:4]))
    return f"{arrays_shown}, beta={example[4]}"


# What the common bugs return ---------------------------------------------------------------------


def _nls(z: np.ndarray) -> np.ndarray:
    """-log sigmoid(z), stable."""
    return np.logaddexp(0.0, -z)


def _log_ratios(example: LogProbs) -> tuple[np.ndarray, np.ndarray]:
    """Policy minus reference log-probability of the chosen and the rejected responses."""
    logp_chosen, logp_rejected, ref_chosen, ref_rejected, _ = example
    return logp_chosen - ref_chosen, logp_rejected - ref_rejected


def _is(got: np.ndarray, bug: float, correct: float) -> bool:
    """`got` is what the bug gives, and that is not the right answer."""
    return bool(np.isclose(got, bug) and not np.isclose(bug, correct))


ScoresBug = Callable[[np.ndarray, np.ndarray], float]  # r_chosen, r_rejected -> loss
DpoBug = Callable[[np.ndarray, np.ndarray, float], float]  # the two log-ratios, beta -> loss


def _fits_scores(*bugs: ScoresBug) -> Callable[[Scores, np.ndarray], bool]:
    def fits(example: Scores, got: np.ndarray) -> bool:
        correct = ref.reward_loss(*example[:2])
        return any(_is(got, bug(*example[:2]), correct) for bug in bugs)

    return fits


def _fits_log_probs(*bugs: DpoBug) -> Callable[[LogProbs, np.ndarray], bool]:
    def fits(example: LogProbs, got: np.ndarray) -> bool:
        correct = ref.dpo_loss(*example)
        return any(_is(got, bug(*_log_ratios(example), example[4]), correct) for bug in bugs)

    return fits


def _reward_swapped(r_chosen: np.ndarray, r_rejected: np.ndarray) -> float:
    return float(np.mean(_nls(r_rejected - r_chosen)))


def _reward_summed(r_chosen: np.ndarray, r_rejected: np.ndarray) -> float:
    return float(np.sum(_nls(r_chosen - r_rejected)))


def _dpo_swapped(chosen: np.ndarray, rejected: np.ndarray, beta: float) -> float:
    return float(np.mean(_nls(beta * (rejected - chosen))))


def _dpo_beta_on_chosen(chosen: np.ndarray, rejected: np.ndarray, beta: float) -> float:
    return float(np.mean(_nls(beta * chosen - rejected)))


def _dpo_beta_on_rejected(chosen: np.ndarray, rejected: np.ndarray, beta: float) -> float:
    return float(np.mean(_nls(chosen - beta * rejected)))


def _dpo_beta_outside(chosen: np.ndarray, rejected: np.ndarray, beta: float) -> float:
    return beta * float(np.mean(_nls(chosen - rejected)))


def _dpo_summed(chosen: np.ndarray, rejected: np.ndarray, beta: float) -> float:
    return float(np.sum(_nls(beta * (chosen - rejected))))


OVERFLOW = Diagnosis(
    "naive log sigmoid",
    "Your loss is inf or NaN: with a margin of hundreds, sigmoid rounds to 0 (or exp "
    "overflows) before the log. Compute -log sigmoid(margin) as np.logaddexp(0, -margin), "
    "which is log(1 + exp(-margin)) without ever forming exp of a large number.",
    lambda example, got: not np.isfinite(got).all(),
    LOGSIGMOID,
)
SUMMED = (
    "Your loss is the sum over the pairs: return their mean, so that the loss does not grow "
    "with the number of pairs."
)
REWARD_DIAGNOSES = (
    Diagnosis(
        "chosen and rejected swapped",
        "Your loss is -log sigmoid(r_rejected - r_chosen): it rewards the rejected response. "
        "Put the chosen score first, -log sigmoid(r_chosen - r_rejected).",
        _fits_scores(_reward_swapped),
        RM_CHOSEN,
    ),
    Diagnosis("sum, not mean", SUMMED, _fits_scores(_reward_summed)),
)
DPO_DIAGNOSES = (
    Diagnosis(
        "chosen and rejected swapped",
        "Your loss has the margin's sign flipped (chosen and rejected swapped, or reference "
        "minus policy): it favours the rejected response. The margin is beta * ((logp_chosen "
        "- ref_logp_chosen) - (logp_rejected - ref_logp_rejected)).",
        _fits_log_probs(_dpo_swapped),
        DPO_DIRECTION,
    ),
    Diagnosis(
        "beta on one term",
        "Your margin multiplies only one log-ratio by beta: put the difference of both in "
        "brackets, beta * ((logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected)).",
        _fits_log_probs(_dpo_beta_on_chosen, _dpo_beta_on_rejected),
        DPO_BETA,
    ),
    Diagnosis(
        "beta outside the sigmoid",
        "Your loss is beta * -log sigmoid(difference of log-ratios): beta scales the margin "
        "inside the sigmoid, -log sigmoid(beta * difference), not the loss.",
        _fits_log_probs(_dpo_beta_outside),
        DPO_BETA,
    ),
    Diagnosis("sum, not mean", SUMMED, _fits_log_probs(_dpo_summed)),
)


# Properties -------------------------------------------------------------------------------------


def _reward_loss(learner: Learner, r_chosen: np.ndarray, r_rejected: np.ndarray) -> np.ndarray:
    return array(learner("reward_loss", r_chosen, r_rejected), (), "reward_loss")


def reward_matches(learner: Learner, example: Scores) -> None:
    r_chosen, r_rejected, _ = example
    got = _reward_loss(learner, r_chosen, r_rejected)
    close(got, np.array(ref.reward_loss(r_chosen, r_rejected)), "reward_loss")


def reward_stable_and_shift_free(learner: Learner, example: Scores) -> None:
    r_chosen, r_rejected, shift = example
    got = _reward_loss(learner, r_chosen, r_rejected)
    close(got, np.array(ref.reward_loss(r_chosen, r_rejected)), "reward_loss")
    shifted = _reward_loss(learner, r_chosen + shift, r_rejected + shift)
    if not np.isclose(shifted, got, atol=1e-6, rtol=1e-6):
        raise Mismatch(
            f"reward_loss is {show(got)}, but {show(shifted)} once both scores are shifted by "
            f"{shift:g}: it should depend on r_chosen - r_rejected only",
            got=shifted,
        )


def _dpo_loss(learner: Learner, example: LogProbs) -> np.ndarray:
    return array(learner("dpo_loss", *example), (), "dpo_loss")


def dpo_matches(learner: Learner, example: LogProbs) -> None:
    close(_dpo_loss(learner, example), np.array(ref.dpo_loss(*example)), "dpo_loss")


CHECK = Check(
    38,
    "preference_losses",
    "Reward-model and DPO losses",
    ("reward_loss", "dpo_loss"),
    "reward_loss(r_chosen, r_rejected) -> float: the mean over pairs of "
    "-log sigmoid(r_chosen - r_rejected), r_chosen and r_rejected (n,) scores. "
    "dpo_loss(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta) -> float: "
    "the mean over pairs of -log sigmoid(beta * ((logp_chosen - ref_logp_chosen) - "
    "(logp_rejected - ref_logp_rejected))), each argument (n,) log-probabilities of whole "
    "responses under the policy and the frozen reference model, beta > 0. Both must stay "
    "finite and right for margins of thousands.",
    (
        Property(
            "reward loss is the mean of -log sigmoid(r_chosen - r_rejected)",
            scores(1.0),
            reward_matches,
            RM_DEF,
            describe_scores,
            REWARD_DIAGNOSES,
        ),
        Property(
            "reward loss is stable for large margins and depends only on r_chosen - r_rejected",
            scores(300.0),
            reward_stable_and_shift_free,
            RM_SHIFT,
            describe_shifted,
            (OVERFLOW, *REWARD_DIAGNOSES),
        ),
        Property(
            "DPO loss is the mean of -log sigmoid(beta * (chosen log-ratio - rejected log-ratio))",
            log_probs(-20),
            dpo_matches,
            DPO_DEF,
            describe_log_probs,
            DPO_DIAGNOSES,
        ),
        Property(
            "DPO loss is stable for large margins",
            log_probs(-5000),
            dpo_matches,
            STABLE,
            describe_log_probs,
            (OVERFLOW, *DPO_DIAGNOSES),
        ),
    ),
    reference=Path(ref.__file__),
)
