"""Lesson 09 benchmark: requests per second and p50/p99 latency of each re-ranking method.

One request at a time (the serving case) and a batch of 256 requests at once (the throughput
case), on the CPU and, when a GPU is present, on CUDA.  No peer library implements LAST; the
generator alone is the reference point.

    python benchmarks/bench_rerank.py [--candidates 8 16 32] [--repeats 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_lib import rerank as rr
from course_lib.sim import listwise as lw


def methods(pipe, n_samples: int):
    g, e = pipe.generator, pipe.evaluator
    return {
        "generator": lambda b: rr.generator_lists(g, e, b),
        "G-E N=16": lambda b: rr.generator_evaluator(g, e, b, 16),
        "G-E N=64": lambda b: rr.generator_evaluator(g, e, b, 64),
        "LAST serial (3 rounds)": lambda b: rr.last_serial(g, e, b, 0.02, n_steps=3, n_samples=n_samples),
        "LAST parallel m=4": lambda b: rr.last_parallel(g, e, b, rr.parallel_alphas(0.05, 4), n_samples=n_samples),
        "LAST parallel m=8": lambda b: rr.last_parallel(g, e, b, rr.parallel_alphas(0.05, 8), n_samples=n_samples),
    }


def batch_throughput(fn, batch, repeats: int = 3) -> float:
    fn(batch)
    best = np.inf
    for _ in range(repeats):
        if rr.DEVICE.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(batch)
        if rr.DEVICE.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return len(batch) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"device: {rr.DEVICE} ({torch.cuda.get_device_name() if rr.DEVICE.type == 'cuda' else 'CPU'}), "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), S = {args.samples} sampled lists")
    world = lw.make_world(seed=0)
    pipe = rr.fit_pipeline(world, n_logs=2000, n_candidates=8, seed=0, epochs=5)
    print(f"{'M':>4s} {'method':24s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s (1 at a time)':>20s} {'req/s (batch 256)':>18s}")
    for m in args.candidates:
        req = lw.sample_requests(world, max(args.repeats, 256), m, np.random.default_rng(m))
        batch = rr.batch_from_requests(world, req)
        for name, fn in methods(pipe, args.samples).items():
            fn(batch.take(slice(0, 1)))
            t = rr.latency(fn, batch, args.repeats)
            tp = batch_throughput(fn, batch.take(slice(0, 256)))
            print(f"{m:4d} {name:24s} {t['p50_ms']:8.2f} {t['p99_ms']:8.2f} {t['requests_per_s']:20.0f} {tp:18.0f}")


if __name__ == "__main__":
    main()
