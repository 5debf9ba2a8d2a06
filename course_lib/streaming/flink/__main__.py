"""Command line of lesson 08's Flink jobs (run with the Flink environment's Python).

    .venv-flink/bin/python -m course_lib.streaming.flink ctr EVENTS OUT [--delay 5]
    .venv-flink/bin/python -m course_lib.streaming.flink trainer EVENTS OUT --arms K --features D
        [--parallelism 2] [--refresh-every 1000] [--fail-after N] [--conf key=value ...]
"""

from __future__ import annotations

import argparse
import json


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_lib.streaming.flink")
    sub = parser.add_subparsers(dest="job", required=True)
    c = sub.add_parser("ctr", help="windowed click-through rate (Flink SQL)")
    c.add_argument("events")
    c.add_argument("out")
    c.add_argument("--delay", type=float, default=5.0, help="watermark delay in seconds")
    t = sub.add_parser("trainer", help="keyed LinUCB trainer (DataStream)")
    t.add_argument("events")
    t.add_argument("out")
    t.add_argument("--arms", type=int, required=True)
    t.add_argument("--features", type=int, required=True)
    t.add_argument("--l2", type=float, default=1.0)
    t.add_argument("--refresh-every", type=int, default=1000)
    t.add_argument("--parallelism", type=int, default=2)
    t.add_argument("--checkpoint-ms", type=int, default=200)
    t.add_argument("--fail-after", type=int, default=0)
    t.add_argument("--conf", action="append", default=[], help="Flink configuration key=value (a cluster: "
                   "execution.target=remote, rest.address=..., rest.port=8081)")
    a = parser.parse_args(argv)
    if a.job == "ctr":
        from course_lib.streaming.flink.ctr_sql import run_ctr_job
        print(json.dumps({"rows": run_ctr_job(a.events, a.out, a.delay)}))
    else:
        from course_lib.streaming.flink.trainer_job import run_trainer_job
        extra = dict(kv.split("=", 1) for kv in a.conf)
        r = run_trainer_job(a.events, a.out, a.arms, a.features, a.l2, a.refresh_every, a.parallelism,
                            a.checkpoint_ms, a.fail_after, extra_config=extra)
        print(json.dumps({k: r[k] for k in ("parallelism", "failed", "theta_refreshes", "wall_s")}))


if __name__ == "__main__":
    main()
