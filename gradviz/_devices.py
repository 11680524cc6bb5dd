"""Independent runs side by side: each CPU core as an XLA device.

XLA runs a program on one device, and for the lessons' small matrices a CPU device keeps
about one core busy (lesson 04's 60 training runs, vmapped: 1.3 cores of 2). Asked for
before JAX starts its CPU backend, ``jax_num_cpu_devices`` makes the CPU several devices; a
program that hands its independent runs to :func:`map_runs` then works through a share of
them on each device, side by side, and every run's numbers are the same bit for bit whatever
the number of devices (tests/test_devices.py). Everything else runs on the first device, as
before.

``GRADVIZ_CPU_DEVICES=1`` keeps one device. Where JAX was already running when gradviz was
imported, or the user chose the number themselves, gradviz leaves it as it is.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh, PartitionSpec


def cpu_cores() -> int:
    """The cores this process may use (its CPU affinity, where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def request_cpu_devices() -> int | None:
    """Ask JAX for one CPU device per core (at most 8), unless it has started already or
    the user set ``jax_num_cpu_devices``; ``$GRADVIZ_CPU_DEVICES`` overrides the count.
    Returns the number asked for, or None when nothing was changed."""
    if jax.config.jax_num_cpu_devices != -1:
        return None
    wanted = os.environ.get("GRADVIZ_CPU_DEVICES", "").strip()
    n = int(wanted) if wanted.isdigit() and int(wanted) >= 1 else min(cpu_cores(), 8)
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:  # JAX is running already: one device, the same numbers
        return None
    return n


def map_runs(fn, args):
    """``fn`` applied to each run of ``args`` (a tuple of pytrees whose leaves all have the
    runs on their leading axis), inside ``jit``; the results stacked along that axis.

    On a CPU each device takes an equal share of the runs (padded with copies of run 0, cut
    off again) and works through it with ``lax.map``, one run at a time. Every run is
    therefore the same computation, of the same shapes, whatever the number of devices: the
    results are bit for bit those of one device (tests/test_devices.py). On one device this
    is as fast as ``vmap``'s batched products of small matrices (lesson 04's 59 runs: 11.1 s
    against 11.05 s). On a GPU or TPU, where batching is what makes it fast, it is
    ``jax.vmap(fn)``.
    """
    if jax.default_backend() != "cpu":
        return jax.vmap(fn)(*args)
    devices = jax.devices()
    n = jax.tree.leaves(args)[0].shape[0]
    k = min(len(devices), n)
    if k == 1:
        return lax.map(lambda a: fn(*a), args)
    pad = -n % k
    if pad:
        args = jax.tree.map(lambda a: jnp.concatenate([a, jnp.repeat(a[:1], pad, axis=0)]), args)
    mesh = Mesh(np.array(devices[:k]), ("runs",))
    spec = PartitionSpec("runs")
    out = jax.shard_map(lambda *a: lax.map(lambda b: fn(*b), a), mesh=mesh,
                        in_specs=(spec,) * len(args), out_specs=spec, check_vma=False)(*args)
    return jax.tree.map(lambda a: a[:n], out)


request_cpu_devices()  # on import: gradviz/__init__.py imports this module first
