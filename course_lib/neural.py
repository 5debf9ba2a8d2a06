"""Lesson 04: neural contextual bandits with PyTorch.

Every policy here keeps a small multi-layer perceptron ``f(x; theta)`` with one output per arm
(a shared trunk, one linear head per arm), trained on the chosen arm's reward by squared loss
every ``train_every`` events.  They differ in how they explore:

* ``NoiseBandit`` (the naive tutorial bandit): score ``f_a(x) + sigma eps``, ``eps ~ N(0, 1)``,
  noise of fixed size ``sigma`` whatever the data (lesson equation NOISE).
* ``NeuralLinear`` (Riquelme, Tucker and Snoek, "Deep Bayesian Bandits Showdown", ICLR 2018):
  Bayesian linear regression on the last hidden layer ``phi(x)`` per arm,

      A_a = lambda I + sum phi phi^T,  b_a = sum r phi,  theta_a ~ N(A_a^{-1} b_a, v^2 A_a^{-1})   (NL)

  updated at every event by Sherman-Morrison, recomputed on the new features after each retrain.
  (The paper uses a Normal-inverse-Gamma prior that also learns the noise; here ``v`` is fixed,
  as in lesson 03's LinTS, so identity features give exactly LinTS.)
* ``NeuralUCB`` (Zhou, Li and Gu, ICML 2020) and ``NeuralTS`` (Zhang, Zhou, Li and Gu, ICLR 2021):
  the gradient ``g = grad_theta f_a(x; theta)`` plays the role of LinUCB's context,

      Z = lambda I + sum g g^T / m                                                     (Z)
      U_a(x) = f_a(x) + gamma sqrt(g^T Z^{-1} g / m)                                   (NUCB)
      r~_a(x) ~ N(f_a(x), nu^2 g^T Z^{-1} g / m)                                        (NTS)

  with ``Z^{-1}`` kept exactly by Sherman-Morrison (``z="exact"``, P x P for P parameters: small
  networks) or by its diagonal (``z="diag"``, what the authors' code does for large networks).
  Gradients of all arms and contexts at once come from ``torch.func`` (``vmap`` over ``grad``).

The training loss is the papers' ``sum_i (f(x_i) - r_i)^2 / 2 + m lambda ||theta - theta_0||^2 / 2``,
divided by the number of events so its scale does not grow with the buffer.

Same verbs as lesson 03's bandits (``course_lib.protocols.ContextualBandit``).  Torch is used only
in this module; the device is chosen once, by ``default_device()`` (CUDA when available, else
CPU), and every tensor is created on ``self.device``.  Seeded: the network's initial weights come
from ``torch.manual_seed(seed)`` in a forked RNG, every later random draw (mini-batches,
exploration noise, Thompson draws) from ``numpy.random.default_rng(seed)``, so runs on CPU are
reproducible.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from scipy.linalg.blas import dger as _dger
from torch import nn
from torch.func import functional_call, grad, vmap

from course_lib.validate import integer, number

__all__ = ["default_device", "MLP", "NoiseBandit", "NeuralLinear", "NeuralUCB", "NeuralTS",
           "UniformPolicy", "gradient_features", "gradient_features_loop", "mlp_gradients",
           "neural_linear_update", "neural_ucb_bonus", "stale_width_ratio", "ColumnView", "SlidingWindowLinUCB", "HyperNet",
           "HyperBandit"]


def default_device() -> torch.device:
    """The one place the device is chosen: CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class MLP(nn.Module):
    """``n_features -> hidden... (ReLU) -> n_arms``: a shared trunk and one linear head per arm.

    ``hidden=()`` gives a single linear layer (``bias`` says whether it has biases).
    """

    def __init__(self, n_features: int, n_arms: int, hidden: Sequence[int] = (32,), bias: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, h, bias=bias), nn.ReLU()]
            width = h
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_arms, bias=bias)
        self.n_hidden = width

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Last hidden layer ``phi(x)`` (the input itself when there is no hidden layer)."""
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


# ----------------------------------------------------------------------------- gradient features


def _flat(grads: Mapping[str, torch.Tensor], lead: int) -> torch.Tensor:
    """Concatenate per-parameter gradients into one vector per sample (``lead`` leading dims kept)."""
    return torch.cat([g.reshape(*g.shape[:lead], -1) for g in grads.values()], dim=-1)


def gradient_features(model: nn.Module, contexts: torch.Tensor) -> torch.Tensor:
    """``g[i, a] = grad_theta f_a(x_i; theta)`` for every context and arm, shape ``(n, n_arms, P)``.

    One ``torch.func`` call: ``vmap`` over contexts of ``vmap`` over arms of ``grad`` of one
    scalar output, no Python loop.  Parameters are flattened in ``model.named_parameters()`` order.
    """
    params = {k: v.detach() for k, v in model.named_parameters()}

    def one_output(p, x, a):
        return functional_call(model, p, (x[None],))[0].gather(0, a[None])[0]

    n_arms = model(contexts[:1]).shape[1]
    arms = torch.arange(n_arms, device=contexts.device)
    per_arm = vmap(grad(one_output), in_dims=(None, None, 0))
    per_context = vmap(per_arm, in_dims=(None, 0, None))
    return _flat(per_context(params, contexts, arms), lead=2)


def mlp_gradients(model: MLP, contexts: np.ndarray) -> np.ndarray:
    """Closed-form ``gradient_features`` of a one-hidden-layer ReLU ``MLP`` with biases, in NumPy.

    ``f_a(x) = w_a^T relu(W x + c) + e_a``: ``df/dW = (w_a * 1[h > 0]) x^T``, ``df/dc = w_a * 1[h > 0]``,
    ``df/dw_b = 1[a = b] h``, ``df/de_b = 1[a = b]``; same flattened order as ``gradient_features``.
    """
    W, c = (p.detach().cpu().numpy() for p in model.trunk[0].parameters())
    w, e = (p.detach().cpu().numpy() for p in model.head.parameters())
    X = np.asarray(contexts, dtype=float)
    n, d = X.shape
    K, H = w.shape
    pre = X @ W.T + c
    h = np.maximum(pre, 0.0)
    gate = w[None] * (pre > 0)[:, None, :]                       # (n, K, H)
    out = np.zeros((n, K, H * d + H + K * H + K))
    out[:, :, : H * d] = (gate[:, :, :, None] * X[:, None, None, :]).reshape(n, K, H * d)
    out[:, :, H * d: H * d + H] = gate
    arms = np.arange(K)
    head = out[:, :, H * d + H: H * d + H + K * H].reshape(n, K, K, H)
    head[:, arms, arms, :] = h[:, None, :]
    out[:, arms, H * d + H + K * H + arms] = 1.0
    return out


def _adam_step(params: list[np.ndarray], grads: list[np.ndarray], m1: list[np.ndarray], m2: list[np.ndarray],
               step: int, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
    """One Adam step (Kingma and Ba 2015) on NumPy arrays, in place, the same operations as the torch loop."""
    for p, g, a, b in zip(params, grads, m1, m2):
        a *= beta1
        a += (1 - beta1) * g
        b *= beta2
        b += (1 - beta2) * g * g
        p += (-lr / (1 - beta1 ** step)) * (a / (np.sqrt(b / (1 - beta2 ** step)) + eps))


def _mlp_loss_gradients(layers: list[np.ndarray], X: np.ndarray, arms: np.ndarray, r: np.ndarray) -> list[np.ndarray]:
    """Closed-form gradients of ``mean (f_a(x) - r)^2 / 2`` for a ReLU MLP with biases (``[W1, c1, ..., W, c]``).

    Backpropagation written out: the output error sits only in the chosen arm's column.
    """
    acts, pres = [X], []
    for i in range(0, len(layers) - 2, 2):
        pre = acts[-1] @ layers[i].T + layers[i + 1]
        pres.append(pre)
        acts.append(np.maximum(pre, 0.0))
    rows = np.arange(len(X))
    pred = (acts[-1] @ layers[-2].T + layers[-1])[rows, arms]
    delta = np.zeros((len(X), layers[-1].shape[0]))
    delta[rows, arms] = (pred - r) / len(X)
    grads: list[np.ndarray] = [np.empty(0)] * len(layers)
    for i in range(len(layers) - 2, -1, -2):
        grads[i], grads[i + 1] = delta.T @ acts[i // 2], delta.sum(0)
        if i:
            delta = (delta @ layers[i]) * (pres[i // 2 - 1] > 0)
    return grads


def gradient_features_loop(model: nn.Module, contexts: torch.Tensor) -> torch.Tensor:
    """The same as ``gradient_features`` with a Python loop and ``torch.autograd.grad`` (for tests)."""
    params = list(model.parameters())
    rows = []
    for x in contexts:
        out = model(x[None])[0]
        rows.append(torch.stack([torch.cat([g.reshape(-1) for g in torch.autograd.grad(out[a], params,
                                                                                   retain_graph=True)])
                                 for a in range(len(out))]))
    return torch.stack(rows)


# ----------------------------------------------------------------------------- policies


class _Ranker:
    """``predict`` and ``select`` from ``predict_expectations``, shared by every policy of this module."""

    def predict(self, contexts: Any, k: int = 1) -> np.ndarray:
        """The top-``k`` arms per context, best first, shape ``(n, k)`` (ties go to the lower index)."""
        return _top_k(self.predict_expectations(contexts), k)

    def select(self, context: Any) -> int:
        """The arm to play for one context."""
        return int(self.predict(np.atleast_2d(context))[0, 0])


class _Deterministic(_Ranker):
    """A policy that always plays its top arm: its action probabilities are one-hot."""

    def action_probabilities(self, contexts: Any) -> np.ndarray:
        """Exact: deterministic, one-hot on the top arm."""
        return np.eye(self.n_arms)[self.predict(contexts)[:, 0]]


def _rng_state(state: Any) -> dict:
    """A bit-generator state as ``numpy`` expects it (it may come back from JSON with lists)."""
    import json

    return json.loads(json.dumps(state)) if not isinstance(state, dict) else state


class UniformPolicy(_Ranker):
    """Picks an arm uniformly at random, whatever the context (the wheel table's normaliser)."""

    def __init__(self, n_arms: int, n_features: int, seed: int | None = 0):
        self.n_arms = integer("n_arms", n_arms, low=1)
        self.n_features = integer("n_features", n_features, low=1)
        self.rng = np.random.default_rng(seed)

    def _contexts(self, contexts: Any) -> np.ndarray:
        return _check_contexts(contexts, self.n_features)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        return self.rng.random((len(self._contexts(contexts)), self.n_arms))

    def update(self, arm: int, reward: float, context: Any) -> UniformPolicy:
        _check_arms(arm, self.n_arms)
        self._contexts(context)
        return self

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> UniformPolicy:
        _check_arms(arms, self.n_arms)
        self._contexts(contexts)
        return self

    def action_probabilities(self, contexts: Any) -> np.ndarray:
        """Exact: ``1 / n_arms`` everywhere."""
        return np.full((len(self._contexts(contexts)), self.n_arms), 1.0 / self.n_arms)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: Mapping[str, Any]) -> UniformPolicy:
        self.rng.bit_generator.state = _rng_state(state["rng"])
        return self


def _check_contexts(contexts: Any, d: int) -> np.ndarray:
    try:
        X = np.asarray(contexts, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"contexts must be numbers, shape (n, {d}) or ({d},): {err}") from None
    if X.ndim == 1:
        X = X[None]
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"contexts must have {d} features per row (shape (n, {d}) or ({d},)), "
                         f"got shape {np.shape(contexts)}; build the policy with n_features equal to the context width")
    if not np.isfinite(X).all():
        raise ValueError("contexts contain NaN or infinite values; impute or drop them first")
    return X


def _check_arms(arms: Any, n_arms: int) -> np.ndarray:
    a = np.atleast_1d(np.asarray(arms))
    if a.dtype.kind not in "iu":
        raise ValueError(f"arms must be integer indices, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= n_arms):
        raise ValueError(f"unknown arm: arms must lie in [0, {n_arms}), got {a.min()}..{a.max()}")
    return a.astype(int)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    n_arms = scores.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= int(k) <= n_arms:
        raise ValueError(f"k must be an integer between 1 and n_arms={n_arms}, got {k!r}")
    return np.argsort(-scores, axis=1, kind="stable")[:, : int(k)]


class _NeuralBandit(_Ranker):
    """Shared machinery: the network, the replay buffer, training, validation, state and the verbs.

    Parameters: ``n_arms``; ``n_features`` (context width d); ``hidden`` (trunk widths, e.g.
    ``(32,)``); ``lr`` (Adam step); ``train_every`` (events between retrains); ``train_steps``
    (gradient steps per retrain); ``batch_size`` (mini-batch; full batch when the buffer is
    smaller); ``l2_lambda > 0`` (lambda of equation Z and of the loss's pull to ``theta_0``);
    ``optimizer`` (``"adam"`` or ``"sgd"``); ``seed``; ``device`` (default ``default_device()``);
    ``dtype`` (float64 by default: exact agreement with the NumPy bandits in tests);
    ``network`` (an ``nn.Module`` mapping ``(n, d) -> (n, n_arms)`` to use instead of an ``MLP``).
    """

    randomised = False
    numpy_training = True  # CPU float64 MLP: train with closed-form gradients (False: torch autograd, for tests)

    def __init__(self, n_arms: int, n_features: int, hidden: Sequence[int] = (32,), lr: float = 1e-2,
                 train_every: int = 50, train_steps: int = 50, batch_size: int = 64, l2_lambda: float = 1.0,
                 optimizer: str = "adam", seed: int = 0, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float64, network: nn.Module | None = None):
        self.n_arms = integer("n_arms", n_arms, low=1)
        self.n_features = integer("n_features", n_features, low=1)
        self.hidden = tuple(integer("hidden width", h, low=1) for h in hidden)
        self.lr = number("lr", lr, low=0, low_open=True)
        self.train_every = integer("train_every", train_every, low=1)
        self.train_steps = integer("train_steps", train_steps, low=0)
        self.batch_size = integer("batch_size", batch_size, low=1)
        self.l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        self.optimizer = optimizer
        self.seed = integer("seed", seed, low=0)
        self.device = torch.device(device) if device is not None else default_device()
        self.dtype = dtype
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = network if network is not None else MLP(self.n_features, self.n_arms, self.hidden)
            self.model = net.to(device=self.device, dtype=self.dtype)
        out = self.model(torch.zeros(1, self.n_features, device=self.device, dtype=self.dtype))
        if tuple(out.shape) != (1, self.n_arms):
            raise ValueError(f"network must map (n, {self.n_features}) contexts to (n, {self.n_arms}) scores, "
                             f"got output shape {tuple(out.shape)}")
        self.theta0 = [p.detach().clone() for p in self.model.parameters()]
        self.n_params = sum(p.numel() for p in self.model.parameters())
        self.rng = np.random.default_rng(self.seed)
        self.X = np.zeros((0, self.n_features))
        self.arms = np.zeros(0, dtype=int)
        self.rewards = np.zeros(0)
        self.t = 0
        self._version = 0  # bumped at every retrain: caches keyed on it
        self._np_weights: tuple[int, list[np.ndarray]] | None = None

    # --- helpers
    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, device=self.device, dtype=self.dtype)

    def _contexts(self, contexts: Any) -> np.ndarray:
        return _check_contexts(contexts, self.n_features)

    @property
    def width(self) -> int:
        """``m`` of equations Z and NUCB: the last hidden width (1 for a single linear layer)."""
        return self.hidden[-1] if self.hidden else 1

    def _numpy_layers(self) -> list[np.ndarray] | None:
        """NumPy views of a CPU float64 ``MLP``'s weights (cached until the next retrain), else ``None``.

        Tiny networks spend most of a forward pass in PyTorch's per-call overhead; the same
        products in NumPy are several times faster on a CPU.  Tests check both paths agree.
        """
        if not (isinstance(self.model, MLP) and self.device.type == "cpu" and self.dtype == torch.float64
                and self.model.head.bias is not None):
            return None
        if self._np_weights is None or self._np_weights[0] != self._version:
            self._np_weights = (self._version, [p.detach().numpy() for p in self.model.parameters()])
        return self._np_weights[1]

    def _hidden_np(self, X: np.ndarray, layers: list[np.ndarray]) -> np.ndarray:
        h = X
        for i in range(0, len(layers) - 2, 2):
            h = np.maximum(h @ layers[i].T + layers[i + 1], 0.0)
        return h

    def network_scores(self, contexts: Any) -> np.ndarray:
        """The network's predictions ``f_a(x)``, shape ``(n, n_arms)``."""
        X = self._contexts(contexts)
        layers = self._numpy_layers()
        if layers is not None:
            return self._hidden_np(X, layers) @ layers[-2].T + layers[-1]
        with torch.no_grad():
            return self.model(self._tensor(X)).cpu().numpy()

    # --- learning
    def update(self, arm: int, reward: float, context: Any) -> _NeuralBandit:
        """One event: store it, update the posterior (subclass), retrain every ``train_every`` events."""
        return self.partial_fit([arm], [reward], np.atleast_2d(context))

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> _NeuralBandit:
        """A batch of events, applied in order exactly as repeated ``update`` calls."""
        X = self._contexts(contexts)
        a = _check_arms(arms, self.n_arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if not (len(a) == len(r) == len(X)):
            raise ValueError(f"arms, rewards and contexts need the same length, got {len(a)}, {len(r)}, {len(X)}")
        if not np.isfinite(r).all():
            raise ValueError("rewards contain NaN or infinite values")
        start = 0  # events [start, i] not yet in the buffer: appended in one piece before a retrain reads it

        def flush(stop: int) -> None:
            self.X = np.vstack([self.X, X[start:stop]])
            self.arms = np.append(self.arms, a[start:stop])
            self.rewards = np.append(self.rewards, r[start:stop])

        for i in range(len(a)):
            self._observe(int(a[i]), float(r[i]), X[i])   # reads the event itself, not the buffer
            self.t += 1
            if self.t % self.train_every == 0:
                flush(i + 1)
                start = i + 1
                self.train()
        flush(len(a))
        return self

    def _observe(self, arm: int, reward: float, x: np.ndarray) -> None:
        """Posterior update after one event (none for the noise bandit)."""

    def _after_train(self) -> None:
        """Recompute what depends on the network after a retrain (NeuralLinear's posterior)."""

    def train(self) -> _NeuralBandit:
        """``train_steps`` steps on the buffer: loss ``mean (f_a(x) - r)^2 / 2 + m lambda ||theta - theta_0||^2 / (2 N)``."""
        n = len(self.rewards)
        if n == 0 or self.train_steps == 0:
            return self
        pull = self.width * self.l2_lambda / n
        layers = self._numpy_layers()
        if layers is not None and self.numpy_training:  # CPU float64 MLP: closed-form gradients in NumPy
            return self._train_numpy(layers, n, pull)
        X, a, r = self._tensor(self.X), torch.as_tensor(self.arms, device=self.device), self._tensor(self.rewards)
        params = list(self.model.parameters())
        # Adam (Kingma and Ba 2015) or plain gradient descent, written out: a few tensor ops per
        # step, and no torch.optim (whose first use imports the compiler stack, seconds on a laptop).
        m1 = [torch.zeros_like(p) for p in params]
        m2 = [torch.zeros_like(p) for p in params]
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for step in range(1, self.train_steps + 1):
            if n > self.batch_size:
                idx = torch.as_tensor(self.rng.choice(n, self.batch_size, replace=False), device=self.device)
                xb, ab, rb = X[idx], a[idx], r[idx]
            else:
                xb, ab, rb = X, a, r
            pred = self.model(xb).gather(1, ab[:, None])[:, 0]
            loss = 0.5 * ((pred - rb) ** 2).mean()
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():  # one fused (_foreach) op per line over all parameter tensors
                g = torch._foreach_add(grads, torch._foreach_sub(params, self.theta0), alpha=pull)
                if self.optimizer == "sgd":
                    torch._foreach_add_(params, g, alpha=-self.lr)
                    continue
                torch._foreach_mul_(m1, beta1)
                torch._foreach_add_(m1, g, alpha=1 - beta1)
                torch._foreach_mul_(m2, beta2)
                torch._foreach_addcmul_(m2, g, g, value=1 - beta2)
                denom = torch._foreach_sqrt(torch._foreach_div(m2, 1 - beta2 ** step))
                torch._foreach_add_(denom, eps)
                torch._foreach_addcdiv_(params, m1, denom, value=-self.lr / (1 - beta1 ** step))
        self._version += 1
        self._after_train()
        return self

    def _train_numpy(self, layers: list[np.ndarray], n: int, pull: float) -> _NeuralBandit:
        """``train`` for a CPU float64 MLP: the same mini-batches and Adam (or SGD) steps, gradients in
        closed form (``_mlp_loss_gradients``), weights updated in place through their NumPy views.
        A tiny network spends most of a torch step in per-call overhead; tests check both paths agree."""
        theta0 = [t.numpy() for t in self.theta0]
        m1 = [np.zeros_like(p) for p in layers]
        m2 = [np.zeros_like(p) for p in layers]
        for step in range(1, self.train_steps + 1):
            if n > self.batch_size:
                idx = self.rng.choice(n, self.batch_size, replace=False)
                xb, ab, rb = self.X[idx], self.arms[idx], self.rewards[idx]
            else:
                xb, ab, rb = self.X, self.arms, self.rewards
            grads = _mlp_loss_gradients(layers, xb, ab, rb)
            grads = [g + pull * (p - p0) for g, p, p0 in zip(grads, layers, theta0)]
            if self.optimizer == "sgd":
                for p, g in zip(layers, grads):
                    p -= self.lr * g
                continue
            _adam_step(layers, grads, m1, m2, step, self.lr)
        self._version += 1
        self._after_train()
        return self

    # --- scoring
    def predict_expectations(self, contexts: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def action_probabilities(self, contexts: Any, n_samples: int = 1000) -> np.ndarray:
        """P(arm chosen | context), ``(n, n_arms)``.

        Deterministic policies (NeuralUCB): exact, one-hot on the top arm.  Randomised policies:
        Monte Carlo over ``n_samples`` draws, taken on a copy of the random stream so that the
        policy's own decisions are unchanged.
        """
        X = self._contexts(contexts)
        if not self.randomised:
            return np.eye(self.n_arms)[self.predict(X)[:, 0]]
        n_samples = integer("n_samples", n_samples, low=1)
        saved = copy.deepcopy(self.rng.bit_generator.state)
        counts = np.zeros((len(X), self.n_arms))
        rows = np.arange(len(X))
        for _ in range(n_samples):
            counts[rows, self.predict(X)[:, 0]] += 1
        self.rng.bit_generator.state = saved
        return counts / n_samples

    # --- state
    def state_dict(self) -> dict[str, Any]:
        """Network weights (``net.<name>``), anchor ``theta_0``, buffer, counters, RNG state, posterior."""
        state: dict[str, Any] = {f"net.{k}": v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        state.update({f"theta0.{i}": p.cpu().numpy().copy() for i, p in enumerate(self.theta0)})
        state.update(X=self.X.copy(), arms=self.arms.copy(), rewards=self.rewards.copy(), t=int(self.t),
                     rng=copy.deepcopy(self.rng.bit_generator.state))
        state.update({k: v.copy() for k, v in self._posterior().items()})
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> _NeuralBandit:
        """Restore a ``state_dict``; afterwards decisions are identical."""
        self.model.load_state_dict({k[4:]: torch.as_tensor(np.asarray(v), device=self.device, dtype=self.dtype)
                                    for k, v in state.items() if k.startswith("net.")})
        self.theta0 = [self._tensor(np.asarray(state[f"theta0.{i}"])) for i in range(len(self.theta0))]
        self.X = np.asarray(state["X"], dtype=float).reshape(-1, self.n_features)
        self.arms = np.asarray(state["arms"], dtype=int)
        self.rewards = np.asarray(state["rewards"], dtype=float)
        self.t = int(state["t"])
        self._version += 1  # new weights: drop cached gradients and NumPy weights
        self.rng.bit_generator.state = _rng_state(state["rng"])
        for k in self._posterior():
            setattr(self, k, np.asarray(state[k], dtype=float).copy())
        return self

    def _posterior(self) -> dict[str, np.ndarray]:
        return {}


class NoiseBandit(_NeuralBandit):
    """The naive neural bandit: ``f_a(x) + sigma eps``, fresh ``eps ~ N(0, 1)`` per arm (equation NOISE).

    ``sigma > 0`` is fixed: the same exploration after 10 events as after 10,000.
    """

    randomised = True

    def __init__(self, n_arms: int, n_features: int, sigma: float = 0.1, **kwargs: Any):
        self.sigma = number("sigma", sigma, low=0, low_open=True)
        super().__init__(n_arms, n_features, **kwargs)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        f = self.network_scores(contexts)
        return f + self.sigma * self.rng.standard_normal(f.shape)


class NeuralLinear(_NeuralBandit):
    """NeuralLinear (Riquelme et al., ICLR 2018): Thompson sampling on ``phi(x)``, equation NL.

    ``v > 0`` scales the posterior (fixed noise, as LinTS; the paper learns it with a
    Normal-inverse-Gamma prior).  ``A_inv`` ``(n_arms, h, h)`` and ``b`` ``(n_arms, h)`` are
    updated by Sherman-Morrison at every event and recomputed on the new features after each
    retrain.  ``hidden=()`` means identity features (no trunk, no training): exactly LinTS.
    """

    randomised = True

    def __init__(self, n_arms: int, n_features: int, v: float = 0.5, **kwargs: Any):
        self.v = number("v", v, low=0, low_open=True)
        super().__init__(n_arms, n_features, **kwargs)
        if not isinstance(self.model, MLP):
            raise TypeError("NeuralLinear needs an MLP (it reads the last hidden layer through MLP.features)")
        if not self.hidden:
            self.train_steps = 0  # identity features: nothing to learn in the trunk
        h = self.model.n_hidden
        self.A_inv = np.broadcast_to(np.eye(h) / self.l2_lambda, (self.n_arms, h, h)).copy()
        self.b = np.zeros((self.n_arms, h))
        self._chol = np.zeros_like(self.A_inv)          # Cholesky factors of A_inv, per arm ...
        self._stale = np.ones(self.n_arms, dtype=bool)  # ... recomputed only where the posterior changed

    def features(self, contexts: Any) -> np.ndarray:
        """``phi(x)``: the last hidden layer, ``(n, h)``."""
        X = self._contexts(contexts)
        layers = self._numpy_layers()
        if layers is not None:
            return self._hidden_np(X, layers)
        with torch.no_grad():
            return self.model.features(self._tensor(X)).cpu().numpy()

    @property
    def theta(self) -> np.ndarray:
        """Posterior means ``A_a^{-1} b_a``, ``(n_arms, h)``."""
        return np.einsum("kij,kj->ki", self.A_inv, self.b)

    def _observe(self, arm: int, reward: float, x: np.ndarray) -> None:
        phi = self.features(x)[0]
        self.A_inv[arm], self.b[arm] = neural_linear_update(self.A_inv[arm], self.b[arm], phi, reward)
        self._stale[arm] = True

    def _after_train(self) -> None:
        self._stale[:] = True
        Phi = self.features(self.X)
        h = Phi.shape[1]
        for k in range(self.n_arms):
            P = Phi[self.arms == k]
            self.A_inv[k] = np.linalg.inv(self.l2_lambda * np.eye(h) + P.T @ P)
            self.b[k] = P.T @ self.rewards[self.arms == k]

    def sample_theta(self, n: int = 1) -> np.ndarray:
        """``n`` posterior draws of every arm's weights, ``(n, n_arms, h)`` (Cholesky of ``A^{-1}``, as LinTS)."""
        if self._stale.any():
            self._chol[self._stale] = np.linalg.cholesky(self.A_inv[self._stale])
            self._stale[:] = False
        z = self.rng.standard_normal((n, self.n_arms, self.A_inv.shape[1]))
        return self.theta[None] + self.v * (self._chol @ z.transpose(1, 2, 0)).transpose(2, 0, 1)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        """One Thompson draw per context: ``phi(x)^T theta~_a``, ``(n, n_arms)``."""
        Phi = self.features(contexts)
        return (self.sample_theta(len(Phi)) @ Phi[:, :, None])[:, :, 0]

    def _posterior(self) -> dict[str, np.ndarray]:
        return {"A_inv": self.A_inv, "b": self.b}

    def load_state_dict(self, state: Mapping[str, Any]) -> NeuralLinear:
        super().load_state_dict(state)
        self._stale = np.ones(self.n_arms, dtype=bool)
        return self

    def warm_start(self, arms: Any, rewards: Any, contexts: Any, steps: int | None = None) -> NeuralLinear:
        """Add a logged batch to the buffer at once, train ``steps`` steps (default ``train_steps``), and
        recompute the posterior on the new features: the offline start lesson 03 gives LinUCB with the log."""
        X = self._contexts(contexts)
        a = _check_arms(arms, self.n_arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if not (len(a) == len(r) == len(X)) or not np.isfinite(r).all():
            raise ValueError(f"arms, rewards and contexts need the same length and finite rewards, "
                             f"got lengths {len(a)}, {len(r)}, {len(X)}")
        self.X, self.arms, self.rewards = np.vstack([self.X, X]), np.append(self.arms, a), np.append(self.rewards, r)
        self.t += len(a)
        saved = self.train_steps
        self.train_steps = saved if steps is None else integer("steps", steps, low=0)
        try:
            self.train()
        finally:
            self.train_steps = saved
        if self.train_steps == 0 or steps == 0:
            self._after_train()
        return self


class _GradientBandit(_NeuralBandit):
    """Shared by NeuralUCB and NeuralTS: ``Z^{-1}`` (exact) or ``diag Z`` (``z="diag"``), equation Z."""

    def __init__(self, n_arms: int, n_features: int, z: str = "exact", gradients: str = "auto", **kwargs: Any):
        if z not in ("exact", "diag"):
            raise ValueError(f"z must be 'exact' (Sherman-Morrison, small networks) or 'diag' "
                             f"(diagonal approximation, large networks), got {z!r}")
        if gradients not in ("auto", "torch.func", "closed_form"):
            raise ValueError(f"gradients must be 'auto', 'torch.func' or 'closed_form', got {gradients!r}")
        self.z = z
        super().__init__(n_arms, n_features, **kwargs)
        one_layer = isinstance(self.model, MLP) and len(self.hidden) == 1 and self.model.head.bias is not None
        if gradients == "closed_form" and not one_layer:
            raise ValueError("gradients='closed_form' needs an MLP with one hidden layer and biases; use 'torch.func'")
        if gradients == "auto":
            gradients = "closed_form" if one_layer and self.device.type == "cpu" else "torch.func"
        self.gradient_backend = gradients
        self._cache: tuple[bytes, int, np.ndarray] | None = None
        P = self.n_params
        if z == "exact":
            self.Z_inv = np.eye(P) / self.l2_lambda
        else:
            self.Z_diag = np.full(P, self.l2_lambda)

    def gradients(self, contexts: Any) -> np.ndarray:
        """``g / sqrt(m)`` for every context and arm, ``(n, n_arms, P)``.

        ``torch.func`` (``gradient_features``) for any network; on CPU a one-hidden-layer MLP
        uses the same gradients in closed form (``mlp_gradients``, several times faster at
        this size).  The last single context's result is cached until the next retrain, so
        ``select`` then ``update`` on one context computes it once.
        """
        X = self._contexts(contexts)
        key = X.tobytes()
        if self._cache is not None and self._cache[0] == key and self._cache[1] == self._version:
            return self._cache[2]
        if self.gradient_backend == "closed_form":
            G = mlp_gradients(self.model, X)
        else:
            G = gradient_features(self.model, self._tensor(X)).cpu().numpy()
        G /= np.sqrt(self.width)
        if len(X) == 1:
            self._cache = (key, self._version, G)
        return G


    def _observe(self, arm: int, reward: float, x: np.ndarray) -> None:
        g = self.gradients(x)[0, arm]
        if self.z == "exact":
            if not (self.Z_inv.flags.c_contiguous and self.Z_inv.flags.writeable and self.Z_inv.dtype == np.float64):
                self.Z_inv = np.array(self.Z_inv, dtype=np.float64, order="C")
            Zg = self.Z_inv @ g
            # Sherman-Morrison, Z^-1 -= Zg Zg^T / (1 + g^T Zg), in place by BLAS's rank-one dger (Z^-1 is
            # symmetric, so its transpose, a Fortran-ordered view of the same memory, takes the update)
            _dger(-1.0 / (1.0 + g @ Zg), Zg, Zg, a=self.Z_inv.T, overwrite_a=True)
        else:
            self.Z_diag += g * g

    def variance(self, contexts: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(f, s2)``: network scores and ``g^T Z^{-1} g / m``, each ``(n, n_arms)``."""
        X = self._contexts(contexts)
        G = self.gradients(X)
        if self.z == "exact":   # one matrix product for all contexts and arms
            s2 = ((G.reshape(-1, G.shape[2]) @ self.Z_inv).reshape(G.shape) * G).sum(axis=2)
        else:
            s2 = (G * G / self.Z_diag).sum(axis=2)
        return self.network_scores(X), np.maximum(s2, 0.0)

    def _posterior(self) -> dict[str, np.ndarray]:
        return {"Z_inv": self.Z_inv} if self.z == "exact" else {"Z_diag": self.Z_diag}


class NeuralUCB(_GradientBandit):
    """NeuralUCB (Zhou, Li and Gu, ICML 2020): ``f_a(x) + gamma sqrt(g^T Z^{-1} g / m)``, equation NUCB.

    ``gamma > 0`` scales exploration; ``z`` is ``"exact"`` or ``"diag"`` (see ``_GradientBandit``).
    """

    def __init__(self, n_arms: int, n_features: int, gamma: float = 1.0, **kwargs: Any):
        self.gamma = number("gamma", gamma, low=0, low_open=True)
        super().__init__(n_arms, n_features, **kwargs)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        f, s2 = self.variance(contexts)
        return f + self.gamma * np.sqrt(s2)


class NeuralTS(_GradientBandit):
    """NeuralTS (Zhang et al., ICLR 2021): a draw from ``N(f_a(x), nu^2 lambda g^T Z^{-1} g / m)`` per arm, equation NTS.

    The paper's variance carries the regulariser ``lambda`` (``l2_lambda``); with the default 1 it drops out.
    """

    randomised = True

    def __init__(self, n_arms: int, n_features: int, nu: float = 1.0, **kwargs: Any):
        self.nu = number("nu", nu, low=0, low_open=True)
        super().__init__(n_arms, n_features, **kwargs)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        f, s2 = self.variance(contexts)
        return f + self.nu * np.sqrt(self.l2_lambda * s2) * self.rng.standard_normal(f.shape)


# ----------------------------------------------------------------------------- exercises (references)


def neural_linear_update(A_inv: np.ndarray, b: np.ndarray, phi: np.ndarray,
                         reward: float) -> tuple[np.ndarray, np.ndarray]:
    """Reference: one arm's posterior after one event (equation NL), new arrays, inputs untouched.

    ``(A + phi phi^T)^{-1}`` from ``A^{-1}`` by Sherman-Morrison, and ``b + r phi``.
    """
    Ap = A_inv @ phi
    return A_inv - np.outer(Ap, Ap) / (1.0 + phi @ Ap), b + reward * phi


def neural_ucb_bonus(g: np.ndarray, Z_inv: np.ndarray, m: int, gamma: float) -> float:
    """Reference: NeuralUCB's exploration bonus ``gamma sqrt(g^T Z^{-1} g / m)`` (equation NUCB)."""
    return float(gamma * np.sqrt(g @ Z_inv @ g / m))


def stale_width_ratio(policy: "_GradientBandit", probes: Any) -> np.ndarray:
    """Reference diagnostic: how much wider the bonus is with the policy's own ``Z`` than with ``Z`` rebuilt now.

    ``Z`` (equation Z) sums each event's gradient at the parameters *of that time*.  Rebuilt at the current
    parameters, ``Z_now = lambda I + sum_s g_{a_s}(x_s) g_{a_s}(x_s)^T / m`` (only the chosen arm's gradient of each
    stored event).  Returns, per arm, the mean width ``sqrt(g^T Z^{-1} g / m)`` over ``probes`` with the policy's
    ``Z`` divided by the same mean with ``Z_now``: ``(n_arms,)``, above 1 where the stale ``Z`` gives a wider width
    than the same events at the current parameters.
    The policy is not changed (``gamma`` cancels in the ratio).
    """
    X = _check_contexts(probes, policy.n_features)
    G = policy.gradients(policy.X)[np.arange(len(policy.arms)), policy.arms] if len(policy.arms) else \
        np.zeros((0, policy.n_params))                                         # (t, P), already / sqrt(m)
    Gp = policy.gradients(X)                                                   # (n, K, P)
    if policy.z == "exact":
        Z_now_inv = np.linalg.inv(policy.l2_lambda * np.eye(policy.n_params) + G.T @ G)
        fresh = ((Gp.reshape(-1, Gp.shape[2]) @ Z_now_inv).reshape(Gp.shape) * Gp).sum(axis=2)
    else:
        fresh = (Gp * Gp / (policy.l2_lambda + (G * G).sum(0))).sum(axis=2)
    stale = policy.variance(X)[1]
    return np.sqrt(np.maximum(stale, 0.0)).mean(0) / np.sqrt(np.maximum(fresh, 0.0)).mean(0)


# ----------------------------------------------------------------------------- time-varying tastes


class ColumnView:
    """A contextual bandit that sees only some columns of the context (e.g. LinUCB without time features).

    ``ColumnView(LinUCB(K, len(columns)), columns, n_features)``: contexts of width ``n_features`` are
    cut to ``columns`` before they reach ``policy``; every verb and the state are the inner policy's.
    """

    def __init__(self, policy: Any, columns: Sequence[int], n_features: int):
        self.n_features = integer("n_features", n_features, low=1)
        self.columns = np.asarray(columns, dtype=int)
        if self.columns.ndim != 1 or self.columns.size == 0 or self.columns.min() < 0 \
                or self.columns.max() >= self.n_features:
            raise ValueError(f"columns must be a non-empty list of indices in [0, {self.n_features}), got {columns!r}")
        if policy.n_features != len(self.columns):
            raise ValueError(f"the inner policy expects {policy.n_features} features but columns selects "
                             f"{len(self.columns)}; build it with n_features=len(columns)")
        self.policy = policy

    @property
    def n_arms(self) -> int:
        return self.policy.n_arms

    def _cut(self, contexts: Any) -> np.ndarray:
        return _check_contexts(contexts, self.n_features)[:, self.columns]

    def select(self, context: Any) -> int:
        return int(self.policy.predict(self._cut(context))[0, 0])

    def update(self, arm: int, reward: float, context: Any) -> ColumnView:
        self.policy.update(arm, reward, self._cut(context)[0])
        return self

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> ColumnView:
        self.policy.partial_fit(arms, rewards, self._cut(contexts))
        return self

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        return self.policy.predict_expectations(self._cut(contexts))

    def predict(self, contexts: Any, k: int = 1) -> np.ndarray:
        return self.policy.predict(self._cut(contexts), k)

    def action_probabilities(self, contexts: Any) -> np.ndarray:
        return self.policy.action_probabilities(self._cut(contexts))

    def state_dict(self) -> dict[str, Any]:
        return self.policy.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> ColumnView:
        self.policy.load_state_dict(state)
        return self


class SlidingWindowLinUCB(_Deterministic):
    """Disjoint LinUCB on the last ``window`` events only (a minimal sliding-window LinUCB).

    Each arm keeps ``A_a^{-1}`` and ``b_a`` of the events inside the window: an arriving event is
    added by Sherman-Morrison, the event that leaves the window is removed by the downdate
    ``(A - x x^T)^{-1} = A^{-1} + A^{-1} x x^T A^{-1} / (1 - x^T A^{-1} x)``.  Score as LinUCB:
    ``x^T theta_a + alpha sqrt(x^T A_a^{-1} x)``.  Time enters only as "forget what is old".
    """

    def __init__(self, n_arms: int, n_features: int, window: int = 1000, alpha: float = 1.0,
                 l2_lambda: float = 1.0):
        self.n_arms = integer("n_arms", n_arms, low=1)
        self.n_features = integer("n_features", n_features, low=1)
        self.window = integer("window", window, low=1)
        self.alpha = number("alpha", alpha, low=0)
        self.l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
        d = self.n_features
        self.A_inv = np.broadcast_to(np.eye(d) / self.l2_lambda, (self.n_arms, d, d)).copy()
        self.b = np.zeros((self.n_arms, d))
        self.buf_X = np.zeros((self.window, d))
        self.buf_arm = np.full(self.window, -1)
        self.buf_r = np.zeros(self.window)
        self.t = 0

    def _rank_one(self, arm: int, x: np.ndarray, sign: float) -> None:
        A = self.A_inv[arm]
        Ax = A @ x
        A -= sign * np.outer(Ax, Ax) / (1.0 + sign * (x @ Ax))

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> SlidingWindowLinUCB:
        """Events in order: each enters the window, the oldest leaves once ``window`` are held."""
        X = _check_contexts(contexts, self.n_features)
        a = _check_arms(arms, self.n_arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if not (len(a) == len(r) == len(X)) or not np.isfinite(r).all():
            raise ValueError(f"arms, rewards and contexts need the same length and finite rewards, "
                             f"got lengths {len(a)}, {len(r)}, {len(X)}")
        for i in range(len(a)):
            slot = self.t % self.window
            old = self.buf_arm[slot]
            if old >= 0:
                self._rank_one(old, self.buf_X[slot], -1.0)
                self.b[old] -= self.buf_r[slot] * self.buf_X[slot]
            self._rank_one(int(a[i]), X[i], 1.0)
            self.b[a[i]] += r[i] * X[i]
            self.buf_X[slot], self.buf_arm[slot], self.buf_r[slot] = X[i], a[i], r[i]
            self.t += 1
        return self

    def update(self, arm: int, reward: float, context: Any) -> SlidingWindowLinUCB:
        return self.partial_fit([arm], [reward], np.atleast_2d(context))

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        X = _check_contexts(contexts, self.n_features)
        theta = np.einsum("kij,kj->ki", self.A_inv, self.b)
        quad = np.einsum("nj,kij,ni->nk", X, self.A_inv, X)
        return X @ theta.T + self.alpha * np.sqrt(np.maximum(quad, 0.0))

    def state_dict(self) -> dict[str, Any]:
        return {"A_inv": self.A_inv.copy(), "b": self.b.copy(), "buf_X": self.buf_X.copy(),
                "buf_arm": self.buf_arm.copy(), "buf_r": self.buf_r.copy(), "t": int(self.t)}

    def load_state_dict(self, state: Mapping[str, Any]) -> SlidingWindowLinUCB:
        for k in ("A_inv", "b", "buf_X", "buf_r"):
            setattr(self, k, np.asarray(state[k], dtype=float).copy())
        self.buf_arm = np.asarray(state["buf_arm"], dtype=int).copy()
        self.t = int(state["t"])
        return self


class HyperNet(nn.Module):
    """The hypernetwork of HyperBandit: time features ``tau`` -> the low-rank factors ``U(tau), V(tau)``.

    ``tau (n, d_tau) -> hidden (ReLU) -> (n, d_u r + d_i r)``, reshaped to ``U (n, d_u, r)`` and
    ``V (n, d_i, r)``; the preference matrix is ``Theta(tau) = U(tau) V(tau)^T`` (rank ``r``).
    """

    def __init__(self, d_tau: int, d_user: int, d_item: int, rank: int, hidden: int = 32):
        super().__init__()
        self.d_user, self.d_item, self.rank = d_user, d_item, rank
        self.body = nn.Sequential(nn.Linear(d_tau, hidden), nn.ReLU(), nn.Linear(hidden, (d_user + d_item) * rank))

    def forward(self, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.body(tau)
        cut = self.d_user * self.rank
        return (out[:, :cut].reshape(-1, self.d_user, self.rank),
                out[:, cut:].reshape(-1, self.d_item, self.rank))


class HyperBandit(_Deterministic):
    """HyperBandit (Shen, Zhang, Wei and Xu, CIKM 2023), as this lesson implements it (equation HB).

    A hypernetwork maps the time features ``tau`` of a visit (day of week, period of day) to the
    factors of a low-rank preference matrix ``Theta(tau) = U(tau) V(tau)^T`` that scores a user-item
    pair ``x_u^T Theta(tau) y_a`` (``x_u``: the user columns of the context, ``y_a``: the item's
    features, each with a constant 1 appended).  Exploration is UCB on the low-rank factors: with
    ``z = U(tau)^T x_u`` (the user in the ``r``-dimensional latent space), each item keeps a ridge
    correction ``beta_a`` of its latent vector with ``A_a = lambda I + sum z z^T`` and
    ``b_a = sum (r - x^T Theta y_a) z``, and scores

        p_a = z^T (V(tau)^T y_a + beta_a) + alpha sqrt(z^T A_a^{-1} z)                      (HB)

    The hypernetwork is trained on the stream: every ``train_every`` events, ``train_steps`` Adam
    steps of squared error on the last ``buffer`` events; then ``A_a, b_a`` are recomputed on the
    new factors (as NeuralLinear does after a retrain).  ``use_time=False`` feeds the hypernetwork a
    constant: the same low-rank bandit without time (an ablation).
    """

    numpy_training = True  # on the CPU, train with the closed-form gradient (False: torch autograd, for tests)

    def __init__(self, n_arms: int, n_features: int, item_features: Any, user_columns: Sequence[int],
                 time_columns: Sequence[int], rank: int = 4, hidden: int = 32, alpha: float = 0.5,
                 l2_lambda: float = 1.0, lr: float = 0.01, train_every: int = 100, train_steps: int = 30,
                 batch_size: int = 256, buffer: int = 5000, use_time: bool = True, seed: int = 0,
                 device: str | torch.device | None = None):
        self.n_arms = integer("n_arms", n_arms, low=1)
        self.n_features = integer("n_features", n_features, low=1)
        Y = np.asarray(item_features, dtype=float)
        if Y.ndim != 2 or len(Y) != self.n_arms or not np.isfinite(Y).all():
            raise ValueError(f"item_features must be a finite (n_arms={self.n_arms}, d_item) array, "
                             f"got shape {Y.shape}")
        self.Y = np.column_stack([Y, np.ones(len(Y))])
        self.user_columns = self._columns("user_columns", user_columns)
        self.time_columns = self._columns("time_columns", time_columns)
        self.rank = integer("rank", rank, low=1)
        self.alpha = number("alpha", alpha, low=0)
        self.l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
        self.lr = number("lr", lr, low=0, low_open=True)
        self.train_every = integer("train_every", train_every, low=1)
        self.train_steps = integer("train_steps", train_steps, low=0)
        self.batch_size = integer("batch_size", batch_size, low=1)
        self.buffer = integer("buffer", buffer, low=1)
        self.use_time = bool(use_time)
        self.seed = integer("seed", seed, low=0)
        self.device = torch.device(device) if device is not None else default_device()
        d_tau = len(self.time_columns) if self.use_time else 1
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.net = HyperNet(d_tau, len(self.user_columns) + 1, self.Y.shape[1], self.rank,
                                integer("hidden", hidden, low=1)).to(self.device, torch.float64)
        self.rng = np.random.default_rng(self.seed)
        r = self.rank
        self.A_inv = np.broadcast_to(np.eye(r) / self.l2_lambda, (self.n_arms, r, r)).copy()
        self.b = np.zeros((self.n_arms, r))
        self.X = np.zeros((0, self.n_features))
        self.arms = np.zeros(0, dtype=int)
        self.rewards = np.zeros(0)
        self.t = 0
        self._version = 0  # bumped when the weights change: the NumPy copy is keyed on it
        self._np_weights: tuple[int, list[np.ndarray]] | None = None

    def _columns(self, name: str, columns: Sequence[int]) -> np.ndarray:
        c = np.asarray(columns, dtype=int)
        if c.ndim != 1 or c.size == 0 or c.min() < 0 or c.max() >= self.n_features:
            raise ValueError(f"{name} must be a non-empty list of context columns in [0, {self.n_features}), "
                             f"got {columns!r}")
        return c

    # --- the model
    def _split(self, X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tau, x_u)`` tensors of validated contexts (a constant appended to ``x_u``; ``tau = 1`` without time)."""
        tau = X[:, self.time_columns] if self.use_time else np.ones((len(X), 1))
        xu = np.column_stack([X[:, self.user_columns], np.ones(len(X))])
        return (torch.as_tensor(tau, device=self.device, dtype=torch.float64),
                torch.as_tensor(xu, device=self.device, dtype=torch.float64))

    def factors(self, contexts: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(z, W)``: the user's latent vector ``U(tau)^T x_u`` ``(n, r)`` and every item's ``V(tau)^T y_a`` ``(n, K, r)``."""
        X = _check_contexts(contexts, self.n_features)
        tau = X[:, self.time_columns] if self.use_time else np.ones((len(X), 1))
        xu = np.column_stack([X[:, self.user_columns], np.ones(len(X))])
        W1, c1, W2, c2 = self._numpy_weights()   # the same forward pass in NumPy: no per-call torch overhead
        out = np.maximum(tau @ W1.T + c1, 0.0) @ W2.T + c2
        cut, r = self.net.d_user * self.rank, self.rank
        U = out[:, :cut].reshape(len(X), -1, r)
        V = out[:, cut:].reshape(len(X), -1, r)
        return (xu[:, None, :] @ U)[:, 0], self.Y[None] @ V   # (n, r), (n, K, r)

    def _chosen_factors(self, X: np.ndarray, arms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``z`` and the chosen item's ``V(tau)^T y_a`` per row, ``(n, r)`` each (no ``(n, K, r)`` array)."""
        tau = X[:, self.time_columns] if self.use_time else np.ones((len(X), 1))
        xu = np.column_stack([X[:, self.user_columns], np.ones(len(X))])
        W1, c1, W2, c2 = self._numpy_weights()
        out = np.maximum(tau @ W1.T + c1, 0.0) @ W2.T + c2
        cut, r = self.net.d_user * self.rank, self.rank
        U = out[:, :cut].reshape(len(X), -1, r)
        V = out[:, cut:].reshape(len(X), -1, r)
        return (xu[:, None, :] @ U)[:, 0], (self.Y[arms][:, None, :] @ V)[:, 0]

    def warm_start(self, arms: Any, rewards: Any, contexts: Any, steps: int = 200) -> HyperBandit:
        """Start from a logged batch (lesson 03's offline start): into the buffer, ``steps`` training steps, ``A, b``."""
        X = _check_contexts(contexts, self.n_features)
        a = _check_arms(arms, self.n_arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if not (len(a) == len(r) == len(X)) or not np.isfinite(r).all():
            raise ValueError(f"arms, rewards and contexts need the same length and finite rewards, "
                             f"got lengths {len(a)}, {len(r)}, {len(X)}")
        self.X = np.vstack([self.X, X])[-self.buffer:]
        self.arms = np.append(self.arms, a)[-self.buffer:]
        self.rewards = np.append(self.rewards, r)[-self.buffer:]
        saved, self.train_steps = self.train_steps, integer("steps", steps, low=0)
        try:
            self.train()
        finally:
            self.train_steps = saved
        return self

    def _numpy_weights(self) -> list[np.ndarray]:
        if self._np_weights is None or self._np_weights[0] != self._version:
            self._np_weights = (self._version, [p.detach().cpu().numpy() for p in self.net.parameters()])
        return self._np_weights[1]

    def preference_matrix(self, contexts: Any) -> np.ndarray:
        """``Theta(tau) = U(tau) V(tau)^T`` per context, ``(n, d_u + 1, d_i + 1)``, rank at most ``r``."""
        X = _check_contexts(contexts, self.n_features)
        tau, _ = self._split(X)
        with torch.no_grad():
            U, V = self.net(tau)
            return (U @ V.transpose(1, 2)).cpu().numpy()

    def network_scores(self, contexts: Any) -> np.ndarray:
        """``x_u^T Theta(tau) y_a`` for every context and item, ``(n, K)``: the hypernetwork's prediction."""
        z, W = self.factors(contexts)
        return np.einsum("nr,nkr->nk", z, W)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        """UCB scores of equation HB, ``(n, n_arms)``."""
        z, W = self.factors(contexts)
        K, r = self.n_arms, self.rank
        beta = (self.A_inv @ self.b[:, :, None])[:, :, 0]
        mean = (W @ z[:, :, None])[:, :, 0] + z @ beta.T
        Az = (self.A_inv.reshape(K * r, r) @ z.T).reshape(K, r, -1)          # A_a^{-1} z, (K, r, n)
        quad = (Az * z.T[None]).sum(axis=1).T                                  # z^T A_a^{-1} z, (n, K)
        return mean + self.alpha * np.sqrt(np.maximum(quad, 0.0))

    # --- learning
    def update(self, arm: int, reward: float, context: Any) -> HyperBandit:
        return self.partial_fit([arm], [reward], np.atleast_2d(context))

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> HyperBandit:
        """Events in order: rank-one update of the item's ``A^{-1}``, ``b += residual z``; retrain every ``train_every``."""
        X = _check_contexts(contexts, self.n_features)
        a = _check_arms(arms, self.n_arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if not (len(a) == len(r) == len(X)):
            raise ValueError(f"arms, rewards and contexts need the same length, got {len(a)}, {len(r)}, {len(X)}")
        if not np.isfinite(r).all():
            raise ValueError("rewards contain NaN or infinite values")
        start = 0
        while start < len(a):
            stop = min(len(a), start + self.train_every - self.t % self.train_every)
            z, W = self.factors(X[start:stop])
            for i in range(stop - start):
                arm, zi = int(a[start + i]), z[i]
                Az = self.A_inv[arm] @ zi
                self.A_inv[arm] -= np.outer(Az, Az) / (1.0 + zi @ Az)
                self.b[arm] += (r[start + i] - zi @ W[i, arm]) * zi
            self.X = np.vstack([self.X, X[start:stop]])[-self.buffer:]
            self.arms = np.append(self.arms, a[start:stop])[-self.buffer:]
            self.rewards = np.append(self.rewards, r[start:stop])[-self.buffer:]
            self.t += stop - start
            start = stop
            if self.t % self.train_every == 0:
                self.train()
        return self

    def train(self) -> HyperBandit:
        """``train_steps`` Adam steps on ``mean (x_u^T Theta(tau) y_a - r)^2 / 2`` over the buffer, then recompute ``A, b``."""
        n = len(self.rewards)
        if n == 0:
            return self
        if self.train_steps and self.device.type == "cpu" and self.numpy_training:
            self._train_numpy(n)
        elif self.train_steps:
            tau, xu = self._split(self.X)
            Y = torch.as_tensor(self.Y, device=self.device, dtype=torch.float64)
            a = torch.as_tensor(self.arms, device=self.device)
            r = torch.as_tensor(self.rewards, device=self.device, dtype=torch.float64)
            params = list(self.net.parameters())
            m1 = [torch.zeros_like(p) for p in params]
            m2 = [torch.zeros_like(p) for p in params]
            beta1, beta2, eps = 0.9, 0.999, 1e-8
            for step in range(1, self.train_steps + 1):
                idx = torch.as_tensor(self.rng.choice(n, min(n, self.batch_size), replace=False), device=self.device)
                U, V = self.net(tau[idx])
                z = (xu[idx][:, None, :] @ U)[:, 0]
                w = (Y[a[idx]][:, None, :] @ V)[:, 0]
                loss = 0.5 * (((z * w).sum(1) - r[idx]) ** 2).mean()
                g = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    torch._foreach_mul_(m1, beta1)
                    torch._foreach_add_(m1, g, alpha=1 - beta1)
                    torch._foreach_mul_(m2, beta2)
                    torch._foreach_addcmul_(m2, g, g, value=1 - beta2)
                    denom = torch._foreach_sqrt(torch._foreach_div(m2, 1 - beta2 ** step))
                    torch._foreach_add_(denom, eps)
                    torch._foreach_addcdiv_(params, m1, denom, value=-self.lr / (1 - beta1 ** step))
            self._version += 1
        z, w = self._chosen_factors(self.X, self.arms)
        resid = self.rewards - np.einsum("nr,nr->n", z, w)
        onehot = np.zeros((n, self.n_arms))
        onehot[np.arange(n), self.arms] = 1.0                                  # sums per item as one product
        zz = (z[:, :, None] * z[:, None, :]).reshape(n, -1)
        A = self.l2_lambda * np.eye(self.rank) + (onehot.T @ zz).reshape(self.n_arms, self.rank, self.rank)
        self.A_inv = np.linalg.inv(A)
        self.b = onehot.T @ (resid[:, None] * z)
        return self

    def _train_numpy(self, n: int) -> None:
        """``train``'s Adam steps on the CPU with the loss gradient in closed form (same batches, same updates).

        ``pred = z^T w`` with ``z = U^T x_u``, ``w = V^T y_a``: ``dU = x_u (delta w)^T``, ``dV = y_a (delta z)^T``,
        then backpropagation through the hypernetwork's two layers.  Tests check it against autograd.
        """
        tau = self.X[:, self.time_columns] if self.use_time else np.ones((n, 1))
        xu = np.column_stack([self.X[:, self.user_columns], np.ones(n)])
        params = self._numpy_weights()          # NumPy views of the weights: updated in place
        W1, c1, W2, c2 = params
        m1 = [np.zeros_like(p) for p in params]
        m2 = [np.zeros_like(p) for p in params]
        cut, r = self.net.d_user * self.rank, self.rank
        for step in range(1, self.train_steps + 1):
            idx = self.rng.choice(n, min(n, self.batch_size), replace=False)
            tb, xb, yb, rb = tau[idx], xu[idx], self.Y[self.arms[idx]], self.rewards[idx]
            pre = tb @ W1.T + c1
            h = np.maximum(pre, 0.0)
            out = h @ W2.T + c2
            B = len(idx)
            U, V = out[:, :cut].reshape(B, -1, r), out[:, cut:].reshape(B, -1, r)
            z, w = (xb[:, None, :] @ U)[:, 0], (yb[:, None, :] @ V)[:, 0]
            delta = ((z * w).sum(1) - rb) / B
            dU = xb[:, :, None] * (delta[:, None] * w)[:, None, :]
            dV = yb[:, :, None] * (delta[:, None] * z)[:, None, :]
            dout = np.concatenate([dU.reshape(B, -1), dV.reshape(B, -1)], axis=1)
            dh = (dout @ W2) * (pre > 0)
            _adam_step(params, [dh.T @ tb, dh.sum(0), dout.T @ h, dout.sum(0)], m1, m2, step, self.lr)
        self._version += 1
        self._np_weights = (self._version, params)

    # --- state
    def state_dict(self) -> dict[str, Any]:
        """Hypernetwork weights (``net.<name>``), ``A_inv``, ``b``, buffer, counter and RNG state."""
        state: dict[str, Any] = {f"net.{k}": v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}
        state.update(A_inv=self.A_inv.copy(), b=self.b.copy(), X=self.X.copy(), arms=self.arms.copy(),
                     rewards=self.rewards.copy(), t=int(self.t), rng=copy.deepcopy(self.rng.bit_generator.state))
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> HyperBandit:
        self.net.load_state_dict({k[4:]: torch.as_tensor(np.asarray(v), device=self.device, dtype=torch.float64)
                                  for k, v in state.items() if k.startswith("net.")})
        self.A_inv = np.asarray(state["A_inv"], dtype=float).copy()
        self.b = np.asarray(state["b"], dtype=float).copy()
        self.X = np.asarray(state["X"], dtype=float).reshape(-1, self.n_features).copy()
        self.arms = np.asarray(state["arms"], dtype=int).copy()
        self.rewards = np.asarray(state["rewards"], dtype=float).copy()
        self.t = int(state["t"])
        self._version += 1
        self.rng.bit_generator.state = _rng_state(state["rng"])
        return self
