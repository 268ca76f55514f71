# week 38 preference_losses: fail "DPO loss is the mean" [beta on one term] (beta * chosen log-ratio - rejected log-ratio: the brackets around the difference left out)
import numpy as np


def reward_loss(r_chosen, r_rejected):
    return float(np.mean(np.logaddexp(0.0, r_rejected - r_chosen)))


def dpo_loss(logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta):
    margin = beta * (logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected)
    return float(np.mean(np.logaddexp(0.0, -margin)))
