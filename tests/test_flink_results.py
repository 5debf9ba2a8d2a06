"""Lesson 08 on Flink, main-environment side (no PyFlink needed): pandas' reference aggregation and
the notebook helper that never fails without the Flink environment."""

import numpy as np
import pandas as pd

from course_lib.streaming import flink_results as fr


def events(ts, users, rewards):
    n = len(ts)
    return {"id": np.arange(n), "ts": np.asarray(ts, dtype=float), "user": np.asarray(users),
            "arm": np.zeros(n, dtype=int), "p": np.ones(n), "r": np.asarray(rewards, dtype=float),
            "x": np.ones((n, 3))}


def test_pandas_ctr_drops_exactly_the_events_whose_window_fired_before_they_arrived():
    t0 = 1.7e9 - 1.7e9 % 60            # a minute boundary
    # file order: 10 s, 70 s (watermark 65 s: window [0, 60) fired), then 59 s (late), 66 s (in time,
    # window [60, 120) still open), 58 s again from another user (late)
    ev = events([t0 + 10, t0 + 70, t0 + 59, t0 + 66, t0 + 58], [1, 1, 1, 1, 2], [1, 0, 1, 1, 1])
    table, late = fr.pandas_ctr(ev, delay_s=5.0)
    np.testing.assert_array_equal(late, [False, False, True, False, True])
    assert table[["user", "clicks", "views"]].values.tolist() == [[1, 1, 1], [1, 1, 2]]
    assert (table["window_end"] - table["window_start"] == pd.Timedelta(minutes=1)).all()
    np.testing.assert_allclose(table["ctr"], [1.0, 0.5])
    # with a 20 s delay the watermark after 70 s is 50 s < 59.999 s: window [0, 60) is still open, none late
    _, late20 = fr.pandas_ctr(ev, delay_s=20.0)
    assert not late20.any()


def test_ctr_events_are_out_of_order_and_reproducible():
    a, b = fr.ctr_events(500, seed=1), fr.ctr_events(500, seed=1)
    np.testing.assert_array_equal(a["ts"], b["ts"])
    assert (np.diff(a["ts"]) < 0).any(), "some events should arrive after later ones"


def test_flink_results_says_how_to_make_the_environment_when_it_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(fr, "FLINK_PYTHON", tmp_path / "no-venv" / "bin" / "python")
    out = fr.flink_results(tmp_path)
    assert out["available"] is False and out["ctr"] is None and "make flink" in out["message"]
