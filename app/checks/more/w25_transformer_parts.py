"""Week 25: the parts of a GPT block around attention - sinusoidal positional encodings,
layer normalization and the causal mask.

Each function is tested on its own. Positional encodings and the mask are compared with the
reference on small sizes; layer norm obeys a law whatever the code (with gamma = 1, beta = 0
every token comes out with mean 0 and variance 1) and is compared with the reference on
(T, d) and (B, T, d) inputs, so that normalising over the wrong axis shows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import WrongInterface
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import matrices
from app.checks.properties import show
from app.checks.references import w25_transformer_parts as ref

EPS = 1e-5

Sizes = tuple[int, int]  # T, d
LayerNormInput = tuple[np.ndarray, np.ndarray, np.ndarray]  # x, gamma, beta

PE_DEF = Hint(
    "Column 2i holds sin(pos / 10000^(2i/d)) and column 2i+1 holds cos of the same angle: "
    "the two columns of a pair share the frequency index i.",
    25,
    "Positional encodings",
    "PE_{(pos,2i)}",
)
PE_SIN = Hint(
    "Sine on the even columns (0, 2, 4, ...), cosine on the odd ones: at pos = 0 the row "
    "is [0, 1, 0, 1, ...].",
    25,
    "Positional encodings",
    "every sine entry is 0",
)
LN_DEF = Hint(
    "Normalise each token (each row, the last axis) by its own mean and biased variance "
    "plus eps, then y = gamma * x_hat + beta.",
    25,
    "Transformer block",
    "normalizes each token's features",
)
LN_NOT_BN = Hint(
    "Layer norm takes the mean and variance over the features of one token (axis=-1), "
    "batch norm over the batch (axis=0).",
    25,
    "Transformer block",
    "Confusing layer norm",
)
CAUSAL = Hint(
    "mask[i, j] is True when j <= i: the diagonal and everything below it.",
    25,
    "Causal self-attention",
    "may attend only to itself and earlier positions",
)
ADDITIVE = Hint(
    "The notes add M (0 or -inf) to the scores; the boolean mask says where M is 0.",
    25,
    "Causal self-attention",
    "M_{ij}",
)


def describe_sizes(example: Sizes) -> str:
    T, d = example
    return f"T={T}, d={d}"


def describe_layer_norm(example: LayerNormInput) -> str:
    x, gamma, beta = example
    return f"x={show(x)}, gamma={show(gamma)}, beta={show(beta)}, eps={EPS}"


@st.composite
def layer_norm_inputs(draw: st.DrawFn, standard: bool) -> LayerNormInput:
    """x (T, d) with 1-4 tokens of d = 2-4 features, or with `standard` False possibly
    (B, T, d) with B = 1-2; `standard`: gamma = 1, beta = 0 and every token's features spread
    out (variance > 0.1)."""
    d = draw(st.integers(2, 4))
    batch = 0 if standard else draw(st.integers(0, 2))
    if batch:
        T = draw(st.integers(1, 3))
        x = np.stack([draw(matrices(st.just(T), st.just(d))) for _ in range(batch)])
    else:
        x = draw(matrices(st.integers(1, 4), st.just(d)))
    if standard:
        assume((x.var(axis=-1) > 0.1).all())
        return x, np.ones(d), np.zeros(d)
    gamma, beta = draw(matrices(st.just(2), st.just(d), -3, 3))
    return x, gamma, beta


# What the common bugs return ---------------------------------------------------------------------


def _is(got: np.ndarray, bug: np.ndarray, equal_nan: bool = False) -> bool:
    """`got` is what the bug gives (same shape: no broadcasting)."""
    return got.shape == bug.shape and bool(np.allclose(got, bug, equal_nan=equal_nan))


def _pe(T: int, d: int, swapped: bool = False, column_exponent: bool = False) -> np.ndarray:
    """Positional encodings as a bug computes them: sin and cos `swapped`, or the column
    index j in the exponent (pos / 10000^(j/d)) instead of the pair's 2i."""
    pos = np.arange(T)[:, None]
    column = np.arange(d)[None, :]
    angles = pos / 10000 ** ((column if column_exponent else 2 * (column // 2)) / d)
    sines, cosines = np.sin(angles), np.cos(angles)
    if swapped:
        sines, cosines = cosines, sines
    return np.where(column % 2 == 0, sines, cosines)


def _swapped(example: Sizes, got: np.ndarray) -> bool:
    return _is(got, _pe(*example, swapped=True))


def _column_exponent(example: Sizes, got: np.ndarray) -> bool:
    return _is(got, _pe(*example, column_exponent=True))


PE_DIAGNOSES = (
    Diagnosis(
        "sin and cos swapped",
        "Your encodings have cos on the even columns and sin on the odd ones (row 0 starts "
        "with 1, not 0): put the sine in columns 0, 2, 4, ... and the cosine in 1, 3, 5, ...",
        _swapped,
        PE_SIN,
    ),
    Diagnosis(
        "column index in the exponent",
        "Your frequencies use the column index j, pos / 10000^(j/d): both columns of a pair "
        "share one frequency, pos / 10000^(2i/d) with i = j // 2.",
        _column_exponent,
    ),
)


def _normalised(
    example: LayerNormInput, axis: int, ddof: int = 0, eps: float = EPS, inside: bool = True
) -> np.ndarray:
    """gamma * (x - mean) / sqrt(var + eps) + beta with the statistics over `axis`, or with
    eps added outside the square root (`inside` False)."""
    x, gamma, beta = example
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    scale = np.sqrt(var + eps) if inside else np.sqrt(var) + eps
    return gamma * (x - mean) / scale + beta


def _wrong_axis(example: LayerNormInput, got: np.ndarray) -> bool:
    """Statistics over the batch (axis 0) or, for (B, T, d) input, over the tokens."""
    return any(_is(got, _normalised(example, axis)) for axis in range(example[0].ndim - 1))


def _eps_misplaced(example: LayerNormInput, got: np.ndarray) -> bool:
    """No eps (NaN for a token whose features are all equal), or eps outside the root."""
    return _is(got, _normalised(example, -1, eps=0.0), equal_nan=True) or _is(
        got, _normalised(example, -1, inside=False)
    )


LN_DIAGNOSES = (
    Diagnosis(
        "wrong axis",
        "Your output is normalised down the batch (axis 0: that is batch norm) or across the "
        "tokens, not over each token's own features. Layer norm takes every token's mean and "
        "variance over the last axis: x.mean(axis=-1, keepdims=True) and "
        "x.var(axis=-1, keepdims=True).",
        _wrong_axis,
        LN_NOT_BN,
    ),
    Diagnosis(
        "sample variance",
        "Your tokens come out with variance (d-1)/d, not 1: you divided by the sample (d - 1) "
        "variance. Layer norm uses the biased one, x.var(axis=-1) (divide by d).",
        lambda example, got: _is(got, _normalised(example, -1, ddof=1)),
    ),
    Diagnosis(
        "eps misplaced",
        "Your output is (x - mean) / sqrt(var) (NaN for a token whose features are all equal) "
        "or (x - mean) / (sqrt(var) + eps): add eps to the variance inside the square root, "
        "(x - mean) / sqrt(var + eps).",
        _eps_misplaced,
    ),
)


def _fits_mask(expected: Callable[[int], np.ndarray]) -> Callable[[int, np.ndarray], bool]:
    """A diagnosis test: the learner's mask is what the bug gives, `expected(T)`."""
    return lambda T, got: bool(np.array_equal(got, expected(T)))


MASK_DIAGNOSES = (
    Diagnosis(
        "future allowed",
        "Your mask is True on and above the diagonal, so each position may attend to the "
        "future: keep the lower triangle, np.tril(np.ones((T, T), dtype=bool)).",
        _fits_mask(lambda T: np.triu(np.ones((T, T), dtype=bool))),
        CAUSAL,
    ),
    Diagnosis(
        "diagonal excluded",
        "Your mask leaves out the diagonal, so position 0 may attend to nothing (its softmax "
        "row is all -inf): a position attends to itself too, np.tril without k=-1.",
        _fits_mask(lambda T: np.tril(np.ones((T, T), dtype=bool), k=-1)),
        CAUSAL,
    ),
    Diagnosis(
        "inverted mask",
        "Your mask is True where attention is blocked (the convention of PyTorch's boolean "
        "attn_mask). Here True means 'may attend', as in week 18: return "
        "np.tril(np.ones((T, T), dtype=bool)).",
        _fits_mask(lambda T: ~np.tril(np.ones((T, T), dtype=bool))),
        CAUSAL,
    ),
    Diagnosis(
        "additive mask",
        "You returned the additive mask M (0 where allowed, -inf in the future). This "
        "interface asks for booleans, True where a position may attend: "
        "np.tril(np.ones((T, T), dtype=bool)); attention then sets the scores to -inf where "
        "the mask is False.",
        _fits_mask(lambda T: np.where(np.tril(np.ones((T, T), dtype=bool)), 0.0, -np.inf)),
        ADDITIVE,
    ),
)


# Properties -------------------------------------------------------------------------------------


def pe_matches(learner: Learner, example: Sizes) -> None:
    T, d = example
    what = f"positional_encoding({T}, {d})"
    close(
        array(learner("positional_encoding", T, d), (T, d), what),
        ref.positional_encoding(T, d),
        what,
    )


def _layer_norm(learner: Learner, example: LayerNormInput) -> np.ndarray:
    x, gamma, beta = example
    return array(learner("layer_norm", x, gamma, beta, EPS), x.shape, "layer_norm's output")


def layer_norm_standardises(learner: Learner, example: LayerNormInput) -> None:
    got = _layer_norm(learner, example)
    means, variances = got.mean(axis=-1), got.var(axis=-1)
    if not (np.allclose(means, 0.0, atol=1e-6) and np.allclose(variances, 1.0, atol=1e-3)):
        raise Mismatch(
            f"with gamma=1, beta=0 each token (row) should come out with mean 0 and variance "
            f"1; your output {show(got)} has row means {show(means)} and variances "
            f"{show(variances)}",
            got=got,
        )


def layer_norm_matches(learner: Learner, example: LayerNormInput) -> None:
    close(_layer_norm(learner, example), ref.layer_norm(*example, EPS), "layer_norm's output")


def mask_matches(learner: Learner, T: int) -> None:
    value = learner("causal_mask", T)
    if not (isinstance(value, np.ndarray) and value.dtype == bool):
        got = array(value, (T, T), f"causal_mask({T})")  # -inf: an additive mask, a Mismatch
        raise WrongInterface(
            f"causal_mask({T}) is {show(got)}: numbers, not booleans (dtype bool, True where "
            "a position may attend)",
            got=got,
        )
    got = array(value, (T, T), f"causal_mask({T})").astype(bool)
    expected = ref.causal_mask(T)
    if not np.array_equal(got, expected):
        raise Mismatch(
            f"causal_mask({T}) is {show(got)}, expected {show(expected)} (row i: True for the "
            "positions that i may attend to)",
            got=got,
        )


CHECK = Check(
    25,
    "transformer_parts",
    "Positional encodings, layer norm and the causal mask",
    ("positional_encoding", "layer_norm", "causal_mask"),
    "positional_encoding(T, d) -> PE (T, d) float: PE[pos, 2i] = sin(pos / 10000^(2i/d)) and "
    "PE[pos, 2i+1] = cos(pos / 10000^(2i/d)), i.e. sin on even columns, cos on odd, base 10000 "
    "(for odd d the last column is a sine). layer_norm(x, gamma, beta, eps) -> y, same shape "
    "as x, which is (T, d) or (B, T, d): each token normalised over its features (the last "
    "axis) with its own mean and biased variance (divide by d), y = gamma * (x - mean) / "
    "sqrt(var + eps) + beta, gamma and beta (d,). causal_mask(T) -> mask (T, T) of dtype bool, "
    "mask[i, j] True where position i may attend to position j (j <= i), the convention of "
    "week 18's attention(Q, K, V, mask).",
    (
        Property(
            "positional encoding: sin on even columns, cos on odd, base 10000",
            st.tuples(st.integers(1, 6), st.integers(1, 8)),
            pe_matches,
            PE_DEF,
            describe_sizes,
            PE_DIAGNOSES,
        ),
        Property(
            "layer norm gives every token mean 0 and variance 1 (gamma=1, beta=0)",
            layer_norm_inputs(standard=True),
            layer_norm_standardises,
            LN_DEF,
            describe_layer_norm,
            LN_DIAGNOSES,
        ),
        Property(
            "layer norm matches over the last axis, with any gamma and beta",
            layer_norm_inputs(standard=False),
            layer_norm_matches,
            LN_DEF,
            describe_layer_norm,
            LN_DIAGNOSES,
        ),
        Property(
            "causal mask is True where j <= i: itself and earlier positions",
            st.integers(2, 6),
            mask_matches,
            CAUSAL,
            lambda T: f"T={T}",
            MASK_DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)
