"""Speed of lesson 08's keyed LinUCB trainer on Apache Flink (local mini-cluster) beside the embedded one.

Prints events/s through the Flink job (``course_lib.streaming.flink.trainer_job``, run in
``.venv-flink`` by subprocess) at parallelism 1 and 2, and through the embedded trainer
(``course_lib.streaming.trainer.Trainer.handle``: JSON parsing, validation, fast path) on the same
events, K = 8 arms, d = 13.  For Flink, two figures: end to end (job submission, Python worker
start, processing, final state) on the larger file, and the marginal rate
(extra events / extra seconds between the smaller and the larger file), which leaves the fixed start
cost out.  Needs ``make flink``.
Usage: python benchmarks/bench_flink.py [small events, default 20000] [large events, default 100000]
"""

import sys
import tempfile
import time
from pathlib import Path

from course_lib.streaming.events import make_events
from course_lib.streaming.flink_results import FLINK_PYTHON, read_trainer, run_flink, write_events_file
from course_lib.streaming.trainer import Trainer

K, D = 8, 13


def embedded_rate(raw: list[bytes], batch: int = 1000) -> float:
    t = Trainer(K, D, refresh_every=10_000)
    start = time.perf_counter()
    for i in range(0, len(raw), batch):
        t.handle(raw[i:i + batch])
    return len(raw) / (time.perf_counter() - start)


def main() -> None:
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    if not FLINK_PYTHON.exists():
        sys.exit(f"{FLINK_PYTHON} is missing: run `make flink` first")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = {}
        for n in (small, large):
            paths[n] = write_events_file(tmp / f"events_{n}.jsonl", make_events(n, K, D, seed=0))
        raw = paths[large].read_bytes().splitlines()
        print(f"keyed LinUCB trainer, K = {K} arms, d = {D}, events from lesson 08's JSON format")
        print(f"embedded trainer (one process, batches of 1000): {embedded_rate(raw):12,.0f} events/s")
        for p in (1, 2):
            wall = {}
            for n in (small, large):
                out = tmp / f"out_{p}_{n}.json"
                start = time.perf_counter()
                run_flink("trainer", str(paths[n]), str(out), "--arms", str(K), "--features", str(D),
                          "--parallelism", str(p), "--refresh-every", "10000", "--checkpoint-ms", "1000")
                wall[n] = time.perf_counter() - start
                assert read_trainer(out)["n"].sum() == n
            marginal = (large - small) / max(wall[large] - wall[small], 1e-9)
            print(f"Flink, parallelism {p}: end to end {large / wall[large]:10,.0f} events/s "
                  f"({large:,} events in {wall[large]:.1f} s, {small:,} in {wall[small]:.1f} s); "
                  f"marginal {marginal:10,.0f} events/s")


if __name__ == "__main__":
    main()
