"""Lesson 04's neural bandits against closed forms, LinUCB/LinTS, per-sample loops and hand examples."""

import numpy as np
import pytest
import torch

from course_lib.contextual import LinTS, LinUCB
from course_lib.neural import (MLP, NeuralLinear, NeuralTS, NeuralUCB, NoiseBandit, UniformPolicy,
                               default_device, gradient_features, gradient_features_loop, mlp_gradients,
                               neural_linear_update, neural_ucb_bonus, stale_width_ratio)
from course_lib.notebook.checks import lesson04 as checks
from course_lib.protocols import ContextualBandit, load_state, save_state
from course_lib.sim.wheel import (classification_stream, load_classification, run_bandit, wheel_expected,
                                  wheel_points, wheel_stream)

CPU = dict(device="cpu")


def linear_data(n=120, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    arms = rng.integers(0, k, n)
    W = rng.standard_normal((k, d))
    r = (X * W[arms]).sum(1) + 0.1 * rng.standard_normal(n)
    return X, arms, r


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("hidden", [(8,), (6, 5)])
def test_torch_func_gradients_equal_a_per_sample_loop(hidden):
    torch.manual_seed(0)
    model = MLP(3, 4, hidden).double()
    X = torch.randn(7, 3, dtype=torch.float64)
    fast, loop = gradient_features(model, X), gradient_features_loop(model, X)
    P = sum(p.numel() for p in model.parameters())
    assert fast.shape == (7, 4, P)
    assert torch.allclose(fast, loop, atol=1e-12)


def test_closed_form_gradients_equal_torch_func():
    torch.manual_seed(1)
    model = MLP(5, 3, (9,)).double()
    X = np.random.default_rng(1).standard_normal((11, 5))
    want = gradient_features(model, torch.as_tensor(X)).numpy()
    assert np.allclose(mlp_gradients(model, X), want, atol=1e-12)


def test_backends_give_the_same_policy():
    X, arms, r = linear_data(80, 3, 4)
    a = NeuralUCB(4, 3, gamma=0.7, hidden=(8,), train_every=20, train_steps=5, gradients="torch.func", **CPU)
    b = NeuralUCB(4, 3, gamma=0.7, hidden=(8,), train_every=20, train_steps=5, gradients="closed_form", **CPU)
    a.partial_fit(arms, r, X)
    b.partial_fit(arms, r, X)
    assert np.allclose(a.predict_expectations(X[:10]), b.predict_expectations(X[:10]), atol=1e-10)


# ----------------------------------------------------------------------------- equivalences


def linear_neural_ucb(k, d, gamma, lam, n, z="exact"):
    net = torch.nn.Linear(d, k, bias=False)
    with torch.no_grad():
        net.weight.zero_()
    # full-batch gradient descent to convergence: the minimiser of sum (f - r)^2 / 2 + lam ||theta||^2 / 2
    return NeuralUCB(k, d, gamma=gamma, l2_lambda=lam, hidden=(), network=net, optimizer="sgd", lr=1.0,
                     train_every=n, train_steps=3000, batch_size=n, z=z, **CPU)


@pytest.mark.parametrize("gamma,lam", [(1.0, 1.0), (0.3, 2.5)])
def test_linear_neural_ucb_equals_linucb(gamma, lam):
    X, arms, r = linear_data()
    nucb = linear_neural_ucb(3, 4, gamma, lam, len(r)).partial_fit(arms, r, X)
    lin = LinUCB(3, 4, alpha=gamma, l2_lambda=lam).partial_fit(arms, r, X)
    Xt = np.random.default_rng(5).standard_normal((25, 4))
    assert np.abs(nucb.predict_expectations(Xt) - lin.predict_expectations(Xt)).max() < 1e-6
    # Z is block diagonal with LinUCB's A_a: its inverse's blocks are LinUCB's A_a^{-1}
    for a in range(3):
        block = nucb.Z_inv[a * 4:(a + 1) * 4, a * 4:(a + 1) * 4]
        assert np.allclose(block, lin.A_inv[a], atol=1e-12)


def test_diagonal_z_is_lambda_plus_sum_of_squared_gradients():
    X, arms, r = linear_data(60, 3, 2)
    p = NeuralUCB(2, 3, hidden=(5,), train_steps=0, z="diag", **CPU)
    exact = NeuralUCB(2, 3, hidden=(5,), train_steps=0, z="exact", **CPU)
    G = p.gradients(X)[np.arange(len(X)), arms]  # the network never changes: train_steps=0
    p.partial_fit(arms, r, X)
    exact.partial_fit(arms, r, X)
    assert np.allclose(p.Z_diag, 1.0 + (G ** 2).sum(0))
    assert np.allclose(exact.Z_inv, np.linalg.inv(np.eye(G.shape[1]) + G.T @ G), atol=1e-10)


def test_neural_linear_on_identity_features_is_lints():
    X, arms, r = linear_data()
    nl = NeuralLinear(3, 4, v=0.7, l2_lambda=2.0, hidden=(), seed=3, train_every=50, **CPU)
    ts = LinTS(3, 4, v=0.7, l2_lambda=2.0, seed=3)
    nl.partial_fit(arms, r, X)
    ts.partial_fit(arms, r, X)
    assert np.allclose(nl.A_inv, ts.A_inv, atol=1e-12)
    assert np.allclose(nl.theta, ts.theta, atol=1e-10)
    Xt = X[:9]
    assert np.allclose(nl.predict_expectations(Xt), ts.predict_expectations(Xt), atol=1e-10)  # same draws


def test_neural_linear_posterior_is_recomputed_on_new_features_after_training():
    X, arms, r = linear_data(100, 3, 2)
    p = NeuralLinear(2, 3, hidden=(6,), train_every=40, train_steps=10, **CPU).partial_fit(arms, r, X)
    Phi = p.features(X)
    for a in range(2):
        P = Phi[arms == a]
        assert np.allclose(np.linalg.inv(p.A_inv[a]), np.eye(6) + P.T @ P, atol=1e-8)
        assert np.allclose(p.b[a], P.T @ r[arms == a])


# ----------------------------------------------------------------------------- behaviour


def test_noise_bandit_explores_the_same_after_ten_events_as_after_a_thousand():
    s = wheel_stream(0.5, 1000, seed=0)
    p = NoiseBandit(5, 3, sigma=0.5, hidden=(8,), **CPU)
    x = s.contexts[:1]
    noise_early = np.std([p.predict_expectations(x) - p.network_scores(x) for _ in range(400)])
    run_bandit(p, s)
    noise_late = np.std([p.predict_expectations(x) - p.network_scores(x) for _ in range(400)])
    assert abs(noise_early - 0.5) < 0.05 and abs(noise_late - 0.5) < 0.05


def test_neural_ucb_width_shrinks_where_data_arrives():
    p = NeuralUCB(2, 2, hidden=(8,), train_steps=0, **CPU)
    x = np.array([0.3, -0.2])
    before = p.variance(x)[1][0, 0]
    p.partial_fit([0] * 30, [1.0] * 30, np.tile(x, (30, 1)))
    after = p.variance(x)[1][0]
    assert after[0] == pytest.approx(before / (1 + 30 * before))  # |g|^2 / (lambda + 30 |g|^2), lambda = 1
    assert after[1] > 3 * after[0]            # arm 1 shares only the trunk's gradients with arm 0


@pytest.mark.parametrize("cls,kw", [(NeuralUCB, {}), (NeuralTS, {}), (NeuralLinear, {}), (NoiseBandit, {}),
                                    (NeuralUCB, {"z": "diag"})])
def test_same_seed_same_run_and_state_round_trip(cls, kw, tmp_path):
    s = wheel_stream(0.7, 120, seed=2)
    make = lambda: cls(5, 3, hidden=(8,), train_every=40, train_steps=5, seed=4, **kw, **CPU)  # noqa: E731
    assert np.array_equal(run_bandit(make(), s), run_bandit(make(), s))
    p = make()
    run_bandit(p, s)
    assert isinstance(p, ContextualBandit)
    q = load_state(make(), save_state(p, tmp_path / "p.npz"))
    Xt = s.contexts[:20]
    assert np.array_equal(p.predict_expectations(Xt), q.predict_expectations(Xt))
    p.update(1, 50.0, Xt[0])
    q.update(1, 50.0, Xt[0])
    assert np.array_equal(p.predict(Xt, k=2), q.predict(Xt, k=2))


def test_action_probabilities():
    s = wheel_stream(0.5, 80, seed=1)
    ucb = NeuralUCB(5, 3, hidden=(8,), train_every=40, train_steps=5, **CPU)
    ts = NeuralTS(5, 3, hidden=(8,), train_every=40, train_steps=5, **CPU)
    run_bandit(ucb, s)
    run_bandit(ts, s)
    X = s.contexts[:6]
    P = ucb.action_probabilities(X)
    assert np.array_equal(P, np.eye(5)[ucb.predict(X)[:, 0]])
    before = ts.rng.bit_generator.state
    Q = ts.action_probabilities(X, n_samples=300)
    assert ts.rng.bit_generator.state == before       # Monte Carlo on a copy of the stream
    assert np.allclose(Q.sum(1), 1) and (Q >= 0).all()
    assert np.allclose(UniformPolicy(5, 3).action_probabilities(X), 0.2)


def test_predict_is_top_k_of_the_scores():
    p = NeuralUCB(5, 3, hidden=(8,), **CPU)
    X = wheel_stream(0.5, 4, seed=0).contexts
    scores = p.predict_expectations(X)
    top = p.predict(X, k=3)
    assert np.array_equal(top, np.argsort(-scores, axis=1, kind="stable")[:, :3])


def test_device_is_chosen_in_one_place():
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert NeuralUCB(2, 2, hidden=(4,)).device == default_device()


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("cls", [NeuralUCB, NeuralTS, NeuralLinear, NoiseBandit])
def test_bad_input_raises_clear_errors(cls):
    p = cls(3, 2, hidden=(4,), **CPU)
    with pytest.raises(ValueError, match="2 features"):
        p.select(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        p.predict_expectations(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="unknown arm"):
        p.update(3, 1.0, np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        p.update(0, np.nan, np.zeros(2))
    with pytest.raises(ValueError, match="k must be"):
        p.predict(np.zeros((1, 2)), k=4)


@pytest.mark.parametrize("cls,name", [(NeuralUCB, "gamma"), (NeuralTS, "nu"), (NoiseBandit, "sigma"),
                                      (NeuralLinear, "v")])
@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_non_positive_exploration_scale_is_rejected(cls, name, value):
    with pytest.raises(ValueError, match=name):
        cls(3, 2, **{name: value})


def test_other_parameters_are_checked():
    with pytest.raises(ValueError, match="z must be"):
        NeuralUCB(3, 2, z="full")
    with pytest.raises(ValueError, match="lr"):
        NeuralTS(3, 2, lr=0)
    with pytest.raises(ValueError, match="network must map"):
        NeuralUCB(3, 2, network=torch.nn.Linear(2, 4))
    with pytest.raises(ValueError, match="closed_form"):
        NeuralUCB(3, 2, hidden=(4, 4), gradients="closed_form")


# ----------------------------------------------------------------------------- environments


def test_wheel_rewards_by_hand():
    pts = np.array([[0.1, 0.1], [0.9, 0.1], [-0.9, 0.1], [-0.5, -0.8], [0.5, -0.8]])
    mu = wheel_expected(pts, delta=0.5)
    assert np.array_equal(mu[0], [1.2, 1.0, 1.0, 1.0, 1.0])
    for row, arm in zip(mu[1:], (1, 2, 3, 4)):
        want = np.array([1.2, 1.0, 1.0, 1.0, 1.0])
        want[arm] = 50.0
        assert np.array_equal(row, want)


def test_wheel_points_are_uniform_in_the_disc():
    p = wheel_points(200_000, np.random.default_rng(0))
    r = np.hypot(*p.T)
    assert r.max() <= 1
    assert abs((r > 0.7).mean() - (1 - 0.49)) < 0.005   # area outside radius 0.7
    s = wheel_stream(0.9, 500, seed=3)
    assert np.abs(s.rewards - s.expected).max() < 0.06  # N(mean, 0.01^2)
    assert np.array_equal(s.contexts[:, 2], np.ones(500))


def test_classification_stream():
    X, y = load_classification("wine")
    assert X.shape == (178, 13) and set(y) == {0, 1, 2}
    assert np.allclose(X.mean(0), 0, atol=1e-12)
    s = classification_stream("digits", 50, seed=0)
    assert s.rewards.shape == (50, 10) and np.array_equal(s.rewards.sum(1), np.ones(50))
    with pytest.raises(ValueError, match="name must be one of"):
        load_classification("iris2")


def test_uniform_regret_matches_its_expectation():
    s = wheel_stream(0.5, 4000, seed=0)
    got = run_bandit(UniformPolicy(5, 3, seed=1), s).mean()
    want = (s.expected.max(1) - s.expected.mean(1)).mean()
    assert abs(got - want) / want < 0.05


# ----------------------------------------------------------------------------- exercises


def test_exercise_references():
    rng = np.random.default_rng(0)
    A = np.eye(3) * 2.0
    phi = rng.standard_normal(3)
    A_new, b_new = neural_linear_update(np.linalg.inv(A), np.zeros(3), phi, 2.0)
    assert np.allclose(A_new, np.linalg.inv(A + np.outer(phi, phi)))
    assert np.allclose(b_new, 2.0 * phi)
    g = np.array([3.0, 4.0])
    assert neural_ucb_bonus(g, np.eye(2), 4, 2.0) == pytest.approx(2.0 * 5.0 / 2.0)


def test_checkers_accept_the_references(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_stale_width_ratio(stale_width_ratio).passed
    assert checks.check_neural_ucb_bonus(neural_ucb_bonus).passed


def _rebuilt_width_ratio(p, probes, G, *, power=0.5, lam=None):
    lam = p.l2_lambda if lam is None else lam
    Gp = p.gradients(probes)
    fresh = np.einsum("nkp,pq,nkq->nk", Gp, np.linalg.inv(lam * np.eye(p.n_params) + G.T @ G), Gp)
    return (p.variance(probes)[1] ** power).mean(0) / (fresh ** power).mean(0)


def _played(p):
    return p.gradients(p.X)[np.arange(len(p.arms)), p.arms]


def test_stale_width_reference_is_independent_of_the_checker():
    """The reference against a by-hand rebuild (per-arm loops, no einsum), and the stale Z is too wide after retrains."""
    p, probes = checks._stale_case(0)
    G = np.array([p.gradients(x)[0, a] for x, a in zip(p.X, p.arms)])
    Z_now = p.l2_lambda * np.eye(p.n_params) + sum(np.outer(g, g) for g in G)
    want = []
    for a in range(p.n_arms):
        fresh = [np.sqrt(g @ np.linalg.solve(Z_now, g)) for g in p.gradients(probes)[:, a]]
        stale = [np.sqrt(g @ p.Z_inv @ g) for g in p.gradients(probes)[:, a]]
        want.append(np.mean(stale) / np.mean(fresh))
    got = stale_width_ratio(p, probes)
    assert np.allclose(got, want, rtol=1e-9)
    assert (got > 1.05).all()
    # no retrain since the last event: the policy's Z is the rebuilt one, the ratio is 1
    q = NeuralUCB(3, 2, hidden=(6,), train_every=1000, seed=0, **CPU).partial_fit(p.arms, p.rewards, p.X)
    assert np.allclose(stale_width_ratio(q, probes), 1.0, atol=1e-9)
    d = NeuralUCB(3, 2, hidden=(6,), train_every=1000, seed=0, z="diag", **CPU).partial_fit(p.arms, p.rewards, p.X)
    assert np.allclose(stale_width_ratio(d, probes), 1.0, atol=1e-9)


def test_checkers_reject_plausible_mistakes(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")

    def every_arm(p, probes):
        return _rebuilt_width_ratio(p, probes, p.gradients(p.X).reshape(-1, p.n_params))

    def variances(p, probes):
        return _rebuilt_width_ratio(p, probes, _played(p), power=1.0)

    def no_lambda(p, probes):   # Z = sum g g^T alone: singular with fewer events than parameters
        return _rebuilt_width_ratio(p, probes, _played(p), lam=0.0)

    def upside_down(p, probes):
        return 1.0 / _rebuilt_width_ratio(p, probes, _played(p))

    def overwrites_policy(p, probes):
        stale = np.sqrt(p.variance(probes)[1]).mean(0)
        G = _played(p)
        p.Z_inv[:] = np.linalg.inv(p.l2_lambda * np.eye(p.n_params) + G.T @ G)
        return stale / np.sqrt(p.variance(probes)[1]).mean(0)

    for wrong, hint in ((every_arm, "arm played"), (variances, "not the variances"), (no_lambda, "lambda I"),
                        (upside_down, "upside down"), (overwrites_policy, "changed the policy")):
        res = checks.check_stale_width_ratio(wrong)
        assert res.status == "failed" and hint in res.message, (wrong.__name__, res.message)
        assert res.use is stale_width_ratio
    unsolved = checks.check_stale_width_ratio(lambda *a: (_ for _ in ()).throw(NotImplementedError()))
    assert unsolved.status == "unsolved" and unsolved.use is stale_width_ratio

    def no_m(g, Z_inv, m, gamma):
        return gamma * np.sqrt(g @ Z_inv @ g)

    def no_sqrt(g, Z_inv, m, gamma):
        return gamma * g @ Z_inv @ g / m

    for wrong, hint in ((no_m, "width m"), (no_sqrt, "square root")):
        res = checks.check_neural_ucb_bonus(wrong)
        assert res.status == "failed" and hint in res.message
    assert checks.check_neural_ucb_bonus(lambda *a: (_ for _ in ()).throw(NotImplementedError())).status == "unsolved"


def test_solution_variant_raises_on_a_wrong_diagnostic(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "solutions")
    with pytest.raises(AssertionError, match="upside down"):
        checks.check_stale_width_ratio(lambda p, probes: 1.0 / stale_width_ratio(p, probes))


def test_numpy_forward_equals_torch_forward():
    X, arms, r = linear_data(60, 3, 4)
    for hidden in ((7,), (6, 5)):
        p = NeuralLinear(4, 3, hidden=hidden, train_every=30, train_steps=5, **CPU).partial_fit(arms, r, X)
        assert p._numpy_layers() is not None
        with torch.no_grad():
            want_f = p.model(torch.as_tensor(X)).numpy()
            want_phi = p.model.features(torch.as_tensor(X)).numpy()
        assert np.allclose(p.network_scores(X), want_f, atol=1e-12)
        assert np.allclose(p.features(X), want_phi, atol=1e-12)


# ----------------------------------------------------------------------------- time-varying tastes (section 10)

from course_lib.neural import ColumnView, HyperBandit, SlidingWindowLinUCB  # noqa: E402
from course_lib.sim.timevarying import TimeVaryingWorld, day_and_period, time_features_week  # noqa: E402


def small_hyper(**kw):
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((4, 2))
    # context: two user columns, then three time columns
    args = dict(rank=2, hidden=6, train_every=7, train_steps=3, batch_size=8, seed=1, **CPU)
    return HyperBandit(4, 5, Y, [0, 1], [2, 3, 4], **{**args, **kw})


def test_hypernetwork_output_shapes_and_low_rank_score_by_hand():
    p = small_hyper()
    X = np.array([[0.5, -1.0, 1.0, 0.0, 0.0], [2.0, 0.3, 0.0, 1.0, 0.0]])
    z, W = p.factors(X)
    assert z.shape == (2, 2) and W.shape == (2, 4, 2)
    Theta = p.preference_matrix(X)
    assert Theta.shape == (2, 3, 3)                           # (d_u + 1) x (d_i + 1), constants appended
    assert np.linalg.matrix_rank(Theta[0]) <= 2
    # by hand: U, V straight from the torch module, score x_u^T U V^T y_a
    with torch.no_grad():
        U, V = p.net(torch.as_tensor(X[:, 2:], dtype=torch.float64))
    U, V = U.numpy(), V.numpy()
    xu = np.array([0.5, -1.0, 1.0])
    ya = np.append(p.Y[3, :2], 1.0)
    assert p.network_scores(X)[0, 3] == pytest.approx(xu @ U[0] @ V[0].T @ ya, rel=1e-12)
    np.testing.assert_allclose(Theta[0], U[0] @ V[0].T, rtol=1e-12)
    # with no data yet beta = 0 and A = lambda I: score = z^T w_a + alpha |z| / sqrt(lambda)
    s = p.predict_expectations(X[:1])[0]
    np.testing.assert_allclose(s, W[0] @ z[0] + p.alpha * np.linalg.norm(z[0]), rtol=1e-12)


def test_hyperbandit_ridge_statistics_match_a_direct_computation():
    p = small_hyper(train_steps=0)
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.standard_normal((5, 2)), np.eye(3)[rng.integers(0, 3, 5)]])
    arms, r = np.array([0, 2, 2, 1, 2]), rng.random(5)
    z, W = p.factors(X)
    p.partial_fit(arms, r, X)
    A = np.eye(2) + sum(np.outer(z[i], z[i]) for i in range(5) if arms[i] == 2)
    b = sum((r[i] - z[i] @ W[i, 2]) * z[i] for i in range(5) if arms[i] == 2)
    np.testing.assert_allclose(np.linalg.inv(p.A_inv[2]), A, atol=1e-10)
    np.testing.assert_allclose(p.b[2], b, atol=1e-12)


def test_hyperbandit_without_time_ignores_the_time_columns():
    p = small_hyper(use_time=False)
    X = np.array([[0.5, -1.0, 1.0, 0.0, 0.0], [0.5, -1.0, 0.0, 0.0, 1.0]])
    s = p.predict_expectations(X)
    np.testing.assert_allclose(s[0], s[1])
    q = small_hyper()
    assert not np.allclose(q.predict_expectations(X)[0], q.predict_expectations(X)[1])


@pytest.mark.parametrize("make", [
    lambda s: small_hyper(seed=s),
    lambda s: SlidingWindowLinUCB(4, 5, window=6, alpha=0.5),
    lambda s: ColumnView(LinUCB(4, 2, alpha=0.5), [0, 3], 5),
])
def test_time_policies_follow_the_protocol_and_round_trip(make, tmp_path):
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.standard_normal((40, 2)), np.eye(3)[rng.integers(0, 3, 40)]])
    arms, r = rng.integers(0, 4, 40), rng.random(40)
    p = make(1)
    assert isinstance(p, ContextualBandit)
    for i in range(20):
        p.update(int(p.select(X[i])), float(r[i]), X[i])
    p.partial_fit(arms[20:30], r[20:30], X[20:30])
    probs = p.action_probabilities(X[:5])
    assert probs.shape == (5, 4) and np.allclose(probs.sum(1), 1)
    q = load_state(make(7), save_state(p, tmp_path / "p.npz"))
    np.testing.assert_array_equal(p.predict_expectations(X), q.predict_expectations(X))
    p.partial_fit(arms[30:], r[30:], X[30:])
    q.partial_fit(arms[30:], r[30:], X[30:])
    np.testing.assert_array_equal(p.predict(X, k=2), q.predict(X, k=2))


def test_sliding_window_linucb_equals_linucb_on_the_last_window():
    rng = np.random.default_rng(5)
    X, arms, r = rng.standard_normal((30, 3)), rng.integers(0, 2, 30), rng.random(30)
    sw = SlidingWindowLinUCB(2, 3, window=8, alpha=0.7).partial_fit(arms, r, X)
    ref = LinUCB(2, 3, alpha=0.7).partial_fit(arms[-8:], r[-8:], X[-8:])
    np.testing.assert_allclose(sw.predict_expectations(X), ref.predict_expectations(X), atol=1e-9)


def test_column_view_is_the_inner_policy_on_the_columns():
    rng = np.random.default_rng(6)
    X, arms, r = rng.standard_normal((20, 5)), rng.integers(0, 3, 20), rng.random(20)
    view = ColumnView(LinUCB(3, 2, alpha=0.4), [1, 4], 5).partial_fit(arms, r, X)
    ref = LinUCB(3, 2, alpha=0.4).partial_fit(arms, r, X[:, [1, 4]])
    np.testing.assert_allclose(view.predict_expectations(X), ref.predict_expectations(X[:, [1, 4]]))


def test_time_policies_reject_bad_input():
    p = small_hyper()
    with pytest.raises(ValueError, match="5 features"):
        p.select(np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        p.select(np.array([np.nan, 0, 1, 0, 0]))
    with pytest.raises(ValueError, match="unknown arm"):
        p.update(4, 1.0, np.zeros(5))
    with pytest.raises(ValueError, match="item_features"):
        HyperBandit(4, 5, np.zeros((3, 2)), [0, 1], [2, 3, 4])
    with pytest.raises(ValueError, match="time_columns"):
        HyperBandit(4, 5, np.zeros((4, 2)), [0, 1], [2, 9])
    with pytest.raises(ValueError, match="alpha"):
        HyperBandit(4, 5, np.zeros((4, 2)), [0, 1], [2, 3], alpha=-1.0)
    with pytest.raises(ValueError, match="window"):
        SlidingWindowLinUCB(3, 2, window=0)
    with pytest.raises(ValueError, match="columns"):
        ColumnView(LinUCB(3, 2), [0, 7], 5)
    with pytest.raises(ValueError, match="inner policy"):
        ColumnView(LinUCB(3, 3), [0, 1], 5)


def test_time_varying_world_keeps_lesson_03_and_adds_the_rotating_term():
    from course_lib.sim.world import load_world

    base = load_world()
    tv = TimeVaryingWorld.from_world(base, amplitude=2.0)
    assert type(base).__name__ == "World" and base.context_dim == 13      # the wrapped world is unchanged
    assert tv.context_dim == 10 + 7 + 4
    t = np.array(["2024-02-05 08:00", "2024-02-10 21:30"], dtype="datetime64[s]")   # Monday morning, Saturday evening
    day, period = day_and_period(t)
    assert day.tolist() == [0, 5] and period.tolist() == [1, 3]
    np.testing.assert_array_equal(time_features_week(t)[1], np.eye(11)[5] + np.eye(11)[7 + 3])
    u, p = np.arange(5)[:, None, None], np.arange(200)[None, :, None]
    flat = TimeVaryingWorld.from_world(base, amplitude=0.0)
    np.testing.assert_allclose(flat.click_probability(u, p, t[None, None]), base.click_probability(u, p, t[None, None]))
    # the taste term by hand for user 0 and product 0 on Monday morning: 2 s_u cos(psi_c - 2 pi / 4)
    s = 1.0 if base.users.gender[0] == "F" else -1.0
    c = list(base.artifact.categories).index(base.products.category[0])
    assert tv.taste(0, 0, t[0]) == pytest.approx(2 * s * np.cos(2 * np.pi * c / len(base.artifact.categories) - np.pi / 2))
    with pytest.raises(ValueError, match="amplitude"):
        TimeVaryingWorld.from_world(base, amplitude=-1.0)


def test_chronological_loop_serves_the_same_visits_in_time_order():
    from course_lib.sim.loops import run_loop
    from course_lib.sim.world import load_world

    w = load_world()
    a = run_loop(w, UniformPolicy(w.n_products, w.context_dim, seed=0), 50, seed=3)
    b = run_loop(w, UniformPolicy(w.n_products, w.context_dim, seed=0), 50, seed=3, chronological=True)
    assert np.all(np.diff(b.timestamps) >= np.timedelta64(0, "s"))
    assert sorted(zip(a.timestamps.tolist(), a.users.tolist())) == list(zip(b.timestamps.tolist(), b.users.tolist()))


def test_neural_linear_warm_start_trains_once_and_recomputes_the_posterior():
    X, arms, r = linear_data(n=60, d=3, k=2)
    p = NeuralLinear(2, 3, hidden=(4,), train_steps=5, seed=0, **CPU).warm_start(arms, r, X, steps=10)
    assert p.t == 60 and len(p.rewards) == 60
    Phi = p.features(X)
    A = np.eye(4) + Phi[arms == 1].T @ Phi[arms == 1]
    np.testing.assert_allclose(np.linalg.inv(p.A_inv[1]), A, atol=1e-8)


# ----------------------------------------------------------------------------- closed-form training (speed)


@pytest.mark.parametrize("hidden,optimizer", [((7,), "adam"), ((6, 5), "adam"), ((7,), "sgd"), ((), "adam")])
def test_numpy_training_equals_torch_autograd(hidden, optimizer):
    """The closed-form NumPy training path takes the same mini-batches and steps as the torch autograd one."""
    X, arms, r = linear_data(300, 4, 3)
    fast, slow = (NoiseBandit(3, 4, hidden=hidden, train_every=100, train_steps=30, optimizer=optimizer, lr=0.01,
                              **CPU) for _ in range(2))
    slow.numpy_training = False
    fast.partial_fit(arms, r, X)
    slow.partial_fit(arms, r, X)
    for a, b in zip(fast.model.parameters(), slow.model.parameters()):
        assert np.allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    assert fast.rng.random() == slow.rng.random()   # the same random draws were consumed


@pytest.mark.parametrize("use_time", [True, False])
def test_hyperbandit_numpy_training_equals_torch_autograd(use_time):
    rng = np.random.default_rng(0)
    K, d = 6, 9
    Y, X = rng.standard_normal((K, 3)), rng.standard_normal((500, d))
    arms, r = rng.integers(0, K, 500), rng.random(500)
    fast, slow = (HyperBandit(K, d, Y, [0, 1, 2], [3, 4, 5, 6, 7, 8], train_every=100, train_steps=15,
                              batch_size=64, use_time=use_time, device="cpu") for _ in range(2))
    slow.numpy_training = False
    fast.partial_fit(arms, r, X)
    slow.partial_fit(arms, r, X)
    for a, b in zip(fast.net.parameters(), slow.net.parameters()):
        assert np.allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    assert np.allclose(fast.predict_expectations(X[:20]), slow.predict_expectations(X[:20]), atol=1e-10)
