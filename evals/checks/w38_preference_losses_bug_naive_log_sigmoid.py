# week 38 preference_losses: fail "large margins" [naive log sigmoid] (log of a sigmoid computed as 1 / (1 + exp(-z)): exp overflows, log(0) = -inf)
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reward_loss(r_chosen, r_rejected):
    return float(-np.mean(np.log(sigmoid(r_chosen - r_rejected))))


def dpo_loss(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta):
    margin = beta * ((logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected))
    return float(-np.mean(np.log(sigmoid(margin))))
