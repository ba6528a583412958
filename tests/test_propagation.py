"""The functional kernel: forward [C1 3.1], backward [C1 3.5], update, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy

from .conftest import assert_same_place

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu"]
DEPTHS = {1: [3, 1], 2: [3, 4, 1], 3: [3, 4, 3, 1], 4: [3, 5, 4, 3, 1]}


def data(n_x=3, m=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    return X, Y


def random_parameters(layer_dims, seed):
    """Xavier weights and nonzero biases (zero biases put ReLU's kink under a dead layer's units)."""
    parameters = arraynet.initialize_parameters(layer_dims, "xavier", seed=seed)
    rng = np.random.default_rng(seed)
    return {k: v + 0.1 * rng.standard_normal(v.shape) if k[0] == "b" else v for k, v in parameters.items()}


def host_cost(parameters, X, Y, activations):
    """J on the host (NumPy), for the numerical gradient."""
    AL, caches = arraynet.forward(parameters, X, activations)
    return float(arraynet.compute_cost(AL, Y, ZL=caches[-1].Z))


def numerical_gradients(parameters, X, Y, activations, eps=1e-6):
    """Central differences (J(theta + eps) - J(theta - eps)) / (2 eps), one parameter at a time."""
    grads = {}
    for key, value in parameters.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in parameters.items()}
            shifted[key][index] = value[index] + eps
            plus = host_cost(shifted, X, Y, activations)
            shifted[key][index] = value[index] - eps
            minus = host_cost(shifted, X, Y, activations)
            grad[index] = (plus - minus) / (2 * eps)
        grads[f"d{key}"] = grad
    return grads


def relative_difference(a: dict, b: dict) -> float:
    """||a - b|| / (||a|| + ||b||) over all gradients, as the course's gradient check."""
    keys = sorted(a)
    va = np.concatenate([np.ravel(a[k]) for k in keys])
    vb = np.concatenate([np.ravel(b[k]) for k in keys])
    return float(np.linalg.norm(va - vb) / (np.linalg.norm(va) + np.linalg.norm(vb)))


@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("L", sorted(DEPTHS))
def test_every_gradient_equals_the_numerical_gradient(xp, to_xp, hidden, L):
    if L == 1 and hidden != ACTIVATIONS[0]:
        pytest.skip("L = 1 has no hidden layer")
    activations = [hidden] * (L - 1) + ["sigmoid"]
    X, Y = data()
    parameters = random_parameters(DEPTHS[L], seed=L)
    AL, caches = arraynet.forward({k: to_xp(v) for k, v in parameters.items()}, to_xp(X), activations)
    grads = arraynet.backward(AL, to_xp(Y), caches, activations)

    assert sorted(grads) == sorted(f"d{k}" for k in parameters)
    for key, value in parameters.items():
        assert_same_place(grads[f"d{key}"], AL)
        assert tuple(grads[f"d{key}"].shape) == value.shape
    expected = numerical_gradients(parameters, X, Y, activations)
    for key, value in expected.items():  # each gradient on its own: a small db cannot hide behind dW
        assert relative_difference({key: to_numpy(grads[key])}, {key: value}) < 1e-7, key


def test_forward_equals_the_seeds_per_example_formulas(xp, to_xp):
    """z^[l](i) = W^[l] a^[l-1](i) + b^[l], a^[l](i) = g^[l](z^[l](i)) [C1 3.1], one column at a time."""
    activations = ["relu", "tanh", "leaky_relu", "sigmoid"]
    X, _ = data(m=6)
    parameters = arraynet.initialize_parameters(DEPTHS[4], "he", seed=1)
    AL, caches = arraynet.forward({k: to_xp(v) for k, v in parameters.items()}, to_xp(X), activations)
    g = {
        "relu": lambda z: max(0.0, z),
        "tanh": np.tanh,
        "leaky_relu": lambda z: max(0.01 * z, z),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }
    for i in range(X.shape[1]):
        a = X[:, i]
        for l, name in enumerate(activations, start=1):
            z = parameters[f"W{l}"] @ a + parameters[f"b{l}"][:, 0]
            np.testing.assert_allclose(to_numpy(caches[l - 1].Z)[:, i], z, rtol=1e-12, atol=1e-15)
            a = np.array([g[name](zk) for zk in z])
        np.testing.assert_allclose(to_numpy(AL)[:, i], a, rtol=1e-12)


def test_backward_equals_the_seeds_per_example_formulas(xp, to_xp):
    """dW^[l] = (1/m) sum_i dz^[l](i) a^[l-1](i)^T and db^[l] = (1/m) sum_i dz^[l](i) [C1 3.5],
    with dz^[L](i) = a^[L](i) - y(i) [C1 2.7], accumulated one example at a time."""
    activations = ["tanh", "relu", "sigmoid"]
    X, Y = data(m=5)
    parameters = random_parameters(DEPTHS[3], seed=2)
    AL, caches = arraynet.forward({k: to_xp(v) for k, v in parameters.items()}, to_xp(X), activations)
    grads = arraynet.backward(AL, to_xp(Y), caches, activations)

    m = X.shape[1]
    derivative = {"tanh": lambda z: 1 - np.tanh(z) ** 2, "relu": lambda z: (z > 0).astype(float)}
    expected = {f"d{k}": np.zeros_like(v) for k, v in parameters.items()}
    for i in range(m):
        a = [X[:, i]]
        z = []
        for l in (1, 2, 3):
            z.append(parameters[f"W{l}"] @ a[-1] + parameters[f"b{l}"][:, 0])
            a.append(np.tanh(z[-1]) if l == 1 else np.maximum(z[-1], 0) if l == 2 else 1 / (1 + np.exp(-z[-1])))
        dz = a[3] - Y[:, i]
        for l in (3, 2, 1):
            expected[f"dW{l}"] += np.outer(dz, a[l - 1]) / m
            expected[f"db{l}"][:, 0] += dz / m
            if l > 1:
                dz = (parameters[f"W{l}"].T @ dz) * derivative[activations[l - 2]](z[l - 2])
    for key, value in expected.items():
        np.testing.assert_allclose(to_numpy(grads[key]), value, rtol=1e-12, atol=1e-15)


def test_update_takes_one_gradient_descent_step(xp, to_xp):
    """W := W - alpha dW, b := b - alpha db [C1 3.5], as new arrays."""
    parameters = {k: to_xp(v) for k, v in arraynet.initialize_parameters([2, 3, 1], seed=0).items()}
    grads = {f"d{k}": v * 0.5 + 1.0 for k, v in parameters.items()}
    updated = arraynet.update(parameters, grads, learning_rate=0.1)
    for key, value in parameters.items():
        assert_same_place(updated[key], value)
        np.testing.assert_allclose(
            to_numpy(updated[key]), to_numpy(value) - 0.1 * (to_numpy(value) * 0.5 + 1.0), rtol=1e-15
        )


def test_forward_keeps_the_datas_namespace_dtype_and_device(xp, to_xp):
    for dtype in (xp.float32, xp.float64):
        X = to_xp(data()[0], dtype=dtype)
        parameters = {
            k: to_xp(v, dtype=dtype) for k, v in arraynet.initialize_parameters([3, 2, 1], seed=0).items()
        }
        AL, caches = arraynet.forward(parameters, X, ["relu", "sigmoid"])
        assert_same_place(AL, X)
        assert all(c.Z.dtype == dtype for c in caches)


def test_backward_does_not_compute_the_first_layers_dA():
    """Only dW and db come back: dA^[0] would cost a matrix product that nobody uses."""
    X, Y = data()
    parameters = arraynet.initialize_parameters([3, 4, 1], seed=0)
    AL, caches = arraynet.forward(parameters, X, ["relu", "sigmoid"])
    assert sorted(arraynet.backward(AL, Y, caches, ["relu", "sigmoid"])) == ["dW1", "dW2", "db1", "db2"]


def test_functional_errors_name_the_argument():
    X, Y = data()
    parameters = arraynet.initialize_parameters([3, 4, 1], seed=0)
    with pytest.raises(ValueError, match="activations must name one activation per layer"):
        arraynet.forward(parameters, X, ["relu"])
    with pytest.raises(ValueError, match="output layer's activation must be 'sigmoid'"):
        arraynet.forward(parameters, X, ["relu", "tanh"])
    with pytest.raises(ValueError, match="X must have n_x = 3 rows"):
        arraynet.forward(parameters, X[:2], ["relu", "sigmoid"])
    AL, caches = arraynet.forward(parameters, X, ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=r"Y must have shape \(1, m\) = \(1, 7\) to match AL of shape \(1, 7\); got shape \(1, 6\)"):
        arraynet.backward(AL, Y[:, :6], caches, ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=r"Y must hold binary labels"):
        arraynet.backward(AL, 2 * Y, caches, ["relu", "sigmoid"])
    grads = arraynet.backward(AL, Y, caches, ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=r"grads must have exactly the keys dW1, db1, dW2, db2; missing \['db2'\]"):
        arraynet.update(parameters, {k: v for k, v in grads.items() if k != "db2"}, 0.1)
    with pytest.raises(ValueError, match=r"grads\['dW1'\] must have shape \(4, 3\); got \(1, 3\)"):
        arraynet.update(parameters, {**grads, "dW1": np.ones((1, 3))}, 0.1)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0; got nan"):
        arraynet.update(parameters, grads, float("nan"))


def test_functional_calls_refuse_arrays_from_two_libraries():
    torch = pytest.importorskip("torch")
    X, Y = data()
    parameters = arraynet.initialize_parameters([3, 4, 1], seed=0)
    AL, caches = arraynet.forward(parameters, X, ["relu", "sigmoid"])
    with pytest.raises(TypeError, match=r"Y is a torch array but AL is numpy"):
        arraynet.backward(AL, torch.asarray(Y), caches, ["relu", "sigmoid"])
    with pytest.raises(TypeError, match=r"Y is a torch array but AL is numpy"):
        arraynet.compute_cost(AL, torch.asarray(Y))
    with pytest.raises(TypeError, match=r"grads\['dW1'\] is a torch array but the parameters is numpy"):
        grads = arraynet.backward(AL, Y, caches, ["relu", "sigmoid"])
        arraynet.update(parameters, {**grads, "dW1": torch.asarray(grads["dW1"])}, 0.1)


def test_compute_cost_checks_its_arguments():
    X, Y = data()
    AL = arraynet.Sigmoid()(X[:1])
    with pytest.raises(ValueError, match=r"AL must have shape \(1, m\), one prediction per example; got \(7,\)"):
        arraynet.compute_cost(AL[0], Y)
    with pytest.raises(ValueError, match=r"Y must have shape \(1, m\) = \(1, 7\) to match AL"):
        arraynet.compute_cost(AL, Y[0])
    with pytest.raises(ValueError, match=r"ZL must have the shape of AL, \(1, 7\); got \(2, 7\)"):
        arraynet.compute_cost(AL, Y, ZL=X[:2])


def test_forward_takes_what_update_takes():
    """Parameters as nested lists work in forward as they do in update; the result is the same."""
    X, _ = data()
    parameters = arraynet.initialize_parameters([3, 4, 1], seed=0)
    AL, _ = arraynet.forward(parameters, X, ["tanh", "sigmoid"])
    from_lists, _ = arraynet.forward({k: v.tolist() for k, v in parameters.items()}, X, ["tanh", "sigmoid"])
    np.testing.assert_array_equal(from_lists, AL)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (lambda p: [p["W1"], p["b1"]], TypeError, r"parameters must be a mapping of name to array; got list"),
        (lambda p: {**p, "W1": p["W1"].ravel()}, ValueError, r"parameters\['W1'\] must have shape \(n_l, n_\{l-1\}\); got \(12,\)"),
        (lambda p: {**p, "W2": "W2"}, TypeError, r"parameters\['W2'\] must be an array"),
        (lambda p: {**p, "W2": np.ones((1, 5))}, ValueError, r"parameters\['W2'\] must have shape \(1, 4\); got \(1, 5\)"),
        (lambda p: {**p, "W1": [[1.0, 2.0, 3.0], [4.0]]}, ValueError, r"parameters\['W1'\] must be a rectangular array"),
        (lambda p: {"b1": p["b1"]}, ValueError, r"parameters must hold W1, b1, \.\.\., WL, bL; got keys \['b1'\]"),
    ],
    ids=["not a mapping", "1-D W1", "W2 not an array", "W2 of another layer", "ragged W1", "no W"],
)
def test_forward_names_what_is_wrong_with_the_parameters(bad, error, message):
    X, _ = data()
    parameters = arraynet.initialize_parameters([3, 4, 1], seed=0)
    with pytest.raises(error, match=message):
        arraynet.forward(bad(parameters), X, ["tanh", "sigmoid"])


def test_backward_names_what_is_wrong_with_the_caches(xp, to_xp):
    """The caches must be forward's for AL: one LayerCache per layer, for AL's m examples."""
    X, Y = to_xp(data()[0]), to_xp(data()[1])
    g = ["tanh", "tanh", "sigmoid"]
    parameters = {k: to_xp(v) for k, v in arraynet.initialize_parameters([3, 4, 2, 1], seed=0).items()}
    AL, caches = arraynet.forward(parameters, X, g)
    other = {k: to_xp(v) for k, v in arraynet.initialize_parameters([3, 5, 2, 1], seed=0).items()}
    _, caches_of_other = arraynet.forward(other, X, g)
    cases = [
        ((AL[:, :3], Y[:, :3], caches), ValueError, r"caches\[0\]\['A_prev'\] must have shape \(3, 3\); got \(3, 7\)"),
        ((AL, Y, [tuple(c) for c in caches]), TypeError, r"caches\[0\] must be a LayerCache \(A_prev, W, Z, A\), as forward returns; got tuple"),
        ((AL, Y, caches[0]), TypeError, r"caches must be the list of LayerCaches that forward returns; got LayerCache"),
        ((AL, Y, [caches[0], *caches_of_other[1:]]), ValueError, r"caches\[1\]\['A_prev'\] must have shape \(4, 7\); got \(5, 7\)"),
        ((AL, Y, [caches[0], caches[1]._replace(W=caches[1].W[0, ...])]), ValueError, r"caches\[1\]\['W'\] must have shape \(n_l, n_\{l-1\}\); got \(4,\)"),
        ((AL, Y, []), ValueError, r"caches must hold one LayerCache per layer, as forward returns them; got none"),
    ]
    for arguments, error, message in cases:
        with pytest.raises(error, match=message):
            arraynet.backward(*arguments, g)
    with pytest.raises(ValueError, match=r"caches\[1\]\['W'\] must have shape \(1, 4\); got \(2, 4\)"):  # not the last layer
        arraynet.backward(AL, Y, caches[:2], ["tanh", "sigmoid"])
