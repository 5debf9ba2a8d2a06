"""Lesson 08's exercise checkers: the checkpoint with offsets, and the de-duplicating consumer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np

from course_lib.notebook.exercises import ExerciseResult, run_check
from course_lib.streaming.events import make_events
from course_lib.streaming.trainer import TrainerState, fast_path, load_checkpoint, save_checkpoint

__all__ = ["check_save_checkpoint", "check_apply_once", "apply_once"]


def apply_once(state: TrainerState, ids: np.ndarray, arms: np.ndarray, rewards: np.ndarray, X: np.ndarray,
               seen: set[int]) -> int:
    """Reference: apply each event id at most once (within the batch and across batches); return how many."""
    keep = []
    for i, e in enumerate(ids.tolist()):
        if e not in seen:
            seen.add(e)
            keep.append(i)
    keep = np.array(keep, dtype=int)
    fast_path(state, arms[keep], rewards[keep], X[keep], ids[keep])
    return len(keep)


def _state(seed: int) -> TrainerState:
    ev = make_events(50, 4, 3, seed=seed)
    s = TrainerState.fresh(4, 3, audit_size=50)
    fast_path(s, ev["arm"], ev["r"], ev["x"], ev["id"])
    return s


def check_save_checkpoint(candidate) -> ExerciseResult:
    """Exercise 1: state and offsets in one file, replaced atomically (a crash mid-write keeps the old pair)."""

    def check(f):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "checkpoint.npz"
            s1, s2 = _state(1), _state(2)
            f(path, s1, {0: 10, 1: 7})
            ck = load_checkpoint(path)
            assert ck is not None, "no file at `path`: write the checkpoint there"
            assert ck.offsets == {0: 10, 1: 7}, (f"offsets read back as {ck.offsets}: store them in the same file, "
                                                 "as an (n, 2) int array named 'offsets' of (partition, offset)")
            for k, v in s1.arrays().items():
                assert np.array_equal(ck.state.arrays()[k], v), f"state array {k!r} differs after loading"
            real_replace = os.replace

            def crash(src, dst):
                raise OSError("killed before the rename")
            with mock.patch("os.replace", crash), mock.patch("os.rename", crash):
                try:
                    f(path, s2, {0: 99, 1: 99})
                except OSError:
                    pass
            ck = load_checkpoint(path) if path.exists() else None
            assert ck is not None and ck.offsets == {0: 10, 1: 7}, (
                "a crash during the second save destroyed or changed the first checkpoint: write to a temporary "
                "file in the same folder, flush and fsync it, then os.replace it over `path`")
            assert os.replace is real_replace
            synced, replaced_unsynced = set(), []
            real_fsync = os.fsync

            def fsync(fd):
                synced.add(os.fstat(fd).st_ino)
                return real_fsync(fd)

            def replace(src, dst, *a, **k):
                if os.path.isfile(src) and os.stat(src).st_ino not in synced:
                    replaced_unsynced.append(src)
                return real_replace(src, dst, *a, **k)
            with mock.patch("os.fsync", fsync), mock.patch("os.replace", replace):
                f(path, s2, {0: 99, 1: 99})
            assert not replaced_unsynced, (
                "the temporary file was renamed over `path` before os.fsync on it: after a power loss the rename "
                "can survive while the data does not; flush and os.fsync(f.fileno()) before os.replace")
            assert load_checkpoint(path).offsets == {0: 99, 1: 99}, "the second save did not replace the first"

    return run_check("save_checkpoint", candidate, save_checkpoint, check)


def check_apply_once(candidate) -> ExerciseResult:
    """Exercise 2: apply each event id once, whether the duplicate is in the same batch or a later one."""

    def check(f):
        ev = make_events(60, 5, 3, seed=4)
        rng = np.random.default_rng(0)
        batches = [np.r_[0:20, 5, 5, 19], np.r_[15:40, 2], np.r_[40:60, 39, 59, 0]]  # redeliveries
        mine, ref = TrainerState.fresh(5, 3, audit_size=60), TrainerState.fresh(5, 3, audit_size=60)
        seen_m, seen_r = set(), set()
        applied_before = np.zeros(60, dtype=bool)
        for idx in batches:
            idx = rng.permutation(idx)
            args = (ev["id"][idx], ev["arm"][idx], ev["r"][idx], ev["x"][idx])
            n_m = f(mine, *args, seen_m)
            n_r = apply_once(ref, *args, seen_r)
            twice = np.flatnonzero(mine.seen > 1)
            if len(twice):
                again = twice[applied_before[twice]]
                assert not len(again), (f"event {again[0]} from an earlier batch was applied twice: add every applied "
                                        "id to `seen`, so that the next batch skips it")
                raise AssertionError(f"event {twice[0]} appears twice in the same batch and was applied twice: "
                                     "update `seen` as you go through the batch, not after it")
            missing = np.setdiff1d(np.unique(args[0]), np.flatnonzero(mine.seen))
            assert not len(missing), (f"event {missing[0]} was never applied: the first copy of every id must count")
            assert n_m == n_r, f"returned {n_m} events applied for a batch where {n_r} were new"
            applied_before = mine.seen > 0
        assert np.allclose(mine.A, ref.A) and np.allclose(mine.b, ref.b), "A or b differ from applying each event once"
        assert seen_m == set(range(60)), "`seen` must hold every id applied so far (the next batch checks it)"

    return run_check("apply_once", candidate, apply_once, check)
