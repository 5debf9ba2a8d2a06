"""Lesson 07, going further: Team Draft interleaving (Radlinski, Kurup and Joachims, CIKM 2008)."""

import numpy as np
import pytest

from course_lib import abtest


def test_team_draft_hand_worked_example():
    # A = (1, 2, 3, 4), B = (2, 3, 4, 1).  Round 1, B wins the coin: B takes 2, A takes 1 (its best free item).
    # Round 2, A wins the coin: A takes 3 (1 and 2 are used), B takes 4.  Slate (2, 1, 3, 4), teams (B, A, A, B).
    a, b = np.array([1, 2, 3, 4]), np.array([2, 3, 4, 1])
    seen = set()
    for seed in range(40):
        slate, team = abtest.team_draft_interleave(a, b, 4, np.random.default_rng(seed))
        seen.add((tuple(slate), tuple(team)))
    assert seen == {((1, 2, 3, 4), (0, 1, 0, 1)), ((1, 2, 3, 4), (0, 1, 1, 0)),
                    ((2, 1, 3, 4), (1, 0, 0, 1)), ((2, 1, 3, 4), (1, 0, 1, 0))}
    # a click on the item B contributed at slot 0 and one on A's item at slot 2: a tie; one click on A's: A wins
    team = np.array([1, 0, 0, 1])
    assert abtest.team_draft_credit(team, [1, 0, 1, 0]) == 0
    assert abtest.team_draft_credit(team, [0, 1, 0, 0]) == 1
    assert abtest.team_draft_credit(team, [0, 0, 0, 1]) == -1
    assert abtest.team_draft_credit(team, [0, 0, 0, 0]) == 0


def test_each_ranker_fills_half_the_top_slots_in_expectation():
    rng = np.random.default_rng(3)
    n, items = 20_000, 30
    a = np.argsort(rng.random((n, items)), axis=1)
    b = np.argsort(rng.random((n, items)), axis=1)
    slate, team = abtest.team_draft_interleave(a, b, 5, rng)
    share_a_top = (team[:, 0] == 0).mean()            # who fills slot 1: a fair coin
    assert share_a_top == pytest.approx(0.5, abs=3 * np.sqrt(0.25 / n))
    assert np.abs((team[:, :4] == 0).sum(axis=1) - 2).max() == 0      # after every round the teams are equal
    assert (np.sort(slate, axis=1)[:, 1:] != np.sort(slate, axis=1)[:, :-1]).all()   # no item twice
    # identical rankers: the slate is their ranking and every click is credited by a coin, so A wins half
    same, team_same = abtest.team_draft_interleave(a, a, 5, rng)
    assert (same == a[:, :5]).all()
    wins = abtest.team_draft_credit(team_same, np.eye(5, dtype=int)[np.zeros(n, int)])
    assert (wins == 1).mean() == pytest.approx(0.5, abs=3 * np.sqrt(0.25 / n))


def test_bad_input_is_named():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="ranking_a"):
        abtest.team_draft_interleave([0.5, 1.5], [0, 1], 2, rng)
    with pytest.raises(ValueError, match="ranking_b"):
        abtest.team_draft_interleave([0, 1, 2], [0, 0, 1], 2, rng)
    with pytest.raises(ValueError, match="length"):
        abtest.team_draft_interleave([0, 1], [1, 0], 3, rng)
    with pytest.raises(ValueError, match="same shape"):
        abtest.team_draft_interleave([0, 1, 2], [1, 0], 2, rng)
    with pytest.raises(TypeError, match="rng"):
        abtest.team_draft_interleave([0, 1], [1, 0], 2, 0)
    with pytest.raises(ValueError, match="team"):
        abtest.team_draft_credit([0, 2], [1, 0])
