"""course_lib.sim: the click models and the one serving loop (live design of lesson 03, A/B design of lesson 07)."""

import numpy as np
import pytest

from course_lib import contextual as C
from course_lib.abtest import srm_check
from course_lib.protocols import ContextualBandit
from course_lib.sim import clicks
from course_lib.sim.loops import LoopRun, run_loop, simulate_linear_runs
from course_lib.sim.world import load_world


@pytest.fixture(scope="module")
def world():
    return load_world()


def test_loop_validation(world):
    with pytest.raises(ValueError, match="the policy has 3 arms but the world 200 products"):
        run_loop(world, C.LinUCB(3, world.context_dim), 10, seed=0)
    with pytest.raises(ValueError, match="n_visits must be an integer >= 1"):
        run_loop(world, C.LinUCB(200, world.context_dim), 0, seed=0)
    with pytest.raises(ValueError, match="expects 4 context features but the world's context has 13"):
        run_loop(world, C.LinUCB(200, 4), 10, seed=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        run_loop(world, C.LinUCB(200, world.context_dim), 10, seed=np.random.default_rng(0))
    with pytest.raises(ValueError, match="k must be 1"):
        run_loop(world, C.LinUCB(200, world.context_dim), 10, seed=0, k=3, design="ab")
    with pytest.raises(ValueError, match="design must be"):
        run_loop(world, C.LinUCB(200, world.context_dim), 10, seed=0, design="abc")


def test_cascade_click_and_slate_probability():
    rng = np.random.default_rng(0)
    probs = np.array([0.2, 0.5, 0.1])
    pos = np.array([clicks.cascade_click(probs, rng) for _ in range(20_000)])
    # P(first click at 0) = 0.2, at 1 = 0.8 * 0.5, none = 0.8 * 0.5 * 0.9
    for where, p in ((0, 0.2), (1, 0.4), (-1, 0.36)):
        assert abs((pos == where).mean() - p) < 5 * np.sqrt(p * (1 - p) / 20_000)
    assert np.isclose(clicks.slate_click_probability(probs), 1 - 0.36)


def test_bernoulli_clicks_rate_and_validation():
    got = clicks.bernoulli_clicks(np.full(20_000, 0.3), np.random.default_rng(1))
    assert abs(got.mean() - 0.3) < 5 * np.sqrt(0.21 / 20_000)
    with pytest.raises(ValueError, match="probs"):
        clicks.bernoulli_clicks([0.5, 1.5], np.random.default_rng(0))


def test_live_loop_learns_and_cold_start_arm_gets_shown(world):
    log = world.log
    X = world.context(log.user_id.to_numpy(), log.timestamp.to_numpy())
    m = C.LinUCB(200, world.context_dim, alpha=1.0).partial_fit(log.product_id.to_numpy(), log.click.to_numpy(), X)
    assert isinstance(m, ContextualBandit)
    run = run_loop(world, m, 400, seed=0, k=5, new_product_at=100)
    assert isinstance(run, LoopRun) and run.treated.all()
    assert run.shown.shape == (400, 5) and m.n_arms == 201 and world.n_products == 200
    assert (run.shown[:100] < 200).all() and (run.shown[100:] == 200).any()
    assert run.p_slate.mean() > run.p_random.mean() + 0.05
    assert (run.p_best >= run.p_slate - 1e-12).all()


def test_ab_design_learns_in_the_treatment_arm_only(world):
    m = C.LinUCB(200, world.context_dim, alpha=0.1)
    run = run_loop(world, m, 4000, seed=[10, 3], design="ab", batch=200)
    t, c = run.treated, run.clicks
    assert (np.diff(run.timestamps.astype(np.int64)) >= 0).all()            # a week in time order
    assert m.counts.sum() == t.sum()                                           # learns from its own traffic only
    assert abs(c[~t].mean() - run.p_slate[~t].mean()) < 4 * np.sqrt(0.15 / (~t).sum())  # random products
    assert run.p_slate[t].mean() > run.p_slate[~t].mean() + 0.02              # LinUCB beats random products
    assert not srm_check([t.sum(), (~t).sum()]).flagged


def test_same_seed_same_run(world):
    a = run_loop(world, C.LinTS(200, world.context_dim), 200, seed=5, k=3)
    b = run_loop(world, C.LinTS(200, world.context_dim), 200, seed=5, k=3)
    np.testing.assert_array_equal(a.shown, b.shown)
    np.testing.assert_array_equal(a.clicked, b.clicked)


# ----------------------------------------------------------------- simulate_linear_runs (issue 10)
@pytest.fixture(scope="module")
def linear_world():
    return load_world()

def test_statistics_match_the_trace(linear_world):
    runs = simulate_linear_runs(linear_world, 150, seed=3, alpha=[1.0, 0.0, 0.0], v=[0.0, 0.3, 0.0], epsilon=[0, 0, 0.2])
    d = linear_world.context_dim
    for r in range(3):
        A = np.broadcast_to(np.eye(d), (linear_world.n_products, d, d)).copy(); b = np.zeros((linear_world.n_products, d))
        X = linear_world.context(runs.users[r], runs.timestamps[r])
        for t in range(150):
            pos = runs.clicked_pos[r, t]
            last = pos if pos >= 0 else runs.shown.shape[2] - 1
            for j in range(last + 1):
                a = runs.shown[r, t, j]
                A[a] += np.outer(X[t], X[t]); b[a] += (j == pos) * X[t]
        np.testing.assert_allclose(runs.A_inv[r], np.linalg.inv(A), atol=1e-9)
        np.testing.assert_allclose(runs.b[r], b)
    assert np.all(runs.p_best >= runs.p_slate - 1e-12)
    assert runs.regret.shape == (3, 150) and np.all(np.diff(runs.regret, axis=1) >= -1e-12)

def test_shared_visit_streams_and_determinism(linear_world):
    a = simulate_linear_runs(linear_world, 30, seed=1, alpha=[1.0, 0.0], visit_stream=[0, 0])
    b = simulate_linear_runs(linear_world, 30, seed=1, alpha=[1.0, 0.0], visit_stream=[0, 0])
    np.testing.assert_array_equal(a.users[0], a.users[1])
    np.testing.assert_array_equal(a.shown, b.shown)

def test_greedy_explores_little_from_an_empty_model(linear_world):
    runs = simulate_linear_runs(linear_world, 400, seed=0, alpha=[0.0, 1.0])
    distinct = [len(np.unique(runs.shown[r])) for r in range(2)]
    assert distinct[0] < 40 < distinct[1]

def test_errors(linear_world):
    with pytest.raises(ValueError, match="alpha"):
        simulate_linear_runs(linear_world, 5, seed=0, alpha=-1.0)
    with pytest.raises(ValueError, match="epsilon"):
        simulate_linear_runs(linear_world, 5, seed=0, epsilon=2.0)
    with pytest.raises(ValueError, match="common length"):
        simulate_linear_runs(linear_world, 5, seed=0, alpha=[1, 2], v=[0, 0, 0])
    with pytest.raises(ValueError, match="visit_stream"):
        simulate_linear_runs(linear_world, 5, seed=0, alpha=[1, 2], visit_stream=[0])
