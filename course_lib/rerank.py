"""Lesson 09: learning at serving time (LAST) for re-ranking, in PyTorch.

A re-ranker turns ``M`` candidates into a list of ``k`` slots.  The pieces, with the lesson's
equations:

- ``Generator``: a policy that builds the list slot by slot,
  ``p_theta(L | u, C) = prod_j softmax_i(s_theta(i; u, C, L_{<j}))``                 (eq. 9.3)
  over the candidates not yet placed.  Its parameters can carry a leading request dimension,
  so that every request of a batch runs with its own ``theta + Delta theta``.
- ``Evaluator``: a list-wise model of each slot's click and purchase probability given the
  items above it; its score ``E(L; u, C)`` predicts the reward of eq. 9.2.
- ``generator_evaluator``: the G-E baseline, the best of ``N`` sampled lists by ``E``.
- ``last_direction``: the gradient of the advantage-weighted surrogate
  ``J(theta) = 1/S sum_s (E(L_s) - b) log p_theta(L_s)``, ``b = mean_s E(L_s)``   (eq. 9.4)
  over ``S`` lists sampled for this request, normalised to unit length.
- ``last_parallel`` / ``last_serial``: ``Delta theta = alpha ||theta|| g / ||g||`` (eq. 9.5),
  the step a fraction ``alpha`` of the deployed parameters' norm; parallel tries several
  ``alpha`` at once and lets ``E`` choose; serial repeats sample, evaluate, step while ``E``
  improves.  ``Delta theta`` lives only inside the call: the deployed generator is never written.

Wang, Li, Zhang, Chen, Zhang, Xu and Lin, "Do Not Wait: Learning Re-Ranking Model Without User
Feedback At Serving Time in E-Commerce", arXiv:2406.14004 (2024).

The torch device is chosen once, in ``DEVICE``: CUDA when available, else the CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from course_lib.sim.listwise import ListwiseWorld, Requests, list_reward
from course_lib.validate import integer, number

__all__ = ["DEVICE", "RerankBatch", "make_batch", "batch_from_requests", "Generator", "Evaluator",
           "train_evaluator", "train_generator", "generator_lists", "generator_evaluator",
           "last_direction", "last_parallel", "last_serial", "surrogate_step", "parallel_select", "parallel_alphas", "last_offset",
           "ndcg_vs_best", "list_probabilities", "param_norm", "mean_ci", "latency", "Pipeline", "fit_pipeline", "Served", "BiasedEvaluator", "evaluate_served", "refresh_evaluator"]

#: The one place the lesson picks its device.
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
DTYPE = torch.float32


# --------------------------------------------------------------------------------------------
# Requests as tensors
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RerankBatch:
    """Model inputs of ``B`` requests: item features ``f`` (B, M, F), user features ``g`` (B, G), list length ``k``."""

    f: torch.Tensor
    g: torch.Tensor
    k: int

    def __len__(self) -> int:
        return self.f.shape[0]

    @property
    def n_candidates(self) -> int:
        return self.f.shape[1]

    def take(self, index) -> "RerankBatch":
        return RerankBatch(self.f[index], self.g[index], self.k)

    def repeat(self, times: int) -> "RerankBatch":
        """Each request ``times`` times in a row (request-major), for one parameter copy per repeat."""
        return RerankBatch(self.f.repeat_interleave(times, 0), self.g.repeat_interleave(times, 0), self.k)


def make_batch(item_features, user_features, k: int) -> RerankBatch:
    """Check and convert arrays: ``item_features`` (B, M, F), ``user_features`` (B, G), ``k`` slots."""
    f = np.asarray(item_features, dtype=float)
    g = np.asarray(user_features, dtype=float)
    if f.ndim != 3:
        raise ValueError(f"item_features must have shape (requests, candidates, features), got {f.shape}")
    if f.shape[0] == 0 or f.shape[1] == 0:
        raise ValueError(f"item_features must hold at least one request and one candidate, got shape {f.shape}; "
                         "a request with no candidates has nothing to re-rank")
    if g.ndim != 2 or g.shape[0] != f.shape[0]:
        raise ValueError(f"user_features must have shape ({f.shape[0]}, features), got {g.shape}")
    for name, a in (("item_features", f), ("user_features", g)):
        if not np.isfinite(a).all():
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise ValueError(f"{name} must be finite, got {a[where]} at index {where}; impute or drop the feature")
    k = integer("k", k, low=1, high=f.shape[1],
                hint=f"a list cannot have more slots than the {f.shape[1]} candidates")
    return RerankBatch(torch.as_tensor(f, dtype=DTYPE, device=DEVICE),
                       torch.as_tensor(g, dtype=DTYPE, device=DEVICE), k)


def batch_from_requests(world: ListwiseWorld, req: Requests) -> RerankBatch:
    """What the models see of simulated requests: item features plus a category one-hot; user features plus context."""
    cat = np.eye(world.n_categories)[req.categories]
    ctx = np.eye(2)[req.contexts]
    return make_batch(np.concatenate([req.items, cat], -1), np.concatenate([req.users, ctx], -1), world.k)


# --------------------------------------------------------------------------------------------
# Generator (eq. 9.3): parameters as a dict, optionally with a leading request dimension
# --------------------------------------------------------------------------------------------
Params = dict[str, torch.Tensor]


def _b(p: torch.Tensor, base_dim: int) -> torch.Tensor:
    """A parameter with a leading batch axis (1 when it is shared by all requests)."""
    return p if p.dim() > base_dim else p.unsqueeze(0)


class Generator(nn.Module):
    """Slot-by-slot list policy (eq. 9.3): a one-hidden-layer score of each remaining candidate.

    The score of candidate ``i`` at slot ``j`` reads the item, the user, the sum of the features
    already placed (so it can learn redundancy and complements) and the slot.
    """

    def __init__(self, n_item_features: int, n_user_features: int, k: int, hidden: int = 32, seed: int = 0):
        super().__init__()
        self.k = integer("k", k, low=1)
        gen = torch.Generator().manual_seed(int(seed))
        F, G, H = (integer("n_item_features", n_item_features), integer("n_user_features", n_user_features),
                   integer("hidden", hidden))

        def init(*shape, fan_in):
            return nn.Parameter((torch.randn(*shape, generator=gen) / math.sqrt(fan_in)).to(DEVICE, DTYPE))

        fan = 2 * F + G + self.k
        self.W_item, self.W_user = init(F, H, fan_in=fan), init(G, H, fan_in=fan)
        self.W_placed, self.W_slot = init(F, H, fan_in=fan), init(self.k, H, fan_in=fan)
        self.b1 = nn.Parameter(torch.zeros(H, device=DEVICE, dtype=DTYPE))
        self.w2 = init(H, fan_in=H)
        self.b2 = nn.Parameter(torch.zeros((), device=DEVICE, dtype=DTYPE))

    BASE_DIMS = {"W_item": 2, "W_user": 2, "W_placed": 2, "W_slot": 2, "b1": 1, "w2": 1, "b2": 0}

    def params(self) -> Params:
        """The deployed parameters theta, as a dict (the tensors themselves, not copies)."""
        return {name: getattr(self, name) for name in self.BASE_DIMS}

    def _logits(self, p: Params, batch: RerankBatch, placed_sum: torch.Tensor, slot: int,
                placed_mask: torch.Tensor) -> torch.Tensor:
        """Scores (B, S, M) of every candidate at ``slot`` for ``S`` partial lists per request."""
        hi = batch.f @ _b(p["W_item"], 2)                                   # (B, M, H)
        hu = (batch.g.unsqueeze(1) @ _b(p["W_user"], 2))                    # (B, 1, H)
        hs = placed_sum @ _b(p["W_placed"], 2)                              # (B, S, H)
        hk = _b(p["W_slot"], 2)[:, slot].unsqueeze(1)                       # (B|1, 1, H)
        const = hu + hk + _b(p["b1"], 1).unsqueeze(1)                      # (B, 1, H)
        h = torch.relu(hi.unsqueeze(1) + (hs + const).unsqueeze(2))         # (B, S, M, H)
        w2 = _b(p["w2"], 1)[:, None, None, :]
        b2 = _b(p["b2"], 0)[:, None, None]
        logits = (h * w2).sum(-1) + b2
        return logits.masked_fill(placed_mask, float("-inf"))

    def _run(self, batch: RerankBatch, n_lists: int, params: Params | None, mode: str,
             lists: torch.Tensor | None = None, rng: torch.Generator | None = None):
        p = self.params() if params is None else params
        B, M = len(batch), batch.n_candidates
        k = batch.k
        if k > self.k:
            raise ValueError(f"k must be <= {self.k} (the generator's slots), got {k}")
        placed_sum = torch.zeros(B, n_lists, batch.f.shape[2], device=DEVICE, dtype=DTYPE)
        mask = torch.zeros(B, n_lists, M, dtype=torch.bool, device=DEVICE)
        chosen = torch.empty(B, n_lists, k, dtype=torch.long, device=DEVICE)
        logp = torch.zeros(B, n_lists, device=DEVICE, dtype=DTYPE)
        for j in range(k):
            logits = self._logits(p, batch, placed_sum, j, mask)
            lsm = torch.log_softmax(logits, -1)
            if mode == "greedy":
                c = lsm.argmax(-1)
            elif mode == "sample":      # Gumbel-max: one exact draw from the softmax
                u = torch.rand(lsm.shape, generator=rng, device="cpu", dtype=DTYPE).to(DEVICE)
                c = (lsm.detach() - torch.log(-torch.log(u.clamp_min(1e-20)))).argmax(-1)
            else:
                c = lists[:, :, j]
            chosen[:, :, j] = c
            logp = logp + lsm.gather(-1, c.unsqueeze(-1)).squeeze(-1)
            mask = mask.scatter(-1, c.unsqueeze(-1), True)
            placed_sum = placed_sum + batch.f.gather(1, c.unsqueeze(-1).expand(-1, -1, batch.f.shape[2]))
        return chosen, logp

    def greedy(self, batch: RerankBatch, params: Params | None = None) -> torch.Tensor:
        """The deployed output: the most probable item at each slot, (B, k)."""
        with torch.no_grad():
            return self._run(batch, 1, params, "greedy")[0][:, 0]

    def sample(self, batch: RerankBatch, n_lists: int, rng: torch.Generator,
               params: Params | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_lists`` lists per request drawn from eq. 9.3, (B, S, k), with their log-probabilities (B, S)."""
        return self._run(batch, integer("n_lists", n_lists), params, "sample", rng=rng)

    def log_prob(self, batch: RerankBatch, lists: torch.Tensor, params: Params | None = None) -> torch.Tensor:
        """log p_theta(L | u, C) of given lists (B, S, k) -> (B, S) (eq. 9.3)."""
        lists = torch.as_tensor(lists, dtype=torch.long, device=DEVICE)
        if lists.dim() == 2:
            return self._run(batch, 1, params, "score", lists=lists[:, None, :])[1][:, 0]
        return self._run(batch, lists.shape[1], params, "score", lists=lists)[1]


def param_norm(params: Mapping[str, torch.Tensor]) -> float:
    """||theta||: the Euclidean norm of all parameters together."""
    return float(torch.sqrt(sum((p.detach() ** 2).sum() for p in params.values())))


# --------------------------------------------------------------------------------------------
# Evaluator
# --------------------------------------------------------------------------------------------
class Evaluator(nn.Module):
    """List-wise reward model: per slot, click and purchase probability from the item, the user,
    the slot, the items above it and the whole list; ``score`` sums them as eq. 9.2 does."""

    def __init__(self, n_item_features: int, n_user_features: int, k: int, buy_weight: float,
                 hidden: int = 32, seed: int = 0):
        super().__init__()
        torch.manual_seed(int(seed))
        self.k = integer("k", k, low=1)
        self.buy_weight = number("buy_weight", buy_weight, low=0)
        n_in = 3 * n_item_features + n_user_features + self.k
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 2)).to(DEVICE, DTYPE)

    def logits(self, batch: RerankBatch, lists: torch.Tensor) -> torch.Tensor:
        """Click and purchase logits of every slot, lists (B, S, k) -> (B, S, k, 2)."""
        B, S, k = lists.shape
        F = batch.f.shape[2]
        x = batch.f.gather(1, lists.reshape(B, S * k, 1).expand(-1, -1, F)).reshape(B, S, k, F)
        above = torch.cumsum(x, 2) - x
        whole = x.sum(2, keepdim=True).expand(-1, -1, k, -1)
        user = batch.g[:, None, None, :].expand(-1, S, k, -1)
        slot = torch.eye(self.k, device=DEVICE, dtype=DTYPE)[:k].expand(B, S, k, self.k)
        return self.net(torch.cat([x, above, whole, user, slot], -1))

    def slot_probs(self, batch: RerankBatch, lists: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.logits(batch, lists)
        click = torch.sigmoid(z[..., 0])
        return click, click * torch.sigmoid(z[..., 1])

    def score(self, batch: RerankBatch, lists) -> torch.Tensor:
        """E(L; u, C): predicted clicks + buy_weight * purchases, lists (B, S, k) -> (B, S) or (B, k) -> (B,)."""
        lists = torch.as_tensor(lists, dtype=torch.long, device=DEVICE)
        single = lists.dim() == 2
        with torch.no_grad():
            click, buy = self.slot_probs(batch, lists[:, None] if single else lists)
            s = click.sum(-1) + self.buy_weight * buy.sum(-1)
        return s[:, 0] if single else s


def _minibatches(n: int, batch_size: int, gen: torch.Generator):
    order = torch.randperm(n, generator=gen)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train_evaluator(ev: Evaluator, batch: RerankBatch, lists, clicks, buys, epochs: int = 30,
                    batch_size: int = 256, lr: float = 3e-3, seed: int = 0) -> list[float]:
    """Fit the evaluator to logged lists (n, k) and their clicks and purchases (n, k) by log-loss; returns the loss per epoch.

    The purchase head learns P(buy | click) on clicked slots only.
    """
    lists = torch.as_tensor(np.asarray(lists), dtype=torch.long, device=DEVICE)[:, None, :]
    c = torch.as_tensor(np.asarray(clicks), dtype=DTYPE, device=DEVICE)
    y = torch.as_tensor(np.asarray(buys), dtype=DTYPE, device=DEVICE)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(ev.parameters(), lr=number("lr", lr, low=0, low_open=True))
    bce = nn.functional.binary_cross_entropy_with_logits
    history = []
    for _ in range(integer("epochs", epochs)):
        total = 0.0
        for idx in _minibatches(len(batch), integer("batch_size", batch_size), gen):
            z = ev.logits(batch.take(idx), lists[idx])[:, 0]
            loss = bce(z[..., 0], c[idx]) + (bce(z[..., 1], y[idx], reduction="none") * c[idx]).sum() / c[idx].sum().clamp_min(1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(batch))
    return history


def train_generator(gen_model: Generator, batch: RerankBatch, lists, rewards, epochs: int = 30,
                    batch_size: int = 256, lr: float = 3e-3, seed: int = 0) -> list[float]:
    """Fit the generator to logged lists by reward-weighted log-likelihood, ``-mean(r * log p(L))``.

    A simplification: the lists that earned clicks and purchases are imitated, more so the more
    they earned, without correcting for the logging policy.  Returns the loss per epoch.
    """
    lists = torch.as_tensor(np.asarray(lists), dtype=torch.long, device=DEVICE)
    r = torch.as_tensor(np.asarray(rewards), dtype=DTYPE, device=DEVICE)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(gen_model.parameters(), lr=number("lr", lr, low=0, low_open=True))
    history = []
    for _ in range(integer("epochs", epochs)):
        total = 0.0
        for idx in _minibatches(len(batch), integer("batch_size", batch_size), gen):
            loss = -(r[idx] * gen_model.log_prob(batch.take(idx), lists[idx])).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(batch))
    return history


# --------------------------------------------------------------------------------------------
# Serving: generator, G-E, LAST
# --------------------------------------------------------------------------------------------
@dataclass
class Served:
    """Lists a method served (B, k) with their evaluator scores (B,) and evaluator calls per request."""

    lists: np.ndarray
    scores: np.ndarray
    evaluator_calls: float


def _rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def generator_lists(gen_model: Generator, ev, batch: RerankBatch) -> Served:
    """The deployed generator alone: its greedy list."""
    lists = gen_model.greedy(batch)
    return Served(lists.cpu().numpy(), ev.score(batch, lists).cpu().numpy(), 1.0)


def generator_evaluator(gen_model: Generator, ev, batch: RerankBatch, n: int, seed: int = 0) -> Served:
    """G-E baseline: the greedy list and ``n`` sampled lists; serve the one ``E`` scores highest (``n = 0``: the generator)."""
    n = integer("n", n, low=0)
    greedy = gen_model.greedy(batch)[:, None]
    if n:
        with torch.no_grad():
            sampled, _ = gen_model.sample(batch, n, _rng(seed))
        cand = torch.cat([greedy, sampled], 1)
    else:
        cand = greedy
    s = ev.score(batch, cand)
    j = s.argmax(1)
    rows = torch.arange(len(batch), device=DEVICE)
    return Served(cand[rows, j].cpu().numpy(), s[rows, j].cpu().numpy(), float(cand.shape[1]))


def surrogate_step(log_probs: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """The advantage-weighted surrogate of eq. 9.4, summed over requests: sum_b 1/S sum_s (E_bs - mean_s E_bs) log p_bs.

    ``log_probs`` (B, S) carry the graph to theta; ``scores`` (B, S) are constants.
    """
    adv = scores - scores.mean(1, keepdim=True)
    return (adv.detach() * log_probs).mean(1).sum()


def last_direction(gen_model: Generator, ev, batch: RerankBatch, n_samples: int = 16,
                   seed: int = 0, params: Params | None = None) -> Params:
    """Per-request unit direction g / ||g|| of eq. 9.4's gradient at ``params`` (default theta), each tensor (B, ...).

    Every request gets its own copy of the parameters, so one backward pass gives every request's
    own gradient.  A request whose sampled lists all score the same has g = 0 and keeps theta.
    """
    n_samples = integer("n_samples", n_samples, low=2, hint="the baseline needs at least two lists")
    base = gen_model.params() if params is None else params
    B = len(batch)
    copies = {}
    for name, p in base.items():
        q = p.detach()
        if q.dim() == Generator.BASE_DIMS[name]:
            q = q.unsqueeze(0).expand(B, *q.shape)
        copies[name] = q.clone().requires_grad_(True)
    lists, logp = gen_model.sample(batch, n_samples, _rng(seed), params=copies)
    scores = ev.score(batch, lists)
    grads = torch.autograd.grad(surrogate_step(logp, scores), list(copies.values()))
    sq = sum(g.reshape(B, -1).pow(2).sum(1) for g in grads)
    norm = sq.sqrt().clamp_min(1e-12)
    return {name: g / norm.view(B, *([1] * (g.dim() - 1))) for name, g in zip(copies, grads)}


def _offset(base: Params, direction: Params, step: torch.Tensor) -> Params:
    """theta + step * direction for each request (new tensors; ``base`` untouched). step: (B,)."""
    out = {}
    for name, d in direction.items():
        p = base[name].detach()
        out[name] = p + step.view(-1, *([1] * (d.dim() - 1))) * d
    return out


def _check_alpha(alpha) -> float:
    return number("alpha", alpha, low=0,
                  hint="alpha is the step as a fraction of ||theta||, e.g. 0.05; 0 serves the generator itself")


def parallel_select(scores: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """LAST parallel's choice among ``m`` candidate lists, by evaluator scores only.

    ``scores`` (B, m), candidate 0 the generator's own list (alpha = 0), the rest in order of
    increasing step.  Pick the highest score, ties to the smallest step; keep the generator's list
    unless the best beats it by more than ``margin`` (a guard against evaluator noise).  -> (B,) indices.
    """
    margin = number("margin", margin, low=0)
    scores = torch.as_tensor(scores)
    best = scores.argmax(1)                       # torch.argmax returns the first maximum
    gain = scores.gather(1, best[:, None])[:, 0] - scores[:, 0]
    return torch.where(gain > margin, best, torch.zeros_like(best))


def parallel_alphas(alpha_max: float, m: int) -> list[float]:
    """The ``m`` step fractions LAST parallel tries: 0 (the generator) and ``m - 1`` evenly spaced up to ``alpha_max``."""
    alpha_max = number("alpha_max", alpha_max, low=0, low_open=True,
                       hint="the largest step as a fraction of ||theta||, e.g. 0.05")
    m = integer("m", m, low=2, hint="m counts the generator's own list too, so at least 2")
    return [alpha_max * j / (m - 1) for j in range(m)]


def last_offset(params: Mapping[str, torch.Tensor], log_probs: torch.Tensor, scores: torch.Tensor,
                alpha: float) -> Params:
    """One request's ``theta + Delta theta`` (eq. 9.4-9.5): the surrogate's gradient, scaled to ``alpha ||theta||``.

    ``params``: the tensors ``log_probs`` (S,) was computed from (requires_grad); ``scores`` (S,)
    the evaluator's scores of those lists.  Returns new tensors; ``params`` is left untouched.
    """
    alpha = _check_alpha(alpha)
    adv = (scores - scores.mean()).detach()
    surrogate = (adv * log_probs).mean()
    names = list(params)
    grads = torch.autograd.grad(surrogate, [params[n] for n in names])
    gnorm = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
    step = alpha * param_norm(params) / gnorm if gnorm > 0 else 0.0
    return {n: params[n].detach() + step * g for n, g in zip(names, grads)}


def last_parallel(gen_model: Generator, ev, batch: RerankBatch, alphas: Sequence[float],
                  n_samples: int = 16, seed: int = 0, select=parallel_select) -> Served:
    """LAST, parallel variant: one direction (eq. 9.4), ``m`` steps ``alpha_j ||theta||`` (eq. 9.5) at once,
    a greedy list from each ``theta + Delta theta_j``; ``select(scores)`` (evaluator scores only) picks the list.

    ``alphas`` are sorted; include 0 to keep the generator's own list among the candidates.
    """
    alphas = sorted(_check_alpha(a) for a in alphas)
    if not alphas:
        raise ValueError("alphas must hold at least one step size, e.g. [0, 0.02, 0.05, 0.1]")
    B, m = len(batch), len(alphas)
    base = gen_model.params()
    if max(alphas) == 0:
        out = generator_lists(gen_model, ev, batch)
        return Served(out.lists, out.scores, 1.0)
    direction = last_direction(gen_model, ev, batch, n_samples, seed)
    scale = param_norm(base) * torch.tensor(alphas, device=DEVICE, dtype=DTYPE)
    rep = {n: d.repeat_interleave(m, 0) for n, d in direction.items()}           # (B*m, ...)
    theta = _offset(base, rep, scale.repeat(B))
    lists = gen_model.greedy(batch.repeat(m), params=theta).reshape(B, m, -1)
    s = ev.score(batch, lists)
    j = torch.as_tensor(select(s), dtype=torch.long, device=DEVICE)
    rows = torch.arange(B, device=DEVICE)
    return Served(lists[rows, j].cpu().numpy(), s[rows, j].cpu().numpy(), float(n_samples + m))


def last_serial(gen_model: Generator, ev, batch: RerankBatch, alpha: float, n_steps: int = 3,
                n_samples: int = 16, seed: int = 0) -> Served:
    """LAST, serial variant: up to ``n_steps`` rounds of sample, evaluate (eq. 9.4), step ``alpha ||theta||`` (eq. 9.5);
    a request stops at the first round whose greedy list ``E`` does not score higher, and serves its best list."""
    alpha = _check_alpha(alpha)
    n_steps = integer("n_steps", n_steps, low=1)
    base = gen_model.params()
    best = gen_model.greedy(batch)
    best_s = ev.score(batch, best)
    calls = torch.ones(len(batch), device=DEVICE)
    if alpha == 0:
        return Served(best.cpu().numpy(), best_s.cpu().numpy(), 1.0)
    step = alpha * param_norm(base)
    B = len(batch)
    theta = {n: (p.detach().unsqueeze(0).expand(B, *p.shape).clone() if p.dim() == Generator.BASE_DIMS[n]
                 else p.detach().clone()) for n, p in base.items()}
    active = torch.ones(B, dtype=torch.bool, device=DEVICE)
    for t in range(n_steps):
        direction = last_direction(gen_model, ev, batch, n_samples, seed + 7919 * (t + 1), params=theta)
        theta = _offset(theta, direction, step * active.to(DTYPE))
        lists = gen_model.greedy(batch, params=theta)
        s = ev.score(batch, lists)
        calls += active.to(DTYPE) * (n_samples + 1)
        better = active & (s > best_s)
        best = torch.where(better[:, None], lists, best)
        best_s = torch.where(better, s, best_s)
        active = better
        if not active.any():
            break
    return Served(best.cpu().numpy(), best_s.cpu().numpy(), float(calls.mean()))


# --------------------------------------------------------------------------------------------
# Exact list probabilities, metrics, intervals, latency
# --------------------------------------------------------------------------------------------
def list_probabilities(gen_model: Generator, batch: RerankBatch, lists) -> torch.Tensor:
    """p_theta(L) of every list in ``lists`` (P, k), for every request: (B, P) (eq. 9.3, exact)."""
    lists = torch.as_tensor(np.asarray(lists), dtype=torch.long, device=DEVICE)
    with torch.no_grad():
        return gen_model.log_prob(batch, lists.unsqueeze(0).expand(len(batch), -1, -1)).exp()


def ndcg_vs_best(lists, best) -> np.ndarray:
    """NDCG@k of each served list against the true best list: item at best-list rank r has grade k - r, others 0.

    ``lists``, ``best``: (n, k) item indices -> (n,) values in [0, 1]; the best list itself scores 1.
    """
    lists, best = np.asarray(lists), np.asarray(best)
    if lists.shape != best.shape or lists.ndim != 2:
        raise ValueError(f"lists and best must both have shape (n, k), got {lists.shape} and {best.shape}")
    k = best.shape[1]
    grade = np.where(lists[:, :, None] == best[:, None, :], k - np.arange(k), 0).sum(-1)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = ((2.0 ** (k - np.arange(k)) - 1) * disc).sum()
    return ((2.0 ** grade - 1) * disc).sum(-1) / ideal


def mean_ci(values, z: float = 1.96) -> tuple[float, float, float]:
    """Mean and a normal-approximation 95% interval (mean - z se, mean + z se) of ``values``."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size < 2:
        raise ValueError(f"values must hold at least two numbers for an interval, got {v.size}")
    m, se = v.mean(), v.std(ddof=1) / np.sqrt(v.size)
    return float(m), float(m - z * se), float(m + z * se)


def latency(fn, batch: RerankBatch, repeats: int = 30) -> dict[str, float]:
    """Per-request latency of ``fn(one_request_batch)`` over ``repeats`` single requests: p50 and p99 in ms, requests/s."""
    repeats = integer("repeats", repeats, low=1)
    times = []
    for i in range(repeats):
        one = batch.take(slice(i % len(batch), i % len(batch) + 1))
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(one)
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    t = np.array(times) * 1e3
    return {"p50_ms": float(np.percentile(t, 50)), "p99_ms": float(np.percentile(t, 99)),
            "requests_per_s": float(1e3 / t.mean())}


# --------------------------------------------------------------------------------------------
# The lesson's pipeline: logs -> evaluator and generator
# --------------------------------------------------------------------------------------------
@dataclass
class Pipeline:
    """A trained generator and evaluator with the logs they learnt from."""

    generator: Generator
    evaluator: Evaluator
    log_requests: Requests
    log_lists: np.ndarray
    log_clicks: np.ndarray
    log_buys: np.ndarray


def fit_pipeline(world: ListwiseWorld, n_logs: int = 4000, n_candidates: int = 10, seed: int = 0,
                 epochs: int = 20, hidden: int = 32) -> Pipeline:
    """Log ``n_logs`` requests under the logging policy, then train the evaluator and the generator on them."""
    from course_lib.sim.listwise import logging_lists, sample_requests, simulate_outcomes

    rng = np.random.default_rng(seed)
    req = sample_requests(world, n_logs, n_candidates, rng)
    lists = logging_lists(world, req, rng)
    clicks, buys = simulate_outcomes(world, req, lists, rng)
    batch = batch_from_requests(world, req)
    F, G = batch.f.shape[2], batch.g.shape[1]
    torch.manual_seed(seed)
    ev = Evaluator(F, G, world.k, world.buy_weight, hidden=hidden, seed=seed)
    train_evaluator(ev, batch, lists, clicks, buys, epochs=epochs, seed=seed)
    gen = Generator(F, G, world.k, hidden=hidden, seed=seed + 1)
    reward = clicks.sum(1) + world.buy_weight * buys.sum(1)
    train_generator(gen, batch, lists, reward, epochs=epochs, seed=seed + 2)
    ev.requires_grad_(False)
    gen.requires_grad_(False)
    return Pipeline(gen, ev, req, lists, clicks, buys)


class BiasedEvaluator:
    """An evaluator with a systematic error: ``E(L) + bonus * sum_j f[L_j, feature]``.

    Stands for a tracking bug or a label leak that makes one kind of item look better than it is
    (for example, a category whose purchases are double-counted).  Same ``score`` interface.
    """

    def __init__(self, evaluator: Evaluator, feature: int, bonus: float):
        self.evaluator = evaluator
        self.feature = integer("feature", feature, low=0)
        self.bonus = number("bonus", bonus)

    def score(self, batch: RerankBatch, lists) -> torch.Tensor:
        lists = torch.as_tensor(lists, dtype=torch.long, device=DEVICE)
        col = batch.f[:, :, self.feature]                                     # (B, M)
        flat = lists.reshape(len(batch), -1)
        extra = col.gather(1, flat).reshape(lists.shape).sum(-1)
        return self.evaluator.score(batch, lists) + self.bonus * extra


def evaluate_served(world: ListwiseWorld, req: Requests, served: Served, best: np.ndarray) -> dict[str, np.ndarray]:
    """Per-request truth of what a method served: true reward (eq. 9.2), NDCG against the best list, evaluator score."""
    return {"true": list_reward(world, req, served.lists), "ndcg": ndcg_vs_best(served.lists, best),
            "score": served.scores, "calls": served.evaluator_calls}


def refresh_evaluator(ev: Evaluator, world: ListwiseWorld, n_logs: int, n_candidates: int, seed: int = 0,
                      epochs: int = 5) -> Evaluator:
    """A copy of ``ev`` fine-tuned on ``n_logs`` fresh logged requests of ``world`` (the deployed one is untouched).

    Stands for an evaluator retrained on the last hour of clicks and purchases, while the generator waits
    for its daily retrain.
    """
    import copy

    from course_lib.sim.listwise import logging_lists, sample_requests, simulate_outcomes

    rng = np.random.default_rng(seed)
    req = sample_requests(world, n_logs, n_candidates, rng)
    lists = logging_lists(world, req, rng)
    clicks, buys = simulate_outcomes(world, req, lists, rng)
    fresh = copy.deepcopy(ev).requires_grad_(True)
    train_evaluator(fresh, batch_from_requests(world, req), lists, clicks, buys, epochs=epochs, seed=seed)
    return fresh.requires_grad_(False)
