"""Random initialization [C1 3.7]: drawn on the host, the same network on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name, namespace_for_backend, namespace_of, to_numpy


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


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16", "bfloat16"])
def test_a_dtype_other_than_float32_or_float64_is_refused(xp, dtype):
    """Integer weights would be truncated to zeros, every unit the same [C1 3.7]; float16 and
    bfloat16 underflow in training. The dtype object and its name are refused alike."""
    if not hasattr(xp, dtype):
        pytest.skip(f"{backend_name(xp)} has no {dtype}")
    with pytest.raises(TypeError, match=rf"dtype must be float32 or float64; got dtype .*{dtype}.*: pass dtype="):
        arraynet.initialize_parameters([2, 3, 1], seed=0, xp=xp, dtype=getattr(xp, dtype))
    if dtype in xp.__array_namespace_info__().dtypes():
        with pytest.raises(TypeError, match=r"dtype must be float32 or float64"):
            arraynet.initialize_parameters([2, 3, 1], seed=0, xp=xp, dtype=dtype)


def test_a_dtype_may_be_given_by_name_or_as_pythons_float(xp, device):
    parameters = arraynet.initialize_parameters([2, 3, 1], seed=0, xp=xp, dtype="float32", device=device)
    assert all(value.dtype == xp.float32 for value in parameters.values())
    parameters = arraynet.initialize_parameters([2, 3, 1], seed=0, xp=xp, dtype=float, device=device)
    assert all(value.dtype == xp.float64 for value in parameters.values())


def test_the_plain_library_module_stands_for_its_namespace():
    """xp=torch (or numpy) gives what xp=namespace_for_backend("torch") gives: arrays that forward accepts."""
    torch = pytest.importorskip("torch")
    for module, name in ((torch, "torch"), (np, "numpy")):
        parameters = arraynet.initialize_parameters([2, 3, 1], seed=0, xp=module)
        expected = arraynet.initialize_parameters([2, 3, 1], seed=0, xp=namespace_for_backend(name))
        for key, value in expected.items():
            assert namespace_of(parameters[key]) is namespace_for_backend(name)
            assert parameters[key].dtype == value.dtype
            np.testing.assert_array_equal(to_numpy(parameters[key]), to_numpy(value))
        arraynet.forward(parameters, module.ones((2, 4), dtype=parameters["W1"].dtype), ["tanh", "sigmoid"])


@pytest.mark.parametrize("xp", ["torch", arraynet, None.__class__], ids=["a name", "another module", "a class"])
def test_anything_else_as_xp_says_what_xp_must_be(xp):
    with pytest.raises(TypeError, match=r"xp must be the Array API namespace of one of numpy, .* \(e\.g\. arraynet\.backends\.namespace_for_backend\('torch'\)"):
        arraynet.initialize_parameters([2, 3, 1], xp=xp)
