"""Every invalid argument raises ValueError naming the argument, the value and what is allowed."""

import jax
import numpy as np
import pytest

import gradviz as gv
from gradviz import exercises, theory
from gradviz.train import train_mlp

CFG = gv.MLPConfig(depth=2, width=4)
X, Y = np.zeros((3, 16), np.float32), np.zeros((3, 1), np.float32)

CASES = [
    # (call, argument name, shown value, phrase from "what is allowed")
    (lambda: gv.MLPConfig(depth=0), "depth", "0", "integer >= 1"),
    (lambda: gv.MLPConfig(depth=2.5), "depth", "2.5", "integer"),
    (lambda: gv.MLPConfig(depth=True), "depth", "True", "integer"),
    (lambda: gv.MLPConfig(width=-3), "width", "-3", "integer >= 1"),
    (lambda: gv.MLPConfig(activation="swish"), "activation", "'swish'", "'relu'"),
    (lambda: gv.MLPConfig(init="kaiming"), "init", "'kaiming'", "'he_normal'"),
    (lambda: gv.MLPConfig(weight_scale=-1.0), "weight_scale", "-1.0", ">= 0"),
    (lambda: gv.MLPConfig(weight_scale=float("nan")), "weight_scale", "nan", "finite"),
    (lambda: gv.MLPConfig(weight_scale=float("inf")), "weight_scale", "inf", "finite"),
    (lambda: gv.MLPConfig(bias_scale=-0.1), "bias_scale", "-0.1", ">= 0"),
    (lambda: gv.MLPConfig(norm="group"), "norm", "'group'", "'batch'"),
    (lambda: gv.MLPConfig(residual="yes"), "residual", "'yes'", "True or False"),
    (lambda: gv.MLPConfig(in_dim=0), "in_dim", "0", ">= 1"),
    (lambda: gv.probe_mlp("tanh"), "cfg", "'tanh'", "MLPConfig"),
    (lambda: gv.probe_mlp(CFG, x=X, y=Y[:2]), "x", "3", "must match"),
    (lambda: gv.probe_mlp(CFG, x=X[:, :5], y=Y), "x", "(3, 5)", "(batch, 16)"),
    (lambda: gv.probe_mlp(CFG, x=X.astype(np.int32), y=Y), "x", "int32", "float"),
    (lambda: gv.probe_mlp(CFG, x=X), "x and y", "", "together"),
    (lambda: gv.probe_mlp(CFG, clip_norm=0.0), "clip_norm", "0.0", "> 0"),
    (lambda: gv.probe_mlp(CFG, clip_norm=-2.0), "clip_norm", "-2.0", "> 0"),
    (lambda: gv.probe_mlp(CFG, batch_size=0), "batch_size", "0", ">= 1"),
    (lambda: gv.probe_mlp(CFG, seed=-1), "seed", "-1", ">= 0"),
    (lambda: gv.probe_mlp(CFG, params=gv.init_mlp(gv.MLPConfig(depth=3, width=4),
                                                  jax.random.PRNGKey(0))),
     "params", "(4, 4)", "init_mlp"),
    (lambda: theory.chi("softmax", 1.0, 0.0), "activation", "'softmax'", "'tanh'"),
    (lambda: theory.chi("tanh", -1.0, 0.0), "sigma_w", "-1.0", ">= 0"),
    (lambda: theory.chi("tanh", 1.0, float("nan")), "sigma_b", "nan", "finite"),
    (lambda: theory.q_star("tanh", 1.0, -0.5), "sigma_b", "-0.5", ">= 0"),
    (lambda: theory.gradient_profile("tanh", 1.0, 0.0, 0, 1.0), "depth", "0", ">= 1"),
    (lambda: gv.activations.get("Tanh"), "activation", "'Tanh'", "'tanh'"),
    (lambda: gv.init.draw("xavier", jax.random.PRNGKey(0), 2, 2), "init", "'xavier'",
     "'xavier_normal'"),
    (lambda: gv.GradientExplorer(depth=101), "depth", "101", "between 1 and 100"),
    (lambda: gv.GradientExplorer(weight_scale=9.0), "weight_scale", "9.0", "<= 4"),
    (lambda: gv.GradientExplorer(clip_threshold=0.0), "clip_threshold", "0.0", ">= 0.01"),
    (lambda: gv.GradientExplorer(activation="step"), "activation", "'step'", "'relu'"),
    (lambda: train_mlp(CFG, optimizer="lion"), "optimizer", "'lion'", "'adam'"),
    (lambda: train_mlp(CFG, learning_rate=0.0), "learning_rate", "0.0", "> 0"),
    (lambda: train_mlp(CFG, steps=0), "steps", "0", ">= 1"),
    (lambda: exercises.Quiz("q", ["a", "b"], 2, "e"), "answer", "2", "between 0 and 1"),
]


@pytest.mark.parametrize("call,name,value,allowed", CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_invalid_argument_raises_clear_value_error(call, name, value, allowed):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert name in message and value in message and allowed in message, message


def test_valid_configs_are_hashable_and_frozen():
    cfg = gv.MLPConfig(depth=3)
    assert hash(cfg) == hash(gv.MLPConfig(depth=3))
    with pytest.raises(AttributeError):
        cfg.depth = 4  # frozen
