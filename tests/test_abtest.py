"""Lesson 07's A/B-test statistics against closed forms, Monte Carlo and SciPy/statsmodels."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, zt_ind_solve_power
from statsmodels.stats.proportion import proportions_ztest

from course_lib import abtest as ab
from course_lib.notebook.checks import lesson07 as checks


@pytest.fixture
def student_mode(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")


# ---------------------------------------------------------------- estimation
def test_diff_in_means_hand_example_and_welch_matches_scipy():
    y_t, y_c = np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 3.0, 6.0])
    r = ab.diff_in_means(y_t, y_c, method="normal")
    assert r.estimate == pytest.approx(5.0 - 3.0)
    assert r.se == pytest.approx(np.sqrt(4.0 / 3 + (14 / 3) / 4))
    w = ab.diff_in_means(y_t, y_c, method="welch")
    ref = stats.ttest_ind(y_t, y_c, equal_var=False)
    assert w.p_value == pytest.approx(ref.pvalue) and w.ci_high - w.ci_low > r.ci_high - r.ci_low


@pytest.mark.parametrize("method", ["welch", "normal"])
def test_confidence_interval_coverage_is_close_to_nominal(method):
    rng = np.random.default_rng(0)
    y_t = rng.normal(1.3, 2.0, size=(4000, 60))
    y_c = rng.normal(1.0, 1.0, size=(4000, 80))
    cover = ab.diff_in_means(y_t, y_c, alpha=0.1, method=method).covers(0.3).mean()
    assert abs(cover - 0.9) < 0.02  # Monte Carlo sd of the coverage is 0.005


def test_two_proportion_z_matches_statsmodels_and_proportions_test_ci():
    z = ab.two_proportion_z(np.array([120, 90]), 2000, np.array([100, 95]), 2010)
    for i, ct in enumerate([120, 90]):
        assert z[i] == pytest.approx(proportions_ztest([ct, [100, 95][i]], [2000, 2010])[0])
    r = ab.proportions_test(120, 2000, 100, 2010)
    assert r.ci_low < r.estimate < r.ci_high
    assert r.ci_high - r.estimate == pytest.approx(1.959964 * r.se, rel=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: ab.diff_in_means(np.ones(5), np.ones(5)), "zero variance"),
    (lambda: ab.diff_in_means(np.array([]), np.ones(5)), "at least 2"),
    (lambda: ab.diff_in_means(np.arange(5.0), np.arange(5.0), alpha=1.5), "alpha"),
    (lambda: ab.diff_in_means(np.arange(5.0), np.arange(5.0), method="bayes"), "method"),
    (lambda: ab.proportions_test(0, 100, 0, 100), "zero variance"),
    (lambda: ab.proportions_test(1, 0, 1, 10), "at least one user"),
    (lambda: ab.sample_size_per_arm(0.1, 1.0, alpha=0.0), "alpha"),
    (lambda: ab.sample_size_per_arm(0.0, 1.0), "non-zero"),
    (lambda: ab.sample_size_per_arm(0.1, 0.0), "sigma"),
    (lambda: ab.cuped_theta(np.arange(4.0), np.ones(4)), "zero variance"),
    (lambda: ab.srm_check([10]), "at least 2"),
    (lambda: ab.group_sequential_bounds([0.5, 0.2]), "increasing"),
    (lambda: ab.adjust_pvalues([0.1, 1.2]), r"\[0, 1\]"),
])
def test_bad_input_raises_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- power
@pytest.mark.parametrize("delta, sigma, alpha, power", [(0.1, 1.0, 0.05, 0.8), (0.01, 0.2, 0.01, 0.9)])
def test_sample_size_matches_statsmodels_power_solver(delta, sigma, alpha, power):
    n = ab.sample_size_per_arm(delta, sigma, alpha, power)
    exact = zt_ind_solve_power(effect_size=delta / sigma, alpha=alpha, power=power)
    assert n == int(np.ceil(exact)) or abs(n - exact) < 1
    assert ab.power_two_sample(n, delta, sigma, alpha) >= power
    assert ab.power_two_sample(n, delta, sigma, alpha) == pytest.approx(
        NormalIndPower().power(delta / sigma, n, alpha), rel=1e-9)
    assert ab.minimum_detectable_effect(exact, sigma, alpha, power) == pytest.approx(delta, rel=1e-3)


def test_power_formula_agrees_with_a_simulation():
    rng = np.random.default_rng(1)
    n = ab.sample_size_per_arm(0.2, 1.0, 0.05, 0.8)
    r = ab.diff_in_means(rng.normal(0.2, 1, (3000, n)), rng.normal(0, 1, (3000, n)), method="normal")
    assert abs((r.p_value < 0.05).mean() - 0.8) < 0.025


# ---------------------------------------------------------------- peeking, sequential tests
def test_obrien_fleming_bounds_match_published_lan_demets_values():
    # ldbounds / gsDesign, K = 5 equally spaced looks, two-sided alpha = 0.05
    b = ab.group_sequential_bounds(np.arange(1, 6) / 5, 0.05)
    assert b == pytest.approx([4.8769, 3.3569, 2.6803, 2.2898, 2.0310], abs=2e-3)
    assert ab.group_sequential_bounds([1.0], 0.05) == pytest.approx([1.959964], abs=1e-5)


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_peeking_inflates_the_false_positive_rate_and_sequential_bounds_fix_it(spending):
    rng = np.random.default_rng(2)
    ct, cc, n = ab.simulate_daily_clicks(20000, 14, 400, 0.1, rng=rng)
    z = ab.two_proportion_z(ct, n, cc, n)
    naive = (ab.first_crossing(z, stats.norm.isf(0.025)) >= 0).mean()
    bounds = ab.group_sequential_bounds(np.arange(1, 15) / 14, 0.05, spending)
    seq = (ab.first_crossing(z, bounds) >= 0).mean()
    assert naive > 0.15
    assert seq < 0.05 + 0.006  # 3 Monte Carlo sd above alpha


def test_msprt_is_always_valid_under_the_null_and_detects_an_effect():
    rng = np.random.default_rng(3)
    n = 50 * np.arange(1, 41)
    d0 = rng.normal(0, np.sqrt(50), (20000, 40)).cumsum(-1) / n  # mean of n N(0, 1) draws
    p0 = ab.msprt_pvalues(d0 * np.sqrt(2), n, 1.0, 0.1)
    assert np.all(np.diff(p0, axis=-1) <= 0), "always-valid p-values never increase"
    assert (p0[:, -1] <= 0.05).mean() <= 0.05
    d1 = d0 * np.sqrt(2) + 0.3
    assert (ab.msprt_pvalues(d1, n, 1.0, 0.1)[:, -1] <= 0.05).mean() > 0.9


# ---------------------------------------------------------------- multiple testing
@pytest.mark.parametrize("ours, theirs", [("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh"), ("by", "fdr_by")])
def test_adjusted_pvalues_match_statsmodels_multipletests(ours, theirs):
    p = np.random.default_rng(4).random((30, 12)) ** 3
    ref = np.array([multipletests(row, alpha=0.05, method=theirs)[1] for row in p])
    assert np.allclose(ab.adjust_pvalues(p, ours), ref, atol=1e-12)
    assert np.array_equal(ab.benjamini_hochberg(p[0], 0.1), multipletests(p[0], 0.1, "fdr_bh")[0])


def test_bh_controls_fdr_and_bonferroni_controls_fwer():
    rng = np.random.default_rng(5)
    p, is_null = ab.simulate_multiple_metrics(4000, 20, 5, 3.0, rng)
    none = ab.error_rates(p < 0.05, is_null)
    bh = ab.error_rates(ab.benjamini_hochberg(p, 0.05), is_null)
    bonf = ab.error_rates(ab.adjust_pvalues(p, "bonferroni") <= 0.05, is_null)
    assert none["fwer"] > 0.5
    assert bh["fdr"] < 0.05 and bonf["fwer"] < 0.05 + 0.01
    assert bh["power"] > bonf["power"]


# ---------------------------------------------------------------- CUPED, stratification
def test_choose_correction_by_family_and_dependence_matches_statsmodels():
    p = np.random.default_rng(6).random(15) ** 2
    for family, dependence, want in [("decision", "independent", "holm"), ("decision", "arbitrary", "holm"),
                                     ("dashboard", "independent", "fdr_bh"), ("dashboard", "positive", "fdr_bh"),
                                     ("dashboard", "arbitrary", "fdr_by")]:
        method, reject = ab.choose_correction(p, family, dependence, 0.1)
        assert method == want
        assert np.array_equal(reject, multipletests(p, alpha=0.1, method=want)[0])
    with pytest.raises(ValueError, match="family"):
        ab.choose_correction(p, "exploratory", "positive")
    with pytest.raises(ValueError, match="dependence"):
        ab.choose_correction(p, "dashboard", "negative")


def test_correlated_metrics_share_a_factor_and_bh_keeps_its_fdr_there():
    p, is_null = ab.simulate_multiple_metrics(3000, 20, 5, 3.0, np.random.default_rng(8), rho=0.5)
    z = stats.norm.isf(p[:, 5:] / 2) * np.sign(np.random.default_rng(0).standard_normal(1))  # |z| of the nulls
    assert np.corrcoef(z[:, 0], z[:, 1])[0, 1] > 0.05                       # |z| move together
    bh = ab.error_rates(ab.adjust_pvalues(p, "bh") <= 0.05, is_null)
    by = ab.error_rates(ab.adjust_pvalues(p, "by") <= 0.05, is_null)
    assert bh["fdr"] <= 0.05 and by["fdr"] < bh["fdr"] and by["power"] < bh["power"]
    with pytest.raises(ValueError, match="rho"):
        ab.simulate_multiple_metrics(10, 5, 1, 3.0, np.random.default_rng(0), rho=1.0)


def test_choose_covariate_takes_the_largest_rho_squared_measured_before_the_test():
    y, treated, cands, measured = ab.simulate_covariate_candidates(1, 4000, 0.5, np.random.default_rng(3))
    one = {k: v[0] for k, v in cands.items()}
    assert ab.choose_covariate(y[0], treated, one, measured) == "watch_time_last_month"
    # without it, the negatively correlated candidate beats the one with the largest covariance (units)
    rest = {k: v for k, v in one.items() if k != "watch_time_last_month"}
    assert ab.choose_covariate(y[0], treated, rest, {k: measured[k] for k in rest}) == "days_since_last_visit"
    with pytest.raises(ValueError, match="before the experiment"):
        ab.choose_covariate(y[0], treated, {"s": one["sessions_during_test"]}, {"s": "during"})
    with pytest.raises(ValueError, match="before"):
        ab.choose_covariate(y[0], treated, one, {k: "pre" for k in one})


def test_cuped_on_a_metric_measured_during_the_test_removes_the_lift():
    y, treated, cands, _ = ab.simulate_covariate_candidates(300, 2000, 0.5, np.random.default_rng(4))
    est = {}
    for name in ("watch_time_last_month", "sessions_during_test"):
        adj = ab.cuped_adjust(y, cands[name])
        est[name] = adj[:, treated].mean(axis=1) - adj[:, ~treated].mean(axis=1)
    assert abs(est["watch_time_last_month"].mean() - 0.5) < 0.05
    assert est["sessions_during_test"].mean() < 0.2                  # theta x the leak (about 1.5 x 0.3) is gone


@pytest.mark.parametrize("rho", [0.3, 0.8])
def test_cuped_variance_ratio_is_one_minus_rho_squared(rho):
    raw, adj = ab.simulate_cuped(rho, 400, 3000, effect=0.1, rng=np.random.default_rng(6))
    assert adj.var() / raw.var() == pytest.approx(1 - rho**2, abs=0.06)
    assert abs(adj.mean() - 0.1) < 0.005, "CUPED keeps the estimate unbiased"


def test_cuped_theta_is_the_ols_slope():
    rng = np.random.default_rng(7)
    x = rng.normal(size=300)
    y = 2.5 * x + rng.normal(size=300)
    assert ab.cuped_theta(y, x) == pytest.approx(np.polyfit(x, y, 1)[0])
    assert ab.cuped_adjust(y, x).mean() == pytest.approx(y.mean())


def test_stratified_estimate_hand_example():
    y = np.array([1.0, 3.0, 0.0, 2.0, 10.0, 12.0, 10.0, 10.0])
    treated = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    strata = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    est, se = ab.stratified_diff_in_means(y, treated, strata)
    assert est == pytest.approx(0.5 * 1.0 + 0.5 * 1.0)
    assert se == pytest.approx(np.sqrt(0.25 * (2 / 2 + 2 / 2) + 0.25 * (2 / 2 + 0 / 2)))


# ---------------------------------------------------------------- SRM
def test_srm_flags_51_49_on_a_million_users_but_not_noise():
    assert ab.srm_check([510_000, 490_000]).flagged
    assert ab.srm_check([510_000, 490_000]).chi2 == pytest.approx(400.0)
    assert not ab.srm_check([500_400, 499_600]).flagged
    assert not ab.srm_check([510_000, 490_000], expected_share=[0.51, 0.49]).flagged


# ---------------------------------------------------------------- interference, DiD, closing loop
def test_cluster_randomisation_recovers_the_spillover_user_level_misses():
    adj, comm = ab.sbm_graph(20, 30, 0.3, 0.001, seed=8)
    assert abs(adj - adj.T).sum() == 0
    rng = np.random.default_rng(8)
    user = ab.simulate_interference(adj, comm, "user", 300, 0.2, 0.3, rng)["estimate"]
    clus = ab.simulate_interference(adj, comm, "cluster", 300, 0.2, 0.3, rng)["estimate"]
    assert abs(user.mean() - 0.2) < 0.02          # only the direct effect
    assert abs(clus.mean() - 0.5) < 0.06          # close to direct + spillover
    assert clus.std() > 2 * user.std()


def test_diff_in_diff_hand_example_and_broken_trends():
    assert ab.diff_in_diff([1, 3], [5, 7], [1, 1], [2, 2]) == pytest.approx(3.0)
    rng = np.random.default_rng(9)
    good = [ab.diff_in_diff(t[:20], t[20:], c[:20], c[20:])
            for t, c in (ab.simulate_panel(40, 20, 0.5, 0.0, rng) for _ in range(200))]
    bad = [ab.diff_in_diff(t[:20], t[20:], c[:20], c[20:])
           for t, c in (ab.simulate_panel(40, 20, 0.5, 0.05, rng) for _ in range(200))]
    assert abs(np.mean(good) - 0.5) < 0.03
    assert np.mean(bad) == pytest.approx(0.5 + 0.05 * 20, abs=0.05)


# ---------------------------------------------------------------- exercise checkers
def test_checkers_pass_the_reference_implementations():
    assert checks.check_sample_size(ab.sample_size_per_arm).passed
    assert checks.check_sample_size(lambda d, s, a, p: 2 * ((stats.norm.isf(a / 2) + stats.norm.ppf(p)) * s / d) ** 2).passed
    assert checks.check_choose_correction(ab.choose_correction).passed
    assert checks.check_choose_covariate(ab.choose_covariate).passed


def test_sample_size_checker_rejects_plausible_wrong_answers(student_mode):
    one_sided = checks.check_sample_size(lambda d, s, a, p: 2 * ((stats.norm.isf(a) + stats.norm.ppf(p)) * s / d) ** 2)
    assert one_sided.status == "failed" and one_sided.use is not None
    no_two = checks.check_sample_size(lambda d, s, a, p: ((stats.norm.isf(a / 2) + stats.norm.ppf(p)) * s / d) ** 2)
    assert no_two.status == "failed"


def _correction_rule(rule, level_used=None):
    def fn(p, family, dependence, level=0.05):
        method = rule(family, dependence)
        return method, multipletests(p, alpha=level if level_used is None else level_used, method=method)[0]
    return fn


@pytest.mark.parametrize("rule, hint", [
    (lambda f, d: "fdr_bh", "decide the launch"),                                    # BH everywhere
    (lambda f, d: "holm", "false discovery rate"),                                   # FWER on a dashboard
    (lambda f, d: "bonferroni" if f == "decision" else "fdr_bh", "Holm controls the same error"),
    (lambda f, d: "holm" if f == "decision" else "fdr_bh", "Benjamini-Yekutieli"),    # BH under arbitrary dependence
    (lambda f, d: "holm" if f == "decision" else "fdr_by", "PRDS"),                  # BY where BH holds
])
def test_correction_checker_names_the_broken_rule(student_mode, rule, hint):
    res = checks.check_choose_correction(_correction_rule(rule))
    assert res.status == "failed" and hint in res.message, res.message
    assert res.use is ab.choose_correction


def test_correction_checker_wants_the_choice_applied_at_the_given_level_in_input_order(student_mode):
    right = lambda f, d: ab.choose_correction(np.ones(2), f, d)[0]   # noqa: E731
    assert checks.check_choose_correction(_correction_rule(right)).passed
    at_005 = checks.check_choose_correction(_correction_rule(right, level_used=0.05))
    assert at_005.status == "failed" and "rejections differ" in at_005.message

    def sorted_order(p, f, d, level=0.05):
        method, rej = ab.choose_correction(p, f, d, level)
        return method, rej[np.argsort(p)]

    assert "input order" in checks.check_choose_correction(sorted_order).message

    def sorts_in_place(p, f, d, level=0.05):
        p.sort()
        return ab.choose_correction(p, f, d, level)

    assert "do not modify" in checks.check_choose_correction(sorts_in_place).message


def _covariate_rule(key, before_only=True):
    def fn(y, treated, candidates, measured):
        names = [k for k in candidates if measured[k] == "before" or not before_only]
        return max(names, key=lambda k: key(y, treated, np.asarray(candidates[k], float)))
    return fn


@pytest.mark.parametrize("fn, hint", [
    (_covariate_rule(lambda y, t, x: np.corrcoef(y, x)[0, 1] ** 2, before_only=False), "during the experiment"),
    (_covariate_rule(lambda y, t, x: abs(np.corrcoef(t, x)[0, 1])), "chance imbalance"),
    (_covariate_rule(lambda y, t, x: np.corrcoef(y, x)[0, 1]), "whatever the sign"),
    (_covariate_rule(lambda y, t, x: abs(np.cov(y, x)[0, 1])), "units"),
    (_covariate_rule(lambda y, t, x: abs(np.cov(y, x)[0, 1]) / x.var()), "units"),    # the largest theta
])
def test_covariate_checker_names_the_trap(student_mode, fn, hint):
    res = checks.check_choose_covariate(fn)
    assert res.status == "failed" and hint in res.message, res.message
    assert res.use is ab.choose_covariate


def test_covariate_checker_accepts_pooled_correlation_and_refuses_mutation(student_mode):
    assert checks.check_choose_covariate(_covariate_rule(lambda y, t, x: np.corrcoef(y, x)[0, 1] ** 2)).passed

    def centres_in_place(y, treated, candidates, measured):
        for x in candidates.values():
            x -= x.mean()
        return ab.choose_covariate(y, treated, candidates, measured)

    assert "do not modify" in checks.check_choose_covariate(centres_in_place).message


def test_unsolved_exercise_continues_with_the_reference(student_mode):
    def stub(*args):
        raise NotImplementedError()

    res = checks.check_choose_correction(stub)
    assert res.status == "unsolved" and res.use is ab.choose_correction


def test_solution_mode_raises_on_a_wrong_answer(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "solutions")
    with pytest.raises(AssertionError):
        checks.check_sample_size(lambda d, s, a, p: 10)


@pytest.mark.parametrize("spending", ["obrien-fleming", "pocock"])
def test_group_sequential_bounds_spend_alpha_look_by_look_in_a_brownian_monte_carlo(spending):
    # unequal looks; under H0, Z_k = B(t_k) / sqrt(t_k) with B a standard Brownian motion
    info = np.array([0.15, 0.3, 0.55, 0.8, 1.0])
    bounds = ab.group_sequential_bounds(info, 0.05, spending)
    rng = np.random.default_rng(11)
    n = 400_000
    b = np.cumsum(rng.standard_normal((n, info.size)) * np.sqrt(np.diff(info, prepend=0.0)), axis=1)
    first = ab.first_crossing(b / np.sqrt(info), bounds)
    got = np.array([(first == k).mean() for k in range(info.size)])
    spend = ab.obrien_fleming_spending(info) if spending == "obrien-fleming" else ab.pocock_spending(info)
    want = np.diff(spend, prepend=0.0)
    assert np.allclose(got, want, atol=4 * np.sqrt(want / n) + 2e-5)


def test_exposure_contrast_is_unbiased_for_the_spillover_at_the_indirect_exposure():
    adj, comm = ab.sbm_graph(20, 30, 0.1, 0.01, seed=12)  # sparse: many users have no treated friend
    for design in ("cluster", "user"):
        out = ab.simulate_interference(adj, comm, design, 600, 0.2, 0.3, np.random.default_rng(12))
        c, s = out["indirect_minus_none"], out["indirect_share"]
        ok = np.isfinite(c)
        assert ok.mean() > 0.5, design
        se = c[ok].std() / np.sqrt(ok.sum())
        assert abs(c[ok].mean() - 0.3 * s[ok].mean()) < 4 * se + 0.005, design
