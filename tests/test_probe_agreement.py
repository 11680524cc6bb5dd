"""The implementations that benchmarks/probe_speed.py times agree on the same network.

gradviz's jitted probe, the same JAX code run op by op (``jax.disable_jit``), a NumPy
backprop written out by hand, and, where the ``[bench]`` extra is installed, the PyTorch
baseline with ``.grad`` reads.
"""

import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import gradviz as gv
from gradviz import probes

REPO = Path(__file__).resolve().parents[1]


def _network(depth=12, width=32):
    cfg = gv.MLPConfig(depth=depth, width=width, in_dim=width, activation="tanh", bias_scale=0.1)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(5))
    x, y = probes.default_batch(2, 64, width, 1)
    return cfg, params, x, y


def _numpy_backprop(params, x, y):
    p = [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in params]
    xs = [np.asarray(x, np.float64)]
    for layer in p[:-1]:
        xs.append(np.tanh(xs[-1] @ layer["w"] + layer["b"]))
    out = xs[-1] @ p[-1]["w"] + p[-1]["b"]
    g = (2 * (out - np.asarray(y)) / out.size) @ p[-1]["w"].T  # dL/dx_{L-1}
    w_norms, h_norms = [], []
    for l in range(len(p) - 2, -1, -1):
        delta = g * (1 - xs[l + 1] ** 2)  # dL/dh_l
        w_norms.append(np.linalg.norm(xs[l].T @ delta))
        h_norms.append(np.linalg.norm(delta))
        g = delta @ p[l]["w"].T
    return np.array(w_norms[::-1]), np.array(h_norms[::-1])


def test_jit_nojit_and_numpy_agree():
    cfg, params, x, y = _network()
    r = gv.probe_mlp(cfg, params=params, x=x, y=y)
    with jax.disable_jit():
        eager = jax.device_get(probes.probe_unrolled(params, x, y, "tanh"))
    w_ref, h_ref = _numpy_backprop(params, x, y)
    np.testing.assert_allclose(r.weight_grad_norms, w_ref, rtol=1e-4)
    np.testing.assert_allclose(r.activation_grad_norms, h_ref, rtol=1e-4)
    np.testing.assert_allclose(eager["weight_grad_norms"], w_ref, rtol=1e-4)
    np.testing.assert_allclose(eager["activation_grad_norms"], h_ref, rtol=1e-4)


def test_pytorch_baseline_agrees():
    pytest.importorskip("torch", reason="the PyTorch baseline needs the [bench] extra")
    sys.path.insert(0, str(REPO))
    from benchmarks.torch_probe import TorchProbe

    cfg, params, x, y = _network()
    r = gv.probe_mlp(cfg, params=params, x=x, y=y)
    w, h, loss = TorchProbe(params, x, y, "tanh")()
    np.testing.assert_allclose(w, r.weight_grad_norms, rtol=1e-4)
    np.testing.assert_allclose(h, r.activation_grad_norms, rtol=1e-4)
    np.testing.assert_allclose(loss, r.loss, rtol=1e-5)
