"""A multilayer perceptron: ``depth`` layers of Dense (+ norm) + activation, then a linear readout.

.. math::
    h_l = x_{l-1} W_l + b_l, \\qquad
    x_l = \\phi(N(h_l)) \\; (+\\, x_{l-1} \\text{ if residual}, l \\ge 1),
    \\qquad \\hat y = x_{L-1} W_{\\mathrm{out}} + b_{\\mathrm{out}}

where ``N`` is the identity or a normalisation layer (:func:`normalize`) placed before the
activation, as in Ioffe & Szegedy 2015.

with ``x_{-1} = x``, ``l = 0`` the input side, ``W_l ~ init(fan_in, fan_out) * weight_scale``
and ``b_l ~ N(0, bias_scale**2)``. The readout is drawn the same way and is not counted in
``depth``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp

from gradviz import _checks, activations, init
from gradviz._cache import fast_on_host

NORMS = (None, "batch", "layer", "rms")
EPS = 1e-5  # added to the variance in every normalisation layer


def normalize(kind: str | None, h):
    """The normalisation layer ``N(h)`` for ``h: (..., batch, width)``; no learned gain or shift.

    .. math::
        \\text{batch: } \\frac{h - \\mathbb{E}_B[h]}{\\sqrt{\\mathrm{Var}_B[h] + \\epsilon}}
        \\qquad \\text{layer: the same over the units} \\qquad
        \\text{rms: } \\frac{h}{\\sqrt{\\mathbb{E}_{units}[h^2] + \\epsilon}}

    Batch norm uses the statistics of the batch it is given (training mode); layer norm
    (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019) normalise each example on its own.
    The learned gain and shift these layers usually carry start at 1 and 0, so at
    initialisation, where the lessons measure gradients, leaving them out changes nothing.
    The variance is the two-pass ``mean((h - mean(h))**2)``: the one-pass
    ``mean(h**2) - mean(h)**2`` cancels catastrophically, to nan, when ``|mean| >> std``.
    """
    if kind is None:
        return h
    if kind == "batch":
        return jax.nn.standardize(h, axis=-2, epsilon=EPS, algorithm="stable")
    if kind == "layer":
        return jax.nn.standardize(h, axis=-1, epsilon=EPS, algorithm="stable")
    if kind == "rms":  # variance about 0 rather than about the mean
        return jax.nn.standardize(h, axis=-1, mean=0.0, epsilon=EPS)
    raise ValueError(f"norm={kind!r} is not one of {NORMS}")


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    """Frozen, hashable description of an MLP; validated on construction."""

    depth: int = 10               # number of Dense + activation layers (readout not counted)
    width: int = 64               # units per hidden layer
    activation: str = "tanh"      # a name in gradviz.activations.NAMES
    init: str = "lecun"           # a name in gradviz.init.NAMES
    weight_scale: float = 1.0     # s in W = s * W0; with lecun, sigma_w = s
    bias_scale: float = 0.0       # biases ~ N(0, bias_scale**2); sigma_b = bias_scale
    residual: bool = False        # x_l = x_{l-1} + phi(h_l) for the square layers l >= 1
    norm: str | None = None       # None, "batch", "layer" or "rms": see normalize
    in_dim: int = 16              # input features
    out_dim: int = 1              # regression targets
    init_std: float = 0.01        # std of init="normal"

    def __post_init__(self):
        _checks.integer("depth", self.depth, low=1)
        _checks.integer("width", self.width, low=1)
        _checks.integer("in_dim", self.in_dim, low=1)
        _checks.integer("out_dim", self.out_dim, low=1)
        _checks.one_of("activation", self.activation, activations.NAMES)
        _checks.one_of("init", self.init, init.NAMES)
        _checks.real("weight_scale", self.weight_scale, low=0.0)
        _checks.real("bias_scale", self.bias_scale, low=0.0)
        _checks.real("init_std", self.init_std, low=0.0)
        if not isinstance(self.residual, bool):
            raise ValueError(f"residual={self.residual!r} must be True or False")
        _checks.one_of("norm", self.norm, NORMS)

    @property
    def sigma_w(self) -> float:
        """Mean-field weight scale of the square hidden layers."""
        return init.sigma_w(self.init, self.width, self.width,
                            weight_scale=self.weight_scale, std=self.init_std)

    @property
    def n_params(self) -> int:
        """Weights and biases: ``(in + 1) W + (depth - 1)(W + 1) W + (W + 1) out``."""
        w = self.width
        return ((self.in_dim + 1) * w + (self.depth - 1) * (w + 1) * w
                + (w + 1) * self.out_dim)


def depth_bucket(depth: int) -> int:
    """The smallest power of two ``>= depth``, and at least 32.

    Stacked parameters are drawn and padded to this many layers, so that every network
    whose depth falls in one bucket (1-32, 33-64, 65-128, ...) shares one compiled
    program: on a 2-core laptop each compile costs seconds, while the unused layers cost
    only memory (the depth-exact loops never touch them).
    """
    return max(32, 1 << (int(depth) - 1).bit_length())


def init_stack(cfg: MLPConfig, key) -> dict:
    """:func:`init_mlp`'s parameters in the :func:`stack_params` layout, padded to
    :func:`depth_bucket` layers: ``hidden`` holds ``depth_bucket(cfg.depth) - 1`` layers,
    of which the first ``cfg.depth - 1`` are :func:`init_mlp`'s (the rest are further
    draws that no depth-``cfg.depth`` computation reads)."""
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    st = init_mlp_stacked(key, init.NAMES.index(cfg.init), cfg.init_std, in_dim=cfg.in_dim,
                          width=cfg.width, out_dim=cfg.out_dim, max_depth=depth_bucket(cfg.depth))
    return {part: {"w": cfg.weight_scale * p["w"], "b": cfg.bias_scale * p["b"]}
            for part, p in st.items()}


def init_mlp(cfg: MLPConfig, key) -> list[dict]:
    """Draw parameters: ``depth + 1`` layers ``{"w": (fan_in, fan_out), "b": (fan_out,)}``.

    The last entry is the linear readout. Layer ``l`` is the same draw for every depth
    (and the same as the widgets', which use :func:`init_mlp_stacked` with this key).
    The stack is drawn at :func:`depth_bucket` depth, so networks of depths 1-32 share
    one compiled draw rather than compiling one per depth.
    """
    st = init_stack(cfg, key)
    hidden = [{"w": st["hidden"]["w"][i], "b": st["hidden"]["b"][i]}
              for i in range(cfg.depth - 1)]
    return [st["first"], *hidden, st["readout"]]


def apply_mlp(params: list[dict], x, cfg: MLPConfig):
    """Forward pass, ``x: (batch, in_dim) -> (batch, out_dim)``; readable reference."""
    phi = activations.get(cfg.activation)
    h = x
    for l, layer in enumerate(params[:-1]):
        z = phi(normalize(cfg.norm, h @ layer["w"] + layer["b"]))  # (batch, width)
        h = h + z if (cfg.residual and l >= 1) else z
    return h @ params[-1]["w"] + params[-1]["b"]  # (batch, out_dim)


def stack_params(params: list[dict]) -> dict:
    """The one conversion to the stacked form the fast probe uses.

    Returns ``{"first": layer 0, "hidden": {"w": (depth - 1, W, W), "b": (depth - 1, W)},
    "readout": last layer}``. A network of depth 1 gets one zero hidden layer (never used),
    so the stacked arrays are never empty.
    """
    hidden = params[1:-1]
    if not hidden:
        width = params[0]["w"].shape[1]
        hidden = [{"w": jnp.zeros((width, width), params[0]["w"].dtype),
                   "b": jnp.zeros((width,), params[0]["b"].dtype)}]
    return {
        "first": params[0],
        "hidden": {"w": jnp.stack([p["w"] for p in hidden]),
                   "b": jnp.stack([p["b"] for p in hidden])},
        "readout": params[-1],
    }


def unstack_params(stack: dict, depth: int) -> list[dict]:
    """The inverse of :func:`stack_params` for a network of ``depth`` layers: the first
    ``depth - 1`` hidden layers of the stack become list entries again."""
    hidden = [{"w": stack["hidden"]["w"][i], "b": stack["hidden"]["b"][i]}
              for i in range(depth - 1)]
    return [stack["first"], *hidden, stack["readout"]]


@functools.partial(fast_on_host, static_argnames=("in_dim", "width", "out_dim", "max_depth"))
def init_mlp_stacked(key, init_index, std, *, in_dim, width, out_dim, max_depth):
    """Stacked parameters for every depth up to ``max_depth``, at ``weight_scale = 1``.

    ``init_index`` (into ``gradviz.init.NAMES``) and ``std`` are traced, so one compiled
    function draws every scheme. Biases are standard normal: scale them with ``b_mult``.
    Layer ``l`` is the same array whatever depth is later used, so changing the depth
    never redraws weights. Returns the :func:`stack_params` layout.
    """
    k_first, k_hidden, k_out, k_bias = jax.random.split(key, 4)
    kb = jax.random.split(k_bias, 3)
    hidden = max(max_depth - 1, 1)
    hidden_b = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(kb[1], i), (width,)))
    first, hidden_w, readout = init.draw_stacks(
        init_index, [k_first, k_hidden, k_out],
        [(1, in_dim, width), (hidden, width, width), (1, width, out_dim)], std=std)
    return {
        "first": {"w": first[0], "b": jax.random.normal(kb[0], (width,))},
        "hidden": {"w": hidden_w, "b": hidden_b(jnp.arange(hidden))},  # (hidden, width)
        "readout": {"w": readout[0], "b": jax.random.normal(kb[2], (out_dim,))},
    }


def draw_stack(key, init_index, std, *, in_dim, width, out_dim, max_depth) -> dict:
    """:func:`init_mlp_stacked` for ``max_depth`` layers, drawn at :func:`depth_bucket` depth
    and cut to ``max_depth``: the same arrays, from a compiled draw that every depth in the
    bucket shares."""
    st = init_mlp_stacked(key, init_index, std, in_dim=in_dim, width=width, out_dim=out_dim,
                          max_depth=depth_bucket(max_depth))
    return {**st, "hidden": {k: v[:max(max_depth - 1, 1)] for k, v in st["hidden"].items()}}
