"""Probe speed: gradviz against PyTorch, un-jitted JAX, an unrolled jit, and the hardware.

For a tanh MLP (LeCun init, batch 128) at depths 10/50/100 and widths 64/256, time

* (a) ``gv.probe_mlp`` (warm), the public API;
* (b) the same per-layer norms in PyTorch on the CPU (``torch_probe.TorchProbe``);
* (c) the same JAX code with ``jax.disable_jit()``;
* (d) the explorer's engine ``probes.probe_stacked`` on weights stacked for depth 100;
* (e) the bare unrolled, exact-depth jitted chain: ``jax.grad`` of the loss, no norms.

All three of (a)-(c) are first checked to agree. FLOP/s counts the matmuls of one forward
and backward pass (3 x forward) and compares with one large matmul, the machine's peak.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import gradviz as gv
from benchmarks.common import compare, machine, median_ms, save, time_calls
from gradviz import probes
from gradviz.models.mlp import init_mlp_stacked

SHAPES = [(10, 64), (50, 64), (100, 64), (10, 256), (50, 256), (100, 256)]
BATCH = 128


@jax.jit
def bare_chain(params, x, y):
    """(e): the same forward and backward matmuls, nothing else."""
    def loss(p):
        h = x
        for layer in p[:-1]:
            h = jnp.tanh(h @ layer["w"] + layer["b"])
        return jnp.mean((h @ p[-1]["w"] + p[-1]["b"] - y) ** 2)
    return jax.grad(loss)(params)


def flops(depth: int, width: int, in_dim: int, out_dim: int = 1) -> float:
    forward = 2 * BATCH * (in_dim * width + (depth - 1) * width * width + width * out_dim)
    return 3.0 * forward


def peak_matmul(n: int = 2048) -> dict:
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n))
    mm = jax.jit(lambda a: a @ a)
    t = time_calls(lambda: mm(a).block_until_ready(), min_calls=10)
    return {"n": n, "ms": median_ms(t), "gflops": 2 * n**3 / (median_ms(t) * 1e-3) / 1e9}


def run() -> dict:
    import torch

    from benchmarks.torch_probe import TorchProbe

    rows = []
    for depth, width in SHAPES:
        cfg = gv.MLPConfig(depth=depth, width=width, in_dim=width, activation="tanh")
        params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
        x, y = probes.default_batch(0, BATCH, cfg.in_dim, cfg.out_dim)

        a = gv.probe_mlp(cfg, params=params, x=x, y=y)
        tp = TorchProbe(params, x, y, "tanh")
        b_w, b_h, b_loss = tp()
        with jax.disable_jit():
            c = jax.device_get(probes.probe_unrolled(params, x, y, "tanh"))
        for ref, name in ((b_w, "torch"), (c["weight_grad_norms"], "no-jit")):
            np.testing.assert_allclose(ref, a.weight_grad_norms, rtol=1e-3, err_msg=name)
        np.testing.assert_allclose(b_h, a.activation_grad_norms, rtol=1e-3)
        np.testing.assert_allclose(b_loss, a.loss, rtol=1e-4)

        stack = init_mlp_stacked(jax.random.PRNGKey(0), gv.init.NAMES.index("lecun"), 0.01,
                                 in_dim=width, width=width, out_dim=1, max_depth=100)
        act = gv.activations.NAMES.index("tanh")
        t = compare({
            "probe_mlp": lambda: gv.probe_mlp(cfg, params=params, x=x, y=y),
            "torch": tp,
            "explorer_engine": lambda: jax.block_until_ready(
                probes.probe_stacked(stack, x, y, depth, act)),
            "bare_jit": lambda: jax.block_until_ready(bare_chain(params, x, y)),
        })
        t["jax_nojit"] = time_calls(lambda: jax.block_until_ready(_nojit(params, x, y)),
                                    min_calls=3, min_seconds=0.5, warmup=1)
        ms = {k: median_ms(v) for k, v in t.items()}
        f = flops(depth, width, width)
        rows.append({"depth": depth, "width": width, "ms": ms,
                     "speedup_vs_torch": ms["torch"] / ms["probe_mlp"],
                     "speedup_vs_nojit": ms["jax_nojit"] / ms["probe_mlp"],
                     "probe_over_bare_jit": ms["probe_mlp"] / ms["bare_jit"],
                     "engine_over_bare_jit": ms["explorer_engine"] / ms["bare_jit"],
                     "gflops_probe": f / (ms["probe_mlp"] * 1e-3) / 1e9,
                     "gflops_bare_jit": f / (ms["bare_jit"] * 1e-3) / 1e9})
        print(f"d{depth:<3} w{width:<3} " + "  ".join(f"{k} {v:7.2f} ms" for k, v in ms.items()),
              flush=True)
    return {"machine": machine(), "versions": {"jax": jax.__version__, "torch": torch.__version__},
            "torch_threads": torch.get_num_threads(), "batch": BATCH, "rows": rows,
            "peak": peak_matmul()}


def _nojit(params, x, y):
    with jax.disable_jit():
        return probes.probe_unrolled(params, x, y, "tanh")


if __name__ == "__main__":
    print(save("probe_speed", run()))
