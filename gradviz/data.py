"""Data: small synthetic tasks made in code, and one real data set bundled in a package.

``teacher_regression`` and ``two_spirals`` are made from an explicit seed; the
long-range-dependency task, :func:`adding_problem`, lives with the recurrent models and is
re-exported. :func:`digits` is scikit-learn's copy of the UCI handwritten digits (1,797 8x8
images, inside its wheel: nothing is downloaded), split into training and held-out examples.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import pathlib
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradviz import _cache, _checks
from gradviz.models.rnn import ADDING_BASELINE_MSE, adding_problem

__all__ = ["ADDING_BASELINE_MSE", "Split", "adding_problem", "digits", "mean_baseline_mse",
           "teacher_regression", "two_spirals"]


def teacher_regression(seed: int, n: int, in_dim: int = 16, out_dim: int = 1, *,
                       depth: int = 2, width: int = 32, noise: float = 0.0):
    """Inputs ``x ~ N(0, I)`` and targets from a random tanh "teacher" network.

    .. math:: y = \\tanh(\\tanh(x W_0) W_1 \\cdots) W_{\\mathrm{out}} + \\epsilon,
        \\qquad W \\sim \\mathcal{N}(0, 1/\\mathrm{fan\\_in}), \\quad
        \\epsilon \\sim \\mathcal{N}(0, \\mathrm{noise}^2)

    A student network of enough capacity can fit it exactly, so the loss it reaches
    measures optimisation, not the task's difficulty.

    Returns:
        ``x: (n, in_dim)`` and ``y: (n, out_dim)``, float32.
    """
    _checks.integer("seed", seed, low=0)
    n = _checks.integer("n", n, low=1)
    in_dim = _checks.integer("in_dim", in_dim, low=1)
    out_dim = _checks.integer("out_dim", out_dim, low=1)
    depth, width = _checks.integer("depth", depth, low=1), _checks.integer("width", width, low=1)
    noise = _checks.real("noise", noise, low=0.0)
    kx, kn, kw = jax.random.split(jax.random.PRNGKey(seed), 3)
    x = _cache.normal(kx, (n, in_dim))  # (n, in_dim)
    h, fan_in = x, in_dim
    for k in jax.random.split(kw, depth):
        h = jnp.tanh(h @ (_cache.normal(k, (fan_in, width)) / math.sqrt(fan_in)))
        fan_in = width
    w_out = _cache.normal(jax.random.fold_in(kw, depth), (width, out_dim)) / math.sqrt(width)
    y = h @ w_out + noise * _cache.normal(kn, (n, out_dim))  # (n, out_dim)
    return x, y


def two_spirals(seed: int, n: int, *, turns: float = 1.5, noise: float = 0.05):
    """Two interleaved spirals in the plane, labels ``+1`` and ``-1`` (regression targets).

    Point ``i`` of a spiral sits at radius ``r = t`` and angle ``2 pi turns t (+ pi for
    the second spiral)``, ``t ~ U(0.05, 1)``, plus Gaussian noise of std ``noise``.

    Returns:
        ``x: (n, 2)`` and ``y: (n, 1)`` with values in ``{-1, +1}``; half of each class.
    """
    _checks.integer("seed", seed, low=0)
    n = _checks.integer("n", n, low=2)
    turns = _checks.real("turns", turns, low=0.0, inclusive=False)
    noise = _checks.real("noise", noise, low=0.0)
    kt, kn = jax.random.split(jax.random.PRNGKey(seed))
    t = _cache.uniform(kt, (n,), minval=0.05, maxval=1.0)  # (n,)
    label = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)  # (n,)
    angle = 2 * jnp.pi * turns * t + jnp.where(label > 0, 0.0, jnp.pi)
    x = jnp.stack([t * jnp.cos(angle), t * jnp.sin(angle)], axis=1)  # (n, 2)
    return x + noise * _cache.normal(kn, (n, 2)), label[:, None]


class Split(NamedTuple):
    """Training and held-out examples; ``y`` one-hot float32 for the MSE loss, ``labels`` ints."""

    x_train: jax.Array       # (n_train, 64)
    y_train: jax.Array       # (n_train, 10)
    labels_train: jax.Array  # (n_train,)
    x_test: jax.Array        # (n_test, 64)
    y_test: jax.Array        # (n_test, 10)
    labels_test: jax.Array   # (n_test,)


def digits(seed: int = 0, test_fraction: float = 0.3) -> Split:
    """scikit-learn's bundled handwritten digits, shuffled by ``seed`` and split.

    Pixels (0-16) are standardised per pixel with the *training* split's mean and standard
    deviation (constant pixels keep std 1), so no held-out statistic leaks into training.
    Targets are one-hot, so the course's MSE loss trains a 10-way classifier whose prediction
    is the largest output; chance accuracy is about 10%.

    References:
        Alpaydin & Kaynak 1998, UCI "Optical Recognition of Handwritten Digits" (the test
        part scikit-learn ships as ``load_digits``).
    """
    _checks.integer("seed", seed, low=0)
    test_fraction = _checks.real("test_fraction", test_fraction, low=0.05, high=0.95)
    pixels, target = _digits_file()
    x = jnp.asarray(pixels, jnp.float32)  # (1797, 64)
    labels = jnp.asarray(target, jnp.int32)  # (1797,)
    order = _cache.permutation(jax.random.PRNGKey(seed), x.shape[0])
    n_test = round(test_fraction * x.shape[0])
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(0), x[train].std(0)
    std = jnp.where(std > 0, std, 1.0)
    z = (x - mean) / std  # (1797, 64)
    onehot = jax.nn.one_hot(labels, 10, dtype=jnp.float32)  # (1797, 10)
    return Split(z[train], onehot[train], labels[train], z[test], onehot[test], labels[test])


@functools.cache
def _digits_file() -> tuple:
    """``(pixels (1797, 64), labels (1797,))`` as ``sklearn.datasets.load_digits`` returns
    them, read from the CSV file inside scikit-learn's wheel without importing scikit-learn
    (about 0.65 s of a lesson's start); ``load_digits`` itself where that file is not found."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = pathlib.Path(folder, "datasets", "data", "digits.csv.gz")
        table = np.loadtxt(path, delimiter=",") if path.is_file() else None  # (1797, 65)
        if table is not None and table.shape == (1797, 65):  # 64 pixels, then the label
            pixels, labels = table[:, :64], table[:, 64].astype(int)
            pixels.flags.writeable = labels.flags.writeable = False  # shared by every call
            return pixels, labels
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target


def mean_baseline_mse(y_train, y_test) -> float:
    """Held-out MSE of the best constant prediction learnt from training: the training mean.

    .. math:: \\frac{1}{n\\,k} \\sum_{i,j} (y^{\\text{test}}_{ij} - \\bar y^{\\text{train}}_j)^2

    A model that does not beat this has learnt nothing about its inputs.
    """
    y_train, y_test = jnp.asarray(y_train), jnp.asarray(y_test)
    if y_train.ndim != 2 or y_test.ndim != 2 or y_train.shape[1] != y_test.shape[1]:
        raise ValueError(f"y_train {y_train.shape} and y_test {y_test.shape} must be "
                         "(n, k) arrays with the same k")
    return float(jnp.mean((y_test - y_train.mean(0)) ** 2))
