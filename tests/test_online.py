"""course_lib.online against hand-computed steps, scikit-learn's batch model, and bad input."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from course_lib import online as ol
from course_lib.notebook.checks import lesson01 as checks
from course_lib.sim import streams


def sig(z):
    return 1 / (1 + math.exp(-z))


X2 = np.array([[1.0, 2.0], [1.0, 0.0]])
Y2 = np.array([1.0, 0.0])


def test_sgd_two_steps_by_hand():
    m = ol.OnlineLogisticRegression(2, ol.SGD(0.1)).partial_fit(X2, Y2)
    # step 1: p = 0.5, g = (0.5 - 1) * [1, 2, 1] -> w = [0.05, 0.1], b = 0.05
    # step 2: p = sig(0.05 + 0.05), g = p * [1, 0, 1]
    p2 = sig(0.1)
    assert m.coef_ == pytest.approx([0.05 - 0.1 * p2, 0.1])
    assert m.intercept_ == pytest.approx(0.05 - 0.1 * p2)


def test_sgd_invsqrt_schedule_divides_by_sqrt_t():
    opt = ol.SGD(0.1, "invsqrt")
    m = ol.OnlineLogisticRegression(2, opt).partial_fit(X2, Y2)
    p2 = sig(0.1)  # same first step (eta_1 = 0.1), second step uses 0.1 / sqrt(2)
    assert m.coef_[0] == pytest.approx(0.05 - 0.1 / math.sqrt(2) * p2)
    assert opt.t == 2


def test_adagrad_two_steps_by_hand():
    m = ol.OnlineLogisticRegression(2, ol.AdaGrad(eta=1.0, eps=0.0)).partial_fit(X2, Y2)
    # step 1: g = [-0.5, -1, -0.5]; G = g^2; w = -g / |g| = [1, 1, 1]
    # step 2: z = 1 + 1 = 2, p = sig(2), g = [p, 0, p]; G0 = 0.25 + p^2
    p2 = sig(2.0)
    w0 = 1 - p2 / math.sqrt(0.25 + p2 ** 2)
    assert m.coef_ == pytest.approx([w0, 1.0])
    assert m.intercept_ == pytest.approx(w0)
    assert m.optimizer.G == pytest.approx([0.25 + p2 ** 2, 1.0, 0.25 + p2 ** 2])


def test_ftrl_two_steps_by_hand():
    alpha, beta, l1, l2 = 1.0, 1.0, 0.2, 0.5
    m = ol.OnlineLogisticRegression(2, ol.FTRLProximal(alpha, beta, l1, l2)).partial_fit(X2, Y2)
    # step 1 (w = 0): g = [-0.5, -1, -0.5]; sigma = |g| / alpha; z = g; n = g^2
    def w_of(z, n):
        return 0.0 if abs(z) <= l1 else -(z - math.copysign(l1, z)) / ((beta + math.sqrt(n)) / alpha + l2)
    w1 = [w_of(-0.5, 0.25), w_of(-1.0, 1.0), w_of(-0.5, 0.25)]
    # step 2: x = [1, 0, 1]
    p2 = sig(w1[0] * 1 + w1[2])
    g = p2
    n_new = 0.25 + g * g
    sigma = (math.sqrt(n_new) - 0.5) / alpha
    z0 = -0.5 + g - sigma * w1[0]
    z2 = -0.5 + g - sigma * w1[2]
    assert m.coef_ == pytest.approx([w_of(z0, n_new), w1[1]])
    assert m.intercept_ == pytest.approx(w_of(z2, n_new))


def test_ftrl_l1_gives_exact_zeros_and_none_without_it():
    s = streams.make_click_stream(4000, n_items=500, n_bits=12, seed=3)
    touched = np.unique(s.X.indices)
    dense = ol.OnlineLogisticRegression(s.X.shape[1], ol.FTRLProximal(0.3, 1.0, l1=0.0)).partial_fit(s.X, s.y)
    sparse = ol.OnlineLogisticRegression(s.X.shape[1], ol.FTRLProximal(0.3, 1.0, l1=2.0)).partial_fit(s.X, s.y)
    assert np.count_nonzero(dense.coef_[touched]) == len(touched)
    zeros = np.sum(sparse.coef_[touched] == 0.0)
    assert zeros > 0.5 * len(touched), "a strong L1 should zero most rarely-seen coordinates exactly"


@pytest.mark.parametrize("optimizer", [ol.AdaGrad(0.3), ol.FTRLProximal(0.3, 1.0, 0.0, 1.0)], ids=repr)
def test_online_logistic_reaches_the_batch_logloss_on_a_stationary_stream(optimizer):
    s = streams.make_click_stream(24000, n_items=300, n_bits=12, zipf_a=0.8, seed=5)
    train, test = slice(0, 20000), slice(20000, None)
    batch = LogisticRegression(C=1.0, max_iter=2000).fit(s.X[train], s.y[train])
    batch_ll = log_loss(s.y[test], batch.predict_proba(s.X[test])[:, 1])
    model = ol.OnlineLogisticRegression(s.X.shape[1], optimizer).partial_fit(s.X[train], s.y[train])
    online_ll = log_loss(s.y[test], model.predict_proba(s.X[test]))
    assert online_ll < batch_ll + 0.01, (online_ll, batch_ll)


def test_online_linear_regression_converges_to_least_squares():
    X, y, _ = streams.make_regression_stream(20000, n_features=3, seed=2)
    m = ol.OnlineLinearRegression(3, ol.SGD(0.05, "invsqrt")).partial_fit(X, y)
    lsq, *_ = np.linalg.lstsq(np.hstack([X, np.ones((len(X), 1))]), y, rcond=None)
    assert np.allclose(np.append(m.coef_, m.intercept_), lsq, atol=0.05)


def test_progressive_validation_predicts_before_learning():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (rng.uniform(size=50) < 0.4).astype(float)
    p = ol.progressive_validation(ol.OnlineLogisticRegression(3, ol.SGD(0.3)), X, y)
    manual = ol.OnlineLogisticRegression(3, ol.SGD(0.3))
    expect = []
    for t in range(50):
        expect.append(manual.predict_proba(X[t:t + 1])[0])
        manual.partial_fit(X[t:t + 1], y[t:t + 1])
    assert p == pytest.approx(expect)


def test_sparse_and_dense_inputs_give_the_same_model():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5)) * (rng.uniform(size=(40, 5)) < 0.4)
    y = (rng.uniform(size=40) < 0.5).astype(float)
    a = ol.OnlineLogisticRegression(5, ol.AdaGrad(0.2)).partial_fit(X, y)
    b = ol.OnlineLogisticRegression(5, ol.AdaGrad(0.2)).partial_fit(sp.csr_matrix(X), y)
    # AdaGrad's G differs for explicit zeros only in coordinates with zero gradient: same weights
    assert a.w == pytest.approx(b.w)


def test_sgd_grid_equals_one_learner_at_a_time():
    d = streams.make_drift_stream(300, n_streams=2, seed=4)
    etas = [0.05, 0.5]
    grid = ol.progressive_sgd_grid(d.X, d.y, etas)
    for s in range(2):
        for k, eta in enumerate(etas):
            one = ol.progressive_validation(ol.OnlineLogisticRegression(8, ol.SGD(eta)), d.X[s], d.y[s])
            assert grid[s, k] == pytest.approx(one)


def test_recovery_time_counts_events_until_the_rolling_excess_is_small():
    excess = np.r_[np.zeros(10), np.full(5, 1.0), np.zeros(20)]
    # after start: 1 1 1 1 1 0 0 0 ...; trailing means of 4 fall below 0.5 first at the 8th event (1 0 0 0)
    assert ol.recovery_time(excess, start=10, threshold=0.5, window=4) == 8
    assert ol.recovery_time(np.ones(30), start=10, threshold=0.5, window=4) == 20


@pytest.mark.parametrize("make, message", [
    (lambda: ol.SGD(-0.1), "eta"),
    (lambda: ol.SGD(0.1, schedule="1/t"), "schedule"),
    (lambda: ol.AdaGrad(0.0), "eta"),
    (lambda: ol.FTRLProximal(alpha=0.1, l1=-1), "l1"),
    (lambda: ol.RMSProp(0.01, rho=1.0), "rho"),
    (lambda: ol.RMSProp(-0.01), "eta"),
    (lambda: ol.OnlineLogisticRegression(0), "n_features"),
])
def test_bad_hyper_parameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_data_raises_clear_errors():
    m = ol.OnlineLogisticRegression(2, ol.SGD(0.1))
    with pytest.raises(ValueError, match="NaN"):
        m.partial_fit(np.array([[np.nan, 1.0]]), [1])
    with pytest.raises(ValueError, match="3 features but the model was built with n_features=2"):
        m.partial_fit(np.ones((1, 3)), [1])
    with pytest.raises(ValueError, match="0/1"):
        m.partial_fit(np.ones((1, 2)), [2])
    with pytest.raises(ValueError, match="y has 2 values but X has 1 rows"):
        m.partial_fit(np.ones((1, 2)), [1, 0])
    with pytest.raises(ValueError, match="2-D"):
        m.predict_proba(np.ones(2))
    with pytest.raises(ValueError, match="NaN"):
        ol.OnlineLinearRegression(2).partial_fit(np.ones((1, 2)), [np.inf])


# ------------------------------------------------------------------ exercise checkers

@pytest.fixture
def student(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")


def test_adagrad_checker_passes_the_reference_and_rejects_wrong_orders(student):
    assert checks.check_adagrad_update(ol.adagrad_update).passed

    def step_before_accumulating(w, G, g, eta, eps=1e-8):
        return w - eta / (np.sqrt(G) + eps) * g, G + g * g

    def forgets_the_square_root(w, G, g, eta, eps=1e-8):
        G = G + g * g
        return w - eta / (G + eps) * g, G

    for wrong in (step_before_accumulating, forgets_the_square_root):
        res = checks.check_adagrad_update(wrong)
        assert res.status == "failed" and res.use is ol.adagrad_update


def test_rmsprop_checker_passes_the_reference_and_rejects_wrong_answers_with_matching_hints(student):
    assert checks.check_rmsprop_update(ol.rmsprop_update).passed

    def adagrad_sum(w, G, g, eta, rho, eps=1e-8):          # forgot to decay
        G = G + g * g
        return w - eta / (np.sqrt(G) + eps) * g, G

    def no_one_minus_rho(w, G, g, eta, rho, eps=1e-8):
        G = rho * G + g * g
        return w - eta / (np.sqrt(G) + eps) * g, G

    def swapped(w, G, g, eta, rho, eps=1e-8):
        G = (1 - rho) * G + rho * g * g
        return w - eta / (np.sqrt(G) + eps) * g, G

    def old_G(w, G, g, eta, rho, eps=1e-8):
        return w - eta / (np.sqrt(G) + eps) * g, rho * G + (1 - rho) * g * g

    def no_square_root(w, G, g, eta, rho, eps=1e-8):
        G = rho * G + (1 - rho) * g * g
        return w - eta / (G + eps) * g, G

    def in_place(w, G, g, eta, rho, eps=1e-8):
        G *= rho
        G += (1 - rho) * g * g
        w -= eta / (np.sqrt(G) + eps) * g
        return w, G

    def scalar_only(w, G, g, eta, rho, eps=1e-8):
        G = rho * G + (1 - rho) * g * g
        return w - float(eta) / (np.sqrt(G) + eps) * g, G

    for wrong, words in ((adagrad_sum, "must decay"), (no_one_minus_rho, "(1 - rho)"), (swapped, "swapped"),
                         (old_G, "old G"), (no_square_root, "square root"), (in_place, "in place"),
                         (scalar_only, "elementwise")):
        res = checks.check_rmsprop_update(wrong)
        assert res.status == "failed" and words in res.message, (wrong.__name__, res.message)
        assert res.use is ol.rmsprop_update


def test_rmsprop_two_steps_by_hand_and_its_rate_stops_shrinking():
    m = ol.OnlineLogisticRegression(2, ol.RMSProp(eta=1.0, rho=0.9, eps=0.0)).partial_fit(X2[:1], Y2[:1])
    # step 1 from w = 0: g = [-0.5, -1, -0.5]; G = 0.1 g^2; w = -g / sqrt(0.1 g^2) = sqrt(10) sign
    assert m.coef_ == pytest.approx([math.sqrt(10), math.sqrt(10)])
    assert m.optimizer.G == pytest.approx([0.025, 0.1, 0.025])
    # the same gradient forever: G -> g^2, so the step tends to eta (AdaGrad's would shrink like 1/sqrt(t))
    w, G = np.zeros(1), np.zeros(1)
    for _ in range(5000):
        w_new, G = ol.rmsprop_update(w, G, np.array([1.0]), 0.01, 0.99)
        step, w = w - w_new, w_new
    assert step == pytest.approx([0.01], rel=1e-6)


def test_rmsprop_with_a_custom_update_runs_that_update_and_its_state_round_trips():
    calls = []

    def update(w, G, g, eta, rho, eps):
        calls.append(len(g))
        return ol.rmsprop_update(w, G, g, eta, rho, eps)

    model = ol.OnlineLogisticRegression(3, ol.RMSProp(0.03, 0.99, update=update))
    model.partial_fit(np.ones((5, 3)), np.array([1, 0, 1, 1, 0]))
    assert calls == [4] * 5
    ref = ol.OnlineLogisticRegression(3, ol.RMSProp(0.03, 0.99)).partial_fit(np.ones((5, 3)), np.array([1, 0, 1, 1, 0]))
    np.testing.assert_allclose(model.w, ref.w, rtol=1e-12)
    back = ol.OnlineLogisticRegression(3, ol.RMSProp(0.03, 0.99)).load_state_dict(ref.state_dict())
    X = np.random.default_rng(2).normal(size=(20, 3))
    np.testing.assert_allclose(back.partial_fit(X, np.ones(20)).w, ref.partial_fit(X, np.ones(20)).w, rtol=1e-12)


def test_adagrad_class_uses_a_plugged_in_update():
    calls = []

    def spy(w, G, g, eta, eps):
        calls.append(1)
        return ol.adagrad_update(w, G, g, eta, eps)

    ol.OnlineLogisticRegression(2, ol.AdaGrad(0.1, update=spy)).partial_fit(X2, Y2)
    assert len(calls) == 2


@pytest.mark.parametrize("make", [lambda: ol.SGD(0.2), lambda: ol.SGD(0.5, schedule="invsqrt"),
                                  lambda: ol.AdaGrad(0.3), lambda: ol.FTRLProximal(0.3, 1.0, l1=0.5, l2=0.1),
                                  lambda: ol.RMSProp(0.05, 0.99)])
@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fused_python_kernel_equals_the_numpy_steps(make, sparse, fit_intercept):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 12)) * (rng.random((300, 12)) < 0.3)
    y = (rng.random(300) < 0.3).astype(float)
    Xin = sp.csr_matrix(X) if sparse else X
    fast = ol.OnlineLogisticRegression(12, make(), fit_intercept=fit_intercept)
    slow = ol.OnlineLogisticRegression(12, make(), fit_intercept=fit_intercept)
    p_fast = np.concatenate([fast._learn(Xin[:150], y[:150]), fast._learn(Xin[150:], y[150:])])
    p_slow = slow._learn_numpy(Xin, y)
    np.testing.assert_allclose(p_fast, p_slow, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fast.w, slow.w, rtol=1e-12, atol=1e-14)
    assert fast.n_seen == slow.n_seen == 300
    for name in ("t", "G", "z", "n"):  # the optimiser state is written back after the fused pass
        if hasattr(slow.optimizer, name):
            np.testing.assert_allclose(getattr(fast.optimizer, name), getattr(slow.optimizer, name), rtol=1e-12)


def test_adagrad_with_a_custom_update_runs_that_update():
    calls = []

    def update(w, G, g, eta, eps):
        calls.append(len(g))
        return ol.adagrad_update(w, G, g, eta, eps)

    model = ol.OnlineLogisticRegression(3, ol.AdaGrad(0.3, update=update))
    model.partial_fit(np.ones((5, 3)), np.array([1, 0, 1, 1, 0]))
    assert calls == [4] * 5


# ----------------------------------------------------------------- progressive_grid (issue 10)
@pytest.mark.parametrize("method,make", [("sgd", lambda r: ol.SGD(r)), ("adagrad", lambda r: ol.AdaGrad(r)),
                                         ("ftrl", lambda r: ol.FTRLProximal(r, 1.0)),
                                         ("rmsprop", lambda r: ol.RMSProp(r, rho=0.95))])
def test_grid_matches_one_learner(method, make):
    ds = streams.make_drift_stream(600, n_streams=2, seed=3)
    P = ol.progressive_grid(ds.X, ds.y, [0.1, 1.0], method, rho=0.95)
    for s in range(2):
        for k, rate in enumerate([0.1, 1.0]):
            ref = ol.progressive_validation(ol.OnlineLogisticRegression(8, make(rate)), ds.X[s], ds.y[s])
            np.testing.assert_allclose(P[s, k], ref, atol=1e-12)

def test_grid_errors():
    X = np.zeros((1, 3, 2)); y = np.zeros((1, 3))
    with pytest.raises(ValueError, match="method"):
        ol.progressive_grid(X, y, [0.1], "adam")
    with pytest.raises(ValueError, match="rates"):
        ol.progressive_grid(X, y, [-1.0])
    with pytest.raises(ValueError, match="X must be"):
        ol.progressive_grid(X[0], y, [0.1])
    with pytest.raises(ValueError, match="rho"):
        ol.progressive_grid(X, y, [0.1], "rmsprop", rho=1.0)


def test_grid_runs_a_plugged_in_rmsprop_update_on_whole_arrays():
    ds = streams.make_drift_stream(300, n_streams=2, seed=4)
    shapes = []

    def update(w, G, g, eta, rho, eps):
        shapes.append((w.shape, np.shape(eta)))
        return ol.rmsprop_update(w, G, g, eta, rho, eps)

    P = ol.progressive_grid(ds.X, ds.y, [0.01, 0.1, 1.0], "rmsprop", rho=0.99, update=update)
    np.testing.assert_array_equal(P, ol.progressive_grid(ds.X, ds.y, [0.01, 0.1, 1.0], "rmsprop", rho=0.99))
    assert shapes[0] == ((2, 3, 9), (1, 3, 1)) and len(shapes) == 300


def test_adagrad_checker_hints_match_the_mistake(student):
    def no_square_root(w, G, g, eta, eps=1e-8):
        G = G + g * g
        return w - eta / (G + eps) * g, G

    def gradient_not_squared(w, G, g, eta, eps=1e-8):
        G = G + g
        return w - eta / (np.sqrt(G) + eps) * g, G

    def in_place(w, G, g, eta, eps=1e-8):
        G += g * g
        w -= eta / (np.sqrt(G) + eps) * g
        return w, G

    for wrong, words in ((no_square_root, "square root"), (gradient_not_squared, "squared gradient"),
                         (in_place, "in place")):
        res = checks.check_adagrad_update(wrong)
        assert res.status == "failed" and words in res.message, (wrong.__name__, res.message)
