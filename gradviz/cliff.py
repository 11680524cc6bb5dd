"""Pascanu et al.'s cliff: a one-unit recurrent network whose loss has a wall.

.. math::
    x_t = w\\,\\sigma(x_{t-1}) + b, \\qquad b = -\\tfrac{w}{2} + \\delta, \\qquad
    x_0 = 0.5, \\qquad L(w) = (x_T - 0.7)^2, \\quad T = 50

Near ``w = 4.9`` (with ``delta = -0.1``) the map ``x -> w sigma(x) + b`` gains a second
stable fixed point, and ``x_T`` jumps from one to the other over a sliver of ``w`` about
``1e-3`` wide: the loss has a near-vertical wall whose gradient is thousands of times
larger than anywhere else (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
training recurrent neural networks", figure 6). One gradient step on the wall throws
``w`` far away; clipping bounds the step.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gradviz import _checks

OFFSET, STEPS, X0, TARGET = -0.1, 50, 0.5, 0.7


def loss(w):
    """``L(w)`` of the module docstring (scalar ``w``, traceable)."""
    def step(x, _):
        return w * jax.nn.sigmoid(x) + (-w / 2 + OFFSET), None

    x_T, _ = jax.lax.scan(step, jnp.asarray(X0, jnp.result_type(w, float)), None, length=STEPS)
    return (x_T - TARGET) ** 2


_loss_and_grad = jax.jit(jax.vmap(jax.value_and_grad(loss)))


def along(ws) -> tuple[np.ndarray, np.ndarray]:
    """``(L(w), dL/dw)`` at every ``w`` in ``ws``, as numpy arrays."""
    values, grads = _loss_and_grad(jnp.asarray(ws, jnp.float32))
    return np.asarray(values), np.asarray(grads)


def wall(lo: float = 4.895, hi: float = 4.905, n: int = 10001) -> float:
    """The ``w`` in ``[lo, hi]`` (grid of ``n``) where ``|dL/dw|`` is largest: the cliff face."""
    ws = np.linspace(lo, hi, _checks.integer("n", n, low=2))
    return float(ws[np.argmax(np.abs(along(ws)[1]))])


@functools.lru_cache(maxsize=4)
def _step(clipped: bool):
    @jax.jit
    def step(w, learning_rate, clip_norm):
        value, grad = jax.value_and_grad(loss)(w)
        opt = optax.sgd(learning_rate)
        if clipped:  # one parameter: clipping by global norm = clipping by value
            opt = optax.chain(optax.clip_by_global_norm(clip_norm), opt)
        update, _ = opt.update(grad, opt.init(w), w)  # both stateless
        return w + update, value, grad

    return step


def descend(w0: float, learning_rate: float = 0.01, steps: int = 30,
            clip_norm: float | None = None) -> dict:
    """Gradient descent on ``L(w)`` from ``w0``: optax SGD, after
    ``clip_by_global_norm(clip_norm)`` if given.

    Returns:
        ``{"w", "loss", "grad"}``: numpy arrays ``(steps,)``, the point, loss and gradient
        before each step.
    """
    w0 = _checks.real("w0", w0, low=-1e6)
    learning_rate = _checks.real("learning_rate", learning_rate, low=0.0, inclusive=False)
    steps = _checks.integer("steps", steps, low=1, high=10000)
    if clip_norm is not None:
        clip_norm = _checks.real("clip_norm", clip_norm, low=0.0, inclusive=False)
    step = _step(clip_norm is not None)
    w, rows = jnp.float32(w0), []
    for _ in range(steps):
        new, value, grad = step(w, learning_rate, 1.0 if clip_norm is None else clip_norm)
        rows.append((float(w), float(value), float(grad)))
        w = new
    w_, l_, g_ = (np.array(c) for c in zip(*rows, strict=True))
    return {"w": w_, "loss": l_, "grad": g_}
