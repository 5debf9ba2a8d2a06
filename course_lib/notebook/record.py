"""Record a lesson's key figures in the executed notebook, and read them back.

A notebook calls ``record("final_logloss.adagrad", 0.4123)``; the value is stored in the cell's
outputs under a custom MIME type only, which ``read_records`` (used by the tests) reads back from the
executed ``.ipynb``.  The student sees nothing: an output whose only MIME type no renderer knows is
drawn as an empty output by JupyterLab (no renderer, an empty widget) and by nbconvert's HTML and
Markdown exporters (checked in ``tests/test_machinery.py``); the notebook prints its figures in prose.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MIME = "application/vnd.course.record+json"
SIGNIFICANT_DIGITS = 4


def _round_sig(x: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def to_plain(value: Any) -> Any:
    """Convert NumPy scalars/arrays and containers to JSON values, floats rounded to 4 significant digits.

    Four digits are what a lesson can honestly claim; they also keep the stored
    outputs identical across BLAS builds, so nbval can compare them.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"record: value must be finite, got {v}")
        return _round_sig(v)
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_plain(v) for v in value]
    raise TypeError(f"record: cannot store a {type(value).__name__}; use numbers, strings, lists or dicts")


def record(name: str, value: Any) -> None:
    """Store ``name = value`` in the notebook for the tests (see ``read_records``), silently."""
    from IPython.display import display

    if not isinstance(name, str) or not name:
        raise ValueError("record: name must be a non-empty string")
    plain = to_plain(value)
    display({MIME: {"name": name, "value": plain}}, raw=True)


def read_records(notebook: str | Path | Mapping) -> dict[str, Any]:
    """Every recorded ``name -> value`` of an executed notebook (a path or a loaded nbformat node)."""
    if not isinstance(notebook, Mapping):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found: dict[str, Any] = {}
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME in data:
                rec = data[MIME]
                found[rec["name"]] = rec["value"]
    return found
