"""optax training loops that record per-layer gradient history and stop at divergence."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from gradviz import _checks, _devices, activations, probes
from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp

OPTIMIZERS = {
    "sgd": optax.sgd,
    "momentum": lambda lr: optax.sgd(lr, momentum=0.9),
    "rmsprop": optax.rmsprop,
    "adam": optax.adam,
    "adamw": optax.adamw,
}


@dataclasses.dataclass(frozen=True)
class TrainHistory:
    """Per-step records of one run (rows stop at divergence)."""

    loss: np.ndarray           # (steps,) loss before each update
    grad_norms: np.ndarray     # (steps, depth) ||dL/dW_l|| before clipping
    update_ratios: np.ndarray  # (steps, depth) ||Delta W_l|| / ||W_l||
    diverged_at: int | None    # first step whose loss is not finite, or None
    params: list               # final parameters
    update_norms: np.ndarray   # (steps,) global norm of the applied update, all parameters


def check_training_args(optimizer, learning_rate, clip_norm, steps, seed, batch_size) -> tuple:
    """Validate the arguments every training loop shares; return them normalised."""
    _checks.one_of("optimizer", optimizer, tuple(OPTIMIZERS))
    learning_rate = _checks.real("learning_rate", learning_rate, low=0.0, inclusive=False)
    if clip_norm is not None:
        clip_norm = _checks.real("clip_norm", clip_norm, low=0.0, inclusive=False)
    return (learning_rate, clip_norm, _checks.integer("steps", steps, low=1),
            _checks.integer("seed", seed, low=0), _checks.integer("batch_size", batch_size, low=1))


CLIPS = ("global_norm", "value", "agc")  # the clip= choices of train_mlp


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What a training step does, apart from the numbers (which are traced arguments).

    ``clip`` is None or one of :data:`CLIPS`; ``decay``: weight decay on or off;
    ``warmup_steps``: length of the linear learning-rate warm-up (0: none).
    """

    optimizer: str = "sgd"
    clip: str | None = None
    decay: bool = False
    warmup_steps: int = 0


def _optimizer(recipe: Recipe, learning_rate, threshold=1.0, weight_decay=0.0):
    """The optax transformation a recipe describes, every part from optax:

    ``clip_by_global_norm(c)`` (rescale the whole gradient to norm ``<= c``), ``clip(c)``
    (each entry into ``[-c, c]``) or ``adaptive_grad_clip(c)`` (each unit's gradient to
    ``<= c`` times that unit's weight norm, Brock et al. 2021); then weight decay
    (``add_decayed_weights``: ``g + lambda w``; AdamW's own decoupled decay for
    ``"adamw"``); then the optimizer, its learning rate ramped linearly from 0 over
    ``warmup_steps`` by ``linear_schedule``.
    """
    lr = (optax.linear_schedule(0.0, learning_rate, recipe.warmup_steps)
          if recipe.warmup_steps else learning_rate)
    if recipe.optimizer == "adamw":
        opt = optax.adamw(lr, weight_decay=weight_decay if recipe.decay else 0.0)
    else:
        opt = OPTIMIZERS[recipe.optimizer](lr)
        if recipe.decay:
            opt = optax.chain(optax.add_decayed_weights(weight_decay), opt)
    clip = {None: None, "global_norm": optax.clip_by_global_norm, "value": optax.clip,
            "agc": optax.adaptive_grad_clip}[recipe.clip]
    return opt if clip is None else optax.chain(clip(threshold), opt)


@functools.lru_cache(maxsize=16)  # bounded: one compiled step per recent configuration
def _make_step(cfg: MLPConfig, recipe: Recipe):
    """The jitted training step; the learning rate, clip threshold and weight decay are
    traced arguments, so a sweep over any of them compiles nothing new (the optimizer
    state's structure does not depend on their values)."""

    @jax.jit
    def step(params, state, x, y, learning_rate, threshold, weight_decay):
        opt = _optimizer(recipe, learning_rate, threshold, weight_decay)
        loss, grads = probes.mse_loss_and_grads(params, x, y, cfg)
        updates, state = opt.update(grads, state, params)
        new = optax.apply_updates(params, updates)
        norms = jnp.stack([probes.norm(g["w"]) for g in grads[:-1]])  # (depth,)
        ratios = jnp.stack([probes.norm(u["w"]) / probes.norm(p["w"])
                            for u, p in zip(updates[:-1], params[:-1], strict=False)])  # (depth,)
        return new, state, loss, norms, ratios, probes.tree_norm(updates)

    return step


def train_mlp(cfg: MLPConfig, optimizer: str = "sgd", learning_rate: float = 0.01,
              clip_norm: float | None = None, steps: int = 200, seed: int = 0,
              x=None, y=None, batch_size: int = 256, callback=None, *,
              clip: str = "global_norm", weight_decay: float = 0.0,
              warmup_steps: int = 0) -> TrainHistory:
    """Full-batch training of the MSE loss with an optax optimizer.

    Each step records the loss, the per-layer gradient norms (before clipping), the
    update-to-weight ratios and the global norm of the update, then applies the
    clipping ``clip`` at threshold ``clip_norm`` (if given; see :func:`_optimizer`:
    ``"global_norm"``, ``"value"`` or ``"agc"``), weight decay ``weight_decay``, and the
    optimizer with a linear warm-up over ``warmup_steps``. Stops at the first non-finite
    loss (``diverged_at``).
    ``x``/``y`` default to the standard-normal batch of :func:`gradviz.probe_mlp`.
    ``callback(step, steps, loss)``, if given, runs after every step (for example
    :class:`gradviz.widgets.ProgressBar`, which appears when a run takes over ~2 s).
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    learning_rate, clip_norm, steps, seed, batch_size = check_training_args(
        optimizer, learning_rate, clip_norm, steps, seed, batch_size)
    _checks.one_of("clip", clip, CLIPS)
    weight_decay = _checks.real("weight_decay", weight_decay, low=0.0)
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, low=0)
    if (x is None) != (y is None):
        raise ValueError("x and y must be given together (or both left as None)")
    if x is None:
        x, y = probes.default_batch(seed, batch_size, cfg.in_dim, cfg.out_dim)
    x, y = probes._check_batch(cfg, x, y)

    recipe = Recipe(optimizer, None if clip_norm is None else clip, weight_decay > 0,
                    warmup_steps)
    step = _make_step(cfg, recipe)
    params = init_mlp(cfg, jax.random.PRNGKey(seed))
    threshold = 1.0 if clip_norm is None else clip_norm  # unused when clip_norm is None
    state = _optimizer(recipe, learning_rate, threshold, weight_decay).init(params)
    losses, norms, ratios, update_norms, diverged_at = [], [], [], [], None
    for t in range(steps):
        new, state, loss, n, r, u = step(params, state, x, y, learning_rate, threshold,
                                         weight_decay)
        loss = float(loss)
        losses.append(loss)
        norms.append(np.asarray(n))
        ratios.append(np.asarray(r))
        update_norms.append(float(u))
        if callback is not None:
            callback(t, steps, loss)
        if not math.isfinite(loss):
            diverged_at = t
            break
        params = new
    return TrainHistory(np.array(losses), np.array(norms), np.array(ratios), diverged_at, params,
                        np.array(update_norms))


def weight_change(cfg: MLPConfig, history: TrainHistory, seed: int = 0) -> np.ndarray:
    """How far training moved each layer: ``||W_l(end) - W_l(0)|| / ||W_l(0)||``, ``(depth,)``.

    ``seed`` must be the one the run used (it draws the initial weights again).
    """
    start = init_mlp(cfg, jax.random.PRNGKey(_checks.integer("seed", seed, low=0)))
    return np.array([float(jnp.linalg.norm(end["w"] - w0["w"]) / jnp.linalg.norm(w0["w"]))
                     for end, w0 in zip(history.params[:-1], start[:-1], strict=True)])



def _clip_stacked(clip_index, threshold, grads, params):
    """The optax clipping ``CLIPS[clip_index]`` at ``threshold`` of stacked-layout gradients
    (``clip_index`` traced; ``threshold <= 0``: no clipping).

    Adaptive clipping is unit-wise per layer, so it is mapped over the stacked hidden
    layers: the same result as on :func:`train_mlp`'s list of layers (a test checks).
    """
    def agc(g, p):
        one = optax.adaptive_grad_clip(threshold)
        per_layer = jax.vmap(lambda g, p: one.update(g, optax.EmptyState(), p)[0])
        return {"first": one.update(g["first"], optax.EmptyState(), p["first"])[0],
                "hidden": per_layer(g["hidden"], p["hidden"]),
                "readout": one.update(g["readout"], optax.EmptyState(), p["readout"])[0]}

    branches = [
        lambda g, p: g,
        lambda g, p: optax.clip_by_global_norm(threshold).update(g, optax.EmptyState())[0],
        lambda g, p: optax.clip(threshold).update(g, optax.EmptyState())[0],
        agc,
    ]
    return lax.switch(jnp.where(threshold > 0, clip_index + 1, 0), branches, grads, params)


@functools.partial(jax.jit, static_argnames=("steps",))
def train_stacked(stack, x, y, depth, act_index, w_mult, learning_rate, clip_norm,
                  residual=False, norm_index=0, clip_index=0, *, steps):
    """SGD on the stacked MLP with every knob traced: the engine of the training explorer.

    The same loop as :func:`train_mlp` with ``optimizer="sgd"``: each step records the
    loss, the per-layer ``||dL/dW_l||`` (before clipping), ``||Delta W_l|| / ||W_l||``, the
    global gradient norm and the applied update's global norm, then applies the optax
    clipping ``CLIPS[clip_index]`` at ``clip_norm`` (``clip_norm <= 0``: none) and
    ``optax.sgd(learning_rate)``. It stops at the first non-finite loss. Weights start at
    ``w_mult`` times ``stack``'s, biases at 0. Depth, activation, scale, learning rate and
    threshold, the skip connection and the norm layer (``residual``, ``norm_index`` as in
    :func:`gradviz.probes.probe_stacked`) are all traced, so moving any of them compiles
    nothing; ``steps`` is static.
    The gradient is the exact-depth backward loop of :func:`gradviz.probes.probe_stacked`
    (a test checks it against ``jax.grad`` via :func:`train_mlp`).

    Returns:
        dict: ``loss``, ``global_norms`` and ``update_norms (steps,)``, ``grad_norms`` and
        ``update_ratios (steps, max_depth)`` (rows past ``done`` and columns past ``depth``
        are 0), ``done``, the number of steps taken (the last one is the divergent step
        when the loss is not finite), and ``params``, the stacked weights after the last
        step (including that step's update when the loss was still finite).
    """
    params = {k: {"w": w_mult * v["w"], "b": jnp.zeros_like(v["b"])} for k, v in stack.items()}
    max_depth = params["hidden"]["w"].shape[0] + 1
    opt = optax.sgd(learning_rate)
    used = jnp.arange(max_depth) < depth

    def step(carry):
        t, params, state, rec = carry
        loss, grads, stats = probes._backprop(params, x, y, depth, act_index,
                                               residual=residual, norm_index=norm_index)
        clipped = _clip_stacked(clip_index, clip_norm, grads, params)
        updates, state = opt.update(clipped, state, params)
        ratios = probes.layer_norms(updates) / probes.layer_norms(params)
        rec = {"loss": rec["loss"].at[t].set(loss),
               "grad_norms": rec["grad_norms"].at[t].set(stats["weight_grad_norms"]),
               "update_ratios": rec["update_ratios"].at[t].set(jnp.where(used, ratios, 0)),
               "global_norms": rec["global_norms"].at[t].set(probes.tree_norm(grads)),
               "update_norms": rec["update_norms"].at[t].set(probes.tree_norm(updates))}
        return t + 1, optax.apply_updates(params, updates), state, rec

    def going(carry):
        t, _, _, rec = carry
        return (t < steps) & ((t == 0) | jnp.isfinite(rec["loss"][jnp.maximum(t - 1, 0)]))

    rec = {"loss": jnp.zeros((steps,)), "grad_norms": jnp.zeros((steps, max_depth)),
           "update_ratios": jnp.zeros((steps, max_depth)), "global_norms": jnp.zeros((steps,)),
           "update_norms": jnp.zeros((steps,))}
    done, params, _, rec = lax.while_loop(going, step, (0, params, opt.init(params), rec))
    return {**rec, "done": done, "params": params}



def _check_one_shape(name: str, configs: dict) -> None:
    """``configs`` must be a non-empty ``{label: MLPConfig}`` of one (depth, width, in, out)."""
    if not configs or not all(isinstance(c, MLPConfig) for c in configs.values()):
        raise ValueError(f"{name}={configs!r} must be a non-empty dict of MLPConfig")
    shapes = {(c.depth, c.width, c.in_dim, c.out_dim) for c in configs.values()}
    if len(shapes) != 1:
        raise ValueError(f"{name} have (depth, width, in_dim, out_dim) {sorted(shapes)}; "
                         "they must all be the same")

def train_variants(configs: dict, *, learning_rate: float = 0.01, steps: int = 200,
                   clip_norm: float | None = None, seed: int = 0, x=None, y=None,
                   batch_size: int = 256) -> dict:
    """SGD on several networks of one shape, one compiled program for all of them.

    Each ``MLPConfig`` may differ in activation, init, weight scale, ``residual`` and
    ``norm``; ``depth``, ``width``, ``in_dim`` and ``out_dim`` must agree and biases start
    at 0. Every run is :func:`train_mlp` with ``optimizer="sgd"`` on the same weights
    (drawn from ``seed``) and batch, computed by :func:`train_stacked`, so comparing four
    fixes costs one compile instead of four.

    Returns:
        ``{label: TrainHistory}`` whose ``update_norms`` are None; ``params`` are the final
        weights as :func:`gradviz.init_mlp`'s list (for :func:`evaluate` on held-out data).
    """
    from gradviz.models.mlp import NORMS, draw_stack, unstack_params

    _check_one_shape("configs", configs)
    if any(c.bias_scale != 0 for c in configs.values()):
        raise ValueError("configs must have bias_scale=0 (biases start at 0 in train_stacked)")
    learning_rate, clip_norm, steps, seed, batch_size = check_training_args(
        "sgd", learning_rate, clip_norm, steps, seed, batch_size)
    first = next(iter(configs.values()))
    if (x is None) != (y is None):
        raise ValueError("x and y must be given together (or both left as None)")
    if x is None:
        x, y = probes.default_batch(seed, batch_size, first.in_dim, first.out_dim)
    x, y = probes._check_batch(first, x, y)
    from gradviz import init

    out = {}
    for label, c in configs.items():
        stack = draw_stack(jax.random.PRNGKey(seed), init.NAMES.index(c.init), c.init_std,
                           in_dim=c.in_dim, width=c.width, out_dim=c.out_dim, max_depth=c.depth)
        r = jax.device_get(train_stacked(
            stack, x, y, c.depth, activations.NAMES.index(c.activation), c.weight_scale,
            learning_rate, -1.0 if clip_norm is None else clip_norm, c.residual,
            NORMS.index(c.norm), steps=steps))
        done = int(r["done"])
        loss = np.asarray(r["loss"][:done])
        out[label] = TrainHistory(loss, np.asarray(r["grad_norms"][:done]),
                                  np.asarray(r["update_ratios"][:done]),
                                  None if math.isfinite(loss[-1]) else done - 1,
                                  unstack_params(r["params"], c.depth), None)
    return out


def clip_gradient(grads, method: str, threshold: float, params=None):
    """``grads`` after optax's clipping ``method`` (one of :data:`CLIPS`) at ``threshold``.

    ``params`` is needed by ``"agc"``, which caps each unit's gradient relative to its
    weights. The same transformations :func:`train_mlp` chains before its optimizer.
    """
    _checks.one_of("method", method, CLIPS)
    threshold = _checks.real("threshold", threshold, low=0.0, inclusive=False)
    if method == "agc" and params is None:
        raise ValueError("method='agc' needs params (it clips relative to the weights)")
    return _clip_gradient(grads, params, threshold, method)


@functools.partial(jax.jit, static_argnames=("method",))
def _clip_gradient(grads, params, threshold, method):
    clip = {"global_norm": optax.clip_by_global_norm, "value": optax.clip,
            "agc": optax.adaptive_grad_clip}[method](threshold)
    return clip.update(grads, clip.init(grads), params)[0]


def cosine(a, b) -> float:
    """Cosine of the angle between two pytrees of the same structure, flattened:
    ``<a, b> / (||a|| ||b||)``; 1 means the same direction. Computed in float64."""
    from jax.flatten_util import ravel_pytree

    u = np.asarray(ravel_pytree(a)[0], dtype=np.float64)
    v = np.asarray(ravel_pytree(b)[0], dtype=np.float64)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


class Evaluation(NamedTuple):
    loss: float      # mean squared error on (x, y)
    accuracy: float  # share of rows whose largest output is the label (nan without labels)


def evaluate(cfg: MLPConfig, params, x, y, labels=None) -> Evaluation:
    """Loss of ``params`` on ``(x, y)`` and, for a classifier trained on one-hot targets, its
    accuracy: ``mean(argmax_k apply_mlp(params, x)_k == labels)``. Non-finite outputs give a
    nan loss and count as wrong.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    x, y = probes._check_batch(cfg, x, y)
    out = apply_mlp(params, x, cfg)  # (n, out_dim)
    loss = float(jnp.mean((out - y) ** 2))
    if labels is None:
        return Evaluation(loss, math.nan)
    labels = jnp.asarray(labels)
    if labels.shape != (x.shape[0],):
        raise ValueError(f"labels has shape {labels.shape}; need ({x.shape[0]},), one per row")
    right = (jnp.argmax(out, axis=1) == labels) & jnp.all(jnp.isfinite(out), axis=1)
    return Evaluation(loss, float(jnp.mean(right)))


def _weight_norms(layers: list, part: str = "w"):
    """``[||layer[part]|| for layer in layers[:-1]]``, ``(depth,)``: the hidden layers'
    same-shape matrices in one stacked reduction (:func:`gradviz.probes.norms`), which
    compiles in a fraction of the time of one reduction per layer."""
    hidden = [probes.norms([lay[part] for lay in layers[1:-1]])] if len(layers) > 2 else []
    return jnp.concatenate([probes.norm(layers[0][part])[None], *hidden])


class _Setting(NamedTuple):
    """What :func:`apply_mlp` reads of an ``MLPConfig``: hashable, so it can be static."""
    activation: str
    norm: str
    residual: bool


@functools.partial(jax.jit, static_argnames=("branches", "recipe", "steps", "norms"))
def _many_runs(params, branch, learning_rates, threshold, weight_decay, x, y, *, branches, recipe,
               steps, norms=True):
    """:func:`train_mlp`'s loop for many runs at once: a ``lax.scan`` over the steps
    for each run, the runs shared out over the devices (the same loss, ``jax.grad``, optax
    transformation and records). ``params``, ``branch`` ``(runs,)``, ``learning_rates``,
    ``x`` and ``y`` have a leading run axis. ``branches`` lists the static
    :class:`_Setting` tuples; run ``i`` trains :func:`apply_mlp` with ``branches[branch[i]]``,
    chosen once per run by ``lax.switch``, so each run computes only its own network
    (picking per layer with ``jnp.where`` computes every setting in use: lesson 07's five
    networks took 2.2x as long; a ``lax.switch`` per layer was slower still). A run's
    weights stop changing at its first non-finite loss, as :func:`train_mlp` stops there,
    and the run stops computing (``lax.cond``; the caller cuts the records at that step).
    With ``norms=False`` only the loss is recorded (the per-layer norms cost about a fifth
    of a step at width 64)."""

    def one(params, branch, learning_rate, xs, ys):
        opt = _optimizer(recipe, learning_rate, threshold, weight_decay)

        def train(setting, params):
            def loss_fn(p):
                return jnp.mean((apply_mlp(p, xs, setting) - ys) ** 2)

            def live(carry):
                params, state, alive = carry
                loss, grads = jax.value_and_grad(loss_fn)(params)
                updates, state = opt.update(grads, state, params)
                rec = {"loss": loss}
                if norms:
                    u_norms = _weight_norms(updates)  # (depth,)
                    every = jnp.concatenate([u_norms, _weight_norms(updates, "b"),
                                             jnp.stack([probes.norm(updates[-1]["w"]),
                                                        probes.norm(updates[-1]["b"])])])
                    rec.update(grad_norms=_weight_norms(grads),
                               update_ratios=u_norms / _weight_norms(params),
                               update_norms=probes.norm(every))
                alive = alive & jnp.isfinite(loss)  # this step's update is applied
                params = jax.tree.map(lambda new, old: jnp.where(alive, new, old),
                                      optax.apply_updates(params, updates), params)
                return (params, state, alive), rec

            carry = (params, opt.init(params), jnp.bool_(True))
            blank = jax.tree.map(lambda r: jnp.full(r.shape, jnp.nan, r.dtype),
                                 jax.eval_shape(live, carry)[1])

            def step(carry, _):
                # a diverged run stops computing: its later records are cut by the caller
                return lax.cond(carry[2], live, lambda c: (c, blank), carry)

            (params, _, _), rec = lax.scan(step, carry, None, length=steps)
            return params, rec

        if len(branches) == 1:
            return train(branches[0], params)
        return lax.switch(branch, [functools.partial(train, b) for b in branches], params)

    # the runs are independent: each device works through its share (gradviz._devices)
    return _devices.map_runs(one, (params, branch, learning_rates, x, y))


def train_many(nets: dict, runs, *, steps: int = 200, x=None, y=None,
               clip_norm: float | None = None, clip: str = "global_norm",
               batch_size: int = 256, optimizer: str = "sgd",
               weight_decay: float = 0.0, norms: bool = True) -> list:
    """Many runs of :func:`train_mlp` as one compiled program.

    ``runs`` lists ``(name, learning_rate, seed)``; run ``i`` is
    ``train_mlp(nets[name], optimizer, learning_rate, clip_norm, steps, seed, x, y,
    weight_decay=weight_decay)``: the same
    initial weights (:func:`init_mlp`'s draw), loss, ``jax.grad`` and optax update,
    recorded the same way. The networks must share ``depth``, ``width``, ``in_dim`` and
    ``out_dim``; activation, norm, skip setting, init and scales may differ. One compiled
    program computes them all, a ``lax.scan`` over the steps per run, the runs shared out
    over the CPU's devices (:func:`gradviz._devices.map_runs`: on 2 cores lesson 04's 60
    runs take about half the time, with the same numbers as on one device): the learning
    rates, seeds and network choices are traced, so a notebook comparing two activations
    at four learning rates over ten seeds compiles one program instead of one per network,
    and runs without a Python call per step. (Where networks differ, ``lax.switch`` picks
    each run's own network once, so a run computes only its own activation and norm.)

    Args:
        nets: ``{name: MLPConfig}``; runs: iterable of ``(name, learning_rate, seed)``.
        steps, clip_norm, clip, optimizer, weight_decay: as in :func:`train_mlp`; the
            weight decay is traced, so a sweep over it reuses the compiled program.
        x, y: one batch shared by every run (default: each seed's standard-normal batch
            of ``batch_size`` rows, as :func:`train_mlp` draws it).
        norms: record the per-layer gradient and update norms; with False the histories'
            ``grad_norms``, ``update_ratios`` and ``update_norms`` are None (a fifth faster).

    Returns:
        ``[TrainHistory]`` in the order of ``runs``, each cut at its divergent step as in
        :func:`train_mlp` (``params`` are the weights before that step).
    """

    _check_one_shape("nets", nets)
    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty; give at least one (name, learning_rate, seed)")
    for run in runs:
        if not (isinstance(run, tuple) and len(run) == 3 and run[0] in nets):
            raise ValueError(f"run {run!r} must be (name, learning_rate, seed) with a name "
                             f"of nets: {sorted(nets)}")
        check_training_args(optimizer, run[1], clip_norm, steps, run[2], batch_size)
    _, clip_norm, steps, _, batch_size = check_training_args(
        optimizer, 1.0, clip_norm, steps, 0, batch_size)
    _checks.one_of("clip", clip, CLIPS)
    weight_decay = _checks.real("weight_decay", weight_decay, low=0.0)
    if not isinstance(norms, bool):
        raise ValueError(f"norms={norms!r} must be True or False")
    cfg = next(iter(nets.values()))
    if (x is None) != (y is None):
        raise ValueError("x and y must be given together (or both left as None)")
    if x is not None:
        x, y = probes._check_batch(cfg, x, y)
    settings = [_Setting(nets[name].activation, nets[name].norm, nets[name].residual)
                for name, _, _ in runs]
    branches = tuple(dict.fromkeys(settings))
    branch = np.array([branches.index(s) for s in settings], dtype=np.int32)
    drawn = {}
    for name, _, seed in runs:  # init_mlp's own compiled draw, once per (net, seed)
        if (name, seed) not in drawn:
            drawn[name, seed] = init_mlp(nets[name], jax.random.PRNGKey(int(seed)))
    params = jax.tree.map(lambda *a: jnp.stack(a), *[drawn[n, s] for n, _, s in runs])
    if x is None:
        batches = [probes.default_batch(int(s), batch_size, cfg.in_dim, cfg.out_dim)
                   for _, _, s in runs]
        xs, ys = jnp.stack([b[0] for b in batches]), jnp.stack([b[1] for b in batches])
    else:
        xs, ys = (jnp.broadcast_to(a, (len(runs), *a.shape)) for a in (x, y))
    rates = jnp.asarray([float(r) for _, r, _ in runs], dtype=jnp.float32)
    # AdamW decays inside the optimizer, so a traced decay of 0 computes what no decay does
    # (w + 0 * w): every decay shares one program
    recipe = Recipe(optimizer, None if clip_norm is None else clip,
                    weight_decay > 0 or optimizer == "adamw")
    final, rec = jax.device_get(_many_runs(
        params, jnp.asarray(branch), rates, 1.0 if clip_norm is None else clip_norm,
        weight_decay, xs, ys, branches=branches, recipe=recipe, steps=steps, norms=norms))
    cut = (lambda a, i, done: np.asarray(a[i, :done])) if norms else (lambda a, i, done: None)
    out = []
    for i in range(len(runs)):
        bad = np.flatnonzero(~np.isfinite(rec["loss"][i]))
        done = steps if bad.size == 0 else int(bad[0]) + 1
        out.append(TrainHistory(
            np.asarray(rec["loss"][i, :done]), cut(rec.get("grad_norms"), i, done),
            cut(rec.get("update_ratios"), i, done), None if bad.size == 0 else done - 1,
            jax.tree.map(lambda a, i=i: a[i], final), cut(rec.get("update_norms"), i, done)))
    return out
