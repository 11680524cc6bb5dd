"""The course on one page (lesson 12): every panel drawn from numbers measured when it is built.

:func:`measure` runs the experiments (three regimes of one 30-layer network, their
training, the causes against their predictions, the fixes), :func:`figure` lays them out
as one plotly figure with a decision guide, :func:`diagnose` is the guide's rule applied
to any measured profile, and :func:`export` writes a standalone HTML file (plotly.js
inside, so it opens in any browser with no kernel and no network) and a PNG.
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
from gradviz.train import train_variants

DEPTH, WIDTH, BATCH = 30, 64, 128
VANISHING, HEALTHY, EXPLODING = "vanishing", "healthy", "exploding"
LOW, HIGH = 1e-2, 1e2  # first/last gradient ratio outside [LOW, HIGH]: not healthy

ADVICE = {
    VANISHING: "ReLU-family activation with He init; batch/layer norm; skip connections; "
               "LSTM/GRU for sequences",
    HEALTHY: "nothing to fix: watch the update ratios (about 1e-3) as training goes",
    EXPLODING: "smaller init (He, LeCun, orthogonal); clip by global norm; normalisation; "
               "a lower learning rate or Adam with warm-up",
    "overflow": "the forward pass overflowed: shrink the init first, then clip",
}
SYMPTOMS = {
    VANISHING: "loss stalls at the mean's value; early layers barely move",
    HEALTHY: "loss falls; every layer's update ratio near 1e-3",
    EXPLODING: "loss jumps to huge values, then inf/nan",
}

REGIMES = {
    "vanishing: sigmoid, LeCun": dict(activation="sigmoid", init="lecun"),
    "healthy: ReLU, He": dict(activation="relu", init="he_normal"),
    "exploding: ReLU, He x 1.5": dict(activation="relu", init="he_normal", weight_scale=1.5),
}


def diagnose(activation_grad_norms) -> tuple[str, str]:
    """The decision guide's rule: ``(verdict, advice)`` for a profile ``||dL/dh_l||``.

    ``r = ||dL/dh_0|| / ||dL/dh_{L-1}||``:

    * any inf or nan entry -> ``"overflow"`` (only non-finite numbers are overflow);
    * ``r < 1e-2`` -> ``"vanishing"``; this includes ``r = 0``, a first layer that gets no
      gradient at all;
    * a last layer with zero gradient -> ``"vanishing"`` too: by the chain rule
      (``dL/dh_l = J_l^T dL/dh_{l+1}``) nothing then reaches any layer, so no layer learns
      (a nonzero first layer there can only be rounding);
    * ``r > 1e2`` -> ``"exploding"``; otherwise ``"healthy"``.
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


def _ratio(cfg: MLPConfig, seed: int) -> float:
    d = probe_mlp(cfg, seed=seed, batch_size=BATCH).activation_grad_norms
    with np.errstate(all="ignore"):
        return float(d[0] / d[-1])


def measure(seed: int = 0, steps: int = 150, learning_rate: float = 0.003) -> dict:
    """Every number the infographic shows, measured now (about 10 s on a laptop CPU).

    Returns ``profiles`` (``{regime: ||dL/dW_l||}``), ``deltas`` (``||dL/dh_l||``),
    ``losses`` (SGD on :func:`gradviz.data.teacher_regression`), ``diverged_at``,
    ``causes`` (``{cause: (measured, predicted)}`` per-layer factors of ``||dL/dh_l||``),
    ``fixes`` (``{network: first/last ratio}``) and ``verdicts`` (:func:`diagnose`).
    """
    cfgs = {name: _cfg(**kw) for name, kw in REGIMES.items()}
    probes = {name: probe_mlp(c, seed=seed, batch_size=BATCH) for name, c in cfgs.items()}
    x, y = data.teacher_regression(seed, BATCH, 16)
    runs = train_variants(cfgs, learning_rate=learning_rate, steps=steps, x=x, y=y, seed=seed)
    per_layer = {name: (p.activation_grad_norms[0] / p.activation_grad_norms[-1])
                 ** (1 / (DEPTH - 1)) for name, p in probes.items()}
    names = list(REGIMES)
    causes = {
        "sigmoid: φ' ≤ 1/4": (per_layer[names[0]], math.sqrt(theory.chi("sigmoid", 1.0))),
        "ReLU, Var(W) = 1/n": (_ratio(_cfg(activation="relu", init="lecun"), seed)
                               ** (1 / (DEPTH - 1)), math.sqrt(theory.chi("relu", 1.0))),
        "ReLU, He x 1.5": (per_layer[names[2]], math.sqrt(theory.chi("relu", 1.5 * 2 ** 0.5))),
        "tanh, σ_w = 2.5": (_ratio(_cfg(activation="tanh", weight_scale=2.5), seed)
                            ** (1 / (DEPTH - 1)), math.sqrt(theory.chi("tanh", 2.5))),
    }
    fixes = {
        "sigmoid (the problem)": _ratio(cfgs[names[0]], seed),
        "→ ReLU + He init": _ratio(cfgs[names[1]], seed),
        "→ sigmoid + batch norm": _ratio(_cfg(activation="sigmoid", norm="batch"), seed),
        "→ sigmoid + skips + layer norm": _ratio(
            _cfg(activation="sigmoid", residual=True, norm="layer"), seed),
        "ReLU x 1.5 (the problem)": _ratio(cfgs[names[2]], seed),
        "→ ReLU x 1.5 + layer norm": _ratio(
            _cfg(activation="relu", init="he_normal", weight_scale=1.5, norm="layer"), seed),
    }
    return {
        "profiles": {n: p.weight_grad_norms for n, p in probes.items()},
        "deltas": {n: p.activation_grad_norms for n, p in probes.items()},
        "losses": {n: h.loss for n, h in runs.items()},
        "diverged_at": {n: h.diverged_at for n, h in runs.items()},
        "causes": causes, "fixes": fixes,
        "verdicts": {n: diagnose(p.activation_grad_norms)[0] for n, p in probes.items()},
    }


COLORS = ("#1f77b4", "#2ca02c", "#d62728")


def _example(m: dict, name: str | None) -> str:
    if name is None:
        return "-"
    d = m["deltas"][name]
    return f"{name}: first/last = {d[0] / d[-1]:.2g}"


def figure(m: dict) -> go.Figure:
    """One page: profiles, symptoms, causes, fixes and the decision guide, from :func:`measure`."""
    fig = make_subplots(
        rows=3, cols=2, vertical_spacing=0.09, horizontal_spacing=0.12,
        row_heights=[0.37, 0.37, 0.26],
        specs=[[{}, {}], [{}, {}], [{"type": "table", "colspan": 2}, None]],
        subplot_titles=(
            f"1 · Gradient profiles at initialisation ({DEPTH} layers)",
            "2 · Symptoms: training loss (SGD)",
            "3 · Causes: per-layer gradient factor, measured vs predicted",
            "4 · Fixes: first-layer / last-layer gradient (1 = level)",
            "5 · Decision guide (each row's example measured above)"))
    for (name, prof), color in zip(m["profiles"].items(), COLORS, strict=True):
        fig.add_trace(go.Scatter(y=prof, name=name, legendgroup=name, line={"color": color},
                                 hovertemplate="layer %{x}: ‖∂L/∂W‖ = %{y:.3g}<extra>"
                                 f"{name}</extra>"), row=1, col=1)
        loss = np.asarray(m["losses"][name], dtype=float)
        shown = np.where(np.isfinite(loss), loss, np.nan)
        fig.add_trace(go.Scatter(y=shown, name=name, legendgroup=name, showlegend=False,
                                 line={"color": color}), row=1, col=2)
        if m["diverged_at"][name] is not None:
            step = m["diverged_at"][name]
            fig.add_annotation(x=step, y=1, xref="x2", yref="y2 domain", showarrow=False,
                               text=f"✕ {name.split(':')[0]}: loss inf/nan at step {step}",
                               font={"color": color}, xanchor="left", yanchor="top")
    causes = m["causes"]
    fig.add_trace(go.Bar(x=list(causes), y=[v[0] for v in causes.values()], name="measured",
                         marker_color="#444", texttemplate="%{y:.3g}"), row=2, col=1)
    fig.add_trace(go.Bar(x=list(causes), y=[v[1] for v in causes.values()],
                         name="mean-field prediction", marker_color="#bbb",
                         texttemplate="%{y:.3g}"), row=2, col=1)
    fig.add_hline(y=1, line_dash="dot", row=2, col=1)
    fixes = m["fixes"]
    fig.add_trace(go.Bar(y=list(fixes)[::-1], x=[abs(math.log10(v)) if v > 0 and math.isfinite(v)
                                                 else 40 for v in fixes.values()][::-1],
                         orientation="h", showlegend=False, marker_color=[
                             "#d62728" if "problem" in k else "#2ca02c" for k in fixes][::-1],
                         text=[f"{v:.2g}" for v in fixes.values()][::-1],
                         textposition="outside"), row=2, col=2)
    verdict_of = {v: n for n, v in m["verdicts"].items()}
    rows = [(VANISHING, "first/last < 1e-2"), (HEALTHY, "1e-2 to 1e2"),
            (EXPLODING, "first/last > 1e2, or inf/nan")]
    fig.add_trace(go.Table(
        columnwidth=[1.1, 1.3, 1.6, 2.2, 3.2],
        header={"values": ["your gradients look like", "rule", "measured example",
                           "symptoms", "try"], "fill_color": "#eee", "align": "left"},
        cells={"values": [
            [v for v, _ in rows], [r for _, r in rows],
            [_example(m, verdict_of.get(v)) for v, _ in rows],
            [SYMPTOMS[v] for v, _ in rows], [ADVICE[v] for v, _ in rows]],
            "align": "left", "height": 36}), row=3, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title_text="‖∂L/∂W_l‖", row=1, col=1)
    fig.update_xaxes(title_text="layer l (0 = input side)", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title_text="loss", row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=2)
    fig.update_yaxes(type="log", title_text="factor per layer", row=2, col=1)
    fig.update_xaxes(title_text="orders of magnitude, |log10(first / last)|", row=2, col=2,
                     range=[0, 23])
    fig.update_layout(
        template="plotly_white", height=1300, width=1300, barmode="group",
        title={"text": "Vanishing vs exploding gradients: the course on one page, measured live"},
        legend={"orientation": "h", "y": 1.04, "x": 0}, margin={"l": 70, "r": 30, "t": 110})
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
        fig.write_image(png, width=1300, height=1300)
    except Exception:  # no kaleido browser: the HTML is the infographic
        png = None
    return {"html": html, "png": png}
