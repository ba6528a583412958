"""Activations and their derivatives [C1 3.2, 3.4], on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy
from arraynet.kernel.activations import get_activation

from .conftest import assert_same_place

Z_HOST = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0], [-20.0, -1e-3, 1e-3, 7.0, 20.0]])

REFERENCES = {  # name: (g, g') from the course's definitions
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(0, z), lambda z: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.maximum(0.01 * z, z), lambda z: np.where(z > 0, 1.0, 0.01)),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_and_derivative_match_the_seeds_definitions(xp, to_xp, name):
    g = get_activation(name)
    Z = to_xp(Z_HOST)
    g_ref, derivative_ref = REFERENCES[name]
    assert_same_place(g(Z), Z)
    assert_same_place(g.derivative(Z), Z)
    np.testing.assert_allclose(to_numpy(g(Z)), g_ref(Z_HOST), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(to_numpy(g.derivative(Z)), derivative_ref(Z_HOST), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_never_overflows(xp, to_xp, dtype):
    """Exact 0 and 1 at the extremes, no overflow warning (warnings are errors here)."""
    Z = to_xp(np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]]), dtype=dtype)
    np.testing.assert_array_equal(to_numpy(arraynet.Sigmoid()(Z)), [[0.0, 0.0, 0.5, 1.0, 1.0]])


@pytest.mark.parametrize("dtype, z_max", [("float32", 85.0), ("float64", 700.0)])
def test_sigmoid_keeps_its_relative_precision_down_to_the_smallest_probabilities(xp, to_xp, dtype, z_max):
    """Within 4 ulp of 1 / (1 + e^{-z}) evaluated in extended precision, wherever sigma(z) is a
    normal number of the dtype; the tanh form 0.5 tanh(z/2) + 0.5 is 0 from z = -17.4 (float32)."""
    z = np.linspace(-z_max, z_max, 4001).astype(dtype)
    exact = 1 / (1 + np.exp(-z.astype(np.longdouble)))
    A = to_numpy(arraynet.Sigmoid()(to_xp(z[None, :], dtype=dtype)))[0]
    assert A.dtype == np.dtype(dtype)
    np.testing.assert_allclose(A, exact.astype(dtype), rtol=4 * np.finfo(dtype).eps, atol=0)


def test_leaky_relu_slope_is_configurable(xp, to_xp):
    g = arraynet.LeakyReLU(slope=0.2)
    Z = to_xp(Z_HOST)
    np.testing.assert_allclose(to_numpy(g(Z)), np.maximum(0.2 * Z_HOST, Z_HOST), rtol=1e-15)
    np.testing.assert_allclose(to_numpy(g.derivative(Z)), np.where(Z_HOST > 0, 1.0, 0.2), rtol=1e-15)


def test_relu_derivative_at_zero_is_zero():
    """The seed lets g'(0) be either 1 or 0 [3.2]; arraynet picks 0."""
    assert to_numpy(arraynet.ReLU().derivative(np.zeros((1, 1))))[0, 0] == 0.0


@pytest.mark.parametrize("slope", [-0.1, 1.0, 2, "0.1", True, float("nan")])
def test_leaky_relu_rejects_a_slope_outside_0_to_1(slope):
    with pytest.raises(ValueError, match=r"slope must be a number with 0 <= slope < 1; got"):
        arraynet.LeakyReLU(slope)


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match=r"activation must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'softmax' or an Activation; got 'swish'"):
        get_activation("swish")
