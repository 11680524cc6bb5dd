"""ipywidgets dashboards: controls -> one compute call -> plots -> a FigureWidget updated in place.

Speed by design: every control is a traced argument of one compiled probe
(:func:`gradviz.probes.probe_stacked`) run on weights drawn once for the maximum depth,
so after the first display no control move compiles anything, and a depth change
never redraws weights (layer ``l`` is the same array at every depth).
"""

from __future__ import annotations

import itertools
import math
import weakref

import ipywidgets as widgets
import jax
import numpy as np
from plotly.graph_objs import FigureWidget  # imports anywidget now, not at first display

from gradviz import (
    _checks,
    activations,
    attention_probes,
    data,
    infographic,
    init,
    plots,
    preview,
    probes,
    theory,
    train,
)
from gradviz.models import attention
from gradviz.models.mlp import draw_stack

_LIVE = weakref.WeakSet()  # every explorer alive in this kernel (tests sweep them all)
_COUNTER = itertools.count()

BEFORE = "‖∂L/∂W_l‖"  # the raw weight gradient; with clipping on, AFTER is drawn beside it
AFTER = "‖∂L/∂W_l‖ after clipping"
DELTA = "‖∂L/∂h_l‖ measured"
PREDICTION = "‖∂L/∂h_l‖ mean-field prediction"
SIGNAL = "Var(h_l) measured"
SIGNAL_PREDICTION = "Var(h_l) mean-field prediction"
SIGNAL_AXIS = {"ylabel": "Var(h_l) (log scale)", "overflow": "variance overflowed float32"}


def _fmt(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else str(x)


class _Explorer:
    """What every explorer shares: registration, error display and the change callback.

    A subclass sets ``controls`` (name -> value widget), ``figure`` (a FigureWidget),
    ``widget`` (the layout) and implements ``compute()`` and ``update()``.
    """

    def _register(self) -> None:
        self.created = next(_COUNTER)
        _LIVE.add(self)
        self._busy = False  # True while several controls are set at once
        self.errors = widgets.Output().add_class("gv-errors")

    def _observe(self) -> None:
        for name, control in self.controls.items():
            control.add_class("gv-" + name.replace("_", "-"))
            control.style.description_width = "90px"
            control.observe(self._on_change, names="value")

    @property
    def values(self) -> dict:
        """Current control values."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change) -> None:
        if self._busy:
            return
        if self.errors.outputs:
            self.errors.clear_output()
        try:
            self.update()
        except Exception as err:  # shown to the learner, never swallowed
            self.errors.append_stderr(f"{type(err).__name__}: {err}\n")
            raise

    def _assemble(self, *rows) -> None:
        """The status line, the control callbacks and the layout: each row is a list of
        control names (one HBox) or a widget, then the status line and the error area."""
        self.status = widgets.HTML(self._status_html()).add_class("gv-status")
        self._observe()
        self.widget = widgets.VBox([
            *(widgets.HBox([self.controls[n] for n in r]) if isinstance(r, list) else r
              for r in rows),
            self.status, self.errors,
        ]).add_class("gv-explorer")

    def _stack(self, init_name: str) -> dict:
        """Weights for ``max_depth`` layers of scheme ``init_name``, drawn once per scheme.

        Needs ``_key``, ``_stacks``, ``init_std``, ``in_dim``, ``width`` and ``max_depth``.
        """
        if init_name not in self._stacks:
            self._stacks[init_name] = draw_stack(
                self._key, init.NAMES.index(init_name), self.init_std, in_dim=self.in_dim,
                width=self.width, out_dim=1, max_depth=self.max_depth)
        return self._stacks[init_name]

    def _preview_figures(self) -> list:
        """Every panel the live explorer shows, in its order (the static picture has them all)."""
        extra = (getattr(self, n, None) for n in ("signal_figure", "health_figure"))
        return [self.figure, *(f for f in extra if f is not None)]

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"{type(self).__name__}: run the notebook to use it live"
        if preview.building():  # a static picture for the committed lesson (see preview)
            image = preview.png(plots.stack_figures(self._preview_figures()))
            if image is not None:
                bundle["image/png"] = image
        return bundle


class GradientExplorer(_Explorer):
    """Per-layer gradient norms of a random MLP, re-measured with ``jax.grad`` on every move.

    The network is the :class:`~gradviz.MLPConfig` MLP (width ``width``, inputs
    ``(batch_size, in_dim)`` standard normal, MSE against standard-normal targets, zero
    biases). The figure shows ``||dL/dW_l||`` before and after ``optax.clip_by_global_norm``
    and ``||dL/dh_l||`` against the mean-field prediction ``prod sqrt(chi(q_k))``.

    Attributes:
        controls: ``{"depth", "activation", "init", "weight_scale", "clip",
            "clip_threshold"}`` -> ipywidgets value widgets.
        figure: the ``go.FigureWidget``, created once and updated in place.
        presets: optional ``{label: {control: value}}``, shown as buttons that set several
            controls at once (one update, not one per control).
        health_figure: with ``health=True``, a second FigureWidget showing each layer's
            saturated and dead fractions (:func:`gradviz.probes.activation_stats`); else None.
        diagnose: with ``diagnose=True`` the status line adds the decision guide's verdict
            on the current profile (:func:`gradviz.infographic.diagnose`).
        signal_figure: with ``signal=True``, a FigureWidget of the forward signal, each
            layer's pre-activation variance ``Var(h_l)`` against the mean-field variance map
            (:func:`gradviz.theory.variance_profile`); else None.
        result: the numbers behind the current figure (numpy arrays of length depth).
    """

    def __init__(self, *, depth: int = 20, activation: str = "tanh", init: str = "lecun",
                 weight_scale: float = 1.0, clip: bool = False, clip_threshold: float = 1.0,
                 width: int = 64, in_dim: int = 16, batch_size: int = 128,
                 max_depth: int = 100, init_std: float = 0.01, seed: int = 0,
                 presets: dict | None = None, title: str = "Per-layer gradient norms",
                 health: bool = False, signal: bool = False, diagnose: bool = False):
        for name, flag in (("health", health), ("signal", signal), ("diagnose", diagnose)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name}={flag!r} must be True or False")
        self.health, self.signal, self.diagnose = health, signal, diagnose
        self.max_depth = _checks.integer("max_depth", max_depth, low=2, high=1000)
        self.width = _checks.integer("width", width, low=1, high=4096)
        self.in_dim = _checks.integer("in_dim", in_dim, low=1)
        self.init_std = _checks.real("init_std", init_std, low=0.0)
        batch_size = _checks.integer("batch_size", batch_size, low=1)
        seed = _checks.integer("seed", seed, low=0)
        self._key = jax.random.PRNGKey(seed)
        # The same weights and batch as probe_mlp(MLPConfig(...), seed=seed, batch_size=...).
        self._x, self._y = probes.default_batch(seed, batch_size, self.in_dim, 1)
        self._stacks: dict[str, dict] = {}  # one entry per init scheme, at most len(NAMES)

        self.controls = _mlp_controls(self.max_depth, depth, activation, init, weight_scale, clip,
                                      clip_threshold)
        self._register()
        self.presets = dict(presets or {})
        for label, values in self.presets.items():
            unknown = set(values) - set(self.controls)
            if unknown:
                raise ValueError(f"presets[{label!r}] sets {sorted(unknown)}; allowed controls: "
                                 f"{sorted(self.controls)}")
        self.preset = widgets.ToggleButtons(options=list(self.presets), value=None,
                                            description="preset").add_class("gv-preset")
        self.preset.observe(self._on_preset, names="value")

        self.result = self.compute()
        self.figure = FigureWidget(plots.layer_norms_figure(self._series(), title=title))
        self.health_figure = FigureWidget(plots.layer_fractions_figure(
            self._health_series(), title="Where the activations sit: fraction of each layer",
            ylabel="fraction of the layer")) if health else None
        self.signal_figure = FigureWidget(plots.layer_norms_figure(
            self._signal_series(), title="Forward signal: variance of each layer's "
            "pre-activations", **SIGNAL_AXIS)) if signal else None
        self._assemble(*([self.preset] if self.presets else []),
                       ["depth", "activation", "init"], ["weight_scale", "clip", "clip_threshold"],
                       self.figure, *([self.signal_figure] if signal else []),
                       *([self.health_figure] if health else []))

    def compute(self) -> dict:
        """Measure the network the controls describe; no compile after the first call."""
        v = self.values
        depth, act, s = int(v["depth"]), v["activation"], float(v["weight_scale"])
        out = jax.device_get(probes.probe_stacked(
            self._stack(v["init"]), self._x, self._y, depth, activations.NAMES.index(act),
            w_mult=s, b_mult=0.0, clip_norm=float(v["clip_threshold"]) if v["clip"] else -1.0,
            health=self.health or self.signal))
        r = {k: np.asarray(a)[:depth] if np.ndim(a) else float(a) for k, a in out.items()}
        r["prediction"] = r["signal_prediction"] = None
        last = r["activation_grad_norms"][-1]
        if v["init"] != "zeros":
            sw = init.sigma_w(v["init"], self.width, self.width, weight_scale=s, std=self.init_std)
            q0 = init.sigma_w(v["init"], self.in_dim, self.width, weight_scale=s,
                              std=self.init_std) ** 2  # inputs have unit variance
            if math.isfinite(last) and last > 0:
                r["prediction"] = last * theory.gradient_profile(act, sw, 0.0, depth, q0)
            if self.signal:
                r["signal_prediction"] = theory.variance_profile(act, sw, 0.0, depth, q0)
        return r

    def _series(self) -> dict:
        r, clip = self.result, self.controls["clip"].value
        return {BEFORE: r["weight_grad_norms"],
                AFTER: r["clipped_weight_grad_norms"] if clip else None,
                DELTA: r["activation_grad_norms"], PREDICTION: r["prediction"]}

    SATURATED = "saturated: in a flat part of the activation"
    DEAD = "dead units: no gradient for any sample"

    def _signal_series(self) -> dict:
        return {SIGNAL: self.result["preactivation_vars"],
                SIGNAL_PREDICTION: self.result["signal_prediction"]}

    def _health_series(self) -> dict:
        return {self.SATURATED: self.result["saturated_fraction"],
                self.DEAD: self.result["dead_fraction"]}

    def _status_html(self) -> str:
        r = self.result
        d = r["activation_grad_norms"]
        with np.errstate(all="ignore"):  # inf / inf is nan: shown, not warned about
            ratio = d[0] / d[-1] if d[-1] else math.nan
        text = (f"loss {_fmt(r['loss'])} · global gradient norm {_fmt(r['global_norm'])} · "
                f"‖∂L/∂h_0‖ / ‖∂L/∂h_L-1‖ = {_fmt(ratio)} measured")
        if r["prediction"] is not None:
            text += f", {_fmt(r['prediction'][0] / r['prediction'][-1])} mean-field"
        bad = np.flatnonzero(~np.isfinite(r["activation_stds"]))
        if self.signal:
            q = r["preactivation_vars"]
            with np.errstate(all="ignore"):
                per_layer = (q[-1] / q[0]) ** (1 / (q.size - 1)) if q.size > 1 else math.nan
            text += (f"<br>Var(h_0) = {_fmt(q[0])}, Var(h_L-1) = {_fmt(q[-1])}: "
                     f"× {_fmt(per_layer)} per layer")
        if self.diagnose and d.size >= 2:
            verdict, advice = infographic.diagnose(d)
            text += f"<br><b>diagnosis: {verdict}</b> → {advice}"
        if self.health:
            text += (f"<br>saturated: {r['saturated_fraction'].mean():.1%} of all entries · "
                     f"dead units: {r['dead_fraction'].mean():.1%} of all units")
        if bad.size:
            text += (f"<br><b style='color:#d62728'>The forward signal overflowed float32 at "
                     f"layer {bad[0]}: from there on every gradient is inf, nan or 0.</b>")
        return f"<span style='font-family:monospace'>{text}</span>"

    def update(self) -> None:
        """Re-measure and write the new numbers into the existing figure."""
        self.result = self.compute()
        traces, layout = plots.layer_norms_update(self._series())
        plots.apply_update(self.figure, traces, layout)
        if self.signal:
            plots.apply_update(self.signal_figure, *plots.layer_norms_update(
                self._signal_series(), **SIGNAL_AXIS))
        if self.health:
            plots.apply_update(self.health_figure, *plots.layer_fractions_update(
                self._health_series()))
        self.status.value = self._status_html()

    def _on_preset(self, change) -> None:
        if change["new"] is None:
            return
        self._busy = True
        try:
            for name, value in self.presets[change["new"]].items():
                self.controls[name].value = value
        finally:
            self._busy = False
        self._on_change(None)


class PhaseExplorer(_Explorer):
    """Where a network sits on the mean-field phase diagram, and what it measures there.

    The contours are ``log10 chi(sigma_w, sigma_b)`` for the chosen activation (black line:
    ``chi = 1``, the edge of chaos). The marker is a real network of width ``width`` with
    LeCun-scaled weights times ``sigma_w`` and biases ``N(0, sigma_b**2)``, whose
    per-layer squared-gradient gain is measured on every move: the geometric mean of
    ``(||dL/dh_l|| / ||dL/dh_{l+1}||)**2`` over the deeper half of the layers, where the
    forward signal has settled to ``q*``. Marker colour = measured, background = theory.
    """

    SIGMA_WS = np.round(np.linspace(0.25, 3.0, 23), 4)
    SIGMA_BS = np.round(np.linspace(0.0, 1.0, 11), 4)

    def __init__(self, *, activation: str = "tanh", sigma_w: float = 1.0, sigma_b: float = 0.0,
                 depth: int = 50, width: int = 64, batch_size: int = 128, seed: int = 0,
                 title: str = "Mean-field χ and the measured per-layer gain"):
        _checks.one_of("activation", activation, activations.NAMES)
        _checks.real("sigma_w", sigma_w, low=0.25, high=3.0)
        _checks.real("sigma_b", sigma_b, low=0.0, high=1.0)
        _checks.integer("depth", depth, low=4, high=100)
        self.width = _checks.integer("width", width, low=1, high=4096)
        batch_size = _checks.integer("batch_size", batch_size, low=1)
        key = jax.random.PRNGKey(_checks.integer("seed", seed, low=0))
        self._stack = draw_stack(key, init.NAMES.index("lecun"), 0.01, in_dim=self.width,
                                 width=self.width, out_dim=1, max_depth=100)
        self._x, self._y = probes.default_batch(seed, batch_size, self.width, 1)
        self._grids: dict = {}  # activation -> chi grid, at most len(activations.NAMES)
        self._register()
        self.controls = {
            "activation": widgets.Dropdown(options=activations.NAMES, value=activation,
                                           description="activation"),
            "weight_scale": widgets.FloatSlider(value=sigma_w, min=0.25, max=3.0, step=0.05,
                                                description="σ_w"),
            "bias_scale": widgets.FloatSlider(value=sigma_b, min=0.0, max=1.0, step=0.05,
                                              description="σ_b"),
            "depth": widgets.IntSlider(value=depth, min=4, max=100, description="depth"),
        }
        self.result = self.compute()
        self.figure = FigureWidget(plots.phase_diagram_figure(
            self.SIGMA_WS, self.SIGMA_BS, self._grid(activation), measured=self._measured(),
            title=title))
        self.figure.layout.meta = activation  # which activation the contours show
        self._assemble(["activation", "depth"], ["weight_scale", "bias_scale"], self.figure)

    def _grid(self, activation: str) -> np.ndarray:
        if activation not in self._grids:
            self._grids[activation] = theory.chi_grid(activation, self.SIGMA_WS, self.SIGMA_BS,
                                                      steps=128)
        return self._grids[activation]

    def compute(self) -> dict:
        """Measure the per-layer gain at the current ``(sigma_w, sigma_b)``; no compile."""
        v = self.values
        act, depth = v["activation"], int(v["depth"])
        sw, sb = float(v["weight_scale"]), float(v["bias_scale"])
        out = jax.device_get(probes.probe_stacked(
            self._stack, self._x, self._y, depth, activations.NAMES.index(act), w_mult=sw,
            b_mult=sb))
        d = np.asarray(out["activation_grad_norms"])[:depth]
        gain = probes.per_layer_gain(d)
        return {"activation_grad_norms": d, "measured_chi": gain,
                "theory_chi": theory.chi(act, sw, sb), "sigma_w": sw, "sigma_b": sb}

    def _measured(self) -> dict:
        r = self.result
        return {"sigma_w": [r["sigma_w"]], "sigma_b": [r["sigma_b"]], "gain": [r["measured_chi"]]}

    def _status_html(self) -> str:
        r = self.result
        xi = theory.depth_scale(r["theory_chi"])
        return ("<span style='font-family:monospace'>"
                f"σ_w = {r['sigma_w']:.2f}, σ_b = {r['sigma_b']:.2f}: mean-field χ = "
                f"{_fmt(r['theory_chi'])}, measured χ = {_fmt(r['measured_chi'])} "
                f"(depth scale ξ = {_fmt(xi)} layers)</span>")

    def update(self) -> None:
        """Re-measure; redraw the contours only when the activation changed."""
        self.result = self.compute()
        grid = None
        if self.figure.layout.meta != self.controls["activation"].value:
            grid = self._grid(self.controls["activation"].value)
            self.figure.layout.meta = self.controls["activation"].value
        traces, layout = plots.phase_diagram_update(grid, self._measured())
        plots.apply_update(self.figure, traces, layout)
        self.status.value = self._status_html()


class RNNExplorer(_Explorer):
    """Backpropagation through time in a vanilla RNN, an LSTM and a GRU, side by side.

    Each cell reads the same adding-problem batch; the loss is on the last step, and the
    plot shows ``||dL/dh_t||`` for every step ``t``. The recurrent matrices are drawn with
    ``init`` times ``weight_scale`` (for ``"orthogonal"`` the scale is the spectral radius
    ``rho`` and every singular value). The dotted line is Pascanu et al.'s bound for the
    vanilla tanh cell, ``sigma_max**(T-1-t)`` (``gamma = 1``), anchored at its last step; it
    does not apply to the LSTM or GRU curves. For orthogonal weights ``sigma_max = rho``, and
    a linear RNN would follow it exactly. The status line states the vanilla cell's regime
    by :func:`gradviz.theory.rnn_regime` (at ``sigma_max = 1``: bounded, cannot grow).
    """

    CELLS = {"vanilla RNN (tanh)": "rnn", "LSTM": "lstm", "GRU": "gru"}

    def __init__(self, *, weight_scale: float = 1.0, init: str = "orthogonal",
                 forget_bias: float = 0.0, seq_len: int = 50, hidden: int = 32,
                 batch_size: int = 32, seed: int = 0,
                 title: str = "Backpropagation through time: ‖∂L/∂h_t‖, loss at the last step"):
        from gradviz.models.rnn import RNNConfig

        _checks.real("weight_scale", weight_scale, low=0.3, high=1.6)
        _checks.one_of("init", init, init_names := ("orthogonal", "lecun", "xavier_normal",
                                                      "he_normal"))
        _checks.real("forget_bias", forget_bias, low=0.0, high=5.0)
        self.seq_len = _checks.integer("seq_len", seq_len, low=2, high=500)
        self.hidden = _checks.integer("hidden", hidden, low=1, high=1024)
        self.batch_size = _checks.integer("batch_size", batch_size, low=1)
        self.seed = _checks.integer("seed", seed, low=0)
        self._config = RNNConfig
        self._register()
        self.controls = {
            "weight_scale": widgets.FloatSlider(value=weight_scale, min=0.3, max=1.6, step=0.01,
                                                description="ρ (scale)"),
            "init": widgets.Dropdown(options=init_names, value=init, description="init"),
            "forget_bias": widgets.FloatSlider(value=forget_bias, min=0.0, max=5.0, step=0.25,
                                               description="LSTM forget bias"),
        }
        self.result = self.compute()
        self.figure = FigureWidget(plots.layer_norms_figure(
            self._series(), title=title, xlabel="time step t (loss at the last step)",
            xname="step"))
        self._assemble(["weight_scale", "init", "forget_bias"], self.figure)

    def compute(self) -> dict:
        """Probe the three cells at the current controls; no compile after the first call."""
        from gradviz.models.rnn import init_rnn
        from gradviz.rnn_probes import probe_rnn

        v, key = self.values, jax.random.PRNGKey(self.seed)
        out = {}
        for label, cell in self.CELLS.items():
            cfg = self._config(cell=cell, hidden=self.hidden, activation="tanh", init=v["init"],
                               weight_scale=float(v["weight_scale"]), seq_len=self.seq_len,
                               forget_bias=float(v["forget_bias"]))
            params = init_rnn(cfg, key)
            out[label] = probe_rnn(cfg, params=params, seed=self.seed,
                                   batch_size=self.batch_size).hidden_grad_norms
            if cell == "rnn":
                u = np.asarray(params["w_rec"]["h"], dtype=np.float64)
                out["rho"] = float(np.max(np.abs(np.linalg.eigvals(u))))
                out["sigma_max"] = float(np.linalg.norm(u, 2))
        return out

    def _series(self) -> dict:
        r = self.result
        series = {label: r[label] for label in self.CELLS}
        last = r["vanilla RNN (tanh)"][-1]
        steps_back = np.arange(self.seq_len)[::-1]  # T-1-t
        # The bound is Pascanu et al.'s for the vanilla cell only: the LSTM and GRU paths
        # have other Jacobians, so the label says whose bound it is.
        series["vanilla-RNN bound σ_max^(T-1-t)"] = (last * r["sigma_max"] ** steps_back
                                         if math.isfinite(last) and last > 0 else None)
        return series

    def _status_html(self) -> str:
        r = self.result
        ratios = {label: r[label][0] / r[label][-1] if r[label][-1] else math.nan
                  for label in self.CELLS}
        text = (f"vanilla RNN: spectral radius ρ = {r['rho']:.3g}, largest singular value "
                f"σ_max = {r['sigma_max']:.3g} → {theory.rnn_regime(r['sigma_max'], 1.0)} · "
                + " · ".join(f"{k}: ‖∂L/∂h_0‖/‖∂L/∂h_T-1‖ = {_fmt(v)}" for k, v in ratios.items()))
        return f"<span style='font-family:monospace'>{text}</span>"

    def update(self) -> None:
        """Re-measure and write the new numbers into the existing figure."""
        self.result = self.compute()
        traces, layout = plots.layer_norms_update(
            self._series(), xlabel="time step t (loss at the last step)", xname="step")
        plots.apply_update(self.figure, traces, layout)
        self.status.value = self._status_html()


class TrainingExplorer(_Explorer):
    """Train an MLP with SGD on every move and watch its loss, update ratios and gradients.

    The network learns the :func:`gradviz.data.teacher_regression` task (``batch_size``
    examples, full batch, biases start at 0) for ``steps`` SGD steps with optional
    ``optax.clip_by_global_norm``; the figure shows the loss (a red x where it went
    inf/nan), ``||Delta W_l|| / ||W_l||`` of the first, middle and last layer against the
    healthy 1e-3, and a layer x step heatmap of ``log10 ||dL/dW_l||`` before clipping.
    Every control is a traced argument of :func:`gradviz.train.train_stacked`, so a move
    retrains from scratch without compiling anything.

    Attributes:
        controls: ``{"depth", "activation", "init", "weight_scale", "learning_rate", "clip",
            "clip_threshold"}`` -> ipywidgets value widgets.
        result: ``loss (done,)``, ``grad_norms`` and ``update_ratios (done, depth)`` and
            ``diverged_at`` of the current run, as numpy arrays.
    """

    def __init__(self, *, depth: int = 20, activation: str = "relu", init: str = "he_normal",
                 weight_scale: float = 1.0, learning_rate: float = 0.01, clip: bool = False,
                 clip_threshold: float = 1.0, steps: int = 100, width: int = 32,
                 batch_size: int = 128, max_depth: int = 50, seed: int = 0,
                 title: str = "Training a deep MLP with SGD"):
        self.max_depth = _checks.integer("max_depth", max_depth, low=2, high=200)
        _checks.real("learning_rate", learning_rate, low=1e-4, high=1.0)
        self.steps = _checks.integer("steps", steps, low=1, high=2000)
        self.width = _checks.integer("width", width, low=1, high=1024)
        batch_size = _checks.integer("batch_size", batch_size, low=1)
        seed = _checks.integer("seed", seed, low=0)
        self._key = jax.random.PRNGKey(seed)
        self.in_dim, self.init_std = 16, 0.01
        self._x, self._y = data.teacher_regression(seed, batch_size, in_dim=self.in_dim)
        self._stacks: dict[str, dict] = {}
        self.controls = _mlp_controls(self.max_depth, depth, activation, init, weight_scale, clip,
                                      clip_threshold)
        self.controls["learning_rate"] = widgets.FloatLogSlider(
            value=learning_rate, base=10, min=-4, max=0, step=0.05, description="learning rate",
            readout_format=".2g")
        self._register()
        self.result = self.compute()
        r = self.result
        self.figure = FigureWidget(plots.training_figure(
            r["loss"], r["grad_norms"], r["update_ratios"], r["diverged_at"], title=title))
        self._assemble(["depth", "activation", "init"], ["weight_scale", "learning_rate"],
                       ["clip", "clip_threshold"], self.figure)

    def compute(self) -> dict:
        """Train the network the controls describe; no compile after the first call."""
        v = self.values
        depth = int(v["depth"])
        out = jax.device_get(train.train_stacked(
            self._stack(v["init"]), self._x, self._y, depth,
            activations.NAMES.index(v["activation"]), float(v["weight_scale"]),
            float(v["learning_rate"]), float(v["clip_threshold"]) if v["clip"] else -1.0,
            steps=self.steps))
        done = int(out["done"])
        loss = np.asarray(out["loss"])[:done]
        return {"loss": loss, "grad_norms": np.asarray(out["grad_norms"])[:done, :depth],
                "update_ratios": np.asarray(out["update_ratios"])[:done, :depth],
                "diverged_at": None if math.isfinite(loss[-1]) else done - 1}

    def _status_html(self) -> str:
        r = self.result
        loss, g, ratios = r["loss"], r["grad_norms"], r["update_ratios"]
        with np.errstate(all="ignore"):
            first_last = g[0, 0] / g[0, -1] if g[0, -1] else math.nan
            med = np.median(ratios, axis=0)
        text = (f"loss {_fmt(loss[0])} → {_fmt(loss[-1])} after {loss.size} steps · "
                f"‖∂L/∂W_0‖ / ‖∂L/∂W_L-1‖ at step 0 = {_fmt(first_last)} · "
                f"median update ratio: layer 0 {_fmt(med[0])}, last layer {_fmt(med[-1])}")
        if r["diverged_at"] is not None:
            text += (f"<br><b style='color:#d62728'>Diverged: the loss became {loss[-1]} at "
                     f"step {r['diverged_at']}; training stopped there.</b>")
        return f"<span style='font-family:monospace'>{text}</span>"

    def update(self) -> None:
        """Retrain and write the new run into the existing figure."""
        self.result = self.compute()
        r = self.result
        plots.apply_update(self.figure, *plots.training_update(
            r["loss"], r["grad_norms"], r["update_ratios"], r["diverged_at"]))
        self.status.value = self._status_html()


class MitigationExplorer(_Explorer):
    """The four classic cures for vanishing gradients, each a toggle, against the plain network.

    The baseline is a sigmoid MLP with LeCun-normal weights times ``weight_scale``. Each
    toggle adds the profile of the same network with one thing changed: ReLU with He init,
    batch norm before every activation, or a skip connection around every layer; the LSTM
    toggle adds a vanilla tanh RNN and an LSTM (forget bias 1) through ``depth`` time steps
    (orthogonal recurrent weights, loss on the last step). Every curve is
    ``||dL/dh_l||`` divided by its value at the last layer (or step), so it starts at 1 on
    the right and its height on the left is how much gradient reaches the input side.
    The MLP curves are :func:`gradviz.probes.probe_stacked` calls with every knob traced
    and the recurrent ones are measured once at 50 steps, so no move compiles anything.
    """

    PLAIN = "plain sigmoid MLP"
    FIXES = {"relu": "ReLU + He init", "batch_norm": "sigmoid + batch norm",
             "residual": "sigmoid + skip connections"}
    RNN, LSTM = "vanilla RNN (through time)", "LSTM, forget bias 1 (through time)"

    def __init__(self, *, depth: int = 50, weight_scale: float = 1.0, relu: bool = True,
                 batch_norm: bool = True, residual: bool = True, lstm: bool = False,
                 width: int = 64, batch_size: int = 128, seed: int = 0,
                 title: str = "Vanishing-gradient cures: ‖∂L/∂h_l‖ relative to the last layer"):
        from gradviz.models.mlp import NORMS
        from gradviz.models.rnn import RNNConfig
        from gradviz.rnn_probes import probe_rnn

        # At most 50 layers / steps: the recurrent curves are measured once, at 50 steps.
        width = _checks.integer("width", width, low=1, high=4096)
        self.max_depth, self.width, self.in_dim, self.init_std = 50, width, 16, 0.01
        batch_size = _checks.integer("batch_size", batch_size, low=1)
        seed = _checks.integer("seed", seed, low=0)
        for name, value in (("relu", relu), ("batch_norm", batch_norm), ("residual", residual),
                            ("lstm", lstm)):
            if not isinstance(value, bool):
                raise ValueError(f"{name}={value!r} must be True or False")
        self._key = jax.random.PRNGKey(seed)
        self._x, self._y = probes.default_batch(seed, batch_size, self.in_dim, 1)
        self._stacks: dict[str, dict] = {}
        self._padded: dict[str, dict] = {}
        self._batch_index = NORMS.index("batch")
        self.controls = _mlp_controls(self.max_depth, depth, "sigmoid", "lecun", weight_scale,
                                      False, 1.0)
        self.controls = {k: self.controls[k] for k in ("depth", "weight_scale")}
        for name, value in (("relu", relu), ("batch_norm", batch_norm), ("residual", residual),
                            ("lstm", lstm)):
            label = self.FIXES.get(name, "LSTM vs vanilla RNN")
            self.controls[name] = widgets.Checkbox(value=value, description=label, indent=False)
        self._register()
        # The recurrent curves do not depend on the controls: measure them once.
        self._through_time = {}
        for label, cell, fb in ((self.RNN, "rnn", 0.0), (self.LSTM, "lstm", 1.0)):
            cfg = RNNConfig(cell=cell, hidden=32, init="orthogonal", weight_scale=1.0,
                            seq_len=self.max_depth, forget_bias=fb)
            self._through_time[label] = probe_rnn(cfg, seed=seed, batch_size=32).hidden_grad_norms
        self.result = self.compute()
        self.figure = FigureWidget(plots.layer_norms_figure(
            self.result["series"], title=title, ylabel=self.YLABEL,
            xlabel="layer l, or time step t (loss on the right)"))
        self._assemble(["depth", "weight_scale"], ["relu", "batch_norm", "residual", "lstm"],
                       self.figure)

    YLABEL = "‖∂L/∂h_l‖ / ‖∂L/∂h_last‖ (log)"

    def _profile(self, init_name, act, depth, scale, *, residual=False, norm_index=0):
        if init_name not in self._padded:  # padded as probe_mlp pads: one shared compile
            self._padded[init_name] = probes.pad_stack(self._stack(init_name))
        out = probes.probe_stacked(
            self._padded[init_name], self._x, self._y, depth, activations.NAMES.index(act),
            w_mult=scale, b_mult=0.0, residual=residual, norm_index=norm_index)
        d = np.asarray(jax.device_get(out["activation_grad_norms"]))[:depth]
        with np.errstate(all="ignore"):
            return d / d[-1]

    def compute(self) -> dict:
        """Measure the baseline and every switched-on cure; no compile after the first call."""
        v = self.values
        depth, s = int(v["depth"]), float(v["weight_scale"])
        series = {self.PLAIN: self._profile("lecun", "sigmoid", depth, s)}
        runs = {"relu": lambda: self._profile("he_normal", "relu", depth, s),
                "batch_norm": lambda: self._profile("lecun", "sigmoid", depth, s,
                                                    norm_index=self._batch_index),
                "residual": lambda: self._profile("lecun", "sigmoid", depth, s, residual=True)}
        for name, run in runs.items():
            series[self.FIXES[name]] = run() if v[name] else None
        for label, d in self._through_time.items():
            d = d[-depth:]
            series[label] = d / d[-1] if v["lstm"] else None
        with np.errstate(all="ignore"):
            spans = {k: float(np.max(d) / np.min(d)) for k, d in series.items() if d is not None}
        return {"series": series, "spans": spans}

    def _status_html(self) -> str:
        spans = " · ".join(f"{k}: {_fmt(v)}" for k, v in self.result["spans"].items())
        return ("<span style='font-family:monospace'>span of each curve, largest over smallest "
                f"‖∂L/∂h‖: {spans}</span>")

    def update(self) -> None:
        """Re-measure and write the new curves into the existing figure."""
        self.result = self.compute()
        traces, layout = plots.layer_norms_update(
            self.result["series"], ylabel=self.YLABEL,
            xlabel="layer l, or time step t (loss on the right)")
        plots.apply_update(self.figure, traces, layout)
        self.status.value = self._status_html()


class ClippingExplorer(_Explorer):
    """Train an exploding network twice per move: without clipping, and clipped.

    The network is a ReLU MLP with He-normal weights times ``weight_scale`` (too large:
    its gradients explode), trained with SGD on :func:`gradviz.data.teacher_regression`
    for ``steps`` steps. The left panel shows both losses; the right one the clipped run's
    raw update ``lr * ||g||`` against the update it applied, and the cap ``lr * c`` of
    clipping by global norm. The clip method is optax's ``clip_by_global_norm``, ``clip``
    (by value) or ``adaptive_grad_clip``, switched by a traced index in
    :func:`gradviz.train.train_stacked`, so no move compiles anything.
    """

    METHODS = {"by global norm": "global_norm", "by value": "value",
               "adaptive (AGC)": "agc"}

    def __init__(self, *, depth: int = 20, weight_scale: float = 1.5,
                 learning_rate: float = 0.01, method: str = "by global norm",
                 clip_threshold: float = 10.0, steps: int = 100, width: int = 32,
                 batch_size: int = 128, seed: int = 0,
                 title: str = "Clipping an exploding ReLU network"):
        self.max_depth, self.width, self.in_dim, self.init_std = 30, width, 16, 0.01
        _checks.integer("depth", depth, low=1, high=self.max_depth)
        _checks.real("weight_scale", weight_scale, low=0.5, high=2.0)
        _checks.real("learning_rate", learning_rate, low=1e-4, high=1.0)
        _checks.one_of("method", method, tuple(self.METHODS))
        _checks.real("clip_threshold", clip_threshold, low=1e-3, high=1e4)
        self.steps = _checks.integer("steps", steps, low=1, high=2000)
        batch_size = _checks.integer("batch_size", batch_size, low=1)
        seed = _checks.integer("seed", seed, low=0)
        self._key = jax.random.PRNGKey(seed)
        self._x, self._y = data.teacher_regression(seed, batch_size, in_dim=self.in_dim)
        self._stacks: dict[str, dict] = {}
        self.controls = {
            "depth": widgets.IntSlider(value=depth, min=1, max=self.max_depth,
                                       description="depth"),
            "weight_scale": widgets.FloatSlider(value=weight_scale, min=0.5, max=2.0, step=0.05,
                                                description="weight scale"),
            "learning_rate": widgets.FloatLogSlider(
                value=learning_rate, base=10, min=-4, max=0, step=0.05,
                description="learning rate", readout_format=".2g"),
            "method": widgets.Dropdown(options=list(self.METHODS), value=method,
                                       description="clip"),
            "clip_threshold": widgets.FloatLogSlider(
                value=clip_threshold, base=10, min=-3, max=4, step=0.05,
                description="threshold c", readout_format=".3g"),
        }
        self._register()
        self.result = self.compute()
        self.figure = FigureWidget(plots.clipping_figure(*self._plot_args(), title=title))
        self._assemble(["depth", "weight_scale", "learning_rate"], ["method", "clip_threshold"],
                       self.figure)

    def _run(self, depth, scale, lr, threshold, method):
        out = jax.device_get(train.train_stacked(
            self._stack("he_normal"), self._x, self._y, depth, activations.NAMES.index("relu"),
            scale, lr, threshold, clip_index=train.CLIPS.index(method), steps=self.steps))
        done = int(out["done"])
        return {k: np.asarray(out[k])[:done] for k in ("loss", "global_norms", "update_norms")}

    def compute(self) -> dict:
        """Train without and with clipping at the current controls; no compile."""
        v = self.values
        args = int(v["depth"]), float(v["weight_scale"]), float(v["learning_rate"])
        method = self.METHODS[v["method"]]
        return {"free": self._run(*args, -1.0, method),
                "clipped": self._run(*args, float(v["clip_threshold"]), method)}

    def _plot_args(self) -> tuple:
        v = self.values
        cap = float(v["clip_threshold"]) if v["method"] == "by global norm" else None
        return self.result["free"], self.result["clipped"], float(v["learning_rate"]), cap

    def _status_html(self) -> str:
        parts = []
        for label, key in (("without clipping", "free"), ("with clipping", "clipped")):
            loss = self.result[key]["loss"]
            end = (f"diverged at step {loss.size - 1}" if not math.isfinite(loss[-1])
                   else f"loss {_fmt(loss[0])} → {_fmt(loss[-1])}")
            parts.append(f"{label}: {end}")
        return "<span style='font-family:monospace'>" + " · ".join(parts) + "</span>"

    def update(self) -> None:
        """Retrain both runs and write them into the existing figure."""
        self.result = self.compute()
        plots.apply_update(self.figure, *plots.clipping_update(*self._plot_args()))
        self.status.value = self._status_html()


class ActivationExplorer(_Explorer):
    """Every activation and its derivative, and what a layer's inputs see of them.

    Pick an activation and the standard deviation ``sigma`` of the pre-activations
    ``z ~ N(0, sigma**2)``. The figure shows ``phi`` and ``phi'`` with the density of ``z``
    shaded; the status gives the mean-field gradient factor ``E[phi'(z)**2]`` (lesson 05's
    ``chi`` per unit weight variance), the fraction of inputs in a flat part
    (``|phi'| < 0.06 max|phi'|``) and the fraction with ``phi' = 0`` exactly. Everything is
    tabulated once on a grid of ``z``, so moves are numpy only.
    """

    Z_PLOT = np.linspace(-6.0, 6.0, 601)
    Z_FINE = np.linspace(-60.0, 60.0, 48001)  # for expectations up to sigma = 10

    def __init__(self, *, activation: str = "sigmoid", sigma: float = 1.0,
                 title: str = "An activation, its derivative, and where its inputs fall"):
        _checks.one_of("activation", activation, activations.NAMES)
        _checks.real("sigma", sigma, low=0.1, high=10.0)
        self._register()
        self._tables = {}
        for name in activations.NAMES:  # a few ms each, once
            dphi = activations.derivative(name)
            self._tables[name] = {
                "phi": np.asarray(activations.get(name)(self.Z_PLOT)),
                "dphi": np.asarray(dphi(self.Z_PLOT)),
                "dphi_fine": np.asarray(dphi(self.Z_FINE), dtype=np.float64)}
        self.controls = {
            "activation": widgets.Dropdown(options=activations.NAMES, value=activation,
                                           description="activation"),
            "sigma": widgets.FloatLogSlider(value=sigma, base=10, min=-1, max=1, step=0.02,
                                            description="σ of z", readout_format=".3g"),
        }
        self.result = self.compute()
        v = self.values
        t = self._tables[v["activation"]]
        self.figure = FigureWidget(plots.activation_figure(
            self.Z_PLOT, t["phi"], t["dphi"], float(v["sigma"]), v["activation"], title=title))
        self._assemble(["activation", "sigma"], self.figure)

    def compute(self) -> dict:
        """Expectations over ``z ~ N(0, sigma**2)`` by the trapezoid rule on the fine grid."""
        v = self.values
        sigma, d = float(v["sigma"]), self._tables[v["activation"]]["dphi_fine"]
        z = self.Z_FINE
        p = np.exp(-0.5 * (z / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
        bound = activations.DERIVATIVE_BOUNDS[v["activation"]]
        return {"mean_sq_derivative": float(np.trapezoid(d**2 * p, z)),
                "flat_fraction": float(np.trapezoid((np.abs(d) < 0.06 * bound) * p, z)),
                "zero_fraction": float(np.trapezoid((d == 0) * p, z))}

    def _status_html(self) -> str:
        r, v = self.result, self.values
        return ("<span style='font-family:monospace'>"
                f"z ~ N(0, {float(v['sigma']):.3g}²): E[φ'(z)²] = {r['mean_sq_derivative']:.3g} · "
                f"in a flat part: {r['flat_fraction']:.1%} · φ' exactly 0: "
                f"{r['zero_fraction']:.1%}</span>")

    def update(self) -> None:
        """Redraw the curves for the current activation and sigma."""
        self.result = self.compute()
        v = self.values
        t = self._tables[v["activation"]]
        plots.apply_update(self.figure, *plots.activation_update(
            self.Z_PLOT, t["phi"], t["dphi"], float(v["sigma"]), v["activation"]))
        self.status.value = self._status_html()


class TransformerExplorer(_Explorer):
    """Per-block gradient norms of a pre-LN and a post-LN transformer, side by side.

    Both are :mod:`gradviz.models.attention` stacks (self-attention + MLP blocks, Xavier
    weights times ``weight_scale``) on the same weights and the same batch of
    standard-normal tokens (those of :func:`gradviz.probe_transformer` with the same seed,
    batch size and ``max_depth``), with an MSE readout. The figure shows ``||dL/dtheta_l||``, the
    norm of the gradient of all of block ``l``'s weights, for each placement. Depth,
    placement, norm (layer / RMS) and weight scale are traced arguments of
    :func:`gradviz.attention_probes.probe_transformer_stacked`: no move compiles anything.
    """

    SERIES = {"pre": "pre-LN ‖∂L/∂θ_l‖", "post": "post-LN ‖∂L/∂θ_l‖"}
    AXES = {"xlabel": "block l (0 = input side)", "xname": "block",
            "ylabel": "‖∂L/∂θ_l‖ (log scale)"}

    def __init__(self, *, depth: int = 16, norm: str = "layer", weight_scale: float = 1.0,
                 max_depth: int = 32, d_model: int = 64, heads: int = 4, seq_len: int = 16,
                 batch_size: int = 8, seed: int = 0,
                 title: str = "Transformer blocks: gradient norm per block, pre-LN vs post-LN"):
        self.max_depth = _checks.integer("max_depth", max_depth, low=2, high=256)
        _checks.integer("depth", depth, low=1, high=self.max_depth)
        _checks.real("weight_scale", weight_scale, low=0.25, high=4.0)
        batch_size = _checks.integer("batch_size", batch_size, low=1)
        seed = _checks.integer("seed", seed, low=0)
        cfg = attention.TransformerConfig(depth=depth, d_model=d_model, heads=heads,
                                          seq_len=seq_len, norm=norm, weight_scale=weight_scale)
        self.heads, self.width = heads, d_model
        self._params = attention.init_transformer(cfg, jax.random.PRNGKey(seed), self.max_depth)
        self._x, self._y = attention_probes.default_batch(cfg, seed, batch_size)
        self.controls = {
            "depth": widgets.IntSlider(value=depth, min=1, max=self.max_depth,
                                       description="blocks"),
            "norm": widgets.Dropdown(options=attention.NORMS, value=norm, description="norm"),
            "weight_scale": widgets.FloatLogSlider(value=weight_scale, base=10,
                                                   min=math.log10(0.25), max=math.log10(4.0),
                                                   step=0.01, description="weight scale",
                                                   readout_format=".3g"),
        }
        self._register()
        self.result = self.compute()
        self.figure = FigureWidget(plots.layer_norms_figure(self._series(), title=title,
                                                            **self.AXES))
        self._assemble(["depth", "norm", "weight_scale"], self.figure)

    def compute(self) -> dict:
        """Probe both placements; no compile after the first call."""
        v = self.values
        depth = int(v["depth"])
        out = {}
        for i, placement in enumerate(attention.PLACEMENTS):
            r = jax.device_get(attention_probes.probe_transformer_stacked(
                self._params, self._x, self._y, depth, i, attention.NORMS.index(v["norm"]),
                float(v["weight_scale"]), heads=self.heads))
            out[placement] = {k: np.asarray(a)[:depth] if np.ndim(a) else float(a)
                              for k, a in r.items()}
        return out

    def _series(self) -> dict:
        return {label: self.result[p]["block_grad_norms"] for p, label in self.SERIES.items()}

    def _status_html(self) -> str:
        pre, post = self.result["pre"], self.result["post"]
        last = {p: r["block_grad_norms"][-1] for p, r in self.result.items()}
        with np.errstate(all="ignore"):
            ratio = last["post"] / last["pre"]
            total = {p: float(np.sqrt(np.sum(r["block_grad_norms"] ** 2)))
                     for p, r in self.result.items()}
        return ("<span style='font-family:monospace'>last block: pre-LN "
                f"{_fmt(last['pre'])}, post-LN {_fmt(last['post'])} (post / pre = {_fmt(ratio)})"
                f" · all blocks: pre-LN {_fmt(total['pre'])}, post-LN {_fmt(total['post'])}"
                f"<br>pre-LN residual stream RMS: {_fmt(pre['stream_rms'][0])} at block 0, "
                f"{_fmt(pre['stream_rms'][-1])} at the last block (post-LN: "
                f"{_fmt(post['stream_rms'][-1])}) · loss pre {_fmt(pre['loss'])}, "
                f"post {_fmt(post['loss'])}</span>")

    def update(self) -> None:
        """Re-measure and write the new curves into the existing figure."""
        self.result = self.compute()
        plots.apply_update(self.figure, *plots.layer_norms_update(self._series(), **self.AXES))
        self.status.value = self._status_html()


class ProgressBar:
    """A training callback that shows an ipywidgets progress bar once a run is slow.

    Nothing is displayed for runs that finish within ``after_s`` seconds (default 2): a
    short run stays quiet, a long one says how far it is. Use as
    ``gv.train_mlp(cfg, ..., callback=gv.widgets.ProgressBar("training"))``.
    """

    def __init__(self, description: str = "training", *, after_s: float = 2.0):
        self.description = description
        self.after_s = _checks.real("after_s", after_s, low=0.0)
        self.bar = None
        self._start = None

    def __call__(self, step: int, steps: int, loss: float) -> None:
        import time

        from IPython.display import display

        now = time.perf_counter()
        if self._start is None:
            self._start = now
        elapsed = now - self._start
        projected = elapsed / (step + 1) * steps
        if self.bar is None and elapsed > 0.25 and projected > self.after_s:
            self.bar = widgets.IntProgress(min=0, max=steps, description=self.description,
                                           bar_style="info").add_class("gv-progress")
            display(self.bar)
        if self.bar is not None:
            self.bar.value = step + 1
            if not math.isfinite(loss):
                self.bar.bar_style = "danger"
                self.bar.description = f"diverged at {step}"
            elif step + 1 == steps:
                self.bar.bar_style = "success"


def _init_names() -> tuple:
    return init.NAMES


def _mlp_controls(max_depth, depth, activation, init_name, weight_scale, clip,
                  clip_threshold) -> dict:
    """The controls every MLP explorer shares, validated: depth, activation, init, weight
    scale (log, 0.1 to 4) and clipping by global norm (log threshold, 0.01 to 100)."""
    _checks.integer("depth", depth, low=1, high=max_depth)
    _checks.one_of("activation", activation, activations.NAMES)
    _checks.one_of("init", init_name, _init_names())
    _checks.real("weight_scale", weight_scale, low=0.1, high=4.0)
    _checks.real("clip_threshold", clip_threshold, low=0.01, high=100.0)
    return {
        "depth": widgets.IntSlider(value=depth, min=1, max=max_depth, description="depth"),
        "activation": widgets.Dropdown(options=activations.NAMES, value=activation,
                                       description="activation"),
        "init": widgets.Dropdown(options=_init_names(), value=init_name, description="init"),
        "weight_scale": widgets.FloatLogSlider(value=weight_scale, base=10, min=-1,
                                               max=math.log10(4.0), step=0.01,
                                               description="weight scale", readout_format=".3g"),
        "clip": widgets.Checkbox(value=clip, description="clip by global norm", indent=False),
        "clip_threshold": widgets.FloatLogSlider(value=clip_threshold, base=10, min=-2, max=2,
                                                 step=0.05, description="clip threshold",
                                                 readout_format=".3g"),
    }


def live_explorers() -> list:
    """Every explorer object alive in this process, oldest first."""
    return sorted(_LIVE, key=lambda e: e.created)


def sweep_values(control) -> list:
    """Values that take ``control`` across its whole range (ends included).

    Sliders: their minimum, maximum and points in between (log-spaced for log sliders);
    menus and toggles: every option; checkboxes: both states.
    """
    if isinstance(control, widgets.FloatLogSlider):
        exps = np.linspace(control.min, control.max, 7)
        return [float(control.base ** e) for e in exps]
    if isinstance(control, widgets.IntSlider):
        return sorted({control.min, control.max, *np.linspace(control.min, control.max, 7)
                       .round().astype(int).tolist()})
    if isinstance(control, widgets.FloatSlider):
        return np.linspace(control.min, control.max, 7).tolist()
    if isinstance(control, widgets.Checkbox | widgets.ToggleButton):
        return [not control.value, control.value]
    if hasattr(control, "options"):
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    raise ValueError(f"control={control!r} has no known range to sweep")
