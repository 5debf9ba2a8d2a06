"""The figures lesson 07 states, read back from the solution run with default parameters."""

import pytest

NAME = "07_ab_testing"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")


def test_welch_interval_covers_watch_time_but_not_heavy_tailed_revenue(r):
    assert r["coverage.watch_time"] == pytest.approx(0.95, abs=0.012)   # 3 MC sd at 4000 runs
    assert r["coverage.revenue_small"] < r["coverage.revenue_large"] < r["coverage.watch_time"]
    assert r["coverage.revenue_small"] < 0.9


def test_two_proportion_sample_size_delivers_the_power_within_monte_carlo_error(r):
    assert r["power.n_per_arm"] == 31_234                   # eq. 07.4p at 5% -> 5.5%
    assert r["power.n_control_sigma"] == 29_826             # eq. 07.4 with the control's sigma only
    assert r["power.n_arcsine"] == pytest.approx(r["power.n_per_arm"], rel=0.002)   # Cohen's h: another approximation
    assert r["power.analytic_two_proportions"] == pytest.approx(0.80, abs=1e-3)
    assert r["power.analytic_control_sigma"] == pytest.approx(0.7816, abs=1e-3)
    mcse = r["power.mcse"]
    assert mcse == pytest.approx((0.8 * 0.2 / r["power.n_sims"]) ** 0.5, rel=1e-3) and mcse < 0.004
    # the simulation confirms the formula within 3 Monte Carlo standard errors, and tells the control-sigma sample short
    assert abs(r["power.simulated_two_proportions"] - 0.8) < 3 * mcse
    assert r["power.simulated_control_sigma"] < 0.8 - 3 * mcse
    assert r["power.days"] == -(-2 * r["power.n_per_arm"] // 2000)


def test_peeking_inflates_false_positives_and_sequential_designs_fix_it(r):
    assert r["peeking.fpr_final_look"] == pytest.approx(0.05, abs=0.012)
    assert r["peeking.fpr_naive"] > 0.2
    for key in ("sequential.fpr_obf", "sequential.fpr_pocock", "sequential.fpr_msprt"):
        assert r[key] <= 0.05 + 0.01, key
    assert 1.96 < r["sequential.obf_last_bound"] < 2.2


def test_sequential_designs_stop_early_and_obf_keeps_most_power(r):
    assert r["sequential.stop_day_fixed"] == 28
    assert r["sequential.stop_day_obf"] < 24 and r["sequential.stop_day_msprt"] < 28
    assert r["sequential.power_obf"] > r["sequential.power_fixed"] - 0.05
    assert r["sequential.power_msprt"] < r["sequential.power_obf"]


def test_multiple_testing_error_rates(r):
    assert r["multiple.none.fwer"] > 0.4
    assert r["multiple.bonferroni.fwer"] <= 0.05 + 0.01
    assert r["multiple.holm.fwer"] <= 0.05 + 0.01
    assert r["multiple.bh.fdr"] <= 0.05
    assert r["multiple.bh.fwer"] > r["multiple.holm.fwer"]
    assert r["multiple.bonferroni.power"] <= r["multiple.holm.power"] < r["multiple.bh.power"] < r["multiple.none.power"]
    ex = {m: r[f"multiple.example_rejections.{m}"] for m in ("bonferroni", "holm", "fdr_bh")}
    assert ex == {"bonferroni": 1, "holm": 2, "fdr_bh": 5}


def test_by_pays_for_its_guarantee_in_power(r):
    assert r["multiple.by_factor"] == pytest.approx(sum(1 / i for i in range(1, 21)), abs=1e-3)
    assert r["multiple.by.fdr"] < r["multiple.bh.fdr"] and r["multiple.by.fwer"] <= 0.05 + 0.01
    assert r["multiple.by.power"] < r["multiple.holm.power"]             # "fewer real effects than Holm"


def test_correction_exercise_on_the_example_and_on_correlated_dashboards(r):
    assert r["multiple.choice.decision_positive"] == ["holm", 2]
    assert r["multiple.choice.dashboard_positive"] == ["fdr_bh", 5]
    assert r["multiple.choice.dashboard_arbitrary"] == ["fdr_by", 1]
    method_bh, fdr_bh, power_bh = r["multiple.correlated.positive"]
    method_by, fdr_by, power_by = r["multiple.correlated.arbitrary"]
    assert (method_bh, method_by) == ("fdr_bh", "fdr_by")
    assert fdr_bh <= 0.05                                                 # BH holds on positively correlated metrics
    assert fdr_by < fdr_bh and power_by < power_bh - 0.1                  # BY: a large share of the real effects lost


def test_cuped_and_stratification_reduce_variance(r):
    assert r["cuped.variance_ratio_rho07"] == pytest.approx(1 - 0.7**2, abs=0.05)
    chosen = r[f"cuped.candidate.{r['cuped.chosen']}"]
    assert r["cuped.ci_width_cuped"] / r["cuped.ci_width_raw"] == pytest.approx(chosen[1], abs=0.05)   # sqrt(1 - rho^2)
    assert r["stratified.se_ratio"] < 0.5


def test_the_chosen_cuped_covariate_cuts_most_and_the_leak_removes_the_lift(r):
    assert r["cuped.n_runs"] >= 400
    assert r["cuped.chosen"] == "watch_time_last_month"
    cand = {k: r[f"cuped.candidate.{k}"] for k in ("watch_time_last_month", "days_since_last_visit",
                                                   "account_age_days", "sessions_during_test")}
    mc = 3 * r["cuped.raw_sd"] / r["cuped.n_runs"] ** 0.5              # 3 Monte Carlo sd of a mean estimate
    assert r["cuped.raw_mean"] == pytest.approx(0.5, abs=mc)
    for name in ("watch_time_last_month", "days_since_last_visit", "account_age_days"):
        rho, predicted, simulated, mean = cand[name]
        assert simulated == pytest.approx(predicted, abs=0.05), name      # the sd follows sqrt(1 - rho^2)
        assert mean == pytest.approx(0.5, abs=mc), name                   # and the lift is kept
    # the chosen one cuts most among pre-period candidates; the negative one helps too; account age barely
    assert cand["watch_time_last_month"][2] < cand["days_since_last_visit"][2] < 0.9 < 0.95 < cand["account_age_days"][2]
    assert cand["days_since_last_visit"][0] < 0
    # account age: by far the largest covariance with Y (its units are days), the smallest rho^2
    cov = {k: abs(r[f"cuped.cov.{k}"]) for k in cand}
    assert cov["account_age_days"] > 5 * max(v for k, v in cov.items() if k != "account_age_days")
    assert abs(cand["account_age_days"][0]) == min(abs(c[0]) for c in cand.values())
    rho_leak, _, sd_leak, mean_leak = cand["sessions_during_test"]
    assert rho_leak > cand["watch_time_last_month"][0]                    # correlates most with Y
    assert sd_leak < cand["watch_time_last_month"][2]                     # the narrowest distribution
    assert mean_leak < 0.2 * 0.5 + mc                                     # most of the 0.5-minute lift is gone


def test_srm_flags_51_49_and_the_broken_assignment(r):
    assert r["srm.chi2_51_49"] == pytest.approx(400)
    assert r["srm.flagged_51_49"] is True
    assert r["srm.broken_p"] < 0.001
    assert r["srm.broken_lift"] > 0.2 and r["srm.broken_lift_p"] < 0.001


def test_interference_user_level_sees_direct_effect_cluster_level_recovers_global(r):
    assert r["interference.user_mean"] == pytest.approx(0.2, abs=0.02)
    assert r["interference.cluster_mean"] == pytest.approx(0.2 + 0.3 * r["interference.within_share"], abs=0.06)
    assert r["interference.cluster_sd"] > 2 * r["interference.user_sd"]
    assert r["exposure.indirect_users"] > 0 and r["exposure.none_users"] > 0


def test_market_rollout_inference(r):
    assert r["did.mean_estimate"] == pytest.approx(0.5, abs=0.02)
    assert 0.93 <= r["did.coverage"] <= 0.97                         # market-level interval
    assert r["did.perm_fpr"] <= 0.05 + 0.03                          # exact placebo test, MC error ~0.01
    assert r["did.perm_power"] > 0.5
    assert r["did.placebo_time_parallel"] == pytest.approx(0.05, abs=0.02)
    # the placebo in time catches only a minority of the diverging rollouts, whose DiD is badly biased
    assert r["did.placebo_time_parallel"] < r["did.placebo_time_diverging"] < 0.5
    assert r["did.bias_diverging"] > 0.3


def test_launch_review_over_two_full_weeks(r):
    assert r["loop.srm_p"] > 0.001
    assert r["loop.p_value"] < 0.001 and r["loop.ci_low"] > 0 and r["loop.launch"] is True
    assert 0.005 < r["loop.planned_mde"] < 0.015                      # planned from traffic, before the test
    for w in (1, 2):
        est, lo, hi = r[f"loop.lift_week{w}_weekdays"]
        assert lo < 0 < hi                                          # no weekday lift, in either week
        est_we, lo_we, _ = r[f"loop.lift_week{w}_weekend"]
        assert lo_we > hi + 0.1                                     # the weekend carries the gain
    # a week of learning brings no weekday gain: week 2's weekday lift is not above week 1's
    assert r["loop.lift_week2_weekdays"][0] < r["loop.lift_week1_weekdays"][2]
    assert r["loop.p_first_weekdays"] > 0.05                         # stopped on the first Friday: nothing
    mean_q, best_q = r["loop.room.weekday_afternoon"]
    assert best_q - mean_q < 0.01                                   # no better product on weekday afternoons
    mean_q, best_q = r["loop.room.weekday_morning"]
    assert best_q > 3 * mean_q                                      # a much better one on weekday mornings...
    linucb_wm, random_wm = r["loop.week2_weekday_morning"]
    assert linucb_wm < random_wm + 0.02                             # ...that LinUCB has not found


def test_click_through_example_matches_statsmodels(r):
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    z, p = proportions_ztest([1080, 1000], [20000, 20000])
    lo, hi = confint_proportions_2indep(1080, 20000, 1000, 20000, method="wald", compare="diff")
    assert r["ctr_example.z"] == pytest.approx(z, rel=1e-3) and r["ctr_example.p"] == pytest.approx(p, rel=1e-3)
    assert r["ctr_example.ci"] == pytest.approx([lo, hi], rel=1e-3)


def test_normal_interval_covers_no_more_than_welch_and_revenue_stays_short(r):
    for metric in ("watch_time", "revenue_small"):
        welch, normal = r[f"coverage.{metric}"], r[f"coverage.{metric}_normal"]
        assert normal <= welch and welch - normal < 0.01, metric
    assert r["coverage.revenue_large"] < 0.93   # still well short of 95% at 2,000 users per arm


def test_halving_the_lift_about_quadruples_the_sample(r):
    assert 3.8 < r["power.n_per_arm_half_lift"] / r["power.n_per_arm"] < 4.0   # "about four times"
    assert 2 * r["power.n_per_arm_half_lift"] > 200_000   # "hundreds of thousands of users"


def test_boundaries_as_described(r):
    pocock_first, pocock_last = r["sequential.pocock_bounds"]
    assert r["sequential.obf_first_bound"] > 5 > pocock_first      # O'Brien-Fleming: overwhelming evidence early
    assert pocock_last > r["sequential.obf_last_bound"] > 1.96      # Pocock pays with a higher final bar


def test_cuped_curve_follows_one_minus_rho_squared(r):
    assert r["cuped.variance_ratio_rho09"] == pytest.approx(1 - 0.9**2, abs=0.04)   # "five-fold"
    assert r["cuped.curve_max_gap"] < 0.06


def test_exposure_contrast_estimates_the_spillover_on_average(r):
    assert r["exposure.indirect_minus_none"] == pytest.approx(r["exposure.expected_spillover"], abs=0.015)
    assert 0 < r["exposure.expected_spillover"] < 0.3 * 0.5   # indirect users: a minority of friends treated
    assert r["exposure.contrast_sd"] > r["exposure.expected_spillover"]   # one randomisation alone is noisy


def test_cluster_level_analysis_covers_and_the_user_level_one_does_not(r):
    assert r["cluster.n_runs"] >= 1000
    assert 0.93 <= r["cluster.coverage_cluster_level"] <= 0.97
    assert r["cluster.coverage_user_level"] < 0.6
    assert r["cluster.se_cluster"] == pytest.approx(r["cluster.sd"], rel=0.1)
    assert r["cluster.deff"] == pytest.approx(1 + 49 * 0.2)
    assert r["cluster.sd"] / r["cluster.se_user"] == pytest.approx(r["cluster.deff"] ** 0.5, rel=0.1)


def test_delta_method_covers_and_the_naive_per_impression_interval_does_not(r):
    assert 0.93 <= r["ratio.coverage_delta"] <= 0.97
    assert r["ratio.coverage_naive"] < 0.85
    assert r["ratio.se_delta"] == pytest.approx(r["ratio.sd"], rel=0.1)
    assert r["ratio.se_naive"] < 0.75 * r["ratio.se_delta"]


def test_aa_tests_expose_the_unit_of_analysis_error(r):
    assert r["aa.fpr_delta"] == pytest.approx(0.05, abs=0.02)
    assert r["aa.fpr_naive"] > 0.15
    assert r["aa.ks_p_delta"] > 0.01 and r["aa.ks_p_naive"] < 1e-6


def test_guardrail_non_inferiority(r):
    at_margin = "guardrail.harm_at_the_margin"
    assert r[f"{at_margin}.ni_exact"] == pytest.approx(0.05, abs=1e-3)     # passes at its level alpha
    assert 0.4 < r[f"{at_margin}.no_sig_drop"] < 0.6                     # "no significant drop": about half
    small = "guardrail.no_change_small_test"
    assert r[f"{small}.ni"] < 0.25 < 0.9 < r[f"{small}.no_sig_drop"]
    for key in ("no_change", "harm_at_the_margin", "no_change_small_test"):
        assert r[f"guardrail.{key}.ni"] == pytest.approx(r[f"guardrail.{key}.ni_exact"], abs=0.025), key
    assert 0.6 < r["guardrail.no_change.ni_exact"] < 0.7                 # "about two times in three"
    from scipy import stats

    one_sided = 2 * ((stats.norm.isf(0.05) + stats.norm.ppf(0.8)) / 0.02) ** 2
    assert r["guardrail.n_per_arm"] == pytest.approx(one_sided, abs=1)
    assert round(r["guardrail.n_per_arm"], -3) == 31_000                 # "about 31,000 users per arm"


def test_novelty_fades_and_the_holdback_measures_the_lasting_lift(r):
    assert r["longterm.test_true"] > 2 * r["longterm.true_long_run"]
    assert r["longterm.holdback_covers_long_run"] is True
    assert r["longterm.holdback_excludes_test_mean"] is True


def test_cluster_exercise_on_one_randomisation(r):
    est, se_cluster, se_user = r["cluster.exercise_one_run"]
    assert se_cluster > 2 * se_user                                   # the design effect, in one run
    assert se_cluster == pytest.approx(r["cluster.se_cluster"], rel=0.5)



def test_interleaving_beats_ab_for_close_rankers_not_for_distant_ones(r):
    ctr_a, ctr_b = r["interleave.oracle.ctr"]
    assert 0 < ctr_a - ctr_b < 0.015                                   # the slates click almost alike
    n_pool, n_lo, n_hi = r["interleave.oracle.n_il"]
    assert n_lo <= n_pool <= n_hi
    ratio, ratio_lo, ratio_hi = r["interleave.oracle.ratio"]
    assert ratio == pytest.approx(r["interleave.oracle.n_ab"] / n_pool, rel=2e-3)
    assert 6 < ratio < 13 and ratio_lo > 4                              # an order of magnitude, every seed
    ratio2, lo2, hi2 = r["interleave.half.ratio"]
    assert 0.5 < ratio2 < 1.2 and lo2 < 1 < hi2 + 0.3                  # no gain for the distant pair
    ca, cb = r["interleave.half.ctr"]
    assert ca - cb > 0.015
    for key in ("oracle", "half"):
        wa, wb = r[f"interleave.{key}.wins"]
        assert wa > wb                                                 # interleaving agrees with the A/B direction
        assert r[f"interleave.{key}.power"] == pytest.approx(0.8, abs=3 * (0.16 / 4000) ** 0.5 + 0.01)
    overlap_or, overlap_half = r["interleave.overlap"]
    assert overlap_or < overlap_half


def test_launch_exercise_decides_the_closing_test(r):
    assert r["loop.exercise_launch"] == 1.0          # the whole interval above 0, SRM passed, no guardrail measured
    assert r["loop.ci_low"] > 0 and r["loop.srm_p"] > 0.001
