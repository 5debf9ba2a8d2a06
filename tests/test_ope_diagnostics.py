"""Lesson 06 review additions: the mean-weight support diagnostic, the chi-square divergence, POEM's path."""

import numpy as np
import pytest

from course_lib import ope


def _world(seed=0, c=30, k=8):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.6, (c, k)), rng.dirichlet(np.ones(c)), rng.dirichlet(np.ones(k), size=c)


def test_mean_weight_is_one_under_positivity_and_the_support_mass_without_it():
    q, pc, pi = _world()
    logger = np.full_like(pi, 1 / pi.shape[1])
    logs = ope.simulate_logs(q, pc, logger, 2_000, 400, np.random.default_rng(1))
    mw = ope.mean_weight(logs.propensities, pi[logs.contexts, logs.actions])
    assert np.mean(mw.value) == pytest.approx(1.0, abs=3 * np.std(mw.value) / 20)
    assert np.std(mw.value) == pytest.approx(np.mean(mw.se), rel=0.1)
    # a logger that never takes actions 0-2: E[mean weight] = pi's mass on actions 3..7
    blind = logger.copy()
    blind[:, :3] = 0
    blind /= blind.sum(axis=1, keepdims=True)
    want = float(pc @ pi[:, 3:].sum(axis=1))
    assert ope.support_mass(pi, blind, pc) == pytest.approx(want)
    logs = ope.simulate_logs(q, pc, blind, 2_000, 400, np.random.default_rng(2))
    mw = ope.mean_weight(logs.propensities, pi[logs.contexts, logs.actions])
    assert np.mean(mw.value) == pytest.approx(want, abs=3 * np.std(mw.value) / 20)


def test_mean_weight_by_hand_and_snips_identity():
    r, p, pi = np.array([1.0, 0, 1, 0]), np.array([0.5, 0.25, 0.5, 0.1]), np.array([0.5, 0.5, 0.25, 0.1])
    mw = ope.mean_weight(p, pi)
    assert mw.value == pytest.approx((1 + 2 + 0.5 + 1) / 4)
    assert ope.snips(r, p, pi).value == pytest.approx(ope.ips(r, p, pi).value / mw.value)


def test_chi2_divergence_is_the_second_moment_of_the_weights_minus_one():
    q, pc, pi = _world(3)
    logger = np.random.default_rng(4).dirichlet(np.ones(pi.shape[1]), size=pi.shape[0])
    logs = ope.simulate_logs(q, pc, logger, 20_000, 20, np.random.default_rng(5))
    w = pi[logs.contexts, logs.actions] / logs.propensities
    chi2 = ope.chi2_divergence(pi, logger, pc)
    assert np.mean(w**2) - 1 == pytest.approx(chi2, rel=0.05)
    assert ope.chi2_divergence(logger, logger, pc) == pytest.approx(0, abs=1e-12)
    blind = logger.copy()
    blind[:, 0] = 0
    blind /= blind.sum(axis=1, keepdims=True)
    assert ope.chi2_divergence(pi, blind, pc) == np.inf


def test_support_helpers_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="policy_probs"):
        ope.support_mass(np.ones((3, 2)) / 2, np.ones((3, 3)) / 3, np.ones(3))


def test_poem_keeps_the_policy_of_every_step():
    rng = np.random.default_rng(6)
    n, k = 300, 5
    x, y = np.c_[np.ones(n), rng.normal(size=(n, 2))], np.c_[np.ones(k), rng.normal(size=(k, 2))]
    a = rng.integers(0, k, n)
    r = (rng.random(n) < 0.3).astype(float)
    pol = ope.POEMPolicy(lam=0.0, n_steps=7).fit(x, y, a, r, np.full(n, 1 / k))
    assert len(pol.weights_path) == 7
    assert np.allclose(pol.predict_proba(x[:4], step=0), 1 / k)   # Adam starts from W = 0: uniform
    assert not np.allclose(pol.predict_proba(x[:4], step=6), pol.predict_proba(x[:4]))
    with pytest.raises(ValueError, match="step"):
        pol.predict_proba(x[:4], step=7)


def test_support_checker_passes_the_reference_and_names_each_mistake(monkeypatch):
    from course_lib.notebook.checks import lesson06 as checks

    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_support(ope.support_check).passed

    def ess_instead(p, pi):                       # the ESS share is not the support diagnostic
        w = np.asarray(pi) / np.asarray(p)
        return float(w.sum() ** 2 / (w**2).sum() / len(w)), 0.1, True

    def ratio_of_sums(p, pi):
        m = float(np.sum(pi) / np.sum(p))
        return m, 0.1, abs(m - 1) < 0.2

    def zero_se_means_ok(p, pi):                  # "no spread, no evidence": wrong for a log with no support
        w = np.asarray(pi) / np.asarray(p)
        se = float(w.std(ddof=1) / np.sqrt(len(w)))
        return float(w.mean()), se, se == 0 or abs(w.mean() - 1) <= 1.96 * se

    for fn, hint in ((ess_instead, "ESS"), (ratio_of_sums, "ratios"), (zero_se_means_ok, "zero standard error")):
        res = checks.check_support(fn)
        assert res.status == "failed" and hint in res.message, (fn.__name__, res.message)


def test_paired_bootstrap_decides_only_outside_the_noise():
    rng = np.random.default_rng(0)
    base = rng.beta(2, 3, 400)
    better = base + 0.01 + rng.normal(0, 0.01, 400)
    out = ope.paired_bootstrap(better, base, np.random.default_rng(1))
    assert out.decision == "A better" and out.lo > 0 and out.difference == pytest.approx(np.mean(better - base))
    assert ope.paired_bootstrap(base, better, np.random.default_rng(1)).decision == "B better"
    # the interval's half-width is about 1.96 sd(d) / sqrt(n) (the normal approximation)
    half = 1.96 * np.std(better - base, ddof=1) / np.sqrt(400)
    assert (out.hi - out.lo) / 2 == pytest.approx(half, rel=0.1)
    same = ope.paired_bootstrap(base, base + rng.normal(0, 0.05, 400), np.random.default_rng(2))
    assert same.lo <= 0 <= same.hi or same.decision != "no evidence"
    d, lo, hi, decision = out                                   # unpacks
    assert (d, lo, hi, decision) == (out.difference, out.lo, out.hi, out.decision)
    with pytest.raises(TypeError, match="Generator"):
        ope.paired_bootstrap(base, better, 0)
    with pytest.raises(ValueError, match="same"):
        ope.paired_bootstrap(base, better[:10], rng)


def test_paired_verdict_checker_names_each_mistake(monkeypatch):
    from course_lib.notebook.checks import lesson06 as checks

    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_paired_verdict(ope.paired_bootstrap).passed

    def verdict(lo, hi):
        return "A better" if lo > 0 else "B better" if hi < 0 else "no evidence"

    def unpaired(a, b, rng):                      # resamples the two rankers' queries independently
        n = len(a)
        m = a[rng.integers(0, n, (2000, n))].mean(axis=1) - b[rng.integers(0, n, (2000, n))].mean(axis=1)
        lo, hi = np.quantile(m, [0.025, 0.975])
        return float(np.mean(a - b)), lo, hi, verdict(lo, hi)

    def per_query(a, b, rng):                     # the spread of the differences, not of their mean
        lo, hi = np.quantile(a - b, [0.025, 0.975])
        return float(np.mean(a - b)), lo, hi, verdict(lo, hi)

    def by_the_mean(a, b, rng):                   # the right interval, then ignores it
        out = ope.paired_bootstrap(a, b, rng)
        return out.difference, out.lo, out.hi, "A better" if out.difference > 0 else "B better"

    def own_seed(a, b, rng):                      # ignores the rng it is given
        return tuple(ope.paired_bootstrap(a, b, np.random.default_rng(0)))

    for fn, hint in ((unpaired, "UNPAIRED"), (per_query, "per-query differences"), (by_the_mean, "not a win"),
                     (own_seed, "rng you are given")):
        res = checks.check_paired_verdict(fn)
        assert res.status == "failed" and hint in res.message, (fn.__name__, res.message)
