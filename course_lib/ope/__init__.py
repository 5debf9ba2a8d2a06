"""Lesson 06: off-policy evaluation, estimating a new policy's value from an old policy's log.

A logging policy pi_0 chose action a_i in context x_i with propensity p_i = pi_0(a_i | x_i) and
observed reward r_i.  The estimators below guess V(pi) = E_x E_{a ~ pi(.|x)} [r(x, a)] for a
different policy pi from those arrays alone:

- replay / rejection sampling (Li, Chu, Langford and Wang, "Unbiased offline evaluation of
  contextual-bandit-based news article recommendation algorithms", WSDM 2011);
- inverse propensity scoring (IPS, Horvitz and Thompson 1952), clipped IPS, self-normalised
  IPS (SNIPS);
- the direct method (DM) with a fitted reward model q_hat(x, a);
- doubly robust (DR; Dudik, Langford and Li, "Doubly robust policy evaluation and learning",
  ICML 2011) and its self-normalised variant (SNDR);
- SWITCH (Wang, Agarwal and Dudik, "Optimal and adaptive off-policy evaluation in contextual
  bandits", ICML 2017): IPS below a weight threshold tau, the reward model above it.

Every estimator is a function of arrays of logged events and reduces over the LAST axis, so a
Monte Carlo over R logs passes arrays of shape (R, n) and gets R estimates in one call.  Each
returns an ``Estimate`` with the value, a standard error and a normal 95% confidence interval.

The module also holds the effective sample size of importance weights, inverse-examination
weighting for position bias (the position-based click model; Joachims, Swaminathan and
Schnabel, "Unbiased learning-to-rank with biased feedback", WSDM 2017), a small policy learner
that maximises a variance-penalised SNIPS objective (in the spirit of POEM; Swaminathan and
Joachims, "Counterfactual risk minimization", ICML/JMLR 2015, and "The self-normalized
estimator for counterfactual learning", NeurIPS 2015), and the references of the lesson's exercises.

Replay of a LEARNING bandit (Li et al. 2011's purpose) is ``replay_learning`` (sub-module ``learning_replay``), and a paired
bootstrap comparison of two rankers over the same queries is ``paired_bootstrap`` (``compare``).

Sub-modules: ``estimators``, ``policies``, ``logs``, ``position``, ``poem``, ``reward_model``, ``learning_replay``, ``compare``; every public name is re-exported here,
so ``from course_lib import ope`` gives the whole lesson API.
"""

from course_lib.ope.estimators import (  # noqa: F401
    Z95,
    Estimate,
    importance_weights,
    ips,
    clipped_ips,
    snips,
    direct_method,
    doubly_robust,
    self_normalised_dr,
    replay,
    switch,
    effective_sample_size,
    all_estimates,
    ips_value,
    dr_value,
    sndr_value,
)
from course_lib.ope.policies import (  # noqa: F401
    epsilon_greedy_probs,
    sample_actions,
    softmax,
)
from course_lib.ope.logs import (  # noqa: F401
    SimulatedLogs,
    simulate_logs,
    policy_value,
    estimates_on_logs,
)
from course_lib.ope.position import (  # noqa: F401
    item_click_rates,
)
from course_lib.ope.poem import (  # noqa: F401
    poem_objective,
    POEMPolicy,
)
from course_lib.ope.reward_model import (  # noqa: F401
    RewardModel,
)

from course_lib.ope.learning_replay import LearningReplay, replay_learning  # noqa: F401
from course_lib.ope.compare import PairedComparison, paired_bootstrap  # noqa: F401
from course_lib.ope.diagnostics import chi2_divergence, mean_weight, support_check, support_mass  # noqa: F401

__all__ = [
    "Z95",
    "Estimate",
    "importance_weights",
    "ips",
    "clipped_ips",
    "snips",
    "direct_method",
    "doubly_robust",
    "self_normalised_dr",
    "replay",
    "replay_learning",
    "LearningReplay",
    "paired_bootstrap",
    "PairedComparison",
    "switch",
    "effective_sample_size",
    "mean_weight",
    "support_mass",
    "chi2_divergence",
    "support_check",
    "all_estimates",
    "ips_value",
    "dr_value",
    "sndr_value",
    "epsilon_greedy_probs",
    "softmax",
    "sample_actions",
    "SimulatedLogs",
    "simulate_logs",
    "policy_value",
    "estimates_on_logs",
    "item_click_rates",
    "poem_objective",
    "POEMPolicy",
    "RewardModel",
]
