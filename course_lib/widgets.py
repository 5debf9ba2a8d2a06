"""Widget helpers: sliders that re-run a small simulation and redraw a figure.

``slider_plot(draw, eta=log_slider(...), ...)`` shows the sliders and calls ``draw(**values)``
whenever one is released (not while dragging, so each redraw is one simulation).  ``draw``
makes its own matplotlib figure.  Under papermill or nbclient the cell still runs: the first
figure is drawn once and no browser is needed.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w


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


def slider_plot(draw: Callable[..., None], **sliders: w.ValueWidget) -> w.VBox:
    """Sliders above an output area; ``draw(**{name: slider.value})`` redraws on release."""
    out = w.interactive_output(draw, sliders)
    return w.VBox([w.HBox(list(sliders.values()), layout=w.Layout(flex_flow="row wrap")), out])
