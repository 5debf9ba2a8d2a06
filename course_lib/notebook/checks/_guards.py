"""Guards the exercise checkers put around a student's function: forbidden calls raise a hint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

LINALG_SOLVERS = ("inv", "solve", "pinv", "lstsq")
GLOBAL_RANDOM = ("random", "rand", "randn", "randint", "random_sample", "choice", "uniform", "normal",
                 "integers", "permutation", "shuffle", "default_rng", "seed")


@contextmanager
def forbid(module, names, hint: str) -> Iterator[None]:
    """Within the block, calling ``module.<name>`` for any of ``names`` raises ``AssertionError(hint)``."""
    saved = {n: getattr(module, n) for n in names if hasattr(module, n)}

    def refuse(name):
        def raiser(*args, **kwargs):
            raise AssertionError(f"{hint} (your function called {module.__name__}.{name})")
        return raiser

    try:
        for n in saved:
            setattr(module, n, refuse(n))
        yield
    finally:
        for n, f in saved.items():
            setattr(module, n, f)


def no_linalg_solvers(hint: str):
    """``np.linalg.inv``, ``solve``, ``pinv`` and ``lstsq`` raise ``hint`` within the block."""
    return forbid(np.linalg, LINALG_SOLVERS, hint)


def no_global_random(hint: str):
    """The global ``np.random`` functions (and ``default_rng``) raise ``hint`` within the block."""
    return forbid(np.random, GLOBAL_RANDOM, hint)
