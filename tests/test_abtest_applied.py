"""Lesson 07 review additions: two-proportion sizing, delta method, guardrails, cluster-level and market-level inference."""

import numpy as np
import pytest
from scipy import stats

from course_lib import abtest


def test_two_proportion_sample_size_hand_value_and_arcsine_approximation():
    # [1.95996 sqrt(2 .0525 .9475) + 0.84162 sqrt(.0475 + .051975)]^2 / 0.005^2 = 31,233.4
    assert abtest.sample_size_proportions(0.05, 0.055) == 31_234
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    arcsine = NormalIndPower().solve_power(proportion_effectsize(0.055, 0.05), alpha=0.05, power=0.8)
    assert abtest.sample_size_proportions(0.05, 0.055) == pytest.approx(arcsine, rel=0.002)   # a different approximation
    assert abtest.sample_size_proportions(0.055, 0.05) == pytest.approx(31_234, rel=0.01)      # a drop needs about as many


def test_two_proportion_power_matches_a_simulation_of_the_pooled_z_test():
    n, runs = 5_000, 40_000
    rng = np.random.default_rng(4)
    z = abtest.two_proportion_z(rng.binomial(n, 0.11, runs), n, rng.binomial(n, 0.10, runs), n)
    simulated = (np.abs(z) >= stats.norm.isf(0.025)).mean()
    analytic = abtest.power_proportions(n, 0.10, 0.11)
    assert simulated == pytest.approx(analytic, abs=3 * np.sqrt(analytic * (1 - analytic) / runs))
    assert abtest.power_proportions(abtest.sample_size_proportions(0.1, 0.11), 0.1, 0.11) == pytest.approx(0.8, abs=2e-4)
    assert abtest.power_proportions(10_000, 0.1, 0.1 + abtest.mde_proportions(10_000, 0.1)) == pytest.approx(0.8, abs=1e-6)


@pytest.mark.parametrize("bad", [dict(p_c=0.0), dict(p_t=1.0), dict(p_t=0.05), dict(alpha=1.5)])
def test_two_proportion_sizing_rejects_bad_input(bad):
    args = dict(p_c=0.05, p_t=0.055) | bad
    with pytest.raises(ValueError, match="p_c|p_t|alpha"):
        abtest.sample_size_proportions(**args)


def test_delta_method_reduces_to_the_unpooled_proportion_se_with_one_impression_per_user():
    rng = np.random.default_rng(1)
    ct, cc = rng.binomial(1, 0.3, 400).astype(float), rng.binomial(1, 0.25, 500).astype(float)
    res = abtest.delta_method_ratio(ct, np.ones(400), cc, np.ones(500))
    want = np.sqrt(ct.var(ddof=1) / 400 + cc.var(ddof=1) / 500)
    assert res.estimate == pytest.approx(ct.mean() - cc.mean()) and res.se == pytest.approx(want, rel=1e-12)


def test_delta_method_se_matches_the_spread_and_covers():
    c_t, i_t, c_c, i_c = abtest.simulate_ratio_metric(1_000, 1_000, 0.1, np.random.default_rng(2), concentration=10)
    res = abtest.delta_method_ratio(c_t, i_t, c_c, i_c)
    assert np.std(res.estimate) == pytest.approx(np.mean(res.se), rel=0.08)
    assert res.covers(0.05 * 0.1).mean() == pytest.approx(0.95, abs=0.025)


def test_delta_method_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match="num and den"):
        abtest.delta_method_ratio(np.ones(5), np.ones(4), np.ones(5), np.ones(5))


def test_non_inferiority_matches_statsmodels_one_sided_z_test():
    from statsmodels.stats.weightstats import ztest

    rng = np.random.default_rng(3)
    y_t, y_c = rng.normal(-0.01, 1, 3_000), rng.normal(0, 1, 2_500)
    res = abtest.non_inferiority_test(y_t, y_c, margin=0.05)
    _, p = ztest(y_t, y_c, value=-0.05, alternative="larger", usevar="unequal")
    assert res.p_value == pytest.approx(p, rel=1e-9)
    assert res.passed == (p < 0.05)
    # lower is better (latency): the same test on the negated metric
    lat = abtest.non_inferiority_test(-y_t, -y_c, margin=0.05, higher_is_better=False)
    assert lat.p_value == pytest.approx(res.p_value) and lat.estimate == pytest.approx(-res.estimate)
    with pytest.raises(ValueError, match="margin"):
        abtest.non_inferiority_test(y_t, y_c, margin=0.0)


def test_design_effect_and_its_validation():
    assert abtest.design_effect(50, 0.2) == pytest.approx(10.8)
    assert abtest.design_effect(1, 0.9) == 1
    with pytest.raises(ValueError, match="icc"):
        abtest.design_effect(10, 1.5)


def test_cluster_level_test_is_welch_on_cluster_means():
    rng = np.random.default_rng(5)
    clusters = np.repeat(np.arange(12), rng.integers(3, 9, 12))
    t = np.isin(clusters, [0, 2, 3, 7, 8, 11])
    y = rng.normal(0, 1, clusters.size) + 0.5 * t
    res = abtest.cluster_diff_in_means(y, t, clusters)
    means = np.bincount(clusters, weights=y) / np.bincount(clusters)
    tc = np.isin(np.arange(12), [0, 2, 3, 7, 8, 11])
    ref = stats.ttest_ind(means[tc], means[~tc], equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic) and res.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval()
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high))


def test_cluster_level_interval_covers_where_the_user_level_one_fails():
    rng = np.random.default_rng(6)
    g, m, runs = 30, 40, 2_000
    clusters = np.repeat(np.arange(g), m)
    keys = rng.random((g, runs))
    t = (keys < np.median(keys, axis=0))[clusters]
    y = 0.3 * t + 0.5 * rng.standard_normal((g, runs))[clusters] + rng.standard_normal((g * m, runs))
    res = abtest.cluster_diff_in_means(y, t, clusters)
    assert res.covers(0.3).mean() == pytest.approx(0.95, abs=0.02)
    user_se = np.sqrt([np.var(y[t[:, r], r], ddof=1) / t[:, r].sum() + np.var(y[~t[:, r], r], ddof=1) / (~t[:, r]).sum()
                       for r in range(200)])
    assert np.mean(res.se[:200]) / np.mean(user_se) == pytest.approx(np.sqrt(abtest.design_effect(m, 0.2)), rel=0.15)


def test_cluster_level_test_rejects_treatment_varying_inside_a_cluster():
    with pytest.raises(ValueError, match="inside a cluster"):
        abtest.cluster_diff_in_means(np.arange(8.0), np.array([1, 0, 1, 1, 0, 0, 0, 1]), np.repeat(np.arange(4), 2))


def test_market_did_equals_welch_on_market_changes_and_covers():
    y = abtest.simulate_markets(1_000, 10, 4, 30, 15, 0.5, np.random.default_rng(7))
    treated = np.arange(10) < 4
    res = abtest.did_markets(y, treated, 15)
    d = y[0, :, 15:].mean(axis=1) - y[0, :, :15].mean(axis=1)
    assert res.estimate[0] == pytest.approx(d[treated].mean() - d[~treated].mean())
    assert res.p_value[0] == pytest.approx(stats.ttest_ind(d[treated], d[~treated], equal_var=False).pvalue)
    assert res.covers(0.5).mean() == pytest.approx(0.95, abs=0.025)


def test_permutation_pvalue_by_hand_and_under_the_null():
    # 4 markets, 2 treated: 6 labellings; the real one has the largest |DiD| of them, with its mirror image
    y = np.zeros((4, 2))
    y[:, 1] = [3.0, 2.0, 0.0, 0.5]
    assert abtest.did_permutation_pvalue(y, np.array([True, True, False, False]), 1) == pytest.approx(2 / 6)
    null = abtest.simulate_markets(400, 10, 3, 20, 10, 0.0, np.random.default_rng(8))
    p = abtest.did_permutation_pvalue(null, np.arange(10) < 3, 10)
    assert (p <= 0.05).mean() == pytest.approx(0.05, abs=0.035)


def test_ab_loop_serves_visits_inside_the_requested_window():
    from course_lib.contextual import LinUCB
    from course_lib.sim.loops import run_loop
    from course_lib.sim.world import load_world

    world = load_world()
    run = run_loop(world, LinUCB(world.n_products, world.context_dim, alpha=0.1, seed=0), 400, seed=1, design="ab",
                   batch=100, start="2024-02-05 00:00", end="2024-02-18 23:59")
    t = run.timestamps
    assert t.min() >= np.datetime64("2024-02-05T00:00") and t.max() <= np.datetime64("2024-02-18T23:59")
    assert (np.diff(t.astype("int64")) >= 0).all()
    weekday = (t.astype("datetime64[D]").astype("int64") + 3) % 7
    assert (weekday == 6).any()                                        # Sundays are served too


def test_cluster_checker_passes_the_reference_and_names_each_mistake(monkeypatch):
    from course_lib.notebook.checks import lesson07 as checks

    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")

    def reference(y, t, c):
        res = abtest.cluster_diff_in_means(y, t, c)
        return float(res.estimate), float(res.se)

    def user_level(y, t, c):
        t = np.asarray(t, bool)
        return float(y[t].mean() - y[~t].mean()), float(np.sqrt(y[t].var(ddof=1) / t.sum() + y[~t].var(ddof=1) / (~t).sum()))

    def user_weighted(y, t, c):
        t = np.asarray(t, bool)
        return float(y[t].mean() - y[~t].mean()), reference(y, t, c)[1]

    def ddof0(y, t, c):
        size = np.bincount(c)
        ybar, tc = np.bincount(c, weights=y) / size, np.bincount(c, weights=t) / size > 0.5
        return reference(y, t, c)[0], float(np.sqrt(ybar[tc].var() / tc.sum() + ybar[~tc].var() / (~tc).sum()))

    assert checks.check_cluster_test(reference).passed
    for fn, hint in ((user_level, "user-level"), (user_weighted, "every cluster counts once"), (ddof0, "ddof=1")):
        res = checks.check_cluster_test(fn)
        assert res.status == "failed" and hint in res.message, (fn.__name__, res.message)


def test_launch_decision_reads_srm_then_guardrails_then_the_interval():
    assert abtest.launch_decision((0.01, 0.02), {"latency": True}, 0.3).decision == "launch"
    assert abtest.launch_decision((0.01, 0.02), {"latency": True}, 1e-4).decision == "investigate"
    out = abtest.launch_decision((0.01, 0.02), {"latency": True, "complaints": False}, 0.3)
    assert out.decision == "no launch" and "complaints" in out.reason
    assert abtest.launch_decision((-0.01, 0.02), {}, 0.3).decision == "no launch"
    assert "inconclusive" in abtest.launch_decision((-0.01, 0.02), {}, 0.3).reason
    assert abtest.launch_decision((-0.03, -0.01), {}, 0.3).decision == "no launch"
    with pytest.raises(ValueError, match="primary_ci"):
        abtest.launch_decision((0.02, 0.01), {}, 0.3)
    with pytest.raises(ValueError, match="srm_p_value"):
        abtest.launch_decision((0.01, 0.02), {}, 1.5)


def test_launch_decision_checker_hints_match_the_mistake():
    from course_lib.notebook.checks import lesson07 as checks

    def ignores_srm(ci, guards, srm_p):
        return ("launch" if ci[0] > 0 and all(guards.values()) else "no launch"), "the lift is significant"

    def point_estimate(ci, guards, srm_p):
        if srm_p < 0.001:
            return "investigate", "sample ratio mismatch"
        if not all(guards.values()):
            return "no launch", "a guardrail failed"
        return ("launch" if ci[0] + ci[1] > 0 else "no launch"), "the point estimate is positive"

    def correct(ci, guards, srm_p):
        out = abtest.launch_decision(ci, guards, srm_p)
        return out.decision, out.reason

    assert "SRM" in checks.check_launch_decision(ignores_srm).message
    assert "contains 0" in checks.check_launch_decision(point_estimate).message
    assert checks.check_launch_decision(correct).status == "passed"
