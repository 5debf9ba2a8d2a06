"""Exercise checkers of lesson 04 (neural bandits): NeuralUCB's exploration bonus (the warm-up) and a
diagnostic of a stale confidence width.  References live in ``course_lib.neural``."""

from __future__ import annotations

import numpy as np

from course_lib.neural import NeuralUCB, neural_ucb_bonus, stale_width_ratio
from course_lib.notebook.exercises import ExerciseResult, run_check


def _spd_inverse(rng: np.random.Generator, h: int) -> np.ndarray:
    M = rng.standard_normal((h, h))
    return np.linalg.inv(M @ M.T + h * np.eye(h))


def check_neural_ucb_bonus(candidate) -> ExerciseResult:
    """Exercise 1: ``candidate(g, Z_inv, m, gamma) -> gamma sqrt(g^T Z^-1 g / m)`` on random gradients."""

    def check(f):
        rng = np.random.default_rng(9)
        for P, m, gamma in ((4, 1, 1.0), (12, 16, 0.5), (30, 64, 3.0)):
            Z_inv = _spd_inverse(rng, P)
            g = rng.standard_normal(P)
            got = f(g.copy(), Z_inv.copy(), m, gamma)
            want = neural_ucb_bonus(g, Z_inv, m, gamma)
            assert np.ndim(got) == 0, f"return one number (a float), got shape {np.shape(got)}"
            got = float(got)
            if m > 1 and np.isclose(got, want * np.sqrt(m)):
                raise AssertionError("divide g^T Z^-1 g by the width m before the square root")
            if m > 1 and np.isclose(got, gamma * np.sqrt(float(g @ Z_inv @ g)) / m):
                raise AssertionError("divide by m inside the square root: gamma * sqrt(g^T Z^-1 g / m), "
                                     "not gamma * sqrt(g^T Z^-1 g) / m")
            if np.isclose(got, gamma * float(g @ Z_inv @ g) / m):
                raise AssertionError("take the square root of g^T Z^-1 g / m")
            if gamma != 1 and np.isclose(got, want / gamma):
                raise AssertionError("multiply by the exploration scale gamma")
            assert np.isclose(got, want, rtol=1e-9), (
                f"P={P}, m={m}, gamma={gamma}: expected {want:.6f}, got {got:.6f}")

    return run_check("neural_ucb_bonus", candidate, neural_ucb_bonus, check)


def _stale_case(seed: int = 0, n_events: int = 30):
    """A small NeuralUCB with two retrains behind it (P = 39 parameters > 30 events: sum g g^T alone is singular)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n_events, 2))
    arms = rng.integers(0, 3, n_events)
    rewards = np.where(arms == (X[:, 0] > 0).astype(int), 3.0, 0.5) + 0.1 * rng.standard_normal(n_events)
    p = NeuralUCB(3, 2, gamma=1.0, hidden=(6,), train_every=12, train_steps=15, lr=0.1, seed=seed, device="cpu")
    p.partial_fit(arms, rewards, X)
    return p, rng.uniform(-1, 1, (25, 2))


def _ratio(policy, probes, G, *, power: float = 0.5, per_probe: bool = False, inverse=np.linalg.inv) -> np.ndarray:
    """Variants of the ratio for the checker's hints (``G``: the gradients that go into the rebuilt Z)."""
    Gp = policy.gradients(probes)
    fresh = np.einsum("nkp,pq,nkq->nk", Gp, inverse(policy.l2_lambda * np.eye(policy.n_params) + G.T @ G), Gp)
    stale = policy.variance(probes)[1]
    if per_probe:
        return (stale ** power / fresh ** power).mean(0)
    return (stale ** power).mean(0) / (fresh ** power).mean(0)


def check_stale_width_ratio(candidate) -> ExerciseResult:
    """Exercise 2: ``candidate(policy, probes) -> (n_arms,)`` mean stale width / mean width with Z rebuilt now.

    Compared with ``course_lib.neural.stale_width_ratio`` on two small NeuralUCBs; the policy must be left
    unchanged; the usual slips (every arm's gradient in Z, variances instead of widths, no lambda I, the ratio
    upside down, the mean of per-probe ratios) get their own hint.
    """

    def check(f):
        for seed in (0, 1):
            p, probes = _stale_case(seed)
            before = p.state_dict()
            try:
                got = f(p, probes.copy())
            except np.linalg.LinAlgError:
                raise AssertionError("the rebuilt Z is singular: Z starts at lambda I (policy.l2_lambda * np.eye("
                                     "policy.n_params)) before the gradients are added, as in equation Z") from None
            after = p.state_dict()
            for k, v in before.items():
                if k != "rng" and not np.array_equal(np.asarray(v), np.asarray(after[k])):
                    raise AssertionError(f"your diagnostic changed the policy ({k}); work on copies, a diagnostic "
                                         "must leave the policy as it found it")
            got = np.asarray(got, dtype=float)
            assert got.shape == (p.n_arms,), f"return one ratio per arm, shape ({p.n_arms},), got {got.shape}"
            want = stale_width_ratio(p, probes)
            if np.allclose(got, want, rtol=1e-6):
                continue
            G_all = p.gradients(p.X).reshape(-1, p.n_params)
            G = p.gradients(p.X)[np.arange(len(p.arms)), p.arms]
            hints = [
                (_ratio(p, probes, G_all), "Z sums only the gradient of the arm played at each event "
                 "(policy.arms), not every arm's gradient"),
                (_ratio(p, probes, G, power=1.0), "compare widths, the square roots of g^T Z^-1 g / m, not the "
                 "variances themselves"),
                (1.0 / want, "the ratio is upside down: the stale width (the policy's Z) over the width with Z "
                 "rebuilt now"),
                (_ratio(p, probes, G, per_probe=True), "average the widths over the probes first, then divide the "
                 "two means (a ratio of means, not a mean of ratios)"),
                (_ratio(p, probes, G * np.sqrt(p.width)), "policy.gradients already returns g / sqrt(m): do not "
                 "undo or repeat the 1/m"),
                (_ratio(p, probes, G / np.sqrt(p.width)), "policy.gradients already returns g / sqrt(m): do not "
                 "undo or repeat the 1/m"),
            ]
            for wrong, hint in hints:
                if np.allclose(got, wrong, rtol=1e-6):
                    raise AssertionError(hint)
            Gp = p.gradients(probes)
            no_lambda = np.einsum("nkp,pq,nkq->nk", Gp, np.linalg.pinv(G.T @ G), Gp)
            if np.allclose(got, np.sqrt(p.variance(probes)[1]).mean(0) / np.sqrt(np.abs(no_lambda)).mean(0), rtol=1e-6):
                raise AssertionError("Z starts at lambda I (policy.l2_lambda * np.eye(policy.n_params)) before the "
                                     "gradients are added, as in equation Z")
            raise AssertionError(f"seed {seed}: expected ratios {np.round(want, 4).tolist()}, got "
                                 f"{np.round(got, 4).tolist()}; rebuild Z = lambda I + sum over stored events of "
                                 "g g^T (the played arm's gradient at the current parameters)")

    return run_check("stale_width_ratio", candidate, stale_width_ratio, check)
