"""Shared checks of parameters (rates, priors, counts, levels) and of data arrays for every lesson.

Each function validates one parameter at a module's boundary and returns it converted
(``float``, ``int`` or a float array), or raises a ``ValueError`` that names the parameter, says
what was wrong, the allowed range and, where the caller gives a ``hint``, what to do:

    >>> number("alpha", -1, low=0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be >= 0, got -1

``bool`` is rejected although Python counts it as an ``int``: ``epsilon=True`` is a slip, not a
rate.  NaN and infinities are rejected too; a parameter that may be unbounded says so by leaving
``high`` out, never by accepting ``inf``.  Arrays have their checks here too: ``array`` (numbers,
finite, dimensions, range), ``ids`` (integer indices in range), ``probabilities`` (in [0, 1], or
(0, 1] for propensities), ``contexts`` (rows of a given width) and ``binary`` (0/1 labels).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["number", "integer", "number_array", "array", "ids", "probabilities", "contexts", "binary", "Checked"]


def _range(low, high, low_open: bool, high_open: bool) -> str:
    """The allowed range in words: ``">= 0"``, ``"> 0"``, ``"<= 1"``, ``"in (0, 1]"`` or ``"a finite number"``."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {_num(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_num(high)}"
    return "a finite number"


def _num(x) -> str:
    return str(int(x)) if isinstance(x, numbers.Integral) else f"{x:.12g}"


def _shown(value) -> str:
    """``value`` as a message shows it: numbers plainly (``1.5``, not ``np.float64(1.5)``), the rest by repr."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return str(value)
    return repr(value)


def _fail(name: str, need: str, got: str, problem: str = "", hint: str = "") -> ValueError:
    message = f"{name} must be {need}, got {got}"
    if problem:
        message += f" ({problem})"
    if hint:
        message += f"; {hint}"
    return ValueError(message)


def _kind_problem(value) -> str:
    """Why ``value`` is not a real number at all, or ``""`` when it is one."""
    if value is None:
        return "not a number"
    if isinstance(value, (bool, np.bool_)):
        return "a bool, not a number"
    if isinstance(value, numbers.Real):
        return ""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return ""
    return f"a {type(value).__name__}, not a number"


def number(name: str, value, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """``value`` as a finite ``float`` in the range given by ``low`` and ``high``.

    ``low_open`` / ``high_open`` exclude the bound itself (``low=0, low_open=True`` means > 0);
    a bound left as None is no bound.  ``hint`` is appended to the error, e.g. the usual value.
    """
    need = _range(low, high, low_open, high_open)
    problem = _kind_problem(value)
    if problem:
        raise _fail(name, need, _shown(value), problem, hint)
    v = float(value)
    if math.isnan(v):
        raise _fail(name, need, _shown(value), "NaN is not a number", hint)
    if math.isinf(v):
        raise _fail(name, need, _shown(value), "infinity is not allowed", hint)
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        raise _fail(name, need, _shown(value), "", hint)
    return v


def integer(name: str, value, *, low: int = 1, high: int | None = None, hint: str = "") -> int:
    """``value`` as an ``int`` with ``low <= value`` (and ``<= high`` when given).

    Integers of any type are accepted (``int``, ``numpy.int64``), and floats with no fractional
    part (``1e4`` from a parameters cell); ``2.5``, ``True`` and ``"3"`` are not.
    """
    need = f"an integer {_range(low, high, False, False)}"
    problem = _kind_problem(value)
    if not problem and not isinstance(value, numbers.Integral):
        v = float(value)
        if not math.isfinite(v):
            problem = "NaN is not a number" if math.isnan(v) else "infinity is not allowed"
        elif not v.is_integer():
            problem = "not a whole number"
    if problem:
        raise _fail(name, need, _shown(value), problem, hint)
    v = int(value)
    if v < low or (high is not None and v > high):
        raise _fail(name, need, _shown(value), "", hint)
    return v


def number_array(name: str, values, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, hint: str = "") -> np.ndarray:
    """``values`` (a number or an array of any shape) as a float array, every entry checked like ``number``.

    For parameters that may be a grid, such as the users per arm of a power curve.  The error
    names the first bad entry and its index.
    """
    if np.ndim(values) == 0:
        return np.asarray(number(name, values, low=low, high=high, low_open=low_open,
                                 high_open=high_open, hint=hint))
    need = _range(low, high, low_open, high_open)
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise _fail(f"every entry of {name}", need, f"an array of dtype {arr.dtype}", "not numbers", hint)
    arr = arr.astype(float)
    ok = np.isfinite(arr)
    if low is not None:
        ok &= arr > low if low_open else arr >= low
    if high is not None:
        ok &= arr < high if high_open else arr <= high
    if not ok.all():
        index = tuple(int(i) for i in np.argwhere(~ok)[0])
        where = ", ".join(map(str, index))
        bad = arr[index]
        problem = "NaN is not a number" if np.isnan(bad) else "infinity is not allowed" if np.isinf(bad) else ""
        raise _fail(f"every entry of {name}", need, f"{name}[{where}] = {bad:g}", problem, hint)
    return arr


# ----------------------------------------------------------------------------- arrays, ids, probabilities


def array(name: str, values, *, ndim: int | tuple[int, ...] | None = None, min_ndim: int = 0,
          low: float | None = None, high: float | None = None, low_open: bool = False,
          high_open: bool = False, nonempty: bool = True, hint: str = "") -> np.ndarray:
    """``values`` as a float array: numbers only, finite, optionally of ``ndim`` dimensions and in a range.

    The error names the parameter, the first bad entry and how many there are, e.g.
    ``rewards has 3 missing (NaN) values``.
    """
    arr = np.asarray(values)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise _fail(name, "an array of numbers", f"an array of dtype {arr.dtype}", "not numbers", hint)
    arr = arr.astype(float)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if dims is not None and arr.ndim not in dims:
        raise _fail(name, f"a {' or '.join(map(str, dims))}-D array", f"shape {arr.shape}", "", hint)
    if arr.ndim < min_ndim:
        raise _fail(name, f"an array of at least {min_ndim} dimension(s)", f"shape {arr.shape}", "", hint)
    if nonempty and arr.size == 0:
        raise _fail(name, "a non-empty array", f"shape {arr.shape}", "", hint)
    nan = np.isnan(arr)
    if nan.any():
        raise ValueError(f"{name} has {int(nan.sum())} missing (NaN) values; drop or fill them in first"
                         + (f"; {hint}" if hint else ""))
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, found inf" + (f"; {hint}" if hint else ""))
    bad = np.zeros(arr.shape, bool)
    if low is not None:
        bad |= arr <= low if low_open else arr < low
    if high is not None:
        bad |= arr >= high if high_open else arr > high
    if bad.any():
        raise ValueError(f"{name} must be {_range(low, high, low_open, high_open)}, found "
                         f"{arr[bad].ravel()[0]:g} ({int(bad.sum())} entries)" + (f"; {hint}" if hint else ""))
    return arr


def ids(name: str, values, n: int, *, hint: str = "") -> np.ndarray:
    """Integer indices (arms, users, products) in ``[0, n)``, as an int array of the same shape."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and (arr == np.round(arr)).all():
            arr = arr.astype(int)  # 3.0 from a computation is an index; 2.5 and True are not
        elif arr.size or arr.dtype.kind == "b":
            raise _fail(name, "integer indices", f"dtype {arr.dtype}", "", hint)
        else:
            arr = arr.astype(int)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must lie in [0, {n}), got values from {arr.min()} to {arr.max()}"
                         + (f"; {hint}" if hint else ""))
    return arr


def probabilities(name: str, values, *, positive: bool = False, hint: str = "") -> np.ndarray:
    """Probabilities in [0, 1] (``positive=True``: in (0, 1], as propensities must be)."""
    return array(name, values, low=0.0, high=1.0, low_open=positive, hint=hint)


def contexts(name: str, values, width: int, *, hint: str = "") -> np.ndarray:
    """Context rows of ``width`` features as an ``(n, width)`` float array (one row ``(width,)`` accepted)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise _fail(name, "an array of numbers", f"an array of dtype {arr.dtype}", "not numbers", hint)
    X = arr.astype(float)
    if X.ndim == 1:
        X = X[None]
    if X.ndim != 2 or X.shape[1] != width:
        raise ValueError(f"{name} must have {width} features per row (shape (n, {width})), got shape {arr.shape}"
                         + (f"; {hint}" if hint else ""))
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contain NaN or infinite values; impute or drop them first")
    return X


def binary(name: str, values, *, hint: str = "") -> np.ndarray:
    """0/1 labels (clicked or not) as a non-empty float array."""
    arr = array(name, values, hint=hint)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold 0/1 labels (clicked or not)" + (f"; {hint}" if hint else ""))
    return arr


class Checked:
    """A class attribute validated on every assignment, for the knobs students set from sliders.

    ``epsilon = Checked(lambda v: number("epsilon", v, low=0, high=1))`` in a class body makes
    ``policy.epsilon = 2`` raise like the constructor would; the value lives in ``_epsilon``.
    """

    def __init__(self, check):
        self.check = check

    def __set_name__(self, owner, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.slot)

    def __set__(self, obj, value) -> None:
        setattr(obj, self.slot, self.check(value))
