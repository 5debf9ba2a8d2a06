"""Bad input of each kind (bool or float where an int is needed, NaN, inf, negative, wrong shape) to the
public entry points gives a ValueError or TypeError whose message names the parameter."""

import numpy as np
import pytest

from course_lib import abtest, bandits as bd, contextual as C, metrics, numerics, online as ol, ope
from course_lib.sim import clicks
from course_lib.sim.loops import run_loop

NAN, INF = float("nan"), float("inf")
R3, P3 = np.ones(3), np.full(3, 0.5)

# (parameter named in the message, call)
CASES = [
    # integers: bool, fractional float, negative / zero
    ("n_arms", lambda: bd.UCB1(True)), ("n_arms", lambda: bd.UCB1(2.5)), ("n_arms", lambda: bd.UCB1(-1)),
    ("runs", lambda: bd.EpsilonGreedy(3, runs=1.5)), ("runs", lambda: bd.Softmax(3, runs=True)),
    ("window", lambda: bd.SlidingWindowUCB(3, window=0)), ("seed", lambda: bd.UCB1(3, seed=-1)),
    ("n_arms", lambda: C.LinUCB(2.7, 3)), ("n_arms", lambda: C.LinUCB(True, 3)),
    ("n_features", lambda: C.LinTS(3, 0)), ("n_features", lambda: C.LinGreedy(3, 1.5)),
    ("seed", lambda: C.LinUCB(3, 2, seed=2.5)),
    ("n_features", lambda: ol.OnlineLogisticRegression(True)), ("n_features", lambda: ol.OnlineLinearRegression(-2)),
    ("window", lambda: numerics.rolling_mean(R3, 0)), ("window", lambda: numerics.rolling_mean(R3, 1.5)),
    ("n_positions", lambda: clicks.examination_probs(0)), ("n_positions", lambda: clicks.examination_probs(True)),
    ("k", lambda: C.LinUCB(3, 2).predict([[1.0, 1.0]], k=4)), ("k", lambda: C.LinUCB(3, 2).predict([[1.0, 1.0]], k=1.5)),
    ("arm", lambda: C.LinUCB(3, 2).update(5, 1.0, [1.0, 1.0])), ("arm", lambda: C.LinUCB(3, 2).update(True, 1.0, [1.0, 1.0])),
    ("arm", lambda: bd.UCB1(3).update(3, 1.0)),
    ("n_draws", lambda: bd.ThompsonBernoulli(3).action_probabilities(n_draws=0)),
    # NaN, inf, negative, out of range
    ("epsilon", lambda: bd.EpsilonGreedy(3, epsilon=NAN)), ("epsilon", lambda: bd.EpsilonGreedy(3, epsilon=1.5)),
    ("c", lambda: bd.UCB1(3, c=-1)), ("c", lambda: bd.UCB1(3, c=INF)),
    ("temperature", lambda: bd.Softmax(3, temperature=0)), ("temperature", lambda: bd.Softmax(3, temperature=NAN)),
    ("gamma", lambda: bd.EXP3(3, gamma=0)), ("gamma", lambda: bd.DiscountedUCB(3, gamma=1.5)),
    ("alpha", lambda: C.LinUCB(3, 2, alpha=-5)), ("alpha", lambda: C.LinUCB(3, 2, alpha=INF)),
    ("v", lambda: C.LinTS(3, 2, v=NAN)), ("epsilon", lambda: C.LinGreedy(3, 2, epsilon=-0.1)),
    ("l2_lambda", lambda: C.LinUCB(3, 2, l2_lambda=0)),
    ("eta", lambda: ol.SGD(eta=NAN)), ("eta", lambda: ol.AdaGrad(eta=-1)), ("l1", lambda: ol.FTRLProximal(l1=-1)),
    ("temperature", lambda: numerics.softmax(R3, temperature=-1)),
    ("epsilon", lambda: ope.epsilon_greedy_probs(np.ones((2, 3)), epsilon=2)),
    ("alpha", lambda: abtest.sample_size_per_arm(0.1, 1.0, alpha=1.5)),
    ("power", lambda: abtest.sample_size_per_arm(0.1, 1.0, power=NAN)),
    ("eta", lambda: clicks.examination_probs(3, eta=-1)),
    ("reward", lambda: C.LinUCB(3, 2).update(0, NAN, [1.0, 1.0])),
    ("threshold", lambda: numerics.recovery_time(R3, 0, NAN, 1)),
    # arrays: NaN, inf, out of range, wrong shape
    ("rewards", lambda: ope.ips(np.array([1.0, NAN, 0.0]), P3, P3)),
    ("propensities", lambda: ope.ips(R3, np.array([0.5, 0.0, 0.5]), P3)),
    ("target_probs", lambda: ope.ips(R3, P3, np.array([0.5, 1.5, 0.5]))),
    ("weights", lambda: ope.effective_sample_size(np.array([1.0, INF]))),
    ("y_true", lambda: metrics.auc([0, 1, 2], [0.1, 0.2, 0.3])),
    ("y_score", lambda: metrics.auc([0, 1, 1], [0.1, NAN, 0.3])),
    ("probs", lambda: clicks.bernoulli_clicks([0.5, -0.1], np.random.default_rng(0))),
    ("attractiveness", lambda: clicks.position_based_clicks(np.full((2, 3), 2.0), np.ones(3), np.random.default_rng(0))),
    ("contexts", lambda: C.LinUCB(3, 2).predict([[1.0, 2.0, 3.0]])),
    ("contexts", lambda: C.LinUCB(3, 2).predict([[1.0, INF]])),
    ("arms", lambda: C.LinUCB(3, 2).partial_fit([0, 1.5], [1.0, 0.0], np.ones((2, 2)))),
    ("arms", lambda: C.LinUCB(3, 2).partial_fit([0, -1], [1.0, 0.0], np.ones((2, 2)))),
    ("rewards", lambda: C.LinUCB(3, 2).partial_fit([0, 1], [1.0, INF], np.ones((2, 2)))),
    ("X", lambda: ol.OnlineLogisticRegression(2).partial_fit(np.ones(2), [1])),
    ("X", lambda: ol.OnlineLogisticRegression(2).partial_fit(np.array([[NAN, 1.0]]), [1])),
    ("y", lambda: ol.OnlineLinearRegression(2).partial_fit(np.ones((1, 2)), [INF])),
    ("per_arm", lambda: abtest.power_two_sample(np.array([10, -5]), 0.1, 1.0)),
]


@pytest.mark.parametrize("param, call", CASES, ids=[f"{i}-{p}" for i, (p, _) in enumerate(CASES)])
def test_bad_input_names_the_parameter(param, call):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert param in str(info.value), f"the message does not name {param!r}: {info.value}"


def test_loop_rejects_a_generator_seed_and_a_float_visit_count():
    from course_lib.sim.world import load_world

    world = load_world()
    with pytest.raises(TypeError, match="seed"):
        run_loop(world, C.LinUCB(200, world.context_dim), 10, seed=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_visits"):
        run_loop(world, C.LinUCB(200, world.context_dim), 10.5, seed=0)
    with pytest.raises(ValueError, match="batch"):
        run_loop(world, C.LinUCB(200, world.context_dim), 10, seed=0, batch=True)


def test_students_slider_values_are_checked_on_assignment():
    m, g, s, t = C.LinUCB(3, 2), C.LinGreedy(3, 2), bd.Softmax(3), C.LinTS(3, 2)
    for obj, name, bad in ((m, "alpha", -5), (g, "epsilon", 2.0), (s, "temperature", 0.0), (t, "v", NAN)):
        with pytest.raises(ValueError, match=name):
            setattr(obj, name, bad)
    m.alpha = 0.5
    assert m.alpha == 0.5


def test_bandit_knobs_are_checked_on_assignment():
    for obj, name, bad in ((bd.EpsilonGreedy(3), "epsilon", 1.5), (bd.UCB1(3), "c", -1.0),
                           (bd.DiscountedUCB(3), "c", NAN), (bd.SlidingWindowUCB(3), "c", True)):
        with pytest.raises(ValueError, match=name):
            setattr(obj, name, bad)
