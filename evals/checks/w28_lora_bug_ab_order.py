# week 28 lora: fail "merged weight is" [transposed update] (A.T @ B.T for the update: the factors in the wrong order, the transpose of B A)


def lora_forward(x, W, A, B, alpha, r):
    return x @ W.T + (alpha / r) * x @ A.T @ B.T


def lora_merge(W, A, B, alpha, r):
    return W + (alpha / r) * A.T @ B.T
