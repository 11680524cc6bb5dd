"""The course on one page (lesson 12): every panel drawn from numbers measured when it is built.

:func:`measure` runs the experiments (three regimes of one 30-layer network, their
training judged on held-out data, the causes against their predictions, the fixes, each
over 10 seeds), :func:`figure` lays them out as one plotly figure with a decision guide and
the syllabus's comparison table, :func:`diagnose` is the guide's rule applied to any
measured profile, and :func:`export` writes a standalone HTML file (plotly.js inside, so
it opens in any browser with no kernel and no network) and a PNG.

The rule is per layer and depth-aware. Backpropagation multiplies the gradient by one
factor per layer, ``delta_l = phi'(h_l) * (W_{l+1}^T delta_{l+1})``, so a profile is
summarised by its geometric-mean factor per layer ``g = r ** (1 / (L - 1))``, with
``r = ||dL/dh_0|| / ||dL/dh_{L-1}||``. What hurts training is the spread that ``g``
builds up over the network's own depth, ``g ** (L - 1) = r``: the guide calls more than
one order of magnitude (``r`` outside ``[0.1, 10]``) vanishing or exploding. The same
``g = 1.1`` is healthy at depth 10 (``r = 2.4``) and exploding at depth 30 (``r = 16``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gradviz import data, theory
from gradviz.models.mlp import MLPConfig
from gradviz.probes import probe_mlp
from gradviz.seeds import probe_seeds, spread
from gradviz.train import evaluate, train_variants

DEPTH, WIDTH, BATCH = 30, 64, 128
N_HELD_OUT = 512                # held-out examples of the teacher task (panel 2)
SEEDS = range(10)               # draws behind every median on the page
VANISHING, HEALTHY, EXPLODING = "vanishing", "healthy", "exploding"
LOW, HIGH = 0.1, 10.0  # first/last gradient ratio outside [LOW, HIGH]: not healthy

ADVICE = {
    VANISHING: "ReLU-family activation with He init; batch/layer norm; skip connections; "
               "LSTM/GRU for sequences",
    HEALTHY: "nothing to fix: watch the update ratios (about 1e-3) as training goes",
    EXPLODING: "smaller init (He, LeCun, orthogonal); layer norm; clip by global norm; "
               "a lower learning rate or Adam with warm-up",
    "overflow": "the forward pass overflowed: shrink the init first, then clip",
}
SYMPTOMS = {
    VANISHING: "loss stalls at the mean's value; early layers barely move",
    HEALTHY: "loss falls; every layer's update ratio near 1e-3",
    EXPLODING: "loss jumps to huge values, then inf/nan",
}
# The syllabus's comparison table, row by row, in the course's words and with its lessons.
COMPARISON = [
    ("definition", "per-layer factor g < 1: ‖δ_0‖ ≈ g^(L−1) → 0 (01)",
     "per-layer factor g > 1: ‖δ_0‖ ≈ g^(L−1) → ∞ (01)"),
    ("impact on training", "early layers barely move; loss stalls (04)",
     "huge steps: loss spikes, then inf/nan (04, 08)"),
    ("common in", "deep sigmoid/tanh stacks; plain RNNs (03, 06)",
     "too-large init or learning rate (03, 10)"),
    ("symptoms", "first/last ≪ 1; update ratios ≪ 1e-3 (04)",
     "first/last ≫ 1; inf/nan in loss or weights (04)"),
    ("mitigation", "ReLU + He, norm layers, skips, gates (07, 09)",
     "init, layer norm, clipping, Adam + warm-up (08, 11)"),
    ("effect on the model", "early features never learnt (04, 07)",
     "divergence, or an unstable, poor model (04, 08)"),
]

REGIMES = {
    "vanishing: sigmoid, LeCun": dict(activation="sigmoid", init="lecun"),
    "healthy: ReLU, He": dict(activation="relu", init="he_normal"),
    "exploding: ReLU, He x 1.5": dict(activation="relu", init="he_normal", weight_scale=1.5),
}
# Okabe-Ito colours, and a dash and a marker per regime, so no curve is told apart by
# colour alone.
STYLE = {
    VANISHING: {"color": "#0072B2", "dash": "dot", "symbol": "triangle-down"},
    HEALTHY: {"color": "#009E73", "dash": "solid", "symbol": "circle"},
    EXPLODING: {"color": "#D55E00", "dash": "dash", "symbol": "triangle-up"},
}
# An A4 page is 190 x 277 mm inside its margins; at 1100 x 1555 px one px prints 0.173 mm,
# so FONT = 17 px, the smallest text on the page, prints at 2.9 mm, about 8.3 pt.
FONT = 17
WIDTH_PX, HEIGHT = 1100, 1555


def per_layer_factor(activation_grad_norms) -> float:
    """``g = (||dL/dh_0|| / ||dL/dh_{L-1}||) ** (1 / (L - 1))``: the geometric-mean factor
    by which each layer multiplies the gradient on its way to the input."""
    d = np.asarray(activation_grad_norms, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"activation_grad_norms has shape {d.shape}; need (depth,), depth >= 2")
    with np.errstate(all="ignore"):
        return float((d[0] / d[-1]) ** (1 / (d.size - 1)))


def healthy_band(depth: int) -> tuple[float, float]:
    """The per-layer factors the guide calls healthy at ``depth``: ``g ** (depth - 1)``
    within ``[LOW, HIGH]``. The band narrows as the network deepens."""
    if depth < 2:
        raise ValueError(f"depth={depth}; the guide needs depth >= 2")
    return LOW ** (1 / (depth - 1)), HIGH ** (1 / (depth - 1))


def diagnose(activation_grad_norms) -> tuple[str, str]:
    """The decision guide's rule: ``(verdict, advice)`` for a profile ``||dL/dh_l||``.

    With ``r = ||dL/dh_0|| / ||dL/dh_{L-1}|| = g ** (L - 1)`` (``g`` the per-layer factor,
    :func:`per_layer_factor`):

    * any inf or nan entry -> ``"overflow"`` (only non-finite numbers are overflow);
    * ``r < 0.1`` -> ``"vanishing"``; this includes ``r = 0``, a first layer that gets no
      gradient at all;
    * a last layer with zero gradient -> ``"vanishing"`` too: by the chain rule
      (``dL/dh_l = J_l^T dL/dh_{l+1}``) nothing then reaches any layer, so no layer learns
      (a nonzero first layer there can only be rounding);
    * ``r > 10`` -> ``"exploding"``; otherwise ``"healthy"``.

    Depth-aware: the same per-layer factor is healthy in a shallow network and not in a
    deep one (:func:`healthy_band`), because the spread it builds is ``g ** (L - 1)``.
    """
    d = np.asarray(activation_grad_norms, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"activation_grad_norms has shape {d.shape}; need (depth,), depth >= 2")
    if not np.all(np.isfinite(d)):
        return "overflow", ADVICE["overflow"]
    if d[-1] == 0:
        return VANISHING, ADVICE[VANISHING]
    with np.errstate(over="ignore"):
        r = d[0] / d[-1]
    if not math.isfinite(r):  # d[-1] tiny, d[0] huge: the ratio itself overflows float64
        return EXPLODING, ADVICE[EXPLODING]
    verdict = VANISHING if r < LOW else EXPLODING if r > HIGH else HEALTHY
    return verdict, ADVICE[verdict]


def _cfg(**kwargs) -> MLPConfig:
    return MLPConfig(depth=DEPTH, width=WIDTH, **kwargs)


def _ratios(cfg: MLPConfig) -> np.ndarray:
    """First/last ``||dL/dh||`` of ``cfg`` for every seed of :data:`SEEDS` (one compile)."""
    return probe_seeds(cfg, seeds=SEEDS, batch_size=BATCH).ratio


def measure(seed: int = 0, steps: int = 150, learning_rate: float = 0.003) -> dict:
    """Every number the infographic shows, measured now (about 10 s on a laptop CPU).

    Returns ``deltas`` (``{regime: ||dL/dh_l||}`` of draw ``seed``), ``verdicts``
    (:func:`diagnose` of those), ``ratios`` (``{regime: first/last per seed}``), ``losses``
    and ``diverged_at`` (SGD on :data:`BATCH` examples of
    :func:`gradviz.data.teacher_regression`), ``held_out`` (``{regime: MSE}`` on
    :data:`N_HELD_OUT` more examples of the same teacher) and ``baseline`` (the held-out
    MSE of predicting the training mean), ``causes`` (``{cause: (per-layer factor per
    seed, predicted sqrt(chi))}``) and ``fixes`` (``{network: first/last per seed}``).
    """
    cfgs = {name: _cfg(**kw) for name, kw in REGIMES.items()}
    probes = {name: probe_mlp(c, seed=seed, batch_size=BATCH) for name, c in cfgs.items()}
    ratios = {name: _ratios(c) for name, c in cfgs.items()}
    x, y = data.teacher_regression(seed, BATCH + N_HELD_OUT, 16)
    x_train, y_train, x_test, y_test = x[:BATCH], y[:BATCH], x[BATCH:], y[BATCH:]
    runs = train_variants(cfgs, learning_rate=learning_rate, steps=steps, x=x_train,
                          y=y_train, seed=seed)
    held_out = {name: (math.nan if h.diverged_at is not None else
                       evaluate(cfgs[name], h.params, x_test, y_test).loss)
                for name, h in runs.items()}
    per_layer = {name: r ** (1 / (DEPTH - 1)) for name, r in ratios.items()}
    names = list(REGIMES)
    causes = {
        "sigmoid: φ' ≤ 1/4": (per_layer[names[0]], math.sqrt(theory.chi("sigmoid", 1.0))),
        "ReLU, Var(W) = 1/n": (_ratios(_cfg(activation="relu", init="lecun"))
                               ** (1 / (DEPTH - 1)), math.sqrt(theory.chi("relu", 1.0))),
        "ReLU, He x 1.5": (per_layer[names[2]], math.sqrt(theory.chi("relu", 1.5 * 2 ** 0.5))),
        "tanh, σ_w = 2.5": (_ratios(_cfg(activation="tanh", weight_scale=2.5))
                            ** (1 / (DEPTH - 1)), math.sqrt(theory.chi("tanh", 2.5))),
    }
    fixes = {
        "sigmoid (the problem)": ratios[names[0]],
        "→ ReLU + He init": ratios[names[1]],
        "→ sigmoid + batch norm": _ratios(_cfg(activation="sigmoid", norm="batch")),
        "→ sigmoid + skips + layer norm": _ratios(
            _cfg(activation="sigmoid", residual=True, norm="layer")),
        "ReLU x 1.5 (the problem)": ratios[names[2]],
        "→ ReLU x 1.5 + layer norm": _ratios(
            _cfg(activation="relu", init="he_normal", weight_scale=1.5, norm="layer")),
    }
    return {
        "deltas": {n: p.activation_grad_norms for n, p in probes.items()},
        "verdicts": {n: diagnose(p.activation_grad_norms)[0] for n, p in probes.items()},
        "ratios": ratios,
        "losses": {n: h.loss for n, h in runs.items()},
        "diverged_at": {n: h.diverged_at for n, h in runs.items()},
        "held_out": held_out,
        "baseline": data.mean_baseline_mse(y_train, y_test),
        "causes": causes, "fixes": fixes,
    }


def report(m: dict) -> dict:
    """The numbers behind panels 1, 2, 3 and 4 of :func:`figure` as plain-text tables
    (``{"regimes", "causes", "fixes"}``), medians over :data:`SEEDS` where a draw matters."""
    from gradviz.tables import format_table

    regimes = {name: {
        "r, seed 0": float(d[0] / d[-1]), "verdict": m["verdicts"][name],
        "r over 10 seeds": str(spread(m["ratios"][name])),
        "train loss, first": float(m["losses"][name][0]),
        "train loss, last": float(m["losses"][name][-1]),
        "held-out loss": m["held_out"][name], "baseline": m["baseline"],
        "diverged at": m["diverged_at"][name]} for name, d in m["deltas"].items()}
    causes = {cause: {"g measured, 10 seeds": str(spread(got, digits=3)),
                      "predicted sqrt(chi)": want,
                      "median off by": f"{float(np.median(got)) / want - 1:+.1%}"}
              for cause, (got, want) in m["causes"].items()}
    fixes = {}
    for name, ratios in m["fixes"].items():
        med = float(np.median(ratios))
        fixes[name] = {"r over 10 seeds": str(spread(ratios)),
                       "log10 r (median)": math.log10(med), "verdict": _verdict_of_ratio(med)}
    return {"regimes": format_table(regimes), "causes": format_table(causes),
            "fixes": format_table(fixes)}


def _regime(name: str) -> str:
    return name.split(":")[0]


def _verdict_of_ratio(r: float) -> str:
    return VANISHING if r < LOW else EXPLODING if r > HIGH else HEALTHY


def _example(m: dict, verdict: str) -> str:
    name = next((n for n, v in m["verdicts"].items() if v == verdict), None)
    if name is None:
        return "-"
    s = spread(m["ratios"][name])
    return f"{name.split(': ')[1]}: {s.median:.2g} ({s.low:.2g} to {s.high:.2g})"


CORE = ("<b>The core equation.</b> Backprop multiplies one factor per layer: "
        "δ_l = φ'(h_l) ⊙ (W_{l+1}ᵀ δ_{l+1}),<br>so ‖δ_0‖ / ‖δ_{L−1}‖ ≈ g^(L−1) with "
        "g ≈ σ_w·√E[φ'(h)²] = √χ (mean field, lesson 05): g < 1 vanishes, g > 1 explodes.")
CAUSE_LABELS = {"sigmoid: φ' ≤ 1/4": "sigmoid<br>φ' ≤ 1/4",
                "ReLU, Var(W) = 1/n": "ReLU<br>Var(W) = 1/n",
                "ReLU, He x 1.5": "ReLU<br>He × 1.5", "tanh, σ_w = 2.5": "tanh<br>σ_w = 2.5"}


def figure(m: dict) -> go.Figure:
    """One A4-portrait page from :func:`measure`: profiles, symptoms on held-out data, causes,
    fixes, the decision guide and the vanishing-vs-exploding comparison."""
    fig = make_subplots(
        rows=4, cols=2, vertical_spacing=0.072, horizontal_spacing=0.2,
        row_heights=[0.26, 0.26, 0.255, 0.225],
        specs=[[{}, {}], [{}, {}], [{"type": "table", "colspan": 2}, None],
               [{"type": "table", "colspan": 2}, None]],
        subplot_titles=(
            f"1 · Gradient profiles at init ({DEPTH} layers, seed 0)",
            "2 · Symptoms: training loss (SGD)",
            "3 · Causes: factor per layer, measured vs predicted",
            "4 · Fixes: log10(first / last), median of 10 seeds",
            "5 · Decision guide: r = ‖∂L/∂h_0‖ / ‖∂L/∂h_L−1‖ = g^(L−1)",
            "6 · Vanishing vs exploding gradients"))
    # Panels stacked by hand (fractions of the page's plotting height): a table needs no room
    # for axis titles, so the uniform spacing of make_subplots would leave blank bands.
    rows_y = [(0.80, 1.0), (0.535, 0.725), (0.225, 0.45), (0.0, 0.195)]
    for axis, (y0, y1) in zip(("yaxis", "yaxis2", "yaxis3", "yaxis4"),
                              [rows_y[0], rows_y[0], rows_y[1], rows_y[1]], strict=True):
        fig.layout[axis].domain = [y0, y1]
    for title, (_, y1) in zip(fig.layout.annotations, [rows_y[0], rows_y[0], rows_y[1],
                                                       rows_y[1], rows_y[2], rows_y[3]],
                              strict=True):
        title.y = y1
    lo, hi = healthy_band(DEPTH)
    for name, d in m["deltas"].items():
        st = STYLE[_regime(name)]
        line = {"color": st["color"], "dash": st["dash"], "width": 3}
        rel = np.asarray(d, dtype=float) / float(d[-1])
        fig.add_trace(go.Scatter(
            y=rel, name=name, legendgroup=name, line=line, mode="lines+markers",
            marker={"symbol": st["symbol"], "size": 7, "maxdisplayed": 10},
            hovertemplate="layer %{x}: ‖∂L/∂h_l‖ / ‖∂L/∂h_L−1‖ = %{y:.3g}<extra>"
            f"{name}</extra>"), row=1, col=1)
        loss = np.asarray(m["losses"][name], dtype=float)
        shown = np.where(np.isfinite(loss), loss, np.nan)
        fig.add_trace(go.Scatter(y=shown, name=name, legendgroup=name, showlegend=False,
                                 line=line, mode="lines"), row=1, col=2)
    for y in (LOW, HIGH):
        fig.add_hline(y=y, line={"dash": "dot", "color": "#888"}, row=1, col=1)
    fig.add_annotation(x=0.02, y=math.log10(LOW), xref="x domain", yref="y", yanchor="top",
                       xanchor="left", showarrow=False, font={"size": FONT},
                       text=f"guide's band: r in [{LOW:g}, {HIGH:g}]")
    fig.add_hline(y=m["baseline"], line={"dash": "dashdot", "color": "#666", "width": 2},
                  row=1, col=2, annotation_text="predict the mean, on held-out data",
                  annotation_position="top right", annotation_font_size=FONT)
    finite = [np.asarray(v, float)[np.isfinite(v)] for v, n in
              zip(m["losses"].values(), m["losses"], strict=True) if m["diverged_at"][n] is None]
    top = max(float(v.max()) for v in finite) * 2
    bottom = min(min(float(v.min()) for v in finite), m["baseline"]) / 2
    for name, step in m["diverged_at"].items():
        if step is not None:
            first = float(m["losses"][name][0])
            fig.add_annotation(
                x=0.98, y=0.97, xref="x2 domain", yref="y2 domain", xanchor="right",
                yanchor="top", showarrow=False, font={"size": FONT},
                text=f"✕ {_regime(name)}: loss {first:.2g} at step 0 (off the scale),<br>"
                     f"inf/nan at step {step}: training stopped")
    causes = m["causes"]
    fig.add_trace(go.Scatter(
        x=[CAUSE_LABELS.get(k, k) for k in causes],
        y=[float(np.median(v[0])) for v in causes.values()],
        error_y={"type": "data", "symmetric": False,
                 "array": [float(np.percentile(v[0], 90) - np.median(v[0]))
                           for v in causes.values()],
                 "arrayminus": [float(np.median(v[0]) - np.percentile(v[0], 10))
                                for v in causes.values()]},
        mode="markers", name="measured (median, 10th-90th pct)", showlegend=False,
        marker={"symbol": "circle", "size": 14, "color": "#222"}), row=2, col=1)
    fig.add_trace(go.Scatter(
        x=[CAUSE_LABELS.get(k, k) for k in causes], y=[v[1] for v in causes.values()],
        mode="markers",
        name="mean-field prediction √χ", showlegend=False,
        marker={"symbol": "diamond-open", "size": 18, "color": "#CC79A7", "line": {"width": 3}}),
        row=2, col=1)
    fig.add_hline(y=1, line={"dash": "dot", "color": "#888"}, row=2, col=1)
    fig.add_annotation(x=0.98, y=0.04, xref="x3 domain", yref="y3 domain", xanchor="right",
                       yanchor="bottom", showarrow=False, align="left", font={"size": FONT},
                       text="● measured, median of 10 seeds<br>◇ predicted, mean-field √χ")
    fixes = {k: float(np.median(v)) for k, v in m["fixes"].items()}
    logs = [math.log10(v) if v > 0 and math.isfinite(v) else math.nan for v in fixes.values()]
    verdicts = [_verdict_of_ratio(v) for v in fixes.values()]
    fig.add_vrect(x0=-1, x1=1, fillcolor="#009E73", opacity=0.12, line_width=0, row=2, col=2)
    fig.add_trace(go.Bar(
        y=list(fixes)[::-1], x=logs[::-1], orientation="h", showlegend=False,
        marker={"color": [STYLE[v]["color"] for v in verdicts][::-1],
                "pattern": {"shape": [{"vanishing": "/", "healthy": "", "exploding": "x"}[v]
                                      for v in verdicts][::-1]}},
        hovertemplate="%{y}: log10(first / last) = %{x:.2f}<extra></extra>"), row=2, col=2)
    for name, value, lg, verdict in zip(fixes, fixes.values(), logs, verdicts, strict=True):
        # the value is written on the other side of 0 from its bar, so it is never clipped
        left = not lg >= 0
        fig.add_annotation(x=0.4 if left else -0.4, y=name, xref="x4", yref="y4",
                           xanchor="left" if left else "right", showarrow=False,
                           text=f"{value:.2g} · {verdict}", font={"size": FONT})
    rows = [(VANISHING, f"r < {LOW:g}: g < {lo:.3f} at depth {DEPTH}"),
            (HEALTHY, f"{LOW:g} ≤ r ≤ {HIGH:g}: {lo:.3f} ≤ g ≤ {hi:.3f}"),
            (EXPLODING, f"r > {HIGH:g}: g > {hi:.3f}; or inf/nan")]
    fig.add_trace(go.Table(
        columnwidth=[1.05, 1.75, 2.1, 2.0, 3.0],
        header={"values": ["verdict", "rule", "measured r: median (10th-90th pct)",
                           "symptoms", "try"], "fill_color": "#eee", "align": "left",
                "font": {"size": FONT}, "height": 32},
        cells={"values": [[v for v, _ in rows], [r for _, r in rows],
                          [_example(m, v) for v, _ in rows],
                          [SYMPTOMS[v] for v, _ in rows], [ADVICE[v] for v, _ in rows]],
               "align": "left", "font": {"size": FONT}, "height": 30}), row=3, col=1)
    fig.data[-1].domain.y = rows_y[2]
    fig.add_trace(go.Table(
        columnwidth=[1.0, 2.5, 2.5],
        header={"values": ["aspect", "vanishing gradients", "exploding gradients"],
                "fill_color": "#eee", "align": "left", "font": {"size": FONT}, "height": 32},
        cells={"values": [list(col) for col in zip(*COMPARISON, strict=True)],
               "align": "left", "font": {"size": FONT}, "height": 30}), row=4, col=1)
    fig.data[-1].domain.y = rows_y[3]
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1,
                     title_text="‖∂L/∂h_l‖ / ‖∂L/∂h_L−1‖")
    fig.update_xaxes(title_text="layer l (0 = input side)", row=1, col=1)
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
             if bottom <= t <= top]
    fig.update_yaxes(type="log", title_text="training loss", row=1, col=2, tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks],
                     range=[math.log10(bottom), math.log10(top)])
    fig.update_xaxes(title_text="step", row=1, col=2)
    fig.update_yaxes(type="log", title_text="factor per layer g", row=2, col=1)
    fig.update_xaxes(tickangle=0, row=2, col=1)
    fig.update_xaxes(title_text="← vanishing    log10(first / last)    exploding →",
                     zeroline=True, zerolinewidth=2, row=2, col=2,
                     range=[min(-20, min(logs) - 1), max(12, max(logs) + 1)])
    fig.update_annotations(font_size=FONT + 1)
    fig.add_annotation(text=CORE, x=0, y=1.045, xref="paper", yref="paper", xanchor="left",
                       yanchor="bottom", align="left", showarrow=False, font={"size": FONT})
    fig.update_layout(
        template="plotly_white", height=HEIGHT, width=WIDTH_PX, font={"size": FONT},
        bargap=0.35,
        title={"text": "Vanishing vs exploding gradients: the course on one page, measured live",
               "font": {"size": FONT + 5}, "y": 0.99, "yanchor": "top"},
        legend={"orientation": "h", "y": 1.01, "yanchor": "bottom", "x": 0,
                "font": {"size": FONT}},
        margin={"l": 80, "r": 30, "t": 175, "b": 10})
    return fig


def export(fig: go.Figure, folder, name: str = "gradviz_infographic") -> dict:
    """Write ``folder/name.html`` (standalone: plotly.js embedded, no kernel, no network)
    and ``folder/name.png`` (None where kaleido finds no browser). Returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / f"{name}.html"
    fig.write_html(html, include_plotlyjs=True, full_html=True, div_id="gradviz-infographic",
                   config={"displaylogo": False, "responsive": True})
    png = folder / f"{name}.png"
    try:
        fig.write_image(png, width=WIDTH_PX, height=HEIGHT)
    except Exception:  # no kaleido browser: the HTML is the infographic
        png = None
    return {"html": html, "png": png}
