"""Lesson 08 on Apache Flink: the jobs run in .venv-flink (subprocess), the checks in the main env.

Skipped when ``.venv-flink`` is missing (``make flink`` creates it; ``make test-flink`` runs these).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_lib.streaming.events import make_events
from course_lib.streaming.flink_results import (FLINK_PYTHON, ctr_events, flink_available, flink_results, pandas_ctr,
                                                read_ctr, read_trainer, run_flink, write_events_file)
from course_lib.streaming.trainer import Trainer

pytestmark = [pytest.mark.flink, pytest.mark.xdist_group("flink")]

if not flink_available():
    pytest.skip(f"the Flink environment is missing ({FLINK_PYTHON} or java): run `make flink`, "
                "then `make test-flink`", allow_module_level=True)

K, D = 4, 3
DELAY = 5.0


@pytest.fixture(scope="module")
def ctr_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flink_ctr")
    ev = ctr_events(n_events=1500, n_users=8, minutes=4.0, late_fraction=0.08, max_lateness_s=90.0, seed=3)
    write_events_file(folder / "events.jsonl", ev)
    run_flink("ctr", str(folder / "events.jsonl"), str(folder / "ctr.jsonl"), "--delay", str(DELAY))
    return ev, read_ctr(folder / "ctr.jsonl")


@pytest.fixture(scope="module")
def trainer_events(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flink_trainer")
    ev = make_events(3000, K, D, seed=5)
    path = write_events_file(folder / "events.jsonl", ev)
    raw = path.read_bytes().splitlines()
    raw.insert(100, b'{"id": 1, "arm": 99}')          # a dead letter: dropped by both trainers
    path.write_bytes(b"".join(m + b"\n" for m in raw))
    embedded = Trainer(K, D, refresh_every=0)
    embedded.handle(raw)
    return folder, embedded.state


def run_trainer(folder, name, *extra):
    out = folder / f"{name}.json"
    run_flink("trainer", str(folder / "events.jsonl"), str(out), "--arms", str(K), "--features", str(D),
              "--refresh-every", "250", *extra)
    return read_trainer(out)


def test_sql_window_counts_equal_pandas_with_late_events_dropped(ctr_run):
    ev, flink = ctr_run
    expected, late = pandas_ctr(ev, delay_s=DELAY)
    assert late.sum() > 0, "the event set should hold late events"
    m = expected.merge(flink, on=["user", "window_start"], how="outer", suffixes=("_pd", "_fl"), indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
    assert (m["window_end_fl"] - m["window_start"] == pd.Timedelta(minutes=1)).all()
    np.testing.assert_array_equal(m["clicks_fl"], m["clicks_pd"])
    np.testing.assert_array_equal(m["views_fl"], m["views_pd"])
    np.testing.assert_allclose(m["ctr_fl"], m["ctr_pd"], rtol=0, atol=1e-12)
    # The drop matters: counting the late events too would give other views.
    all_counted, _ = pandas_ctr(ev, delay_s=1e9)
    assert all_counted["views"].sum() == len(ev["id"]) > flink["views"].sum()


def test_flink_trainer_equals_embedded_trainer(trainer_events):
    folder, state = trainer_events
    res = run_trainer(folder, "plain", "--parallelism", "2")
    assert not res["failed"] and res["parallelism"] == 2
    np.testing.assert_array_equal(res["n"], state.n)
    np.testing.assert_allclose(res["A"], state.A, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["b"], state.b, rtol=0, atol=1e-9)
    assert res["theta_refreshes"] == int((state.n // 250).sum())


def test_flink_trainer_after_injected_failure_and_restart_equals_embedded(trainer_events):
    folder, state = trainer_events
    res = run_trainer(folder, "failure", "--parallelism", "2", "--fail-after", "600", "--checkpoint-ms", "100")
    assert res["failed"], "the injected failure did not happen"
    assert res["restored_arms"], "the restart should restore per-arm state from a checkpoint"
    np.testing.assert_array_equal(res["n"], state.n)
    np.testing.assert_allclose(res["A"], state.A, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["b"], state.b, rtol=0, atol=1e-9)


def test_flink_results_reports_missing_results(tmp_path):
    out = flink_results(tmp_path)
    assert not out["available"] and "make flink-results" in out["message"]
