"""The checks of the plan's from-scratch assignments, weeks 1-26, with their properties.

Each property compares the learner's result with the hidden reference (app.checks.reference)
on drawn inputs, or tests a law a correct implementation obeys whatever its approach (PCA
does not move when the data is shifted; attention weights sum to 1). Tolerances are absolute
and relative 1e-6 unless a property says otherwise.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from app.checks import child
from app.checks import reference as ref
from app.checks.hints import Hint
from app.checks.more import later_checks
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import matrices
from app.checks.properties import parts
from app.checks.properties import show

small = st.integers


# Week 1: PCA ---------------------------------------------------------------------------------

PCA_DEF = Hint(
    "Centre the data, take the eigenvectors of its sample covariance matrix and sort "
    "them by decreasing eigenvalue.",
    1,
    "PCA via the covariance matrix",
    "centers the data",
)
PCA_CENTRE = Hint(
    "Subtract each feature's mean before the covariance (or the SVD): without it "
    "the first component points toward the mean.",
    1,
    "Check yourself",
    "points toward the mean",
)


@st.composite
def pca_inputs(draw, shift: bool) -> tuple[np.ndarray, int]:
    X = draw(matrices(small(3, 7), small(2, 4)))
    n, d = X.shape
    X = X - X.mean(axis=0)
    if shift:
        X = X + np.array(draw(st.lists(st.integers(-20, 20), min_size=d, max_size=d)), float)
    assume(np.linalg.matrix_rank(X - X.mean(axis=0)) >= 1)
    return X, draw(small(1, min(n, d)))


def _pca(learner: Learner, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    components, variance = parts(learner("pca", X, k), 2, "pca")
    return (
        array(components, (k, X.shape[1]), "components"),
        array(variance, (k,), "explained_variance"),
    )


def _residual(X: np.ndarray, components: np.ndarray) -> float:
    centred = X - X.mean(axis=0)
    return float(((centred - centred @ components.T @ components) ** 2).sum())


def pca_orthonormal(learner: Learner, example: tuple[np.ndarray, int]) -> None:
    components, _ = _pca(learner, *example)
    close(components @ components.T, np.eye(len(components)), "components @ components.T")


def pca_variance(learner: Learner, example: tuple[np.ndarray, int]) -> None:
    X, k = example
    _, variance = _pca(learner, X, k)
    expected = ref.pca(X, k)[1]
    if not (
        np.allclose(variance, expected, atol=1e-6)
        or np.allclose(variance, expected * (len(X) - 1) / len(X), atol=1e-6)
    ):
        raise Mismatch(
            f"explained_variance is {show(variance)}, expected {show(expected)} "
            "(the covariance's largest eigenvalues, in decreasing order)",
            got=variance,
        )


def pca_best_subspace(learner: Learner, example: tuple[np.ndarray, int]) -> None:
    X, k = example
    components, _ = _pca(learner, X, k)
    best = _residual(X, ref.pca(X, k)[0])
    got = _residual(X, components)
    if got > best + 1e-6 * (1 + best):
        raise Mismatch(
            f"projecting the centred data onto your components leaves squared error "
            f"{got:.4g}; the top-{k} principal directions leave {best:.4g}",
            got=components,
        )


def _uncentred(example: tuple[np.ndarray, int], got: np.ndarray) -> bool:
    """The components span the top directions of the raw data (no mean subtracted)."""
    X, k = example
    raw = np.linalg.svd(X, full_matrices=False)[2][:k]
    return got.shape == raw.shape and np.allclose(got.T @ got, raw.T @ raw, atol=1e-6)


def _ascending(example: tuple[np.ndarray, int], got: np.ndarray) -> bool:
    """The variances in eigh's increasing order: the k smallest, or the right ones reversed."""
    X, k = example
    values = np.linalg.eigvalsh(np.cov((X - X.mean(axis=0)).T).reshape(X.shape[1], -1))
    return np.allclose(got, values[:k]) or np.allclose(got, np.sort(ref.pca(X, k)[1]))


PCA_DIAGNOSES = (
    Diagnosis(
        "not centred",
        "Your components are the principal directions of the raw data, so the first one "
        "points toward the mean: subtract X.mean(axis=0) before the covariance (or the SVD).",
        _uncentred,
    ),
    Diagnosis(
        "ascending order",
        "Your variances come in increasing order, as np.linalg.eigh returns them: sort the "
        "eigenvalues, and their eigenvectors with them, largest first "
        "(order = values.argsort()[::-1]).",
        _ascending,
    ),
)


PCA = Check(
    1,
    "pca",
    "PCA from scratch",
    ("pca",),
    "pca(X, k) -> (components, explained_variance): X is (n, d); components is (k, d) "
    "with orthonormal rows, the principal directions; explained_variance is (k,), the "
    "variance along each, largest first.",
    (
        Property("components are orthonormal", pca_inputs(False), pca_orthonormal, PCA_DEF),
        Property(
            "explained variances are the covariance eigenvalues, largest first",
            pca_inputs(False),
            pca_variance,
            PCA_DEF,
            diagnoses=PCA_DIAGNOSES,
        ),
        Property(
            "components span the top-k variance directions",
            pca_inputs(False),
            pca_best_subspace,
            PCA_DEF,
            diagnoses=PCA_DIAGNOSES,
        ),
        Property(
            "data is centred first (shifted data, same components)",
            pca_inputs(True),
            pca_best_subspace,
            PCA_CENTRE,
            diagnoses=PCA_DIAGNOSES,
        ),
    ),
)


# Week 2: SVD and eigendecomposition -----------------------------------------------------------

SVD_DEF = Hint(
    "A = U diag(S) Vt with orthonormal columns in U and V and non-negative singular "
    "values in decreasing order.",
    2,
    "Singular value decomposition",
    "non-negative singular values",
)
SVD_VT = Hint(
    "Return Vt, the transpose of V, as np.linalg.svd does.",
    2,
    "Singular value decomposition",
    "returns `s` as a 1-D array",
)
EIG_DEF = Hint(
    "For a symmetric matrix: real eigenvalues and orthonormal eigenvectors, "
    "A v = lambda v for each column.",
    2,
    "Eigendecomposition",
    "spectral theorem",
)


def _svd(learner: Learner, A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = A.shape
    r = min(m, n)
    U, S, Vt = parts(learner("svd", A), 3, "svd")
    return array(U, (m, r), "U"), array(S, (r,), "S"), array(Vt, (r, n), "Vt")


def svd_reconstructs(learner: Learner, A: np.ndarray) -> None:
    U, S, Vt = _svd(learner, A)
    rebuilt = U @ np.diag(S) @ Vt
    if not np.allclose(rebuilt, A, atol=1e-6):
        raise Mismatch(f"U @ diag(S) @ Vt is {show(rebuilt)}, expected {show(A)}", got=Vt)


SVD_DIAGNOSES = (
    Diagnosis(
        "V for Vt",
        "Your third result is V, not V transposed: return Vt, whose rows are the right "
        "singular vectors (np.linalg.svd already gives Vt).",
        # A @ V = U diag(S): columns orthogonal with norms S, which A @ Vt has not in general
        lambda A, got: (
            got.shape == (A.shape[1], A.shape[1])
            and np.allclose((A @ got).T @ (A @ got), np.diag(np.linalg.svd(A)[1] ** 2))
        ),
    ),
)


def svd_values(learner: Learner, A: np.ndarray) -> None:
    _, S, _ = _svd(learner, A)
    close(S, ref.svd(A)[1], "S")


def svd_orthonormal(learner: Learner, A: np.ndarray) -> None:
    U, _, Vt = _svd(learner, A)
    rank = int((ref.svd(A)[1] > 1e-8).sum())  # vectors of zero singular values are free
    close(U[:, :rank].T @ U[:, :rank], np.eye(rank), "U.T @ U (columns of non-zero S)")
    close(Vt[:rank] @ Vt[:rank].T, np.eye(rank), "Vt @ Vt.T (rows of non-zero S)")


SVD = Check(
    2,
    "svd",
    "SVD from scratch",
    ("svd",),
    "svd(A) -> (U, S, Vt): the thin SVD of A (m, n), r = min(m, n): U (m, r), S (r,) "
    "non-negative and decreasing, Vt (r, n), with A = U @ diag(S) @ Vt.",
    (
        Property(
            "U diag(S) Vt rebuilds A",
            matrices(small(1, 4), small(1, 4)),
            svd_reconstructs,
            SVD_VT,
            diagnoses=SVD_DIAGNOSES,
        ),
        Property(
            "singular values are right, non-negative and decreasing",
            matrices(small(1, 4), small(1, 4)),
            svd_values,
            SVD_DEF,
        ),
        Property(
            "U and V have orthonormal columns",
            matrices(small(1, 4), small(1, 4)),
            svd_orthonormal,
            SVD_DEF,
        ),
    ),
)


def symmetric(n: st.SearchStrategy[int]) -> st.SearchStrategy[np.ndarray]:
    return n.flatmap(lambda k: matrices(st.just(k), st.just(k))).map(lambda a: (a + a.T) / 2)


def _eigh(learner: Learner, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(A)
    values, vectors = parts(learner("eigh", A), 2, "eigh")
    return array(values, (n,), "eigenvalues"), array(vectors, (n, n), "eigenvectors")


def eig_pairs(learner: Learner, A: np.ndarray) -> None:
    values, vectors = _eigh(learner, A)
    close(
        A @ vectors,
        vectors * values,
        "A @ eigenvectors (compared with eigenvectors * eigenvalues)",
        atol=1e-6,
    )
    close(vectors.T @ vectors, np.eye(len(A)), "eigenvectors.T @ eigenvectors")


def eig_values(learner: Learner, A: np.ndarray) -> None:
    values, _ = _eigh(learner, A)
    close(np.sort(values), ref.eigh(A)[0], "the sorted eigenvalues")


EIGH = Check(
    2,
    "eigh",
    "Symmetric eigendecomposition from scratch",
    ("eigh",),
    "eigh(A) -> (eigenvalues, eigenvectors): A is a symmetric (n, n) matrix; "
    "eigenvalues (n,) in any order, eigenvectors (n, n) with the matching unit "
    "eigenvector in each column.",
    (
        Property(
            "A v = lambda v with orthonormal eigenvectors",
            symmetric(small(1, 4)),
            eig_pairs,
            EIG_DEF,
        ),
        Property("the eigenvalues are right", symmetric(small(1, 4)), eig_values, EIG_DEF),
    ),
)


# Week 3: Naive Bayes ---------------------------------------------------------------------------

NB_DEF = Hint(
    "Score each class by log prior + the sum over features of the log likelihoods, "
    "then normalise over classes.",
    3,
    "Naive Bayes",
    "conditionally independent",
)
NB_LOG = Hint(
    "Work with sums of log-probabilities and subtract the largest score before "
    "exponentiating: products of many small likelihoods underflow to 0.",
    3,
    "log-probabilities",
    "underflow",
)


@st.composite
def nb_inputs(draw, far: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = draw(small(1, 3))
    X = draw(matrices(small(6, 10), st.just(d)))
    y = np.array([i % 2 for i in range(len(X))])
    for c in (0, 1):
        assume((X[y == c].var(axis=0) > 0.05).all())
    test = draw(matrices(small(1, 3), st.just(d)))
    if far:
        test = test * 100 + 300
    return X, y, test


def nb_matches(learner: Learner, example: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, y, test = example
    probs = array(learner("naive_bayes", X, y, test), (len(test), 2), "probabilities")
    close(probs.sum(axis=1), np.ones(len(test)), "each row's sum")
    close(probs, ref.naive_bayes(X, y, test), "probabilities", atol=1e-6)


def nb_far(learner: Learner, example: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, y, test = example
    probs = array(
        learner("naive_bayes", X, y, test),
        (len(test), 2),
        "probabilities for points far from the training data",
    )
    close(probs, ref.naive_bayes(X, y, test), "probabilities far from the training data", atol=1e-4)


NAIVE_BAYES = Check(
    3,
    "naive_bayes",
    "Gaussian Naive Bayes from scratch",
    ("naive_bayes",),
    "naive_bayes(X_train, y_train, X_test) -> probabilities (m, C): Gaussian naive Bayes with "
    "class priors from the counts and per-class feature means and variances (maximum "
    "likelihood, var with ddof=0); columns are the classes in sorted order.",
    (
        Property("posteriors match and sum to 1", nb_inputs(False), nb_matches, NB_DEF),
        Property(
            "stable far from the training data (log-space)",
            nb_inputs(True),
            nb_far,
            NB_LOG,
            diagnoses=(
                Diagnosis(
                    "underflow",
                    "Your probabilities are NaN (or 0 and 1 where they should not be) far from "
                    "the training data: the product of densities underflowed to 0 / 0. Sum "
                    "log-densities and normalise with log-sum-exp.",
                    lambda example, got: (
                        not np.isfinite(got).all() or bool(np.isin(got, (0.0, 1.0)).any())
                    ),
                ),
            ),
        ),
    ),
)


# Week 5: micrograd-style autodiff --------------------------------------------------------------

GRAD_SUM = Hint(
    "Accumulate gradients with += in each _backward: a value used twice gets both contributions.",
    5,
    "computational graph",
    "instead of `+=`",
)
GRAD_ORDER = Hint(
    "Call each node's _backward in reverse topological order, starting from "
    "grad 1.0 at the output.",
    5,
    "backpropagation",
    "reverse topological order",
)
UNARY = ("tanh", "relu", "exp", "neg")


@st.composite
def programs(draw, reuse: bool) -> tuple[list[float], list[list]]:
    """A small expression graph: leaves, then ops on earlier nodes; with `reuse` a node is
    always used twice (x * x, or a diamond)."""
    leaves = draw(st.lists(st.floats(-2, 2).map(lambda x: round(x, 1)), min_size=1, max_size=3))
    assume(all(abs(x) > 0.05 for x in leaves))
    steps: list[list] = []
    if reuse:
        steps.append(["mul" if draw(st.booleans()) else "add", 0, 0])
    for _ in range(draw(small(1, 5))):
        size = len(leaves) + len(steps)
        a = draw(small(0, size - 1))
        op = draw(st.sampled_from(["add", "mul", "sub", "truediv", "radd", "rmul", "pow", *UNARY]))
        if op in ("radd", "rmul"):
            b = draw(st.sampled_from([2.0, -3.0, 0.5]))
        elif op == "pow":
            b = draw(st.sampled_from([2, 3]))
        else:
            b = draw(small(0, size - 1))
        steps.append([op, a, b])
    if reuse:  # the output joins the first node twice again: a diamond
        steps.append(["add", len(leaves) + len(steps) - 1, len(leaves)])
    return leaves, steps


def program_text(example: tuple[list[float], list[list]]) -> str:
    """The drawn expression graph as the Python a learner would write."""
    leaves, steps = example
    names = [f"x{i}" for i in range(len(leaves))]
    lines = [f"{n} = Value({x})" for n, x in zip(names, leaves, strict=True)]
    forms = {
        "add": "{a} + {b}",
        "mul": "{a} * {b}",
        "sub": "{a} - {b}",
        "truediv": "{a} / {b}",
        "radd": "{b} + {a}",
        "rmul": "{b} * {a}",
        "pow": "{a} ** {b}",
        "neg": "-{a}",
        "tanh": "{a}.tanh()",
        "relu": "{a}.relu()",
        "exp": "{a}.exp()",
    }
    for i, (op, a, b) in enumerate(steps):
        other = names[b] if isinstance(b, int) and op != "pow" else b
        names.append(f"n{i}")
        lines.append(f"n{i} = " + forms[op].format(a=names[a], b=other))
    return "; ".join([*lines, f"{names[-1]}.backward()"])


def _reference_program(leaves: list[float], steps: list[list]) -> tuple[list[float], list[float]]:
    result = child.grad_program(ref.Value, leaves, steps)  # the child's evaluator
    return result["data"], result["grad"]


def _usable(leaves: list[float], steps: list[list]) -> bool:
    with np.errstate(all="ignore"):
        try:
            data, grads = _reference_program(leaves, steps)
        except (ZeroDivisionError, OverflowError):
            return False
    values = [data[a] for op, a, _ in steps if op == "relu"]
    values += [data[b] for op, _, b in steps if op == "truediv"]
    return all(abs(v) > 1e-3 for v in values) and all(abs(v) < 1e6 for v in data + grads)


def autodiff_program(learner: Learner, example: tuple[list[float], list[list]]) -> None:
    leaves, steps = example
    assume(_usable(leaves, steps))
    data, grads = _reference_program(leaves, steps)
    got = learner.request({"op": "grad_program", "cls": "Value", "leaves": leaves, "steps": steps})
    if not isinstance(got, dict) or "data" not in got:
        raise Mismatch("could not read .data and .grad from your Value objects")
    close(np.array(got["data"]), np.array(data), ".data of every node")
    close(np.array(got["grad"]), np.array(grads), ".grad of the inputs")


def _reused(example: tuple[list[float], list[list]], got: np.ndarray) -> bool:
    """The program uses a node twice (only then does `=` for `+=` show)."""
    _, steps = example
    used = [a for _, a, _ in steps]
    used += [b for op, _, b in steps if op in ("add", "mul", "sub", "truediv")]
    return len(used) != len(set(used))


AUTODIFF_DIAGNOSES = (
    Diagnosis(
        "assigned gradient",
        "A value used more than once keeps only one path's gradient: in each _backward, add to "
        ".grad (+=) instead of assigning it (=), so every use contributes.",
        _reused,
    ),
)


AUTODIFF = Check(
    5,
    "autodiff",
    "micrograd-style autodiff engine",
    ("Value",),
    "class Value(data): scalars with .data and .grad (0.0 at first); operators + - * / ** "
    "(a number exponent), unary -, and numbers on the left (2 + v, 3 * v); methods tanh(), "
    "relu(), exp(); backward() fills .grad of every value the output depends on.",
    (
        Property(
            "forward values and input gradients match",
            programs(False),
            autodiff_program,
            GRAD_ORDER,
            program_text,
        ),
        Property(
            "a value used twice gets both gradient contributions",
            programs(True),
            autodiff_program,
            GRAD_SUM,
            program_text,
            AUTODIFF_DIAGNOSES,
        ),
    ),
)


# Week 6: optimizers ------------------------------------------------------------------------------

MOMENTUM = Hint(
    "Keep a velocity: v = momentum * v + g, then w = w - lr * v (or the equivalent "
    "v = momentum * v - lr * g, w = w + v).",
    6,
    "momentum",
    "velocity",
)
ADAM_BIAS = Hint(
    "Divide m and v by (1 - beta1**t) and (1 - beta2**t), with t counting from 1: "
    "the first step should move each weight by about lr.",
    6,
    "Adam",
    "Skipping bias correction",
)
ADAM_DEF = Hint(
    "m and v are exponential averages of g and g*g; step by lr * m_hat / (sqrt(v_hat) + eps).",
    6,
    "Adam",
    "root-mean-square",
)


@st.composite
def gradient_runs(draw, steps: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    d = draw(small(1, 3))
    w0 = draw(matrices(st.just(1), st.just(d)))[0]
    grads = draw(matrices(small(*steps), st.just(d), -3, 3))
    return w0, list(grads)


def _run(
    learner: Learner, fn: str, w0: np.ndarray, grads: list[np.ndarray], hyper: dict[str, float]
) -> np.ndarray:
    path = learner.request({"op": "steps", "fn": fn, "w0": w0, "grads": grads, "hyper": hyper})
    return array(path, (len(grads), len(w0)), f"the weights after each {fn} step")


def _reference_run(step, w0, grads, hyper) -> np.ndarray:
    w, state, path = w0, None, []
    for g in grads:
        w, state = step(w, g, state, **hyper)
        path.append(w)
    return np.array(path)


def momentum_path(learner: Learner, example: tuple[np.ndarray, list[np.ndarray]]) -> None:
    w0, grads = example
    hyper = {"lr": 0.1, "momentum": 0.9}
    close(
        _run(learner, "sgd_momentum", w0, grads, hyper),
        _reference_run(ref.sgd_momentum, w0, grads, hyper),
        "your weights after each step",
    )


def momentum_zero(learner: Learner, example: tuple[np.ndarray, list[np.ndarray]]) -> None:
    w0, grads = example
    expected = w0 - 0.1 * np.cumsum(grads, axis=0)
    close(
        _run(learner, "sgd_momentum", w0, grads, {"lr": 0.1, "momentum": 0.0}),
        expected,
        "with momentum=0 (plain SGD) your weights",
    )


def _momentum_without_memory(example, got: np.ndarray) -> bool:
    """Weights where the velocity is rebuilt from this step's gradient alone."""
    w0, grads = example
    lr, mu = 0.1, 0.9
    for velocity in (lambda g: g, lambda g: mu * g + g):
        path = w0 - lr * np.cumsum([velocity(g) for g in grads], axis=0)
        if got.shape == path.shape and np.allclose(got, path):
            return True
    return False


MOMENTUM_DIAGNOSES = (
    Diagnosis(
        "no accumulation",
        "Your velocity does not carry over from step to step: return it in the state and "
        "update it from the previous one, v = momentum * v + g.",
        _momentum_without_memory,
    ),
)


SGD_MOMENTUM = Check(
    6,
    "sgd_momentum",
    "SGD with momentum from scratch",
    ("sgd_momentum",),
    "sgd_momentum(w, g, state, lr, momentum) -> (new_w, state): one step; state is None on "
    "the first step and whatever you returned after that (e.g. the velocity).",
    (
        Property("momentum 0 is plain SGD", gradient_runs((1, 4)), momentum_zero, MOMENTUM),
        Property(
            "weights follow heavy-ball momentum over several steps",
            gradient_runs((1, 6)),
            momentum_path,
            MOMENTUM,
            diagnoses=MOMENTUM_DIAGNOSES,
        ),
    ),
)

ADAM_HYPER = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def adam_first_step(learner: Learner, example: tuple[np.ndarray, list[np.ndarray]]) -> None:
    w0, grads = example
    assume(np.abs(grads[0]).min() > 1e-3)
    moved = _run(learner, "adam", w0, grads[:1], ADAM_HYPER)[0] - w0
    close(
        moved,
        -ADAM_HYPER["lr"] * np.sign(grads[0]),
        "your first step (w1 - w0)",
        atol=1e-6,
        rtol=1e-3,
    )


def adam_path(learner: Learner, example: tuple[np.ndarray, list[np.ndarray]]) -> None:
    w0, grads = example
    close(
        _run(learner, "adam", w0, grads, ADAM_HYPER),
        _reference_run(ref.adam, w0, grads, ADAM_HYPER),
        "your weights after each step",
        atol=1e-6,
        rtol=1e-5,
    )


def _adam_counting_from(first_t: int | None, example, got: np.ndarray) -> bool:
    """Whether `got` (the first step's move, or the weights after each step) is Adam with the
    step count t starting at `first_t` instead of 1 (None: no bias correction at all)."""
    w0, grads = example
    w, m, v, path = w0, np.zeros_like(w0), np.zeros_like(w0), []
    b1, b2, lr, eps = (ADAM_HYPER[k] for k in ("beta1", "beta2", "lr", "eps"))
    for t, g in enumerate(
        grads[: len(got) if got.ndim == 2 else 1], start=1 if first_t is None else first_t
    ):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat, v_hat = (m, v) if first_t is None else (m / (1 - b1**t), v / (1 - b2**t))
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(w)
    expected = np.array(path) if got.ndim == 2 else path[0] - w0
    return bool(np.allclose(got, expected, atol=1e-6, rtol=1e-5))


ADAM_DIAGNOSES = (
    Diagnosis(
        "no bias correction",
        "Your first step moves each weight by much less than lr: m and v start at 0, so "
        "divide them by (1 - beta1**t) and (1 - beta2**t) before the step.",
        lambda example, got: np.isfinite(got).all() and _adam_counting_from(None, example, got),
    ),
    Diagnosis(
        "off-by-one step",
        "Your bias correction uses a step count t that is off by one: t must be 1 on the first "
        "step (increment it before dividing by 1 - beta**t). With t = 0 the first step divides "
        "by zero; with t = 2 it moves less than lr.",
        lambda example, got: (
            not np.isfinite(got).all()
            or _adam_counting_from(2, example, got)
            or _adam_counting_from(0, example, got)
        ),
    ),
)


ADAM = Check(
    6,
    "adam",
    "Adam from scratch",
    ("adam",),
    "adam(w, g, state, lr, beta1, beta2, eps) -> (new_w, state): one Adam step with bias "
    "correction; state is None on the first step and whatever you returned after that.",
    (
        Property(
            "the first step moves each weight by lr (bias correction)",
            gradient_runs((1, 1)),
            adam_first_step,
            ADAM_BIAS,
            diagnoses=ADAM_DIAGNOSES,
        ),
        Property(
            "weights follow Adam over several steps",
            gradient_runs((2, 6)),
            adam_path,
            ADAM_DEF,
            diagnoses=ADAM_DIAGNOSES,
        ),
    ),
)


# Week 7: batch normalization ---------------------------------------------------------------------

BN_DEF = Hint(
    "Normalise each feature with the batch mean and the biased (divide by n) "
    "variance plus eps, then scale by gamma and shift by beta.",
    7,
    "batch normalization",
    "minibatch statistics",
)


@st.composite
def bn_inputs(draw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = draw(matrices(small(2, 6), small(1, 3)))
    d = x.shape[1]
    gamma, beta = draw(matrices(st.just(2), st.just(d), -3, 3))
    return x, gamma, beta


def _bn_sample(example, got: np.ndarray) -> bool:
    """The output (or its variance per feature) with the sample (n - 1) variance."""
    x, gamma, beta = example
    if got.shape == x.shape:
        unbiased = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + 1e-5)
        return np.allclose(got, gamma * unbiased + beta, atol=1e-5)
    return got.shape == (x.shape[1],) and np.allclose(got, (len(x) - 1) / len(x), atol=1e-3)


BN_DIAGNOSES = (
    Diagnosis(
        "sample statistics",
        "Your features come out with variance (n-1)/n, not 1: you normalised by the sample "
        "(n - 1) variance. Batch norm uses the biased one, x.var(axis=0) (divide by n).",
        _bn_sample,
    ),
)


def bn_matches(learner: Learner, example: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, gamma, beta = example
    got = array(learner("batchnorm", x, gamma, beta, 1e-5), x.shape, "batchnorm's output")
    close(got, ref.batchnorm(x, gamma, beta, 1e-5), "batchnorm's output", atol=1e-5)


def bn_standardises(learner: Learner, example: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x = example[0]
    assume((x.var(axis=0) > 0.1).all())
    d = x.shape[1]
    got = array(learner("batchnorm", x, np.ones(d), np.zeros(d), 1e-5), x.shape, "output")
    close(got.mean(axis=0), np.zeros(d), "each feature's mean (gamma=1, beta=0)", atol=1e-6)
    close(got.var(axis=0), np.ones(d), "each feature's variance (gamma=1, beta=0)", atol=1e-3)


BATCHNORM = Check(
    7,
    "batchnorm",
    "Batch normalization (training mode)",
    ("batchnorm",),
    "batchnorm(x, gamma, beta, eps) -> y: x is (n, d); normalise each feature (column) by the "
    "batch mean and variance, then y = gamma * x_hat + beta (gamma, beta are (d,)).",
    (
        Property(
            "gamma=1, beta=0 gives features with mean 0 and variance 1",
            bn_inputs(),
            bn_standardises,
            BN_DEF,
            diagnoses=BN_DIAGNOSES,
        ),
        Property(
            "output matches with any gamma and beta",
            bn_inputs(),
            bn_matches,
            BN_DEF,
            diagnoses=BN_DIAGNOSES,
        ),
    ),
)


# Week 8: convolution ----------------------------------------------------------------------------

CONV_XCORR = Hint(
    "Slide the kernel without flipping it (deep learning's convolution is cross-correlation).",
    8,
    "convolution",
    "cross-correlation",
)
CONV_SHAPE = Hint(
    "The output has (H + 2*padding - kh) // stride + 1 rows, and likewise columns.",
    8,
    "convolution",
    "stride",
)


@st.composite
def conv_inputs(draw) -> tuple[np.ndarray, np.ndarray, int, int]:
    x = draw(matrices(small(2, 6), small(2, 6)))
    kernel = draw(matrices(small(1, min(3, x.shape[0])), small(1, min(3, x.shape[1]))))
    return x, kernel, draw(small(1, 2)), draw(small(0, 1))


def conv_matches(learner: Learner, example: tuple[np.ndarray, np.ndarray, int, int]) -> None:
    x, kernel, stride, padding = example
    expected = ref.conv2d(x, kernel, stride, padding)
    got = array(
        learner("conv2d", x, kernel, stride=stride, padding=padding),
        expected.shape,
        f"conv2d's output (stride={stride}, padding={padding})",
    )
    close(got, expected, "conv2d's output")


CONV_DIAGNOSES = (
    Diagnosis(
        "flipped kernel",
        "Your output is a true convolution, with the kernel flipped: slide the kernel as it "
        "is, y[i, j] = sum(x[i:i+kh, j:j+kw] * kernel) (cross-correlation, as in PyTorch).",
        lambda example, got: np.allclose(got, ref.conv2d(example[0], example[1][::-1, ::-1])),
    ),
)


def conv_unflipped(learner: Learner, example: tuple[np.ndarray, np.ndarray, int, int]) -> None:
    x, kernel, _, _ = example
    expected = ref.conv2d(x, kernel)
    got = array(learner("conv2d", x, kernel), expected.shape, "conv2d's output")
    close(got, expected, "conv2d's output (stride 1, no padding)")


CONV2D = Check(
    8,
    "conv2d",
    "2-D convolution from scratch",
    ("conv2d",),
    "conv2d(x, kernel, stride=1, padding=0) -> y: x (H, W), kernel (kh, kw); zero padding on "
    "all sides; y[i, j] = sum(x_window * kernel) (cross-correlation, as in PyTorch).",
    (
        Property(
            "stride 1, no padding: kernel slides unflipped",
            conv_inputs(),
            conv_unflipped,
            CONV_XCORR,
            diagnoses=CONV_DIAGNOSES,
        ),
        Property(
            "output shape and values with stride and padding",
            conv_inputs(),
            conv_matches,
            CONV_SHAPE,
        ),
    ),
)


# Week 10: k-means ------------------------------------------------------------------------------

LLOYD = Hint(
    "Each round: assign every point to its nearest centroid, then move each centroid "
    "to the mean of its points (keep a centroid with no points).",
    10,
    "Lloyd's algorithm",
    "assignment",
)


@st.composite
def kmeans_inputs(draw) -> tuple[np.ndarray, np.ndarray, int]:
    X = draw(matrices(small(3, 8), small(1, 2)))
    k = draw(small(1, min(3, len(X))))
    centroids = X[:k] + 0.01
    return X, centroids, draw(small(1, 3))


def _no_ties(X: np.ndarray, centroids: np.ndarray, iters: int) -> bool:
    c = np.array(centroids, float)
    for _ in range(iters):
        distances = np.sort(((X[:, None] - c[None]) ** 2).sum(axis=2), axis=1)
        if distances.shape[1] > 1 and (distances[:, 1] - distances[:, 0] < 1e-6).any():
            return False
        c, _ = ref.kmeans(X, c, 1)
    return True


def kmeans_matches(learner: Learner, example: tuple[np.ndarray, np.ndarray, int]) -> None:
    X, centroids, iters = example
    assume(_no_ties(X, centroids, iters))
    expected_c, expected_labels = ref.kmeans(X, centroids, iters)
    got_c, labels = parts(learner("kmeans", X, centroids, iters), 2, "kmeans")
    got_c = array(got_c, centroids.shape, "centroids")
    labels = array(labels, (len(X),), "labels")
    close(labels, expected_labels, f"labels after {iters} round(s)")
    close(got_c, expected_c, f"centroids after {iters} round(s)")


KMEANS = Check(
    10,
    "kmeans",
    "k-means (Lloyd's algorithm) from scratch",
    ("kmeans",),
    "kmeans(X, centroids, iters) -> (centroids, labels): X (n, d), starting centroids (k, d); "
    "iters rounds of assign-then-update; labels (n,) from the last assignment; a centroid "
    "with no points stays where it is.",
    (
        Property(
            "centroids and labels follow Lloyd's rounds", kmeans_inputs(), kmeans_matches, LLOYD
        ),
    ),
)


# Week 13: softmax and cross-entropy -------------------------------------------------------------

SOFTMAX_MAX = Hint(
    "Subtract each row's largest logit before exp: exp(1000) overflows to inf and inf/inf is NaN.",
    6,
    "cross-entropy loss",
    "subtracting the max",
)
NLL = Hint(
    "The loss is the mean of -log softmax(logits)[target]; use log-softmax "
    "(logits - max - log(sum(exp(logits - max)))) rather than log(softmax).",
    13,
    "Negative log-likelihood",
    "numerically unstable",
)


@st.composite
def logits_inputs(draw, scale: float) -> tuple[np.ndarray, np.ndarray]:
    logits = draw(matrices(small(1, 4), small(2, 5))) * scale
    targets = np.array(
        draw(st.lists(small(0, logits.shape[1] - 1), min_size=len(logits), max_size=len(logits)))
    )
    return logits, targets


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """A stable softmax over `axis` (the reference's, over any axis: what a bug computes)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


AXIS = Hint(
    "Take the softmax over the last axis.", 18, "Scaled dot-product attention", "the wrong axis"
)
SOFTMAX_DIAGNOSES = (
    Diagnosis(
        "wrong axis",
        "Your columns sum to 1, not your rows: that is a softmax down axis 0. Take it over "
        "the last axis, each row of logits: subtract z.max(axis=-1, keepdims=True), "
        "exponentiate, and divide by the sum over axis=-1 (keepdims=True).",
        lambda example, got: np.allclose(got, _softmax(example[0], axis=0)),
        AXIS,
    ),
    Diagnosis(
        "overflow",
        "Your result holds NaN or inf: exp of a large logit overflowed. Subtract each row's "
        "largest logit before exp (the softmax does not change).",
        lambda example, got: not np.isfinite(got).all(),
    ),
)


def softmax_matches(learner: Learner, example: tuple[np.ndarray, np.ndarray]) -> None:
    logits = example[0]
    got = array(learner("softmax", logits), logits.shape, f"softmax of {show(logits)}")
    close(got, ref.softmax(logits), "softmax")


def cross_entropy_matches(learner: Learner, example: tuple[np.ndarray, np.ndarray]) -> None:
    logits, targets = example
    got = array(learner("cross_entropy", logits, targets), (), "cross_entropy")
    close(got, np.array(ref.cross_entropy(logits, targets)), "cross_entropy", rtol=1e-6)


SOFTMAX = Check(
    13,
    "softmax",
    "Softmax and cross-entropy from scratch",
    ("softmax", "cross_entropy"),
    "softmax(logits) -> probs over the last axis (same shape); cross_entropy(logits, targets) "
    "-> float: the mean negative log-likelihood, logits (n, C), targets (n,) class indices.",
    (
        Property(
            "softmax matches on ordinary logits",
            logits_inputs(1.0),
            softmax_matches,
            SOFTMAX_MAX,
            diagnoses=SOFTMAX_DIAGNOSES,
        ),
        Property(
            "softmax is stable for large logits",
            logits_inputs(300.0),
            softmax_matches,
            SOFTMAX_MAX,
            diagnoses=SOFTMAX_DIAGNOSES,
        ),
        Property(
            "cross-entropy matches, even for large logits",
            logits_inputs(300.0),
            cross_entropy_matches,
            NLL,
        ),
    ),
)


# Week 18: attention -----------------------------------------------------------------------------

ATT_SCALE = Hint(
    "Divide the scores Q K^T by sqrt(d_k), not d_k.",
    18,
    "Scaled dot-product attention",
    "divided by $\\sqrt{d_k}$",
)
ATT_SOFTMAX = Hint(
    "Softmax over the keys (each query's row), so each row of weights sums to 1.",
    18,
    "Scaled dot-product attention",
    "softmax turns scores",
)
ATT_MASK = Hint(
    "Set masked scores to -inf before the softmax, not the weights after it.",
    18,
    "Scaled dot-product attention",
    "Masking after the softmax",
)


@st.composite
def attention_inputs(draw, masked: bool, scale: float = 1.0):
    d = draw(small(1, 4))
    Q = draw(matrices(small(1, 3), st.just(d))) * scale
    K = draw(matrices(small(1, 4), st.just(d))) * scale
    V = draw(matrices(st.just(len(K)), small(1, 3)))
    if not masked:
        return Q, K, V, None
    mask = np.array(
        draw(
            st.lists(
                st.lists(st.booleans(), min_size=len(K), max_size=len(K)),
                min_size=len(Q),
                max_size=len(Q),
            )
        )
    )
    mask[:, 0] = True  # every query attends to something
    return Q, K, V, mask


def _weights(example, scale: float | None = None, mask=None, axis: int = -1) -> np.ndarray:
    """Attention weights as a bug computes them: scores divided by `scale` (default
    sqrt(d_k)), `mask` (True: may attend) applied as -inf before a softmax over `axis`."""
    Q, K = example[0], example[1]
    scores = Q @ K.T / (np.sqrt(Q.shape[1]) if scale is None else scale)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return _softmax(scores, axis)


def _inverted_mask(example, got: np.ndarray) -> bool:
    """Weights as if True meant "masked out": where that leaves a query some key, its softmax
    over those keys; where it masks every key, NaN (-inf everywhere) or uniform (-1e9)."""
    mask = example[3]
    if mask is None:
        return False
    some = (~mask).any(axis=1)
    rest = got[~some]
    everything_masked = (~np.isfinite(rest)).all() or np.allclose(rest, 1 / got.shape[1])
    return everything_masked and np.allclose(got[some], _weights(example, mask=~mask)[some])


def _mask_after(example, got: np.ndarray) -> bool:
    mask = example[3]
    return mask is not None and not mask.all() and np.allclose(got, _weights(example) * mask)


ATT_ROWS = Hint(
    "One row of weights per query.", 18, "Check yourself", "each query's weights sum to 1"
)
CAUSAL = Hint(
    "True in the mask means 'may attend'.", 25, "Causal self-attention", "may attend only"
)
ATTENTION_DIAGNOSES = (
    Diagnosis(
        "transposed output",
        "Your weights come back transposed, one row per key: return them with one row per "
        "query, shape (n, m), and output = weights @ V.",
        lambda example, got: np.allclose(got.T, _weights(example, mask=example[3])),
        ATT_ROWS,
    ),
    Diagnosis(
        "missing scale",
        "Your weights are softmax(Q K^T) with no scaling: divide the scores by sqrt(d_k) "
        "before the softmax.",
        lambda example, got: (
            example[0].shape[1] > 1 and np.allclose(got, _weights(example, 1.0, example[3]))
        ),
    ),
    Diagnosis(
        "extra scale",
        "Your weights are softmax(Q K^T / d_k): divide the scores by sqrt(d_k), not d_k.",
        lambda example, got: (
            example[0].shape[1] > 1
            and np.allclose(got, _weights(example, float(example[0].shape[1]), example[3]))
        ),
    ),
    Diagnosis(
        "wrong axis",
        "Your weights' columns sum to 1, not the rows: the softmax went over the queries "
        "(axis 0). Take it over the keys, axis -1, so that each query's row sums to 1.",
        lambda example, got: (
            len(got) > 1 and np.allclose(got, _weights(example, mask=example[3], axis=0))
        ),
    ),
    Diagnosis(
        "inverted mask",
        "Your weights attend exactly where the mask is False. In this interface True means "
        "'may attend': keep the scores where mask is True and set the others to -inf, "
        "np.where(mask, scores, -np.inf).",
        _inverted_mask,
        CAUSAL,
    ),
    Diagnosis(
        "mask after softmax",
        "Your weights are the unmasked softmax with the masked positions zeroed afterwards, "
        "so the rows no longer sum to 1: set masked scores to -inf before the softmax.",
        _mask_after,
        ATT_MASK,
    ),
)


def _attention(learner: Learner, example) -> tuple[np.ndarray, np.ndarray]:
    Q, K, V, mask = example
    kwargs = {} if mask is None else {"mask": mask}
    out, weights = parts(learner("attention", Q, K, V, **kwargs), 2, "attention")
    return (array(out, (len(Q), V.shape[1]), "output"), array(weights, (len(Q), len(K)), "weights"))


def attention_rows(learner: Learner, example) -> None:
    _, weights = _attention(learner, example)
    sums = weights.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        raise Mismatch(f"the rows of weights sum to {show(sums)}, expected 1", got=weights)
    if (weights < -1e-12).any():
        raise Mismatch(f"weights are negative: {show(weights)}", got=weights)


def attention_matches(learner: Learner, example) -> None:
    out, weights = _attention(learner, example)
    expected_out, expected_weights = ref.attention(*example)
    close(weights, expected_weights, f"weights (d_k = {example[0].shape[1]})")
    close(out, expected_out, "output")


def attention_masked(learner: Learner, example) -> None:
    _, weights = _attention(learner, example)
    mask = example[3]
    if (np.abs(weights[~mask]) > 1e-9).any():
        raise Mismatch(
            f"with mask {show(mask)} masked positions get weights {show(weights)}", got=weights
        )
    close(weights, ref.attention(*example)[1], "weights under the mask")


ATTENTION = Check(
    18,
    "attention",
    "Scaled dot-product attention from scratch",
    ("attention",),
    "attention(Q, K, V, mask=None) -> (output, weights): Q (n, d_k), K (m, d_k), V (m, d_v); "
    "mask (n, m) booleans, True where a query may attend; output (n, d_v), weights (n, m).",
    (
        Property(
            "weights are non-negative and each row sums to 1",
            attention_inputs(False),
            attention_rows,
            ATT_SOFTMAX,
            diagnoses=ATTENTION_DIAGNOSES,
        ),
        Property(
            "weights and output match softmax(Q K^T / sqrt(d_k)) V",
            attention_inputs(False),
            attention_matches,
            ATT_SCALE,
            diagnoses=ATTENTION_DIAGNOSES,
        ),
        Property(
            "masked positions get weight 0",
            attention_inputs(True),
            attention_masked,
            ATT_MASK,
            diagnoses=ATTENTION_DIAGNOSES,
        ),
        Property(
            "stable for large scores", attention_inputs(False, 100.0), attention_rows, SOFTMAX_MAX
        ),
    ),
)


# Week 26: temperature, top-k, top-p ----------------------------------------------------------------

TEMPERATURE = Hint(
    "Divide the logits by the temperature, then take a (stable) softmax.",
    26,
    "Temperature",
    "divides the logits",
)
TOP_K = Hint(
    "Keep the k largest probabilities, zero the others and renormalise.",
    26,
    "Top-k and nucleus sampling",
    "k$ most probable",
)
TOP_P = Hint(
    "Sort descending and keep tokens until the running total first reaches p - the "
    "token that crosses p is kept, none after it - then renormalise.",
    26,
    "Top-k and nucleus sampling",
    "smallest set",
)


@st.composite
def distributions(draw) -> np.ndarray:
    logits = (
        np.array(draw(st.lists(st.integers(-40, 40), min_size=2, max_size=6, unique=True)), float)
        / 10
    )
    return ref.softmax(logits)


def temperature_matches(learner: Learner, example: tuple[np.ndarray, float]) -> None:
    logits, t = example
    got = array(
        learner("apply_temperature", logits, t), logits.shape, f"apply_temperature(logits, {t})"
    )
    close(got, ref.apply_temperature(logits, t), f"apply_temperature(logits, {t})")


def top_k_matches(learner: Learner, example: tuple[np.ndarray, int]) -> None:
    probs, k = example
    assume(k <= len(probs))
    got = array(learner("top_k", probs, k), probs.shape, f"top_k(probs, {k})")
    close(got, ref.top_k(probs, k), f"top_k(probs={show(probs)}, k={k})")


def top_p_matches(learner: Learner, example: tuple[np.ndarray, float]) -> None:
    probs, p = example
    assume(np.abs(np.cumsum(np.sort(probs)[::-1]) - p).min() > 1e-6)
    got = array(learner("top_p", probs, p), probs.shape, f"top_p(probs, {p})")
    close(got, ref.top_p(probs, p), f"top_p(probs={show(probs)}, p={p})")


def _nucleus_of(size: int, probs: np.ndarray) -> np.ndarray:
    """The `size` most probable tokens kept, renormalised."""
    order = np.argsort(probs)[::-1][:size]
    kept = np.zeros_like(probs)
    kept[order] = probs[order]
    return kept / kept.sum()


def _nucleus_off_by_one(example: tuple[np.ndarray, float], got: np.ndarray) -> bool:
    probs, p = example
    size = int((ref.top_p(probs, p) > 0).sum())
    return any(
        0 < n <= len(probs) and np.allclose(got, _nucleus_of(n, probs))
        for n in (size - 1, size + 1)
    )


TOP_P_DIAGNOSES = (
    Diagnosis(
        "nucleus off by one",
        "Your nucleus is one token too large or too small: keep tokens, most probable first, "
        "up to and including the first whose running total reaches p, and none after it.",
        _nucleus_off_by_one,
    ),
)


SAMPLING = Check(
    26,
    "sampling",
    "Temperature, top-k and nucleus (top-p) sampling",
    ("apply_temperature", "top_k", "top_p"),
    "apply_temperature(logits, temperature) -> probs (softmax(logits / temperature)); "
    "top_k(probs, k) -> probs with all but the k largest zeroed, renormalised; top_p(probs, p) "
    "-> probs keeping the smallest set of most probable tokens whose total is >= p, "
    "renormalised. All 1-D arrays.",
    (
        Property(
            "temperature scales the logits before a stable softmax",
            st.tuples(
                st.lists(st.integers(-500, 500), min_size=2, max_size=5).map(
                    lambda xs: np.array(xs, float)
                ),
                st.sampled_from([0.5, 1.0, 2.0]),
            ),
            temperature_matches,
            TEMPERATURE,
        ),
        Property(
            "top-k keeps exactly the k most probable",
            st.tuples(distributions(), small(1, 6)),
            top_k_matches,
            TOP_K,
        ),
        Property(
            "top-p keeps the smallest set reaching p",
            st.tuples(distributions(), st.sampled_from([0.3, 0.5, 0.7, 0.9])),
            top_p_matches,
            TOP_P,
            diagnoses=TOP_P_DIAGNOSES,
        ),
    ),
)


CHECKS: tuple[Check, ...] = (
    PCA,
    SVD,
    EIGH,
    NAIVE_BAYES,
    AUTODIFF,
    SGD_MOMENTUM,
    ADAM,
    BATCHNORM,
    CONV2D,
    KMEANS,
    SOFTMAX,
    ATTENTION,
    SAMPLING,
    *later_checks(),
)


def checks_of(week: int) -> list[Check]:
    """The checks of a week's assignments (empty when the week has none)."""
    return [c for c in CHECKS if c.week == week]


def check_weeks() -> list[int]:
    """The weeks that have checks, in order."""
    return sorted({c.week for c in CHECKS})
