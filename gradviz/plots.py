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
# plotly/D3 category10: ten distinct colours, so up to ten series never share one
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
_DASH = {"prediction": "dot", "bound": "dot", "after": "dash"}
OVERFLOW_COLOR = "#d62728"


def _style(name: str, i: int) -> dict:
    dash = next((d for key, d in _DASH.items() if key in name), "solid")
    color = "black" if dash == "dot" else PALETTE[i % len(PALETTE)]
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


def layer_fractions_update(series: dict, *, xlabel: str = "layer l (0 = input side)") -> tuple:
    """Trace and layout updates for per-layer fractions (0 to 1) on a linear axis.

    Args:
        series: ``{name: (depth,) array of fractions}``, e.g. the saturated and dead
            fractions of :func:`gradviz.probes.activation_stats`.
    """
    traces = [{"name": name, "x": np.arange(np.size(v)), "y": np.asarray(v, dtype=float)}
              for name, v in series.items()]
    return traces, {"xaxis": {"title": {"text": xlabel}}}


def layer_fractions_figure(series: dict, *, title: str = "",
                           ylabel: str = "fraction", **kwargs) -> go.Figure:
    """Per-layer fractions on a fixed 0-1 axis (see :func:`layer_fractions_update`)."""
    traces, layout = layer_fractions_update(series, **kwargs)
    fig = go.Figure([go.Scatter(**_style(name, i + 3), **t)
                     for i, (name, t) in enumerate(zip(series, traces, strict=True))])
    fig.update_layout(template="plotly_white", height=300,
                      margin={"l": 70, "r": 20, "t": 50, "b": 80, "autoexpand": False},
                      title={"text": title}, legend={"orientation": "h", "y": -0.35},
                      yaxis={"range": [-0.03, 1.03], "title": {"text": ylabel}}, **layout)
    return fig


def loss_curves_figure(losses: dict, *, title: str = "Training loss") -> go.Figure:
    """Loss per step on a log axis; a run that diverged ends in a red x at its last step.

    Args:
        losses: ``{name: (steps,) array}``, e.g. ``TrainHistory.loss`` (which stops at the
            first non-finite loss).
    """
    return layer_norms_figure(losses, title=title, xlabel="training step", xname="step",
                              ylabel="loss (log scale)", overflow="diverged (loss inf/nan)")


def grad_heatmap_figure(grad_norms, *, title: str = "log10 ‖∂L/∂W_l‖ over training",
                        xlabel: str = "layer l (0 = input side)",
                        ylabel: str = "training step") -> go.Figure:
    """A step x layer heatmap of ``log10`` per-layer gradient norms.

    Args:
        grad_norms: ``(steps, depth)``, e.g. ``TrainHistory.grad_norms``. Non-finite entries
            are drawn as red x markers on top (the heatmap leaves them blank), zeros as grey.
    """
    g = np.asarray(grad_norms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(g) & (g > 0), np.log10(np.where(g > 0, g, 1.0)), np.nan)
    steps, layers = np.indices(g.shape)
    bad, zero = ~np.isfinite(g), g == 0
    fig = go.Figure([
        go.Heatmap(z=z, colorscale="Viridis", colorbar={"title": {"text": "log10"}},
                   hovertemplate="layer %{x}, step %{y}: 10^%{z:.2f}<extra></extra>"),
        go.Scatter(x=layers[bad], y=steps[bad], mode="markers", name="inf / nan",
                   marker={"symbol": "x", "color": OVERFLOW_COLOR, "size": 6}),
        go.Scatter(x=layers[zero], y=steps[zero], mode="markers", name="exactly 0",
                   marker={"symbol": "square", "color": "gray", "size": 5}),
    ])
    note = []
    if bad.any():
        first = int(steps[bad].min())
        note.append(f"gradient overflowed float32 (inf/nan) from step {first}")
    if zero.any():
        note.append(f"exactly 0 in {int(zero.sum())} cell(s)")
    fig.update_layout(template="plotly_white", height=420, title={"text": title},
                      xaxis={"title": {"text": xlabel}}, yaxis={"title": {"text": ylabel}},
                      annotations=[{"text": "<br>".join(note), "showarrow": False,
                                    "xref": "paper", "yref": "paper", "x": 0.01, "y": 1.0,
                                    "xanchor": "left", "yanchor": "bottom",
                                    "font": {"color": OVERFLOW_COLOR}}])
    return fig


def histograms_figure(values: dict, *, title: str = "Distribution of gradient entries",
                      xlabel: str = "log10 |value|", bins: int = 60) -> go.Figure:
    """Overlaid histograms of ``log10 |v|`` for each named array (e.g. chosen layers).

    Zeros and non-finite entries cannot go on a log scale: they are counted in the legend.
    """
    fig = go.Figure()
    for i, (name, v) in enumerate(values.items()):
        v = np.abs(np.asarray(v, dtype=float).ravel())
        ok = np.isfinite(v) & (v > 0)
        label = name
        if (~ok).any():
            label += f" ({int((v == 0).sum())} zero, {int((~np.isfinite(v)).sum())} inf/nan)"
        fig.add_trace(go.Histogram(x=np.log10(v[ok]), name=label, opacity=0.6, nbinsx=bins,
                                   marker={"color": PALETTE[i % len(PALETTE)]}))
    fig.update_layout(template="plotly_white", height=380, barmode="overlay",
                      title={"text": title}, xaxis={"title": {"text": xlabel}},
                      yaxis={"title": {"text": "count"}})
    return fig


def spectrum_figure(singular_values: dict, *, title: str = "Singular values") -> go.Figure:
    """Singular values, largest first, on a log axis (one line per named spectrum)."""
    series = {name: np.sort(np.asarray(v, dtype=float))[::-1]
              for name, v in singular_values.items()}
    return layer_norms_figure(series, title=title, xlabel="index (largest first)", xname="index",
                              ylabel="singular value (log scale)",
                              overflow="singular value not finite")


LOG_CHI_SPAN = 2.0  # colour scale of phase diagrams: log10 chi from -2 to +2


def phase_diagram_update(chi=None, measured: dict | None = None) -> tuple:
    """Trace updates for :func:`phase_diagram_figure`: new ``chi`` grid and/or measured points."""
    traces = [{}, {}, {}]
    if chi is not None:
        logchi = np.log10(np.clip(np.asarray(chi, dtype=float), 1e-12, None))
        traces[0] = traces[1] = {"z": logchi}
    if measured is not None:
        gain = np.asarray(measured["gain"], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            color = np.clip(np.log10(gain), -LOG_CHI_SPAN, LOG_CHI_SPAN)
        traces[2] = {"x": np.asarray(measured["sigma_w"], dtype=float),
                     "y": np.asarray(measured["sigma_b"], dtype=float),
                     "marker": {"color": np.nan_to_num(color, nan=0.0)},
                     "text": [f"measured χ = {g:.3g}" for g in gain]}
    return traces, {}


def phase_diagram_figure(sigma_ws, sigma_bs, chi, *, measured: dict | None = None,
                         title: str = "Mean-field χ: ordered (vanishing) vs chaotic (exploding)"
                         ) -> go.Figure:
    """Contours of ``log10 chi`` over ``(sigma_w, sigma_b)``, the ``chi = 1`` line in black.

    Args:
        sigma_ws: ``(n,)``; sigma_bs: ``(m,)``; chi: ``(m, n)`` grid of chi values.
        measured: optional ``{"sigma_w": [...], "sigma_b": [...], "gain": [...]}``: points
            where a per-layer gain was measured, coloured on the same scale.
    """
    traces, _ = phase_diagram_update(chi, measured or {"sigma_w": [], "sigma_b": [], "gain": []})
    span = LOG_CHI_SPAN
    fig = go.Figure([
        go.Contour(x=sigma_ws, y=sigma_bs, colorscale="RdBu_r", zmid=0, zmin=-span, zmax=span,
                   colorbar={"title": {"text": "log10 χ"}}, contours={"coloring": "heatmap"},
                   name="log10 χ", **traces[0],
                   hovertemplate="σ_w %{x:.2f}, σ_b %{y:.2f}: log10 χ = %{z:.2f}<extra></extra>"),
        go.Contour(x=sigma_ws, y=sigma_bs, showscale=False, name="χ = 1", **traces[1],
                   contours={"start": 0, "end": 0, "size": 1, "coloring": "none"},
                   line={"color": "black", "width": 3}, hoverinfo="skip"),
        go.Scatter(mode="markers", name="measured", hoverinfo="text", **traces[2]),
    ])
    fig.update_traces(selector={"type": "scatter"},
                      marker={"size": 13, "colorscale": "RdBu_r", "cmin": -span, "cmax": span,
                              "line": {"color": "black", "width": 2}})
    # The legend goes above the plot, left-aligned: at its default place (top right) it
    # covered the colour bar.
    fig.update_layout(template="plotly_white", height=460, title={"text": title},
                      xaxis={"title": {"text": "σ_w"}}, yaxis={"title": {"text": "σ_b"}},
                      legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02,
                              "yanchor": "bottom"}, margin={"t": 90})
    return fig


HEALTHY_UPDATE_RATIO = 1e-3  # Karpathy's rule of thumb for ||Delta W|| / ||W|| per step


def _ratio_layers(depth: int) -> list[int]:
    """The layers whose update ratios are drawn: first, middle and last (fewer if shallow)."""
    return sorted({0, (depth - 1) // 2, depth - 1})


def training_update(loss, grad_norms, update_ratios, diverged_at=None) -> tuple:
    """Trace and layout updates for :func:`training_figure`.

    Args:
        loss: ``(steps,)``; grad_norms, update_ratios: ``(steps, depth)``, as in
            :class:`gradviz.train.TrainHistory` (rows stop at the divergent step).
        diverged_at: the first step whose loss is not finite, or None.

    Returns:
        ``(traces, layout)``: 8 trace dicts (loss, divergence marker, three update-ratio
        lines, the healthy-ratio reference, the heatmap, its non-finite cells).
    """
    loss = np.asarray(loss, dtype=float)
    g = np.asarray(grad_norms, dtype=float)
    r = np.asarray(update_ratios, dtype=float)
    steps = np.arange(loss.size)
    lo, hi = _log_range([loss])
    rlo, rhi = _log_range([r, np.array([HEALTHY_UPDATE_RATIO])])
    ok = np.isfinite(loss)
    traces = [{"x": steps, "y": np.where(ok, loss, np.nan)}]
    if diverged_at is None:
        traces.append({"x": [], "y": [], "text": []})
        note = ""
    else:
        traces.append({"x": [diverged_at], "y": [10 ** (hi - 0.04 * (hi - lo))],
                       "text": [f"loss {loss[diverged_at]} at step {diverged_at}"]})
        note = f"diverged: loss {loss[diverged_at]} at step {diverged_at}"
    depth = g.shape[1] if g.ndim == 2 else 0
    layers = _ratio_layers(depth) if depth else []
    for k in range(3):
        if k < len(layers):
            v = r[:, layers[k]]
            traces.append({"x": steps, "y": np.where(np.isfinite(v) & (v > 0), v, np.nan),
                           "name": f"layer {layers[k]}"})
        else:
            traces.append({"x": [], "y": [], "name": ""})
    traces.append({"x": [0, max(loss.size - 1, 1)], "y": [HEALTHY_UPDATE_RATIO] * 2})
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(g) & (g > 0), np.log10(np.where(g > 0, g, 1.0)), np.nan).T
    bad_layer, bad_step = np.nonzero(~np.isfinite(g.T)) if depth else ([], [])
    traces.append({"z": z, "x": steps, "y": np.arange(depth)})
    traces.append({"x": bad_step, "y": bad_layer})
    layout = {"yaxis": {"range": [lo, hi]}, "yaxis2": {"range": [rlo, rhi]},
              "yaxis3": {"range": [-0.5, depth - 0.5]},
              "annotations": [{}, {}, {}, {"text": note}]}  # 3 panel titles, then the note
    return traces, layout


def training_figure(loss, grad_norms, update_ratios, diverged_at=None, *,
                    title: str = "Training: loss, update ratios and per-layer gradients"
                    ) -> go.Figure:
    """Loss curve, update:weight ratios and a layer x step heatmap of log gradient norms.

    The three panels of one training run (see :func:`training_update` for the data).
    The dotted line at 1e-3 is the healthy update ratio; a run that diverged ends in a
    red x on the loss panel and its non-finite gradients are red x's on the heatmap.
    """
    from plotly.subplots import make_subplots

    traces, layout = training_update(loss, grad_norms, update_ratios, diverged_at)
    fig = make_subplots(rows=2, cols=2, specs=[[{}, {}], [{"colspan": 2}, None]],
                        vertical_spacing=0.16, horizontal_spacing=0.1,
                        subplot_titles=("loss (log)", "update ratio ‖ΔW_l‖ / ‖W_l‖ (log)",
                                        "log10 ‖∂L/∂W_l‖ (before clipping), layer × step"))
    fig.add_trace(go.Scatter(mode="lines", name="loss", line={"color": PALETTE[0]},
                             **traces[0]), 1, 1)
    fig.add_trace(go.Scatter(mode="markers", name="diverged (loss inf/nan)", hoverinfo="text",
                             marker={"symbol": "x", "size": 12, "color": OVERFLOW_COLOR},
                             **traces[1]), 1, 1)
    for k in range(3):
        fig.add_trace(go.Scatter(mode="lines", line={"color": PALETTE[k + 1]}, **traces[2 + k]),
                      1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="healthy ≈ 1e-3",
                             line={"color": "black", "dash": "dot"}, **traces[5]), 1, 2)
    fig.add_trace(go.Heatmap(colorscale="Viridis", name="log10 ‖∂L/∂W_l‖",
                             colorbar={"title": {"text": "log10"}, "len": 0.42, "y": 0.2},
                             hovertemplate="step %{x}, layer %{y}: 10^%{z:.2f}<extra></extra>",
                             **traces[6]), 2, 1)
    fig.add_trace(go.Scatter(mode="markers", name="gradient inf / nan",
                             marker={"symbol": "x", "size": 7, "color": OVERFLOW_COLOR},
                             **traces[7]), 2, 1)
    fig.update_yaxes(type="log", exponentformat="power", row=1)
    fig.update_xaxes(title={"text": "training step"})
    fig.update_yaxes(title={"text": "layer l"}, row=2, col=1)
    fig.update_layout(template="plotly_white", height=720, title={"text": title},
                      margin={"l": 70, "r": 20, "t": 80, "b": 60, "autoexpand": False},
                      legend={"orientation": "h", "y": 1.07, "x": 0.0})
    fig.add_annotation(text="", showarrow=False, xref="paper", yref="paper", x=0.01, y=0.62,
                       xanchor="left", font={"color": OVERFLOW_COLOR, "size": 13})
    _assign(fig.layout, layout)
    return fig


def clipping_update(free: dict, clipped: dict, learning_rate: float,
                    threshold: float | None) -> tuple:
    """Trace and layout updates for :func:`clipping_figure`.

    Args:
        free, clipped: two runs, each ``{"loss": (n,), "global_norms": (n,),
            "update_norms": (n,)}`` (numpy; a run stops at its first non-finite loss).
        learning_rate: the SGD step size, so that ``lr * ||g||`` is the raw update.
        threshold: the global-norm clip threshold (drawn as ``lr * c``), or None.

    Returns:
        ``(traces, layout)``: 7 traces (two losses, their divergence markers, the raw and
        the applied update norm of the clipped run, the ``lr * c`` line).
    """
    traces, notes = [], []
    lo, hi = _log_range([free["loss"], clipped["loss"]])
    for run in (free, clipped):
        loss = np.asarray(run["loss"], dtype=float)
        traces.append({"x": np.arange(loss.size), "y": np.where(np.isfinite(loss), loss, np.nan)})
    for name, run in (("without clipping", free), ("with clipping", clipped)):
        loss = np.asarray(run["loss"], dtype=float)
        bad = np.flatnonzero(~np.isfinite(loss))
        traces.append({"x": bad[:1], "y": [10 ** (hi - 0.04 * (hi - lo))] * min(bad.size, 1),
                       "text": [f"{name}: loss {loss[k]} at step {k}" for k in bad[:1]]})
        if bad.size:
            notes.append(f"{name}: diverged at step {bad[0]}")
    raw = learning_rate * np.asarray(clipped["global_norms"], dtype=float)
    applied = np.asarray(clipped["update_norms"], dtype=float)
    steps = np.arange(raw.size)
    for v in (raw, applied):
        traces.append({"x": steps, "y": np.where(np.isfinite(v) & (v > 0), v, np.nan)})
    cap = [] if threshold is None else [learning_rate * threshold] * 2
    traces.append({"x": [0, max(raw.size - 1, 1)] if cap else [], "y": cap})
    ulo, uhi = _log_range([raw, applied, np.asarray(cap, dtype=float)])
    layout = {"yaxis": {"range": [lo, hi]}, "yaxis2": {"range": [ulo, uhi]},
              "annotations": [{}, {}, {"text": " · ".join(notes)}]}
    return traces, layout


def clipping_figure(free: dict, clipped: dict, learning_rate: float, threshold: float | None,
                    *, title: str = "Gradient clipping on an exploding network") -> go.Figure:
    """Loss with and without clipping (left) and the clipped run's raw ``lr * ||g||`` against
    its applied update norm (right); see :func:`clipping_update`."""
    from plotly.subplots import make_subplots

    traces, layout = clipping_update(free, clipped, learning_rate, threshold)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("loss (log)", "update norm of the clipped run (log)"))
    for k, name in enumerate(("without clipping", "with clipping")):
        fig.add_trace(go.Scatter(mode="lines", name=f"loss {name}",
                                 line={"color": PALETTE[3 * (1 - k)]}, **traces[k]), 1, 1)
    for k, name in enumerate(("without clipping", "with clipping")):
        fig.add_trace(go.Scatter(mode="markers", name=f"diverged {name}", hoverinfo="text",
                                 marker={"symbol": "x", "size": 12, "color": OVERFLOW_COLOR},
                                 showlegend=False, **traces[2 + k]), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="raw update lr·‖g‖",
                             line={"color": PALETTE[1]}, **traces[4]), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="applied update (clipped)",
                             line={"color": PALETTE[2]}, **traces[5]), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="lr · c (global-norm cap)",
                             line={"color": "black", "dash": "dot"}, **traces[6]), 1, 2)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title={"text": "training step"})
    # The bottom margin holds the legend (fixed margins do not grow to fit it).
    fig.update_layout(template="plotly_white", height=500, title={"text": title},
                      margin={"l": 70, "r": 20, "t": 90, "b": 130, "autoexpand": False},
                      legend={"orientation": "h", "y": -0.22, "x": 0.0})
    fig.add_annotation(text="", showarrow=False, xref="paper", yref="paper", x=0.01, y=0.98,
                       xanchor="left", font={"color": OVERFLOW_COLOR, "size": 13})
    _assign(fig.layout, layout)
    return fig


def cliff_figure(ws, losses, paths: dict, *, zoom: tuple = (4.88, 4.93),
                 title: str = "Pascanu's cliff: the loss along w, and gradient steps on it"
                 ) -> go.Figure:
    """The loss ``L(w)`` of :mod:`gradviz.cliff` with descent paths drawn on it.

    Args:
        ws, losses: the curve, ``(n,)`` each.
        paths: ``{name: {"w": (steps,), "loss": (steps,)}}``, e.g. :func:`gradviz.cliff.descend`.
        zoom: the ``w`` range of the left panel (the wall close up); the right panel spans
            the curve and every path.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("the wall, close up", "where the steps land"))
    ws, losses = np.asarray(ws, dtype=float), np.asarray(losses, dtype=float)
    for col in (1, 2):
        fig.add_trace(go.Scatter(x=ws, y=losses, mode="lines", name="loss L(w)",
                                 line={"color": "grey"}, showlegend=col == 1), 1, col)
        for k, (name, p) in enumerate(paths.items()):
            fig.add_trace(go.Scatter(
                x=p["w"], y=p["loss"], mode="lines+markers", name=name, showlegend=col == 1,
                line={"color": PALETTE[k], "width": 1}, marker={"size": 7},
                hovertemplate="step %{text}: w = %{x:.4f}, L = %{y:.3g}<extra></extra>",
                text=np.arange(len(p["w"]))), 1, col)
    fig.update_xaxes(range=list(zoom), row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(title={"text": "w (with b = -w/2 - 0.1)"})
    fig.update_layout(template="plotly_white", height=420, title={"text": title},
                      legend={"orientation": "h", "y": -0.25, "x": 0.0})
    return fig


def activation_update(z, phi, dphi, sigma: float, name: str) -> tuple:
    """Trace and layout updates for :func:`activation_figure`.

    Args:
        z: the grid ``(n,)``; phi, dphi: the activation and its derivative on it.
        sigma: std of the pre-activations, drawn as the density of ``N(0, sigma**2)``,
            scaled to the height of ``|phi'|``.
    """
    z = np.asarray(z, dtype=float)
    density = np.exp(-0.5 * (z / sigma) ** 2)
    top = float(np.max(np.abs(dphi))) or 1.0
    traces = [{"x": z, "y": np.asarray(phi, dtype=float), "name": f"{name}(z)"},
              {"x": z, "y": np.asarray(dphi, dtype=float), "name": f"{name}'(z)"},
              {"x": z, "y": top * density, "name": f"where z ~ N(0, {sigma:.2g}²) falls"}]
    return traces, {}


def activation_figure(z, phi, dphi, sigma: float, name: str, *,
                      title: str = "An activation, its derivative, and where its inputs fall"
                      ) -> go.Figure:
    """``phi(z)`` (left) and ``phi'(z)`` (right), with the pre-activation density shaded."""
    from plotly.subplots import make_subplots

    traces, _ = activation_update(z, phi, dphi, sigma, name)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("φ(z)", "φ'(z): the factor each layer multiplies in"))
    fig.add_trace(go.Scatter(mode="lines", line={"color": PALETTE[0], "width": 3}, **traces[0]),
                  1, 1)
    fig.add_trace(go.Scatter(mode="lines", line={"color": PALETTE[1], "width": 3}, **traces[1]),
                  1, 2)
    fig.add_trace(go.Scatter(mode="lines", fill="tozeroy", line={"color": "rgba(0,0,0,0.25)"},
                             fillcolor="rgba(0,0,0,0.08)", **traces[2]), 1, 2)
    fig.update_xaxes(title={"text": "pre-activation z"})
    fig.update_layout(template="plotly_white", height=380, title={"text": title},
                      legend={"orientation": "h", "y": -0.25, "x": 0.0})
    return fig


def stack_figures(figures: list, *, gap: int = 40) -> go.Figure:
    """One figure holding single-panel ``figures`` top to bottom, each with its own axes,
    title and legend (below its panel); used for an explorer's static preview, which can
    carry one picture only.

    Args:
        figures: ``go.Figure`` or ``FigureWidget`` objects with one x and one y axis each.
        gap: pixels between one panel's legend and the next panel's title.
    """
    figures = [go.Figure(f) for f in figures]
    if len(figures) == 1:
        return figures[0]
    heights = [float(f.layout.height or 450) for f in figures]
    total = sum(heights) + gap * (len(figures) - 1)
    out = go.Figure()
    top = total  # pixels from the bottom of the paper
    for i, f in enumerate(figures, start=1):
        m = f.layout.margin
        t, b = float(m.t if m.t is not None else 80), float(m.b if m.b is not None else 80)
        lo, hi = (top - heights[i - 1] + b) / total, (top - t) / total  # this panel's domain
        sfx = "" if i == 1 else str(i)
        legend = "legend" if i == 1 else f"legend{i}"
        for trace in f.data:
            out.add_trace(trace.update(xaxis=f"x{sfx}", yaxis=f"y{sfx}", legend=legend))
        xa, ya = f.layout.xaxis.to_plotly_json(), f.layout.yaxis.to_plotly_json()
        xa.update(domain=[0.0, 1.0], anchor=f"y{sfx}")
        ya.update(domain=[lo, hi], anchor=f"x{sfx}")
        out.layout[f"xaxis{sfx}"], out.layout[f"yaxis{sfx}"] = xa, ya
        out.layout[legend] = {"orientation": "h", "xanchor": "left", "x": 0.0, "yanchor": "top",
                              "y": (top - heights[i - 1] + 0.35 * b) / total}
        out.add_annotation(text=f"<b>{f.layout.title.text or ''}</b>", showarrow=False,
                           xref="paper", yref="paper", x=0.0, xanchor="left", yanchor="bottom",
                           y=hi + 12 / total, font={"size": 15})
        for a in f.layout.annotations:  # notes (overflow markers) stay on their own panel
            if a.text and a.xref == "paper" and a.yref == "paper":
                out.add_annotation(a.update(xref=f"x{sfx} domain", yref=f"y{sfx} domain"))
        top -= heights[i - 1] + gap
    out.update_layout(template="plotly_white", height=int(total), showlegend=True,
                      margin={"l": 70, "r": 20, "t": 10, "b": 10, "autoexpand": False})
    return out
