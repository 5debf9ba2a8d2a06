"""The figures lesson 07 states, read back from the solution run with default parameters."""

import pytest

NAME = "07_ab_testing"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")


@pytest.fixture(scope="module")
def r(solution_records):
    return solution_records(NAME)


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
