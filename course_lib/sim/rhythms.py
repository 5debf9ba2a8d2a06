"""Lesson 05's world: a stream of category engagements whose true per-hour preferences are known.

Every user mixes four daily profiles (morning, midday, evening, night).  Profile ``k`` is active
around an hour ``mu_k`` (a von Mises bump on the 24-hour circle, shifted per user) and carries a
personal distribution over categories.  At hour ``h`` the user's true preference is

    p_u(h) = sum_k a_uk(h) pi_uk,   a_uk(h) = w_uk b_k(h) / sum_j w_uj b_j(h)           (5.0)

and the user is active at hour ``h`` in proportion to ``sum_k w_uk b_k(h)``.  On weekends every
bump starts later and the evening profile weighs more.  Activity levels differ by orders of
magnitude (log-normal events per day), so many users are sparse.  A fraction of users change
rhythm half-way: their personal hour offset jumps by several hours (a new job, a new shift).
Time zones and daylight saving are out of scope: every user lives on one 24-hour clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.validate import integer, number

__all__ = ["RhythmWorld", "make_rhythm_world", "PROFILE_NAMES", "CATEGORY_NAMES"]

PROFILE_NAMES = ("morning", "midday", "evening", "night")
PROFILE_HOURS = np.array([7.5, 12.5, 19.5, 23.0])
CATEGORY_NAMES = ("news", "podcasts", "sports", "cooking", "comedy", "movies", "music", "sleep sounds")
# which categories each profile favours (prototype weights before per-user noise)
_PROTOTYPES = np.array([
    [6, 5, 1, 1, 0.5, 0.3, 1, 0.2],    # morning: news, podcasts
    [2, 1, 3, 4, 2, 0.5, 1, 0.2],      # midday: cooking, sports
    [0.5, 0.5, 3, 1, 4, 5, 1, 0.2],    # evening: movies, comedy, sports
    [0.3, 1, 0.3, 0.2, 1, 2, 4, 5],    # night: sleep sounds, music
])


@dataclass
class RhythmWorld:
    """A time-ordered event stream with its truth.

    Events (sorted by ``time``, in hours since the start): ``user``, ``time``, ``hour`` (0..23),
    ``day``, ``weekend`` (bool), ``category`` (the category engaged with).
    Truth: ``pref[regime, weekend, user, hour, category]``, where regime 1 applies to shifted users
    from ``shift_day`` on; ``true_p(users, hours, days)`` looks it up.  ``rate[u]``: expected
    events per day of user u; ``shifted[u]``: whether u's rhythm moves at ``shift_day``.
    """

    user: np.ndarray
    time: np.ndarray
    hour: np.ndarray
    day: np.ndarray
    weekend: np.ndarray
    category: np.ndarray
    pref: np.ndarray
    activity: np.ndarray
    rate: np.ndarray
    shifted: np.ndarray
    shift_day: int
    n_days: int

    @property
    def n_users(self) -> int:
        return self.pref.shape[2]

    @property
    def n_categories(self) -> int:
        return self.pref.shape[4]

    @property
    def n_events(self) -> int:
        return len(self.user)

    def regime(self, users, days) -> np.ndarray:
        """0 before a user's shift, 1 after it (always 0 for users who never shift)."""
        return (self.shifted[users] & (np.asarray(days) >= self.shift_day)).astype(int)

    def true_p(self, users, hours, days) -> np.ndarray:
        """True category distribution (n, C) of each (user, hour, day)."""
        users, hours, days = np.asarray(users), np.asarray(hours), np.asarray(days)
        return self.pref[self.regime(users, days), _is_weekend(days).astype(int), users, hours]


def _is_weekend(days) -> np.ndarray:
    return np.asarray(days) % 7 >= 5


def _bumps(centres: np.ndarray, kappa: float) -> np.ndarray:
    """von Mises bumps on the 24-hour circle: centres (..., K) -> (..., 24, K), peak 1."""
    h = np.arange(24)[:, None]
    angle = 2 * np.pi * (h - centres[..., None, :]) / 24
    return np.exp(kappa * (np.cos(angle) - 1))


def make_rhythm_world(n_users: int = 3000, n_days: int = 45, seed: int = 0, *,
                      median_rate: float = 1.5, rate_sigma: float = 1.2,
                      shift_fraction: float = 0.2, shift_day: int | None = None,
                      kappa: float = 4.0, taste_concentration: float = 8.0) -> RhythmWorld:
    """Generate the world of eq. (5.0) and its events in time order.

    ``median_rate``: median events per user per day (log-normal with ``rate_sigma``);
    ``shift_fraction`` of users move their rhythm by 4 to 8 hours at ``shift_day`` (default half-way);
    ``kappa``: concentration of the daily bumps (larger = sharper rhythms);
    ``taste_concentration``: Dirichlet concentration of each user's profile tastes around the prototypes.
    """
    n_users = integer("n_users", n_users)
    n_days = integer("n_days", n_days, low=2)
    median_rate = number("median_rate", median_rate, low=0, low_open=True)
    rate_sigma = number("rate_sigma", rate_sigma, low=0)
    shift_fraction = number("shift_fraction", shift_fraction, low=0, high=1)
    shift_day = n_days // 2 if shift_day is None else integer("shift_day", shift_day, low=0, high=n_days)
    kappa = number("kappa", kappa, low=0, low_open=True)
    taste_concentration = number("taste_concentration", taste_concentration, low=0, low_open=True)
    rng = np.random.default_rng(seed)
    K, C = _PROTOTYPES.shape

    # per-user profile weights, tastes, hour offsets, activity rates, shifts
    w = rng.dirichlet(np.full(K, 0.7), size=n_users)                              # (U, K)
    proto = _PROTOTYPES / _PROTOTYPES.sum(axis=1, keepdims=True)
    tastes = np.stack([rng.dirichlet(taste_concentration * C * proto[k], size=n_users)
                       for k in range(K)], axis=1)                               # (U, K, C)
    offset = rng.normal(0.0, 1.0, size=n_users)
    rate = median_rate * np.exp(rate_sigma * rng.standard_normal(n_users))
    shifted = rng.random(n_users) < shift_fraction
    jump = rng.uniform(4, 8, size=n_users) * rng.choice([-1, 1], size=n_users)

    pref = np.empty((2, 2, n_users, 24, C))
    activity = np.empty((2, 2, n_users, 24))
    for regime in (0, 1):
        off = offset + (jump * shifted if regime else 0.0)
        for weekend in (0, 1):
            centres = PROFILE_HOURS[None, :] + off[:, None] + (1.5 if weekend else 0.0)
            wk = w * (np.array([0.6, 1.0, 1.6, 1.2]) if weekend else 1.0)
            act = _bumps(centres, kappa) * wk[:, None, :]                       # (U, 24, K)
            a = act / act.sum(axis=2, keepdims=True)
            pref[regime, weekend] = np.einsum("uhk,ukc->uhc", a, tastes)
            activity[regime, weekend] = act.sum(axis=2)

    # events: Poisson counts per (user, day), hours from the activity curve, categories from p_u(h)
    days = np.arange(n_days)
    weekend_of_day = _is_weekend(days)
    lam = rate[:, None] * np.where(weekend_of_day, 1.2, 1.0)[None, :]
    counts = rng.poisson(lam)                                                    # (U, D)
    user = np.repeat(np.repeat(np.arange(n_users), n_days), counts.ravel())
    day = np.repeat(np.tile(days, n_users), counts.ravel())
    we = weekend_of_day[day].astype(int)
    reg = (shifted[user] & (day >= shift_day)).astype(int)
    act = activity[reg, we, user]                                                # (n, 24)
    cdf = np.cumsum(act, axis=1)
    u1 = rng.random(len(user)) * cdf[:, -1]
    hour = np.minimum((cdf < u1[:, None]).sum(axis=1), 23)
    p = pref[reg, we, user, hour]
    cdf_c = np.cumsum(p, axis=1)
    u2 = rng.random(len(user)) * cdf_c[:, -1]
    category = np.minimum((cdf_c < u2[:, None]).sum(axis=1), C - 1)
    time = day * 24.0 + hour + rng.random(len(user))
    order = np.argsort(time, kind="stable")
    return RhythmWorld(user=user[order], time=time[order], hour=hour[order], day=day[order],
                       weekend=we[order].astype(bool), category=category[order], pref=pref,
                       activity=activity, rate=rate, shifted=shifted, shift_day=shift_day, n_days=n_days)
