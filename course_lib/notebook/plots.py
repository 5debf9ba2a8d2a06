"""Plot helpers shared by the lessons: one look, mean-and-band curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from course_lib.numerics import rolling_mean  # noqa: F401  (notebooks import it from here too)


def use_course_style() -> None:
    """Seaborn's whitegrid look at a size that reads well on a laptop screen and in a PDF.

    In a Jupyter kernel it also selects the inline backend, so figures are drawn (and stored in
    the notebook) even when the environment sets ``MPLBACKEND=Agg``.
    """
    import seaborn as sns

    _inline_in_jupyter()

    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({"figure.figsize": (8, 4), "figure.dpi": 90, "axes.titleweight": "bold"})


def _inline_in_jupyter() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell" and "inline" not in plt.get_backend():
        shell.run_line_magic("matplotlib", "inline")


def mean_band(ax, x: np.ndarray, runs: np.ndarray, label: str | None = None, color=None,
              band: str = "sd", alpha: float = 0.2, **kw):
    """Plot the mean of ``runs`` (shape runs x len(x)) with a shaded band.

    ``band``: ``"sd"`` (one standard deviation), ``"se"`` (standard error of the mean), or
    ``"pi90"`` (5th to 95th percentile of the runs), or ``"range"`` (minimum to maximum: for a few seeds).
    """
    runs = np.atleast_2d(np.asarray(runs, dtype=float))
    mean = runs.mean(axis=0)
    if band == "sd":
        sd = runs.std(axis=0)
        lo, hi = mean - sd, mean + sd
    elif band == "se":
        se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else np.zeros_like(mean)
        lo, hi = mean - se, mean + se
    elif band == "pi90":
        lo, hi = np.percentile(runs, [5, 95], axis=0)
    elif band == "range":
        lo, hi = runs.min(axis=0), runs.max(axis=0)
    else:
        raise ValueError(f"band must be 'sd', 'se', 'pi90' or 'range', got {band!r}")
    (line,) = ax.plot(x, mean, label=label, color=color, **kw)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=alpha, linewidth=0)
    return line
