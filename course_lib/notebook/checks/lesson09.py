"""Exercise checkers of lesson 09 (learning at serving time): the LAST offset and the parallel selection rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from course_lib import rerank
from course_lib.notebook.exercises import ExerciseResult, run_check

__all__ = ["check_last_offset", "check_parallel_select"]


def _small_case(seed: int = 3, n_samples: int = 12):
    """A tiny generator, one request, sampled lists with their log-probabilities and made-up scores."""
    rng = np.random.default_rng(seed)
    batch = rerank.make_batch(rng.normal(size=(1, 5, 3)), rng.normal(size=(1, 2)), k=2)
    gen = rerank.Generator(3, 2, 2, hidden=4, seed=seed)
    params = {n: p.detach().clone().requires_grad_(True) for n, p in gen.params().items()}
    lists, logp = gen.sample(batch, n_samples, torch.Generator().manual_seed(seed), params=params)
    scores = torch.as_tensor(rng.normal(3.0, 1.0, size=n_samples), dtype=rerank.DTYPE)
    return params, logp[0], scores


def _flat(d) -> torch.Tensor:
    return torch.cat([v.detach().reshape(-1) for v in d.values()])


def check_last_offset(candidate: Callable) -> ExerciseResult:
    """``candidate(params, log_probs, scores, alpha)`` must return new tensors ``theta + Delta theta`` (eq. 9.4-9.5)."""

    def check(fn):
        for alpha in (0.05, 0.2):
            params, logp, scores = _small_case()
            before = {n: p.detach().clone() for n, p in params.items()}
            out = fn(params, logp, scores, alpha)
            if not isinstance(out, dict) or set(out) != set(params):
                raise AssertionError("return a dict with the same names as params: {name: theta + delta}")
            for n in params:
                assert torch.equal(params[n].detach(), before[n]), (
                    f"params[{n!r}] changed: Delta theta must be applied to new tensors, never in place "
                    "(the deployed model must stay untouched)")
            delta = _flat(out) - _flat(before)
            theta_norm = float(_flat(before).norm())
            size = float(delta.norm())
            assert abs(size - alpha * theta_norm) < 1e-4 * theta_norm, (
                f"||Delta theta|| is {size:.4g} but should be alpha * ||theta|| = {alpha * theta_norm:.4g}: "
                "divide the gradient by its norm over all tensors together, then multiply by alpha * ||theta||")
            params2, logp2, scores2 = _small_case()
            ref = rerank.last_offset(params2, logp2, scores2, alpha)
            want = _flat(ref) - _flat(before)
            cos = float(delta @ want / (delta.norm() * want.norm()))
            assert cos > 0.9999, (
                f"Delta theta points the wrong way (cosine {cos:.3f} with the reference): weight each "
                "log-probability by its advantage, score minus the mean score of the sampled lists, and "
                "step up the surrogate's gradient (ascent, not descent)")

    return run_check("last_offset", candidate, rerank.last_offset, check)


def check_parallel_select(candidate: Callable) -> ExerciseResult:
    """``candidate(scores, margin)`` must pick, by evaluator scores only, the list LAST parallel serves."""

    def check(fn):
        scores = torch.tensor([[1.0, 1.5, 1.2, 0.9],     # clear winner: index 1
                               [2.0, 1.0, 2.5, 2.5],     # tie between 2 and 3: the smaller step, 2
                               [3.0, 3.05, 2.0, 1.0],    # gain 0.05: below a margin of 0.1, keep 0
                               [1.0, 1.0, 1.0, 1.0]])    # all equal: the generator's own list
        got = np.asarray(torch.as_tensor(fn(scores, 0.1))).ravel()
        want = np.array([1, 2, 0, 0])
        if got.shape != want.shape:
            raise AssertionError(f"return one index per request, shape (4,); got shape {got.shape}")
        assert got[0] == 1, f"request 0: the highest score is at index 1, you chose {got[0]}"
        assert got[1] == 2, ("request 1: two candidates tie at the best score; choose the smaller step (the "
                             f"earlier index, 2), which stays closer to the deployed model; you chose {got[1]}")
        assert got[2] == 0, ("request 2: the best candidate beats the generator's list (index 0) by only 0.05, "
                             f"less than the margin 0.1, so keep index 0; you chose {got[2]}")
        assert got[3] == 0, f"request 3: all scores equal, keep the generator's list (index 0); you chose {got[3]}"
        got0 = np.asarray(torch.as_tensor(fn(scores, 0.0))).ravel()
        assert got0[2] == 1, ("with margin 0 any gain counts: request 2 should switch to index 1, "
                              f"you chose {got0[2]}")

    return run_check("parallel_select", candidate, rerank.parallel_select, check)
