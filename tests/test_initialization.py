"""Random initialization [seed 3.7]: drawn on the host, the same network on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy


@pytest.mark.parametrize(
    "init, scale", [("small", lambda n: 0.01), ("xavier", lambda n: 1 / np.sqrt(n)), ("he", lambda n: np.sqrt(2 / n))]
)
def test_weights_are_standard_normal_times_the_inits_scale(init, scale):
    layer_dims = [400, 300, 1]
    parameters = arraynet.initialize_parameters(layer_dims, init, seed=0)
    rng = np.random.default_rng(0)
    for l in (1, 2):
        expected = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * scale(layer_dims[l - 1])
        np.testing.assert_array_equal(parameters[f"W{l}"], expected)
        np.testing.assert_array_equal(parameters[f"b{l}"], np.zeros((layer_dims[l], 1)))
    assert np.std(parameters["W1"]) == pytest.approx(scale(400), rel=0.02)


def test_same_seed_gives_the_same_network_on_every_backend(xp, device):
    reference = arraynet.initialize_parameters([5, 4, 3, 1], "he", seed=7)
    for dtype in (xp.float32, xp.float64):
        parameters = arraynet.initialize_parameters([5, 4, 3, 1], "he", seed=7, xp=xp, dtype=dtype, device=device)
        for key, value in reference.items():
            assert value.shape == tuple(parameters[key].shape)
            assert parameters[key].dtype == dtype
            assert device is None or parameters[key].device == device
            np.testing.assert_allclose(to_numpy(parameters[key]), value, rtol=1e-7 if dtype == xp.float32 else 0)


def test_different_seeds_give_different_networks():
    a = arraynet.initialize_parameters([3, 4, 1], seed=0)["W1"]
    b = arraynet.initialize_parameters([3, 4, 1], seed=1)["W1"]
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("layer_dims", [[3], [], [3, 0, 1], [3, -1], [3.0, 1], "31", [True, 1]])
def test_layer_dims_must_be_at_least_two_positive_integers(layer_dims):
    with pytest.raises(ValueError, match="layer_dims must be a list of at least 2 positive integers"):
        arraynet.initialize_parameters(layer_dims)


def test_unknown_init_names_the_choices():
    with pytest.raises(ValueError, match=r"init must be one of 'small', 'xavier', 'he', 'zeros'; got 'glorot'"):
        arraynet.initialize_parameters([2, 1], "glorot")
