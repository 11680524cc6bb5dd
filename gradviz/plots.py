"""Plotly figure builders: data in, ``go.Figure`` out. No gradients, widgets or globals.

Per-layer magnitudes go on a log axis. Values that a log axis cannot show are drawn
as markers, never dropped: inf/nan at the top edge ("overflowed float32"), exact
zeros at the bottom edge, each with a note, so an exploding or dead network never
leaves a blank or broken plot.

Every builder comes as a pair: ``*_update(...)`` returns plain trace and layout
dicts (cheap, used by widgets to update a FigureWidget in place) and ``*_figure(...)``
builds a ``go.Figure`` from them.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

# One style per series name; unknown names cycle through the palette.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
_DASH = {"prediction": "dot", "after": "dash"}
OVERFLOW_COLOR = "#d62728"


def _style(name: str, i: int) -> dict:
    dash = next((d for key, d in _DASH.items() if key in name), "solid")
    color = "black" if "prediction" in name else PALETTE[i % len(PALETTE)]
    return {"mode": "lines+markers" if dash == "solid" else "lines",
            "line": {"color": color, "dash": dash, "width": 2},
            "marker": {"size": 4}}


def _log_range(series) -> tuple[float, float]:
    """log10 axis range covering every finite positive value, rounded out to whole decades.

    Whole decades keep the ticks unchanged across most slider moves, which spares the
    browser re-measuring tick labels.
    """
    vals = np.concatenate([np.asarray(v, dtype=float).ravel() for v in series if v is not None]
                          or [np.array([])])
    good = vals[np.isfinite(vals) & (vals > 0)]
    if good.size == 0:
        return -1.0, 1.0
    lo, hi = math.log10(good.min()), math.log10(good.max())
    return float(math.floor(lo - 0.15)), float(math.ceil(hi + 0.15))


def layer_norms_update(series: dict, *, xlabel: str = "layer l (0 = input side)",
                       xname: str = "layer", ylabel: str = "norm (log scale)",
                       overflow: str = "gradient overflowed float32 (inf/nan)") -> tuple:
    """Trace and layout updates for per-layer magnitudes on a log axis.

    Args:
        series: ``{name: values or None}``; values are ``(depth,)`` arrays that may hold
            inf, nan or 0. ``None`` draws an empty trace (keeps the trace count fixed).

    Returns:
        ``(traces, layout)``: ``len(series) + 2`` trace dicts (the series, then the
        non-finite markers, then the zero markers) and a layout dict.
    """
    lo, hi = _log_range(series.values())
    top, bottom = 10 ** (hi - 0.04 * (hi - lo)), 10 ** (lo + 0.04 * (hi - lo))
    traces, bad_x, bad_y, bad_text, zero_x, zero_y, zero_text, notes = ([] for _ in range(8))
    for name, values in series.items():
        if values is None:
            traces.append({"name": name, "x": np.zeros(0), "y": np.zeros(0)})
            continue
        v = np.asarray(values, dtype=float)
        layers = np.arange(v.size)
        finite_pos = np.isfinite(v) & (v > 0)
        # numpy arrays travel to the browser as binary buffers; nan draws a gap
        traces.append({"name": name, "x": layers, "y": np.where(finite_pos, v, np.nan)})
        bad = np.flatnonzero(~np.isfinite(v))
        zero = np.flatnonzero(v == 0)
        bad_x += bad.tolist()
        bad_y += [top] * bad.size
        bad_text += [f"{name}: {v[k]} at {xname} {k}" for k in bad]
        zero_x += zero.tolist()
        zero_y += [bottom] * zero.size
        zero_text += [f"{name}: exactly 0 at {xname} {k}" for k in zero]
        if bad.size:
            notes.append(f"{name}: {overflow} at {bad.size} {xname}(s), first at {xname} "
                         f"{bad.min()}")
        if zero.size:
            notes.append(f"{name}: exactly 0 at {zero.size} {xname}(s), first at {xname} "
                         f"{zero.min()}")
    traces.append({"name": "inf / nan (overflow)", "x": bad_x, "y": bad_y, "text": bad_text})
    traces.append({"name": "exactly 0", "x": zero_x, "y": zero_y, "text": zero_text})
    layout = {
        "yaxis": {"type": "log", "range": [lo, hi], "title": {"text": ylabel},
                  "exponentformat": "power"},
        "xaxis": {"title": {"text": xlabel}},
        "annotations": [{"text": "<br>".join(notes), "showarrow": False, "xref": "paper",
                         "yref": "paper", "x": 0.01, "y": 0.99, "xanchor": "left",
                         "yanchor": "top", "align": "left",
                         "font": {"color": OVERFLOW_COLOR, "size": 12}}],
    }
    return traces, layout


def layer_norms_figure(series: dict, *, title: str = "", **kwargs) -> go.Figure:
    """Per-layer magnitudes on a log axis (see :func:`layer_norms_update`)."""
    traces, layout = layer_norms_update(series, **kwargs)
    n = len(series)
    data = [go.Scatter(**_style(name, i), **t)
            for i, (name, t) in enumerate(zip(series, traces[:n], strict=True))]
    data.append(go.Scatter(mode="markers", hoverinfo="text", **traces[n],
                           marker={"symbol": "x", "size": 11, "color": OVERFLOW_COLOR}))
    data.append(go.Scatter(mode="markers", hoverinfo="text", **traces[n + 1],
                           marker={"symbol": "triangle-down", "size": 9, "color": "gray"}))
    fig = go.Figure(data=data)
    # Fixed margins: no automatic re-layout of the margins on every update.
    fig.update_layout(template="plotly_white", height=440,
                      margin={"l": 70, "r": 20, "t": 50, "b": 110, "autoexpand": False},
                      title={"text": title}, legend={"orientation": "h", "y": -0.25}, **layout)
    return fig


def apply_update(fig, traces: list[dict], layout: dict) -> None:
    """Write ``traces``/``layout`` from an ``*_update`` function into ``fig`` in place.

    ``fig`` is usually a ``go.FigureWidget``; one ``batch_update`` sends one message.
    Properties are assigned one by one (``fig.layout.yaxis.range = ...``): about 7x
    cheaper than ``update_layout``, which re-validates whole sub-trees.
    """
    with fig.batch_update():
        for trace, new in zip(fig.data, traces, strict=False):
            _assign(trace, new)
        _assign(fig.layout, layout)


def _assign(obj, updates: dict) -> None:
    for key, value in updates.items():
        if isinstance(value, dict):
            _assign(obj[key], value)
        elif key == "annotations" and len(obj[key]) == len(value):
            for item, new in zip(obj[key], value, strict=True):
                _assign(item, new)
        else:
            obj[key] = value


def loss_curves_figure(losses: dict, *, title: str = "Training loss") -> go.Figure:
    """Loss per step on a log axis; a run that diverged ends in a red x at its last step.

    Args:
        losses: ``{name: (steps,) array}``, e.g. ``TrainHistory.loss`` (which stops at the
            first non-finite loss).
    """
    return layer_norms_figure(losses, title=title, xlabel="training step", xname="step",
                              ylabel="loss (log scale)", overflow="diverged (loss inf/nan)")
