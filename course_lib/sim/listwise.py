"""Lesson 09's hidden list-wise user model: the true response to a whole re-ranked list.

A request has a user ``u`` (dim ``d``), a context (two states, e.g. weekday or weekend) and
``M`` candidate items, each with features ``x`` (dim ``d``) and a category.  Items of one
category are near-duplicates (their features lie close to the category's centre).  The user
examines slot ``j`` with probability ``e_j`` and clicks the item there with probability

    P(click_j) = e_j * sigmoid(a_i - rho * n_same_j + kappa * comp_j)                (eq. 9.1)

where ``a_i = u' A x_i + b_{c_i} + z' B_{c_i}`` is the item's own appeal (user, category and
context), ``n_same_j`` counts the items of the same category already placed above slot ``j``
(redundancy) and ``comp_j`` is 1 when a complementary category is placed above it.  A click
turns into a purchase with probability ``sigmoid(q' x_i - 1)``.  The reward of a list is

    R(L; u, c) = sum_j P(click_j) + w_buy * P(buy_j)                                 (eq. 9.2)

(expected clicks and purchases, purchases weighted: the user's, the platform's and the
merchant's feedback in one number).  Because of redundancy and complements, the best list is
not the top-k items sorted by their own appeal.  A *shift* (a trend) raises the appeal of one
category for every user; the models of lesson 09 are trained before it.

Everything is NumPy and vectorised over requests and over lists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import permutations

import numpy as np

from course_lib.numerics import sigmoid
from course_lib.validate import integer, number

__all__ = ["ListwiseWorld", "Requests", "make_world", "sample_requests", "list_reward",
           "simulate_outcomes", "appeal", "all_lists", "best_lists", "logging_lists", "ListwiseUsers"]


@dataclass(frozen=True)
class ListwiseWorld:
    """The hidden truth of lesson 09 (eq. 9.1-9.2); build it with ``make_world``."""

    centres: np.ndarray      # (C, d) category centres
    A: np.ndarray            # (d, d) user-item interaction
    cat_bias: np.ndarray     # (C,) category popularity b_c
    ctx_bias: np.ndarray     # (2, C) context effect per category
    quality: np.ndarray      # (d,) purchase propensity weights q
    exam: np.ndarray         # (k,) examination probability per slot e_j
    complements: np.ndarray  # (C, C) 1 where two categories complement each other
    redundancy: float        # rho
    complement: float        # kappa
    buy_weight: float        # w_buy
    spread: float            # item feature noise around the category centre
    trend_category: int      # the category a shift boosts
    trend_boost: float       # logit added to that category under the shift

    @property
    def n_categories(self) -> int:
        return len(self.cat_bias)

    @property
    def dim(self) -> int:
        return self.centres.shape[1]

    @property
    def k(self) -> int:
        return len(self.exam)

    def shifted(self, boost: float | None = None) -> "ListwiseWorld":
        """The world after the trend: ``trend_category``'s appeal raised by ``boost`` (default its own)."""
        b = self.trend_boost if boost is None else number("boost", boost)
        bias = self.cat_bias.copy()
        bias[self.trend_category] += b
        return dataclasses.replace(self, cat_bias=bias)


@dataclass(frozen=True)
class Requests:
    """``n`` re-ranking requests: users (n, d), contexts (n,) in {0, 1}, candidates (n, M, d), categories (n, M)."""

    users: np.ndarray
    contexts: np.ndarray
    items: np.ndarray
    categories: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_candidates(self) -> int:
        return self.items.shape[1]

    def take(self, index) -> "Requests":
        """The requests at ``index`` (a slice or an integer array)."""
        return Requests(self.users[index], self.contexts[index], self.items[index], self.categories[index])


def make_world(seed: int = 0, n_categories: int = 5, dim: int = 4, k: int = 4, redundancy: float = 1.2,
               complement: float = 0.8, buy_weight: float = 4.0, trend_boost: float = 1.5) -> ListwiseWorld:
    """A random world of eq. 9.1-9.2 (same seed, same world)."""
    n_categories = integer("n_categories", n_categories, low=2)
    dim = integer("dim", dim, low=1)
    k = integer("k", k, low=1)
    rng = np.random.default_rng(seed)
    comp = np.zeros((n_categories, n_categories))
    for a in range(0, n_categories - 1, 2):          # pairs (0, 1), (2, 3), ... complement each other
        comp[a, a + 1] = comp[a + 1, a] = 1.0
    return ListwiseWorld(
        centres=rng.normal(size=(n_categories, dim)),
        A=rng.normal(scale=0.8 / np.sqrt(dim), size=(dim, dim)),
        cat_bias=rng.normal(-0.3, 0.5, size=n_categories),
        ctx_bias=rng.normal(0.0, 0.6, size=(2, n_categories)),
        quality=rng.normal(scale=0.7, size=dim),
        exam=1.0 / (1.0 + np.arange(k)) ** 0.6,
        complements=comp,
        redundancy=number("redundancy", redundancy, low=0),
        complement=number("complement", complement, low=0),
        buy_weight=number("buy_weight", buy_weight, low=0),
        spread=0.35,
        trend_category=int(rng.integers(n_categories)),
        trend_boost=number("trend_boost", trend_boost),
    )


def sample_requests(world: ListwiseWorld, n: int, n_candidates: int, rng: np.random.Generator) -> Requests:
    """``n`` requests with ``n_candidates`` items each; every category is drawn, so near-duplicates are common."""
    n = integer("n", n, low=1)
    m = integer("n_candidates", n_candidates, low=world.k,
                hint=f"a list of k = {world.k} slots needs at least {world.k} candidates")
    users = rng.normal(size=(n, world.dim))
    contexts = rng.integers(0, 2, size=n)
    cats = rng.integers(0, world.n_categories, size=(n, m))
    items = world.centres[cats] + world.spread * rng.normal(size=(n, m, world.dim))
    return Requests(users, contexts, items, cats)


def appeal(world: ListwiseWorld, req: Requests) -> np.ndarray:
    """Own appeal logit a_i of every candidate (n, M), before any effect of the other items in the list."""
    ua = req.users @ world.A                                  # (n, d)
    return (np.einsum("nd,nmd->nm", ua, req.items) + world.cat_bias[req.categories]
            + world.ctx_bias[req.contexts[:, None], req.categories])


def _slot_probs(world: ListwiseWorld, req: Requests, lists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Click and purchase probability of every slot of ``lists`` (n, L, k) -> two (n, L, k) arrays."""
    n, n_lists, k = lists.shape
    rows = np.arange(n)[:, None, None]
    a = appeal(world, req)[rows, lists]                     # (n, L, k)
    c = req.categories[rows, lists]                          # (n, L, k)
    buy_given_click = sigmoid(req.items @ world.quality - 1.0)[rows, lists]
    n_same = np.zeros(a.shape)
    comp = np.zeros(a.shape)
    for j in range(1, k):                                    # items placed above slot j
        above = c[..., :j]
        n_same[..., j] = (above == c[..., j:j + 1]).sum(-1)
        comp[..., j] = world.complements[above, c[..., j:j + 1]].max(-1)
    logit = a - world.redundancy * n_same + world.complement * comp
    click = world.exam[:k] * sigmoid(logit)
    return click, click * buy_given_click


def list_reward(world: ListwiseWorld, req: Requests, lists) -> np.ndarray:
    """True expected reward R (eq. 9.2) of each list: ``lists`` (n, k) or (n, L, k) -> (n,) or (n, L)."""
    lists = np.asarray(lists)
    single = lists.ndim == 2
    if single:
        lists = lists[:, None, :]
    if lists.ndim != 3 or lists.shape[0] != len(req):
        raise ValueError(f"lists must have shape (n_requests, k) or (n_requests, n_lists, k), got {lists.shape}")
    click, buy = _slot_probs(world, req, lists)
    r = click.sum(-1) + world.buy_weight * buy.sum(-1)
    return r[:, 0] if single else r


def simulate_outcomes(world: ListwiseWorld, req: Requests, lists, rng: np.random.Generator):
    """Logged feedback: Bernoulli clicks and purchases of every slot, (n, k) each (eq. 9.1)."""
    lists = np.asarray(lists)
    click_p, buy_p = _slot_probs(world, req, lists[:, None, :])
    click = rng.random(click_p.shape) < click_p
    buy = click & (rng.random(buy_p.shape) < buy_p / np.maximum(click_p, 1e-12))
    return click[:, 0].astype(float), buy[:, 0].astype(float)


def all_lists(n_candidates: int, k: int) -> np.ndarray:
    """Every ordered list of ``k`` distinct items out of ``n_candidates``: (M!/(M-k)!, k)."""
    m = integer("n_candidates", n_candidates, low=1)
    k = integer("k", k, low=1, high=m, hint="k cannot exceed the number of candidates")
    return np.array(list(permutations(range(m), k)), dtype=np.int64)


def best_lists(world: ListwiseWorld, req: Requests, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The true best list of each request by exhaustive enumeration: (n, k) lists and (n,) rewards."""
    perms = all_lists(req.n_candidates, world.k)
    best, value = np.empty((len(req), world.k), dtype=np.int64), np.empty(len(req))
    for s in range(0, len(req), chunk):
        part = req.take(slice(s, s + chunk))
        r = list_reward(world, part, np.broadcast_to(perms, (len(part),) + perms.shape))
        j = r.argmax(1)
        best[s:s + chunk], value[s:s + chunk] = perms[j], r[np.arange(len(part)), j]
    return best, value


def logging_lists(world: ListwiseWorld, req: Requests, rng: np.random.Generator,
                  temperature: float = 1.0) -> np.ndarray:
    """The logging policy's lists (n, k): Plackett-Luce sampling on each item's own appeal plus noise.

    It knows nothing of redundancy or complements, so its logs show many kinds of lists.
    """
    t = number("temperature", temperature, low=0, low_open=True)
    score = appeal(world, req) / t
    gumbel = -np.log(-np.log(rng.random(score.shape)))
    return np.argsort(-(score + gumbel), axis=1)[:, :world.k]


class ListwiseUsers:
    """The requests ``req`` of ``world`` as a ``course_lib.sim.clicks.ListwiseClickModel``: slates (n, k) of
    candidate indices -> click probabilities (n, k) given the whole slate (eq. 9.1), or drawn clicks."""

    def __init__(self, world: ListwiseWorld, req: Requests):
        self.world, self.req = world, req

    def click_probabilities(self, slates: np.ndarray) -> np.ndarray:
        slates = np.asarray(slates)
        if slates.ndim != 2 or slates.shape[0] != len(self.req):
            raise ValueError(f"slates must have shape ({len(self.req)}, k), got {slates.shape}")
        return _slot_probs(self.world, self.req, slates[:, None, :])[0][:, 0]

    def clicks(self, slates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = self.click_probabilities(slates)
        return (rng.random(p.shape) < p).astype(float)
