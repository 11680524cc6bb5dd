"""Initialisation schemes compared by measurement, over many draws (lesson 10).

:func:`scheme_table` measures, for each network, the forward signal's per-layer factor
``(Var(h_{L-1}) / Var(h_0))^{1/(L-1)}`` and the gradient ratio
``||dL/dh_0|| / ||dL/dh_{L-1}||`` on every seed (one vmapped call per network) and reports
medians. :func:`initial_loss_split` is Karpathy's sanity check of the loss at step 0: it
splits the initial mean squared error exactly into the output's offset and the rest,

.. math:: L_0 = \\frac1k \\sum_j \\Big[\\underbrace{(\\bar o_j - \\bar y_j)^2}_{\\text{offset}}
    + \\underbrace{\\mathrm{Var}_i(o_{ij} - y_{ij})}_{\\text{rest}}\\Big],

(``o = f(x)`` the outputs, means and variances over the ``n`` examples ``i``, ``k``
outputs ``j``): the identity ``mean(a^2) = mean(a)^2 + var(a)``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gradviz import _checks, activations, init
from gradviz.models.mlp import NORMS, MLPConfig, depth_bucket, init_mlp_stacked, unstack_params
from gradviz.probes import _check_batch, default_batch, probe_stacked

__all__ = ["SchemeRow", "initial_loss_split", "scheme_table"]


def _seeds(seeds) -> np.ndarray:
    seeds = np.asarray([_checks.integer("seed", s, low=0, high=2**31 - 1) for s in seeds],
                       np.int32)
    if seeds.size == 0:
        raise ValueError("seeds is empty; give at least 10, e.g. range(10)")
    return seeds


def _stack(cfg_static, seed, knobs):
    in_dim, width, out_dim, max_depth = cfg_static
    st = init_mlp_stacked(jax.random.PRNGKey(seed), knobs["init"], knobs["std"], in_dim=in_dim,
                          width=width, out_dim=out_dim, max_depth=max_depth)
    return {part: {"w": knobs["w"] * p["w"], "b": 0.0 * p["b"]} for part, p in st.items()}


@functools.partial(jax.jit, static_argnames=("cfg_static", "batch_size"))
def _probe(seeds, knobs, *, cfg_static, batch_size):
    in_dim, _, out_dim, _ = cfg_static

    def one(seed):
        x, y = default_batch(seed, batch_size, in_dim, out_dim)
        r = probe_stacked(_stack(cfg_static, seed, knobs), x, y, knobs["depth"], knobs["act"],
                          residual=knobs["residual"], health=True, norm_index=knobs["norm"])
        return {"pre_var": r["preactivation_vars"], "dh": r["activation_grad_norms"]}

    return jax.vmap(one)(seeds)


def _knobs(cfg: MLPConfig) -> dict:
    return {"depth": int(cfg.depth), "act": activations.NAMES.index(cfg.activation),
            "init": init.NAMES.index(cfg.init), "std": float(cfg.init_std),
            "w": float(cfg.weight_scale), "residual": bool(cfg.residual),
            "norm": NORMS.index(cfg.norm)}


@dataclasses.dataclass(frozen=True)
class SchemeRow:
    """One network's medians over the seeds (each seed: its own weights and batch)."""

    sigma_w: float          # cfg.sigma_w, the hidden layers' sqrt(n Var(W))
    var_first: float        # median Var(h_0)
    var_last: float         # median Var(h_{L-1})
    signal_factor: float    # median (Var(h_{L-1}) / Var(h_0))^(1/(L-1))
    gradient_ratio: float   # median ||dL/dh_0|| / ||dL/dh_{L-1}||
    ratio_low: float        # its 10th percentile
    ratio_high: float       # its 90th percentile
    signal: np.ndarray      # (depth,) median Var(h_l) per layer


def scheme_table(configs: dict, seeds=range(10), batch_size: int = 256) -> dict:
    """``{label: SchemeRow}`` for ``{label: MLPConfig}``, each measured on every seed.

    Seed ``s`` is :func:`gradviz.probe_mlp`'s ``seed=s``: weights from ``PRNGKey(s)`` and
    its standard-normal batch (biases 0). Networks of one shape share one compiled call.
    Non-finite values (an overflowing network) stay inf/nan in the medians.
    """
    if not configs or not all(isinstance(c, MLPConfig) for c in configs.values()):
        raise ValueError(f"configs={configs!r} must be a non-empty dict of MLPConfig")
    seeds = _seeds(seeds)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    out = {}
    for label, cfg in configs.items():
        cfg_static = (cfg.in_dim, cfg.width, cfg.out_dim, depth_bucket(cfg.depth))
        r = jax.device_get(_probe(jnp.asarray(seeds), _knobs(cfg), cfg_static=cfg_static,
                                  batch_size=batch_size))
        d = cfg.depth
        q, dh = np.asarray(r["pre_var"][:, :d], float), np.asarray(r["dh"][:, :d], float)
        with np.errstate(all="ignore"):
            factor = (q[:, -1] / q[:, 0]) ** (1 / max(d - 1, 1))
            ratio = dh[:, 0] / dh[:, -1]
            low, high = np.percentile(ratio, [10, 90]) if np.all(np.isfinite(ratio)) else (
                np.nan, np.nan)
        out[label] = SchemeRow(cfg.sigma_w, float(np.median(q[:, 0])), float(np.median(q[:, -1])),
                               float(np.median(factor)), float(np.median(ratio)), float(low),
                               float(high), np.median(q, axis=0))
    return out


@functools.partial(jax.jit, static_argnames=("cfg",))
def _outputs(seeds, x, cfg):
    from gradviz.models.mlp import apply_mlp

    def one(seed):
        st = _stack((cfg.in_dim, cfg.width, cfg.out_dim, depth_bucket(cfg.depth)), seed,
                    {**_knobs(cfg), "w": cfg.weight_scale})
        return apply_mlp(unstack_params(st, cfg.depth), x, cfg)  # (n, out_dim)

    return jax.vmap(one)(seeds)


def initial_loss_split(cfg: MLPConfig, x, y, seeds=range(20)) -> dict:
    """The loss at step 0 of ``cfg`` on ``(x, y)`` for every seed, split as in the module
    docstring. Seed ``s`` draws the weights of :func:`gradviz.init_mlp` with
    ``PRNGKey(s)`` (biases 0, as in :func:`gradviz.train.train_variants`).

    Returns:
        ``{"loss", "offset", "rest"}``, each ``(n_seeds,)``, with ``loss = offset + rest``;
        and ``"output_std"``, the spread of the outputs across examples (averaged over
        outputs), which is small when the network maps every input to about one vector.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    seeds = _seeds(seeds)
    x, y = _check_batch(cfg, x, y)
    o = np.asarray(_outputs(jnp.asarray(seeds), x, cfg), np.float64)  # (n_seeds, n, k)
    e = o - np.asarray(y, np.float64)[None]
    offset = np.mean(np.mean(e, axis=1) ** 2, axis=1)
    rest = np.mean(np.var(e, axis=1), axis=1)
    return {"loss": offset + rest, "offset": offset, "rest": rest,
            "output_std": np.mean(np.std(o, axis=1), axis=1)}
