"""Lesson 06's replay of a LEARNING policy on a uniformly logged stream (Li, Chu, Langford and Wang, WSDM 2011).

The replay method's purpose: walk a log written by a uniform logger, let the bandit choose at each
logged context, and when its choice equals the logged action keep the event, hand its reward to the
bandit (which learns from kept events only) and count it.  Under a uniform logger the kept events
are distributed exactly like T steps of the bandit run live, so the mean kept reward estimates the
bandit's live click rate over a horizon of T = (number kept), about n / K for a log of n events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.ope.estimators import Estimate, _mean_se
from course_lib.validate import array, integer


@dataclass(frozen=True)
class LearningReplay:
    """Result of ``replay_learning``: the kept events (indices into the log), their arms and rewards, events read."""

    kept: np.ndarray      # (T,) indices of the kept events, increasing
    arms: np.ndarray      # (T,) the policy's (= the logged) action at each kept event
    rewards: np.ndarray   # (T,) their rewards, in the order the policy saw them
    n_read: int           # log events read (the whole log, or up to the T-th kept event)

    @property
    def n_steps(self) -> int:
        return len(self.kept)

    @property
    def estimate(self) -> Estimate:
        """The replay value (1/T) sum_t r_t with the standard error of a mean over the T kept events."""
        if self.n_steps == 0:
            return Estimate("learning replay", float("nan"), float("nan"), 0)
        mean, se = _mean_se(self.rewards)
        return Estimate("learning replay", float(mean), float(se), self.n_steps)


def _is_linucb(policy) -> bool:
    return (type(policy).__name__ == "LinUCB" and hasattr(policy, "A_inv") and hasattr(policy, "theta")
            and hasattr(policy, "alpha"))


def _linucb_scores(policy, X: np.ndarray, arm: int | None = None) -> np.ndarray:
    """LinUCB's scores x^T theta_a + alpha sqrt(x^T A_a^{-1} x) for rows X: every arm (n, K) with one BLAS
    product, or one arm's column (n,)."""
    if arm is not None:
        quad = np.einsum("nj,nj->n", X @ policy.A_inv[arm], X)
        return X @ policy.theta[arm] + policy.alpha * np.sqrt(np.maximum(quad, 0.0))
    K, d = policy.A_inv.shape[0], X.shape[1]
    M = policy.A_inv.transpose(1, 0, 2).reshape(d, K * d)            # [A_1^{-1} | ... | A_K^{-1}]
    quad = np.matmul((X @ M).reshape(len(X), K, d), X[:, :, None])[..., 0]
    return X @ policy.theta.T + policy.alpha * np.sqrt(np.maximum(quad, 0.0))


def _replay_linucb(policy, X, a, r, n_steps, block) -> list[int] | None:
    """LinUCB on a log whose contexts repeat: score each distinct context once, and after an update recompute
    only the updated arm's column, since no other arm's state moved.  None when the contexts barely repeat."""
    U, inv = _distinct_rows(X)
    if len(U) > _MAX_DISTINCT:
        return None
    S = _linucb_scores(policy, U)                                      # (distinct contexts, K)
    best = S.argmax(axis=1)
    kept: list[int] = []
    pos, n = 0, len(X)
    while pos < n:
        stop = min(pos + block, n)
        hit = np.flatnonzero(best[inv[pos:stop]] == a[pos:stop])
        if hit.size == 0:
            pos = stop
            continue
        j = pos + int(hit[0])
        k = int(a[j])
        policy.update(k, float(r[j]), X[j])
        kept.append(j)
        if n_steps is not None and len(kept) >= n_steps:
            break
        pos = j + 1
        S[:, k] = _linucb_scores(policy, U, k)
        rows = np.flatnonzero(best == k)
        best[rows] = S[rows].argmax(axis=1)                            # k was the best there: rescore the row
        top = S[np.arange(len(U)), best]
        best[(S[:, k] > top) | ((S[:, k] == top) & (k < best))] = k
    return kept


_MAX_DISTINCT = 50_000


def _distinct_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows U of X and inv with X = U[inv]: hash each row to one number (fast), then verify exactly."""
    keys = X @ np.sqrt(np.arange(2, X.shape[1] + 2))                   # irrational weights: distinct rows, distinct keys
    _, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    U, inv = X[first], inv.ravel()
    if not np.array_equal(U[inv], X):                                  # a collision: fall back to the exact sort
        U, inv = np.unique(X, axis=0, return_inverse=True)
        inv = inv.ravel()
    return U, inv


def replay_learning(policy, contexts, actions, rewards, n_steps: int | None = None,
                    chunk: int | None = None) -> LearningReplay:
    """Replay a learning policy on a uniform log (Li et al. 2011, the replay evaluator): the lesson's replay equation
    V_replay = (1/T) sum_{t <= T} r_{i_t}, where i_t is the t-th event whose logged action equals the policy's choice
    and the policy is updated (``policy.update(a, r, x)``) on kept events only.

    ``policy``: a ``ContextualBandit`` whose choice is the argmax of ``predict_expectations`` (deterministic, such
    as lesson 03's LinUCB); it is updated in place.  ``contexts`` (n, d), ``actions`` (n,) logged actions,
    ``rewards`` (n,).  ``n_steps``: stop after T kept events (default: read the whole log).

    The policy's state changes only at a kept event, so instead of scoring one event at a time the loop scores a
    CHUNK of upcoming events (default ``chunk`` = K, the number of arms, the expected gap between matches under a
    uniform logger) in one vectorised call with the current state, jumps to the first match, updates (a rank-one
    Sherman-Morrison step for LinUCB) and continues from the event after it.  This gives exactly the per-event
    loop's kept events.  For LinUCB, whose arms learn separately, the loop goes further when the log's contexts
    repeat (at most 50,000 distinct rows, as in the lesson's world): it scores each distinct context once and after
    an update recomputes only the updated arm's column.  Ties go to the lowest arm, as ``predict``.
    """
    X = array("contexts", contexts, ndim=2)
    a = np.asarray(actions)
    r = array("rewards", rewards, ndim=1)
    n_arms, d = getattr(policy, "n_arms", None), getattr(policy, "n_features", None)
    if n_arms is None or d is None or not callable(getattr(policy, "update", None)):
        raise TypeError("policy must be a ContextualBandit (n_arms, n_features, predict_expectations, update), "
                        f"got {type(policy).__name__}")
    if X.shape[1] != d:
        raise ValueError(f"contexts must have the policy's {d} features per row, got shape {X.shape}")
    if a.shape != (len(X),) or r.shape != (len(X),):
        raise ValueError(f"actions and rewards need one entry per context row ({len(X)}), "
                         f"got shapes {a.shape} and {r.shape}")
    if not np.issubdtype(a.dtype, np.integer) or (len(a) and (a.min() < 0 or a.max() >= n_arms)):
        raise ValueError(f"actions must be integer arms in 0..{n_arms - 1}; the log and the policy must share arms")
    if n_steps is not None:
        n_steps = integer("n_steps", n_steps, low=1, hint="the horizon T: stop after T kept events, or None for all")
    chunk = n_arms if chunk is None else integer("chunk", chunk, low=1, hint="events scored per vectorised call")
    if _is_linucb(policy):
        kept = _replay_linucb(policy, X, a, r, n_steps, 8 * chunk)
        if kept is not None:
            return _result(kept, a, r, len(X), n_steps)
    score = policy.predict_expectations
    kept = []
    i, n = 0, len(X)
    while i < n and (n_steps is None or len(kept) < n_steps):
        stop = min(i + chunk, n)
        choice = score(X[i:stop]).argmax(axis=1)
        hit = np.flatnonzero(choice == a[i:stop])
        if hit.size == 0:
            i = stop                                   # no match in the chunk: the state is unchanged
            continue
        j = i + int(hit[0])
        policy.update(int(a[j]), float(r[j]), X[j])
        kept.append(j)
        i = j + 1
    return _result(kept, a, r, n, n_steps)


def _result(kept: list[int], a: np.ndarray, r: np.ndarray, n: int, n_steps: int | None) -> LearningReplay:
    idx = np.asarray(kept, dtype=int)
    done = n_steps is not None and len(kept) >= n_steps
    return LearningReplay(idx, a[idx], r[idx], int(idx[-1]) + 1 if done else n)
