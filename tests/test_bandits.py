"""Unit tests of course_lib.bandits (lesson 02) against hand examples, closed forms and Monte Carlo."""

import math

import numpy as np
import pytest
from scipy import stats

from course_lib import bandits as b
from course_lib.notebook.checks import lesson02 as checks

MEANS = [0.10, 0.30, 0.50, 0.20, 0.15]


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize("make, message", [
    (lambda: b.EpsilonGreedy(3, epsilon=-0.1), "epsilon must be in"),
    (lambda: b.EpsilonGreedy(3, epsilon=1.5), "epsilon must be in"),
    (lambda: b.UCB1(3, c=-1), "c must be >= 0"),
    (lambda: b.Softmax(3, temperature=0), "temperature must be > 0"),
    (lambda: b.Softmax(3, temperature=-1), "temperature must be > 0"),
    (lambda: b.UCB1(0), "n_arms must be an integer >= 1"),
    (lambda: b.ThompsonBernoulli(2.5), "n_arms must be an integer >= 1"),
    (lambda: b.EXP3(3, gamma=0), "gamma must be in"),
    (lambda: b.DiscountedUCB(3, gamma=1.2), "gamma must be in"),
    (lambda: b.UCB1(3, runs=0), "runs must be"),
    (lambda: b.SlidingWindowUCB(3, window=0), "window must be"),
    (lambda: b.ThompsonBernoulli(3, prior=(0, 1)), "alpha_0 must be > 0"),
    (lambda: b.ExploreThenCommit(3, m=0), "m must be an integer >= 1"),
    (lambda: b.ExploreThenCommit(3, m=2.5), "m must be an integer >= 1"),
    (lambda: b.ExploreThenCommit(3, m=[5, 6], runs=3), r"m must be one integer >= 1 or an array of shape \(runs,\)"),
    (lambda: b.ExploreThenCommit(3, m=[5, 0], runs=2), "every m must be an integer >= 1"),
    (lambda: b.simulate(b.UCB1(3, runs=2), [0.1, 0.2, 0.3], 10, batch_size=0), "batch_size must be an integer >= 1"),
    (lambda: b.etc_theory_m(0.0, 100), "gap must be > 0"),
    (lambda: b.etc_final_regret([0.1, 0.2], [0, 5], 100, 10), "every m in ms must be"),
    (lambda: b.ucb1_batch_arms(np.zeros(3), np.zeros(3), 0, 0.5, 0), "n must be an integer >= 1"),
])
def test_invalid_parameters_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_simulator_rejects_mismatched_problems():
    with pytest.raises(ValueError, match="3 arms but the problem has 5"):
        b.simulate(b.UCB1(3, runs=2), MEANS, 10)
    with pytest.raises(ValueError, match="horizon must be"):
        b.simulate(b.UCB1(5, runs=2), MEANS)
    with pytest.raises(ValueError, match="'bernoulli' or 'gaussian'"):
        b.simulate(b.UCB1(5, runs=2), MEANS, 10, rewards="poisson")
    with pytest.raises(ValueError, match="arm must have shape"):
        b.UCB1(5, runs=2).update(np.array([0, 1, 2]), np.zeros(3))
    with pytest.raises(ValueError, match="call select"):
        b.EXP3(2).update(0, 1.0)


# ----------------------------------------------------------------- choices on hand-made states
def test_value_policies_try_every_arm_first_in_index_order():
    for policy in (b.EpsilonGreedy(4, 0.0), b.UCB1(4), b.MetaUCB(4, seed=0), b.BDES(4)):
        played = []
        for _ in range(4):
            arm = policy.select()
            played.append(arm)
            policy.update(arm, 0.0)
        assert played == [0, 1, 2, 3], policy.name


def test_ucb1_choice_on_a_hand_made_state_and_ties_go_to_the_lowest_index():
    p = b.UCB1(3, c=1.0)
    p.values[:] = [0.5, 0.6, 0.4]
    p.counts[:] = [2, 8, 2]
    p.t = 12
    bonus = np.sqrt(math.log(12) / np.array([2, 8, 2]))
    assert np.allclose(b.ucb1_index(p.values, p.counts, p.t, 1.0), p.values + bonus)
    assert p.select() == 0  # 0.5 + 1.115 beats 0.6 + 0.557 and 0.4 + 1.115
    p.values[:] = [0.5, 0.5, 0.5]
    p.counts[:] = [4, 4, 4]
    assert p.select() == 0
    p.c = 0.0
    p.values[:] = [0.1, 0.7, 0.7]
    assert p.select() == 1


def test_greedy_plays_the_best_estimate_and_epsilon_one_is_uniform():
    g = b.EpsilonGreedy(3, 0.0, runs=5, seed=0)
    g.counts[:] = 1
    g.values[:] = [0.2, 0.9, 0.4]
    assert np.all(g.select() == 1)
    u = b.EpsilonGreedy(3, 1.0, runs=30000, seed=1)
    u.counts[:] = 1
    u.values[:] = [0.2, 0.9, 0.4]
    freq = np.bincount(u.select(), minlength=3) / 30000
    assert np.allclose(freq, 1 / 3, atol=0.015)


def test_decaying_epsilon_follows_the_epsilon_n_schedule():
    p = b.EpsilonGreedy(4, epsilon=1.0, decay=5.0)
    assert p.epsilon_at(10) == 1.0 and p.epsilon_at(40) == pytest.approx(0.5) and p.epsilon_at(400) == pytest.approx(0.05)


def test_softmax_and_exp3_probabilities_match_closed_forms():
    s = b.Softmax(3, temperature=0.5)
    s.values[:] = [0.0, 0.5, 1.0]
    w = np.exp(np.array([0.0, 1.0, 2.0]))
    assert np.allclose(s.probabilities(), w / w.sum())
    e = b.EXP3(2, gamma=0.2)
    assert np.allclose(e.probabilities(), [0.5, 0.5])
    arm = e.select()
    e.update(arm, 1.0)  # log w_arm += gamma * 1 / (0.5 * 2) = 0.2
    w = np.ones(2)
    w[arm] = math.exp(0.2)
    assert np.allclose(e.probabilities(), 0.8 * w / w.sum() + 0.1)
    m = b.Softmax(2, temperature=1.0, runs=40000, seed=3)
    m.values[:] = [0.0, math.log(3.0)]  # P(arm 1) = 3/4
    assert (m.select() == 1).mean() == pytest.approx(0.75, abs=0.01)


def test_bdes_index_on_a_hand_made_state():
    p = b.BDES(3, beta0=1.0, lam=2.0)
    p.values[:] = [0.5, 0.3, 0.6]
    p.counts[:] = [4, 1, 9]
    sigma = np.array([1 / 2, 1.0, 1 / 3])
    beta_t = math.exp(-2.0 * sigma.mean())
    assert p.beta_t() == pytest.approx(beta_t)
    assert p.select() == int(np.argmax(p.values + beta_t * sigma)) == 2
    p.lam = 0.0  # beta_t = beta0 = 1: the bonus of the rarely played arm 1 wins
    assert p.select() == 1


def test_meta_ucb_plays_each_configurations_choice_with_exp3s_probability():
    p = b.MetaUCB(2, cs=(0.0, 5.0), gamma=0.1, runs=40000, seed=4)
    p.values[:] = [0.6, 0.4]
    p.counts[:] = [100, 1]
    p.t = 101
    p.meta.log_w[:] = [50.0, 0.0]  # EXP3 all but sure of c = 0, which plays the greedy arm 0
    arms = p.select()
    assert np.array_equal(arms, np.where(p.chosen == 0, 0, 1))  # c = 5 plays the rarely tried arm 1
    assert (arms == 1).mean() == pytest.approx(0.1 / 2, abs=0.005)  # gamma / J of the time


def test_gaussian_thompson_choice_probability_matches_the_closed_form():
    p = b.ThompsonGaussian(2, sigma=1.0, prior_mean=0.0, prior_sd=1.0, runs=40000, seed=8)
    p.counts[:] = [3.0, 1.0]
    p.sums[:] = [1.5, 0.9]
    mean, sd = p.posterior()
    want = stats.norm.cdf((mean[0, 0] - mean[0, 1]) / math.hypot(sd[0, 0], sd[0, 1]))
    assert (p.select() == 0).mean() == pytest.approx(want, abs=0.008)


# ----------------------------------------------------------------- Thompson posteriors
def test_thompson_beta_posterior_after_known_rewards():
    p = b.ThompsonBernoulli(3)
    for arm, r in [(0, 1), (0, 0), (0, 1), (2, 0), (1, 0.5)]:
        p.update(arm, r)
    assert p.alpha.tolist() == [3.0, 1.5, 1.0] and p.beta.tolist() == [2.0, 1.5, 2.0]
    a, bb = b.thompson_beta_update(np.ones(2), np.ones(2), 1, 1.0)
    assert a.tolist() == [1.0, 2.0] and bb.tolist() == [1.0, 1.0]


def test_thompson_choice_probability_matches_the_closed_form():
    # X ~ Beta(2, 1), Y ~ Beta(1, 2): P(X > Y) = int 2x (2x - x^2) dx = 5/6
    p = b.ThompsonBernoulli(2, runs=40000, seed=7)
    p.alpha[:] = [2.0, 1.0]
    p.beta[:] = [1.0, 2.0]
    assert (p.select() == 0).mean() == pytest.approx(5 / 6, abs=0.006)


def test_gaussian_thompson_posterior_is_the_conjugate_normal():
    p = b.ThompsonGaussian(2, sigma=2.0, prior_mean=1.0, prior_sd=0.5)
    for r in (3.0, 5.0):
        p.update(0, r)
    mean, sd = p.posterior()
    precision = 1 / 0.25 + 2 / 4.0
    assert mean[0] == pytest.approx((1.0 / 0.25 + 8.0 / 4.0) / precision)
    assert sd[0] == pytest.approx(precision ** -0.5) and mean[1] == 1.0 and sd[1] == 0.5


# ----------------------------------------------------------------- one run and many runs agree
POLICIES = {
    "random": lambda runs, s: b.RandomPolicy(5, runs=runs, seed=s),
    "eps": lambda runs, s: b.EpsilonGreedy(5, 0.1, runs=runs, seed=s),
    "eps-decay": lambda runs, s: b.EpsilonGreedy(5, 1.0, decay=3.0, runs=runs, seed=s),
    "ucb1": lambda runs, s: b.UCB1(5, runs=runs, seed=s),
    "ts": lambda runs, s: b.ThompsonBernoulli(5, runs=runs, seed=s),
    "softmax": lambda runs, s: b.Softmax(5, 0.1, runs=runs, seed=s),
    "exp3": lambda runs, s: b.EXP3(5, 0.1, runs=runs, seed=s),
    "d-ucb": lambda runs, s: b.DiscountedUCB(5, 0.95, runs=runs, seed=s),
    "sw-ucb": lambda runs, s: b.SlidingWindowUCB(5, 50, runs=runs, seed=s),
    "d-ts": lambda runs, s: b.DiscountedThompson(5, 0.95, runs=runs, seed=s),
    "meta": lambda runs, s: b.MetaUCB(5, runs=runs, seed=s),
    "bdes": lambda runs, s: b.BDES(5, runs=runs, seed=s),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_batched_policy_with_one_run_matches_the_one_run_policy_exactly(name):
    make = POLICIES[name]
    batched = b.simulate(make(1, 42), MEANS, 300, seed=9)
    one = b.simulate_loop(lambda r: make(None, 42), MEANS, runs=1, horizon=300, seed=9)
    assert np.array_equal(batched.arms, one.arms)
    assert np.allclose(batched.regret, one.regret)


def test_ucb1_many_runs_equal_the_per_step_loop_exactly():
    batched = b.simulate(b.UCB1(5, runs=12), MEANS, 400, seed=3)
    loop = b.simulate_loop(lambda r: b.UCB1(5), MEANS, runs=12, horizon=400, seed=3)
    assert np.array_equal(batched.arms, loop.arms) and np.array_equal(batched.rewards, loop.rewards)


def test_randomised_policy_many_runs_agree_with_the_loop_in_distribution():
    batched = b.simulate(b.EpsilonGreedy(5, 0.1, runs=150, seed=1), MEANS, 400, seed=2).final_regret
    loop = b.simulate_loop(lambda r: b.EpsilonGreedy(5, 0.1, seed=1000 + r), MEANS, 150, 400, seed=2).final_regret
    se = math.sqrt(batched.var() / 150 + loop.var() / 150)
    assert abs(batched.mean() - loop.mean()) < 4 * se


def test_sliding_window_statistics_equal_a_recount_of_the_last_window():
    run = b.simulate(b.SlidingWindowUCB(4, window=30, runs=6), [0.2, 0.4, 0.6, 0.5], 200, seed=1)
    p = b.SlidingWindowUCB(4, window=30, runs=6)
    for t in range(200):
        assert np.array_equal(p.select(), run.arms[:, t])
        p.update(run.arms[:, t], run.rewards[:, t])
    last_arms, last_rewards = run.arms[:, -30:], run.rewards[:, -30:]
    for i in range(4):
        assert np.array_equal(p.counts[:, i], (last_arms == i).sum(axis=1))
        assert np.allclose(p.sums[:, i], (last_rewards * (last_arms == i)).sum(axis=1))
    again = b.simulate(b.SlidingWindowUCB(4, window=30, runs=6), [0.2, 0.4, 0.6, 0.5], 200, seed=1)
    assert np.array_equal(again.arms, run.arms)


def test_reward_noise_is_independent_of_a_policy_with_the_same_seed():
    # were the streams shared, the random arm floor(2u) and the click u < 0.5 would be coupled
    run = b.simulate(b.RandomPolicy(2, runs=20000, seed=0), [0.5, 0.5], 1, seed=0)
    assert abs(np.corrcoef(run.arms[:, 0], run.rewards[:, 0])[0, 1]) < 0.03


def test_discount_one_reduces_to_the_stationary_policy():
    d_ucb = b.DiscountedUCB(3, gamma=1.0)
    for arm, r in [(0, 1), (1, 0), (2, 1), (1, 1), (0, 0), (1, 1)]:
        d_ucb.update(arm, r)
    assert d_ucb.counts.tolist() == [2, 3, 1] and d_ucb.sums.tolist() == [1, 2, 1]
    index = b.ucb1_index(np.array([1 / 2, 2 / 3, 1.0]), d_ucb.counts, 6)
    assert d_ucb.select() == int(np.argmax(index)) == 2
    d_ucb.gamma = 0.5
    d_ucb.update(2, 0.0)  # every count and sum halves, then arm 2 gets its new pull
    assert d_ucb.counts.tolist() == [1, 1.5, 1.5] and d_ucb.sums.tolist() == [0.5, 1, 0.5]
    d = b.simulate(b.DiscountedThompson(5, gamma=1.0, runs=8, seed=5), MEANS, 300, seed=4)
    t = b.simulate(b.ThompsonBernoulli(5, runs=8, seed=5), MEANS, 300, seed=4)
    assert np.array_equal(d.arms, t.arms)


# ----------------------------------------------------------------- regret against theory
@pytest.mark.parametrize("means", [MEANS, [0.9, 0.8, 0.5], [0.05, 0.1, 0.15, 0.2]])
def test_ucb1_mean_regret_stays_under_the_auer_bound(means):
    run = b.simulate(b.UCB1(len(means), runs=100), means, 2000, seed=0)
    t = np.arange(1, 2001)
    assert np.all(run.regret.mean(axis=0)[9:] <= b.ucb1_regret_bound(means, t)[9:])


def test_fixed_epsilon_regret_grows_linearly_at_rate_epsilon_times_mean_gap():
    means, eps = [0.9, 0.1, 0.1], 0.2
    run = b.simulate(b.EpsilonGreedy(3, eps, runs=200, seed=0), means, 2000, seed=1)
    slope = (run.regret[:, -1] - run.regret[:, 999]).mean() / 1000
    assert slope == pytest.approx(eps * np.mean(np.max(means) - np.array(means)), rel=0.08)


def test_random_policy_regret_is_the_mean_gap_per_step():
    run = b.simulate(b.RandomPolicy(5, runs=400, seed=0), MEANS, 500, seed=0)
    assert run.final_regret.mean() == pytest.approx(500 * (0.5 - np.mean(MEANS)), rel=0.02)


def test_gaussian_rewards_and_gaussian_thompson_learn():
    means = [0.0, 0.5, 1.0]
    ts = b.simulate(b.ThompsonGaussian(3, sigma=1.0, runs=50, seed=0), means, 500, seed=0,
                    rewards="gaussian", noise_sd=1.0)
    rnd = b.simulate(b.RandomPolicy(3, runs=50, seed=0), means, 500, seed=0, rewards="gaussian")
    assert ts.final_regret.mean() < 0.3 * rnd.final_regret.mean()
    assert abs(ts.rewards.mean() - means[2]) < 0.2


def test_theory_curves_match_hand_computation():
    assert b.bernoulli_kl(0.5, 0.25) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75))
    assert b.ucb1_regret_bound([0.5, 0.3], 100) == pytest.approx(8 * math.log(100) / 0.2 + (1 + math.pi**2 / 3) * 0.2)
    lr = b.lai_robbins_lower_bound([0.5, 0.25], 100)
    assert lr == pytest.approx(math.log(100) * 0.25 / b.bernoulli_kl(0.25, 0.5))


def test_recovery_time_on_a_hand_made_run():
    means = np.array([[0.9, 0.1]] * 5 + [[0.1, 0.9]] * 5)
    arms = np.array([[0] * 5 + [0, 0, 1, 1, 1], [0] * 5 + [0, 1, 1, 1, 1]])
    run = b.BanditRun(arms, np.zeros(arms.shape), np.zeros(arms.shape), means)
    assert b.recovery_time(run, 5, level=1.0, window=1) == 3
    assert b.recovery_time(run, 5, level=0.5, window=1) == 2
    stuck = b.BanditRun(np.zeros((2, 10), dtype=int), np.zeros((2, 10)), np.zeros((2, 10)), means)
    assert b.recovery_time(stuck, 5) is None
    assert np.allclose(run.best_arm_rate(), [1] * 5 + [0, 0.5, 1, 1, 1])


def test_meta_ucb_beats_its_worst_configuration():
    cs = (0.02, 3.0)
    meta = b.simulate(b.MetaUCB(5, cs=cs, runs=100, seed=0), MEANS, 1500, seed=0).final_regret.mean()
    worst = max(b.simulate(b.UCB1(5, c=c, runs=100), MEANS, 1500, seed=0).final_regret.mean() for c in cs)
    assert meta < worst


# ----------------------------------------------------------------- exercise checkers
@pytest.fixture
def student_mode(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")


def _never_explores(values, epsilon, rng):
    return int(np.argmax(values))


def _explores_only_other_arms(values, epsilon, rng):
    best = int(np.argmax(values))
    if rng.random() < epsilon:
        return int(rng.choice([i for i in range(len(values)) if i != best]))
    return best


def _ucb_without_sqrt(values, counts, t, c):
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, values + c * np.log(t) / counts, np.inf)


def _ucb_zero_for_unplayed(values, counts, t, c):
    return values + c * np.sqrt(np.log(t) / np.maximum(counts, 1))


def _beta_swapped(alpha, beta, arm, reward):
    alpha, beta = alpha.copy(), beta.copy()
    alpha[arm] += 1 - reward
    beta[arm] += reward
    return alpha, beta


@pytest.mark.parametrize("check, reference, wrongs", [
    (checks.check_epsilon_greedy_choice, b.epsilon_greedy_choice, [_never_explores, _explores_only_other_arms]),
    (checks.check_ucb1_index, b.ucb1_index, [_ucb_without_sqrt, _ucb_zero_for_unplayed]),
    (checks.check_thompson_beta_update, b.thompson_beta_update, [_beta_swapped]),
])
def test_checkers_pass_the_reference_and_reject_wrong_answers(student_mode, check, reference, wrongs):
    assert check(reference).passed
    for wrong in wrongs:
        result = check(wrong)
        assert result.status == "failed" and result.use is reference, wrong.__name__

    def unsolved(*args):
        raise NotImplementedError()

    assert check(unsolved).status == "unsolved"


def test_checker_raises_in_the_solution_variant(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "solutions")
    with pytest.raises(AssertionError, match="ucb1_index failed"):
        checks.check_ucb1_index(_ucb_without_sqrt)


def test_ucb1_and_greedy_choose_what_mabwiser_chooses_after_the_same_history():
    from mabwiser.mab import MAB, LearningPolicy

    rng = np.random.default_rng(0)
    for _ in range(5):
        decisions = rng.integers(0, 4, 60)
        decisions[:4] = np.arange(4)  # every arm played at least once
        rewards = (rng.random(60) < np.array([0.2, 0.4, 0.5, 0.3])[decisions]).astype(float)
        ours = b.UCB1(4)
        greedy = b.EpsilonGreedy(4, 0.0)
        for a, r in zip(decisions, rewards):
            ours.update(int(a), float(r))
            greedy.update(int(a), float(r))
        theirs = MAB([0, 1, 2, 3], LearningPolicy.UCB1(alpha=1.0), seed=0)  # alpha * sqrt(2 ln t / n)
        theirs.fit(decisions.tolist(), rewards.tolist())
        assert ours.select() == theirs.predict()
        theirs_g = MAB([0, 1, 2, 3], LearningPolicy.EpsilonGreedy(epsilon=0.0), seed=0)
        theirs_g.fit(decisions.tolist(), rewards.tolist())
        assert greedy.select() == theirs_g.predict()


def _mabwiser_history(rng, k=4, n=60):
    decisions = rng.integers(0, k, n)
    decisions[:k] = np.arange(k)
    rewards = (rng.random(n) < np.linspace(0.2, 0.6, k)[decisions]).astype(float)
    return decisions, rewards


def test_softmax_probabilities_and_thompson_posteriors_equal_mabwisers_after_the_same_history():
    from mabwiser.mab import MAB, LearningPolicy

    rng = np.random.default_rng(1)
    for tau in (0.05, 0.3, 1.0):
        decisions, rewards = _mabwiser_history(rng)
        ours_s, ours_t = b.Softmax(4, temperature=tau), b.ThompsonBernoulli(4)
        for a, r in zip(decisions, rewards):
            ours_s.update(int(a), float(r))
            ours_t.update(int(a), float(r))
        theirs_s = MAB([0, 1, 2, 3], LearningPolicy.Softmax(tau=tau), seed=0)
        theirs_s.fit(decisions.tolist(), rewards.tolist())
        assert np.allclose(ours_s.probabilities(), [theirs_s._imp.arm_to_expectation[i] for i in range(4)])
        theirs_t = MAB([0, 1, 2, 3], LearningPolicy.ThompsonSampling(), seed=0)  # Beta(1 + wins, 1 + losses)
        theirs_t.fit(decisions.tolist(), rewards.tolist())
        assert ours_t.alpha.tolist() == [theirs_t._imp.arm_to_success_count[i] for i in range(4)]
        assert ours_t.beta.tolist() == [theirs_t._imp.arm_to_fail_count[i] for i in range(4)]


def test_epsilon_greedy_choice_frequencies_agree_with_mabwiser():
    from mabwiser.mab import MAB, LearningPolicy

    decisions, rewards = _mabwiser_history(np.random.default_rng(2))
    theirs = MAB([0, 1, 2, 3], LearningPolicy.EpsilonGreedy(epsilon=0.3), seed=0)
    theirs.fit(decisions.tolist(), rewards.tolist())
    n = 4000
    theirs_freq = np.bincount([theirs.predict() for _ in range(n)], minlength=4) / n
    ours = b.EpsilonGreedy(4, 0.3, runs=n, seed=0)
    for a, r in zip(decisions, rewards):
        ours.update(np.full(n, a), np.full(n, r))
    ours_freq = np.bincount(ours.select(), minlength=4) / n
    greedy = int(np.argmax(ours.values[0]))
    expected = np.full(4, 0.3 / 4)
    expected[greedy] += 0.7
    sd = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(ours_freq - expected) < 4 * sd) and np.all(np.abs(theirs_freq - expected) < 4 * sd)


def _ducb_only_played_forgets(counts, sums, arm, reward, gamma):
    counts, sums = counts.copy(), sums.copy()
    counts[arm] = gamma * counts[arm] + 1
    sums[arm] = gamma * sums[arm] + reward
    return counts, sums


def _ducb_discounts_the_new_pull(counts, sums, arm, reward, gamma):
    counts, sums = counts.copy(), sums.copy()
    counts[arm] += 1
    sums[arm] += reward
    return gamma * counts, gamma * sums


def _ducb_in_place(counts, sums, arm, reward, gamma):
    counts *= gamma
    sums *= gamma
    counts[arm] += 1
    sums[arm] += reward
    return counts, sums


@pytest.mark.parametrize("wrong, hint", [(_ducb_only_played_forgets, "every arm forgets"),
                                         (_ducb_discounts_the_new_pull, "then add this pull with weight 1"),
                                         (_ducb_in_place, "leave counts and sums unchanged")])
def test_discounted_ucb_checker_names_the_mistake(student_mode, wrong, hint):
    assert checks.check_discounted_ucb_update(b.discounted_ucb_update).passed
    result = checks.check_discounted_ucb_update(wrong)
    assert result.status == "failed" and hint in result.message and result.use is b.discounted_ucb_update


def test_discounted_ucb_update_matches_the_policy():
    rng = np.random.default_rng(0)
    policy = b.DiscountedUCB(4, gamma=0.9)
    counts, sums = np.zeros(4), np.zeros(4)
    for _ in range(50):
        arm, reward = int(rng.integers(4)), float(rng.random() < 0.5)
        policy.update(arm, reward)
        counts, sums = b.discounted_ucb_update(counts, sums, arm, reward, 0.9)
    np.testing.assert_allclose(policy.counts, counts)
    np.testing.assert_allclose(policy.sums, sums)
    # closed form: an arm played once, k steps ago, has count gamma^k
    c, _ = b.discounted_ucb_update(np.zeros(2), np.zeros(2), 0, 1.0, 0.5)
    for _ in range(3):
        c, _ = b.discounted_ucb_update(c, np.zeros(2), 1, 0.0, 0.5)
    assert c[0] == pytest.approx(0.5 ** 3) and c[1] == pytest.approx(1 + 0.5 + 0.25)


def test_epsilon_greedy_checker_requires_the_given_rng(student_mode):
    def global_random(values, epsilon, rng):
        if np.random.random() < epsilon:
            return int(np.random.randint(len(values)))
        return int(np.argmax(values))

    def own_generator(values, epsilon, rng):
        mine = np.random.default_rng(0)
        if mine.random() < epsilon:
            return int(mine.integers(len(values)))
        return int(np.argmax(values))

    for wrong in (global_random, own_generator):
        res = checks.check_epsilon_greedy_choice(wrong)
        assert res.status == "failed" and "rng you are given" in res.message, res.message
    assert checks.check_epsilon_greedy_choice(b.epsilon_greedy_choice).passed
    assert 0 <= np.random.default_rng(1).random() < 1      # the guard is lifted afterwards



# ----------------------------------------------------------------- explore-then-commit (ETC)
def test_etc_plays_a_round_robin_then_commits_for_good_to_the_best_test_mean():
    p = b.ExploreThenCommit(3, m=2)
    played = []
    for reward in (0, 1, 1, 0, 1, 0):                  # test means after 6 steps: arm 0: 0, arm 1: 1, arm 2: 0.5
        played.append(p.select())
        p.update(played[-1], float(reward))
    assert played == [0, 1, 2, 0, 1, 2] and p.select() == 1
    for _ in range(5):                                 # the committed arm stops clicking: ETC does not look back
        p.update(p.select(), 0.0)
    assert p.select() == 1 and p.values[1] < p.values[2]
    np.testing.assert_array_equal(p.action_probabilities(), [0.0, 1.0, 0.0])
    tie = b.ExploreThenCommit(2, m=1)
    for arm in (0, 1):
        tie.update(tie.select(), 1.0)
    assert tie.select() == 0                           # ties go to the lowest index


def test_etc_with_one_m_per_run_commits_each_run_after_its_own_test():
    m = np.array([1, 2, 4, 8])
    run = b.simulate(b.ExploreThenCommit(3, m, runs=4), [0.2, 0.5, 0.4], 60, seed=1)
    for r, mr in enumerate(m):
        np.testing.assert_array_equal(run.arms[r, :3 * mr], np.arange(3 * mr) % 3)
        assert np.all(run.arms[r, 3 * mr:] == run.arms[r, 3 * mr])


def test_etc_final_regret_has_the_distribution_of_the_simulated_policy():
    runs = 3000
    sim = b.simulate(b.ExploreThenCommit(5, 10, runs=runs), MEANS, 2000, seed=4).final_regret
    fast = b.etc_final_regret(MEANS, [10], 2000, runs, seed=5)[0]
    se = np.sqrt(sim.var() / runs + fast.var() / runs)
    assert abs(sim.mean() - fast.mean()) < 4 * se
    # the cost of the test and the share of wrong launches agree too
    assert sim.min() == fast.min() == pytest.approx(10 * 1.25)
    assert abs(np.mean(sim > 12.5 + 1e-9) - np.mean(fast > 12.5 + 1e-9)) < 0.04
    # a horizon shorter than the test: the round robin's first T steps, no commitment
    np.testing.assert_allclose(b.etc_final_regret([0.5, 0.1], [10], 7, 3), 3 * 0.4)   # arm 1 at steps 2, 4, 6


def test_etc_theory_m_matches_lattimore_and_szepesvari_by_hand():
    assert b.etc_theory_m(0.2, 3000) == math.ceil(4 / 0.04 * math.log(3000 * 0.04 / 4)) == 341
    assert b.etc_theory_m(0.2, 3000, sigma=0.5) == math.ceil(1 / 0.04 * math.log(3000 * 0.04)) == 120
    assert b.etc_theory_m(0.5, 10) == 1                # T gap^2 / 4 <= 1: no test worth running


def test_choose_commit_length_takes_the_lightest_tail_among_means_within_noise():
    rng = np.random.default_rng(0)
    ms = np.array([5, 20, 40, 300])
    base = np.array([100.0, 60.0, 62.0, 375.0])[:, None] + rng.normal(0, 1, (4, 50))
    base[1, :3] += 500                                 # m = 20: three wrong launches, mean still within noise
    assert b.choose_commit_length(ms, base) == 40
    with pytest.raises(ValueError, match="runs >= 2"):
        b.choose_commit_length(ms, base[:, :1])


# ----------------------------------------------------------------- delayed (batched) feedback
def test_batch_size_one_is_the_default_and_a_batch_freezes_the_policy():
    a = b.simulate(b.ThompsonBernoulli(5, runs=20, seed=3), MEANS, 300, seed=2)
    c = b.simulate(b.ThompsonBernoulli(5, runs=20, seed=3), MEANS, 300, seed=2, batch_size=1)
    np.testing.assert_array_equal(a.arms, c.arms)
    ucb = b.simulate(b.UCB1(5, c=0.3, runs=20), MEANS, 300, seed=2, batch_size=30)
    blocks = ucb.arms.reshape(20, 10, 30)
    assert np.all(blocks == blocks[:, :, :1])          # deterministic and frozen: one arm per batch
    np.testing.assert_array_equal(blocks[0, :5, 0], np.arange(5))   # untried arms first, in index order
    policy = b.ThompsonBernoulli(5, runs=400, seed=1)
    ts = b.simulate(policy, MEANS, 50, seed=2, batch_size=50)       # one batch: the prior's uniform choice
    freq = np.bincount(ts.arms.ravel(), minlength=5) / ts.arms.size
    np.testing.assert_allclose(freq, 0.2, atol=0.02)
    assert policy.t == 50 and policy.alpha.sum() + policy.beta.sum() == pytest.approx(400 * (10 + 50))


def test_pending_ucb1_is_ucb1_with_immediate_feedback_and_spreads_a_batch():
    a = b.simulate(b.PendingUCB1(5, c=0.3, runs=30), MEANS, 400, seed=6)
    u = b.simulate(b.UCB1(5, c=0.3, runs=30), MEANS, 400, seed=6)
    np.testing.assert_array_equal(a.arms, u.arms)
    p = b.simulate(b.PendingUCB1(5, c=0.3, runs=3), MEANS, 40, seed=6, batch_size=40)
    np.testing.assert_array_equal(p.arms[0], b.ucb1_batch_arms(np.zeros(5), np.zeros(5), 0, 0.3, 40))
    policy = b.PendingUCB1(3, c=1.0)
    first = policy.action_probabilities()
    np.testing.assert_array_equal(first, policy.action_probabilities())   # looking does not book a pull
    assert policy.select() == 0 and policy.select() == 1 and policy.pending.tolist() == [1, 1, 0]
    policy.update(0, 1.0)
    assert policy.pending.tolist() == [0, 1, 0] and policy.counts.tolist() == [1, 0, 0]


def test_ucb1_batch_arms_counts_booked_pulls_and_leaves_its_inputs():
    values, counts = np.array([0.5, 0.3, 0.1]), np.array([8.0, 4.0, 4.0])
    arms = b.ucb1_batch_arms(values, counts, 16, 0.5, 30)
    assert values.tolist() == [0.5, 0.3, 0.1] and counts.tolist() == [8.0, 4.0, 4.0]
    # by hand: the next arm is the UCB argmax with the booked pulls added to n_i and to t
    booked = np.zeros(3)
    for j, arm in enumerate(arms):
        assert arm == int(np.argmax(b.ucb1_index(values, counts + booked, 16 + j, 0.5)))
        booked[arm] += 1
    assert 0 < (arms != 0).sum() < 10                  # mostly the leader, sometimes the uncertain arms


def _choose_lowest_median(ms, regrets):
    return ms[int(np.argmin(np.median(regrets, axis=1)))]


def _choose_largest(ms, regrets):
    return ms[-1]


def _choose_theory(ms, regrets):
    return b.etc_theory_m(0.2, 3000)


def _choose_best_single_run(ms, regrets):
    return ms[int(np.argmin(regrets.min(axis=1)))]


@pytest.mark.parametrize("wrong, hint", [(_choose_lowest_median, "lowest median"), (_choose_largest, "the largest of the sweep"),
                                         (_choose_theory, "needs the gap"), (_choose_best_single_run, "lowest median")])
def test_commit_length_checker_names_the_mistake(student_mode, wrong, hint):
    assert checks.check_choose_commit_length(b.choose_commit_length).passed
    assert checks.check_choose_commit_length(lambda ms, r: ms[int(np.argmin(r.mean(axis=1)))]).passed  # the best mean
    result = checks.check_choose_commit_length(wrong)
    assert result.status == "failed" and hint in result.message and result.use is b.choose_commit_length, result.message


def _batch_repeats(values, counts, t, c, n):
    return np.full(n, int(np.argmax(b.ucb1_index(values, counts, t, c))))


def _batch_guesses_no_click(values, counts, t, c, n):
    values, counts, arms = values.copy(), counts.copy(), []
    for j in range(n):
        arms.append(int(np.argmax(b.ucb1_index(values, counts, t + j, c))))
        counts[arms[-1]] += 1
        values[arms[-1]] *= 1 - 1 / counts[arms[-1]]
    return np.array(arms)


def _batch_in_place(values, counts, t, c, n):
    arms = []
    for j in range(n):
        arms.append(int(np.argmax(b.ucb1_index(values, counts, t + j, c))))
        counts[arms[-1]] += 1
    return np.array(arms)


def _batch_round_robin(values, counts, t, c, n):
    return np.arange(n) % len(values)


@pytest.mark.parametrize("wrong, hint", [(_batch_repeats, "repeats one arm"), (_batch_guesses_no_click, "guessed reward"),
                                         (_batch_in_place, "leave values and counts unchanged"),
                                         (_batch_round_robin, "round robin")])
def test_batch_arms_checker_names_the_mistake(student_mode, wrong, hint):
    assert checks.check_batch_arms(b.ucb1_batch_arms).passed
    result = checks.check_batch_arms(wrong)
    assert result.status == "failed" and hint in result.message and result.use is b.ucb1_batch_arms, result.message
