"""Week 28 reference: a LoRA (low-rank adaptation) linear layer and its merged weight.

Conventions (PyTorch's nn.Linear and the LoRA paper): the frozen weight W is (d_out, d_in) and
acts on rows of x (n, d_in) as x @ W.T; the update is Delta W = (alpha / r) * B @ A with
A (r, d_in), B (d_out, r), r the rank and alpha the scaling constant. B starts at zero in
training, so that the adapted layer starts as the frozen one.
"""

from __future__ import annotations


def lora_forward(x, W, A, B, alpha, r):
    """x (n, d_in), W (d_out, d_in), A (r, d_in), B (d_out, r), alpha > 0, rank r ->
    h (n, d_out) = x @ W.T + (alpha / r) * x @ A.T @ B.T, computed through the rank-r
    bottleneck x @ A.T (n, r) without forming B @ A."""
    return x @ W.T + (alpha / r) * (x @ A.T) @ B.T


def lora_merge(W, A, B, alpha, r):
    """W (d_out, d_in), A (r, d_in), B (d_out, r), alpha, r -> the merged weight
    W + (alpha / r) * B @ A (d_out, d_in): x @ merged.T equals lora_forward(x, W, A, B, alpha, r)."""
    return W + (alpha / r) * (B @ A)
