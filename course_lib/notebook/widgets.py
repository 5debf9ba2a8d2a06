"""Widget helpers: sliders that re-run a small simulation and redraw a figure.

``slider_plot(draw, eta=log_slider(...), ...)`` shows the sliders and, below them, the figure
``draw(**values)`` makes; whenever a slider is released (not while dragging, so each redraw is
one simulation) the figure is redrawn in place.  ``draw`` makes one matplotlib figure and calls
``plt.show()``.

The figure is an ordinary display output, updated through its display id, not an ipywidgets
``Output``: it is saved in the notebook with the default values, so it shows in any viewer, and
headless runners (papermill, nbclient, nbval) run the cell without mimicking an Output widget,
which can deadlock nbclient (jupyter/nbclient#312).

When ``draw`` raises after a slider moved, the error replaces the figure in the cell (a red
traceback under the sliders, naming the values that failed) instead of vanishing into
JupyterLab's log console; the next successful move brings the figure back.  An error while the
cell itself runs (the default values) is an ordinary cell error.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

import ipywidgets as w
from IPython.display import display


def log_slider(value: float, min: float, max: float, description: str = "", step: float = 0.1,
               readout_format: str = ".3g") -> w.FloatLogSlider:
    """A base-10 log slider from ``min`` to ``max`` (both > 0)."""
    import math

    if not (0 < min < max):
        raise ValueError(f"log_slider needs 0 < min < max, got min={min}, max={max}")
    return w.FloatLogSlider(value=value, base=10, min=math.log10(min), max=math.log10(max), step=step,
                            description=description, readout_format=readout_format, continuous_update=False,
                            style={"description_width": "initial"})


def float_slider(value: float, min: float, max: float, step: float, description: str = "",
                 readout_format: str = ".2f") -> w.FloatSlider:
    return w.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         readout_format=readout_format, continuous_update=False,
                         style={"description_width": "initial"})


def int_slider(value: int, min: int, max: int, step: int = 1, description: str = "") -> w.IntSlider:
    return w.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style={"description_width": "initial"})


def slider_plot(draw: Callable[..., None], **sliders: w.ValueWidget) -> None:
    """Display the sliders, then the figure ``draw(**{name: slider.value})``; redraw it on release."""
    if not sliders:
        raise ValueError("slider_plot needs at least one slider, e.g. slider_plot(draw, eta=log_slider(...))")
    display(w.HBox(list(sliders.values()), layout=w.Layout(flex_flow="row wrap")))
    handle = display(_figure(draw, sliders), display_id=True)

    def redraw(_change) -> None:
        try:
            figure = _figure(draw, sliders)
        except Exception:
            handle.update(_error_bundle(draw, sliders), raw=True)
        else:
            handle.update(figure)

    for slider in sliders.values():
        slider.observe(redraw, names="value")


def _figure(draw: Callable[..., None], sliders: dict[str, w.ValueWidget]):
    """Call ``draw`` with the sliders' values, its ``plt.show()`` silenced; return the figure it made (closed)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    show = plt.show
    plt.show = lambda *args, **kwargs: None
    try:
        draw(**{name: slider.value for name, slider in sliders.items()})
    finally:
        plt.show = show
        # closed even when draw raised half-way, so the inline backend never shows a stray figure
        made = [plt.figure(n) for n in plt.get_fignums() if n not in before]
        for fig in made:
            plt.close(fig)
    if not made:
        raise ValueError(f"{getattr(draw, '__name__', 'draw')}(...) made no matplotlib figure; "
                         "create one with plt.subplots() inside it")
    return made[-1]


def _error_bundle(draw: Callable[..., None], sliders: dict[str, w.ValueWidget]) -> dict[str, str]:
    """The exception being handled, as a display bundle JupyterLab shows like a cell error."""
    etype, value, tb = sys.exc_info()
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next   # start at the user's draw, not at this module's plumbing
    values = ", ".join(f"{name}={_fmt(slider.value)}" for name, slider in sliders.items())
    head = (f"The figure could not be redrawn: {getattr(draw, '__name__', 'draw')}({values}) raised "
            f"{etype.__name__}: {value}\nMove the slider back, or fix draw and run the cell again.\n")
    plain = head + "\n" + "".join(traceback.format_exception(etype, value, tb))
    coloured = plain
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:   # the same coloured traceback as a cell error
            itb = shell.InteractiveTB
            coloured = head + "\n" + itb.stb2text(itb.structured_traceback(etype, value, tb))
    except Exception:  # pragma: no cover - formatting must never hide the original error
        pass
    return {"application/vnd.jupyter.stderr": coloured, "text/plain": plain}


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else repr(value)
