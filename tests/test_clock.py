"""Unit tests of course_lib.clock (lesson 05) and its world, course_lib.sim.rhythms."""

import math

import numpy as np
import pytest

from course_lib import clock as ck
from course_lib.metrics import auc, hit_rate_at_k
from course_lib.notebook.checks import lesson05 as checks
from course_lib.sim.rhythms import make_rhythm_world


# --------------------------------------------------------------------------- circular hours and weights

def test_gaussian_weights_match_the_paper_to_its_precision():
    w = ck.gaussian_weights(1.0)
    # the paper: distances 0, 1, 2, 3 weigh about 0.40, 0.24, 0.054, 0.004
    assert round(w[0], 2) == 0.40 and round(w[1], 2) == 0.24
    assert round(w[2], 3) == 0.054 and round(w[3], 3) == 0.004
    # three decimals: 0.399, 0.242, 0.054, 0.004 (the normal density, renormalised over 24 hours)
    assert np.allclose(np.round(w[:4], 3), [0.399, 0.242, 0.054, 0.004])
    pdf = np.array([math.exp(-d * d / 2) / math.sqrt(2 * math.pi) for d in range(4)])
    assert np.allclose(w[:4], pdf, rtol=1e-4)        # normalising over 24 hours barely changes sigma = 1


def test_weight_matrix_rows_sum_to_one_and_are_rotations():
    for sigma in (0.5, 1.0, 3.0):
        W = ck.weight_matrix(sigma)
        assert np.allclose(W.sum(axis=1), 1.0)
        assert np.allclose(W, W.T)
        for h in range(24):
            assert np.allclose(W[h], np.roll(W[0], h))


def test_circular_distance_is_symmetric_and_wraps():
    h = np.arange(24)
    D = ck.circular_distance(h[:, None], h[None, :])
    assert np.array_equal(D, D.T)
    assert ck.circular_distance(23, 0) == 1 and ck.circular_distance(0, 23) == 1
    assert ck.circular_distance(22, 2) == 4 and ck.circular_distance(0, 12) == 12
    assert D.max() == 12 and np.all(np.diag(D) == 0)
    assert ck.circular_distance(23.5, 0.25) == pytest.approx(0.75)


def test_read_clock_vectorised_equals_the_brute_force_loop():
    rng = np.random.default_rng(0)
    counts = rng.poisson(1.0, size=(20, 24, 5)).astype(float)
    hours = rng.integers(0, 24, size=20)
    for sigma in (0.5, 1.0, 2.5):
        assert np.allclose(ck.read_clock(counts, hours, sigma), ck.read_clock_loop(counts, hours, sigma))


def test_read_clock_top_k_keeps_the_largest_per_hour():
    counts = np.zeros((1, 24, 3))
    counts[0, 5] = [3, 1, 2]
    got = ck.read_clock(counts, [5], 1.0, top_k=1)[0]
    assert got[1] == 0 and got[2] == 0 and got[0] == pytest.approx(3 * ck.gaussian_weights(1.0)[0])


# --------------------------------------------------------------------------- the clock's state

def _events(n=400, users=5, C=4, days=10, seed=1):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, days * 24, n))
    return rng.integers(0, users, n), np.floor(t % 24).astype(int), rng.integers(0, C, n), t


def test_interest_clock_counts_match_a_dictionary_of_the_window():
    u, h, c, t = _events()
    clock = ck.InterestClock(5, 4, window_days=3)
    for a in range(0, len(u), 37):                        # uneven batches
        clock.update(u[a:a + 37], h[a:a + 37], c[a:a + 37], t[a:a + 37])
    now = t[-1]
    inside = t >= now - 3 * 24
    want = np.zeros((5, 24, 4))
    np.add.at(want, (u[inside], h[inside], c[inside]), 1)
    assert np.array_equal(clock.counts, want)
    assert clock.memory_bytes() == clock.counts.nbytes + 12 * inside.sum()


def test_interest_clock_without_window_keeps_everything_and_reads_match():
    u, h, c, t = _events()
    clock = ck.InterestClock(5, 4, window_days=None).update(u, h, c, t)
    want = np.zeros((5, 24, 4))
    np.add.at(want, (u, h, c), 1)
    assert np.array_equal(clock.counts, want)
    assert np.allclose(clock.read([2, 3], [0, 23]), ck.read_clock(want[[2, 3]], [0, 23], 1.0))


def test_bucket_clock_batch_equals_one_event_at_a_time():
    u, h, c, t = _events(n=300)
    one = ck.BucketClock(5, 4, alpha=0.3, decay=0.9, decay_every=24)
    for i in range(len(u)):
        one.update(u[i:i + 1], h[i:i + 1], c[i:i + 1], t[i:i + 1])
    # the global decay is applied at the end of a batch instead of between its events: compare a
    # stream whose batches never straddle a day boundary
    days = np.floor(t / 24)
    by_day = ck.BucketClock(5, 4, alpha=0.3, decay=0.9, decay_every=24)
    for d in np.unique(days):
        s = days == d
        by_day.update(u[s], h[s], c[s], t[s])
    assert np.allclose(by_day.buckets, one.buckets, atol=1e-6)


def test_bucket_running_average_and_decay_by_hand():
    b = ck.BucketClock(1, 2, alpha=0.5, decay=0.5, decay_every=24)
    b.update([0, 0], [3, 3], [0, 1], [1.0, 2.0])          # 0.5 e0, then 0.25 e0 + 0.5 e1
    assert np.allclose(b.read([0], [3])[0], [0.25, 0.5])
    b.update([0], [4], [1], [49.0])                        # two days later: decay 0.5^2 first
    assert np.allclose(b.read([0], [3])[0], [0.0625, 0.125])


def test_user_profile_decay_halves_at_the_half_life():
    p = ck.UserProfile(2, 3, half_life=10.0)
    p.update([0], [0], [1], [0.0])
    p.update([1], [0], [2], [10.0])
    assert np.allclose(p.read([0, 1]), [[0, 0.5, 0], [0, 0, 1]])
    plain = ck.UserProfile(2, 3).update([0, 0, 1], [1, 2, 3], [1, 1, 0], [0.0, 5.0, 9.0])
    assert np.array_equal(plain.read([0, 1]), [[0, 2, 0], [1, 0, 0]])


def test_progressive_read_never_sees_the_event_it_predicts():
    u, h, c, t = _events(n=200, users=3)
    ev = ck.progressive_read({"clock": ck.InterestClock(3, 4, None)}, u, h, c, t)["clock"]
    # the first event of every user sees an empty clock
    first = np.unique(u, return_index=True)[1]
    assert np.all(ev[first] == 0)
    # the total evidence equals the weighted count of strictly earlier batches
    W = ck.weight_matrix(1.0)
    batch = np.floor(t).astype(int)
    for i in (50, 120, 199):
        earlier = (batch < batch[i]) & (u == u[i])
        want = np.bincount(c[earlier], weights=W[h[i], h[earlier]], minlength=4)
        assert np.allclose(ev[i], want, atol=1e-5)


def test_state_dict_round_trip():
    u, h, c, t = _events()
    a = ck.InterestClock(5, 4, 3).update(u[:200], h[:200], c[:200], t[:200])
    b = ck.InterestClock(5, 4, 3).load_state_dict(a.state_dict())
    a.update(u[200:], h[200:], c[200:], t[200:])
    b.update(u[200:], h[200:], c[200:], t[200:])
    assert np.array_equal(a.counts, b.counts)


# --------------------------------------------------------------------------- evaluation helpers

def test_rank_hits_and_request_auc_agree_with_course_metrics():
    rng = np.random.default_rng(3)
    scores = rng.random((300, 8))
    y = rng.integers(0, 8, 300)
    rel = np.eye(8)[y]
    assert ck.rank_hits(scores, y, 3).mean() == pytest.approx(hit_rate_at_k(rel, scores, 3))
    r = ck.request_auc(scores, y)
    for i in range(5):
        assert r[i] == pytest.approx(auc(rel[i], scores[i]))


def test_user_bootstrap_interval_covers_the_mean_and_is_paired():
    rng = np.random.default_rng(4)
    users = rng.integers(0, 200, 5000)
    values = rng.random(5000) + (users % 2)
    mean, lo, hi = ck.user_bootstrap_ci(values, users, 500, seed=1)
    assert lo < mean < hi and mean == pytest.approx(values.mean())
    m2, lo2, hi2 = ck.user_bootstrap_ci(np.stack([values, values], 1), users, 500, seed=1)
    assert np.allclose(m2, mean) and np.allclose(lo2, lo) and np.allclose(hi2, hi)


def test_total_variation_bounds():
    p = np.array([[1.0, 0, 0], [0.5, 0.5, 0]])
    assert np.allclose(ck.total_variation(p, p), 0)
    assert np.allclose(ck.total_variation(p, p[:, ::-1]), [1.0, 0.5])


def test_ranker_features_layout():
    X = ck.ranker_features([1, 0], [23, 5], n_users=2, n_categories=3, hour_feature=True,
                           dense=np.arange(6.0).reshape(2, 3))
    assert X.shape == (6, 3 + 72 + 6 + 1)
    row = X[4].toarray()[0]            # event 1 (user 0, hour 5), candidate 1
    assert row[1] == 1 and row[3 + 5 * 3 + 1] == 1 and row[75 + 0 * 3 + 1] == 1 and row[-1] == 4.0


# --------------------------------------------------------------------------- the world

def test_world_truth_is_a_distribution_and_generates_the_events():
    w = make_rhythm_world(400, 20, seed=2)
    assert np.allclose(w.pref.sum(axis=-1), 1)
    assert np.all(np.diff(w.time) >= 0)
    assert np.array_equal(w.hour, np.floor(w.time % 24))
    # empirical category frequencies follow the truth (chi-square-sized tolerance)
    p = w.true_p(w.user, w.hour, w.day)
    assert np.abs(np.bincount(w.category, minlength=8) / w.n_events - p.mean(axis=0)).max() < 0.01
    assert 0 < (w.rate < 0.5).mean() < 0.5
    again = make_rhythm_world(400, 20, seed=2)
    assert np.array_equal(again.category, w.category)


def test_shifted_users_change_truth_only_after_the_shift():
    w = make_rhythm_world(200, 20, seed=3, shift_fraction=0.5)
    s = np.flatnonzero(w.shifted)[:5]
    before = w.true_p(s, np.full(5, 8), np.full(5, 3))
    after = w.true_p(s, np.full(5, 8), np.full(5, 17))          # both weekdays (day % 7 < 5)
    assert not np.allclose(before, after)
    steady = np.flatnonzero(~w.shifted)[:5]
    assert np.allclose(w.true_p(steady, np.full(5, 8), np.full(5, 3)),
                       w.true_p(steady, np.full(5, 8), np.full(5, 17)))


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, match", [
    (lambda: ck.gaussian_weights(0), "sigma"),
    (lambda: ck.gaussian_weights(-1), "sigma"),
    (lambda: ck.circular_distance(24, 0), "hour"),
    (lambda: ck.circular_distance(-1, 0), "hour"),
    (lambda: ck.read_clock(np.zeros((1, 24, 3)), [25]), "hour"),
    (lambda: ck.read_clock(-np.ones((1, 24, 3)), [2]), "counts must be >= 0"),
    (lambda: ck.read_clock(np.zeros((1, 12, 3)), [2]), "shape"),
    (lambda: ck.InterestClock(3, 2).update([5], [1], [0], [1.0]), "unknown user 5"),
    (lambda: ck.InterestClock(3, 2).update([0], [7.5], [0], [1.0]), "whole hours"),
    (lambda: ck.InterestClock(3, 2).update([0], [1], [2], [1.0]), "categories"),
    (lambda: ck.InterestClock(3, 2).update([0, 1], [1, 1], [0, 0], [2.0, 1.0]), "time order"),
    (lambda: ck.InterestClock(3, 2, window_days=0), "window_days"),
    (lambda: ck.InterestClock(3, 2, sigma=0), "sigma"),
    (lambda: ck.InterestClock(3, 2).read([3], [1]), "users"),
    (lambda: ck.BucketClock(3, 2, alpha=1.5), "alpha"),
    (lambda: ck.UserProfile(3, 2, half_life=-1), "half_life"),
    (lambda: ck.backoff_distribution(np.ones((1, 2)), [0.5, 0.5], 0), "strength"),
])
def test_bad_input_raises_a_clear_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --------------------------------------------------------------------------- exercise checkers

def test_weights_checker_passes_the_reference_and_rejects_mistakes():
    assert checks.check_hour_weights(checks.hour_weights).passed

    def no_wrap(hour, sigma=1.0):
        d = np.abs(hour - np.arange(24))
        g = np.exp(-d**2 / (2 * sigma**2))
        return g / g.sum()

    def unnormalised(hour, sigma=1.0):
        d = ck.circular_distance(hour, np.arange(24))
        return np.exp(-d**2 / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma)

    def sigma_not_squared(hour, sigma=1.0):
        d = ck.circular_distance(hour, np.arange(24))
        g = np.exp(-d**2 / (2 * sigma))
        return g / g.sum()

    for wrong, hint in [(no_wrap, "wrap"), (unnormalised, "sum"), (sigma_not_squared, "sigma")]:
        with pytest.raises(AssertionError, match=hint):
            checks._check_weights(wrong)


def test_read_checker_passes_the_reference_and_rejects_mistakes():
    assert checks.check_read_hour(checks.read_hour).passed

    def bucket_only(clock, hour, sigma=1.0, top_k=None):
        return np.asarray(clock, dtype=float)[hour]

    def ignores_top_k(clock, hour, sigma=1.0, top_k=None):
        return checks.hour_weights(hour, sigma) @ np.asarray(clock, dtype=float)

    def in_place(clock, hour, sigma=1.0, top_k=None):
        if top_k is not None:
            order = np.argsort(-clock, axis=1)
            np.put_along_axis(clock, order[:, top_k:], 0.0, axis=1)
        return checks.hour_weights(hour, sigma) @ clock

    for wrong, hint in [(bucket_only, "borrow"), (ignores_top_k, "top_k"), (in_place, "in place")]:
        with pytest.raises(AssertionError, match=hint):
            checks._check_read(wrong)


def test_read_checker_accepts_any_tie_breaking_for_top_k():
    # the exercise does not say how to break ties between equal counts, so the checker must not care
    def keeps_ties(clock, hour, sigma=1.0, top_k=None):
        c = np.asarray(clock, dtype=float)
        if top_k is not None:
            kth = -np.sort(-c, axis=1)[:, top_k - 1:top_k]
            c = np.where(c >= kth, c, 0.0)
        return checks.hour_weights(hour, sigma) @ c

    def last_of_ties(clock, hour, sigma=1.0, top_k=None):
        c = np.asarray(clock, dtype=float)
        if top_k is not None:
            order = np.argsort(-c[:, ::-1], axis=1, kind="stable")[:, :top_k]
            keep = np.zeros(c.shape, dtype=bool)
            np.put_along_axis(keep, c.shape[1] - 1 - order, True, axis=1)
            c = np.where(keep, c, 0.0)
        return checks.hour_weights(hour, sigma) @ c

    checks._check_read(keeps_ties)
    checks._check_read(last_of_ties)
