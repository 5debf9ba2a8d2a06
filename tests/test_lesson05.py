"""Lesson 05's stated figures, read back from the solution notebook run with default parameters."""

import pytest

NAME = "05_interest_clock"
pytestmark = pytest.mark.xdist_group(f"{NAME}-solutions")

GROUPS = ("sparse", "medium", "heavy")
BASELINES = ("bucket", "profile", "profile_decay", "population")


def test_the_world_has_the_described_shape(r):
    assert 250_000 < r["world.n_events"] < 350_000
    assert 0.1 < r["world.sparse_share"] < 0.3
    assert 0.2 < r["world.heavy_share"] < 0.4


def test_gaussian_weights_are_the_papers(r):
    assert r["weights.d0"] == pytest.approx(0.399, abs=5e-4)
    assert r["weights.d1"] == pytest.approx(0.242, abs=5e-4)
    assert r["weights.d2"] == pytest.approx(0.054, abs=5e-4)
    assert r["weights.d3"] == pytest.approx(0.004, abs=5e-4)
    assert r["weights.sum"] == pytest.approx(1.0, abs=1e-6)


def test_the_clock_fills_the_empty_bucket(r):
    assert r["demo.clock_at_gap"] > 0.3
    assert 700 < r["demo.bytes_per_user"] < 4000


def test_clock_beats_every_baseline_in_every_group(r):
    for g in GROUPS:
        for base in BASELINES:
            assert r[f"hit.clock.{g}"] > r[f"hit.{base}.{g}"]
            assert r[f"auc.clock.{g}"] > r[f"auc.{base}.{g}"]
            assert r[f"tv.clock.{g}"] < r[f"tv.{base}.{g}"]


def test_sparse_user_margin_is_small_positive_and_its_interval_excludes_zero(r):
    for base in ("bucket", "profile", "profile_decay"):
        gain = r[f"gain.hit.clock_vs_{base}.sparse"]
        assert 0.005 < gain < 0.035                        # "about one to two points of hit rate@3"
        assert r[f"gain.hit.clock_vs_{base}.sparse.lo"] > 0
        assert r[f"gain.hit.clock_vs_{base}.sparse.worst_world"] > 0   # positive in each world
        assert r[f"gain.auc.clock_vs_{base}.sparse.lo"] > 0
        assert r[f"gain.tv.clock_vs_{base}.sparse.hi"] < 0        # lower error against the truth


def test_heavy_user_margin_is_wide(r):
    assert r["gain.hit.clock_vs_bucket.heavy.lo"] > 0.02
    assert r["gain.hit.clock_vs_profile.heavy.lo"] > 0.04
    assert r["gain.tv.clock_vs_bucket.heavy.hi"] < -0.03                 # "a fifth lower than the bucket's"
    assert 0.15 < -r["gain.tv.clock_vs_bucket.heavy"] / r["tv.bucket.heavy"] < 0.3
    assert 0.015 < r["gain.hit.clock_vs_bucket.heavy"] < 0.035               # "about two and a half points"
    assert 0.045 < r["gain.hit.clock_vs_profile.heavy"] < 0.07               # "six over the profiles"
    # margins grow with activity
    assert r["gain.hit.clock_vs_bucket.heavy"] > r["gain.hit.clock_vs_bucket.sparse"]


def test_population_carries_most_of_the_sparse_prediction(r):
    # the population clock alone is within a few points of the best model on sparse users
    assert r["hit.clock.sparse"] - r["hit.population.sparse"] < 0.04
    assert r["hit.clock.heavy"] - r["hit.population.heavy"] > 0.05


def test_hour_feature_shows_little_staleness_and_loses_to_the_clock(r):
    for k in ("AdaGrad", "SGD"):
        assert abs(r[f"stale.{k}.lag12"] - r[f"stale.{k}.lag0"]) < 0.01     # "a few thousandths" at most
        assert r[f"stale.{k}.max"] - r[f"stale.{k}.lag0"] < 0.01
        assert r[f"stale.{k}.lag0"] > r["stale.clock.lag0"]                 # higher error at every lag
    assert r["stale.AdaGrad.lag0"] < r["stale.SGD.lag0"]


def test_ranker_with_clock_beats_ranker_with_hour_feature(r):
    assert r["ranker.hit.lr_base"] < r["ranker.hit.lr_hour"] < r["ranker.hit.lr_clock"]
    assert r["ranker.auc.lr_base"] < r["ranker.auc.lr_hour"] < r["ranker.auc.lr_clock"]
    assert r["ranker.tv.lr_clock"] < r["ranker.tv.lr_hour"] < r["ranker.tv.lr_base"]
    assert r["ranker.gain_clock_vs_hour.lo"] > 0


def test_window_trade_off_under_rhythm_shifts(r):
    shifted = {k: r[f"shift.{k}.shifted"] for k in ("7 days", "14 days", "30 days", "none")}
    steady = {k: r[f"shift.{k}.steady"] for k in ("7 days", "14 days", "30 days", "none")}
    assert shifted["14 days"] < shifted["30 days"] < shifted["none"]
    assert steady["none"] < steady["30 days"] < steady["14 days"] < steady["7 days"]


def test_short_windows_recover_first_after_a_shift(r):
    first = {k: r[f"shift.{k}.first_week"] for k in ("7 days", "14 days", "30 days", "none")}
    assert first["7 days"] == min(first.values())
    week2 = {k: r[f"shift.{k}.week_2"] for k in ("7 days", "14 days", "30 days", "none")}
    assert week2["14 days"] == min(week2.values())
    assert week2["14 days"] < week2["30 days"] - 0.02

