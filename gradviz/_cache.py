"""Compiling less slowly: a persistent XLA compilation cache, so a lesson's second run starts
in about a second, and LLVM's -O1 for the programs where it changes no result."""

from __future__ import annotations

import functools
import os
import pathlib

import jax

# XLA compile options for gradviz's transformer programs: LLVM's -O1 instead of the default
# -O2. The MLP probe and training loops stay at -O2: at -O1 they compiled no faster
# (probe_stacked 1.03 vs 1.06 s, train_stacked 1.74 vs 1.73 s, tanh depth 30 width 64 on a
# 2-core CPU). Without the fusion emitters as well (see DRAW_COMPILE), lesson 11's 40
# transformer runs compiled 1.3 s faster and ran 1.4 s slower: no gain.
FAST_COMPILE = {"xla_backend_optimization_level": 1}

# ... and for the random draws, whose run time is negligible: -O1 and XLA's older loop
# emitters instead of its fusion emitters. The MLP weight draw (9-scheme switch, first
# layer + 31 hidden + readout) compiled in 1.35-1.7 s at -O1 and 0.9-1.25 s with both
# (three runs each, widths 64 and 256); every draw gives the same numbers bit for bit as at
# XLA's defaults (tests/test_compile_options.py). The fusion emitters make the training
# loops run faster (train_stacked 1.14 s against 1.56 s without them), so they keep them.
DRAW_COMPILE = {**FAST_COMPILE, "xla_cpu_use_fusion_emitters": False}


def fast_on_host(fn, static_argnames=()):
    """``jax.jit(fn)`` compiled with :data:`DRAW_COMPILE` when called from Python, and the
    plain ``jax.jit(fn)`` when called inside another trace: jax refuses compile options on
    a jit nested in another jit, whose program the outer one compiles anyway."""
    plain = jax.jit(fn, static_argnames=static_argnames)
    fast = jax.jit(fn, static_argnames=static_argnames, compiler_options=DRAW_COMPILE)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        traced = any(isinstance(a, jax.core.Tracer) for a in jax.tree.leaves((args, kwargs)))
        return (plain if traced else fast)(*args, **kwargs)

    return call


@functools.partial(fast_on_host, static_argnames=("shape",))
def normal(key, shape):
    """``jax.random.normal(key, shape)`` compiled with :data:`DRAW_COMPILE`, for the data
    drawn outside any jit. Called eagerly, jax compiles each new shape at -O2: about
    0.75-0.9 s for a 3-d shape such as a batch of sequences, against 0.13-0.19 s at -O1,
    with the same numbers bit for bit (tests/test_compile_options.py)."""
    return jax.random.normal(key, shape)


@functools.partial(fast_on_host, static_argnames=("shape",))
def uniform(key, shape, minval=0.0, maxval=1.0):
    """``jax.random.uniform(key, shape, minval=minval, maxval=maxval)`` as :func:`normal`."""
    return jax.random.uniform(key, shape, minval=minval, maxval=maxval)


@functools.partial(fast_on_host, static_argnames=("n",))
def permutation(key, n):
    """``jax.random.permutation(key, n)`` as :func:`normal`."""
    return jax.random.permutation(key, n)


def enable() -> str | None:
    """Point JAX's persistent compilation cache at a project-local folder.

    Uses ``$GRADVIZ_CACHE_DIR``, else ``.jax_cache`` beside the package (a source
    checkout), else ``~/.cache/gradviz/jax``. Leaves a cache the user configured alone.
    """
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    candidates = [os.environ.get("GRADVIZ_CACHE_DIR"),
                  pathlib.Path(__file__).resolve().parents[1] / ".jax_cache",
                  pathlib.Path.home() / ".cache" / "gradviz" / "jax"]
    for folder in filter(None, candidates):
        try:
            pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            jax.config.update("jax_compilation_cache_dir", str(folder))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            return str(folder)
    return None
