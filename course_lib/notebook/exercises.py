"""Exercise checkers: friendly in a student notebook, strict in a solution notebook.

Each lesson module defines ``check_<exercise>(candidate)`` functions built on ``run_check``.
A check returns an ``ExerciseResult`` whose ``use`` attribute is the function the lesson
continues with: the student's own when it passed, otherwise the reference implementation.

Variant, first match wins: the environment variable ``COURSE_NOTEBOOK_VARIANT`` (``solutions`` or
``notebooks``); the notebook's own ``use_variant("solutions")`` line, which the student generator
(``tools/notebooks.py``) rewrites to ``use_variant("notebooks")`` in the student copy, so a copy keeps
its variant wherever it runs; else the folder the kernel runs in (``solutions`` or not).  In the ``solutions`` variant a failing or unsolved exercise raises
``AssertionError`` so the test suite catches a broken solution.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VARIANT_ENV = "COURSE_NOTEBOOK_VARIANT"
VARIANTS = ("solutions", "notebooks")
_declared: str | None = None


def use_variant(variant: str) -> None:
    """Declare this notebook's variant (a line of every lesson's setup cell; see the module docstring)."""
    global _declared
    if variant not in VARIANTS:
        raise ValueError(f"variant must be 'solutions' or 'notebooks', got {variant!r}")
    _declared = variant


def notebook_variant() -> str:
    """``"solutions"`` or ``"notebooks"`` (see module docstring)."""
    env = os.environ.get(VARIANT_ENV)
    if env:
        if env not in VARIANTS:
            raise ValueError(f"{VARIANT_ENV} must be 'solutions' or 'notebooks', got {env!r}")
        return env
    if _declared is not None:
        return _declared
    return "solutions" if Path.cwd().name == "solutions" else "notebooks"


@dataclass
class ExerciseResult:
    """Outcome of one exercise check; displays as a short message in the notebook."""

    name: str
    status: str  # "passed", "unsolved" or "failed"
    message: str
    use: Callable[..., Any]

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        icon = {"passed": "PASSED", "unsolved": "NOT SOLVED YET", "failed": "NOT QUITE"}[self.status]
        return f"[{icon}] {self.name}: {self.message}"

    def _repr_markdown_(self) -> str:
        icon = {"passed": "✅", "unsolved": "📝", "failed": "❌"}[self.status]
        return f"{icon} **{self.name}**: {self.message}"


def run_check(
    name: str,
    candidate: Callable[..., Any],
    reference: Callable[..., Any],
    check: Callable[[Callable[..., Any]], None],
) -> ExerciseResult:
    """Run ``check(candidate)``; it raises ``AssertionError`` with a hint when the answer is wrong.

    Unsolved (``NotImplementedError``) and wrong answers continue with ``reference`` in a student
    notebook, and raise ``AssertionError`` in a solution notebook.
    """
    if not callable(candidate):
        raise TypeError(f"{name}: pass the function itself, e.g. check({name}) without calling it")
    try:
        check(candidate)
    except NotImplementedError:
        result = ExerciseResult(
            name, "unsolved",
            "not solved yet; the lesson continues with the reference implementation from course_lib.",
            reference,
        )
    except AssertionError as err:
        hint = str(err) or "the result differs from the reference"
        result = ExerciseResult(
            name, "failed",
            f"{hint}. The lesson continues with the reference implementation; fix your function and re-run this cell.",
            reference,
        )
    except Exception as err:  # the student's code crashed: show where, keep the lesson going
        where = traceback.format_exception_only(type(err), err)[-1].strip()
        result = ExerciseResult(
            name, "failed",
            f"your function raised {where}. The lesson continues with the reference implementation.",
            reference,
        )
    else:
        return ExerciseResult(name, "passed", "correct, the lesson continues with your implementation.", candidate)
    if notebook_variant() == "solutions":
        raise AssertionError(f"solution notebook: exercise {name} {result.status}: {result.message}")
    return result
