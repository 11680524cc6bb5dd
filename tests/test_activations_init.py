"""Activations, derivatives and gains; init schemes and their variances."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradviz as gv
from gradviz import activations, init, theory


@pytest.mark.parametrize("name", activations.NAMES)
def test_derivative_matches_central_differences(name):
    with jax.enable_x64(True):
        x = jnp.linspace(-3.0, 3.0, 61) + 0.013  # avoid the kink at 0
        f = activations.get(name)
        fd = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
        np.testing.assert_allclose(activations.derivative(name)(x), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["elu", "gelu", "silu"])
def test_derived_gains_make_chi_one_at_unit_variance(name):
    assert theory.chi(name, activations.gain(name), 0.0, q=1.0) == pytest.approx(1.0, rel=1e-4)


def test_conventional_gains():
    assert activations.gain("relu") == pytest.approx(np.sqrt(2))
    assert activations.gain("tanh") == pytest.approx(5 / 3)
    assert theory.chi("relu", activations.gain("relu")) == pytest.approx(1.0)


@pytest.mark.parametrize("name", activations.NAMES)
def test_derivative_bounds(name):
    x = jnp.linspace(-20, 20, 200001)
    top = float(jnp.max(jnp.abs(activations.derivative(name)(x))))
    assert top <= activations.DERIVATIVE_BOUNDS[name] * (1 + 1e-3)
    assert top >= activations.DERIVATIVE_BOUNDS[name] * (1 - 1e-3)


@pytest.mark.parametrize("name,expected", [
    ("lecun", lambda fi, fo: 1 / fi), ("xavier_normal", lambda fi, fo: 2 / (fi + fo)),
    ("xavier_uniform", lambda fi, fo: 2 / (fi + fo)), ("he_normal", lambda fi, fo: 2 / fi),
    ("he_uniform", lambda fi, fo: 2 / fi), ("orthogonal", lambda fi, fo: 1 / max(fi, fo)),
    ("normal", lambda fi, fo: 0.05**2), ("zeros", lambda fi, fo: 0.0)])
def test_init_variance_times_weight_scale(name, expected):
    fi, fo, s = 400, 300, 1.7
    w = init.draw(name, jax.random.PRNGKey(0), fi, fo, weight_scale=s, std=0.05)
    assert w.shape == (fi, fo)
    assert float(jnp.var(w)) == pytest.approx(s**2 * expected(fi, fo), rel=0.03, abs=1e-12)
    sw = init.sigma_w(name, fi, fo, weight_scale=s, std=0.05)
    assert sw**2 == pytest.approx(fi * s**2 * expected(fi, fo), rel=1e-12)


def test_lecun_sigma_w_is_weight_scale():
    cfg = gv.MLPConfig(width=128, init="lecun", weight_scale=0.7)
    assert cfg.sigma_w == pytest.approx(0.7)


def test_orthogonal_is_orthogonal():
    w = init.draw("orthogonal", jax.random.PRNGKey(1), 64, 64, weight_scale=2.0)
    np.testing.assert_allclose(w.T @ w, 4.0 * np.eye(64), atol=1e-4)


def test_stacked_draw_picks_the_named_scheme():
    for i, name in enumerate(init.NAMES):
        (stack,) = init.draw_stacks(i, [jax.random.PRNGKey(2)], [(3, 50, 50)], std=0.05)
        expected = init.sigma_w(name, 50, 50, std=0.05) ** 2 / 50
        assert float(jnp.var(stack)) == pytest.approx(expected, rel=0.1, abs=1e-12)


@pytest.mark.parametrize("fan_in, fan_out", [(16, 64), (64, 64), (64, 1), (13, 30)])
def test_stacked_draw_equals_the_jax_nn_initializer_of_each_layer(fan_in, fan_out):
    """Matrix i of a stack, drawn by the compiled switch over schemes, is the scheme's own
    jax.nn draw from fold_in(key, i) (up to the last float32 bit: XLA may fold the
    constant scale differently in the compiled program than in an eager call)."""
    key = jax.random.PRNGKey(5)
    draw = jax.jit(lambda index: init.draw_stacks(index, [key], [(3, fan_in, fan_out)], std=0.05))
    for index, name in enumerate(init.NAMES):
        (stack,) = draw(index)
        expected = np.stack([init.INITIALIZERS[name](0.05)(jax.random.fold_in(key, i),
                                                           (fan_in, fan_out), jnp.float32)
                             for i in range(3)])
        np.testing.assert_allclose(np.asarray(stack), expected, rtol=5e-7, atol=1e-30,
                                   err_msg=name)


def _switch_over_jax_nn(index, keys, shapes, std):
    """The reference draw: a lax.switch over the nine jax.nn initializer calls, each
    drawing its own random bits from fold_in(key, i)."""
    def branch(name):
        return lambda: tuple(
            jax.vmap(lambda i, k=k, fi=fi, fo=fo: init.INITIALIZERS[name](std)(
                jax.random.fold_in(k, i), (fi, fo), jnp.float32))(jnp.arange(n))
            for k, (n, fi, fo) in zip(keys, shapes, strict=True))
    return jax.lax.switch(index, [branch(name) for name in init.NAMES])


@pytest.mark.parametrize("shapes", [[(1, 16, 64), (5, 64, 64), (1, 64, 1)],
                                    [(2, 30, 13), (1, 5, 5)], [(3, 6, 6)]])
def test_stacked_draw_from_shared_bits_is_the_jax_nn_draw_bit_for_bit(shapes):
    """draw_stacks draws the random bits once for all stacks and converts them per scheme;
    compiled the same way, that must give exactly the numbers of the nine jax.nn calls
    (stacks of different sizes in one call included: a short matrix takes the first bits
    of a longer draw)."""
    keys = list(jax.random.split(jax.random.PRNGKey(9), len(shapes)))
    ours = jax.jit(lambda i, s: init.draw_stacks(i, keys, shapes, std=s))
    ref = jax.jit(lambda i, s: _switch_over_jax_nn(i, keys, shapes, s))
    for index, name in enumerate(init.NAMES):
        for std in (0.01, 0.7):
            for a, b in zip(ours(index, std), ref(index, std), strict=True):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)


def test_stacked_draw_refuses_other_dtypes():
    with pytest.raises(ValueError, match="dtype"):
        init.draw_stacks(0, [jax.random.PRNGKey(0)], [(1, 4, 4)], dtype=jnp.float16)
