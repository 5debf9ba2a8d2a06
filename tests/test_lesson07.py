"""The figures lesson 07 states, read back from the solution run with default parameters."""

import pytest

NAME = "07_ab_testing"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")


def test_welch_interval_covers_watch_time_but_not_heavy_tailed_revenue(r):
    assert r["coverage.watch_time"] == pytest.approx(0.95, abs=0.012)   # 3 MC sd at 4000 runs
    assert r["coverage.revenue_small"] < r["coverage.revenue_large"] < r["coverage.watch_time"]
    assert r["coverage.revenue_small"] < 0.9


def test_sample_size_matches_statsmodels_and_delivers_the_power(r):
    assert abs(r["power.n_minus_statsmodels"]) < 1
    assert 29_000 < r["power.n_per_arm"] < 31_000        # 2 (2.8016 * 0.2179 / 0.005)^2
    assert r["power.simulated"] == pytest.approx(0.8, abs=0.025)
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


def test_cuped_and_stratification_reduce_variance(r):
    assert r["cuped.variance_ratio_rho07"] == pytest.approx(1 - 0.7**2, abs=0.05)
    assert r["cuped.ci_width_cuped"] < 0.6 * r["cuped.ci_width_raw"]
    assert r["stratified.se_ratio"] < 0.5


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


def test_difference_in_differences(r):
    assert r["did.parallel"] == pytest.approx(0.5, abs=0.05)
    assert r["did.diverging"] == pytest.approx(0.5 + 0.05 * 20, abs=0.1)


def test_launch_review(r):
    assert r["loop.srm_p"] > 0.001
    assert r["loop.ctr_linucb"] > r["loop.ctr_random"] + r["loop.mde"]  # a lift the test could detect
    assert r["loop.lift_last_day"] > r["loop.lift_weekdays"] + 0.05   # the weekend carries the gain
    assert r["loop.p_weekdays"] > 0.05                              # a test stopped on Friday misses it
    assert r["loop.p_value"] < 0.001
    assert r["loop.launch"] is True


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


def test_halving_the_lift_quadruples_the_sample(r):
    assert r["power.n_per_arm_half_lift"] / r["power.n_per_arm"] == pytest.approx(4.0, rel=1e-3)
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
