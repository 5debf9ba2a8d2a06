"""Lesson 09: the list-wise world, generator, evaluator, G-E and LAST against exact enumeration and hand cases."""

from itertools import permutations

import numpy as np
import pytest
import torch

from course_lib import rerank as rr
from course_lib.notebook.checks import lesson09 as checks
from course_lib.sim import listwise as lw


@pytest.fixture(scope="module")
def small():
    world = lw.make_world(seed=0)
    pipe = rr.fit_pipeline(world, n_logs=300, n_candidates=6, seed=0, epochs=2)
    req = lw.sample_requests(world, 20, 6, np.random.default_rng(5))
    return world, pipe, req, rr.batch_from_requests(world, req)


# ---------------------------------------------------------------------------------------------
# The hidden user model
# ---------------------------------------------------------------------------------------------
def _reward_by_hand(world, req, r, lst):
    """Eq. 9.1-9.2 for one list, written slot by slot in plain Python."""
    total = 0.0
    for j, i in enumerate(lst):
        c = req.categories[r, i]
        a = req.users[r] @ world.A @ req.items[r, i] + world.cat_bias[c] + world.ctx_bias[req.contexts[r], c]
        above = [req.categories[r, i2] for i2 in lst[:j]]
        n_same = sum(c2 == c for c2 in above)
        comp = max([world.complements[c2, c] for c2 in above], default=0.0)
        click = world.exam[j] / (1 + np.exp(-(a - world.redundancy * n_same + world.complement * comp)))
        buy = click / (1 + np.exp(-(req.items[r, i] @ world.quality - 1.0)))
        total += click + world.buy_weight * buy
    return total


def test_list_reward_matches_a_hand_computation():
    world = lw.make_world(seed=3)
    req = lw.sample_requests(world, 4, 6, np.random.default_rng(0))
    lists = np.array([[0, 1, 2, 3], [5, 4, 3, 2], [1, 0, 5, 2], [2, 3, 4, 5]])
    got = lw.list_reward(world, req, lists)
    want = [_reward_by_hand(world, req, r, lists[r]) for r in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_three_choose_two_toy_agrees_with_enumeration():
    world = lw.make_world(seed=0, k=2)
    req = lw.sample_requests(world, 30, 3, np.random.default_rng(1))
    lists = lw.all_lists(3, 2)
    assert len(lists) == 6 and {tuple(x) for x in lists} == set(permutations(range(3), 2))
    best, value = lw.best_lists(world, req)
    for r in range(len(req)):
        values = {L: _reward_by_hand(world, req, r, list(L)) for L in permutations(range(3), 2)}
        top = max(values, key=values.get)
        assert tuple(best[r]) == top
        assert value[r] == pytest.approx(values[top], rel=1e-12)


def test_best_list_is_often_not_top_k_by_own_appeal():
    world = lw.make_world(seed=0)
    req = lw.sample_requests(world, 200, 7, np.random.default_rng(2))
    best, value = lw.best_lists(world, req)
    top = np.argsort(-lw.appeal(world, req), axis=1)[:, :world.k]
    assert (value >= lw.list_reward(world, req, top) - 1e-12).all()
    assert (top != best).any(1).mean() > 0.5


def test_redundancy_lowers_and_complements_raise_the_reward():
    base = lw.make_world(seed=1, redundancy=0.0, complement=0.0)
    req = lw.sample_requests(base, 50, 6, np.random.default_rng(0))
    lists = np.tile(np.arange(4), (50, 1))
    r0 = lw.list_reward(base, req, lists)
    from dataclasses import replace
    assert (lw.list_reward(replace(base, redundancy=1.0), req, lists) <= r0 + 1e-12).all()
    assert (lw.list_reward(replace(base, complement=1.0), req, lists) >= r0 - 1e-12).all()


def test_simulated_outcomes_have_the_model_means():
    world = lw.make_world(seed=0)
    req = lw.sample_requests(world, 1, 6, np.random.default_rng(0))
    req = lw.Requests(*(np.repeat(a, 20000, axis=0) for a in (req.users, req.contexts, req.items, req.categories)))
    lists = np.tile([0, 1, 2, 3], (20000, 1))
    clicks, buys = lw.simulate_outcomes(world, req, lists, np.random.default_rng(1))
    assert (buys <= clicks).all()
    mean = clicks.sum(1).mean() + world.buy_weight * buys.sum(1).mean()
    assert mean == pytest.approx(lw.list_reward(world, req, lists)[0], abs=0.05)


def test_shift_raises_only_the_trend_category():
    world = lw.make_world(seed=0)
    shifted = world.shifted()
    diff = shifted.cat_bias - world.cat_bias
    assert diff[world.trend_category] == pytest.approx(world.trend_boost)
    assert np.count_nonzero(diff) == 1


# ---------------------------------------------------------------------------------------------
# Generator (eq. 9.3)
# ---------------------------------------------------------------------------------------------
def test_generator_list_probabilities_sum_to_one(small):
    world, pipe, req, batch = small
    p = rr.list_probabilities(pipe.generator, batch.take(slice(0, 4)), lw.all_lists(6, world.k))
    np.testing.assert_allclose(p.sum(1).numpy(), 1.0, atol=1e-5)
    assert (p > 0).all()


def test_greedy_list_is_the_argmax_slot_by_slot_and_samples_follow_the_probabilities():
    rng = np.random.default_rng(0)
    batch = rr.make_batch(rng.normal(size=(1, 4, 3)), rng.normal(size=(1, 2)), k=2)
    gen = rr.Generator(3, 2, 2, hidden=8, seed=1)
    lists = lw.all_lists(4, 2)
    p = rr.list_probabilities(gen, batch, lists)[0].numpy()
    greedy = tuple(gen.greedy(batch)[0].tolist())
    first = {i: p[lists[:, 0] == i].sum() for i in range(4)}
    i0 = max(first, key=first.get)
    assert greedy[0] == i0
    second = [L for L in map(tuple, lists) if L[0] == i0]
    assert greedy == max(second, key=lambda L: p[lists.tolist().index(list(L))])
    drawn, logp = gen.sample(batch, 20000, torch.Generator().manual_seed(0))
    counts = np.zeros(len(lists))
    index = {tuple(L): n for n, L in enumerate(lists.tolist())}
    for L in drawn[0].tolist():
        counts[index[tuple(L)]] += 1
    np.testing.assert_allclose(counts / counts.sum(), p, atol=0.012)
    np.testing.assert_allclose(logp[0].detach().exp().numpy(), p[[index[tuple(L)] for L in drawn[0].tolist()]], rtol=1e-4)


def test_per_request_parameters_give_the_same_result_as_shared_ones(small):
    _, pipe, _, batch = small
    g = pipe.generator
    theta = {n: p.detach().unsqueeze(0).expand(len(batch), *p.shape).clone() for n, p in g.params().items()}
    assert torch.equal(g.greedy(batch), g.greedy(batch, params=theta))


# ---------------------------------------------------------------------------------------------
# LAST (eq. 9.4-9.5)
# ---------------------------------------------------------------------------------------------
def test_last_with_step_zero_is_the_generator(small):
    _, pipe, _, batch = small
    gen = rr.generator_lists(pipe.generator, pipe.evaluator, batch)
    assert np.array_equal(rr.last_serial(pipe.generator, pipe.evaluator, batch, 0.0).lists, gen.lists)
    assert np.array_equal(rr.last_parallel(pipe.generator, pipe.evaluator, batch, [0.0]).lists, gen.lists)
    assert np.array_equal(rr.generator_evaluator(pipe.generator, pipe.evaluator, batch, 0).lists, gen.lists)


def test_delta_theta_is_discarded(small):
    _, pipe, _, batch = small
    before = {n: p.detach().clone() for n, p in pipe.generator.params().items()}
    first = rr.generator_lists(pipe.generator, pipe.evaluator, batch).lists
    rr.last_serial(pipe.generator, pipe.evaluator, batch, 0.3, n_steps=3)
    rr.last_parallel(pipe.generator, pipe.evaluator, batch, [0, 0.1, 0.3])
    for n, p in pipe.generator.params().items():
        assert torch.equal(p, before[n]), n
    assert np.array_equal(rr.generator_lists(pipe.generator, pipe.evaluator, batch).lists, first)


def test_last_direction_matches_a_per_request_gradient(small):
    """The batched direction of request b equals the gradient computed for request b alone."""
    _, pipe, _, batch = small
    d = rr.last_direction(pipe.generator, pipe.evaluator, batch.take(slice(0, 3)), n_samples=8, seed=4)
    norms = torch.sqrt(sum(v.reshape(3, -1).pow(2).sum(1) for v in d.values()))
    np.testing.assert_allclose(norms.numpy(), 1.0, atol=1e-5)
    # request 1 alone, with the same sampled lists: one backward pass on its own surrogate
    one = batch.take(slice(0, 3))
    params = {n: p.detach().unsqueeze(0).expand(3, *p.shape).clone().requires_grad_(True)
              for n, p in pipe.generator.params().items()}
    lists, logp = pipe.generator.sample(one, 8, torch.Generator().manual_seed(4), params=params)
    scores = pipe.evaluator.score(one, lists)
    adv = scores[1] - scores[1].mean()
    grads = torch.autograd.grad((adv * logp[1]).mean(), list(params.values()))
    g = torch.cat([x[1].reshape(-1) for x in grads])
    want = g / g.norm()
    got = torch.cat([d[n][1].reshape(-1) for n in params])
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)


def test_last_offset_has_norm_alpha_theta_and_raises_the_surrogate():
    params, logp, scores = checks._small_case()
    theta = torch.cat([p.detach().reshape(-1) for p in params.values()])
    out = rr.last_offset(params, logp, scores, 0.01)
    delta = torch.cat([out[n].reshape(-1) for n in params]) - theta
    assert float(delta.norm()) == pytest.approx(0.01 * float(theta.norm()), rel=1e-5)
    # a small step along the gradient increases the surrogate (first order)
    params, logp, scores = checks._small_case()
    adv = scores - scores.mean()
    grads = torch.autograd.grad((adv * logp).mean(), list(params.values()))
    g = torch.cat([x.reshape(-1) for x in grads])
    assert float(g @ delta) > 0


def test_parallel_select_rule():
    s = torch.tensor([[1.0, 2.0, 2.0], [1.0, 1.05, 0.0], [3.0, 1.0, 2.0]])
    assert rr.parallel_select(s).tolist() == [1, 1, 0]
    assert rr.parallel_select(s, margin=0.1).tolist() == [1, 0, 0]


def test_parallel_alphas():
    assert rr.parallel_alphas(0.3, 4) == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_ge_and_last_do_not_lower_the_evaluator_score_of_the_generator(small):
    _, pipe, _, batch = small
    gen = rr.generator_lists(pipe.generator, pipe.evaluator, batch).scores
    assert (rr.generator_evaluator(pipe.generator, pipe.evaluator, batch, 8).scores >= gen - 1e-6).all()
    assert (rr.last_parallel(pipe.generator, pipe.evaluator, batch, [0, 0.05, 0.1]).scores >= gen - 1e-6).all()
    assert (rr.last_serial(pipe.generator, pipe.evaluator, batch, 0.05).scores >= gen - 1e-6).all()


def test_methods_are_deterministic(small):
    _, pipe, _, batch = small
    a = rr.last_parallel(pipe.generator, pipe.evaluator, batch, [0, 0.05, 0.1], seed=3)
    b = rr.last_parallel(pipe.generator, pipe.evaluator, batch, [0, 0.05, 0.1], seed=3)
    assert np.array_equal(a.lists, b.lists) and np.array_equal(a.scores, b.scores)


def test_biased_evaluator_adds_its_bonus(small):
    world, pipe, req, batch = small
    lists = np.tile(np.arange(world.k), (len(req), 1))
    biased = rr.BiasedEvaluator(pipe.evaluator, world.dim + 2, 0.5)
    n_cat = (req.categories[:, :world.k] == 2).sum(1)
    diff = (biased.score(batch, lists) - pipe.evaluator.score(batch, lists)).numpy()
    np.testing.assert_allclose(diff, 0.5 * n_cat, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Metrics and helpers
# ---------------------------------------------------------------------------------------------
def test_ndcg_vs_best_by_hand():
    best = np.array([[3, 1, 0]])
    assert rr.ndcg_vs_best(best, best)[0] == pytest.approx(1.0)
    ideal = 7 / 1 + 3 / np.log2(3) + 1 / 2
    assert rr.ndcg_vs_best(np.array([[1, 3, 5]]), best)[0] == pytest.approx((3 + 7 / np.log2(3)) / ideal)
    assert rr.ndcg_vs_best(np.array([[5, 6, 7]]), best)[0] == 0.0


def test_mean_ci():
    m, lo, hi = rr.mean_ci([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5 and hi - m == pytest.approx(1.96 * np.std([1, 2, 3, 4], ddof=1) / 2)


def test_refreshed_evaluator_is_a_copy(small):
    world, pipe, _, batch = small
    before = [p.clone() for p in pipe.evaluator.parameters()]
    fresh = rr.refresh_evaluator(pipe.evaluator, world.shifted(), 100, 6, seed=1, epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(before, pipe.evaluator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(before, fresh.parameters()))


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors(small):
    world, pipe, _, batch = small
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="k must be an integer in \\[1, 3\\]"):
        rr.make_batch(rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 2)), k=4)
    with pytest.raises(ValueError, match="at least one request and one candidate"):
        rr.make_batch(np.zeros((2, 0, 4)), rng.normal(size=(2, 2)), k=1)
    bad = rng.normal(size=(2, 3, 4))
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="item_features must be finite"):
        rr.make_batch(bad, rng.normal(size=(2, 2)), k=2)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        rr.last_serial(pipe.generator, pipe.evaluator, batch, -0.1)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        rr.last_parallel(pipe.generator, pipe.evaluator, batch, [0.0, float("nan")])
    with pytest.raises(ValueError, match="alpha_max must be > 0"):
        rr.parallel_alphas(0.0, 4)
    with pytest.raises(ValueError, match="alpha_max must be > 0"):
        rr.parallel_alphas(-1.0, 4)
    with pytest.raises(ValueError, match="n_candidates must be an integer >= 4"):
        lw.sample_requests(world, 3, 2, rng)
    with pytest.raises(ValueError, match="n_samples"):
        rr.last_direction(pipe.generator, pipe.evaluator, batch, n_samples=1)


# ---------------------------------------------------------------------------------------------
# Exercise checkers: pass the reference, reject plausible mistakes
# ---------------------------------------------------------------------------------------------
def _strict(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")


def test_check_last_offset(monkeypatch):
    _strict(monkeypatch)
    assert checks.check_last_offset(rr.last_offset).passed

    def no_baseline(params, log_probs, scores, alpha):
        grads = torch.autograd.grad((scores * log_probs).mean(), list(params.values()))
        gn = torch.sqrt(sum((g ** 2).sum() for g in grads))
        step = alpha * rr.param_norm(params) / gn
        return {n: params[n].detach() + step * g for n, g in zip(params, grads)}

    def unscaled(params, log_probs, scores, alpha):
        adv = scores - scores.mean()
        grads = torch.autograd.grad((adv * log_probs).mean(), list(params.values()))
        return {n: params[n].detach() + alpha * g for n, g in zip(params, grads)}

    def in_place(params, log_probs, scores, alpha):
        out = rr.last_offset(params, log_probs, scores, alpha)
        with torch.no_grad():
            for n in params:
                params[n].copy_(out[n])
        return params

    def descent(params, log_probs, scores, alpha):
        out = rr.last_offset(params, log_probs, scores, alpha)
        return {n: 2 * params[n].detach() - out[n] for n in params}

    for wrong, hint in ((no_baseline, "advantage"), (unscaled, "alpha \\* \\|\\|theta\\|\\|"),
                        (in_place, "in place"), (descent, "ascent")):
        res = checks.check_last_offset(wrong)
        assert res.status == "failed", wrong.__name__
        assert res.use is rr.last_offset


def test_check_parallel_select(monkeypatch):
    _strict(monkeypatch)
    assert checks.check_parallel_select(rr.parallel_select).passed
    assert checks.check_parallel_select(lambda s, margin: torch.as_tensor(s).argmax(1)).status == "failed"

    def last_max(s, margin):
        s = torch.as_tensor(s)
        flipped = s.flip(1).argmax(1)
        return s.shape[1] - 1 - flipped

    assert checks.check_parallel_select(last_max).status == "failed"
    assert checks.check_parallel_select(lambda s, m: torch.zeros(len(s), dtype=torch.long)).status == "failed"


def test_listwise_users_follow_the_shared_click_model_protocol():
    from course_lib.sim.clicks import ListwiseClickModel

    world = lw.make_world(seed=0)
    req = lw.sample_requests(world, 5, 6, np.random.default_rng(0))
    users = lw.ListwiseUsers(world, req)
    assert isinstance(users, ListwiseClickModel)
    slates = np.tile([3, 1, 0, 2], (5, 1))
    p = users.click_probabilities(slates)
    assert p.shape == (5, 4) and ((0 < p) & (p < 1)).all()
    # expected clicks plus weighted purchases add up to eq. 9.2
    rng = np.random.default_rng(1)
    assert users.clicks(slates, rng).shape == (5, 4)
    assert (p.sum(1) <= lw.list_reward(world, req, slates) + 1e-12).all()
