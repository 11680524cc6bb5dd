"""Seed spread: one measurement over many random draws, in one compiled call, and its summary.

A claim that rests on one draw of the weights can be that draw's luck (lesson 03's
"about 4% more per layer" at width 64 is one seed; over 200 seeds the ratio's 10th-90th
percentile range is 0.38-1.53). :func:`probe_seeds` repeats :func:`gradviz.probe_mlp`'s own
compiled call (:func:`~gradviz.probes.probe_stacked`) seed by seed, so it compiles nothing
that ``probe_mlp`` or ``activation_stats`` on the same shapes have not (a ``lax.map`` over
the seeds was a second program of the same size: ~9 s cold on a loaded 2-core CPU, for a
run of milliseconds per seed); :func:`train_seeds` repeats :func:`gradviz.train_mlp` (SGD)
for every seed in one jitted ``lax.map`` over :func:`~gradviz.train.train_stacked`, and
:func:`gradviz.train.train_many` vmaps many runs of ``train_mlp``'s own step.
:func:`spread` says what the draws agree on: ``median (10th-90th percentile low-high)``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gradviz import _checks, activations, init
from gradviz.models.mlp import NORMS, MLPConfig, depth_bucket, init_mlp_stacked
from gradviz.probes import _check_batch, default_batch, probe_stacked
from gradviz.train import CLIPS, check_training_args, train_stacked


def _fmt(x: float, digits: int) -> str:
    """``x`` to at most ``digits`` significant digits, trailing zeros dropped: positional
    from 1e-3 to 1e4 (``0.76``, ``1.5``, ``1400``), else ``4.1e-7``, ``7e4``."""
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return np.format_float_positional(x, precision=digits, unique=True, fractional=False,
                                          trim="-")
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    if "." in mantissa:  # trailing zeros dropped, as in the positional form
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


@dataclasses.dataclass(frozen=True)
class Spread:
    """Median and 10th/90th percentiles of ``n`` draws (``nonfinite`` of them inf or nan,
    which are left out of the percentiles); ``str`` gives ``digits`` significant digits."""

    median: float
    low: float        # 10th percentile
    high: float       # 90th percentile
    n: int
    nonfinite: int = 0
    digits: int = 2

    def __str__(self) -> str:
        f = functools.partial(_fmt, digits=self.digits)
        low, high = f(self.low), f(self.high)
        # a hyphen would read as a minus sign after a negative number or an exponent
        dash = " to " if self.low < 0 or "e" in low + high else "-"
        text = f"{f(self.median)} (10th-90th percentile {low}{dash}{high}"
        if self.nonfinite:
            text += f"; {self.nonfinite} of {self.n} draws inf or nan, left out"
        return text + ")"


def spread(values, *, digits: int = 2) -> Spread:
    """Summarise one number per seed: median and 10th-90th percentile (linear interpolation).

    ``str(spread([...]))`` reads ``"0.76 (10th-90th percentile 0.41-1.5)"``.

    Args:
        values: ``(n,)`` real numbers, one per draw; inf and nan are counted, not ranked.
        digits: significant digits shown by ``str`` (2 or 3 is plenty for a spread).
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"values has shape {v.shape}; need a non-empty 1-D array (one per seed)")
    digits = _checks.integer("digits", digits, low=1, high=6)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return Spread(math.nan, math.nan, math.nan, v.size, v.size, digits)
    low, median, high = np.percentile(finite, [10, 50, 90])
    return Spread(float(median), float(low), float(high), v.size, v.size - finite.size, digits)


def _check_seeds(seeds) -> np.ndarray:
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"seeds={seeds!r} must be an iterable of ints, e.g. range(20)") from None
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed, e.g. range(20)")
    for s in seeds:
        _checks.integer("seed", s, low=0, high=2**31 - 1)
    return np.asarray(seeds, dtype=np.int32)


def _draw(cfg_static, seed, init_index, std, weight_scale, bias_scale):
    """``init_stack(cfg, PRNGKey(seed))`` with the scales traced: :func:`init_mlp`'s draw."""
    in_dim, width, out_dim, max_depth = cfg_static
    st = init_mlp_stacked(jax.random.PRNGKey(seed), init_index, std, in_dim=in_dim, width=width,
                          out_dim=out_dim, max_depth=max_depth)
    return {part: {"w": weight_scale * p["w"], "b": bias_scale * p["b"]}
            for part, p in st.items()}


def _batch(seed, batch_size, in_dim, out_dim):
    """:func:`gradviz.probes.default_batch` for a traced seed."""
    kx, ky = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(seed), 1))
    return (jax.random.normal(kx, (batch_size, in_dim)),
            jax.random.normal(ky, (batch_size, out_dim)))


@dataclasses.dataclass(frozen=True)
class SeedProbeResult:
    """:func:`gradviz.probe_mlp` for every seed: row ``i`` is ``probe_mlp(cfg, seed=seeds[i])``."""

    seeds: np.ndarray                  # (n_seeds,)
    weight_grad_norms: np.ndarray      # (n_seeds, depth) ||dL/dW_l||
    activation_grad_norms: np.ndarray  # (n_seeds, depth) ||dL/dh_l||
    activation_stds: np.ndarray        # (n_seeds, depth) std of each layer's output
    saturated_fraction: np.ndarray     # (n_seeds, depth), as gradviz.probes.activation_stats
    dead_fraction: np.ndarray          # (n_seeds, depth)
    loss: np.ndarray                   # (n_seeds,)
    global_norm: np.ndarray            # (n_seeds,)
    clipped_weight_grad_norms: np.ndarray  # (n_seeds, depth)

    @property
    def ratio(self) -> np.ndarray:
        """``||dL/dh_0|| / ||dL/dh_{L-1}||`` per seed, ``(n_seeds,)`` (inf/nan where undefined)."""
        with np.errstate(all="ignore"):
            return self.activation_grad_norms[:, 0] / self.activation_grad_norms[:, -1]


def _knobs(cfg: MLPConfig) -> dict:
    """Every traced setting of ``cfg``, typed so that no value changes the compiled program."""
    return {"depth": int(cfg.depth), "act": activations.NAMES.index(cfg.activation),
            "init": init.NAMES.index(cfg.init), "std": float(cfg.init_std),
            "w": float(cfg.weight_scale), "b": float(cfg.bias_scale),
            "residual": bool(cfg.residual), "norm": NORMS.index(cfg.norm)}


def probe_seeds(cfg: MLPConfig, seeds=range(20), batch_size: int = 256, *, x=None, y=None,
                clip_norm: float | None = None, max_depth: int | None = None) -> SeedProbeResult:
    """:func:`gradviz.probe_mlp` over many seeds, on ``probe_mlp``'s compiled program.

    Each seed draws its weights and (unless ``x``, ``y`` are given, which every seed then
    shares) its batch exactly as ``probe_mlp(cfg, seed=s, batch_size=batch_size)`` does.
    Every field of ``cfg`` but the shapes is traced, so another seed list (of any length),
    activation, depth in the same bucket, scale, norm or skip setting compiles nothing new,
    and the program is the one ``probe_mlp`` and ``activation_stats`` run.

    Args:
        cfg: the network; seeds: ints in ``[0, 2**31)``, at least 10 for a spread.
        batch_size: rows of each seed's default batch (ignored when ``x`` is given).
        x: ``(batch, in_dim)``, y: ``(batch, out_dim)``: one batch for every seed.
        clip_norm: as in :func:`gradviz.probe_mlp`.
        max_depth: run on the compiled program of this depth's bucket
            (:func:`~gradviz.models.mlp.depth_bucket`) when it is deeper than ``cfg``'s, so
            that a lesson probing depths 10 and 50 compiles once; the results do not change
            (each layer's draw does not depend on the bucket, and the loops stop at
            ``cfg.depth``).

    Returns:
        :class:`SeedProbeResult`; summarise any column with :func:`spread`, e.g.
        ``spread(r.ratio)``.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    seeds = _check_seeds(seeds)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    if clip_norm is not None:
        clip_norm = _checks.real("clip_norm", clip_norm, low=0.0, inclusive=False)
    if (x is None) != (y is None):
        raise ValueError("x and y must be given together (or both left as None)")
    if x is not None:
        x, y = _check_batch(cfg, x, y)
    deep = cfg if max_depth is None else dataclasses.replace(
        cfg, depth=max(cfg.depth, _checks.integer("max_depth", max_depth, low=1)))
    rows = []
    for s in seeds:  # probe_mlp's own call, seed by seed: the compiled program it shares
        key = jax.random.PRNGKey(int(s))
        xs, ys = (x, y) if x is not None else default_batch(int(s), batch_size, cfg.in_dim,
                                                            cfg.out_dim)
        st = init_mlp_stacked(key, init.NAMES.index(cfg.init), cfg.init_std,
                              in_dim=cfg.in_dim, width=cfg.width, out_dim=cfg.out_dim,
                              max_depth=depth_bucket(deep.depth))
        # init_stack's scaling, with float factors: an int weight_scale would compile anew
        stack = {part: {"w": float(cfg.weight_scale) * p["w"], "b": float(cfg.bias_scale) * p["b"]}
                 for part, p in st.items()}
        rows.append(probe_stacked(
            stack, xs, ys, cfg.depth, activations.NAMES.index(cfg.activation),
            clip_norm=-1.0 if clip_norm is None else clip_norm, residual=cfg.residual,
            norm_index=NORMS.index(cfg.norm), health=True))
    out = jax.device_get(jax.tree.map(lambda *a: jnp.stack(a), *rows))
    d = cfg.depth
    return SeedProbeResult(
        seeds=seeds,
        **{k: np.asarray(out[k][:, :d]) for k in (
            "weight_grad_norms", "activation_grad_norms", "activation_stds",
            "saturated_fraction", "dead_fraction", "clipped_weight_grad_norms")},
        loss=np.asarray(out["loss"]), global_norm=np.asarray(out["global_norm"]))


@functools.partial(jax.jit, static_argnames=("cfg_static", "batch_size", "steps"))
def _train_seeds(seeds, x, y, knobs, *, cfg_static, batch_size, steps):
    in_dim, _, out_dim, _ = cfg_static

    def one(seed):
        stack = _draw(cfg_static, seed, knobs["init"], knobs["std"], 1.0, 0.0)
        xs, ys = _batch(seed, batch_size, in_dim, out_dim) if x is None else (x, y)
        out = train_stacked(stack, xs, ys, knobs["depth"], knobs["act"], knobs["w"],
                            knobs["lr"], knobs["clip"], knobs["residual"], knobs["norm"],
                            knobs["clip_index"], steps=steps)
        return {k: v for k, v in out.items() if k != "params"}  # records only, no weights

    return lax.map(one, seeds)  # each seed stops at its own divergence


@dataclasses.dataclass(frozen=True)
class SeedTrainResult:
    """SGD runs of :func:`gradviz.train_mlp`, one per seed; rows stop at divergence, so
    entries after a seed's divergent step are nan."""

    seeds: np.ndarray          # (n_seeds,)
    loss: np.ndarray           # (n_seeds, steps) loss before each update
    grad_norms: np.ndarray     # (n_seeds, steps, depth) ||dL/dW_l|| before clipping
    update_ratios: np.ndarray  # (n_seeds, steps, depth) ||Delta W_l|| / ||W_l||
    diverged_at: list          # per seed: first step with a non-finite loss, or None
    steps_done: np.ndarray     # (n_seeds,) steps recorded (the divergent one included)

    @property
    def final_loss(self) -> np.ndarray:
        """Each seed's last recorded loss, ``(n_seeds,)`` (inf or nan for a diverged run)."""
        return self.loss[np.arange(len(self.seeds)), self.steps_done - 1]


def train_seeds(cfg: MLPConfig, seeds=range(10), learning_rate: float = 0.01, steps: int = 200,
                *, clip_norm: float | None = None, clip: str = "global_norm", x=None, y=None,
                batch_size: int = 256) -> SeedTrainResult:
    """``train_mlp(cfg, "sgd", learning_rate, clip_norm, steps, seed=s)`` for every seed, as
    one compiled call mapping :func:`gradviz.train.train_stacked` over the seeds.

    Row ``i`` matches :func:`gradviz.train_mlp` with ``optimizer="sgd"`` and
    ``seed=seeds[i]`` (weights and, unless ``x``/``y`` are given, the batch drawn from the
    seed). ``cfg.bias_scale`` must be 0 (train_stacked starts biases at 0). A run that
    diverges stops there; the others go on.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    if cfg.bias_scale != 0:
        raise ValueError(f"cfg.bias_scale={cfg.bias_scale!r}: train_seeds needs 0 (biases "
                         "start at 0 in train_stacked)")
    seeds = _check_seeds(seeds)
    learning_rate, clip_norm, steps, _, batch_size = check_training_args(
        "sgd", learning_rate, clip_norm, steps, 0, batch_size)
    _checks.one_of("clip", clip, CLIPS)
    if (x is None) != (y is None):
        raise ValueError("x and y must be given together (or both left as None)")
    if x is not None:
        x, y = _check_batch(cfg, x, y)
    knobs = {**_knobs(cfg), "lr": learning_rate, "clip_index": CLIPS.index(clip),
             "clip": -1.0 if clip_norm is None else clip_norm}
    cfg_static = (cfg.in_dim, cfg.width, cfg.out_dim, depth_bucket(cfg.depth))
    out = jax.device_get(_train_seeds(jnp.asarray(seeds), x, y, knobs, cfg_static=cfg_static,
                                      batch_size=batch_size, steps=steps))
    done = np.asarray(out["done"])  # (n_seeds,)
    kept = np.arange(steps)[None, :] < done[:, None]  # (n_seeds, steps)
    loss = np.where(kept, out["loss"], np.nan)  # the divergent step keeps its inf/nan
    d = cfg.depth
    grad_norms = np.where(kept[..., None], out["grad_norms"][..., :d], np.nan)
    ratios = np.where(kept[..., None], out["update_ratios"][..., :d], np.nan)
    diverged = [None if np.isfinite(loss[i, n - 1]) else int(n - 1) for i, n in enumerate(done)]
    return SeedTrainResult(seeds, loss, grad_norms, ratios, diverged, done.astype(int))
