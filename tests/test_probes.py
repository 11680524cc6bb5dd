"""The fast probe against finite differences, hand-written backprop, jax.grad and optax."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from finite_differences import weight_grad_fd

import gradviz as gv
from gradviz import probes


def _f64(tree):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), tree)


def _small(activation="tanh", residual=False, depth=3):
    cfg = gv.MLPConfig(depth=depth, width=5, in_dim=4, out_dim=2, activation=activation,
                       bias_scale=0.3, residual=residual)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(3))
    x, y = probes.default_batch(1, 6, 4, 2)
    return cfg, params, x, y


def _loss_with_shifts(params, x, y, cfg, shifts):
    """MSE loss with ``shifts[l]`` added to layer l's pre-activation (dL/dshift = dL/dh_l)."""
    phi = gv.activations.get(cfg.activation)
    h = x
    for l, layer in enumerate(params[:-1]):
        z = phi(h @ layer["w"] + layer["b"] + shifts[l])
        h = h + z if (cfg.residual and l >= 1) else z
    return jnp.mean((h @ params[-1]["w"] + params[-1]["b"] - y) ** 2)


@pytest.mark.parametrize("activation,residual", [("tanh", False), ("gelu", False),
                                                 ("sigmoid", True)])
def test_probe_matches_central_finite_differences(activation, residual):
    with jax.enable_x64(True):
        cfg, params, x, y = _small(activation, residual)
        params, x, y = _f64(params), _f64(x), _f64(y)
        r = probes.probe_stacked(gv.stack_params(params), x, y, cfg.depth,
                                 gv.activations.NAMES.index(activation), residual=residual)
        eps = 1e-6
        shifts = [jnp.zeros((6, 5))] * cfg.depth
        for l in range(cfg.depth):
            fd = weight_grad_fd(lambda p: _loss_with_shifts(p, x, y, cfg, shifts), params, l, eps)
            np.testing.assert_allclose(r["weight_grad_norms"][l], np.linalg.norm(fd), rtol=1e-6)
            s = np.zeros((6, 5))
            fd_h = np.zeros((6, 5))
            for idx in np.ndindex(s.shape):
                for sign in (1, -1):
                    sh = list(shifts)
                    sh[l] = jnp.asarray(s).at[idx].set(sign * eps)
                    fd_h[idx] += sign * float(_loss_with_shifts(params, x, y, cfg, sh)) / (2 * eps)
            np.testing.assert_allclose(r["activation_grad_norms"][l], np.linalg.norm(fd_h),
                                       rtol=1e-6)


def test_probe_matches_hand_written_backprop_two_layers():
    cfg, params, x, y = _small("tanh", depth=2)
    p = [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in params]
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    x0 = np.tanh(x @ p[0]["w"] + p[0]["b"])
    x1 = np.tanh(x0 @ p[1]["w"] + p[1]["b"])
    yhat = x1 @ p[2]["w"] + p[2]["b"]
    d_yhat = 2 * (yhat - y) / y.size            # dL/dyhat of the mean over all entries
    d1 = (d_yhat @ p[2]["w"].T) * (1 - x1**2)   # dL/dh_1
    d0 = (d1 @ p[1]["w"].T) * (1 - x0**2)       # dL/dh_0
    r = gv.probe_mlp(cfg, params=params, x=x.astype(np.float32), y=y.astype(np.float32))
    np.testing.assert_allclose(r.activation_grad_norms, [np.linalg.norm(d0), np.linalg.norm(d1)],
                               rtol=1e-5)
    np.testing.assert_allclose(r.weight_grad_norms,
                               [np.linalg.norm(x.T @ d0), np.linalg.norm(x0.T @ d1)], rtol=1e-5)
    np.testing.assert_allclose(r.loss, np.mean((yhat - y) ** 2), rtol=1e-5)


@pytest.mark.parametrize("activation", gv.activations.NAMES)
@pytest.mark.parametrize("residual", [False, True])
def test_probe_matches_jax_grad_of_apply_mlp(activation, residual):
    cfg = gv.MLPConfig(depth=7, width=16, activation=activation, init="he_normal",
                       bias_scale=0.1, residual=residual)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    x, y = probes.default_batch(0, 32, cfg.in_dim, cfg.out_dim)
    loss, grads = probes.mse_loss_and_grads(params, x, y, cfg)
    r = gv.probe_mlp(cfg, params=params, x=x, y=y)
    np.testing.assert_allclose(r.weight_grad_norms,
                               [np.linalg.norm(g["w"]) for g in grads[:-1]], rtol=2e-5)
    np.testing.assert_allclose(r.loss, loss, rtol=1e-6)
    np.testing.assert_allclose(r.global_norm, optax.tree.norm(grads), rtol=2e-5)
    stacked = probes.probe_stacked(gv.stack_params(params), x, y, cfg.depth,
                                   gv.activations.NAMES.index(activation), residual=residual)
    for name in ("weight_grad_norms", "activation_grad_norms", "activation_stds"):
        np.testing.assert_allclose(stacked[name], getattr(r, name), rtol=2e-5, err_msg=name)
    np.testing.assert_allclose(stacked["global_norm"], r.global_norm, rtol=2e-5)


def test_clipped_norms_match_optax_clip_by_global_norm():
    cfg = gv.MLPConfig(depth=12, width=32, activation="relu", init="he_normal",
                       weight_scale=1.3)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    x, y = probes.default_batch(0, 64, cfg.in_dim, cfg.out_dim)
    _, grads = probes.mse_loss_and_grads(params, x, y, cfg)
    for c in (1e-3, 0.5, 1e6):
        clipped, _ = optax.clip_by_global_norm(c).update(grads, optax.EmptyState())
        r = gv.probe_mlp(cfg, params=params, x=x, y=y, clip_norm=c)
        np.testing.assert_allclose(r.clipped_weight_grad_norms,
                                   [np.linalg.norm(g["w"]) for g in clipped[:-1]], rtol=2e-5)
        assert np.sqrt(np.sum(r.clipped_weight_grad_norms**2)) <= c * (1 + 1e-6)


def test_orthogonal_linear_network_keeps_gradient_norm():
    cfg = gv.MLPConfig(depth=30, width=32, in_dim=32, activation="linear", init="orthogonal")
    d = gv.probe_mlp(cfg, batch_size=64).activation_grad_norms
    np.testing.assert_allclose(d, d[-1], rtol=1e-5)


@pytest.mark.parametrize("s", [0.8, 1.25])
def test_orthogonal_linear_network_ratio_is_weight_scale(s):
    cfg = gv.MLPConfig(depth=20, width=32, in_dim=32, activation="linear", init="orthogonal",
                       weight_scale=s)
    d = gv.probe_mlp(cfg, batch_size=64).activation_grad_norms
    np.testing.assert_allclose(d[:-1] / d[1:], s, rtol=1e-5)


def test_sigmoid_gradient_obeys_quarter_bound():
    """With orthogonal weights ||W^T|| = 1, so each sigmoid layer shrinks ||delta|| by <= 1/4."""
    cfg = gv.MLPConfig(depth=15, width=32, in_dim=32, activation="sigmoid", init="orthogonal")
    d = gv.probe_mlp(cfg, batch_size=64).activation_grad_norms
    assert np.all(d[:-1] / d[1:] <= 0.25 * (1 + 1e-6))
    assert d[0] / d[-1] <= gv.theory.sigmoid_bound(cfg.depth - 1) * (1 + 1e-5)


def test_tiny_gradients_are_not_flushed_to_zero():
    """Entries near 1e-21 square to below float32's range; the norm must still see them."""
    a = jnp.full((64, 64), 1e-21, jnp.float32)
    np.testing.assert_allclose(float(probes.norm(a)), 64e-21, rtol=1e-6)
    assert float(probes.norm(jnp.full((4,), 1e30, jnp.float32))) == pytest.approx(2e30, rel=1e-6)
    assert np.isinf(float(probes.norm(jnp.array([1.0, np.inf]))))
    assert np.isnan(float(probes.norm(jnp.array([1.0, np.nan]))))


def test_exploding_network_returns_non_finite_values_without_raising():
    cfg = gv.MLPConfig(depth=100, width=64, activation="relu", init="he_normal", weight_scale=4)
    r = gv.probe_mlp(cfg, batch_size=64)
    assert not np.all(np.isfinite(r.weight_grad_norms))
    assert not np.all(np.isfinite(r.activation_stds))


def test_depth_change_never_redraws_layers():
    key = jax.random.PRNGKey(7)
    short = gv.init_mlp(gv.MLPConfig(depth=3), key)
    long = gv.init_mlp(gv.MLPConfig(depth=9), key)
    for a, b in zip(short[:-1], long[:3], strict=False):
        np.testing.assert_array_equal(a["w"], b["w"])


def test_sharpness_is_the_top_eigenvalue_of_the_exact_hessian():
    from jax.flatten_util import ravel_pytree

    cfg = gv.MLPConfig(depth=3, width=8, activation="tanh", in_dim=4)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    x, y = gv.probes.default_batch(0, 32, 4, 1)
    flat, unravel = ravel_pytree(params)
    hessian = jax.hessian(lambda f: jnp.mean((gv.apply_mlp(unravel(f), x, cfg) - y) ** 2))(flat)
    top = np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))[-1]
    np.testing.assert_allclose(gv.probes.sharpness(cfg, x=x, y=y, iters=200), top, rtol=1e-4)


@pytest.mark.parametrize("cfg", [gv.MLPConfig(depth=1, width=8, in_dim=3, out_dim=2),
                                 gv.MLPConfig(depth=30, width=64)])
def test_n_params_counts_init_mlps_arrays(cfg):
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    assert cfg.n_params == sum(p["w"].size + p["b"].size for p in params)
