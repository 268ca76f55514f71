"""Reference implementations of the plan's from-scratch assignments (never shown to learners).

The checks compare a learner's results with these. The module uses NumPy only and defines
exactly the interface each check asks of the learner, so it is also a complete "learner file"
that must pass every check (the measurement in evals/checks.py starts from that).
"""

from __future__ import annotations

import math

import numpy as np


def pca(X, k):
    """Week 1. X (n, d), k <= d -> (components (k, d) orthonormal rows, explained_variance (k,)
    sample variances, largest first)."""
    centred = X - X.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred / (len(X) - 1))
    order = np.argsort(values)[::-1][:k]
    return vectors[:, order].T, values[order]


def svd(A):
    """Week 2. A (m, n) -> thin U (m, r), S (r,) descending, Vt (r, n), r = min(m, n)."""
    return np.linalg.svd(A, full_matrices=False)


def eigh(A):
    """Week 2. Symmetric A (n, n) -> (eigenvalues (n,), eigenvectors (n, n) as columns)."""
    return np.linalg.eigh(A)


def naive_bayes(X_train, y_train, X_test):
    """Week 3. Gaussian naive Bayes: class priors from counts, per-class feature means and
    maximum-likelihood variances -> posterior probabilities (m, C), classes in sorted order."""
    classes = np.unique(y_train)
    scores = []
    for c in classes:
        rows = X_train[y_train == c]
        mean, var = rows.mean(axis=0), rows.var(axis=0)
        log_likelihood = -0.5 * (np.log(2 * np.pi * var) + (X_test - mean) ** 2 / var).sum(axis=1)
        scores.append(np.log(len(rows) / len(X_train)) + log_likelihood)
    scores = np.stack(scores, axis=1)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    return probs / probs.sum(axis=1, keepdims=True)


class Value:
    """Week 5. A scalar that records the operations on it and backpropagates gradients."""

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward():
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if node not in seen:
                seen.add(node)
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1


def sgd_momentum(w, g, state, lr, momentum):
    """Week 6. One step of SGD with (heavy-ball) momentum: v = momentum v + g; w = w - lr v.
    `state` is None on the first step -> (new w, new state)."""
    velocity = g if state is None else momentum * state + g
    return w - lr * velocity, velocity


def adam(w, g, state, lr, beta1, beta2, eps):
    """Week 6. One Adam step with bias correction; `state` is None on the first step."""
    m, v, t = state if state is not None else (np.zeros_like(w), np.zeros_like(w), 0)
    t += 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), (m, v, t)


def batchnorm(x, gamma, beta, eps):
    """Week 7. Batch normalization in training mode: x (n, d) normalized per feature with the
    batch mean and biased variance, then scaled by gamma (d,) and shifted by beta (d,)."""
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta


def conv2d(x, kernel, stride=1, padding=0):
    """Week 8. 2-D cross-correlation (deep learning's convolution) of x (H, W) with kernel
    (kh, kw), zero padding on every side, stride in both directions."""
    x = np.pad(x, padding)
    kh, kw = kernel.shape
    rows = (x.shape[0] - kh) // stride + 1
    cols = (x.shape[1] - kw) // stride + 1
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (
                x[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel
            ).sum()
    return out


def kmeans(X, centroids, iters):
    """Week 10. `iters` rounds of Lloyd's algorithm from the given centroids (k, d): assign each
    point to its nearest centroid, then move each centroid to its points' mean (an empty
    cluster keeps its centroid) -> (centroids, labels of the last assignment)."""
    centroids = np.array(centroids, dtype=float)
    labels = np.zeros(len(X), dtype=int)
    for _ in range(iters):
        labels = ((X[:, None, :] - centroids[None]) ** 2).sum(axis=2).argmin(axis=1)
        for j in range(len(centroids)):
            if (labels == j).any():
                centroids[j] = X[labels == j].mean(axis=0)
    return centroids, labels


def softmax(logits):
    """Week 13. Softmax over the last axis, stable for large logits."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(logits, targets):
    """Week 13. Mean negative log-likelihood of integer `targets` (n,) under logits (n, C)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(targets)), targets.astype(int)].mean())


def attention(Q, K, V, mask=None):
    """Week 18. Scaled dot-product attention: Q (n, d_k), K (m, d_k), V (m, d_v), mask (n, m)
    booleans, True where a query may attend -> (output (n, d_v), weights (n, m))."""
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores)
    return weights @ V, weights


def apply_temperature(logits, temperature):
    """Week 26. The next-token distribution softmax(logits / temperature)."""
    return softmax(logits / temperature)


def top_k(probs, k):
    """Week 26. Keep the k most probable tokens, zero the rest, renormalize."""
    keep = np.argsort(probs)[::-1][:k]
    out = np.zeros_like(probs)
    out[keep] = probs[keep]
    return out / out.sum()


def top_p(probs, p):
    """Week 26. Nucleus: keep the smallest set of most probable tokens whose total is >= p."""
    order = np.argsort(probs)[::-1]
    size = int(np.searchsorted(np.cumsum(probs[order]), p) + 1)
    out = np.zeros_like(probs)
    out[order[:size]] = probs[order[:size]]
    return out / out.sum()
