"""The edge of stability: the loss Hessian's sharpness measured along a full-batch SGD run.

Gradient descent with learning rate ``lr`` on a quadratic of curvature ``lambda`` multiplies
the error along that direction by ``1 - lr * lambda`` per step, so it is stable only while
``lambda < 2 / lr``. Lesson 03 compares ``2 / lr`` with the sharpness ``lambda_max`` *at
initialisation*. During training the sharpness moves: with full-batch gradient descent it
typically rises ("progressive sharpening") until it reaches ``2 / lr`` and then hovers there,
the loss falling over the long run while it spikes and recovers from step to step (the "edge
of stability"). That is a different thing from the catapult phase of Lewkowycz et al. (2020),
where a learning rate above ``2 / lambda_max`` at initialisation throws the weights into a
flatter region within the first steps.

References:
    Cohen, Kaur, Li, Kolter & Talwalkar 2021, "Gradient descent on neural networks typically
    occurs at the edge of stability", arXiv:2103.00065.
    Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari 2020, "The large learning rate phase of
    deep learning: the catapult mechanism", arXiv:2003.02218.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from gradviz import _checks, probes, train
from gradviz import seeds as _seeds
from gradviz.models.mlp import MLPConfig, init_mlp


@dataclasses.dataclass(frozen=True)
class SharpnessTrace:
    """A full-batch SGD run with the sharpness measured every ``every`` steps (numpy)."""

    loss: np.ndarray        # (done,) loss before each update, as train_mlp records it
    steps: np.ndarray       # (k,) the steps at which the sharpness was measured
    sharpness: np.ndarray   # (k,) lambda_max of the loss Hessian at those steps
    learning_rate: float

    @property
    def threshold(self) -> float:
        """``2 / lr``: SGD is unstable along any direction whose curvature exceeds it."""
        return 2.0 / self.learning_rate


def sharpness_trajectory(cfg: MLPConfig, x, y, learning_rate: float, steps: int, *,
                         every: int = 10, seed: int = 0, iters: int = 50) -> SharpnessTrace:
    """Full-batch SGD, ``W <- W - lr * dL/dW``, recording ``lambda_max(H)`` along the way.

    The run is :func:`gradviz.train_mlp` ``(cfg, "sgd", learning_rate, steps=steps,
    seed=seed, x=x, y=y)`` step for step (same initial draw, same loss and gradient), and
    every ``every`` steps (and at step 0) the largest Hessian eigenvalue of the full-batch
    MSE is measured by :func:`gradviz.probes.sharpness` (power iteration on Hessian-vector
    products, ``iters`` of them). Stops at the first non-finite loss.

    Args:
        cfg: the network; x: ``(batch, in_dim)``; y: ``(batch, out_dim)``.
        learning_rate: ``lr > 0``; steps: SGD steps (>= 1); every: measurement spacing.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    lr = _checks.real("learning_rate", learning_rate, low=0.0, inclusive=False)
    steps = _checks.integer("steps", steps, low=1)
    every = _checks.integer("every", every, low=1)
    seed = _checks.integer("seed", seed, low=0)
    x, y = probes._check_batch(cfg, x, y)
    step = train._make_step(cfg, train.Recipe("sgd"))  # train_mlp's own compiled step
    params = init_mlp(cfg, jax.random.PRNGKey(seed))
    state = train._optimizer(train.Recipe("sgd"), lr).init(params)
    losses, at, sharp = [], [], []
    for t in range(steps):
        if t % every == 0:
            at.append(t)
            sharp.append(probes.sharpness(cfg, params=params, x=x, y=y, seed=seed, iters=iters))
        params, state, loss, *_ = step(params, state, x, y, lr, 1.0, 0.0)
        losses.append(float(loss))
        if not math.isfinite(losses[-1]):
            break
    return SharpnessTrace(np.array(losses), np.array(at), np.array(sharp), lr)


@dataclasses.dataclass(frozen=True)
class LearningRateRun:
    """One full-batch SGD run of :func:`learning_rate_sweep` (numpy and floats)."""

    learning_rate: float
    loss: np.ndarray                  # (done,) loss before each update
    largest_loss: float               # nan once the run has diverged
    first_layer_growth: float         # max over steps of ||dL/dW_0|| / its value at step 0
    diverged_at: int | None           # first step with a non-finite loss, else None
    dead_after: float | None          # mean dead-unit fraction of the final weights (survivors)
    sharpness_after: float | None     # lambda_max of the final weights (survivors)

    @property
    def threshold(self) -> float:
        """``2 / lr``, to compare with ``sharpness_after``."""
        return 2.0 / self.learning_rate

    def row(self) -> dict:
        """The run as one row of :func:`gradviz.tables.format_table`."""
        ok = self.diverged_at is None
        return {"lr": self.learning_rate, "largest loss": self.largest_loss,
                "max ||dL/dW_0|| / start": self.first_layer_growth,
                "final loss": self.loss[-1] if ok else None, "dead units after": self.dead_after,
                "2 / lr": self.threshold, "lambda_max after": self.sharpness_after,
                "diverged at step": self.diverged_at}


def learning_rate_sweep(cfg: MLPConfig, x, y, learning_rates, *, steps: int = 100,
                        seed: int = 0) -> list[LearningRateRun]:
    """Train the same draw with plain SGD at each learning rate; measure what is left.

    Each run is :func:`gradviz.train_mlp` ``(cfg, "sgd", lr, steps=steps, seed=seed, x=x,
    y=y)``. A run that stays finite is measured again at its final weights: the mean
    fraction of dead units (:func:`gradviz.probes.activation_stats`) and the sharpness
    ``lambda_max`` (:func:`gradviz.probes.sharpness`), to compare with ``2 / lr``: the
    quadratic model calls a run stable only while ``lambda_max < 2 / lr``.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    rates = [_checks.real("learning_rates", lr, low=0.0, inclusive=False)
             for lr in np.atleast_1d(np.asarray(learning_rates, dtype=float))]
    runs = []
    for lr in rates:
        h = train.train_mlp(cfg, "sgd", lr, steps=steps, seed=seed, x=x, y=y)
        ok = h.diverged_at is None
        growth = h.grad_norms[:, 0] / h.grad_norms[0, 0]
        runs.append(LearningRateRun(
            learning_rate=lr, loss=np.asarray(h.loss),
            largest_loss=float(np.max(h.loss)),
            first_layer_growth=float(np.max(growth)),
            diverged_at=h.diverged_at,
            dead_after=float(probes.activation_stats(cfg, params=h.params, x=x)["dead"].mean())
            if ok else None,
            sharpness_after=probes.sharpness(cfg, params=h.params, x=x, y=y) if ok else None))
    return runs


def threshold_sweep(cfg: MLPConfig, x, y, multiples, *, seeds=range(10),
                    steps: int = 100) -> dict:
    """:func:`learning_rate_sweep` over many draws, each at multiples of its *own* threshold.

    For every seed ``s`` the sharpness at initialisation ``lambda_s``
    (:func:`gradviz.probes.sharpness` of ``init_mlp(cfg, PRNGKey(s))``) sets the learning
    rates ``k * 2 / lambda_s``; all ``len(multiples) * len(seeds)`` runs are
    :func:`gradviz.train_mlp` ``(cfg, "sgd", lr, steps=steps, seed=s, x=x, y=y)``, trained as
    one program by :func:`gradviz.train.train_many`. Every surviving run's final sharpness is
    compared with its ``2 / lr``.

    Returns:
        ``{"k x 2/lambda": row}``: how many draws diverged and the median step they did, and
        over the survivors the medians of the largest loss relative to the loss at step 0,
        of the final loss, of the dead-unit fraction after training and of
        ``lambda_max after / (2 / lr)``, and how many survivors end with
        ``lambda_max after >= 2 / lr`` (past the quadratic model's stability limit).
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    ks = [_checks.real("multiples", k, low=0.0, inclusive=False)
          for k in np.atleast_1d(np.asarray(multiples, dtype=float))]
    draws = [int(s) for s in _seeds._check_seeds(seeds)]
    lam = {s: probes.sharpness(cfg, x=x, y=y, seed=s) for s in draws}
    order = [(k, s) for k in ks for s in draws]
    hist = train.train_many({"net": cfg}, [("net", k * 2 / lam[s], s) for k, s in order],
                            steps=steps, x=x, y=y, norms=False)
    rows = {}
    for k in ks:
        mine = [h for (kk, _), h in zip(order, hist, strict=True) if kk == k]
        ok = [(h, k * 2 / lam[s]) for h, s in zip(mine, draws, strict=True)
              if h.diverged_at is None]
        died = [h.diverged_at for h in mine if h.diverged_at is not None]
        after = [probes.sharpness(cfg, params=h.params, x=x, y=y) * lr / 2 for h, lr in ok]
        med = (lambda v: float(np.median(v))) if ok else (lambda v: None)
        rows[f"{k:g} x 2/lambda"] = {
            "diverged": f"{len(died)} of {len(mine)}",
            "at step (median)": float(np.median(died)) if died else None,
            "largest / start": med([np.max(h.loss) / h.loss[0] for h, _ in ok]),
            "final loss": med([h.loss[-1] for h, _ in ok]),
            "dead units after": med([float(probes.activation_stats(cfg, params=h.params, x=x)
                                           ["dead"].mean()) for h, _ in ok]),
            "lambda after / (2/lr)": med(after),
            "at or past 2/lr": f"{sum(a >= 1 for a in after)} of {len(ok)}"}
    return rows
