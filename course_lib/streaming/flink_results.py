"""Lesson 08 on Flink, main-environment side: the events file the jobs read, pandas' reference
aggregation, and the Flink results read back (no PyFlink import: the jobs run in ``.venv-flink``).

``flink_results()`` is what the notebook calls: the results when ``make flink`` was run and the jobs
wrote their files, otherwise a message saying how to create them; it never raises for a missing
environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from course_lib.streaming.events import encode_events, make_events
from course_lib.validate import integer, number

__all__ = ["ROOT", "FLINK_PYTHON", "RESULTS_DIR", "flink_available", "ctr_events", "write_events_file",
           "pandas_ctr", "read_ctr", "read_trainer", "run_flink", "make_results", "flink_results"]

ROOT = Path(__file__).resolve().parents[2]
FLINK_PYTHON = ROOT / ".venv-flink" / "bin" / "python"
#: Where ``make test-flink`` / ``make flink-results`` leave the jobs' outputs.
RESULTS_DIR = ROOT / "build" / "flink"
HOW_TO = ("The Flink environment is not there yet: run `make flink` (a Java 17 runtime and a few minutes "
          "of install), then `make flink-results` to run the two jobs; this cell will then show their results.")


def flink_available() -> bool:
    """Whether ``.venv-flink`` exists (``make flink``) and a ``java`` is on the PATH."""
    from shutil import which
    return FLINK_PYTHON.exists() and which("java") is not None


def ctr_events(n_events: int = 3000, n_users: int = 20, minutes: float = 5.0, late_fraction: float = 0.05,
               max_lateness_s: float = 90.0, seed: int = 0) -> dict:
    """Lesson 08 events spread over ``minutes`` of event time, a fraction of them arriving late.

    Events are made in time order (``make_events``' arms, rewards and contexts, ``n_users`` users),
    then a ``late_fraction`` of them is moved later in the file by up to ``max_lateness_s`` seconds of
    arrival delay, keeping their own ``ts``: out of order, some within the watermark's delay and some
    after their window fired.  Returns ``make_events``' dict of arrays in *file* order.
    """
    n = integer("n_events", n_events, low=1)
    users = integer("n_users", n_users, low=1)
    span = number("minutes", minutes, low=0, low_open=True) * 60.0
    frac = number("late_fraction", late_fraction, low=0, high=1)
    lateness = number("max_lateness_s", max_lateness_s, low=0)
    ev = make_events(n, 4, 3, seed=seed)
    rng = np.random.default_rng(seed + 1)
    ev["ts"] = np.round(1.7e9 + np.sort(rng.uniform(0, span, size=n)), 3)
    ev["user"] = rng.integers(0, users, size=n)
    arrival = ev["ts"].copy()
    late = rng.random(n) < frac
    arrival[late] += rng.uniform(0, lateness, size=late.sum())
    order = np.argsort(arrival, kind="stable")
    return {k: v[order] for k, v in ev.items()}


def write_events_file(path: str | Path, events: dict) -> Path:
    """Write events (``make_events``' dict) as JSON lines, lesson 08's message format, in array order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    msgs = encode_events(events["id"], events["ts"], events["user"], events["arm"], events["p"], events["r"],
                         events["x"])
    path.write_bytes(b"".join(m + b"\n" for m in msgs))
    return path


def pandas_ctr(events: dict, delay_s: float = 5.0, window_s: float = 60.0) -> tuple[pd.DataFrame, np.ndarray]:
    """The Flink job's aggregation with pandas: per (user, window) clicks, views, CTR; late events dropped.

    The event at file position i (event time ``t_i`` in ms, as Flink casts ``ts * 1000``) is late iff
    its window's end minus 1 ms is at or below the watermark when it arrives,
    ``max_{j<i} t_j - delay``.  Returns the table (sorted like the Flink sink) and the late mask.
    """
    t = (np.asarray(events["ts"], dtype=float) * 1000).astype(np.int64)
    w = int(round(window_s * 1000))
    start = t - t % w
    wm = np.r_[np.iinfo(np.int64).min, np.maximum.accumulate(t)[:-1] - int(round(delay_s * 1000))]
    late = start + w - 1 <= wm
    df = pd.DataFrame({"user": np.asarray(events["user"], dtype=np.int64)[~late], "start": start[~late],
                       "r": np.asarray(events["r"], dtype=float)[~late]})
    g = df.groupby(["user", "start"], sort=False)["r"].agg(clicks="sum", views="size").reset_index()
    g["clicks"] = g["clicks"].astype(np.int64)
    g["window_start"] = pd.to_datetime(g["start"], unit="ms", utc=True)
    g["window_end"] = g["window_start"] + pd.Timedelta(milliseconds=w)
    g["ctr"] = g["clicks"] / g["views"].where(g["views"] > 0)
    g = g.sort_values(["window_start", "user"]).reset_index(drop=True)
    return g[["user", "window_start", "window_end", "clicks", "views", "ctr"]], late


def read_ctr(path: str | Path) -> pd.DataFrame:
    """The Flink CTR sink file as a DataFrame (window bounds as UTC timestamps)."""
    df = pd.read_json(path, lines=True, dtype={"window_start": str, "window_end": str})
    for c in ("window_start", "window_end"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df.sort_values(["window_start", "user"]).reset_index(drop=True)


def read_trainer(path: str | Path) -> dict:
    """The Flink trainer's result: ``A (K, d, d)``, ``b (K, d)``, ``n (K,)`` arrays and the run's facts."""
    res = json.loads(Path(path).read_text())
    arms = sorted(int(a) for a in res["arms"])
    k = res["n_arms"]
    d = res["n_features"]
    A = np.broadcast_to(np.eye(d), (k, d, d)).copy()   # arms without events keep the prior (lambda = 1 here)
    b, n = np.zeros((k, d)), np.zeros(k, dtype=np.int64)
    for a in arms:
        rec = res["arms"][str(a)]
        A[a], b[a], n[a] = rec["A"], rec["b"], rec["n"]
    return {"A": A, "b": b, "n": n, **{k2: v for k2, v in res.items() if k2 != "arms"}}


def run_flink(*args: str, timeout: float = 600) -> dict:
    """Run ``python -m course_lib.streaming.flink ARGS`` with the Flink environment's Python."""
    if not FLINK_PYTHON.exists():
        raise FileNotFoundError(f"{FLINK_PYTHON} is missing: run `make flink` first")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([str(FLINK_PYTHON), "-m", "course_lib.streaming.flink", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"Flink job {args[0]} failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_results(folder: str | Path | None = None, n_events: int = 5000, seed: int = 0) -> dict:
    """Run both Flink jobs on course-made events (``make flink-results``); files land in ``folder``."""
    folder = Path(folder) if folder is not None else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    write_events_file(folder / "ctr_events.jsonl", ctr_events(seed=seed))
    ctr = run_flink("ctr", str(folder / "ctr_events.jsonl"), str(folder / "ctr.jsonl"))
    write_events_file(folder / "trainer_events.jsonl", make_events(n_events, 4, 3, seed=seed))
    tr = run_flink("trainer", str(folder / "trainer_events.jsonl"), str(folder / "trainer.json"),
                   "--arms", "4", "--features", "3", "--parallelism", "2")
    return {"ctr": ctr, "trainer": tr}


def flink_results(folder: str | Path | None = None) -> dict:
    """The Flink jobs' results for the notebook, or how to make them; never raises for a missing env.

    Returns ``{"available": bool, "message": str, "ctr": DataFrame | None, "trainer": dict | None}``.
    """
    folder = Path(folder) if folder is not None else RESULTS_DIR
    ctr, trainer = folder / "ctr.jsonl", folder / "trainer.json"
    if not FLINK_PYTHON.exists():
        return {"available": False, "message": HOW_TO, "ctr": None, "trainer": None}
    if not (ctr.exists() and trainer.exists()):
        return {"available": False, "ctr": None, "trainer": None,
                "message": f"The Flink environment exists but {folder} has no results: run `make flink-results`."}
    return {"available": True, "message": f"Flink results from {folder}", "ctr": read_ctr(ctr),
            "trainer": read_trainer(trainer)}


if __name__ == "__main__":
    print(json.dumps(make_results()))
