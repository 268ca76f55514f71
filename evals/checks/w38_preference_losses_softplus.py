# week 38 preference_losses: pass (a piecewise softplus, max(-z, 0) + log1p(exp(-|z|)), looped over the pairs in DPO)
import math

import numpy as np


def softplus(z):
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def reward_loss(r_chosen, r_rejected):
    return float(softplus(r_rejected - r_chosen).mean())


def dpo_loss(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta):
    total = 0.0
    for pc, pr, rc, rr in zip(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected):
        z = beta * ((pc - rc) - (pr - rr))
        total += max(-z, 0.0) + math.log1p(math.exp(-abs(z)))
    return total / len(logp_chosen)
