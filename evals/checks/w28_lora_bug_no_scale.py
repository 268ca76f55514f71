# week 28 lora: fail "forward is" [missing scale] (the update added without the alpha / r scaling)


def lora_forward(x, W, A, B, alpha, r):
    return x @ W.T + x @ A.T @ B.T


def lora_merge(W, A, B, alpha, r):
    return W + (alpha / r) * B @ A
