"""Vanishing-gradient cures compared over seeds, and where a network's starting loss comes from.

Lesson 07 measures each cure's gradient profile at initialisation. One draw of the weights
can be lucky, so every number here is a median over seeds with its 10th-90th percentile
range (:func:`gradviz.seeds.spread`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gradviz import seeds as _seeds
from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp
from gradviz.models.rnn import RNNConfig
from gradviz.rnn_probes import probe_rnn


def _row(d: np.ndarray, extra: dict) -> dict:
    """Summary of ``d: (n_seeds, L)`` gradient norms, layer (or step) 0 first."""
    with np.errstate(all="ignore"):
        ratio = d[:, 0] / d[:, -1]
        span = d.max(axis=1) / d.min(axis=1)
    s = _seeds.spread(ratio)
    return {"first / last": s.median, "10th pct": s.low, "90th pct": s.high,
            "per-layer factor": s.median ** (1 / (d.shape[1] - 1)),
            "span": float(np.median(span)), **extra}


def profile_table(nets: dict, rnns: dict | None = None, *, seeds=range(10),
                  batch_size: int = 128, rnn_batch: int = 32) -> dict:
    """Gradient profiles at initialisation, each the median over ``seeds``.

    For every network, ``r = ||dL/dh_0|| / ||dL/dh_{L-1}||`` (through time for the
    recurrent ones, ``||dL/dh_0|| / ||dL/dh_{T-1}||``) is measured once per seed; a row gives
    its median and 10th/90th percentiles, the *per-layer factor* ``median(r) ** (1/(L-1))``
    (the geometric mean of the ratios between neighbours, since the product of those ratios
    telescopes to ``r``), the median *span* ``max_l ||dL/dh_l|| / min_l ||dL/dh_l||`` and,
    for MLPs, the median standard deviation of the last layer's output.

    Args:
        nets: ``{label: MLPConfig}``, measured by :func:`gradviz.seeds.probe_seeds` with each
            seed's default batch of ``batch_size`` (as ``probe_mlp(cfg, seed=s)``).
        rnns: ``{label: RNNConfig}``, measured by :func:`gradviz.probe_rnn` per seed.

    Returns:
        ``{label: {column: value}}`` for :func:`gradviz.tables.format_table`.
    """
    rows = {}
    for label, cfg in nets.items():
        if not isinstance(cfg, MLPConfig):
            raise ValueError(f"nets[{label!r}]={cfg!r} must be an MLPConfig")
        r = _seeds.probe_seeds(cfg, seeds=seeds, batch_size=batch_size)
        rows[label] = _row(r.activation_grad_norms,
                           {"std of last output": float(np.median(r.activation_stds[:, -1]))})
    for label, cfg in (rnns or {}).items():
        if not isinstance(cfg, RNNConfig):
            raise ValueError(f"rnns[{label!r}]={cfg!r} must be an RNNConfig")
        d = np.stack([probe_rnn(cfg, seed=int(s), batch_size=rnn_batch).hidden_grad_norms
                      for s in seeds])  # (n_seeds, seq_len)
        rows[label] = _row(d, {})
    return rows


def output_offset(cfg: MLPConfig, x, y, *, seeds=range(20)) -> dict:
    """Split each seed's starting loss into a constant offset and the rest.

    With ``f = apply_mlp(init_mlp(cfg, PRNGKey(s)), x)``, the mean squared error splits
    exactly (per output ``k``, averaged over the outputs):

    .. math::
        \\frac{1}{n}\\sum_i (f_{ik} - y_{ik})^2 = (\\bar f_k - \\bar y_k)^2
        + \\frac{1}{n}\\sum_i \\big((f_{ik} - \\bar f_k) - (y_{ik} - \\bar y_k)\\big)^2

    The first term is what the network gets wrong *by the same amount for every input*:
    a constant that one step on the readout's bias removes.

    Returns:
        ``{"loss", "offset_part", "offset"}``, each ``(n_seeds,)``: the loss, the first
        term, and (for one output) the signed offset ``mean(f) - mean(y)``.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    x, y = jnp.asarray(x), jnp.asarray(y)
    forward = jax.jit(apply_mlp, static_argnums=2)
    loss, part, offset = [], [], []
    for s in _seeds._check_seeds(seeds):
        f = forward(init_mlp(cfg, jax.random.PRNGKey(int(s))), x, cfg)  # (n, out_dim)
        gap = f.mean(axis=0) - y.mean(axis=0)  # (out_dim,)
        loss.append(float(jnp.mean((f - y) ** 2)))
        part.append(float(jnp.mean(gap**2)))
        offset.append(float(gap.mean()))
    return {"loss": np.array(loss), "offset_part": np.array(part), "offset": np.array(offset)}
