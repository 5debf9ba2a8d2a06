"""course_lib.contextual (lesson 03): LinUCB, LinTS, LinGreedy against closed forms and MABWiser."""

import numpy as np
import pytest

from course_lib import contextual as C
from course_lib.notebook.checks import lesson03 as checks


def _data(n=300, d=4, k=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    arms = rng.integers(0, k, n)
    rewards = rng.integers(0, 2, n).astype(float)
    return X, arms, rewards


def test_sherman_morrison_updates_equal_the_direct_inverse():
    X, arms, r = _data()
    m = C.LinUCB(6, 4, alpha=1.0, l2_lambda=2.0)
    for a, rr, x in zip(arms, r, X):  # one rank-one update at a time
        m.update(int(a), rr, x)
    batch = C.LinUCB(6, 4, alpha=1.0, l2_lambda=2.0).partial_fit(arms, r, X)  # batched rank-one rounds
    for a in range(6):
        Xa = X[arms == a]
        A = 2.0 * np.eye(4) + Xa.T @ Xa
        np.testing.assert_allclose(m.A_inv[a], np.linalg.inv(A), atol=1e-12)
        np.testing.assert_allclose(batch.A_inv[a], np.linalg.inv(A), atol=1e-12)
        np.testing.assert_allclose(m.theta[a], np.linalg.solve(A, Xa.T @ r[arms == a]), atol=1e-12)
    assert m.counts.tolist() == np.bincount(arms, minlength=6).tolist()
    # the batch is the same sequence of rank-one updates, in the same order per arm
    np.testing.assert_allclose(batch.A_inv, m.A_inv, rtol=0, atol=1e-15)
    np.testing.assert_allclose(batch.b, m.b, rtol=0, atol=1e-12)


def test_many_rank_one_updates_on_one_arm_stay_exact():
    rng = np.random.default_rng(4)
    d = 13
    X = rng.random((5000, d))  # the lesson's width, non-negative features like the world's
    m = C.LinUCB(1, d, l2_lambda=1.0)
    for x in X:
        m.update(0, 1.0, x)
    A = np.eye(d) + X.T @ X
    np.testing.assert_allclose(m.A_inv[0], np.linalg.inv(A), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(m.A_inv[0] @ A, np.eye(d), atol=1e-8)
    np.testing.assert_array_equal(m.A_inv[0], m.A_inv[0].T)  # SM keeps the inverse symmetric


def test_scores_equal_a_hand_computation():
    # one arm, d = 2, lambda = 1: A = I + x x^T with x = (1, 0), b = 1 * x
    m = C.LinUCB(2, 2, alpha=2.0)
    m.update(0, 1.0, [1.0, 0.0])
    # A = diag(2, 1), theta = (1/2, 0); at x = (1, 1): mean 0.5, width sqrt(1/2 + 1) ; arm 1 at prior: width sqrt(2)
    s = m.predict_expectations([[1.0, 1.0]])[0]
    assert np.isclose(s[0], 0.5 + 2.0 * np.sqrt(1.5))
    assert np.isclose(s[1], 0.0 + 2.0 * np.sqrt(2.0))
    assert m.select([1.0, 1.0]) == 0
    assert m.predict([[1.0, 1.0]], k=2).tolist() == [[0, 1]]


@pytest.mark.parametrize("alpha, l2_lambda", [(0.0, 1.0), (0.5, 1.0), (1.5, 1.0), (1.0, 2.5)])
def test_expectations_match_mabwiser_configured_alike(alpha, l2_lambda):
    from mabwiser.mab import MAB, LearningPolicy

    X, arms, r = _data(n=400, d=5, k=7, seed=3)
    assert set(arms[:300].tolist()) == set(range(7))  # every arm trained by the first fit
    ours = C.LinUCB(7, 5, alpha=alpha, l2_lambda=l2_lambda).partial_fit(arms[:300], r[:300], X[:300])
    mab = MAB(list(range(7)), LearningPolicy.LinUCB(alpha=alpha, l2_lambda=l2_lambda, scale=False), seed=0)
    mab.fit(arms[:300], r[:300], X[:300])
    for i in range(300, 400, 20):  # then live updates on both
        ours.partial_fit(arms[i:i + 20], r[i:i + 20], X[i:i + 20])
        mab.partial_fit(arms[i:i + 20], r[i:i + 20], X[i:i + 20])
    theirs = np.array([[d[a] for a in range(7)] for d in mab.predict_expectations(X[:30])])
    np.testing.assert_allclose(ours.predict_expectations(X[:30]), theirs, atol=1e-12)
    assert ours.predict(X[:30])[:, 0].tolist() == mab.predict(X[:30])


def test_mabwiser_untrained_arm_differs_only_when_lambda_is_not_one():
    # The lesson's note: an arm MABWiser has never fitted keeps A^{-1} = lambda I (not I / lambda).
    from mabwiser.mab import MAB, LearningPolicy

    X, arms, r = _data(n=100, d=3, k=2, seed=1)
    X0 = X[:4]
    for lam in (1.0, 4.0):
        ours = C.LinUCB(3, 3, alpha=1.0, l2_lambda=lam).partial_fit(arms, r, X)  # arm 2 never played
        mab = MAB([0, 1, 2], LearningPolicy.LinUCB(alpha=1.0, l2_lambda=lam, scale=False), seed=0)
        mab.fit(arms, r, X)
        theirs = np.array([[e[a] for a in range(3)] for e in mab.predict_expectations(X0)])
        np.testing.assert_allclose(theirs[:, :2], ours.predict_expectations(X0)[:, :2], atol=1e-12)
        np.testing.assert_allclose(ours.predict_expectations(X0)[:, 2], np.sqrt((X0 ** 2).sum(1) / lam))
        np.testing.assert_allclose(theirs[:, 2], np.sqrt(lam * (X0 ** 2).sum(1)))


def test_new_arm_starts_from_the_prior_and_is_explored():
    X, arms, r = _data()
    m = C.LinUCB(6, 4, alpha=1.0, l2_lambda=1.0).partial_fit(arms, r, X)
    new = m.add_arm()
    assert new == 6 and m.n_arms == 7
    np.testing.assert_array_equal(m.A_inv[new], np.eye(4))
    np.testing.assert_array_equal(m.b[new], 0)
    w = m.width(X[:20])
    assert (w[:, new] > w[:, :6].max(axis=1)).all()  # the widest confidence interval
    m.update(new, 1.0, X[0])
    np.testing.assert_allclose(m.A_inv[new], np.linalg.inv(np.eye(4) + np.outer(X[0], X[0])))


def test_lints_samples_have_the_posterior_mean_and_covariance():
    X, arms, r = _data()
    m = C.LinTS(6, 4, v=0.7, seed=5).partial_fit(arms, r, X)
    draws = m.sample_theta(20_000)[:, 2]
    np.testing.assert_allclose(draws.mean(0), m.theta[2], atol=5 * 0.7 * np.sqrt(m.A_inv[2].diagonal().max() / 20_000))
    np.testing.assert_allclose(np.cov(draws.T), 0.49 * m.A_inv[2], atol=0.05 * 0.49 * np.abs(m.A_inv[2]).max())
    a, b = (C.LinTS(6, 4, v=0.7, seed=9).partial_fit(arms, r, X) for _ in range(2))
    np.testing.assert_array_equal(a.predict_expectations(X[:3]), b.predict_expectations(X[:3]))


def test_lingreedy_is_greedy_at_zero_and_random_at_one():
    X, arms, r = _data()
    g0 = C.LinGreedy(6, 4, epsilon=0.0).partial_fit(arms, r, X)
    np.testing.assert_allclose(g0.predict_expectations(X[:10]), X[:10] @ g0.theta.T)
    g1 = C.LinGreedy(6, 4, epsilon=1.0, seed=1).partial_fit(arms, r, X)
    picks = g1.predict(X)[:, 0]
    assert len(set(picks.tolist())) == 6  # uniform scores reach every arm


def test_validation_messages():
    m = C.LinUCB(3, 2)
    with pytest.raises(ValueError, match="2 features"):
        m.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="NaN"):
        m.update(0, 1.0, [np.nan, 1.0])
    with pytest.raises(ValueError, match="unknown arm"):
        m.update(3, 1.0, [1.0, 1.0])
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        C.LinUCB(3, 2, alpha=-1)
    with pytest.raises(ValueError, match="l2_lambda must be > 0"):
        C.LinUCB(3, 2, l2_lambda=0)
    with pytest.raises(ValueError, match="same length"):
        m.partial_fit([0, 1], [1.0], [[1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="k must be"):
        m.predict([[1.0, 1.0]], k=4)
    with pytest.raises(ValueError, match="l2_lambda must be > 0, got -1"):
        C.LinUCB(3, 2, l2_lambda=-1)
    with pytest.raises(ValueError, match="alpha must be >= 0, got nan"):
        C.LinUCB(3, 2, alpha=float("nan"))
    with pytest.raises(ValueError, match="unknown arm"):
        m.partial_fit([0, -1], [1.0, 0.0], [[1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="arm must be an integer"):
        m.update(1.5, 1.0, [1.0, 1.0])
    with pytest.raises(ValueError, match="reward must be a finite number, got nan"):
        m.update(0, np.nan, [1.0, 1.0])
    with pytest.raises(ValueError, match="rewards has 1 missing"):
        m.partial_fit([0], [np.nan], [[1.0, 1.0]])
    with pytest.raises(ValueError, match="n_arms must be an integer >= 1, got 2.7"):
        C.LinUCB(2.7, 3)
    with pytest.raises(ValueError, match="n_arms must be an integer >= 1, got True"):
        C.LinUCB(True, 3)
    with pytest.raises(ValueError, match="alpha must be >= 0, got -5"):
        m.alpha = -5
    with pytest.raises(ValueError, match="2 features"):
        m.update(0, 1.0, [1.0])
    with pytest.raises(ValueError, match="n_arms must be an integer >= 1"):
        C.LinUCB(0, 2)
    with pytest.raises(ValueError, match="v must be >= 0"):
        C.LinTS(3, 2, v=-0.1)
    with pytest.raises(ValueError, match="epsilon must be in"):
        C.LinGreedy(3, 2, epsilon=1.5)
    # a failed call leaves the model untouched
    np.testing.assert_array_equal(m.A_inv, np.broadcast_to(np.eye(2), (3, 2, 2)))
    np.testing.assert_array_equal(m.b, 0)


def test_checkers_pass_the_reference_and_reject_wrong_answers(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_sherman_morrison(C.sherman_morrison).passed

    def plus_sign(A_inv, x):
        Ax = A_inv @ x
        return A_inv + np.outer(Ax, Ax) / (1 + x @ Ax)

    def unsolved(*args):
        raise NotImplementedError()

    assert checks.check_sherman_morrison(plus_sign).status == "failed"
    assert checks.check_sherman_morrison(unsolved).status == "unsolved"
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "solutions")
    with pytest.raises(AssertionError):
        checks.check_sherman_morrison(plus_sign)


class _LinUCBBeforeIssue9:
    """LinUCB as it was before the online path was sped up (issue 9): theta recomputed on every score,
    widths through two einsums, a single update through the batched path.  Frozen here as the reference."""

    def __init__(self, n_arms, d, alpha=1.0):
        self.A_inv = np.broadcast_to(np.eye(d), (n_arms, d, d)).copy()
        self.b = np.zeros((n_arms, d))
        self.alpha = alpha

    def select(self, x):
        X = np.asarray(x, float)[None]
        theta = np.einsum("kij,kj->ki", self.A_inv, self.b)
        width = np.einsum("nkj,nj->nk", np.einsum("ni,kij->nkj", X, self.A_inv), X)
        scores = X @ theta.T + self.alpha * np.sqrt(np.maximum(width, 0.0))
        return int(np.argsort(-scores, axis=1, kind="stable")[0, 0])

    def update(self, arm, reward, x):
        X, a = np.atleast_2d(x), np.array([arm])
        np.add.at(self.b, a, reward * X)
        Ax = np.einsum("kij,kj->ki", self.A_inv[a], X)
        denom = 1.0 + np.einsum("ki,ki->k", X, Ax)
        self.A_inv[a] -= Ax[:, :, None] * Ax[:, None, :] / denom[:, None, None]


@pytest.mark.parametrize("n_arms, d, alpha", [(60, 12, 1.0), (20, 5, 0.3)])
def test_fast_online_path_makes_the_same_choices_as_before(n_arms, d, alpha):
    rng = np.random.default_rng(4)
    truth = rng.standard_normal((n_arms, d)) / np.sqrt(d)
    X, U = rng.standard_normal((2500, d)), rng.random(2500)
    new, old = C.LinUCB(n_arms, d, alpha=alpha), _LinUCBBeforeIssue9(n_arms, d, alpha)
    for x, u in zip(X, U):
        a = new.select(x)
        assert a == old.select(x)
        r = float(u < 1 / (1 + np.exp(-x @ truth[a])))
        new.update(a, r, x)
        old.update(a, r, x)
    np.testing.assert_allclose(new.theta, np.einsum("kij,kj->ki", old.A_inv, old.b), atol=1e-10)


# ----------------------------------------------------------------- hybrid LinUCB (issue 10)
def _joint(F, d, arms, X, r, lam):
    N, m = F.shape
    def phi(x, a):
        v = np.zeros(N * d); v[a * d:(a + 1) * d] = x
        return np.concatenate([np.outer(x, F[a]).ravel(), v])
    P = np.array([phi(x, a) for x, a in zip(X, arms)])
    A = lam * np.eye(P.shape[1]) + P.T @ P
    return phi, np.linalg.solve(A, P.T @ r), np.linalg.inv(A)

@pytest.mark.parametrize("lam", [1.0, 0.5, 3.0])
def test_hybrid_is_joint_ridge(lam):
    rng = np.random.default_rng(1)
    N, d, m, T = 5, 3, 2, 80
    F = rng.normal(size=(N, m)); arms = rng.integers(0, N, T); X = rng.normal(size=(T, d)); r = rng.normal(size=T)
    h = C.HybridLinUCB(F, d, alpha=0.7, l2_lambda=lam).partial_fit(arms[:40], r[:40], X[:40])
    for t in range(40, T):
        h.update(int(arms[t]), r[t], X[t])
    phi, w, Ainv = _joint(F, d, arms, X, r, lam)
    Xq = rng.normal(size=(4, d))
    mean = np.array([[phi(x, a) @ w for a in range(N)] for x in Xq])
    width = np.array([[np.sqrt(phi(x, a) @ Ainv @ phi(x, a)) for a in range(N)] for x in Xq])
    s, o, wd = h.parts(Xq)
    np.testing.assert_allclose(s + o, mean, atol=1e-10)
    np.testing.assert_allclose(wd, width, atol=1e-10)
    np.testing.assert_allclose(h.predict_expectations(Xq), mean + 0.7 * width, atol=1e-10)

def test_literal_algorithm_2():
    rng = np.random.default_rng(2)
    N, d, m, T = 4, 3, 2, 50
    F = rng.normal(size=(N, m)); arms = rng.integers(0, N, T); X = rng.normal(size=(T, d)); r = rng.random(T)
    h = C.HybridLinUCB(F, d).partial_fit(arms, r, X)
    k = d * m
    A0, b0 = np.eye(k), np.zeros(k)
    A = [np.eye(d) for _ in range(N)]; B = [np.zeros((d, k)) for _ in range(N)]; b = [np.zeros(d) for _ in range(N)]
    for a, x, rt in zip(arms, X, r):
        z = np.outer(x, F[a]).ravel()
        Ai = np.linalg.inv(A[a]); A0 += B[a].T @ Ai @ B[a]; b0 += B[a].T @ Ai @ b[a]
        A[a] += np.outer(x, x); B[a] += np.outer(x, z); b[a] += rt * x
        Ai = np.linalg.inv(A[a]); A0 += np.outer(z, z) - B[a].T @ Ai @ B[a]; b0 += rt * z - B[a].T @ Ai @ b[a]
    np.testing.assert_allclose(h.A0, A0, atol=1e-10); np.testing.assert_allclose(h.b0, b0, atol=1e-10)

def test_new_arm_inherits_shared_part():
    rng = np.random.default_rng(3)
    d, T = 2, 400
    F = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])   # two "coffees", two "salads"
    X = np.column_stack([np.ones(T), rng.integers(0, 2, T)])          # intercept, is_morning
    arms = rng.integers(0, 4, T)
    r = np.where(F[arms, 0] == 1, 0.1 + 0.6 * X[:, 1], 0.2)
    h = C.HybridLinUCB(F, d, alpha=0.0).partial_fit(arms, r, X)
    coffee, salad = h.add_arm([1.0, 0.0]), h.add_arm([0.0, 1.0])
    m = h.mean(np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert m[0, coffee] > 0.4 > m[0, salad] and m[1, coffee] < m[0, coffee] - 0.25
    assert h.n_arms == 6 and h.counts[coffee] == 0

def test_state_roundtrip_and_errors():
    rng = np.random.default_rng(4)
    F = rng.normal(size=(3, 2)); h = C.HybridLinUCB(F, 2).partial_fit([0, 1, 2], [1, 0, 1], rng.normal(size=(3, 2)))
    g = C.HybridLinUCB(F, 2).load_state_dict(h.state_dict())
    x = rng.normal(size=(5, 2))
    np.testing.assert_array_equal(g.predict_expectations(x), h.predict_expectations(x))
    with pytest.raises(ValueError, match="arm_features"):
        C.HybridLinUCB(np.ones(3), 2)
    with pytest.raises(ValueError, match="alpha"):
        C.HybridLinUCB(F, 2, alpha=-1)
    with pytest.raises(ValueError, match="features"):
        h.add_arm([1.0])
    with pytest.raises(ValueError, match="arms"):
        h.partial_fit([5], [1.0], np.ones((1, 2)))
    p = h.action_probabilities(x)
    assert p.shape == (5, 3) and np.all(p.sum(1) == 1)


def _hybrid_disjoint(x, z, beta, A0_inv, A_inv, B, b, alpha):
    return float(x @ A_inv @ b + alpha * np.sqrt(x @ A_inv @ x))


def _hybrid_plain_theta(x, z, beta, A0_inv, A_inv, B, b, alpha):
    Ax = A_inv @ x
    s = z @ A0_inv @ z - 2 * z @ A0_inv @ B.T @ Ax + x @ Ax + Ax @ B @ A0_inv @ B.T @ Ax
    return float(z @ beta + x @ (A_inv @ b) + alpha * np.sqrt(s))


def _hybrid_no_cross_term(x, z, beta, A0_inv, A_inv, B, b, alpha):
    Ax = A_inv @ x
    s = z @ A0_inv @ z + x @ Ax + Ax @ B @ A0_inv @ B.T @ Ax
    return float(z @ beta + x @ (A_inv @ (b - B @ beta)) + alpha * np.sqrt(s))


@pytest.mark.parametrize("wrong, hint", [(_hybrid_disjoint, "disjoint LinUCB's score"),
                                         (_hybrid_plain_theta, "theta must be A^-1 (b - B beta)"),
                                         (_hybrid_no_cross_term, "cross term")])
def test_hybrid_score_checker_names_the_mistake(monkeypatch, wrong, hint):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_hybrid_linucb_score(C.hybrid_linucb_score).passed
    result = checks.check_hybrid_linucb_score(wrong)
    assert result.status == "failed" and hint in result.message and result.use is C.hybrid_linucb_score


def test_hybrid_score_reference_matches_the_class():
    rng = np.random.default_rng(7)
    F = rng.normal(size=(4, 2))
    h = C.HybridLinUCB(F, 3, alpha=0.8, l2_lambda=2.0).partial_fit(rng.integers(0, 4, 30), rng.random(30), rng.normal(size=(30, 3)))
    x = rng.normal(size=3)
    for a in range(4):
        A_inv, B, b = h.arm_statistics(a)
        got = C.hybrid_linucb_score(x, h.shared_features(x, [a])[0], h.beta.ravel(), h.A0_inv, A_inv, B, b, h.alpha)
        assert got == pytest.approx(h.predict_expectations(x)[0, a], rel=1e-9)


def test_sherman_morrison_checker_forbids_solvers_and_in_place_updates(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")

    def uses_inv(A_inv, x):
        return np.linalg.inv(np.linalg.inv(A_inv) + np.outer(x, x))

    def uses_solve(A_inv, x):
        A = np.linalg.solve(A_inv, np.eye(len(x)))
        return np.linalg.solve(A + np.outer(x, x), np.eye(len(x)))

    def in_place(A_inv, x):
        Ax = A_inv @ x
        A_inv -= np.outer(Ax, Ax) / (1 + x @ Ax)
        return A_inv

    def wrong_denominator(A_inv, x):
        Ax = A_inv @ x
        return A_inv - np.outer(Ax, Ax) / (1 - x @ Ax)

    def outer_of_x(A_inv, x):
        return A_inv - np.outer(x, x) / (1 + x @ A_inv @ x)

    for wrong, words in ((uses_inv, "without np.linalg.inv"), (uses_solve, "without np.linalg.inv"),
                         (in_place, "in place"), (wrong_denominator, "denominator"), (outer_of_x, "A^-1 x with itself")):
        res = checks.check_sherman_morrison(wrong)
        assert res.status == "failed" and words in res.message, (wrong.__name__, res.message)
        assert res.use is C.sherman_morrison
    assert checks.check_sherman_morrison(C.sherman_morrison).passed
    # the guard is lifted afterwards
    np.testing.assert_allclose(np.linalg.inv(2 * np.eye(2)), 0.5 * np.eye(2))


def test_choose_alpha_checker_accepts_any_choice_within_noise_and_names_the_mistake(monkeypatch):
    from course_lib.bandits import choose_from_sweep

    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_choose_alpha(choose_from_sweep).passed

    def lowest_mean(alphas, regrets):                  # a different, defensible rule
        return alphas[np.argmin(regrets.mean(axis=1))]

    assert checks.check_choose_alpha(lowest_mean).passed

    def largest_regret(alphas, regrets):
        return alphas[np.argmax(regrets.mean(axis=1))]

    def first_run_only(alphas, regrets):
        return alphas[np.argmin(regrets[:, 0])]

    def theory_value(alphas, regrets):
        return 1 + np.sqrt(np.log(2 / 0.05) / 2)

    def always_greedy(alphas, regrets):
        return 0.0

    for wrong, words in ((largest_regret, "largest mean regret"), (first_run_only, "won one run"),
                         (theory_value, "one of the alphas"), (always_greedy, "clearly above the best")):
        res = checks.check_choose_alpha(wrong)
        assert res.status == "failed" and words in res.message, (wrong.__name__, res.message)
        assert res.use is choose_from_sweep


def test_choose_from_sweep_returns_the_smallest_value_within_noise():
    from course_lib.bandits import choose_from_sweep

    regrets = np.array([[300, 310, 295, 305], [100, 140, 90, 130], [110, 105, 120, 100], [200, 210, 190, 205]], float)
    assert choose_from_sweep([0, 0.3, 1, 3], regrets) == 0.3          # 1.0 is within noise; 0.3 is smaller
    assert choose_from_sweep([0, 0.3, 1, 3], regrets, z=0.0) == 1.0    # without noise allowance: the lowest mean
    with pytest.raises(ValueError, match="runs >= 2"):
        choose_from_sweep([0, 1], [[1.0], [2.0]])
