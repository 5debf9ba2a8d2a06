"""course_lib.ope against closed forms, hand examples and Monte Carlo of known values."""

import numpy as np
import pytest

from course_lib import numerics, ope
from course_lib.notebook.checks import lesson06 as checks
from course_lib.sim import clicks as click_models


def small_world(seed=0, c=6, k=4):
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.05, 0.7, size=(c, k))
    pc = rng.dirichlet(np.ones(c))
    logger = numerics.softmax(rng.normal(size=(c, k)))
    target = numerics.softmax(3 * rng.normal(size=(c, k)))
    return q, pc, logger, target


def test_ips_unbiased_in_monte_carlo_and_se_is_honest():
    q, pc, logger, target = small_world()
    truth = ope.policy_value(q, target, pc)
    logs = ope.simulate_logs(q, pc, logger, n_events=500, n_logs=2000, rng=np.random.default_rng(1))
    pi = target[logs.contexts, logs.actions]
    est = ope.ips(logs.rewards, logs.propensities, pi)
    assert est.value.shape == (2000,)
    mc_se = est.value.std(ddof=1) / np.sqrt(len(est.value))
    assert abs(est.value.mean() - truth) < 4 * mc_se
    # the reported standard error matches the spread over logs (within 10%)
    assert est.se.mean() == pytest.approx(est.value.std(), rel=0.1)
    lo, hi = est.ci
    assert 0.92 < np.mean((lo <= truth) & (truth <= hi)) < 0.98


def test_dr_unbiased_with_wrong_reward_model_and_dm_biased():
    q, pc, logger, target = small_world(seed=3)
    truth = ope.policy_value(q, target, pc)
    q_hat = np.clip(q + 0.15, 0, 1)  # a biased reward model
    logs = ope.simulate_logs(q, pc, logger, n_events=400, n_logs=2000, rng=np.random.default_rng(2))
    est = ope.estimates_on_logs(logs, target, q_hat)
    dr = est["DR"].value
    assert abs(dr.mean() - truth) < 4 * dr.std(ddof=1) / np.sqrt(len(dr))
    assert est["DM"].value.mean() - truth > 0.1


def test_simulate_logs_and_sample_actions_follow_their_distributions():
    q, pc, logger, _ = small_world(seed=4)
    logs = ope.simulate_logs(q, pc, logger, n_events=1000, n_logs=200, rng=np.random.default_rng(5))
    ctx_freq = np.bincount(logs.contexts.ravel(), minlength=len(pc)) / logs.contexts.size
    np.testing.assert_allclose(ctx_freq, pc, atol=0.005)
    c0 = logs.contexts == 0
    act_freq = np.bincount(logs.actions[c0], minlength=4) / c0.sum()
    np.testing.assert_allclose(act_freq, logger[0], atol=0.01)
    np.testing.assert_allclose(logs.propensities, logger[logs.contexts, logs.actions])
    assert logs.rewards.mean() == pytest.approx(ope.policy_value(q, logger, pc), abs=0.005)


def test_snips_invariant_to_scaling_propensities():
    rng = np.random.default_rng(0)
    r = rng.integers(0, 2, 50).astype(float)
    p = rng.uniform(0.05, 0.5, 50)
    pi = rng.uniform(0, 1, 50)
    a, b = ope.snips(r, p, pi), ope.snips(r, 2 * p, pi)
    assert a.value == pytest.approx(b.value) and a.se == pytest.approx(b.se)
    assert ope.ips(r, 2 * p, pi).value == pytest.approx(ope.ips(r, p, pi).value / 2)


def test_dr_reduces_to_dm_and_to_ips():
    rng = np.random.default_rng(1)
    r = rng.integers(0, 2, 60).astype(float)
    p = rng.uniform(0.1, 0.9, 60)
    pi = rng.uniform(0, 1, 60)
    qt = rng.uniform(0, 1, 60)
    # correction term zero: the reward model is exact at the logged actions
    assert ope.doubly_robust(r, p, pi, r, qt).value == pytest.approx(ope.direct_method(qt).value)
    # also zero when the evaluated policy never takes the logged actions
    ql = rng.uniform(0, 1, 60)
    assert ope.doubly_robust(r, p, np.zeros(60), ql, qt).value == pytest.approx(ope.direct_method(qt).value)
    zero = np.zeros(60)
    d, i = ope.doubly_robust(r, p, pi, zero, zero), ope.ips(r, p, pi)
    assert d.value == pytest.approx(i.value) and d.se == pytest.approx(i.se)


def test_clipped_ips_with_infinite_cap_is_ips_and_clipping_shrinks():
    r = np.array([1.0, 1.0, 0.0, 1.0])
    p = np.array([0.5, 0.05, 0.25, 0.1])
    pi = np.array([1.0, 1.0, 0.5, 0.5])  # weights 2, 20, 2, 5
    assert ope.clipped_ips(r, p, pi, np.inf).value == pytest.approx(ope.ips(r, p, pi).value)
    assert ope.ips(r, p, pi).value == pytest.approx((2 + 20 + 0 + 5) / 4)
    assert ope.clipped_ips(r, p, pi, 4.0).value == pytest.approx((2 + 4 + 0 + 4) / 4)


def test_replay_hand_example_and_batch():
    r = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    logged = np.array([0, 1, 2, 1, 1])
    target = np.array([0, 1, 0, 1, 0])  # matches events 0, 1, 3
    est = ope.replay(r, logged, target)
    assert est.value == pytest.approx(2 / 3) and est.n == 3
    assert est.se == pytest.approx(np.std([1, 0, 1], ddof=1) / np.sqrt(3))
    batch = ope.replay(np.stack([r, r]), np.stack([logged, logged]), np.stack([target, logged]))
    np.testing.assert_allclose(batch.value, [2 / 3, 3 / 5])


def test_replay_unbiased_under_uniform_logging():
    q, pc, _, target = small_world(seed=6)
    uniform = np.full(q.shape, 1 / q.shape[1])
    greedy = ope.epsilon_greedy_probs(target, 0.0)
    logs = ope.simulate_logs(q, pc, uniform, n_events=800, n_logs=1000, rng=np.random.default_rng(7))
    choice = greedy.argmax(axis=1)[logs.contexts]
    est = ope.replay(logs.rewards, logs.actions, choice)
    truth = ope.policy_value(q, greedy, pc)
    assert abs(est.value.mean() - truth) < 4 * est.value.std(ddof=1) / np.sqrt(1000)
    assert est.n.mean() == pytest.approx(800 / 4, rel=0.05)


def test_effective_sample_size():
    assert ope.effective_sample_size(np.full(10, 3.0)) == pytest.approx(10)
    assert ope.effective_sample_size(np.array([100.0, 0, 0, 0])) == pytest.approx(1)
    assert ope.effective_sample_size(np.array([1.0, 2.0])) == pytest.approx(9 / 5)


def test_epsilon_greedy_and_softmax_are_distributions():
    s = np.array([[0.1, 0.5, 0.2], [2.0, 1.0, 0.0]])
    eg = ope.epsilon_greedy_probs(s, 0.3)
    np.testing.assert_allclose(eg, [[0.1, 0.8, 0.1], [0.8, 0.1, 0.1]])
    np.testing.assert_allclose(numerics.softmax(s).sum(axis=1), 1)


def test_validation_errors():
    r, p, pi = np.ones(3), np.array([0.5, 0.0, 0.2]), np.ones(3)
    with pytest.raises(ValueError, match="positivity"):
        ope.ips(r, p, pi)
    with pytest.raises(ValueError, match="missing"):
        ope.snips(r, np.array([0.5, np.nan, 0.2]), pi)
    with pytest.raises(ValueError, match="same shape"):
        ope.ips(np.ones(4), np.full(3, 0.5), pi)
    with pytest.raises(ValueError, match="cap"):
        ope.clipped_ips(r, np.full(3, 0.5), pi, 0)
    with pytest.raises(ValueError, match=r"target_probs must be in \[0, 1\]"):
        ope.ips(r, np.full(3, 0.5), np.full(3, 1.5))
    with pytest.raises(ValueError, match="same shape"):
        ope.doubly_robust(r, np.full(3, 0.5), pi, np.ones(2), np.ones(3))


def test_position_based_model_ipw_recovers_attractiveness():
    rng = np.random.default_rng(0)
    n_items, L, n = 8, 4, 40_000
    alpha = np.linspace(0.1, 0.6, n_items)
    theta = click_models.examination_probs(L, eta=1.0)
    # a logger that shows good items on top more often: biased naive CTRs
    slates = np.argsort(-(alpha + rng.normal(0, 0.15, size=(n, n_items))), axis=1)[:, :L]
    clicks = click_models.position_based_clicks(alpha[slates], theta, rng)
    pos = np.broadcast_to(np.arange(L), slates.shape)
    naive = ope.item_click_rates(slates, pos, clicks, n_items)
    ipw = ope.item_click_rates(slates, pos, clicks, n_items, examination=theta)
    shown = ~np.isnan(naive)
    assert np.abs(naive[shown] - alpha[shown]).max() > 0.1
    np.testing.assert_allclose(ipw[shown], alpha[shown], atol=0.05)


def test_poem_learns_better_than_uniform_logger():
    rng = np.random.default_rng(0)
    n, k, dx = 3000, 6, 3
    x = np.c_[np.ones(n), rng.integers(0, 2, size=(n, 2))].astype(float)
    y = np.eye(k)
    true_w = rng.normal(0, 1.5, size=(dx, k))
    q = 1 / (1 + np.exp(-(x @ true_w - 1)))
    a = rng.integers(0, k, n)
    r = (rng.random(n) < q[np.arange(n), a]).astype(float)
    pol = ope.POEMPolicy(lam=0.5, n_steps=150).fit(x, y, a, r, np.full(n, 1 / k))
    probs = pol.predict_proba(x)
    learned = (probs * q).sum(axis=1).mean()
    assert learned > q.mean() + 0.05
    assert pol.select(x[:3]).shape == (3,)
    with pytest.raises(ValueError, match="not fitted"):
        ope.POEMPolicy().predict_proba(x)


def test_poem_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    n, k, dx, dy = 50, 5, 3, 4
    x, y = rng.normal(size=(n, dx)), rng.normal(size=(k, dy))
    a, r, p = rng.integers(0, k, n), rng.integers(0, 2, n).astype(float), rng.uniform(0.1, 0.5, n)
    W = rng.normal(0, 0.3, size=(dx, dy))
    J, grad, v = ope.poem_objective(W, x, y, a, r, p, lam=0.7, l2=0.01)
    w = numerics.softmax(x @ W @ y.T)[np.arange(n), a] / p
    assert v == pytest.approx(ope.snips(r, p, numerics.softmax(x @ W @ y.T)[np.arange(n), a]).value)
    assert J == pytest.approx(v - 0.7 * np.sqrt((w**2 * (r - v) ** 2).sum()) / w.sum() - 0.01 * (W**2).sum())
    num = np.zeros_like(W)
    for i in range(dx):
        for j in range(dy):
            E = np.zeros_like(W)
            E[i, j] = 1e-6
            num[i, j] = (ope.poem_objective(W + E, x, y, a, r, p, 0.7, 0.01)[0]
                         - ope.poem_objective(W - E, x, y, a, r, p, 0.7, 0.01)[0]) / 2e-6
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_checkers_pass_reference_and_reject_plausible_mistakes(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_ips(ope.ips_value).passed
    assert checks.check_doubly_robust(ope.dr_value).passed

    def self_normalised(r, p, pi):  # SNIPS, not IPS
        w = pi / p
        return float((w * r).sum() / w.sum())

    assert checks.check_ips(self_normalised).status == "failed"

    def dr_wrong_sign(r, p, pi, ql, qt):
        return float(np.mean(qt + pi / p * (ql - r)))

    assert checks.check_doubly_robust(dr_wrong_sign).status == "failed"

    def unsolved(*args):
        raise NotImplementedError()

    assert checks.check_ips(unsolved).status == "unsolved"
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "solutions")
    with pytest.raises(AssertionError):
        checks.check_doubly_robust(dr_wrong_sign)


def test_switch_is_ips_below_tau_and_the_model_above():
    from course_lib import ope
    r, p, pi = np.array([1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.25]), np.array([0.5, 1.0, 1.0])   # w = 1, 2, 4
    # tau = 2: events 1 and 2 keep IPS (1*1 + 2*0), event 3 (w = 4) gets the model's term; q_switched per event
    qs = np.array([0.0, 0.0, 0.3])
    out = ope.switch(r, p, pi, qs, 2.0)
    assert out.value == pytest.approx((1.0 + 0.0 + 0.3) / 3)
    assert ope.switch(r, p, pi, np.zeros(3), np.inf).value == pytest.approx(ope.ips(r, p, pi).value)
    assert ope.switch(r, p, pi, np.full(3, 0.4), 0.0).value == pytest.approx(0.4)      # tau = 0: all model
    with pytest.raises(ValueError, match="tau"):
        ope.switch(r, p, pi, qs, -1.0)
    with pytest.raises(ValueError, match="q_switched"):
        ope.switch(r, p, pi, qs[:2], 1.0)
