"""Per-layer gradient probes: the one place in gradviz that calls ``jax.grad`` / ``jax.vjp``.

Two probes compute the same statistics, and a test checks that they agree:

* :func:`probe_unrolled` is ``jax.grad`` of the plain forward pass over a list of layers,
  compiled once per depth and activation: the tests' independent reference.
* :func:`probe_stacked`, used by :func:`probe_mlp`, :func:`activation_stats` and the
  widgets, writes backpropagation as the loop it is: for ``l = L-1, ..., 0``

.. math::
    \\delta_l = \\frac{\\partial L}{\\partial h_l} = \\phi'(h_l) \\odot g_l, \\qquad
    \\frac{\\partial L}{\\partial W_l} = x_{l-1}^\\top \\delta_l, \\qquad
    g_{l-1} = \\delta_l W_l^\\top \\; (+\\, g_l \\text{ if residual})

  with ``g_l = dL/dx_l``. Depth, activation, weight and bias scales and the clipping
  threshold are all traced arguments of one jitted function, so a widget can move any of
  them without a recompile; the loops are ``lax.while_loop`` with the exact depth as their
  trip count, so a shallow network costs what a shallow network costs.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from gradviz import _cache, _checks, activations
from gradviz.models.mlp import (
    NORMS,
    MLPConfig,
    depth_bucket,
    init_mlp,
    init_stack,
    normalize,
    stack_params,
)

_PHIS = [activations.ACTIVATIONS[n] for n in activations.NAMES]
_NORMS = [functools.partial(normalize, kind) for kind in NORMS]
_STACK_LIMIT = 16384  # arrays at least this large are reduced one by one (see norms)


def _act(index, h):
    """``phi(h)`` for the activation ``NAMES[index]`` (index may be traced)."""
    return lax.switch(index, _PHIS, h)


def _slope(index, h):
    """``phi'(h)`` elementwise, by a forward-mode product with ones (index may be traced)."""
    branches = [lambda h, f=f: jax.jvp(f, (h,), (jnp.ones_like(h),))[1] for f in _PHIS]
    return lax.switch(index, branches, h)


def _norm(index, h):
    """``N(h)``, the normalisation layer ``NORMS[index]`` (index may be traced)."""
    return lax.switch(index, _NORMS, h)


def _norm_vjp(index, h, g):
    """``g`` pulled back through ``N`` at ``h``: ``(dN/dh)^T g`` (batch norm mixes the
    samples, layer norm and RMSNorm the units; no norm passes ``g`` through)."""
    branches = [lambda h, g: g] + [lambda h, g, n=n: jax.vjp(n, h)[1](g)[0] for n in _NORMS[1:]]
    return lax.switch(index, branches, h, g)


def _saturated_tanh(h):
    return jnp.abs(jnp.tanh(h)) > 0.97


def _saturated_sigmoid(h):
    s = jax.nn.sigmoid(h)
    return (s < 0.03) | (s > 0.97)


def _saturation_test(name: str):
    """``h -> bool mask`` of the entries in a flat part of activation ``name``.

    ``|tanh(h)| > 0.97``; sigmoid below 0.03 or above 0.97; any other activation:
    ``|phi'(h)| < 0.06 max|phi'|`` (for ReLU, the inactive half-line). (The unrolled
    reference; :func:`probe_stacked` uses the same sets written as slope limits,
    :data:`SATURATION_SLOPES`.)
    """
    if name == "tanh":
        return _saturated_tanh
    if name == "sigmoid":
        return _saturated_sigmoid
    dphi, bound = activations.derivative(name), activations.DERIVATIVE_BOUNDS[name]
    return lambda h: jnp.abs(dphi(h)) < 0.06 * bound


# The same sets as slope limits, |phi'(h)| < limit: tanh' = 1 - tanh^2, so |tanh| > 0.97
# is tanh' < 1 - 0.97^2; sigmoid' = s (1 - s), so s < 0.03 or s > 0.97 is s' < 0.03 * 0.97.
SATURATION_SLOPES = tuple(
    {"tanh": 1 - 0.97**2, "sigmoid": 0.03 * 0.97}.get(n, 0.06 * activations.DERIVATIVE_BOUNDS[n])
    for n in activations.NAMES)
DEAD_SLOPE = 1e-6  # a unit is dead when |phi'(h)| is below this for every sample


def norm(a):
    """Frobenius norm ``||a||`` that neither underflows nor overflows in float32.

    ``sqrt(sum(a**2))`` flushes to 0 once entries are below ~1e-19 (their squares are
    below float32's smallest normal number), which would fake a vanishing gradient, and
    overflows above ~1e19. Scaling by ``m = max|a|`` first avoids both; inf and nan pass
    through.
    """
    m = jnp.max(jnp.abs(a))
    s = jnp.where((m > 0) & jnp.isfinite(m), m, 1.0)
    return s * jnp.sqrt(jnp.sum((a / s) ** 2))


def tree_norm(tree):
    """Global norm ``||tree||`` over all leaves, from per-leaf :func:`norm` values, so it
    neither overflows nor underflows early (``optax.tree.norm`` overflows above ~1e19)."""
    return norm(jnp.stack([norm(a) for a in jax.tree.leaves(tree)]))


def norms(arrays: list):
    """``[norm(a) for a in arrays]`` as one ``(len(arrays),)`` array, for same-shape arrays.

    Small arrays are stacked and reduced in one fused op: on a CPU, a hundred tiny
    reductions cost more in per-op overhead than the copy. Large ones (>= 16k entries)
    are reduced one by one, where the copy would cost more.
    """
    if not arrays:
        return jnp.zeros((0,))
    if arrays[0].size >= _STACK_LIMIT:
        return jnp.stack([norm(a) for a in arrays])
    a = jnp.stack(arrays)  # (n, ...)
    axes = tuple(range(1, a.ndim))
    m = jnp.max(jnp.abs(a), axis=axes, keepdims=True)
    s = jnp.where((m > 0) & jnp.isfinite(m), m, 1.0)
    return s.reshape(-1) * jnp.sqrt(jnp.sum((a / s) ** 2, axis=axes))


def stds(arrays: list):
    """``[jnp.std(a) for a in arrays]``, stacked or one by one as in :func:`norms`."""
    if arrays[0].size >= _STACK_LIMIT:
        return jnp.stack([jnp.std(a) for a in arrays])
    return jnp.std(jnp.stack(arrays), axis=tuple(range(1, arrays[0].ndim + 1)))


def _readout_loss(w, b, x, y):
    """Mean squared error of the linear readout ``x @ w + b``."""
    return jnp.mean((x @ w + b - y) ** 2)


def _backprop(stack, x, y, depth, act_index, w_mult=1.0, b_mult=1.0, residual=False,
              norm_index=0, health=False, hidden_grads=True):
    """Forward and backward pass of the stacked MLP through its first ``depth`` layers.

    Weights are ``w_mult * w`` and biases ``b_mult * b``, and each layer applies the
    normalisation ``NORMS[norm_index]`` before its activation; the gradients returned are with
    respect to those effective parameters, in the :func:`stack_params` layout (layers at
    or past ``depth`` get exactly 0), and a dict of per-layer statistics padded to
    ``max_depth``: ``weight_grad_norms`` and ``bias_grad_norms`` (taken inside the loop,
    so unused layers cost nothing), ``activation_grad_norms`` ``||dL/dh_l||``,
    ``activation_stds``, the pre-activations ``H`` and the outputs ``X``, both
    ``(max_depth, batch, width)``; with ``health`` (static) also ``saturated_fraction``,
    ``dead_fraction``, ``activation_means``, ``activation_vars`` and ``preactivation_vars``
    (see :func:`activation_stats`), each taken inside the loops. With ``hidden_grads=False``
    (static) the hidden layers' gradients are not kept, only their norms (``grads["hidden"]``
    is then None): the probe needs no ``(max_depth, width, width)`` gradient stack.

    Layer 0 runs inside both loops (its matrix products with the hidden weights are
    computed and discarded), so the activation and norm switches appear once per loop:
    each switch site compiles every branch, and the compile is what a learner waits for.
    """
    first, hidden, out = stack["first"], stack["hidden"], stack["readout"]
    max_depth = hidden["w"].shape[0] + 1
    batch, width = x.shape[0], first["w"].shape[1]
    zeros = jnp.zeros((max_depth,), x.dtype)
    h0 = w_mult * (x @ first["w"]) + b_mult * first["b"]  # (batch, width)

    # Forward: h_l from x_{l-1} (layer 0 from the inputs); keep every h_l and x_l.
    def forward(carry):
        l, x_prev, H, X, f = carry
        k = jnp.maximum(l - 1, 0)
        h = jnp.where(l == 0, h0, w_mult * (x_prev @ hidden["w"][k]) + b_mult * hidden["b"][k])
        skip = jnp.logical_and(residual, l >= 1)
        xl = _act(act_index, _norm(norm_index, h)) + jnp.where(skip, x_prev, 0.0)
        f = {**f, "std": f["std"].at[l].set(jnp.std(xl))}
        if health:  # per used layer, inside the loop: unused layers cost nothing
            f["mean"] = f["mean"].at[l].set(jnp.mean(xl))
            f["var"] = f["var"].at[l].set(jnp.var(xl))
            f["pre_var"] = f["pre_var"].at[l].set(jnp.var(h))
        return l + 1, xl, H.at[l].set(h), X.at[l].set(xl), f

    H = jnp.zeros((max_depth, batch, width), x.dtype)
    f = {key: zeros for key in ("std",) + (("mean", "var", "pre_var") if health else ())}
    _, x_last, H, X, f = lax.while_loop(
        lambda c: c[0] < depth, forward, (0, jnp.zeros_like(h0), H, jnp.zeros_like(H), f))

    # Readout and its gradients.
    loss, (g_wo, g_bo, g) = jax.value_and_grad(_readout_loss, argnums=(0, 1, 2))(
        w_mult * out["w"], b_mult * out["b"], x_last, y)

    # Backward, l = depth-1, ..., 0: delta_l = dL/dh_l, then layer l's weight gradient
    # (for l >= 1; layer 0's reads the inputs and is taken after the loop) and g_{l-1}.
    sat_limit = jnp.asarray(SATURATION_SLOPES)[act_index]

    def backward(carry):
        l, g, _, dw, db, n = carry
        slope = _slope(act_index, _norm(norm_index, H[l]))  # phi'(N(h_l))
        delta = _norm_vjp(norm_index, H[l], slope * g)  # (batch, width)
        k, hid = jnp.maximum(l - 1, 0), l >= 1
        dw_l, db_l = X[k].T @ delta, jnp.sum(delta, axis=0)  # (width, width), (width,)
        g_prev = w_mult * (delta @ hidden["w"][k].T) + jnp.where(residual, g, 0.0)
        n = {**n, "w": n["w"].at[l].set(norm(dw_l)), "b": n["b"].at[l].set(norm(db_l)),
             "h": n["h"].at[l].set(norm(delta))}
        if health:
            n["sat"] = n["sat"].at[l].set(jnp.mean(jnp.abs(slope) < sat_limit))
            n["dead"] = n["dead"].at[l].set(
                jnp.mean(jnp.all(jnp.abs(slope) < DEAD_SLOPE, axis=0)))
        if hidden_grads:
            dw = dw.at[k].set(jnp.where(hid, dw_l, dw[k]))
            db = db.at[k].set(jnp.where(hid, db_l, db[k]))
        return l - 1, g_prev, delta, dw, db, n

    n = {key: zeros for key in ("w", "b", "h") + (("sat", "dead") if health else ())}
    dw, db = ((jnp.zeros_like(hidden["w"]), jnp.zeros_like(hidden["b"])) if hidden_grads
              else (None, None))
    _, _, delta, dw, db, n = lax.while_loop(
        lambda c: c[0] >= 0, backward, (depth - 1, g, jnp.zeros_like(h0), dw, db, n))

    dw0, db0 = x.T @ delta, jnp.sum(delta, axis=0)  # layer 0 reads the inputs
    grads = {"first": {"w": dw0, "b": db0},
             "hidden": {"w": dw, "b": db} if hidden_grads else None,
             "readout": {"w": g_wo, "b": g_bo}}
    stats = {"weight_grad_norms": n["w"].at[0].set(norm(dw0)),
             "bias_grad_norms": n["b"].at[0].set(norm(db0)),
             "activation_grad_norms": n["h"], "activation_stds": f["std"], "H": H, "X": X}
    if health:
        stats.update(saturated_fraction=n["sat"], dead_fraction=n["dead"],
                     activation_means=f["mean"], activation_vars=f["var"],
                     preactivation_vars=f["pre_var"])
    return loss, grads, stats


def layer_norms(tree, part: str = "w"):
    """``||tree[.][part]||`` of layer 0 and of every stacked hidden layer: ``(max_depth,)``."""
    return jnp.concatenate([norm(tree["first"][part])[None],
                            jax.vmap(norm)(tree["hidden"][part])])


@functools.partial(jax.jit, static_argnames=("health",))
def probe_stacked(stack, x, y, depth, act_index, w_mult=1.0, b_mult=1.0,
                  clip_norm=-1.0, residual=False, health=False, norm_index=0):
    """Per-layer gradient statistics of the stacked MLP, all arguments but shapes traced.

    Args:
        stack: :func:`~gradviz.models.mlp.stack_params` output; ``hidden`` holds at least
            ``depth - 1`` layers (extra ones are ignored).
        x: ``(batch, in_dim)`` inputs; y: ``(batch, out_dim)`` targets.
        depth: number of layers to use, ``1 <= depth <= 1 + len(hidden)``.
        act_index: index into ``gradviz.activations.NAMES``.
        w_mult, b_mult: every weight is ``w_mult * w`` and every bias ``b_mult * b``.
        clip_norm: threshold of ``optax.clip_by_global_norm``; ``<= 0`` means no clipping.
        residual: add the skip connection on layers ``l >= 1``.
        health: (static) also report ``saturated_fraction``, ``dead_fraction``,
            ``activation_means``, ``activation_vars`` and ``preactivation_vars`` per layer,
            as :func:`activation_stats` defines them.
        norm_index: index into ``gradviz.models.mlp.NORMS``, the layer before each
            activation (0: none).

    Returns:
        dict of arrays padded to ``max_depth = 1 + len(hidden)`` (entries past ``depth``
        are 0): ``weight_grad_norms``, ``clipped_weight_grad_norms``,
        ``activation_grad_norms``, ``activation_stds``; scalars ``loss``, ``global_norm``.
    """
    loss, grads, st = _backprop(stack, x, y, depth, act_index, w_mult, b_mult, residual,
                                norm_index, health, hidden_grads=False)
    gw = st["weight_grad_norms"]
    # optax.clip_by_global_norm: g * c / ||g|| when ||g|| >= c, else g unchanged.
    # (The global norm is taken from the per-layer norms, so it cannot overflow early.)
    global_norm = norm(jnp.concatenate([gw, st["bias_grad_norms"],
                                        jnp.stack([norm(grads["readout"]["w"]),
                                                   norm(grads["readout"]["b"])])]))
    out = {"weight_grad_norms": gw, "clipped_weight_grad_norms": _clip(gw, global_norm, clip_norm),
           "activation_grad_norms": st["activation_grad_norms"],
           "activation_stds": st["activation_stds"], "loss": loss, "global_norm": global_norm}
    if health:
        for key in ("saturated_fraction", "dead_fraction", "activation_means", "activation_vars",
                    "preactivation_vars"):
            out[key] = st[key]
    return out


def _clip(norms, global_norm, clip_norm):
    """Per-layer norms after ``optax.clip_by_global_norm(clip_norm)``; ``clip_norm <= 0``: none.

    optax scales every gradient by ``clip_norm / global_norm`` when ``global_norm >=
    clip_norm`` and leaves it alone otherwise, so each layer's norm scales the same way.
    """
    return jnp.where((clip_norm <= 0) | (global_norm < clip_norm), norms,
                     norms / global_norm * clip_norm)


@functools.partial(jax.jit, static_argnames=("activation", "residual", "norm_layer"))
def probe_unrolled(params, x, y, activation, residual=False, clip_norm=-1.0, norm_layer=None):
    """The same statistics as :func:`probe_stacked`, by ``jax.grad`` of the plain forward pass.

    ``dL/dh_l`` is the gradient with respect to a zero shift added to each pre-activation.
    The loop over the layer list is unrolled, so XLA compiles one program per depth,
    activation, norm and skip setting: the independent reference the tests hold
    :func:`probe_mlp` (which runs :func:`probe_stacked`) against.
    """
    phi = activations.get(activation)

    def loss_fn(params, shifts):
        h, hs = x, []
        for l, layer in enumerate(params[:-1]):
            z = phi(normalize(norm_layer, h @ layer["w"] + layer["b"] + shifts[l]))
            h = h + z if (residual and l >= 1) else z
            hs.append(h)
        out = h @ params[-1]["w"] + params[-1]["b"]  # (batch, out_dim)
        return jnp.mean((out - y) ** 2), hs

    shifts = [jnp.zeros((x.shape[0], p["w"].shape[1]), x.dtype) for p in params[:-1]]
    (loss, hs), (g_params, g_shifts) = jax.value_and_grad(
        loss_fn, argnums=(0, 1), has_aux=True)(params, shifts)
    depth = len(params) - 1
    # Every parameter's norm in one vector: (w_0, w_1..w_{L-1}, b_0..b_{L-1}, w_out, b_out).
    every = jnp.concatenate([norm(g_params[0]["w"])[None],
                             norms([g["w"] for g in g_params[1:-1]]),
                             norms([g["b"] for g in g_params[:-1]]),
                             jnp.stack([norm(g_params[-1]["w"]), norm(g_params[-1]["b"])])])
    gw, global_norm = every[:depth], norm(every)
    return {"weight_grad_norms": gw, "clipped_weight_grad_norms": _clip(gw, global_norm, clip_norm),
            "activation_grad_norms": norms(g_shifts),
            "activation_stds": stds(hs), "loss": loss,
            "global_norm": global_norm}


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """Per-layer gradient statistics of one network on one batch (numpy, length ``depth``)."""

    weight_grad_norms: np.ndarray      # ||dL/dW_l||_F, l = 0 is the input side
    activation_grad_norms: np.ndarray  # ||dL/dh_l|| of each layer's pre-activation
    activation_stds: np.ndarray        # std of each layer's post-activation
    loss: float
    global_norm: float                 # ||dL/dtheta|| over all parameters, readout included
    clipped_weight_grad_norms: np.ndarray  # after optax.clip_by_global_norm(clip_norm)


def summary(r: ProbeResult) -> dict:
    """Headline numbers of a probe: how much the gradient shrinks or grows with depth.

    ``ratio = ||dL/dh_0|| / ||dL/dh_{L-1}||`` and the per-layer factor
    ``ratio ** (1 / (L - 1))`` (its geometric mean; 1 for a single layer).
    """
    d = r.activation_grad_norms
    with np.errstate(all="ignore"):
        ratio = float(d[0] / d[-1]) if d[-1] != 0 else float("nan")
        per_layer = ratio ** (1.0 / (d.size - 1)) if d.size > 1 else 1.0
    return {"first / last layer": ratio, "per-layer factor": per_layer,
            "||dL/dW_0||": float(r.weight_grad_norms[0]),
            "||dL/dW_L-1||": float(r.weight_grad_norms[-1]),
            "non-finite layers": int(np.sum(~np.isfinite(r.weight_grad_norms)))}


def per_layer_gain(activation_grad_norms) -> float:
    """Measured squared-gradient gain per layer, the quantity mean-field ``chi`` predicts.

    The geometric mean of ``(||dL/dh_l|| / ||dL/dh_{l+1}||)**2`` over the deeper half of the
    layers, where the forward signal has settled to its fixed point ``q*``; nan when
    undefined (fewer than 4 layers, zeros, overflow).
    """
    d = np.asarray(activation_grad_norms, dtype=float)
    with np.errstate(all="ignore"):
        ratios = (d[:-1] / d[1:])[d.size // 2:]
        if d.size < 4 or not np.all(np.isfinite(ratios) & (ratios > 0)):
            return float("nan")
        return float(np.exp(np.mean(2 * np.log(ratios))))


def default_batch(seed: int, batch_size: int, in_dim: int, out_dim: int):
    """Standard-normal inputs ``(batch_size, in_dim)`` and targets ``(batch_size, out_dim)``.

    Drawn from ``fold_in(PRNGKey(seed), 1)``, so they never share bits with the weights,
    which :func:`init_mlp` draws from ``PRNGKey(seed)``.
    """
    kx, ky = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(seed), 1))
    return (_cache.normal(kx, (batch_size, in_dim)),
            _cache.normal(ky, (batch_size, out_dim)))


def probe_mlp(cfg: MLPConfig, params=None, x=None, y=None, seed: int = 0,
              batch_size: int = 256, clip_norm: float | None = None) -> ProbeResult:
    """Measure per-layer gradients of the MSE loss with one backward pass.

    Runs :func:`probe_stacked` on the layers padded with unused layers to
    :func:`~gradviz.models.mlp.depth_bucket` depth: activation, norm, skip and clipping are
    traced, so every network of the same width and batch whose depth falls in the same
    bucket (1-32, 33-64, 65-128, ...) shares one compiled program. (One compile costs about
    a second; a lesson that compared ten networks used to pay for ten.)

    Args:
        cfg: the network; params: from :func:`init_mlp` (default: drawn from ``seed``).
        x: ``(batch, in_dim)``; y: ``(batch, out_dim)`` float targets (default:
            standard normal, drawn from ``seed``).
        clip_norm: if given, also report norms after ``optax.clip_by_global_norm``.
    """
    if clip_norm is not None:
        clip_norm = _checks.real("clip_norm", clip_norm, low=0.0, inclusive=False)
    params, x, y = _prepare(cfg, params, x, y, seed, batch_size, draw=False)
    # health=True although the statistics are dropped: the program is then the one
    # activation_stats runs (one compile for both; the statistics cost 1-8% of the call).
    out = jax.device_get(probe_stacked(
        _stack_for(cfg, params, seed), x, y, cfg.depth, activations.NAMES.index(cfg.activation),
        clip_norm=-1.0 if clip_norm is None else clip_norm, residual=cfg.residual,
        norm_index=NORMS.index(cfg.norm), health=True))
    d = cfg.depth
    return ProbeResult(
        weight_grad_norms=np.asarray(out["weight_grad_norms"][:d]),
        activation_grad_norms=np.asarray(out["activation_grad_norms"][:d]),
        activation_stds=np.asarray(out["activation_stds"][:d]),
        loss=float(out["loss"]),
        global_norm=float(out["global_norm"]),
        clipped_weight_grad_norms=np.asarray(out["clipped_weight_grad_norms"][:d]),
    )


def pad_stack(stack: dict) -> dict:
    """``stack`` with zero hidden layers appended up to :func:`depth_bucket` layers.

    :func:`probe_stacked` never reads them, and networks whose depths share a bucket
    (1-32, 33-64, 65-128, ...) then share one compiled program.
    """
    w, b = stack["hidden"]["w"], stack["hidden"]["b"]
    pad = depth_bucket(1 + w.shape[0]) - 1 - w.shape[0]
    return {**stack, "hidden": {
        "w": jnp.concatenate([w, jnp.zeros((pad, *w.shape[1:]), w.dtype)]),
        "b": jnp.concatenate([b, jnp.zeros((pad, *b.shape[1:]), b.dtype)])}}


def _stack_for(cfg, params, seed):
    """The padded stack :func:`probe_stacked` reads: ``params`` stacked and padded, or, when
    ``params`` is None, :func:`init_stack` drawn directly (no list to stack and pad)."""
    if params is None:
        return init_stack(cfg, jax.random.PRNGKey(seed))
    return _stack_padded(params)


@jax.jit
def _stack_padded(params):
    """``pad_stack(stack_params(params))`` as one compiled copy (run eagerly, the weights
    would be copied twice: once to stack them, once to pad)."""
    return pad_stack(stack_params(params))


def _check_params(cfg, params):
    expected = [(cfg.in_dim, cfg.width)] + [(cfg.width, cfg.width)] * (cfg.depth - 1) + [
        (cfg.width, cfg.out_dim)]
    shapes = [tuple(np.shape(p.get("w"))) if isinstance(p, dict) else None
              for p in params] if isinstance(params, (list, tuple)) else None
    if shapes != expected:
        raise ValueError(f"params has weight shapes {shapes}; cfg expects {expected} "
                         "(use init_mlp(cfg, key))")


def _check_batch(cfg, x, y):
    x, y = jnp.asarray(x), jnp.asarray(y)
    for name, arr, dim in (("x", x, cfg.in_dim), ("y", y, cfg.out_dim)):
        if arr.ndim != 2 or arr.shape[1] != dim:
            raise ValueError(f"{name} has shape {arr.shape}; expected (batch, {dim})")
        if not jnp.issubdtype(arr.dtype, jnp.floating):
            raise ValueError(f"{name} has dtype {arr.dtype}; expected a float dtype")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}; they must match")
    return x, y


def _forward_layers(params, x, activation, residual, norm=None):
    """What each layer's activation reads, ``N(h_l)``, and each layer's output ``x_l``."""
    phi = activations.get(activation)
    hs, xs, h = [], [], x
    for l, layer in enumerate(params[:-1]):
        pre = normalize(norm, h @ layer["w"] + layer["b"])  # (batch, width)
        z = phi(pre)
        h = h + z if (residual and l >= 1) else z
        hs.append(pre)
        xs.append(h)
    return hs, xs


@functools.partial(jax.jit, static_argnames=("activation", "residual", "norm"))
def _activation_stats(params, x, activation, residual, norm):
    hs, xs = _forward_layers(params, x, activation, residual, norm)
    dphi = activations.derivative(activation)
    saturated = _saturation_test(activation)
    out = {"mean": [], "var": [], "saturated": [], "dead": []}
    for h, z in zip(hs, xs, strict=True):
        out["mean"].append(jnp.mean(z))
        out["var"].append(jnp.var(z))
        out["saturated"].append(jnp.mean(saturated(h)))
        # dead: no sample passes a gradient through the unit
        out["dead"].append(jnp.mean(jnp.all(jnp.abs(dphi(h)) < DEAD_SLOPE, axis=0)))
    return {k: jnp.stack(v) for k, v in out.items()}


def activation_stats(cfg: MLPConfig, params=None, x=None, seed: int = 0,
                     batch_size: int = 256) -> dict:
    """Per-layer health of the forward pass, each a numpy array ``(depth,)``.

    * ``mean``, ``var``: of each layer's output ``x_l`` over the batch and the units;
    * ``pre_var``: variance of the pre-activations ``h_l`` (before any norm layer);
    * ``saturated``: fraction of (sample, unit) entries in a flat part of the activation
      (measured on what the activation reads, after the norm layer if there is one):
      ``|tanh(h)| > 0.97``; sigmoid below 0.03 or above 0.97; otherwise
      ``|phi'(h)| < 0.06 max|phi'|`` (for ReLU: the inactive half-line);
    * ``dead``: fraction of units whose derivative is 0 (below 1e-6) for *every* sample in
      the batch, so that no gradient reaches their incoming weights (dead ReLUs).

    Computed by :func:`probe_stacked` (``health=True``), so it shares the compiled program
    of :func:`probe_mlp`; ``_activation_stats``, the unrolled version, is the tests' reference.
    """
    params, x, y = _prepare(cfg, params, x, None, seed, batch_size, need_y=False, draw=False)
    out = jax.device_get(probe_stacked(
        _stack_for(cfg, params, seed), x, y, cfg.depth, activations.NAMES.index(cfg.activation),
        clip_norm=-1.0, residual=cfg.residual, norm_index=NORMS.index(cfg.norm), health=True))
    # (clip_norm passed as probe_mlp passes it: jit keys its cache on which arguments are given)
    keys = {"mean": "activation_means", "var": "activation_vars", "pre_var": "preactivation_vars",
            "saturated": "saturated_fraction", "dead": "dead_fraction"}
    return {k: np.asarray(out[v][:cfg.depth]) for k, v in keys.items()}


def unit_spread(params: list[dict]) -> np.ndarray:
    """How different the hidden units of each layer are: one number per hidden layer.

    .. math:: s_l = \\max_i \\big(\\max_j W^l_{ij} - \\min_j W^l_{ij}\\big)
        \\;\\vee\\; \\big(\\max_j b^l_j - \\min_j b^l_j\\big)

    the largest spread, across the units ``j`` of layer ``l``, of any incoming weight or
    of the bias. ``s_l = 0`` means every unit of layer ``l`` computes the same function:
    the symmetry that zeros (or any constant) initialisation never breaks. The readout is
    not counted. ``params``: the :func:`~gradviz.init_mlp` list of ``{"w", "b"}``.
    """
    out = []
    for layer in params[:-1]:
        w, b = np.asarray(layer["w"], dtype=np.float64), np.asarray(layer["b"], dtype=np.float64)
        out.append(max(np.ptp(w, axis=1).max(), np.ptp(b)))
    return np.asarray(out)


@functools.partial(jax.jit, static_argnames=("activation", "residual", "norm"))
def _jacobian_spectra(params, x, activation, residual, norm):
    phi = activations.get(activation)
    layer_svals, h = [], x
    for l, layer in enumerate(params[:-1]):
        def layer_map(v, layer=layer, l=l):
            z = phi(normalize(norm, (v @ layer["w"] + layer["b"])[None])[0])
            return v + z if (residual and l >= 1) else z
        jac = jax.jacfwd(layer_map)(h)  # (width, fan_in) = d x_l / d x_{l-1}
        layer_svals.append(jnp.linalg.svd(jac, compute_uv=False))
        h = layer_map(h)

    def network(v):
        return _forward_layers(params, v[None, :], activation, residual, norm)[1][-1][0]

    whole = jnp.linalg.svd(jax.jacfwd(network)(x), compute_uv=False)  # of (width, in_dim)
    return layer_svals, whole


def jacobian_spectra(cfg: MLPConfig, params=None, x=None, seed: int = 0, *,
                     float64: bool = False) -> dict:
    """Singular values of the input-output Jacobians at one input ``x: (in_dim,)``.

    .. math:: J_l = \\frac{\\partial x_l}{\\partial x_{l-1}}
        = \\mathrm{diag}(\\phi'(h_l))\\, W_l^\\top, \\qquad
        J = \\frac{\\partial x_{L-1}}{\\partial x} = J_{L-1} \\cdots J_0

    Backpropagation multiplies the gradient by ``J^T``, so the spread of ``J``'s singular
    values is how unevenly directions are scaled: all equal to 1 is dynamical isometry.

    In float32 a product of many layers cannot resolve singular values much below
    ``eps * sigma_max`` (rounding fills the small directions), so a median of ``3e-7`` at
    depth 50 is float32's floor, not the network's; ``float64=True`` evaluates the same
    weights (cast up) in float64 (a separate compile) and resolves them.

    Returns:
        ``{"layers": [(k_l,) arrays, largest first], "network": (k,) array}``.

    References:
        Saxe et al. 2013, arXiv:1312.6120; Pennington, Schoenholz & Ganguli 2017,
        arXiv:1711.04735.
    """
    if cfg.norm == "batch":
        raise ValueError("cfg.norm='batch' has no per-example Jacobian (batch norm mixes the "
                         "examples of a batch); allowed: None, 'layer', 'rms'")
    params, xb, _ = _prepare(cfg, params, None if x is None else jnp.asarray(x)[None, :], None,
                             seed, 1, need_y=False)
    if float64:
        with jax.enable_x64(True):
            up = jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a, np.float64)),
                                        list(params))
            layers, whole = jax.device_get(_jacobian_spectra(
                up, jnp.asarray(np.asarray(xb[0], np.float64)), cfg.activation, cfg.residual,
                cfg.norm))
    else:
        layers, whole = jax.device_get(_jacobian_spectra(list(params), xb[0], cfg.activation,
                                                         cfg.residual, cfg.norm))
    return {"layers": [np.asarray(v) for v in layers], "network": np.asarray(whole)}


def forward_spread(cfg: MLPConfig, params=None, x=None, seed: int = 0,
                   batch_size: int = 256) -> np.ndarray:
    """How different the examples still are at each layer, ``(depth,)``, in float64.

    .. math::
        s_l = \\sqrt{\\tfrac{1}{n}\\textstyle\\sum_j \\mathrm{Var}_{\\text{examples}}(x_{l,j})}
        \\Big/ \\sqrt{\\mathrm{mean}(x_l^2)}

    (``x_l``: layer ``l``'s output, ``j``: its units). ``s_l = 0`` means every input maps
    to the same vector, so no readout can do better than predicting the mean. Differences
    between nearby inputs travel forward as ``delta x_l = J_l ... J_1 delta x_0``, the same
    product of Jacobians ``J_l = diag(phi'(h_l)) W_l^T`` whose transpose carries the gradient
    back: a network whose gradient ratio is ``1e-12`` has squashed its inputs by about as
    much. Evaluated in float64 (the weights cast up), because float32 rounds a spread below
    ``~6e-8`` of the mean to exactly zero.
    """
    params, x, _ = _prepare(cfg, params, x, None, seed, batch_size, need_y=False)
    with jax.enable_x64(True):
        up = jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a, np.float64)),
                                    list(params))
        _, xs = _forward_layers(up, jnp.asarray(np.asarray(x, np.float64)), cfg.activation,
                                cfg.residual, cfg.norm)
        out = [np.sqrt(np.mean(np.var(np.asarray(z), axis=0))) / np.sqrt(np.mean(
            np.asarray(z) ** 2)) for z in xs]
    return np.asarray(out)


def _prepare(cfg, params, x, y, seed, batch_size, *, need_y=True, draw=True):
    """Validate and default the arguments shared by the probes (``draw=False``: leave
    ``params=None`` as None rather than drawing it from ``seed``)."""
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    seed = _checks.integer("seed", seed, low=0)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    if params is None and draw:
        params = init_mlp(cfg, jax.random.PRNGKey(seed))
    if params is not None:
        _check_params(cfg, params)
    if need_y and (x is None) != (y is None):
        raise ValueError("x and y must be given together (or both left as None)")
    if x is None:
        x, y = default_batch(seed, batch_size, cfg.in_dim, cfg.out_dim)
    if not need_y:
        y = jnp.zeros((jnp.shape(x)[0], cfg.out_dim), jnp.float32)
    x, y = _check_batch(cfg, x, y)
    return params, x, y


@functools.partial(jax.jit, static_argnames=("cfg",))
def mse_loss_and_grads(params: list[dict], x, y, cfg: MLPConfig):
    """``(L, dL/dparams)`` of ``L = mean((apply_mlp(params, x) - y)**2)`` by ``jax.grad``.

    The straightforward reference that training uses and that tests compare
    :func:`probe_stacked` against.
    """
    from gradviz.models.mlp import apply_mlp

    def loss(p):
        return jnp.mean((apply_mlp(p, x, cfg) - y) ** 2)

    return jax.value_and_grad(loss)(params)


@functools.partial(jax.jit, static_argnames=("activation", "residual", "norm", "iters"))
def _sharpness(params, x, y, activation, residual, norm, key, iters):
    from gradviz.models.mlp import apply_mlp

    cfg = MLPConfig(depth=len(params) - 1, width=params[0]["w"].shape[1],
                    activation=activation, residual=residual, norm=norm, in_dim=x.shape[1],
                    out_dim=y.shape[1])

    def loss(p):
        return jnp.mean((apply_mlp(p, x, cfg) - y) ** 2)

    flat, unravel = ravel_pytree(params)

    def hvp(v):  # H v by forward-over-reverse differentiation, v: (n_params,)
        return jax.jvp(jax.grad(lambda f: loss(unravel(f))), (flat,), (v,))[1]

    def power_step(_, v):
        hv = hvp(v)
        return hv / jnp.linalg.norm(hv)

    v = jax.random.normal(key, flat.shape)
    v = lax.fori_loop(0, iters, power_step, v / jnp.linalg.norm(v))
    return v @ hvp(v)  # the Rayleigh quotient of the unit vector v


def sharpness(cfg: MLPConfig, params=None, x=None, y=None, seed: int = 0,
              batch_size: int = 256, iters: int = 50) -> float:
    """Largest eigenvalue ``lambda_max`` of the loss Hessian, by power iteration on ``H v``.

    Gradient descent on a quadratic with curvature ``lambda`` multiplies the error along
    that direction by ``1 - lr * lambda`` per step, so it diverges once
    ``lr > 2 / lambda_max``: the learning-rate cause of exploding gradients. ``H v`` is
    ``jax.jvp`` of ``jax.grad`` (never the full Hessian). Returns the Rayleigh quotient
    ``v^T H v`` after ``iters`` steps from a seeded random ``v``.
    """
    iters = _checks.integer("iters", iters, low=1, high=10000)
    params, x, y = _prepare(cfg, params, x, y, seed, batch_size)
    return float(_sharpness(list(params), x, y, cfg.activation, cfg.residual, cfg.norm,
                            jax.random.fold_in(jax.random.PRNGKey(seed), 2), iters))


def ratio_bound(cfg: MLPConfig, params=None, seed: int = 0) -> dict:
    """Upper bounds on ``||dL/dh_0|| / ||dL/dh_{L-1}||`` of a plain MLP, from its weights.

    Backpropagation sets ``delta_l = (delta_{l+1} W_{l+1}^T) * phi'(h_l)`` (elementwise), and
    ``||A W^T||_F <= ||A||_F sigma_max(W)``, ``||A * D||_F <= max|D| ||A||_F``, so

    .. math::
        \\frac{\\|\\delta_0\\|}{\\|\\delta_{L-1}\\|} \\le \\prod_{l=1}^{L-1}
        \\sigma_{\\max}(W_l)\\, s, \\qquad s = \\sup_z |\\phi'(z)|

    (``"ratio"``). The slopes alone contribute at most ``s**(L-1)`` (``"slopes"``,
    ``0.25**(L-1)`` for sigmoid): a bound on the product of the slopes, not on the
    gradient ratio, which the weights' factors ``sigma_max(W_l)`` also multiply. ``s`` is
    taken on a grid of ``z`` in ``[-20, 20]`` (exact for sigmoid, tanh, relu). No skip
    connections or normalisation (their Jacobians are not ``W^T`` times a diagonal).

    Returns ``{"ratio": bound, "slopes": s**(L-1), "sigma_max": (L-1,) sigma_max(W_l)}``
    for the weights ``params`` (default: :func:`init_mlp`'s draw from ``seed``, as
    :func:`probe_mlp`'s).
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    if cfg.residual or cfg.norm is not None:
        raise ValueError(f"ratio_bound needs a plain MLP; got residual={cfg.residual}, "
                         f"norm={cfg.norm!r}")
    params, _, _ = _prepare(cfg, params, None, None, seed, 1)
    z = np.linspace(-20.0, 20.0, 400001)
    s = float(np.max(np.abs(np.asarray(activations.derivative(cfg.activation)(z)))))
    sig = np.array([np.linalg.norm(np.asarray(p["w"], dtype=np.float64), 2)
                    for p in params[1:cfg.depth]])
    return {"ratio": float(np.prod(sig * s)), "slopes": s ** (cfg.depth - 1), "sigma_max": sig}
