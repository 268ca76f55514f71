# week 11 mlp_backprop: fail "gradients match" [missing ReLU mask] (no (H > 0) mask on dH)
import numpy as np


def mlp_backprop(X, y, W1, b1, W2, b2):
    N = X.shape[0]
    H = X @ W1 + b1
    A = np.maximum(H, 0)
    S = A @ W2 + b2
    P = np.exp(S - S.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    loss = -np.log(P[np.arange(N), y]).mean()
    dS = P.copy()
    dS[np.arange(N), y] -= 1
    dS /= N
    dW2, db2 = A.T @ dS, dS.sum(0)
    dH = dS @ W2.T
    dW1, db1 = X.T @ dH, dH.sum(0)
    return loss, dW1, db1, dW2, db2
