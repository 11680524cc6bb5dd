"""Lessons 10 and 11: every checker with a right answer reachable through the lesson's own
controls, the solution's answer, a wrong one and bad input; every quiz has a hint; and the
gradviz functions the lessons added, each against an independent computation."""

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import nbformat
import numpy as np
import optax
import pytest

import gradviz as gv
from gradviz import attention_depth, attention_train, init_compare

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _one_line(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return out[0]


# ---- lesson 10: check_uniform_relu_scale ------------------------------------------------

def test_uniform_relu_scale_reachable_with_the_explorers_slider(capsys):
    """The explorer's log slider (step 10^0.01) has a setting that passes, and the checker
    reads the same factor as the explorer's status line (the same network and batch)."""
    ex = gv.GradientExplorer(depth=30, max_depth=32, activation="relu", init="uniform", signal=True)
    ex.controls["weight_scale"].value = 10 ** 0.38  # a grid point of the slider: 2.399
    value = ex.controls["weight_scale"].value
    q = ex.result["preactivation_vars"]
    shown = (q[-1] / q[0]) ** (1 / 29)
    assert gv.exercises.check_uniform_relu_scale(value)
    assert f"x {shown:.3f} per layer" in _one_line(capsys)


def test_uniform_relu_scale_solution_wrong_and_bad_input(capsys):
    assert gv.exercises.check_uniform_relu_scale(6 ** 0.5)  # the solution's answer
    capsys.readouterr()
    assert not gv.exercises.check_uniform_relu_scale(1.0)  # the standard init: 0.17 per layer
    assert "scale the weights up" in _one_line(capsys)
    assert not gv.exercises.check_uniform_relu_scale(2.6)
    assert "scale them down" in _one_line(capsys)
    for bad in ("2.4", float("nan"), [2.4, 2.5], -1.0):
        assert not gv.exercises.check_uniform_relu_scale(bad)
        _one_line(capsys)
    assert gv.exercises.check_uniform_relu_scale(jnp.float32(6 ** 0.5))  # a JAX scalar


# ---- lesson 11: check_warmup_steps ----------------------------------------------------

def test_warmup_steps_right_solution_wrong_and_bad(capsys):
    assert gv.exercises.check_warmup_steps(20)  # the solution's answer and the lesson's run
    assert "median held-out loss" in _one_line(capsys)
    assert gv.exercises.check_warmup_steps(100)  # the whole run: measured not worse here
    capsys.readouterr()
    assert not gv.exercises.check_warmup_steps(0)  # collapses to the baseline
    assert "warm up longer" in _one_line(capsys)
    for bad in (2.5, "20", -1, 101, True):
        assert not gv.exercises.check_warmup_steps(bad)
        _one_line(capsys)
    assert not gv.exercises.check_warmup_steps(None)


# ---- quizzes -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["10_weight_initialization", "11_future_directions"])
def test_every_quiz_has_its_own_hint(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    quizzes = [c.source for c in nb.cells if c.cell_type == "code" and "Quiz(" in c.source]
    assert quizzes
    for src in quizzes:
        assert "hint=" in src, src[:80]


# ---- gradviz functions the lessons use ----------------------------------------------------

def test_initial_loss_split_is_the_mse_and_splits_exactly():
    cfg = gv.MLPConfig(depth=6, width=16, activation="relu", init="he_normal", out_dim=2)
    x, y = gv.probes.default_batch(3, 32, cfg.in_dim, cfg.out_dim)
    s = init_compare.initial_loss_split(cfg, x, y, seeds=[0, 5])
    for i, seed in enumerate((0, 5)):
        params = gv.init_mlp(cfg, jax.random.PRNGKey(seed))
        out = np.asarray(gv.apply_mlp(params, x, cfg), np.float64)
        direct = np.mean((out - np.asarray(y, np.float64)) ** 2)
        assert s["loss"][i] == pytest.approx(direct, rel=1e-5)
        e = out - np.asarray(y, np.float64)
        assert s["offset"][i] == pytest.approx(np.mean(e.mean(0) ** 2), rel=1e-5)
    np.testing.assert_allclose(s["offset"] + s["rest"], s["loss"])


def test_scheme_table_matches_probe_mlp_and_activation_stats():
    cfg = gv.MLPConfig(depth=5, width=16, activation="tanh", init="lecun")
    r = init_compare.scheme_table({"a": cfg}, seeds=[0], batch_size=64)["a"]
    d = gv.probe_mlp(cfg, seed=0, batch_size=64).activation_grad_norms
    q = gv.probes.activation_stats(cfg, seed=0, batch_size=64)["pre_var"]
    assert r.gradient_ratio == pytest.approx(d[0] / d[-1], rel=1e-4)
    assert r.signal_factor == pytest.approx((q[-1] / q[0]) ** (1 / 4), rel=1e-4)
    np.testing.assert_allclose(r.signal, q, rtol=1e-4)


def test_scheme_table_medians_and_per_layer_fields():
    """Over several seeds: each field is the median of probe_mlp / activation_stats per seed."""
    cfg = gv.MLPConfig(depth=4, width=16, activation="relu", init="he_uniform")
    r = init_compare.scheme_table({"a": cfg}, seeds=[0, 1, 2], batch_size=32)["a"]
    probes = [gv.probe_mlp(cfg, seed=s, batch_size=32) for s in range(3)]
    stats = [gv.probes.activation_stats(cfg, seed=s, batch_size=32) for s in range(3)]
    np.testing.assert_allclose(r.activation_var, np.median([s["var"] for s in stats], 0), rtol=1e-5)
    np.testing.assert_allclose(r.weight_grad_sq,
                               np.median([p.weight_grad_norms ** 2 for p in probes], 0), rtol=1e-5)
    d2 = np.median([p.activation_grad_norms ** 2 for p in probes], 0)
    np.testing.assert_allclose(r.activation_grad_sq, d2, rtol=1e-5)
    ratios = [p.activation_grad_norms[0] / p.activation_grad_norms[-1] for p in probes]
    assert r.gradient_ratio == pytest.approx(np.median(ratios), rel=1e-5)


@pytest.mark.parametrize("k", [1, 7, 20])
def test_warmup_lr_is_optax_linear_schedule(k):
    schedule = optax.linear_schedule(0.0, 0.06, k)
    for t in (0, 1, k // 2, k, k + 5):
        assert float(attention_train.warmup_lr(t, 0.06, k)) == pytest.approx(float(schedule(t)))
    assert float(attention_train.warmup_lr(0, 0.06, 0)) == pytest.approx(0.06)


def test_sequence_task_baseline_is_the_mean_predictor():
    cfg = gv.TransformerConfig(depth=4, d_model=16, heads=2, seq_len=8)
    task = attention_train.sequence_task(cfg, n_train=8, n_test=16)
    y_tr, y_te = np.asarray(task.y_train, np.float64), np.asarray(task.y_test, np.float64)
    assert np.std(y_tr) == pytest.approx(1.0, rel=1e-4)
    assert task.baseline == pytest.approx(np.mean((y_te - y_tr.mean()) ** 2), rel=1e-4)


def test_token_cosine_limits():
    same = jnp.ones((2, 5, 8))
    assert float(attention_depth.token_cosine(same)) == pytest.approx(1.0, abs=1e-6)
    eye = jnp.eye(4)[None]  # four orthogonal tokens
    assert float(attention_depth.token_cosine(eye)) == pytest.approx(0.0, abs=1e-6)
    assert float(attention_depth.token_cosine(jnp.ones((1, 1, 8)))) == 0.0


def test_depth_sweep_stream_gradient_matches_probe_transformer():
    r = attention_depth.depth_sweep((3,), seq_len=4, seeds=[0, 1], batch_size=4, d_model=16,
                                    heads=2)
    for p in ("pre", "post"):
        for i, seed in enumerate((0, 1)):
            cfg = gv.TransformerConfig(depth=3, d_model=16, heads=2, seq_len=4, placement=p)
            probe = gv.probe_transformer(cfg, seed=seed, batch_size=4, max_depth=3)
            got = r["per_seed"][p, 3]
            assert got["stream_grad"][i] == pytest.approx(probe.stream_grad_norms[-1], rel=1e-4)
            assert got["stream_rms"][i] == pytest.approx(probe.stream_rms[-1], rel=1e-4)
            assert math.isfinite(got["down_grad"][i]) and got["down_grad"][i] > 0


def _old_depth_sweep(depths, seq_len, seeds, batch_size, d_model, heads):
    """The vmapped sweep lesson 11 used before the speed pass (its own jit and forward)."""
    from jax import lax

    from gradviz.models.attention import block, init_transformer, norm_layer, token_cosine

    cfg = gv.TransformerConfig(depth=max(depths), d_model=d_model, heads=heads, seq_len=seq_len)

    def loss(params, shifts, x, y, depth, placement_index):
        def step(x, inputs):
            l, p, shift = inputs
            x = x + shift
            stats = (token_cosine(norm_layer(0, x)), jnp.sqrt(jnp.mean(x**2)))
            return lax.cond(l < depth, lambda x: block(p, x, placement_index, 0, heads),
                            lambda x: x, x), stats

        x, stats = lax.scan(step, x, (jnp.arange(cfg.depth), params["blocks"], shifts))
        x = jnp.where(placement_index == 0, norm_layer(0, x), x)
        return jnp.mean((x @ params["readout"] - y) ** 2), stats

    def one(seed, depth, placement_index):
        params = init_transformer(cfg, jax.random.PRNGKey(seed))
        kx, ky = jax.random.split(jax.random.PRNGKey(seed + 1))
        x = jax.random.normal(kx, (batch_size, seq_len, d_model))
        y = jax.random.normal(ky, (batch_size, seq_len, 1))
        (_, (cos, rms)), (g, gs) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
            params, jnp.zeros((cfg.depth, *x.shape)), x, y, depth, placement_index)
        return {"down_grad": jnp.linalg.norm(g["blocks"]["down"][depth - 1]),
                "stream_grad": jnp.linalg.norm(gs[depth - 1]), "stream_rms": rms[depth - 1],
                "token_cosine": cos[depth - 1]}

    return {(p, d): {k: np.array([float(one(s, d, i)[k]) for s in seeds]) for k in
                     ("down_grad", "stream_grad", "stream_rms", "token_cosine")}
            for i, p in enumerate(("pre", "post")) for d in depths}


@pytest.mark.parametrize("seq_len", [1, 4])
def test_depth_sweep_equals_the_old_vmapped_sweep(seq_len):
    new = attention_depth.depth_sweep((2, 3), seq_len=seq_len, seeds=[0, 1], batch_size=2,
                                      d_model=16, heads=2)["per_seed"]
    old = _old_depth_sweep((2, 3), seq_len, [0, 1], 2, 16, 2)
    for key, cols in old.items():
        for k, want in cols.items():
            np.testing.assert_allclose(new[key][k], want, rtol=1e-4, atol=1e-6, err_msg=str(key))


def test_train_grid_equals_per_config_runs_and_a_plain_optax_loop():
    cfg = gv.TransformerConfig(depth=2, d_model=8, heads=2, seq_len=4)
    task = attention_train.sequence_task(cfg, n_train=4, n_test=8)
    grid = attention_train.train_transformer_grid(cfg, task, warmups=(0, 3), seeds=[0, 1],
                                                  learning_rate=0.05, steps=6)
    assert set(grid) == {("pre", 0), ("pre", 3), ("post", 0), ("post", 3)}
    for (p, k), r in grid.items():
        one = attention_train.train_transformer_seeds(
            gv.TransformerConfig(depth=2, d_model=8, heads=2, seq_len=4, placement=p), task,
            seeds=[0, 1], learning_rate=0.05, warmup_steps=k, steps=6)
        np.testing.assert_allclose(r.loss, one.loss, rtol=1e-5)
        np.testing.assert_allclose(r.test_loss, one.test_loss, rtol=1e-5)
    # independent: seed 1, post-LN, warm-up 3, by a Python loop over optax.adam
    params = gv.init_transformer(cfg, jax.random.PRNGKey(1))
    opt = optax.adam(optax.linear_schedule(0.0, 0.05, 3))
    state = opt.init(params)

    def loss(params, x, y):
        return jnp.mean((gv.apply_transformer(params, x, 2, 1, 0, heads=2) - y) ** 2)

    losses = []
    for _ in range(6):
        value, grads = jax.value_and_grad(loss)(params, task.x_train, task.y_train)
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        losses.append(float(value))
    np.testing.assert_allclose(grid["post", 3].loss[1], losses, rtol=1e-4)
    assert grid["post", 3].test_loss[1] == pytest.approx(
        float(loss(params, task.x_test, task.y_test)), rel=1e-4)


def test_train_grid_rejects_bad_input():
    cfg = gv.TransformerConfig(depth=2, d_model=8, heads=2, seq_len=4)
    task = attention_train.sequence_task(cfg, n_train=4, n_test=8)
    with pytest.raises(ValueError, match="placement"):
        attention_train.train_transformer_grid(cfg, task, placements=("middle",))
    with pytest.raises(ValueError, match="warmups"):
        attention_train.train_transformer_grid(cfg, task, warmups=())
