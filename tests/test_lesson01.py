"""Lesson 01's stated figures, read back from the solution notebook run with default parameters."""

import pytest

NAME = "01_online_learning"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")

ONLINE = ("sgd", "sgd_invsqrt", "adagrad", "ftrl")


def test_online_linear_regression_reaches_least_squares(r):
    # one pass of eta = 0.05 / sqrt(t) over 20,000 events with unit-variance noise
    assert 0 < r["linreg.max_gap_to_lstsq"] < 0.03


def test_click_stream_has_the_described_shape(r):
    assert 0.15 < r["clicks.ctr"] < 0.25
    assert 0.1 < r["clicks.rare_share"] < 0.4   # Zipf items: many events show a rarely seen item
    assert 0.3 < r["clicks.oracle_logloss"] < r["pv_logloss.adagrad"]


def test_progressive_log_loss_ranking(r):
    pv = {k: r[f"pv_logloss.{k}"] for k in ONLINE}
    assert pv["adagrad"] == min(pv.values())
    assert pv["adagrad"] < pv["ftrl"] < pv["sgd"] < pv["sgd_invsqrt"]
    assert pv["sgd"] - pv["adagrad"] > 0.01               # the gap the lesson points at
    assert all(v > r["clicks.oracle_logloss"] for v in pv.values())


def test_one_online_pass_lands_close_to_the_batch_model(r):
    batch, oracle = r["last20_logloss.batch"], r["last20_logloss.oracle"]
    assert oracle < batch
    for k in ONLINE:
        assert r[f"last20_logloss.{k}"] > oracle
    assert r["last20_logloss.adagrad"] - batch < 0.005
    assert r["last20_logloss.ftrl"] - batch < 0.015
    assert max(r[f"last20_logloss.{k}"] for k in ONLINE) - batch < 0.035


def test_adagrad_beats_sgd_on_every_item_frequency_group(r):
    gains = [r["rare.gain_0-4"], r["rare.gain_5-49"], r["rare.gain_50+"]]
    assert all(g > 0 for g in gains)
    # the advantage is largest on items seen a handful of times
    assert r["rare.gain_5-49"] == max(gains)
    assert r["rare.gain_5-49"] > 2 * r["rare.gain_50+"]


def test_ftrl_l1_buys_sparsity_for_a_little_log_loss(r):
    share, loss = r["ftrl.nonzero_share"], r["ftrl.logloss"]
    assert share[0] == pytest.approx(1.0)                  # no L1: every touched weight moves
    assert all(a > b for a, b in zip(share, share[1:]))    # strictly sparser as lambda_1 grows
    assert share[-1] < 0.1
    assert all(a <= b for a, b in zip(loss, loss[1:]))     # ... at a monotone, small cost
    assert loss[-1] - loss[0] < 0.02


def test_stream_auc(r):
    auc = {k: r[f"auc.last_block.{k}"] for k in ONLINE}
    assert auc["adagrad"] == max(auc.values())
    assert 0.7 < auc["adagrad"] < r["auc.last_block.oracle"] < 0.85


def test_batch_model_fails_under_drift_and_online_models_recover(r):
    assert abs(r["drift.pre_excess.batch"]) < 0.01         # in-sample before the flip
    assert r["drift.post_excess.batch"] > 0.2
    assert r["drift.recovery.batch"] == 10_000             # never recovers: charged the rest of the stream
    for k in ("sgd", "adagrad", "ftrl"):
        assert r[f"drift.post_excess.{k}"] < 0.1 * r["drift.post_excess.batch"]
        assert r[f"drift.recovery.{k}"] < 5_000
    # accumulators only shrink the rates: AdaGrad and FTRL recover slower than constant SGD ...
    assert r["drift.recovery.sgd"] < 0.6 * min(r["drift.recovery.adagrad"], r["drift.recovery.ftrl"])
    # ... which pays a noisier floor before the flip
    assert r["drift.pre_excess.sgd"] > 3 * max(r["drift.pre_excess.adagrad"], r["drift.pre_excess.ftrl"])


def test_recovery_versus_learning_rate_trade_off(r):
    rec, steady = r["lr.recovery_median"], r["lr.steady_excess"]
    etas = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
    assert r["lr.best_eta"] == etas[rec.index(min(rec))] == pytest.approx(0.1)
    assert rec[0] > rec[1] > rec[2] > rec[3]               # small rates adapt slowly ...
    assert rec[4] == rec[5] == 10_000                      # ... large ones never get within the threshold
    assert steady[5] > steady[4] > steady[3] > steady[2]   # ... because they are noisy
    assert steady[5] > 0.2
