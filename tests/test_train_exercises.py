"""Training loop records and divergence; quiz and checkers grade by measurement."""

import numpy as np

import gradviz as gv
from gradviz import exercises
from gradviz.train import train_mlp


def test_first_step_records_match_probe():
    cfg = gv.MLPConfig(depth=6, width=32, activation="tanh")
    h = train_mlp(cfg, optimizer="sgd", learning_rate=0.05, steps=30)
    r = gv.probe_mlp(cfg, seed=0, batch_size=256)
    np.testing.assert_allclose(h.grad_norms[0], r.weight_grad_norms, rtol=1e-5)
    np.testing.assert_allclose(h.loss[0], r.loss, rtol=1e-6)
    # SGD: ||update_l|| / ||W_l|| = lr * ||g_l|| / ||W_l||
    w_norms = np.array([np.linalg.norm(p["w"]) for p in gv.init_mlp(cfg, __import__("jax")
                                                                     .random.PRNGKey(0))[:-1]])
    np.testing.assert_allclose(h.update_ratios[0], 0.05 * r.weight_grad_norms / w_norms, rtol=1e-4)
    assert h.loss[-1] < h.loss[0] and h.diverged_at is None


def test_divergence_is_caught_and_clipping_prevents_it():
    cfg = gv.MLPConfig(depth=20, width=32, activation="relu", init="he_normal", weight_scale=1.6)
    h = train_mlp(cfg, learning_rate=0.01, steps=50)
    assert h.diverged_at is not None and len(h.loss) == h.diverged_at + 1
    assert not np.isfinite(h.loss[-1])
    clipped = train_mlp(cfg, learning_rate=0.01, clip_norm=1.0, steps=50)
    assert clipped.diverged_at is None and np.all(np.isfinite(clipped.loss))


def test_quiz_grades_instantly():
    q = exercises.Quiz("2+2?", ["3", "4"], 1, "Four. Because.")
    q.choice.value = "3"
    assert q.feedback.value.startswith(exercises.WRONG)
    q.choice.value = "4"
    assert q.feedback.value.startswith(exercises.RIGHT)
    assert q._repr_mimebundle_()["text/plain"] == "Quiz: 2+2?"


def test_checkers_use_measurement(capsys):
    assert exercises.check_critical_scale(None) is False
    assert exercises.check_critical_scale(0.5) is False   # vanishing
    assert exercises.check_critical_scale(3.0) is False   # exploding
    assert exercises.check_critical_scale(1.15) is True
    assert exercises.check_clipped_norm(1.0) is True
    assert exercises.check_clipped_norm(3.0) is False
    ratio = exercises._depth_ratio(gv.MLPConfig(depth=30, width=64, activation="sigmoid"))
    assert exercises.check_ratio_reading(ratio * 1.02) is True
    assert exercises.check_ratio_reading(ratio * 3) is False
    out = capsys.readouterr().out
    assert "vanishes" in out and "explodes" in out


def test_lesson_03_and_04_checkers_measure(capsys):
    assert exercises.check_half_saturated(None) is False
    assert exercises.check_half_saturated(1.0) is False   # barely any saturation
    assert exercises.check_half_saturated(3.5) is True    # mean field: q* = 9.6 at sigma_w 3.5
    # bisect the divergence edge of LR_TASK, then the checker must accept it
    lo, hi = 0.01, 1.0
    assert not exercises.diverges(lo) and exercises.diverges(hi)
    for _ in range(12):
        mid = (lo * hi) ** 0.5
        lo, hi = (lo, mid) if exercises.diverges(mid) else (mid, hi)
    assert exercises.check_stable_learning_rate(lo) is True
    assert exercises.check_stable_learning_rate(lo / 3) is False   # stable, but so is 1.5x
    assert exercises.check_stable_learning_rate(hi * 1.2) is False  # diverges
    assert exercises.check_update_ratio(0.001) is False   # ratio ~1e-5
    assert exercises.check_update_ratio(0.03) is True
    assert exercises.check_clip_rescue(10) is False       # too tight: crawls
    assert exercises.check_clip_rescue(10 ** 1.5) is True  # last 10 steps below Var(y)
    assert exercises.check_clip_rescue(1e4) is False      # too loose: the loss grows
    out = capsys.readouterr().out
    assert "go higher" in out and "go lower" in out and "loosen" in out and "lower it" in out
