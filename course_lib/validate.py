"""Shared checks of scalar parameters (learning rates, priors, counts, levels) for every lesson.

Each function validates one parameter at a module's boundary and returns it converted
(``float``, ``int`` or a float array), or raises a ``ValueError`` that names the parameter, says
what was wrong, the allowed range and, where the caller gives a ``hint``, what to do:

    >>> number("alpha", -1, low=0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be >= 0, got -1

``bool`` is rejected although Python counts it as an ``int``: ``epsilon=True`` is a slip, not a
rate.  NaN and infinities are rejected too; a parameter that may be unbounded says so by leaving
``high`` out, never by accepting ``inf``.  Arrays of logged data have their own checks beside the
estimators that read them (``course_lib.ope``, ``course_lib.metrics``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["number", "integer", "number_array"]


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
