"""IPython startup file: each random draw in this kernel moves by one float32 ulp.

The lessons are executed on one processor and read on others, whose float32 sums differ in
their last bits. This file stands in for "another processor": copied into an IPython profile's
``startup/`` folder (tests/test_perturbed_lessons.py does it), it wraps ``jax.random.normal``,
``uniform`` and ``truncated_normal`` so that each element drawn moves to its float neighbour
below or above, or stays, each with probability about 1/3 (a choice drawn from the same key).
Weights (see the end of this file), biases, inputs and targets made by gradviz all pass
through these functions, so every lesson runs on values one ulp away from the committed run's,
and nbval then tells which printed numbers survive. ``GRADVIZ_NOISE_PATTERN`` (an integer,
default 0) picks another pattern of moves, standing in for yet another processor.
"""

import os

import jax
import jax._src.random as _jax_random
import jax.numpy as jnp

_PATTERN = 0x5EED + int(os.environ.get("GRADVIZ_NOISE_PATTERN", "0"))


def _nudged(draw):
    def wrapper(key, *args, **kwargs):
        x = draw(key, *args, **kwargs)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            return x
        bits = jax.random.bits(jax.random.fold_in(key, _PATTERN), x.shape, jnp.uint8)
        step = (bits % 3).astype(jnp.int8) - 1  # -1, 0, +1
        return jnp.where(step == 0, x, jnp.nextafter(x, step * jnp.inf).astype(x.dtype))
    wrapper.__wrapped__ = draw
    return wrapper


for _name in ("normal", "uniform", "truncated_normal"):
    _nudged_draw = _nudged(getattr(_jax_random, _name))
    setattr(_jax_random, _name, _nudged_draw)
    setattr(jax.random, _name, _nudged_draw)

# gradviz draws its weights from one threefry call and converts the bits itself
# (gradviz.init.draw_stacks), which equals, bit for bit, a switch over the jax.nn initializers
# (tests/test_activations_init.py). Here it takes that route, through the nudged draws above,
# so that the weights move by an ulp too.
import gradviz.init as _init  # noqa: E402


def _draw_stacks_via_jax_nn(index, keys, shapes, *, std=0.01, dtype=jnp.float32):
    def branch(name):
        return lambda: tuple(
            jax.vmap(lambda i, k=k, fi=fi, fo=fo: _init.INITIALIZERS[name](std)(
                jax.random.fold_in(k, i), (fi, fo), dtype))(jnp.arange(n))
            for k, (n, fi, fo) in zip(keys, shapes, strict=True))
    return jax.lax.switch(index, [branch(name) for name in _init.NAMES])


_init.draw_stacks = _draw_stacks_via_jax_nn
