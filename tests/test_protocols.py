"""Every policy and learner of course_lib follows course_lib.protocols, and its state survives a save and load.

The classes are discovered, not listed: every public class of every course_lib module that learns
(has ``update`` or ``partial_fit``) must appear in FACTORIES, so a new policy without an entry fails here.
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import course_lib
from course_lib import bandits as bd
from course_lib import contextual as C
from course_lib import clock as ck
from course_lib import neural as nn_
from course_lib import online as ol
from course_lib.protocols import Bandit, ContextualBandit, OnlineLearner, Stateful, load_state, save_state


def _learning_classes():
    found = {}
    for info in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        if info.name.startswith("course_lib.notebook"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and not name.startswith("_") and (
                    hasattr(cls, "update") or hasattr(cls, "partial_fit")) and not inspect.isabstract(cls) \
                    and getattr(cls, "_is_protocol", False) is False:
                found[f"{cls.__module__}.{name}"] = cls
    return found


K, D = 4, 3
N_USERS = 5
#: how to build each learning class: (protocol, factory(seed)); None for the shared bases Policy and LinearBandit.
FACTORIES = {
    "RandomPolicy": (Bandit, lambda s, runs=None: bd.RandomPolicy(K, runs=runs, seed=s)),
    "EpsilonGreedy": (Bandit, lambda s, runs=None: bd.EpsilonGreedy(K, 0.3, runs=runs, seed=s)),
    "UCB1": (Bandit, lambda s, runs=None: bd.UCB1(K, runs=runs, seed=s)),
    "PendingUCB1": (Bandit, lambda s, runs=None: bd.PendingUCB1(K, c=0.5, runs=runs, seed=s)),
    "ExploreThenCommit": (Bandit, lambda s, runs=None: bd.ExploreThenCommit(K, 3 if runs is None else np.arange(1, runs + 1), runs=runs, seed=s)),
    "ThompsonBernoulli": (Bandit, lambda s, runs=None: bd.ThompsonBernoulli(K, runs=runs, seed=s)),
    "ThompsonGaussian": (Bandit, lambda s, runs=None: bd.ThompsonGaussian(K, runs=runs, seed=s)),
    "Softmax": (Bandit, lambda s, runs=None: bd.Softmax(K, 0.2, runs=runs, seed=s)),
    "EXP3": (Bandit, lambda s, runs=None: bd.EXP3(K, 0.2, runs=runs, seed=s)),
    "DiscountedUCB": (Bandit, lambda s, runs=None: bd.DiscountedUCB(K, 0.9, runs=runs, seed=s)),
    "SlidingWindowUCB": (Bandit, lambda s, runs=None: bd.SlidingWindowUCB(K, 7, runs=runs, seed=s)),
    "DiscountedThompson": (Bandit, lambda s, runs=None: bd.DiscountedThompson(K, 0.9, runs=runs, seed=s)),
    "MetaUCB": (Bandit, lambda s, runs=None: bd.MetaUCB(K, runs=runs, seed=s)),
    "BDES": (Bandit, lambda s, runs=None: bd.BDES(K, runs=runs, seed=s)),
    "LinUCB": (ContextualBandit, lambda s: C.LinUCB(K, D, alpha=0.7, seed=s)),
    "LinTS": (ContextualBandit, lambda s: C.LinTS(K, D, seed=s)),
    "LinGreedy": (ContextualBandit, lambda s: C.LinGreedy(K, D, epsilon=0.3, seed=s)),
    "HybridLinUCB": (ContextualBandit, lambda s: C.HybridLinUCB(np.random.default_rng(5).normal(size=(K, 3)), D, alpha=0.7, seed=s)),
    "LinearBandit": (ContextualBandit, None),
    "Policy": (Bandit, None),
    "OnlineLogisticRegression": (OnlineLearner, lambda s: ol.OnlineLogisticRegression(D, ol.AdaGrad(0.3))),
    "OnlineLinearRegression": (OnlineLearner, lambda s: ol.OnlineLinearRegression(D, ol.FTRLProximal(0.3, l1=0.01))),
    # lesson 04: small networks retrained every few events, so the round trip covers the trained weights
    "UniformPolicy": (ContextualBandit, lambda s: nn_.UniformPolicy(K, D, seed=s)),
    "NoiseBandit": (ContextualBandit, lambda s: nn_.NoiseBandit(K, D, hidden=(5,), train_every=7, train_steps=3, seed=s)),
    "NeuralLinear": (ContextualBandit, lambda s: nn_.NeuralLinear(K, D, hidden=(5,), train_every=7, train_steps=3, seed=s)),
    "NeuralUCB": (ContextualBandit, lambda s: nn_.NeuralUCB(K, D, hidden=(5,), train_every=7, train_steps=3, seed=s)),
    "NeuralTS": (ContextualBandit, lambda s: nn_.NeuralTS(K, D, hidden=(5,), train_every=7, train_steps=3, seed=s)),
    "HyperBandit": (ContextualBandit, lambda s: nn_.HyperBandit(K, D, np.random.default_rng(5).normal(size=(K, 2)), [0], [1, 2], rank=2, hidden=5, train_every=7, train_steps=3, batch_size=8, seed=s)),
    "SlidingWindowLinUCB": (ContextualBandit, lambda s: nn_.SlidingWindowLinUCB(K, D, window=9, alpha=0.7)),
    "ColumnView": (ContextualBandit, lambda s: nn_.ColumnView(C.LinUCB(K, 2, alpha=0.7, seed=s), [0, 2], D)),
    # lesson 08: the safe learner's per-arm model has its own round trip below; the feature store keeps
    # its state in Redis (the service is the state), so there is nothing to save from the object
    "PerArmLogistic": (Stateful, None),
    "FeatureStore": (Stateful, None),
    # lesson 05: per-user interest models (update with events, read interests); no decisions, state only
    "InterestClock": (Stateful, lambda s: ck.InterestClock(N_USERS, D, window_days=2.0)),
    "BucketClock": (Stateful, lambda s: ck.BucketClock(N_USERS, D)),
    "UserProfile": (Stateful, lambda s: ck.UserProfile(N_USERS, D, half_life=12.0)),
    "PopulationClock": (Stateful, lambda s: ck.PopulationClock(D, window_days=2.0)),
}
LEARNERS = _learning_classes()


def test_every_learning_class_has_a_factory():
    missing = sorted(n for n in LEARNERS if n.rsplit(".", 1)[1] not in FACTORIES)
    assert not missing, f"add these classes to FACTORIES (and make them follow course_lib.protocols): {missing}"
    assert len(LEARNERS) >= 17


def _build(name, seed=0, runs=None):
    protocol, factory = FACTORIES[name]
    return protocol, (factory(seed, runs) if protocol is Bandit else factory(seed))


def _play(obj, protocol, steps, rng, runs=None):
    """Drive ``obj`` for ``steps`` steps with rewards from ``rng``; return what it decided."""
    out = []
    for _ in range(steps):
        if protocol is Bandit:
            arm = obj.select()
            reward = (rng.random(() if runs is None else (runs,)) < 0.3 + 0.1 * np.asarray(arm)).astype(float)
            assert obj.update(arm, reward) is obj
            out.append(np.asarray(arm).copy())
            out.append(np.asarray(obj.action_probabilities()).copy())
        elif protocol is ContextualBandit:
            x = rng.standard_normal(D)
            arm = obj.select(x)
            assert isinstance(arm, int)
            assert obj.update(arm, float(rng.random() < 0.5), x) is obj
            X = rng.standard_normal((2, D))
            assert obj.partial_fit(rng.integers(0, K, 2), rng.random(2), X) is obj
            probs = obj.action_probabilities(X)
            assert probs.shape == (2, K) and np.allclose(probs.sum(axis=1), 1)
            out += [arm, obj.predict(X, k=2), obj.predict_expectations(X), probs]
        elif protocol is Stateful:  # an interest model: a batch of events in time order, then read every user
            users, hours = rng.integers(0, N_USERS, 6), rng.integers(0, 24, 6)
            times = float(obj.now) + np.sort(rng.random(6)) * 5   # the stream goes on where the state left it
            assert obj.update(users, hours, rng.integers(0, D, 6), times) is obj
            out.append(np.asarray(obj.read(np.arange(N_USERS), np.full(N_USERS, int(rng.integers(0, 24))))).copy())
        else:
            X = rng.standard_normal((3, D))
            y = (rng.random(3) < 0.5).astype(float)
            out.append(obj.predict(X))
            assert obj.partial_fit(X, y) is obj
    return out


CASES = [(n, None) for n in FACTORIES if FACTORIES[n][1] is not None] + \
        [(n, 5) for n in FACTORIES if FACTORIES[n][0] is Bandit and FACTORIES[n][1] is not None]


@pytest.mark.parametrize("name, runs", CASES, ids=[f"{n}-runs{r}" for n, r in CASES])
def test_protocol_and_save_load_round_trip(name, runs, tmp_path):
    protocol, obj = _build(name, seed=3, runs=runs)
    assert isinstance(obj, protocol)
    _play(obj, protocol, 25, np.random.default_rng(1), runs)
    path = save_state(obj, tmp_path / "state.npz")
    _, fresh = _build(name, seed=99, runs=runs)          # another seed: the RNG state must come from the file
    load_state(fresh, path)
    after_a = _play(obj, protocol, 25, np.random.default_rng(2), runs)
    after_b = _play(fresh, protocol, 25, np.random.default_rng(2), runs)
    for a, b in zip(after_a, after_b):
        np.testing.assert_array_equal(a, b)


def test_load_refuses_another_class(tmp_path):
    path = save_state(bd.UCB1(3), tmp_path / "s.npz")
    with pytest.raises(ValueError, match="belongs to a UCB1, not a EpsilonGreedy"):
        load_state(bd.EpsilonGreedy(3), path)


def test_action_probabilities_match_the_choices():
    rng, R = np.random.default_rng(0), 4000
    for policy in (bd.EpsilonGreedy(3, 0.3, runs=R, seed=1), bd.Softmax(3, 0.5, runs=R, seed=1),
                   bd.EXP3(3, 0.3, runs=R, seed=1), bd.ThompsonBernoulli(3, runs=R, seed=1),
                   bd.MetaUCB(3, runs=R, seed=1)):
        for _ in range(5):  # the same history in every run, so every run has the same probabilities
            policy.select()
            arm = np.full(R, rng.integers(3))
            policy.update(arm, np.full(R, float(rng.random() < 0.5)))
        policy.select()  # EXP3/MetaUCB keep the last draw; probabilities are for the next one
        p = policy.action_probabilities()[0]
        freq = np.bincount(policy.select(), minlength=3) / R
        np.testing.assert_allclose(freq, p, atol=0.03, err_msg=type(policy).__name__)
    m = C.LinGreedy(5, 2, epsilon=0.4, seed=0).partial_fit([0, 1, 1], [1.0, 0.0, 1.0], np.eye(2)[[0, 1, 1]])
    x = np.array([[1.0, 0.5]])
    freq = np.bincount([m.select(x[0]) for _ in range(5000)], minlength=5) / 5000
    np.testing.assert_allclose(freq, m.action_probabilities(x)[0], atol=0.02)
    ts = C.LinTS(5, 2, seed=0).partial_fit([0, 1, 1], [1.0, 0.0, 1.0], np.eye(2)[[0, 1, 1]])
    freq = np.bincount([ts.select(x[0]) for _ in range(3000)], minlength=5) / 3000
    np.testing.assert_allclose(freq, ts.action_probabilities(x, n_draws=3000)[0], atol=0.035)


def test_per_arm_logistic_round_trip(tmp_path):
    """Lesson 08's safe learner model: after save and load, the same predictions and the same learning."""
    from course_lib.streaming.safe import PerArmLogistic

    rng = np.random.default_rng(0)
    arms, X, r = rng.integers(0, K, 40), rng.standard_normal((40, D)), (rng.random(40) < 0.4).astype(float)
    a = PerArmLogistic(K, D).partial_fit(arms[:20], r[:20], X[:20])
    b = load_state(PerArmLogistic(K, D), save_state(a, tmp_path / "s.npz"))
    np.testing.assert_array_equal(a.predict_proba(arms, X), b.predict_proba(arms, X))
    a.partial_fit(arms[20:], r[20:], X[20:])
    b.partial_fit(arms[20:], r[20:], X[20:])
    np.testing.assert_array_equal(a.predict_proba(arms, X), b.predict_proba(arms, X))
