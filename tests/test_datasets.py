"""The generated data sets: arraynet's layout, deterministic for a seed, and learnable by a network
where a straight line is not enough."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet

GENERATORS = [arraynet.load_flower, arraynet.load_moons, arraynet.load_circles]


@pytest.mark.parametrize("load", GENERATORS, ids=lambda f: f.__name__)
def test_layout_is_features_by_examples_with_both_classes_in_halves(load):
    X, Y = load(m=120)
    assert X.shape == (2, 120) and Y.shape == (1, 120)
    assert X.dtype == Y.dtype == np.float64
    assert np.all(np.isfinite(X))
    np.testing.assert_array_equal(Y[0, :60], 0)
    np.testing.assert_array_equal(Y[0, 60:], 1)


@pytest.mark.parametrize("load", GENERATORS, ids=lambda f: f.__name__)
def test_same_seed_same_data_other_seed_other_data(load):
    X1, Y1 = load(seed=5)
    X2, Y2 = load(seed=5)
    X3, _ = load(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.allclose(X1, X3)


def test_moons_without_noise_lie_on_two_unit_half_circles():
    X, _ = arraynet.load_moons(m=200, noise=0.0)
    upper, lower = X[:, :100], X[:, 100:]
    np.testing.assert_allclose(np.hypot(upper[0], upper[1]), 1.0)
    assert np.all(upper[1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0)
    assert np.all(lower[1] <= 0.5)


def test_circles_without_noise_lie_on_radius_one_and_factor():
    X, _ = arraynet.load_circles(m=200, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X[:, :100]), 1.0)
    np.testing.assert_allclose(np.hypot(*X[:, 100:]), 0.3)


@pytest.mark.parametrize(
    "load, logistic_at_most",
    [(arraynet.load_moons, 0.90), (arraynet.load_circles, 0.60)],
    ids=["moons", "circles"],
)
def test_a_small_network_learns_what_logistic_regression_cannot(load, logistic_at_most):
    X, Y = load()
    network = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="tanh", seed=0)
    network.fit(X, Y, learning_rate=1.0, num_iterations=1000, record_every=1000)
    logistic = arraynet.LogisticRegression()
    logistic.fit(X, Y, learning_rate=1.0, num_iterations=1000, record_every=1000)
    assert logistic.accuracy(X, Y) <= logistic_at_most
    assert network.accuracy(X, Y) >= 0.95


@pytest.mark.parametrize("load", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("m", [0, 3, -2, 2.0, True])
def test_m_must_be_an_even_integer(load, m):
    with pytest.raises(ValueError, match=r"m must be an even integer >= 2; got"):
        load(m=m)


@pytest.mark.parametrize("load", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.2"])
def test_noise_must_be_a_finite_non_negative_number(load, noise):
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        load(noise=noise)


@pytest.mark.parametrize("factor", [0, 1, 1.5, -0.5])
def test_circles_factor_must_lie_strictly_between_zero_and_one(factor):
    with pytest.raises(ValueError, match=r"factor must be a number in \(0, 1\)"):
        arraynet.load_circles(factor=factor)
