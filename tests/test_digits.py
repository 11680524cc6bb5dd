"""The bundled digits split, its baseline, and held-out evaluation."""

import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits

import gradviz as gv


@pytest.fixture(scope="module")
def split():
    return gv.data.digits(seed=0)


def test_split_is_a_shuffled_partition_of_the_bundled_digits(split):
    raw = load_digits()
    n_test = round(0.3 * len(raw.target))
    assert split.x_test.shape == (n_test, 64) and split.x_train.shape == (1797 - n_test, 64)
    assert split.y_train.shape == (1797 - n_test, 10)
    # one-hot targets agree with the labels
    np.testing.assert_array_equal(np.argmax(split.y_train, 1), split.labels_train)
    np.testing.assert_array_equal(np.asarray(split.y_test).sum(1), 1.0)
    # every label count of the whole set is recovered from the two parts
    counts = np.bincount(np.concatenate([split.labels_train, split.labels_test]), minlength=10)
    np.testing.assert_array_equal(counts, np.bincount(raw.target, minlength=10))


def test_standardised_with_training_statistics_only(split):
    x = np.asarray(split.x_train, np.float64)
    varying = x.std(0) > 0
    np.testing.assert_allclose(x.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(x.std(0)[varying], 1.0, rtol=1e-4)
    # held-out pixels were scaled with the training statistics, so their mean is not 0
    assert np.abs(np.asarray(split.x_test).mean(0)).max() > 1e-3


def test_seed_changes_the_split_and_only_the_seed(split):
    again, other = gv.data.digits(seed=0), gv.data.digits(seed=1)
    np.testing.assert_array_equal(again.labels_test, split.labels_test)
    assert not np.array_equal(other.labels_test, split.labels_test)


def test_mean_baseline_matches_its_formula(split):
    y_tr, y_te = np.asarray(split.y_train, np.float64), np.asarray(split.y_test, np.float64)
    expected = np.mean((y_te - y_tr.mean(0)) ** 2)
    assert gv.data.mean_baseline_mse(split.y_train, split.y_test) == pytest.approx(expected, 1e-5)
    # for balanced one-hot classes it is close to (1 - 1/10) / 10
    assert expected == pytest.approx(0.09, rel=0.02)


def test_evaluate_against_numpy(split):
    cfg = gv.MLPConfig(depth=3, width=32, activation="tanh", in_dim=64, out_dim=10)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(1))
    e = gv.evaluate(cfg, params, split.x_test, split.y_test, split.labels_test)
    out = np.asarray(gv.apply_mlp(params, split.x_test, cfg), np.float64)
    assert e.loss == pytest.approx(np.mean((out - np.asarray(split.y_test)) ** 2), rel=1e-5)
    assert e.accuracy == pytest.approx(np.mean(out.argmax(1) == np.asarray(split.labels_test)))
    assert np.isnan(gv.evaluate(cfg, params, split.x_test, split.y_test).accuracy)


def test_a_trained_network_beats_the_baseline_on_held_out_digits(split):
    cfg = gv.MLPConfig(depth=3, width=64, activation="tanh", in_dim=64, out_dim=10)
    h = gv.train_mlp(cfg, learning_rate=0.1, steps=200, x=split.x_train, y=split.y_train)
    e = gv.evaluate(cfg, h.params, split.x_test, split.y_test, split.labels_test)
    assert e.loss < 0.6 * gv.data.mean_baseline_mse(split.y_train, split.y_test)
    assert e.accuracy > 0.85  # chance is about 0.1


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": -1}, "seed"), ({"test_fraction": 1.0}, "test_fraction"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gv.data.digits(**kwargs)


def test_evaluate_rejects_labels_of_the_wrong_length(split):
    cfg = gv.MLPConfig(depth=2, width=8, in_dim=64, out_dim=10)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="labels"):
        gv.evaluate(cfg, params, split.x_test, split.y_test, split.labels_test[:5])


def test_the_file_read_without_importing_sklearn_is_load_digits():
    """gradviz reads scikit-learn's digits.csv.gz itself (importing scikit-learn costs a lesson
    about 0.65 s); the arrays must be load_digits' own, and the split the one made from them."""
    pixels, labels = gv.data._digits_file()
    raw = load_digits()
    np.testing.assert_array_equal(pixels, raw.data)
    np.testing.assert_array_equal(labels, raw.target)
    x = jax.numpy.asarray(raw.data, jax.numpy.float32)
    order = np.asarray(jax.random.permutation(jax.random.PRNGKey(2), 1797))
    test, train = order[:539], order[539:]
    mean, std = x[train].mean(0), x[train].std(0)
    z = (x - mean) / jax.numpy.where(std > 0, std, 1.0)
    split = gv.data.digits(seed=2)
    np.testing.assert_array_equal(np.asarray(split.x_train), np.asarray(z[train]))
    np.testing.assert_array_equal(np.asarray(split.labels_test), raw.target[test])
