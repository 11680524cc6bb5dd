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
import numpy as np
from jax import lax

from gradviz import _checks, activations
from gradviz.models.mlp import NORMS, MLPConfig, init_stack, normalize
from gradviz.probes import _check_batch, default_batch, probe_stacked

__all__ = ["SchemeRow", "initial_loss_split", "scheme_table"]


def _seeds(seeds) -> np.ndarray:
    seeds = np.asarray([_checks.integer("seed", s, low=0, high=2**31 - 1) for s in seeds],
                       np.int32)
    if seeds.size == 0:
        raise ValueError("seeds is empty; give at least 10, e.g. range(10)")
    return seeds


def _probe_seed(cfg: MLPConfig, seed: int, batch_size: int) -> dict:
    """:func:`gradviz.probe_mlp`'s own call for ``seed`` (biases 0): its compiled draw
    (:func:`~gradviz.models.mlp.init_stack`, one compile per shape, whatever the scheme,
    since the scheme is data) and its compiled :func:`~gradviz.probes.probe_stacked`
    (``health=True``), so every scheme, seed and activation of one shape shares two
    compiles with ``probe_mlp`` and ``activation_stats`` instead of adding its own."""
    cfg = dataclasses.replace(cfg, bias_scale=0.0)
    x, y = default_batch(int(seed), batch_size, cfg.in_dim, cfg.out_dim)  # (batch, in/out_dim)
    return jax.device_get(probe_stacked(
        init_stack(cfg, jax.random.PRNGKey(int(seed))), x, y, cfg.depth,
        activations.NAMES.index(cfg.activation), clip_norm=-1.0, residual=cfg.residual,
        norm_index=NORMS.index(cfg.norm), health=True))


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
    activation_var: np.ndarray = None      # (depth,) median Var(x_l), x_l = phi(h_l)
    activation_grad_sq: np.ndarray = None  # (depth,) median ||dL/dh_l||^2
    weight_grad_sq: np.ndarray = None      # (depth,) median ||dL/dW_l||^2


def scheme_table(configs: dict, seeds=range(10), batch_size: int = 256) -> dict:
    """``{label: SchemeRow}`` for ``{label: MLPConfig}``, each measured on every seed.

    Seed ``s`` is :func:`gradviz.probe_mlp`'s ``seed=s``: weights from ``PRNGKey(s)`` and
    its standard-normal batch (biases 0), measured by the very call ``probe_mlp`` makes
    (:func:`_probe_seed`): networks of one shape share its two compiles.
    Non-finite values (an overflowing network) stay inf/nan in the medians.
    """
    if not configs or not all(isinstance(c, MLPConfig) for c in configs.values()):
        raise ValueError(f"configs={configs!r} must be a non-empty dict of MLPConfig")
    seeds = _seeds(seeds)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    out = {}
    for label, cfg in configs.items():
        runs = [_probe_seed(cfg, s, batch_size) for s in seeds]  # one compiled call per seed
        d = cfg.depth
        q, dh, dw, xv = (np.stack([np.asarray(r[k][:d], float) for r in runs]) for k in (
            "preactivation_vars", "activation_grad_norms", "weight_grad_norms",
            "activation_vars"))  # each (n_seeds, depth)
        with np.errstate(all="ignore"):
            factor = (q[:, -1] / q[:, 0]) ** (1 / max(d - 1, 1))
            ratio = dh[:, 0] / dh[:, -1]
            low, high = np.percentile(ratio, [10, 90]) if np.all(np.isfinite(ratio)) else (
                np.nan, np.nan)
            out[label] = SchemeRow(cfg.sigma_w, float(np.median(q[:, 0])),
                                   float(np.median(q[:, -1])), float(np.median(factor)),
                                   float(np.median(ratio)), float(low), float(high),
                                   np.median(q, axis=0), np.median(xv, axis=0),
                                   np.median(dh ** 2, axis=0), np.median(dw ** 2, axis=0))
    return out


@functools.partial(jax.jit, static_argnames=("cfg",))
def _outputs(stack, x, cfg):
    """:func:`~gradviz.models.mlp.apply_mlp` on the padded stack: layer 0, the first
    ``depth - 1`` hidden layers as one ``lax.scan`` (one compiled layer, not ``depth``),
    the readout. ``(n, in_dim) -> (n, out_dim)``."""
    phi = activations.get(cfg.activation)

    def layer(h, wb):
        z = phi(normalize(cfg.norm, h @ wb[0] + wb[1]))  # (n, width)
        return (h + z if cfg.residual else z), None

    h = phi(normalize(cfg.norm, x @ stack["first"]["w"] + stack["first"]["b"]))  # (n, width)
    used = max(cfg.depth - 1, 0)
    h, _ = lax.scan(layer, h, (stack["hidden"]["w"][:used], stack["hidden"]["b"][:used]))
    return h @ stack["readout"]["w"] + stack["readout"]["b"]  # (n, out_dim)


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
    zero_b = dataclasses.replace(cfg, bias_scale=0.0)
    # the draw compiled once per shape (shared with the explorer, train_variants, probe_mlp)
    o = np.stack([np.asarray(_outputs(init_stack(zero_b, jax.random.PRNGKey(int(s))), x, cfg),
                             np.float64) for s in seeds])  # (n_seeds, n, k)
    e = o - np.asarray(y, np.float64)[None]
    offset = np.mean(np.mean(e, axis=1) ** 2, axis=1)
    rest = np.mean(np.var(e, axis=1), axis=1)
    return {"loss": offset + rest, "offset": offset, "rest": rest,
            "output_std": np.mean(np.std(o, axis=1), axis=1)}
