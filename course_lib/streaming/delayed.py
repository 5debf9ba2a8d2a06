"""Lesson 08: delayed feedback: clicks arrive after their impressions; join them within a window.

A click on an impression shown at time ``t`` arrives at ``t + D``.  A trainer that joins each
impression with the clicks that arrived within ``w`` seconds, then emits it, labels a click with a
delay ``D > w`` as a non-click.  With exponential delays of mean ``tau`` the observed click rate is

    (DF)    p_obs(w) = p (1 - exp(-w / tau)),

biased down by a factor that depends on the delay.  When products have different delays (a coffee
is clicked within seconds, a dinner after reading the menu), the bias reorders them.
"""

from __future__ import annotations

import numpy as np

from course_lib.validate import integer, number, number_array

__all__ = ["simulate_delayed_clicks", "join_within", "observed_click_rate"]


def simulate_delayed_clicks(p: float, mean_delay_s: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Delays (seconds) of ``n`` impressions' clicks; ``inf`` where the impression got no click."""
    p = number("p", p, low=0, high=1)
    tau = number("mean_delay_s", mean_delay_s, low=0, low_open=True)
    n = integer("n", n, low=1)
    clicked = rng.random(n) < p
    return np.where(clicked, rng.exponential(tau, n), np.inf)


def join_within(delays: np.ndarray, window_s) -> np.ndarray:
    """Labels after joining within ``window_s`` seconds: 1 where the click arrived in time.

    ``window_s`` may be an array (one row of labels per window).
    """
    w = number_array("window_s", window_s, low=0)
    return (np.asarray(delays)[None, :] <= np.atleast_1d(w)[:, None]).astype(int).reshape(np.shape(w) + (-1,))


def observed_click_rate(p: float, mean_delay_s: float, window_s):
    """Equation DF: the click rate a trainer sees after a join window ``window_s`` (exponential delays)."""
    p = number("p", p, low=0, high=1)
    tau = number("mean_delay_s", mean_delay_s, low=0, low_open=True)
    return p * (1 - np.exp(-number_array("window_s", window_s, low=0) / tau))
