"""Lesson 07: A/B-test statistics for recommender launches.

Estimators and simulations behind ``solutions/07_ab_testing.ipynb``.  Where SciPy or
statsmodels already provide a piece (Welch's t-test, the two-proportion z-test, the power
solver, ``multipletests``, the chi-square test) this module calls it; it implements by hand
only what they lack: vectorised A/A simulations, Lan-DeMets alpha-spending boundaries
(Lan and DeMets, Biometrika 1983), always-valid p-values of the mixture SPRT (Johari,
Koomen, Pekelis and Walsh, KDD 2017), CUPED (Deng, Xu, Kohavi and Walker, WSDM 2013),
interference on a stochastic block model, difference-in-differences and Team Draft interleaving
(Radlinski, Kurup and Joachims, CIKM 2008).  The closing launch test
of lesson 03's LinUCB recommender on lesson 03's product world runs on the shared serving loop,
``course_lib.sim.loops.run_loop(..., design="ab")``.

Every simulation is vectorised over independent runs: arrays have shape ``(n_runs, ...)``.

Sub-modules: ``inference``, ``sizing``, ``sequential``, ``multiple``, ``variance``, ``interference``; every public name is re-exported here,
so ``from course_lib import abtest`` gives the whole lesson API.
"""

from course_lib.abtest.inference import (  # noqa: F401
    ABResult,
    diff_in_means,
    two_proportion_z,
    proportions_test,
    SRMResult,
    srm_check,
)
from course_lib.abtest.sizing import (  # noqa: F401
    sample_size_per_arm,
    minimum_detectable_effect,
    power_two_sample,
    mde_proportions,
    power_proportions,
    sample_size_proportions,
)
from course_lib.abtest.sequential import (  # noqa: F401
    simulate_daily_clicks,
    first_crossing,
    obrien_fleming_spending,
    pocock_spending,
    group_sequential_bounds,
    msprt_pvalues,
)
from course_lib.abtest.multiple import (  # noqa: F401
    adjust_pvalues,
    benjamini_hochberg,
    choose_correction,
    simulate_multiple_metrics,
    error_rates,
)
from course_lib.abtest.variance import (  # noqa: F401
    cuped_theta,
    cuped_adjust,
    choose_covariate,
    simulate_covariate_candidates,
    simulate_cuped,
    stratified_diff_in_means,
)
from course_lib.abtest.interference import (  # noqa: F401
    sbm_graph,
    simulate_interference,
    diff_in_diff,
    simulate_panel,
)

from course_lib.abtest.ratio import delta_method_ratio, simulate_ratio_metric  # noqa: F401
from course_lib.abtest.guardrails import LaunchDecision, NonInferiorityResult, launch_decision, non_inferiority_test  # noqa: F401
from course_lib.abtest.cluster import cluster_diff_in_means, design_effect  # noqa: F401
from course_lib.abtest.markets import did_markets, did_permutation_pvalue, simulate_markets  # noqa: F401
from course_lib.abtest.interleaving import team_draft_credit, team_draft_interleave  # noqa: F401

__all__ = [
    "ABResult",
    "diff_in_means",
    "two_proportion_z",
    "proportions_test",
    "SRMResult",
    "srm_check",
    "sample_size_per_arm",
    "minimum_detectable_effect",
    "power_two_sample",
    "sample_size_proportions",
    "power_proportions",
    "mde_proportions",
    "simulate_daily_clicks",
    "first_crossing",
    "obrien_fleming_spending",
    "pocock_spending",
    "group_sequential_bounds",
    "msprt_pvalues",
    "adjust_pvalues",
    "benjamini_hochberg",
    "choose_correction",
    "simulate_multiple_metrics",
    "error_rates",
    "cuped_theta",
    "cuped_adjust",
    "choose_covariate",
    "simulate_covariate_candidates",
    "simulate_cuped",
    "stratified_diff_in_means",
    "sbm_graph",
    "simulate_interference",
    "diff_in_diff",
    "simulate_panel",
    "delta_method_ratio",
    "simulate_ratio_metric",
    "NonInferiorityResult",
    "non_inferiority_test",
    "LaunchDecision",
    "launch_decision",
    "cluster_diff_in_means",
    "design_effect",
    "simulate_markets",
    "did_markets",
    "did_permutation_pvalue",
    "team_draft_interleave",
    "team_draft_credit",
]
