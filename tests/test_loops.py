"""arraynet.kernel.loops: the course's per-example, per-unit loops give the vectorized kernel's numbers
(float64, to 1e-12) on every backend, for L = 1..4 and every activation."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy
from arraynet.kernel import loops
from arraynet.kernel.cost import cost_from_logits
from arraynet.models.logistic_regression import LogisticRegression

from .conftest import assert_same_place
from .test_propagation import ACTIVATIONS, DEPTHS, data, random_parameters

# (L, activations): every activation in a hidden layer at each depth, and all four in one net
CASES = (
    [(1, ["sigmoid"])]
    + [(L, [hidden] * (L - 1) + ["sigmoid"]) for L in (2, 3, 4) for hidden in ACTIVATIONS]
    + [(4, ["relu", "tanh", "leaky_relu", "sigmoid"])]
)


def assert_equal_to_1e12(result, expected) -> None:
    """``max |result - expected| <= 1e-12 max(1, max |expected|)``, and the same place."""
    if isinstance(expected, np.generic):  # NumPy reductions give a scalar, not a 0-d array
        expected = np.asarray(expected)
    assert_same_place(result, expected)
    r, e = to_numpy(result), to_numpy(expected)
    assert r.shape == e.shape
    assert np.max(np.abs(r - e), initial=0.0) <= 1e-12 * max(1.0, float(np.max(np.abs(e), initial=0.0)))


def assert_same_cost(result, expected) -> None:
    """Both costs are 0-d with the data's dtype (NumPy's mean gives a NumPy scalar) and agree to 1e-12."""
    assert result.shape == () and result.dtype == expected.dtype
    assert abs(float(result) - float(expected)) <= 1e-12 * max(1.0, abs(float(expected)))


@pytest.mark.parametrize("L, activations", CASES, ids=[f"L{L}-{'-'.join(a)}" for L, a in CASES])
def test_loops_equal_the_vectorized_kernel(xp, to_xp, L, activations):
    X, Y = data(n_x=3, m=5, seed=L)
    X, Y = to_xp(X), to_xp(Y)
    parameters = {k: to_xp(v) for k, v in random_parameters(DEPTHS[L], seed=L).items()}

    AL, caches = arraynet.forward(parameters, X, activations)
    AL_loop, caches_loop = loops.forward(parameters, X, activations)
    assert_equal_to_1e12(AL_loop, AL)
    for cache_loop, cache in zip(caches_loop, caches, strict=True):
        for name in ("A_prev", "W", "Z", "A"):
            assert_equal_to_1e12(getattr(cache_loop, name), getattr(cache, name))

    assert_same_cost(
        loops.compute_cost(AL_loop, Y, ZL=caches_loop[-1].Z), arraynet.compute_cost(AL, Y, ZL=caches[-1].Z)
    )
    assert_same_cost(loops.compute_cost(AL_loop, Y), arraynet.compute_cost(AL, Y))

    grads = arraynet.backward(AL, Y, caches, activations)
    grads_loop = loops.backward(AL_loop, Y, caches_loop, activations)
    assert sorted(grads_loop) == sorted(grads)
    for key, value in grads.items():
        assert_equal_to_1e12(grads_loop[key], value)

    updated = arraynet.update(parameters, grads, 0.7)
    updated_loop = loops.update(parameters, grads_loop, 0.7)
    assert sorted(updated_loop) == sorted(updated)
    for key, value in updated.items():
        assert_equal_to_1e12(updated_loop[key], value)


def test_logistic_regression_loop_equals_the_vectorized_kernel(xp, to_xp):
    """[C1 2.6] with ``for i in range(m)`` and ``for j in range(n_x)`` equals [C1 2.7]."""
    rng = np.random.default_rng(5)
    X, Y = data(n_x=4, m=6, seed=5)
    X, Y = to_xp(X), to_xp(Y)
    parameters = {"w": to_xp(rng.standard_normal((4, 1))), "b": to_xp(np.asarray(0.3))}

    cost_loop, grads_loop = loops.logistic_regression_gradients(parameters, X, Y)

    model = LogisticRegression()
    AL, ZL, caches = model._forward(parameters, X, xp)
    grads = model._backward(AL, Y, caches, xp)
    assert_same_cost(cost_loop, cost_from_logits(ZL, Y, xp))
    assert sorted(grads_loop) == ["db", "dw"]
    for key, value in grads.items():
        assert_equal_to_1e12(grads_loop[key], value)


def test_loops_keep_float32(xp, to_xp):
    """The loops read elements as Python floats but give back arrays in the data's dtype."""
    X, Y = data(n_x=3, m=4, seed=1)
    X, Y = to_xp(X, dtype=xp.float32), to_xp(Y, dtype=xp.float32)
    parameters = {k: to_xp(v, dtype=xp.float32) for k, v in random_parameters(DEPTHS[2], seed=1).items()}
    AL_loop, caches_loop = loops.forward(parameters, X, ["tanh", "sigmoid"])
    AL, _ = arraynet.forward(parameters, X, ["tanh", "sigmoid"])
    assert_same_place(AL_loop, AL)
    np.testing.assert_allclose(to_numpy(AL_loop), to_numpy(AL), rtol=1e-5)
    grads = loops.backward(AL_loop, Y, caches_loop, ["tanh", "sigmoid"])
    assert_same_place(grads["dW1"], parameters["W1"])


def test_loops_check_their_input_as_the_kernel_does():
    parameters = arraynet.initialize_parameters([3, 2, 1], seed=0)
    X, Y = data(n_x=2, m=4)
    with pytest.raises(ValueError, match="X"):
        loops.forward(parameters, X, ["relu", "sigmoid"])
    with pytest.raises(ValueError, match="activations"):
        loops.forward(parameters, data(n_x=3)[0], ["relu"])
    with pytest.raises(ValueError, match="learning_rate"):
        loops.update(parameters, {f"d{k}": v for k, v in parameters.items()}, -1.0)
    with pytest.raises(ValueError, match="w"):
        loops.logistic_regression_gradients({"b": np.asarray(0.0)}, X, Y)
    with pytest.raises(ValueError, match=r"parameters\['w'\] must have shape \(n_x, 1\); got \(\)"):
        loops.logistic_regression_gradients({"w": np.asarray(0.5), "b": np.asarray(0.0)}, X, Y)


def test_logistic_regression_loop_takes_w_as_a_nested_list():
    """As the kernel's checks do, a nested list ``w`` reads as an array of its shape."""
    X, Y = data(n_x=2, m=4, seed=3)
    w = [[0.5], [-0.25]]
    cost, grads = loops.logistic_regression_gradients({"w": w, "b": np.asarray(0.1)}, X, Y)
    expected_cost, expected = loops.logistic_regression_gradients({"w": np.asarray(w), "b": np.asarray(0.1)}, X, Y)
    assert float(cost) == float(expected_cost)
    for key, value in expected.items():
        np.testing.assert_array_equal(grads[key], value)
