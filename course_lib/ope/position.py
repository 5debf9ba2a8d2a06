"""Lesson 06's position bias: click rates per item, naive or reweighted by the examination probabilities (the click model itself: course_lib.sim.clicks)."""

from __future__ import annotations

import numpy as np

from course_lib.validate import array



def item_click_rates(items, positions, clicks, n_items: int,
                     examination: np.ndarray | None = None) -> np.ndarray:
    """Per-item click rate from impressions; with ``examination`` each click counts 1/theta_position.

    Naive (no examination): clicks / impressions, biased towards items usually shown on top.
    Inverse examination weighting recovers the attractiveness alpha(item) of the position-based
    model: E[click / theta_k] = alpha.  items, positions (0-based ranks), clicks: flat arrays of
    impressions.  Items never shown get ``nan``.
    """
    items = np.asarray(items).ravel()
    positions = np.asarray(positions).ravel()
    c = array("clicks", clicks, low=0.0, min_ndim=1).ravel()
    if not (items.shape == positions.shape == c.shape):
        raise ValueError("items, positions and clicks must have one entry per impression")
    if examination is not None:
        e = array("examination", examination, low=0.0, high=1.0, low_open=True,
                   hint="; a position nobody examines carries no information", min_ndim=1)
        c = c / e[positions]
    shown = np.bincount(items, minlength=n_items).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(items, weights=c, minlength=n_items) / shown
