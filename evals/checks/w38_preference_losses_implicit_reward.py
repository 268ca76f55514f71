# week 38 preference_losses: pass (DPO as the reward loss of the implicit rewards beta * log-ratio; log-sigmoid as a two-way log-softmax)
import numpy as np


def reward_loss(r_chosen, r_rejected):
    scores = np.stack([r_chosen, r_rejected], axis=1)  # (n, 2): a two-way softmax per pair
    top = scores.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
    return float(np.mean(log_norm - r_chosen))


def dpo_loss(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta):
    reward_chosen = beta * (logp_chosen - ref_logp_chosen)
    reward_rejected = beta * (logp_rejected - ref_logp_rejected)
    return reward_loss(reward_chosen, reward_rejected)
