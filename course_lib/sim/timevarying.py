"""Lesson 04: lesson 03's product world with tastes that rotate with the period of day and the day of week.

``TimeVaryingWorld.from_world(world)`` wraps a ``course_lib.sim.world.World`` (same catalogue, users,
product features and hidden click model) and changes two things, in the subclass only, so that lessons
03, 06 and 07, which use ``World`` itself, compute exactly what they did:

* the context a bandit sees is the user features followed by *richer time features*: a one-hot day of
  the week (Monday first, 7 columns) and a one-hot period of the day (night 0-6 h, morning 6-12 h,
  afternoon 12-18 h, evening 18-24 h; 4 columns), ``time_features_week``;
* the click logit gets a rotating taste term (lesson equation TV)

      logit = lesson 03's logit + amplitude * s_u * cos(psi_c - omega(tau)),
      omega(tau) = 2 pi period / 4 + 2 pi day / 7,   psi_c = 2 pi c / C,   s_u = +1 (F), -1 (M)

  so each category ``c`` of the ``C`` categories is in favour at its own angle, the favour moves round
  the categories through the day and shifts again from one day to the next, and the two genders' tastes
  are opposite.  The term is a product of a user feature, an item feature and a function of time:
  a rank-2 user-by-item matrix whose entries depend on time, the structure HyperBandit models.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from course_lib.sim.world import World, _as_datetime64, time_features
from course_lib.validate import ids, number

__all__ = ["TimeVaryingWorld", "time_features_week", "PERIODS", "DAYS"]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PERIODS = ("night", "morning", "afternoon", "evening")  # 0-6, 6-12, 12-18, 18-24 h


def day_and_period(timestamps: Any) -> tuple[np.ndarray, np.ndarray]:
    """Day of week (Monday 0) and period of day (0..3, six hours each) of each timestamp."""
    t = _as_datetime64(timestamps)
    days = t.astype("datetime64[D]")
    hour = ((t - days).astype("timedelta64[h]")).astype(np.int64)
    return (days.astype(np.int64) + 3) % 7, hour // 6


def time_features_week(timestamps: Any) -> np.ndarray:
    """``(..., 11)`` floats: one-hot day of week (7, Monday first), one-hot period of day (4)."""
    day, period = day_and_period(timestamps)
    return np.concatenate([np.eye(7)[day], np.eye(4)[period]], axis=-1)


class TimeVaryingWorld(World):
    """Lesson 03's world with the rotating taste term of equation TV (see the module docstring).

    Build it with ``TimeVaryingWorld.from_world(load_world(), amplitude=2.0)``; the wrapped world is
    copied, not changed.  ``amplitude >= 0`` (0 gives lesson 03's click probabilities).
    """

    amplitude: float = 2.0

    @classmethod
    def from_world(cls, world: World, amplitude: float = 2.0) -> TimeVaryingWorld:
        new = copy.copy(world)
        new.__class__ = cls
        new.amplitude = number("amplitude", amplitude, low=0)
        new.__post_init__()
        return new

    def __post_init__(self) -> None:
        super().__post_init__()
        self.context_names = self.artifact.user_feature_names + [f"day={d}" for d in DAYS] + \
            [f"period={p}" for p in PERIODS]
        self.n_user_features = len(self.artifact.user_feature_names)
        categories = list(self.artifact.categories)
        self._category = np.array([categories.index(c) for c in self.products["category"]])
        self._psi = 2 * np.pi * self._category / len(categories)
        self._sign = np.where(self.users["gender"].to_numpy() == "F", 1.0, -1.0)

    def context(self, user_ids: Any, timestamps: Any) -> np.ndarray:
        """Context vectors ``(n, 10 + 11)``: user features, day-of-week and period-of-day one-hots."""
        u = ids("user_ids", user_ids, self.n_users)
        tf = time_features_week(timestamps)
        u = np.broadcast_to(u, tf.shape[:-1])
        return np.concatenate([self.user_features[u], tf], axis=-1)

    def taste(self, user_ids: Any, product_ids: Any, timestamps: Any) -> np.ndarray:
        """The rotating term of equation TV (logit units), broadcast over the three arrays."""
        u = ids("user_ids", user_ids, self.n_users)
        p = ids("product_ids", product_ids, self.n_products)
        day, period = day_and_period(timestamps)
        omega = 2 * np.pi * period / 4 + 2 * np.pi * day / 7
        return self.amplitude * self._sign[u] * np.cos(self._psi[p] - omega)

    def click_probability(self, user_ids: Any, product_ids: Any, timestamps: Any) -> np.ndarray:
        """The oracle's exact click probability: lesson 03's logit plus the taste term (equation TV)."""
        u = ids("user_ids", user_ids, self.n_users)
        p = ids("product_ids", product_ids, self.n_products)
        tf = time_features(timestamps)
        logit = self.truth.logit(tf[..., 0], tf[..., 1], self._is_coffee[p], self._is_pizza_burger[p],
                                 self._age_scaled[u], self._price_scaled[p], self._is_search[u])
        return 1.0 / (1.0 + np.exp(-(logit + self.taste(u, p, timestamps))))
