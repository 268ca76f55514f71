"""Week 38 reference: the losses of preference learning - the reward model's pairwise
(Bradley-Terry) loss and the DPO loss.

Conventions: each argument is a 1-D array with one entry per preference pair (n,), the chosen
(preferred) response first; log-probabilities are of whole responses (sums over their
tokens). Both losses are means over the pairs of -log sigmoid(margin), computed as
log(1 + exp(-margin)) = np.logaddexp(0, -margin), finite for any margin: log(sigmoid(z))
taken literally rounds sigmoid(z) to 0 for z below about -745 and overflows exp(-z) below
about -709.
"""

from __future__ import annotations

import numpy as np


def reward_loss(r_chosen, r_rejected):
    """r_chosen, r_rejected (n,) reward-model scores of each pair's chosen and rejected
    response -> float, mean over pairs of -log sigmoid(r_chosen - r_rejected)."""
    return float(np.mean(np.logaddexp(0.0, -(r_chosen - r_rejected))))


def dpo_loss(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta):
    """Policy log-probabilities logp_chosen, logp_rejected (n,), the frozen reference model's
    ref_logp_chosen, ref_logp_rejected (n,), beta > 0 -> float, mean over pairs of
    -log sigmoid(beta * ((logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected)))."""
    margin = beta * ((logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected))
    return float(np.mean(np.logaddexp(0.0, -margin)))
