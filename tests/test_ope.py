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
    assert checks.check_self_normalised_dr(ope.sndr_value).passed

    def self_normalised(r, p, pi):  # SNIPS, not IPS
        w = pi / p
        return float((w * r).sum() / w.sum())

    assert checks.check_ips(self_normalised).status == "failed"

    def plain_dr(r, p, pi, ql, qt):                       # divides the correction by n
        return ope.dr_value(r, p, pi, ql, qt)

    def snips_only(r, p, pi, ql, qt):                     # forgets the reward model
        return float(ope.snips(r, p, pi).value)

    def all_normalised(r, p, pi, ql, qt):                 # weights the DM term too
        w = pi / p
        return float((qt + w * (r - ql)).sum() / w.sum())

    def in_place(r, p, pi, ql, qt):                       # right value, but overwrites the rewards
        r -= ql
        w = pi / p
        return float(qt.mean() + (w * r).sum() / w.sum())

    for fn, hint in ((plain_dr, "plain DR"), (snips_only, "SNIPS"), (all_normalised, "only the correction"),
                     (in_place, "do not modify")):
        res = checks.check_self_normalised_dr(fn)
        assert res.status == "failed" and hint in res.message, (fn.__name__, res.message)

    def unsolved(*args):
        raise NotImplementedError()

    assert checks.check_ips(unsolved).status == "unsolved"
    assert checks.check_self_normalised_dr(unsolved).status == "unsolved"
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "solutions")
    with pytest.raises(AssertionError):
        checks.check_self_normalised_dr(plain_dr)


def test_self_normalised_dr_by_hand_invariant_to_scale_and_honest_in_monte_carlo():
    r, p = np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.5, 0.25, 0.1, 0.2])
    pi, ql, qt = np.array([1.0, 0.5, 0.2, 0.4]), np.array([0.3, 0.2, 0.4, 0.1]), np.array([0.5, 0.3, 0.2, 0.6])
    w = pi / p                                           # 2, 2, 2, 2: the correction's mean over 4 events
    want = qt.mean() + (w * (r - ql)).sum() / w.sum()
    assert ope.sndr_value(r, p, pi, ql, qt) == pytest.approx(want)
    assert ope.sndr_value(r, p / 2, pi, ql, qt) == pytest.approx(want)                   # scale cancels
    assert ope.sndr_value(r, p, pi, np.zeros(4), np.zeros(4)) == pytest.approx(ope.snips(r, p, pi).value)
    # with equal weights (all 2) SNDR is DR with the weights set to 1
    assert ope.sndr_value(r, p, pi, ql, qt) == pytest.approx(ope.dr_value(r, p, pi / 2, ql, qt))
    # Monte Carlo: nearly unbiased with a wrong reward model, interval near 95%
    q, pc, logger, target = small_world(seed=3)
    q_hat = np.clip(q + 0.15, 0, 1)
    logs = ope.simulate_logs(q, pc, logger, n_events=1000, n_logs=2000, rng=np.random.default_rng(4))
    est = ope.self_normalised_dr(logs.rewards, logs.propensities, target[logs.contexts, logs.actions],
                                 q_hat[logs.contexts, logs.actions], (target * q_hat).sum(axis=1)[logs.contexts])
    truth = ope.policy_value(q, target, pc)
    assert abs(est.value.mean() - truth) < 4 * est.value.std() / np.sqrt(2000)
    assert est.se.mean() == pytest.approx(est.value.std(), rel=0.1)
    lo, hi = est.ci
    assert 0.93 < np.mean((lo <= truth) & (truth <= hi)) < 0.97


class _Fixed:
    """A policy that never learns: the argmax of a fixed score table over context ids (column 0 of the context)."""

    def __init__(self, scores):
        self.scores, self.n_arms, self.n_features, self.updates = scores, scores.shape[1], 2, 0

    def predict_expectations(self, contexts):
        return self.scores[np.asarray(contexts)[:, 0].astype(int)]

    def update(self, arm, reward, context):
        self.updates += 1
        return self


def _uniform_log(n, seed=0):
    from course_lib.sim.world import context_table, load_world

    world = load_world()
    table = context_table(world)
    uniform = np.full(table.click_probs.shape, 1 / world.n_products)
    L = ope.simulate_logs(table.click_probs, table.probs, uniform, n, 1, np.random.default_rng(seed))
    return world, table.features[L.contexts[0]], L.actions[0], L.rewards[0]


def test_learning_replay_of_a_fixed_policy_is_the_replay_estimator():
    rng = np.random.default_rng(0)
    n, c, k = 3000, 7, 5
    ctx = rng.integers(0, c, n)
    X = np.c_[ctx, rng.normal(size=n)]
    a, r = rng.integers(0, k, n), (rng.random(n) < 0.3).astype(float)
    pol = _Fixed(rng.normal(size=(c, k)))
    out = ope.replay_learning(pol, X, a, r, chunk=13)
    ref = ope.replay(r, a, pol.scores[ctx].argmax(axis=1))
    assert out.n_steps == ref.n == pol.updates and out.n_read == n
    assert out.estimate.value == pytest.approx(ref.value) and out.estimate.se == pytest.approx(ref.se)
    np.testing.assert_array_equal(out.kept, np.flatnonzero(pol.scores[ctx].argmax(axis=1) == a))
    short = ope.replay_learning(_Fixed(pol.scores), X, a, r, n_steps=10)
    assert short.n_steps == 10 and short.n_read == out.kept[9] + 1


def test_learning_replay_of_linucb_equals_the_per_event_loop_exactly():
    from course_lib.contextual import LinUCB

    world, X, a, r = _uniform_log(12_000, seed=5)
    out = ope.replay_learning(LinUCB(world.n_products, world.context_dim, alpha=1.0), X, a, r)
    naive, kept = LinUCB(world.n_products, world.context_dim, alpha=1.0), []
    for i in range(len(X)):                                 # Li et al.'s loop, one event at a time
        if naive.select(X[i]) == a[i]:
            naive.update(int(a[i]), float(r[i]), X[i])
            kept.append(i)
    assert len(kept) > 30
    np.testing.assert_array_equal(out.kept, kept)
    # the generic chunked path (any ContextualBandit) gives the same events
    class Other(LinUCB):
        pass
    generic = ope.replay_learning(Other(world.n_products, world.context_dim, alpha=1.0), X, a, r, chunk=50)
    np.testing.assert_array_equal(generic.kept, kept)
    # the policy learned from kept events only
    fresh = LinUCB(world.n_products, world.context_dim, alpha=1.0)
    fresh.partial_fit(a[kept], r[kept], X[kept])
    np.testing.assert_allclose(fresh.theta, naive.theta, atol=1e-10)


def test_learning_replay_rejects_bad_input():
    from course_lib.contextual import LinUCB

    pol = LinUCB(4, 2)
    X, a, r = np.zeros((5, 2)), np.zeros(5, dtype=int), np.zeros(5)
    with pytest.raises(ValueError, match="features"):
        ope.replay_learning(pol, np.zeros((5, 3)), a, r)
    with pytest.raises(ValueError, match="actions"):
        ope.replay_learning(pol, X, np.full(5, 4), r)
    with pytest.raises(ValueError, match="one entry per context"):
        ope.replay_learning(pol, X, a, r[:3])
    with pytest.raises(ValueError, match="n_steps"):
        ope.replay_learning(pol, X, a, r, n_steps=0)
    with pytest.raises(TypeError, match="ContextualBandit"):
        ope.replay_learning(object(), X, a, r)


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
