"""Lesson 02: multi-armed bandits, exploration versus exploitation.

Every policy follows ``course_lib.protocols.Bandit``: ``select(context=None)`` returns the arm to
play, ``update(arm, reward, context=None)`` learns from the reward it paid and returns the policy,
``action_probabilities()`` gives P(arm) (exact, or Monte Carlo for Thompson sampling) and
``state_dict``/``load_state_dict`` save and restore it, random state included.  A policy plays one run
(``runs=None``: ``select()`` returns an ``int``, ``update`` takes an ``int`` and a ``float``)
or ``R`` independent runs at once (``runs=R``: state arrays of shape ``(R, K)``, ``select()``
returns ``R`` arms, ``update`` takes arrays of shape ``(R,)``).  The two modes share one
implementation, so a run of the batched policy with ``runs=1`` and the one-run policy with the
same seed make exactly the same choices.  ``simulate`` plays a policy on a Bernoulli or Gaussian
problem, vectorised over runs, optionally with feedback delivered in batches (``batch_size``); ``simulate_loop`` plays one-run policies one step at a time.

Ties between arms go to the lowest arm index (``numpy.argmax``); an arm never played has an
infinite index, so the value-based policies (greedy, epsilon-greedy, UCB) play every arm once first.

References
----------
- P. Auer, N. Cesa-Bianchi, P. Fischer. Finite-time analysis of the multiarmed bandit problem.
  Machine Learning 47(2-3):235-256, 2002.  (UCB1, epsilon_n-greedy, regret bound.)
- T. L. Lai, H. Robbins. Asymptotically efficient adaptive allocation rules.
  Advances in Applied Mathematics 6(1):4-22, 1985.  (Lower bound.)
- W. R. Thompson. On the likelihood that one unknown probability exceeds another in view of
  the evidence of two samples. Biometrika 25(3-4):285-294, 1933.
- S. Agrawal, N. Goyal. Analysis of Thompson sampling for the multi-armed bandit problem.
  COLT 2012 (JMLR W&CP 23:39.1-39.26).
- T. Lattimore, C. Szepesvari. Bandit Algorithms. Cambridge University Press, 2020, ch. 6.
  (Explore-then-commit and its choice of m.)
- O. Chapelle, L. Li. An empirical evaluation of Thompson sampling. NIPS 2011.  (Delayed, batched feedback.)
- T. Desautels, A. Krause, J. Burdick. Parallelizing exploration-exploitation tradeoffs in Gaussian process
  bandit optimization. JMLR 15:4053-4103, 2014.  (Pending pulls counted before their rewards: ``PendingUCB1``.)
- P. Auer, N. Cesa-Bianchi, Y. Freund, R. E. Schapire. The nonstochastic multiarmed bandit
  problem. SIAM Journal on Computing 32(1):48-77, 2002.  (EXP3.)
- A. Garivier, E. Moulines. On upper-confidence bound policies for switching bandit problems.
  ALT 2011, LNCS 6925:174-188.  (Discounted and sliding-window UCB.)
- V. Raj, S. Kalyani. Taming non-stationary bandits: a Bayesian approach. arXiv:1707.09727, 2017.
  (Discounted Thompson sampling.)
- Q. Ding, Y. Kang, Y.-W. Liu, T. C. M. Lee, C.-J. Hsieh, J. Sharpnack. Syndicated bandits: a
  framework for auto tuning hyper-parameters in contextual bandit algorithms. NeurIPS 2022.
  (EXP3 over hyper-parameter values: ``MetaUCB``.)

Sub-modules: ``policies``, ``nonstationary``, ``tuning``, ``simulate``, ``theory``; every public name is re-exported here,
so ``from course_lib import bandits`` gives the whole lesson API.
"""

from course_lib.bandits.policies import (  # noqa: F401
    SQRT2,
    epsilon_greedy_choice,
    ucb1_index,
    thompson_beta_update,
    ucb1_batch_arms,
    Policy,
    RandomPolicy,
    EpsilonGreedy,
    UCB1,
    PendingUCB1,
    ThompsonBernoulli,
    ThompsonGaussian,
    Softmax,
    EXP3,
    ExploreThenCommit,
)
from course_lib.bandits.nonstationary import (  # noqa: F401
    discounted_ucb_update,
    DiscountedUCB,
    SlidingWindowUCB,
    DiscountedThompson,
)
from course_lib.bandits.tuning import (  # noqa: F401
    MetaUCB,
    BDES,
    choose_from_sweep,
    choose_commit_length,
    within_noise_of_best,
)
from course_lib.bandits.simulate import (  # noqa: F401
    BanditRun,
    mean_schedule,
    simulate,
    simulate_loop,
)
from course_lib.bandits.theory import (  # noqa: F401
    bernoulli_kl,
    ucb1_regret_bound,
    lai_robbins_lower_bound,
    recovery_time,
    etc_theory_m,
    etc_final_regret,
)

__all__ = [
    "discounted_ucb_update",
    "SQRT2",
    "epsilon_greedy_choice",
    "ucb1_index",
    "thompson_beta_update",
    "Policy",
    "RandomPolicy",
    "EpsilonGreedy",
    "UCB1",
    "PendingUCB1",
    "ucb1_batch_arms",
    "ThompsonBernoulli",
    "ThompsonGaussian",
    "Softmax",
    "EXP3",
    "ExploreThenCommit",
    "DiscountedUCB",
    "SlidingWindowUCB",
    "DiscountedThompson",
    "MetaUCB",
    "BDES",
    "choose_from_sweep",
    "choose_commit_length",
    "within_noise_of_best",
    "BanditRun",
    "mean_schedule",
    "simulate",
    "simulate_loop",
    "bernoulli_kl",
    "ucb1_regret_bound",
    "lai_robbins_lower_bound",
    "recovery_time",
    "etc_theory_m",
    "etc_final_regret",
]
