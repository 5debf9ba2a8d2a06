"""Lesson 08 components: events and dead letters, trainer paths, checkpoints, Redis model store, serving."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest

from course_lib.contextual import LinUCB
from course_lib.streaming.events import REASONS, DeadLetter, decode_event, encode_event, encode_events, make_events
from course_lib.streaming.kafka_log import EventLog
from course_lib.streaming.model_store import _alive, ModelStore, SplitKeyStore, pack_model, start_redis, unpack_model, Model
from course_lib.streaming.serving import Scorer, ucb_scores
from course_lib.streaming.trainer import (Trainer, TrainerState, fast_path, load_checkpoint, refresh_model,
                                          save_checkpoint)
from course_lib.streaming import trainer_process


@pytest.fixture(scope="module")
def redis_server():
    server = start_redis()
    keep = server.client()  # an open connection must not keep the server alive after close()
    pid = server.pid
    assert server.embedded and pid, "the embedded redis-server did not report its pid"
    yield server
    server.close()
    assert not _alive(pid), "redis-server still running after close()"
    del keep


@pytest.fixture(scope="module")
def kafka():
    log = EventLog.start()
    yield log
    log.close()


# --- events and dead letters

def _good(**over):
    e = {"id": 1, "ts": 1.0, "user": 2, "arm": 3, "p": 0.5, "r": 1, "x": [0.1, 0.2, 0.3]}
    e.update(over)
    return json.dumps(e).encode()


def test_round_trip_of_an_event():
    raw = encode_event(7, 1.5, 3, 2, 0.25, 1, [1.0, -2.0, 0.5])
    assert decode_event(raw, n_arms=4, n_features=3) == (7, 2, 1.0, [1.0, -2.0, 0.5])


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "malformed"),
    (b"[1, 2]", "malformed"),
    (json.dumps({"id": 1}).encode(), "missing_field"),
    (_good(id=-1), "bad_id"),
    (_good(id="7"), "bad_id"),
    (_good(arm=10), "unknown_arm"),
    (_good(arm=-1), "unknown_arm"),
    (_good(arm=1.0), "unknown_arm"),
    (_good(r=0.5), "bad_reward"),
    (_good(r=2), "bad_reward"),
    (_good(r=True), "bad_reward"),
    (_good(p=0), "bad_propensity"),
    (_good(p=1.5), "bad_propensity"),
    (_good(x=[0.1, 0.2]), "wrong_width"),
    (_good(x="abc"), "wrong_width"),
    (b'{"id": 1, "ts": 1, "user": 2, "arm": 3, "p": 0.5, "r": 1, "x": [0.1, NaN, 0.3]}', "non_finite_context"),
    (_good(x=[0.1, "a", 0.3]), "non_finite_context"),
])
def test_bad_events_become_dead_letters_with_their_reason(raw, reason):
    out = decode_event(raw, n_arms=5, n_features=3)
    assert isinstance(out, DeadLetter) and out.reason == reason and out.reason in REASONS
    assert json.loads(out.to_json(2, 9))["reason"] == reason


def test_trainer_counts_dead_letters_and_learns_the_rest():
    t = Trainer(5, 3, refresh_every=0)
    values = [_good(id=0), _good(arm=9), b"\xff\xfe", _good(id=1, r=0), _good(x=[1, 2])]
    dead = t.handle(values)
    assert [i for i, _ in dead] == [1, 2, 4]
    assert t.state.dead["unknown_arm"] == 1 and t.state.dead["malformed"] == 1 and t.state.dead["wrong_width"] == 1
    assert t.state.n_events == 2 and t.state.n[3] == 2
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(t.state.A[3], np.eye(3) + 2 * np.outer(x, x))
    np.testing.assert_allclose(t.state.b[3], x)


# --- trainer against lesson 03's LinUCB

def test_fast_and_slow_path_equal_linucb():
    ev = make_events(3000, 7, 5, seed=3)
    t = Trainer(7, 5, refresh_every=0)
    t.learn(ev["arm"], ev["r"], ev["x"])
    A_inv, theta = t.refresh()
    ref = LinUCB(7, 5, alpha=1.0).partial_fit(ev["arm"], ev["r"], ev["x"])
    np.testing.assert_allclose(A_inv, ref.A_inv, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(theta, ref.theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(t.state.n, ref.counts)


def test_fast_path_is_a_sum_of_rank_one_terms_by_hand():
    s = TrainerState.fresh(2, 2, l2_lambda=2.0)
    fast_path(s, np.array([1, 1, 0]), np.array([1.0, 0.0, 1.0]), np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(s.A[1], [[2 + 1 + 9, 2], [2, 2 + 4]])
    np.testing.assert_array_equal(s.b[1], [1.0, 2.0])
    np.testing.assert_array_equal(s.A[0], [[2, 0], [0, 3]])
    np.testing.assert_array_equal(s.n, [1, 2])


def test_refresh_every_n_events_and_every_t_ms(monkeypatch):
    calls = []
    t = Trainer(3, 2, refresh_every=10, on_refresh=lambda A_inv, theta, s: calls.append(s.n_events))
    ev = make_events(35, 3, 2, seed=0)
    for i in range(35):
        t.learn(ev["arm"][i:i + 1], ev["r"][i:i + 1], ev["x"][i:i + 1])
    assert calls == [10, 20, 30]
    t2 = Trainer(3, 2, refresh_every=0, refresh_ms=5.0)
    t2.last_refresh -= 1.0  # 1 s ago
    t2.learn(ev["arm"][:1], ev["r"][:1], ev["x"][:1])
    assert t2.n_refreshes == 1


def test_trainer_validates_its_parameters():
    with pytest.raises(ValueError, match="n_arms"):
        Trainer(0, 3)
    with pytest.raises(ValueError, match="refresh_every"):
        Trainer(2, 3, refresh_every=-1)
    with pytest.raises(ValueError, match="l2_lambda"):
        TrainerState.fresh(2, 3, l2_lambda=0)


# --- checkpoints

def test_checkpoint_round_trip_keeps_state_and_offsets(tmp_path):
    s = TrainerState.fresh(4, 3, audit_size=10)
    ev = make_events(10, 4, 3, seed=1)
    fast_path(s, ev["arm"], ev["r"], ev["x"], ev["id"])
    s.dead["bad_reward"] = 3
    save_checkpoint(tmp_path / "c.npz", s, {0: 5, 3: 11})
    ck = load_checkpoint(tmp_path / "c.npz")
    assert ck.offsets == {0: 5, 3: 11} and ck.state.dead["bad_reward"] == 3
    for k, v in s.arrays().items():
        np.testing.assert_array_equal(ck.state.arrays()[k], v)
    assert load_checkpoint(tmp_path / "none.npz") is None


def test_a_crash_while_writing_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    s = TrainerState.fresh(2, 2)
    save_checkpoint(tmp_path / "c.npz", s, {0: 1})

    def boom(*a, **k):
        raise OSError("disk died mid-write")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "c.npz", s, {0: 99})
    assert load_checkpoint(tmp_path / "c.npz").offsets == {0: 1}


# --- model store on a real Redis

def test_pack_unpack_round_trip():
    rng = np.random.default_rng(0)
    m = Model(4, rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 2)), 0.7, 99)
    u = unpack_model(pack_model(m))
    assert (u.version, u.alpha, u.n_events) == (4, 0.7, 99)
    np.testing.assert_array_equal(u.A_inv, m.A_inv)
    np.testing.assert_array_equal(u.theta, m.theta)


def test_it_is_a_real_redis(redis_server):
    info = redis_server.client().info("server")
    assert "redis_version" in info and info["redis_version"].split(".")[0] >= "6"


def test_publish_load_and_keep_last_versions(redis_server):
    store = ModelStore(redis_server.client(), prefix="t1", keep=2)
    assert store.load() is None
    for v in range(1, 5):
        assert store.publish(np.full((2, 3, 3), v), np.full((2, 3), v), 1.0) == v
    assert store.latest_version() == 4 and store.load().theta[0, 0] == 4
    assert store.load(2) is None and store.load(3).theta[0, 0] == 3


def _race(server, store_class, n_publish: int, k=50, d=13) -> tuple[int, int]:
    """Publisher writes versions whose arrays are all equal to the version; reader counts mixed reads."""
    stop = threading.Event()
    reads, mixed = [0], [0]
    prefix = store_class.__name__
    store = store_class(server.client(), prefix=prefix)
    reader_store = store_class(server.client(), prefix=prefix)  # its own connection

    def reader():
        while not stop.is_set():
            m = reader_store.load()
            if m is None:
                continue
            reads[0] += 1
            versions = {float(m.theta[0, 0]), float(m.theta[-1, -1]), float(m.A_inv[0, 0, 0]),
                        float(m.A_inv[-1, -1, -1]), float(m.version), float(getattr(m, "A_inv_version", m.version))}
            mixed[0] += len(versions) > 1

    th = threading.Thread(target=reader)
    th.start()
    try:
        for v in range(1, n_publish + 1):
            store.publish(np.full((k, d, d), float(v)), np.full((k, d), float(v)), 1.0)
    finally:
        stop.set()
        th.join()
    return reads[0], mixed[0]


def test_publish_never_moves_the_pointer_backwards(redis_server):
    store = ModelStore(redis_server.client(), prefix="cas")
    A_inv, theta = np.stack([np.eye(2)] * 3), np.ones((3, 2))
    assert store.publish(A_inv, theta, 1.0) == 1 and store.latest_version() == 1
    store.r.set("cas:latest", 5)          # a faster publisher already moved it to version 5
    assert store.publish(A_inv, theta, 1.0) == 2
    assert store.latest_version() == 5    # the overtaken version 2 does not move serving back
    store.r.set("cas:counter", 5)
    assert store.publish(A_inv, theta, 1.0) == 6 and store.latest_version() == 6


def test_racing_reader_never_sees_a_mixed_version(redis_server):
    reads, mixed = _race(redis_server, ModelStore, 400)
    assert reads > 50 and mixed == 0


def test_split_keys_store_does_show_mixed_versions(redis_server):
    # the negative control: the same race against the non-atomic design must catch mixes
    reads, mixed = _race(redis_server, SplitKeyStore, 400)
    assert reads > 50 and mixed > 0


# --- serving

def test_serving_propensities():
    class FakeStore:
        def __init__(self, m):
            self.m = m

        def latest_version(self):
            return self.m.version

        def load(self, v=None):
            return self.m
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    m = Model(1, np.broadcast_to(np.eye(2), (3, 2, 2)).copy(), theta, 0.0)
    x = np.array([1.0, 0.2])
    rec = Scorer(FakeStore(m)).recommend(x, k=2)
    assert list(rec.arms) == [0, 2] and rec.propensity == 1.0
    sc = Scorer(FakeStore(m), epsilon=0.3)
    rng = np.random.default_rng(0)
    firsts = np.array([sc.recommend(x, 1, rng).arms[0] for _ in range(6000)])
    np.testing.assert_allclose(np.bincount(firsts, minlength=3) / 6000, [0.8, 0.1, 0.1], atol=0.02)
    with pytest.raises(ValueError, match="x must be"):
        sc.recommend([1.0, np.nan], 1, rng)
    with pytest.raises(ValueError, match="rng"):
        sc.recommend(x, 1)


def test_serving_propensity_matches_the_arm_shown():
    class FakeStore:
        def __init__(self, m):
            self.m = m

        def latest_version(self):
            return 1

        def load(self, v=None):
            return self.m
    m = Model(1, np.broadcast_to(np.eye(2), (4, 2, 2)).copy(), np.arange(8.0).reshape(4, 2), 0.0)
    sc = Scorer(FakeStore(m), epsilon=0.2)
    for s in range(200):
        rec = sc.recommend(np.array([1.0, 1.0]), 2, np.random.default_rng(s))
        expected = 0.2 / 4 + 0.8 * (rec.arms[0] == 3)
        assert rec.propensity == pytest.approx(expected)


# --- end to end: events through Kafka, a trainer process, Redis, serving == lesson 03's LinUCB

def test_end_to_end_recommendations_equal_single_process_linucb(kafka, redis_server, tmp_path):
    K, d, n, alpha = 12, 6, 4000, 0.8
    ev = make_events(n, K, d, seed=5)
    values = encode_events(ev["id"], ev["ts"], ev["user"], ev["arm"], ev["p"], ev["r"], ev["x"])
    bad = [b"garbage", _good(arm=99), encode_event(n + 1, 0.0, 1, 2, 0.5, 0.5, np.zeros(d))]
    kafka.produce("e2e", values[:2000] + bad + values[2000:], keys=list(ev["user"][:2000]) + [0, 0, 0]
                  + list(ev["user"][2000:]))
    state = trainer_process.run(kafka.bootstrap, "e2e", tmp_path, K, d, checkpoint_every=500)
    assert state.n_events == n and sum(state.dead.values()) == 3
    dlq = [json.loads(v) for v in kafka.read_all("e2e.dlq")]
    assert sorted(m["reason"] for m in dlq) == ["bad_reward", "malformed", "unknown_arm"]
    store = ModelStore(redis_server.client(), prefix="e2e")
    A_inv, theta = refresh_model(state)
    store.publish(A_inv, theta, alpha, state.n_events)
    ref = LinUCB(K, d, alpha=alpha).partial_fit(ev["arm"], ev["r"], ev["x"])
    contexts = make_events(300, K, d, seed=99)["x"]
    scorer = Scorer(store)
    ours = np.array([scorer.recommend(x, k=3).arms for x in contexts])
    np.testing.assert_array_equal(ours, ref.predict(contexts, k=3))
    np.testing.assert_allclose([ucb_scores(scorer.model(), x) for x in contexts[:20]],
                               ref.predict_expectations(contexts[:20]), rtol=1e-9, atol=1e-12)


def test_redis_url_is_used_when_set(redis_server, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    other = start_redis()
    assert not other.embedded and other.url == redis_server.url
    other.close()  # does not stop a server it did not start
    assert redis_server.client().ping()


# --- exercise checkers

from course_lib.notebook.checks import lesson08 as checks  # noqa: E402


def test_checkers_pass_the_references(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    assert checks.check_save_checkpoint(save_checkpoint).passed
    assert checks.check_apply_once(checks.apply_once).passed


def _direct_write(path, state, offsets):
    arrays = dict(state.arrays())
    arrays["offsets"] = np.array(sorted(offsets.items()), dtype=np.int64).reshape(-1, 2)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _no_fsync(path, state, offsets):
    arrays = dict(state.arrays())
    arrays["offsets"] = np.array(sorted(offsets.items()), dtype=np.int64).reshape(-1, 2)
    with open(f"{path}.tmp", "wb") as f:
        np.savez(f, **arrays)
    os.replace(f"{path}.tmp", path)


def _offsets_elsewhere(path, state, offsets):
    np.savez(open(path, "wb"), **state.arrays(), offsets=np.zeros((0, 2), dtype=np.int64))
    with open(f"{path}.offsets.json", "w") as f:
        json.dump({str(k): v for k, v in offsets.items()}, f)


def _within_batch_duplicates(state, ids, arms, rewards, X, seen):
    new = np.array([e not in seen for e in ids.tolist()])
    seen.update(ids.tolist())
    fast_path(state, arms[new], rewards[new], X[new], ids[new])
    return int(new.sum())


def _forgets_seen(state, ids, arms, rewards, X, seen):
    _, first = np.unique(ids, return_index=True)
    fast_path(state, arms[first], rewards[first], X[first], ids[first])
    return len(first)


@pytest.mark.parametrize("wrong, hint", [(_direct_write, "temporary"), (_offsets_elsewhere, "offsets"),
                                         (_no_fsync, "fsync")])
def test_checkpoint_checker_rejects(monkeypatch, wrong, hint):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    res = checks.check_save_checkpoint(wrong)
    assert res.status == "failed" and hint in res.message


@pytest.mark.parametrize("wrong, hint", [(_within_batch_duplicates, "same batch"), (_forgets_seen, "earlier batch")])
def test_apply_once_checker_rejects(monkeypatch, wrong, hint):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")
    res = checks.check_apply_once(wrong)
    assert res.status == "failed" and hint in res.message


def test_checkers_report_unsolved(monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_VARIANT", "notebooks")

    def stub(*args):
        raise NotImplementedError()
    assert checks.check_save_checkpoint(stub).status == "unsolved"
    assert checks.check_apply_once(stub).status == "unsolved"


# --- delayed feedback

from course_lib.streaming.delayed import join_within, observed_click_rate, simulate_delayed_clicks  # noqa: E402


def test_join_within_by_hand():
    delays = np.array([1.0, 5.0, np.inf, 0.0])
    np.testing.assert_array_equal(join_within(delays, 2.0), [1, 0, 0, 1])
    np.testing.assert_array_equal(join_within(delays, [0.5, 10.0]), [[0, 0, 0, 1], [1, 1, 0, 1]])


def test_observed_click_rate_matches_monte_carlo():
    rng = np.random.default_rng(0)
    delays = simulate_delayed_clicks(0.2, 30.0, 200_000, rng)
    windows = np.array([5.0, 30.0, 120.0])
    mc = join_within(delays, windows).mean(axis=1)
    se = np.sqrt(mc * (1 - mc) / len(delays))
    assert np.all(np.abs(mc - observed_click_rate(0.2, 30.0, windows)) < 4 * se)
    assert observed_click_rate(0.2, 30.0, 0.0) == 0.0
    with pytest.raises(ValueError, match="mean_delay_s"):
        observed_click_rate(0.2, 0.0, 1.0)


# --- feature store

from course_lib.streaming.feature_store import FeatureStore  # noqa: E402


def test_feature_store_sliding_window_by_hand(redis_server):
    fs = FeatureStore(redis_server.client(), window_s=15.0, prefix="fs-hand")
    fs.update([1, 2, 3, 4], users=[7, 7, 7, 8], ts=[0.0, 10.0, 20.0, 20.0], rewards=[0, 1, 0, 1])
    assert fs.read(7, now=20.0) == (2, 1)      # ts 10 and 20 are in (5, 20]; the click at 10
    assert fs.read(7, now=26.0) == (1, 0)      # (11, 26]: only the view at 20
    assert fs.read(8, now=20.0) == (1, 1)
    assert fs.read(9, now=20.0) == (0, 0)      # unknown user


def test_feature_store_replay_does_not_double_count(redis_server):
    fs = FeatureStore(redis_server.client(), window_s=100.0, prefix="fs-replay")
    batch = dict(ids=[1, 2, 3], users=[5, 5, 5], ts=[1.0, 2.0, 3.0], rewards=[1, 0, 1])
    fs.update(**batch)
    fs.update(**batch)                          # a replay after a crash
    assert fs.read(5, now=3.0) == (3, 2)


def test_feature_store_trims_old_entries(redis_server):
    r = redis_server.client()
    fs = FeatureStore(r, window_s=10.0, prefix="fs-trim")
    fs.update(range(100), users=[1] * 100, ts=np.arange(100.0), rewards=[0] * 100)
    assert r.zcard("fs-trim:1:views") == 11     # ts 89..99 kept: older than 99 - 10 trimmed
    assert 0 < r.ttl("fs-trim:1:views") <= 20
    with pytest.raises(ValueError, match="window_s"):
        FeatureStore(r, window_s=0)


# --- safe online learner (equation RB) ---------------------------------------------------------

from course_lib.streaming.canary import canary_users, run_canary  # noqa: E402
from course_lib.streaming.safe import (SafeLearner, holdout_users, log_loss, run_scenario,  # noqa: E402
                                       simulate_stream)


def test_log_loss_by_hand():
    assert log_loss(np.array([0.5, 0.9]), np.array([1.0, 0.0])) == pytest.approx([np.log(2), -np.log(0.1)])


def test_holdout_is_a_fixed_share_of_users_and_never_trained_on():
    users = np.arange(20_000)
    assert holdout_users(users, 0.2).mean() == pytest.approx(0.2, abs=0.01)
    assert (holdout_users(users, 0.2) == holdout_users(users, 0.2)).all()
    s = simulate_stream(6000, seed=3)
    learner = SafeLearner(5, 4, check_every=6000)
    learner.learn(s["user"], s["arm"], s["r"], s["x"])
    assert learner.held_out == holdout_users(s["user"], 0.2).sum()
    assert learner.trained + learner.held_out == 6000
    # training only on the non-holdout events, batch by batch, gives the same weights
    keep = ~holdout_users(s["user"], 0.2)
    ref = SafeLearner(5, 4, check_every=6000)
    for i in range(0, 6000, 100):
        sl = slice(i, i + 100)
        k = keep[sl]
        ref.model.partial_fit(s["arm"][sl][k], s["r"][sl][k], s["x"][sl][k])
    np.testing.assert_allclose(learner.model.W, ref.model.W)


def test_bad_messages_are_dead_letters_and_counted():
    learner = SafeLearner(5, 4)
    good = encode_events([0], [0.0], [1], [2], [0.2], [1], np.ones((1, 4)))
    bad = [b"{oops", encode_event(1, 0.0, 1, 9, 0.2, 1, np.ones(4)), encode_event(2, 0.0, 1, 1, 0.2, 2, np.ones(4)),
           encode_event(3, 0.0, 1, 1, 0.2, 1, [np.nan, 1, 1, 1]),
           json.dumps({"id": 4, "ts": 0, "user": "bob", "arm": 1, "p": 0.2, "r": 1, "x": [1, 1, 1, 1]}).encode()]
    dead = learner.handle(good + bad)
    assert [i for i, _ in dead] == [1, 2, 3, 4, 5]
    assert learner.dead["malformed"] == 2 and learner.dead["unknown_arm"] == 1
    assert learner.dead["bad_reward"] == 1 and learner.dead["non_finite_context"] == 1
    assert learner.trained + learner.held_out == 1


def test_poisoning_burst_is_rolled_back():
    """Over several streams the guard rolls the burst back in most; none of the 5 bots is in the holdout."""
    kept = 0
    for seed in range(6):
        s = simulate_stream(40_000, seed=200 + seed, poison=(16_000, 24_000, 0.3), n_bots=5)
        assert not holdout_users(np.unique(s["user"][s["bot"]]), 0.2).any()
        (guard, loss_g), (_, loss_free) = run_scenario(s), run_scenario(s, guard=False)
        burst = [c.rolled_back for c in guard.checks if 16_000 < c.events <= 24_000]
        assert not any(c.rolled_back for c in guard.checks if c.events <= 16_000)
        if sum(burst) >= 3 and loss_g.max() < 0.5 * loss_free.max():
            kept += 1
            assert guard.discarded > 0
    assert kept >= 4, kept


def test_taste_shift_is_not_rolled_back():
    for seed in (0, 1, 2):
        s = simulate_stream(30_000, seed=seed, shift_at=14_000)
        guard, loss = run_scenario(s)
        assert not any(c.rolled_back for c in guard.checks if c.events > 14_000), seed
        first = next(c for c in guard.checks if c.events > 14_000)
        assert first.z < -2 and first.loss_current < first.loss_backup


def test_false_alarm_rate_on_stationary_streams():
    """Monte Carlo over seeds: the share of checks that roll back a healthy learner is about alpha or less."""
    backs = np.array([[c.rolled_back for c in run_scenario(simulate_stream(30_000, seed=500 + s), track=False,
                                                              alpha=0.05)[0].checks] for s in range(12)])
    rate = backs.mean()
    assert backs.size == 12 * 15
    assert rate < 0.05 + 3 * np.sqrt(0.05 * 0.95 / backs.size)


def test_rollback_restores_the_backup_exactly():
    s = simulate_stream(8000, seed=4, poison=(2000, 8000, 0.5), n_bots=3)
    learner = SafeLearner(5, 4, check_every=2000)
    learner.learn(s["user"][:2000], s["arm"][:2000], s["r"][:2000], s["x"][:2000])
    backup = learner.model.W.copy()
    learner.learn(s["user"][2000:4000], s["arm"][2000:4000], s["r"][2000:4000], s["x"][2000:4000])
    assert learner.checks[-1].rolled_back
    np.testing.assert_array_equal(learner.model.W, backup)


def test_safe_learner_rejects_bad_parameters():
    with pytest.raises(ValueError, match="holdout_share"):
        SafeLearner(5, 4, holdout_share=1.0)
    with pytest.raises(ValueError, match="alpha"):
        SafeLearner(5, 4, alpha=0)


# --- canary rollout (equation CN) ----------------------------------------------------------------

def test_canary_split_is_by_user_and_near_the_share():
    users = np.arange(50_000)
    c = canary_users(users, 0.2)
    assert c.mean() == pytest.approx(0.2, abs=0.01)
    assert (canary_users(users[::-1], 0.2) == c[::-1]).all()
    # independent of the safe learner's holdout hash
    assert (c & holdout_users(users, 0.2)).mean() == pytest.approx(0.04, abs=0.01)


def test_canary_promotes_good_and_rolls_back_bad():
    rng = np.random.default_rng(0)
    users = rng.integers(0, 10**6, 40_000)
    base = np.full(40_000, 0.20)
    good = run_canary(base, base + 0.03, users, share=0.3, n_runs=100, seed=1)
    bad = run_canary(base, base - 0.03, users, share=0.3, n_runs=100, seed=2)
    assert good.promoted.mean() > 0.9 and (good.decision == -1).sum() == 0
    assert (bad.decision == -1).mean() > 0.9 and bad.promoted.sum() == 0


def test_canary_false_promotion_rate_is_at_most_half_alpha():
    rng = np.random.default_rng(1)
    users = rng.integers(0, 10**6, 20_000)
    p = np.full(20_000, 0.1)
    res = run_canary(p, p, users, share=0.5, n_runs=2000, seed=3, alpha=0.05)
    assert res.promoted.mean() < 0.025 + 3 * np.sqrt(0.025 * 0.975 / 2000)
    assert res.bounds[0] > res.bounds[-1] > 1.96     # O'Brien-Fleming: strict early, near 1.96 at the end


def test_canary_z_matches_two_proportion_test_at_the_last_look():
    from course_lib.abtest.inference import two_proportion_z
    rng = np.random.default_rng(2)
    users = rng.integers(0, 10**6, 5000)
    res = run_canary(np.full(5000, 0.1), np.full(5000, 0.1), users, n_looks=1, n_runs=1, seed=4)
    cand = canary_users(users, 0.1)
    clicks = np.random.default_rng(4).random((1, 5000)) < 0.1
    z = two_proportion_z((clicks & cand).sum(), cand.sum(), (clicks & ~cand).sum(), (~cand).sum())
    assert res.z[0, 0] == pytest.approx(float(z))


def test_canary_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same length"):
        run_canary(np.full(10, 0.1), np.full(9, 0.1), np.arange(10))
    with pytest.raises(ValueError, match="share"):
        run_canary(np.full(10, 0.1), np.full(10, 0.1), np.arange(10), share=1.5)


def test_stream_trainer_finishes_after_a_restart_with_dead_letters(redis_server, tmp_path):
    """Regression: dead letters acknowledged before a restart must count towards 'all done'."""
    import uuid
    from course_lib.streaming.redis_streams import add_events, run_stream_trainer
    events = make_events(300, 4, 3, seed=5)
    values = encode_events(*(events[k] for k in ("id", "ts", "user", "arm", "p", "r", "x")))
    values[10] = b"not json"
    values[200] = b'{"id": 1}'
    stream = f"ev-{uuid.uuid4().hex[:6]}"
    add_events(redis_server.client(), stream, values)
    first = run_stream_trainer(redis_server.url, stream, tmp_path, 4, 3, "c1", checkpoint_every=50)
    assert sum(first.dead.values()) == 2 and int(first.n.sum()) == 298
    assert redis_server.client().xlen(stream + ".dlq") == 2      # rejects kept, not dropped
    out = {}                                                  # a restart: nothing new to read
    t = threading.Thread(daemon=True, target=lambda: out.update(s=run_stream_trainer(
        redis_server.url, stream, tmp_path, 4, 3, "c2", checkpoint_every=50)))
    t.start(); t.join(timeout=20)
    assert "s" in out, "the restarted trainer did not finish (dead letters not counted as done?)"
    again = out["s"]
    assert redis_server.client().xlen(stream + ".dlq") == 2
    assert again.dead == first.dead and np.array_equal(again.n, first.n)
    np.testing.assert_array_equal(again.A, first.A)
    np.testing.assert_array_equal(again.b, first.b)


def test_dead_letters_not_delivered_stop_the_checkpoint():
    class Stuck:
        def flush(self, timeout):
            return 3
    with pytest.raises(RuntimeError, match="3 dead letters"):
        trainer_process._flush_or_raise(Stuck(), "events")
