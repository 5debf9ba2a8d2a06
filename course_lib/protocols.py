"""The verbs every policy and learner of the course shares, and saving and loading their state.

A reader who knows one algorithm can read the next: context-free bandits (lesson 02), contextual
bandits (lessons 03, 04, 08) and online learners (lesson 01) each follow one protocol below, and all
of them can hand their state over as a plain dictionary of arrays and JSON scalars
(``state_dict``) and take it back (``load_state_dict``), so lesson 08 can ship a model from a
trainer to a server.  ``save_state``/``load_state`` put that dictionary in one ``.npz`` file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Stateful", "Bandit", "ContextualBandit", "OnlineLearner", "StateDictMixin", "save_state", "load_state"]


@runtime_checkable
class Stateful(Protocol):
    """State as a dictionary: after ``load_state_dict(state_dict())`` the object decides identically."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> Any: ...


@runtime_checkable
class Bandit(Stateful, Protocol):
    """A context-free bandit (lesson 02), possibly vectorised over independent runs."""

    n_arms: int

    def select(self, context: Any = None) -> Any: ...

    def update(self, arm: Any, reward: Any, context: Any = None) -> Any: ...

    def action_probabilities(self, context: Any = None) -> np.ndarray: ...


@runtime_checkable
class ContextualBandit(Stateful, Protocol):
    """A contextual bandit over ``n_arms`` arms and contexts of width ``n_features`` (lessons 03, 04, 08)."""

    n_arms: int
    n_features: int

    def select(self, context: Any) -> int: ...

    def update(self, arm: int, reward: float, context: Any) -> Any: ...

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> Any: ...

    def predict_expectations(self, contexts: Any) -> np.ndarray: ...

    def predict(self, contexts: Any, k: int = 1) -> np.ndarray: ...

    def action_probabilities(self, contexts: Any) -> np.ndarray: ...


@runtime_checkable
class OnlineLearner(Stateful, Protocol):
    """An online supervised learner (lesson 01): learn from a batch, predict for a batch."""

    def partial_fit(self, X: Any, y: Any) -> Any: ...

    def predict(self, X: Any) -> np.ndarray: ...


_META = "__json__"


def save_state(obj: Stateful, path: str | Path) -> Path:
    """Write ``obj.state_dict()`` to one ``.npz`` file: arrays as arrays, everything else as JSON."""
    state = obj.state_dict()
    if _META in state:
        raise ValueError(f"state_dict may not use the reserved key {_META!r}")
    arrays = {k: np.asarray(v) for k, v in state.items() if isinstance(v, np.ndarray)}
    rest = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    try:
        meta = json.dumps(rest)
    except TypeError as err:
        raise TypeError(f"state_dict of {type(obj).__name__} holds a value that is neither an array nor JSON: {err}")
    path = Path(path)
    with path.open("wb") as f:
        np.savez(f, **arrays, **{_META: np.array(meta)})
    return path


def load_state(obj: Stateful, path: str | Path) -> Stateful:
    """Read a file written by ``save_state`` into ``obj`` (``obj.load_state_dict``) and return ``obj``."""
    with np.load(Path(path), allow_pickle=False) as data:
        state: dict[str, Any] = {k: data[k] for k in data.files if k != _META}
        state.update(json.loads(str(data[_META])))
    obj.load_state_dict(state)
    return obj


# ----------------------------------------------------------------------------- one implementation of the state verbs

_JSON_SCALARS = (bool, int, float, str, type(None))


class StateDictMixin:
    """``state_dict``/``load_state_dict`` for a class whose state is its attributes.

    Arrays are copied as arrays; ints, floats, strings, None and tuples/lists of them as JSON; a
    ``numpy.random.Generator`` as its bit generator's state (JSON, ``rng.bit_generator.state``), so the
    random draws after a load continue exactly; an attribute that itself has ``state_dict`` (an
    optimiser, an inner EXP3) is stored under ``"<name>/<key>"``.  Functions (a student's custom
    update rule) are code, not state: they stay as constructed.  Loading checks the class name.
    """

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"class": type(self).__name__}
        for key, value in vars(self).items():
            if isinstance(value, np.random.Generator):
                state[key] = json.dumps(value.bit_generator.state)
            elif isinstance(value, np.ndarray):
                state[key] = value.copy()
            elif isinstance(value, (np.integer, np.floating, np.bool_)):
                state[key] = value.item()
            elif isinstance(value, _JSON_SCALARS):
                state[key] = value
            elif isinstance(value, (tuple, list)) and all(isinstance(v, _JSON_SCALARS) for v in value):
                state[key] = list(value)
            elif hasattr(value, "state_dict"):
                state.update({f"{key}/{k}": v for k, v in value.state_dict().items()})
            elif callable(value):
                continue
            else:
                raise TypeError(f"{type(self).__name__}.{key} ({type(value).__name__}) has no state_dict form")
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> Any:
        state = dict(state)
        name = str(state.pop("class", type(self).__name__))
        if name != type(self).__name__:
            raise ValueError(f"state: this state belongs to a {name}, not a {type(self).__name__}")
        nested: dict[str, dict[str, Any]] = {}
        for key, value in state.items():
            if "/" in key:
                head, rest = key.split("/", 1)
                nested.setdefault(head, {})[rest] = value
                continue
            if not hasattr(self, key):
                raise ValueError(f"state: unknown entry {key!r} for a {type(self).__name__}")
            current = getattr(self, key)
            if isinstance(current, np.random.Generator):
                current.bit_generator.state = json.loads(str(value))
            elif isinstance(value, np.ndarray) and value.ndim == 0 and not isinstance(current, np.ndarray):
                setattr(self, key, value.item())
            elif isinstance(value, np.ndarray):
                setattr(self, key, np.array(value))
            elif isinstance(current, tuple):
                setattr(self, key, tuple(value))
            else:
                setattr(self, key, value)
        for head, sub in nested.items():
            getattr(self, head).load_state_dict(sub)
        return self
