"""Recurrent probes against closed forms, finite differences, Pascanu's bound and training."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gradviz.models.rnn import GATES, RNNConfig, adding_problem, apply_rnn, init_rnn
from gradviz.rnn_probes import ADDING_BASELINE_MSE, probe_rnn, train_rnn, train_rnn_seeds


def _f64(tree):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), tree)


@pytest.mark.parametrize("s", [0.9, 1.1])
def test_linear_orthogonal_rnn_scales_gradient_by_weight_scale_per_step(s):
    # h_t = x_t W + h_{t-1} U + b with U = s Q (Q orthogonal): dL/dh_t = dL/dh_{t+1} U^T,
    # and ||g U^T|| = s ||g|| row by row, so every backward step multiplies the norm by s.
    cfg = RNNConfig(cell="rnn", activation="linear", init="orthogonal", weight_scale=s,
                    hidden=32, seq_len=30)
    u = np.asarray(init_rnn(cfg, jax.random.PRNGKey(0))["w_rec"]["h"])
    np.testing.assert_allclose(u.T @ u, s**2 * np.eye(32), atol=1e-5)
    g = probe_rnn(cfg, seed=0, batch_size=16).hidden_grad_norms
    assert g.shape == (30,)
    np.testing.assert_allclose(g[:-1] / g[1:], s, rtol=1e-5)
    np.testing.assert_allclose(g[0] / g[-1], s**29, rtol=1e-4)


def test_orthogonal_init_is_orthogonal_for_every_gate():
    for cell in ("lstm", "gru"):
        cfg = RNNConfig(cell=cell, init="orthogonal", weight_scale=0.7, hidden=3)
        params = init_rnn(cfg, jax.random.PRNGKey(1))
        assert set(params["w_rec"]) == set(GATES[cell])
        for u in params["w_rec"].values():
            np.testing.assert_allclose(np.asarray(u).T @ u, 0.49 * np.eye(3), atol=1e-6)


def _loss_fn(cfg):
    @jax.jit
    def loss(params, xs, y, shifts):
        y_hat, _ = apply_rnn(params, xs, cfg, shifts)
        return jnp.mean((y_hat - y) ** 2)
    return loss


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_probe_matches_central_finite_differences(cell):
    cfg = RNNConfig(cell=cell, hidden=3, seq_len=4, bias_scale=0.5, forget_bias=1.0)
    params = init_rnn(cfg, jax.random.PRNGKey(2))  # drawn in float32, then cast
    xs, y = adding_problem(3, 2, 4)
    with jax.enable_x64(True):
        params, xs, y = _f64(params), _f64(xs), _f64(y)
        r = probe_rnn(cfg, params=params, xs=xs, y=y)
        loss, eps = _loss_fn(cfg), 1e-6
        zero = np.zeros((4, 2, 3))
        fd = np.zeros_like(zero)  # dL/dshift_t = dL/dh_t
        for idx in np.ndindex(zero.shape):
            for sign in (1, -1):
                shifts = zero.copy()
                shifts[idx] = sign * eps
                fd[idx] += sign * float(loss(params, xs, y, jnp.asarray(shifts))) / (2 * eps)
        np.testing.assert_allclose(r.hidden_grad_norms, np.linalg.norm(fd, axis=(1, 2)),
                                   rtol=1e-6)
        fd_u = []  # dL/dU over every gate's recurrent matrix
        for k, u in params["w_rec"].items():
            for idx in np.ndindex(u.shape):
                d = 0.0
                for sign in (1, -1):
                    p = {**params, "w_rec": {**params["w_rec"], k: u.at[idx].add(sign * eps)}}
                    d += sign * float(loss(p, xs, y, jnp.asarray(zero))) / (2 * eps)
                fd_u.append(d)
        np.testing.assert_allclose(r.recurrent_grad_norm, np.linalg.norm(fd_u), rtol=1e-6)
        _, hs = apply_rnn(params, xs, cfg)
        np.testing.assert_allclose(r.hidden_norms, np.linalg.norm(hs, axis=(1, 2)), rtol=1e-12)
        np.testing.assert_allclose(r.loss, float(loss(params, xs, y, jnp.asarray(zero))),
                                   rtol=1e-12)


@pytest.mark.parametrize("s", [0.3, 0.5])
def test_tanh_rnn_decays_at_least_as_fast_as_pascanu_bound(s):
    # dh_{t+1}/dh_t = diag(tanh'(a)) U^T with |tanh'| <= 1 (gamma = 1), so
    # ||dL/dh_t|| <= sigma_max(U)**(T-1-t) ||dL/dh_{T-1}||: the singular value, not |lambda|.
    cfg = RNNConfig(cell="rnn", activation="tanh", weight_scale=s, hidden=32, seq_len=30)
    u = np.asarray(init_rnn(cfg, jax.random.PRNGKey(0))["w_rec"]["h"], np.float64)
    sigma = np.linalg.norm(u, 2)
    assert sigma > np.max(np.abs(np.linalg.eigvals(u)))  # the two differ for this U
    g = probe_rnn(cfg, seed=0, batch_size=16).hidden_grad_norms
    bound = sigma ** np.arange(29, -1, -1)  # (T,): sigma**(T-1-t)
    assert np.all(g / g[-1] <= bound * (1 + 1e-5))


def test_lstm_with_large_forget_bias_keeps_gradient_that_tanh_rnn_loses():
    # Measured (hidden 32, T 30, batch 16, U at weight_scale 0.5, seeds 0-2):
    # ||dL/dh_0|| / ||dL/dh_29|| is 7e-11..2e-10 for the tanh RNN and 0.05..0.08 for the
    # LSTM with forget_bias=5 (f = sigmoid(5) = 0.993 keeps the cell state), a factor
    # 2e8..1e9. The thresholds below leave two orders of magnitude of margin on each.
    ratios = {}
    for cell, fb in (("rnn", 0.0), ("lstm", 5.0)):
        cfg = RNNConfig(cell=cell, hidden=32, seq_len=30, weight_scale=0.5, forget_bias=fb)
        g = probe_rnn(cfg, seed=0, batch_size=16).hidden_grad_norms
        ratios[cell] = g[0] / g[-1]
    assert ratios["rnn"] < 1e-8
    assert ratios["lstm"] > 1e-3
    assert ratios["lstm"] > 1e6 * ratios["rnn"]


def test_adding_problem_markers_and_targets():
    xs, y = adding_problem(7, 256, 11)
    xs, y = np.asarray(xs), np.asarray(y)
    assert xs.shape == (256, 11, 2) and y.shape == (256, 1)
    values, marks = xs[..., 0], xs[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(marks)) == {0.0, 1.0}
    np.testing.assert_array_equal(marks[:, :5].sum(1), 1)  # one in [0, T // 2)
    np.testing.assert_array_equal(marks[:, 5:].sum(1), 1)  # one in [T // 2, T)
    a, b = np.argmax(marks[:, :5], 1), 5 + np.argmax(marks[:, 5:], 1)
    np.testing.assert_allclose(y[:, 0], values[np.arange(256), a] + values[np.arange(256), b],
                               rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(adding_problem(7, 256, 11)[0]), xs)
    assert not np.array_equal(np.asarray(adding_problem(8, 256, 11)[0]), xs)
    xs2, _ = adding_problem(0, 4, 2)
    np.testing.assert_array_equal(np.asarray(xs2)[..., 1], np.ones((4, 2)))  # T = 2: both


def test_adding_baseline_is_the_variance_of_the_target():
    # Predicting E[y] = 1 scores Var(U1 + U2) = 1/6; std of this estimate is ~0.0014.
    _, y = adding_problem(0, 20000, 20)
    assert abs(float(jnp.mean(y)) - 1.0) < 0.01
    assert abs(float(jnp.mean((y - 1.0) ** 2)) - ADDING_BASELINE_MSE) < 0.01


def test_probe_does_not_recompile_when_only_weights_change(count_compiles):
    cfg = RNNConfig(cell="rnn", hidden=32, seq_len=30, weight_scale=0.5)
    probe_rnn(cfg, seed=0, batch_size=16)
    with count_compiles() as c:
        for change in ({"weight_scale": 0.8}, {"init": "orthogonal"}, {"bias_scale": 0.1}):
            probe_rnn(dataclasses.replace(cfg, **change), seed=0, batch_size=16)
    assert c.count == 0, c.names


def test_lstm_learns_the_adding_problem_below_the_mean_baseline():
    # Measured (hidden 32, T 10, batch 64, adam 1e-2, 300 steps, seeds 0-2): the mean of the
    # last 20 losses is 0.0009..0.0023, against 1/6 for predicting the mean.
    cfg = RNNConfig(cell="lstm", hidden=32, seq_len=10)
    h = train_rnn(cfg, optimizer="adam", learning_rate=1e-2, steps=300, seed=0)
    assert h.diverged_at is None and h.loss.shape == (300,)
    assert h.recurrent_grad_norms.shape == (300,) and np.all(np.isfinite(h.recurrent_grad_norms))
    assert h.loss[0] > ADDING_BASELINE_MSE
    assert np.mean(h.loss[-20:]) < 0.1 * ADDING_BASELINE_MSE


def test_divergence_is_caught_and_clipping_prevents_it():
    # Measured: ReLU, U at 3x LeCun, T 10: loss 5.9e5 at step 0, nan at step 1 after sgd(1.0);
    # clipped to global norm 1 it falls to 0.57 by step 49.
    cfg = RNNConfig(cell="rnn", activation="relu", weight_scale=3.0, hidden=32, seq_len=10)
    h = train_rnn(cfg, optimizer="sgd", learning_rate=1.0, steps=50)
    assert isinstance(h.diverged_at, int) and len(h.loss) == h.diverged_at + 1
    assert not np.isfinite(h.loss[-1]) and np.all(np.isfinite(h.loss[:-1]))
    clipped = train_rnn(cfg, optimizer="sgd", learning_rate=1.0, clip_norm=1.0, steps=50)
    assert clipped.diverged_at is None and np.all(np.isfinite(clipped.loss))


CFG = RNNConfig(hidden=4, seq_len=5)
XS, Y = np.zeros((3, 5, 2), np.float32), np.zeros((3, 1), np.float32)

CASES = [
    # (call, argument name, shown value, phrase from "what is allowed")
    (lambda: RNNConfig(cell="transformer"), "cell", "'transformer'", "'lstm'"),
    (lambda: RNNConfig(cell=None), "cell", "None", "'gru'"),
    (lambda: RNNConfig(hidden=0), "hidden", "0", "integer >= 1"),
    (lambda: RNNConfig(hidden=2.5), "hidden", "2.5", "integer"),
    (lambda: RNNConfig(activation="swish"), "activation", "'swish'", "'tanh'"),
    (lambda: RNNConfig(init="kaiming"), "init", "'kaiming'", "'orthogonal'"),
    (lambda: RNNConfig(weight_scale=-1.0), "weight_scale", "-1.0", ">= 0"),
    (lambda: RNNConfig(weight_scale=float("nan")), "weight_scale", "nan", "finite"),
    (lambda: RNNConfig(seq_len=0), "seq_len", "0", "integer >= 1"),
    (lambda: RNNConfig(seq_len=True), "seq_len", "True", "integer"),
    (lambda: RNNConfig(in_dim=0), "in_dim", "0", ">= 1"),
    (lambda: RNNConfig(out_dim=0), "out_dim", "0", ">= 1"),
    (lambda: RNNConfig(bias_scale=-0.1), "bias_scale", "-0.1", ">= 0"),
    (lambda: RNNConfig(forget_bias=float("inf")), "forget_bias", "inf", "finite"),
    (lambda: RNNConfig(forget_bias="1"), "forget_bias", "'1'", "finite number"),
    (lambda: RNNConfig(init_std=-1.0), "init_std", "-1.0", ">= 0"),
    (lambda: init_rnn("lstm", jax.random.PRNGKey(0)), "cfg", "'lstm'", "RNNConfig"),
    (lambda: probe_rnn("lstm"), "cfg", "'lstm'", "RNNConfig"),
    (lambda: probe_rnn(CFG, seed=-1), "seed", "-1", ">= 0"),
    (lambda: probe_rnn(CFG, batch_size=0), "batch_size", "0", ">= 1"),
    (lambda: probe_rnn(CFG, xs=XS), "xs and y", "", "together"),
    (lambda: probe_rnn(CFG, xs=XS[:, :4], y=Y), "xs", "(3, 4, 2)", "(batch, 5, 2)"),
    (lambda: probe_rnn(CFG, xs=XS[0], y=Y), "xs", "(5, 2)", "(batch, 5, 2)"),
    (lambda: probe_rnn(CFG, xs=XS.astype(np.int32), y=Y), "xs", "int32", "float"),
    (lambda: probe_rnn(CFG, xs=XS, y=Y[:, 0]), "y", "(3,)", "(batch, 1)"),
    (lambda: probe_rnn(CFG, xs=XS, y=Y[:2]), "xs", "3", "must match"),
    (lambda: probe_rnn(CFG, params=init_rnn(RNNConfig(hidden=3, seq_len=5),
                                            jax.random.PRNGKey(0))), "params", "(3, 3)",
     "init_rnn"),
    (lambda: probe_rnn(RNNConfig(hidden=4, in_dim=3)), "in_dim", "3", "in_dim=2"),
    (lambda: probe_rnn(RNNConfig(hidden=4, seq_len=1)), "seq_len", "1", "seq_len >= 2"),
    (lambda: adding_problem(0, 4, 1), "seq_len", "1", ">= 2"),
    (lambda: adding_problem(0, 0, 4), "batch_size", "0", ">= 1"),
    (lambda: train_rnn(CFG, optimizer="lion"), "optimizer", "'lion'", "'adam'"),
    (lambda: train_rnn(CFG, learning_rate=0.0), "learning_rate", "0.0", "> 0"),
    (lambda: train_rnn(CFG, clip_norm=-1.0), "clip_norm", "-1.0", "> 0"),
    (lambda: train_rnn(CFG, steps=0), "steps", "0", ">= 1"),
]


@pytest.mark.parametrize("call,name,value,allowed", CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_invalid_argument_raises_clear_value_error(call, name, value, allowed):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert name in message and value in message and allowed in message, message


def test_config_is_hashable_and_frozen():
    assert hash(RNNConfig(cell="gru")) == hash(RNNConfig(cell="gru"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        RNNConfig().hidden = 3


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("scheme", ["orthogonal", "he_uniform"])
def test_recurrent_draws_equal_a_per_cell_stack(cell, scheme):
    """init_rnn draws one 4-gate stack for every cell (one compile) and cuts it: the same
    matrices as drawing the cell's own G-gate stack directly."""
    from gradviz import init
    from gradviz.models.rnn import GATES

    cfg = RNNConfig(cell=cell, hidden=6, init=scheme)
    got = init_rnn(cfg, jax.random.PRNGKey(4))["w_rec"]
    k_rec = jax.random.split(jax.random.PRNGKey(4), 5)[1]
    (want,) = init.draw_stacks(init.NAMES.index(scheme), [k_rec], [(len(GATES[cell]), 6, 6)])
    for n, k in enumerate(GATES[cell]):
        np.testing.assert_allclose(np.asarray(got[k]), np.asarray(want[n]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell, clip", [("lstm", None), ("rnn", 0.5)])
def test_train_rnn_scan_equals_a_step_by_step_optax_loop(cell, clip):
    """train_rnn's one compiled lax.scan against a plain Python loop of optax steps on the
    same batches (fold_in(fold_in(PRNGKey(seed), 2), t)) and the same initial weights."""
    import optax

    from gradviz.models.rnn import _adding_batch
    from gradviz.rnn_probes import _mse

    cfg = RNNConfig(cell=cell, hidden=8, init="orthogonal", seq_len=6, forget_bias=1.0)
    h = train_rnn(cfg, optimizer="adam", learning_rate=1e-2, clip_norm=clip, steps=12,
                  seed=3, batch_size=5)
    opt = optax.adam(1e-2) if clip is None else optax.chain(optax.clip_by_global_norm(clip),
                                                            optax.adam(1e-2))
    key = jax.random.PRNGKey(3)
    params, data_key = init_rnn(cfg, key), jax.random.fold_in(key, 2)
    state, losses = opt.init(params), []
    for t in range(12):
        xs, y = _adding_batch(jax.random.fold_in(data_key, t), 5, 6)
        (loss, _), grads = jax.value_and_grad(_mse, has_aux=True)(params, xs, y, cfg)
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        losses.append(float(loss))
    np.testing.assert_allclose(h.loss, losses, rtol=1e-5)
    for a, b in zip(jax.tree.leaves(h.params), jax.tree.leaves(params), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    assert h.diverged_at is None and h.loss.shape == h.recurrent_grad_norms.shape == (12,)


def test_train_rnn_seeds_is_train_rnn_for_each_seed_bit_for_bit():
    """One compiled program for all seeds, shared out over the CPU devices: the same weights,
    batches and updates as train_rnn's run for each seed, to the last bit."""
    cfg = RNNConfig(cell="lstm", hidden=8, seq_len=6, forget_bias=1.0)
    many = train_rnn_seeds(cfg, seeds=[4, 0, 7], optimizer="adam",
                                         learning_rate=1e-2, steps=15, batch_size=8)
    for seed, got in zip([4, 0, 7], many, strict=True):
        one = train_rnn(cfg, optimizer="adam", learning_rate=1e-2, steps=15, seed=seed,
                           batch_size=8)
        np.testing.assert_array_equal(got.loss, one.loss)
        np.testing.assert_array_equal(got.recurrent_grad_norms, one.recurrent_grad_norms)
        for a, b in zip(jax.tree.leaves(got.params), jax.tree.leaves(one.params), strict=True):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seeds is empty"):
        train_rnn_seeds(cfg, seeds=[])
    with pytest.raises(ValueError, match="seed"):
        train_rnn_seeds(cfg, seeds=[-1])
