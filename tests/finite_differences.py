"""Central finite differences, the independent reference the probe tests share."""

import jax.numpy as jnp
import numpy as np


def weight_grad_fd(loss, params, l, eps=1e-6):
    """``dL/dW_l`` by central differences: ``loss(params)`` with ``params[l]["w"]`` nudged."""
    w = np.asarray(params[l]["w"])
    fd = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        for sign in (1, -1):
            p = [dict(q) for q in params]
            p[l]["w"] = jnp.asarray(w).at[idx].add(sign * eps)
            fd[idx] += sign * float(loss(p)) / (2 * eps)
    return fd
