"""The CPU as several XLA devices (gradviz._devices): independent runs side by side, and the
same numbers, bit for bit, as on one device."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

# five runs (odd: map_runs pads them to six on two devices), two networks, four rates
RUNS = r"""
import sys, numpy as np, jax, gradviz as gv
x, y = gv.data.teacher_regression(0, 64, 16)
nets = {"relu": gv.MLPConfig(depth=6, width=16, activation="relu", init="he_normal"),
        "tanh": gv.MLPConfig(depth=6, width=16, activation="tanh", init="lecun")}
runs = [("relu", 0.03, 0), ("relu", 0.3, 1), ("tanh", 0.1, 0), ("tanh", 3.0, 2), ("relu", 0.01, 5)]
hist = gv.train.train_many(nets, runs, steps=40, x=x, y=y)
np.savez(sys.argv[1], devices=len(jax.devices()), *[np.concatenate(
    [h.loss, h.grad_norms.ravel(), h.update_ratios.ravel(), h.update_norms,
     *[np.ravel(l[k]) for l in h.params for k in ("w", "b")]]) for h in hist])
"""


# three transformer runs (lesson 11's grid, small): pre- and post-LN, with and without warm-up
GRID = r"""
import sys, numpy as np, jax, gradviz as gv
cfg = gv.TransformerConfig(depth=2, d_model=8, heads=2, seq_len=4)
task = gv.attention_train.sequence_task(cfg, n_train=8, n_test=16)
runs = gv.attention_train.train_transformer_grid(cfg, task, placements=("pre", "post"),
                                                 warmups=(0, 3), seeds=range(3), steps=12)
np.savez(sys.argv[1], devices=len(jax.devices()),
         *[np.concatenate([r.loss.ravel(), r.test_loss.ravel()]) for r in runs.values()])
"""


def _run(tmp_path: Path, devices: str, script: str = RUNS) -> dict:
    out = tmp_path / f"runs{devices}.npz"
    env = {**os.environ, "GRADVIZ_CPU_DEVICES": devices,
           "GRADVIZ_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-c", script, str(out)], cwd=REPO, env=env, check=True)
    return dict(np.load(out))


def test_train_many_on_two_devices_equals_one_bit_for_bit(tmp_path):
    one, two = _run(tmp_path, "1"), _run(tmp_path, "2")
    assert int(one.pop("devices")) == 1 and int(two.pop("devices")) == 2
    assert len(one) == 5
    # one of these runs diverges (tanh at rate 3): its records end at the non-finite step
    assert any(not np.all(np.isfinite(v)) for v in one.values())
    for key in one:
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)


def test_transformer_grid_on_two_devices_equals_one_bit_for_bit(tmp_path):
    one, two = _run(tmp_path, "1", GRID), _run(tmp_path, "2", GRID)
    assert int(one.pop("devices")) == 1 and int(two.pop("devices")) == 2
    assert len(one) == 4
    for key in one:
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)


def test_jax_already_running_keeps_one_device(tmp_path):
    code = ("import jax; jax.numpy.ones(1); import gradviz._devices as d;"
            "print(len(jax.devices()), d.request_cpu_devices())")
    env = {k: v for k, v in os.environ.items() if k != "GRADVIZ_CPU_DEVICES"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == ["1", "None"], out
