# week 7 batchnorm: fail "mean 0 and variance 1" [sample statistics] (unbiased variance, ddof=1)
import numpy as np


def batchnorm(x, gamma, beta, eps):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + beta
