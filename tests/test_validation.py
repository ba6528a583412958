"""Bad input gets a ValueError or TypeError naming the argument, the expected and the received."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import arraynet
from arraynet._validation import check_finite, check_X, non_finite
from arraynet.backends import backend_name

X = np.random.default_rng(0).standard_normal((2, 6))
Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])


def network():
    return arraynet.NeuralNetwork([2, 3, 1], seed=0)


def fitted():
    model = network()
    model.fit(X, Y, num_iterations=1)
    return model


@pytest.mark.parametrize(
    "bad_X, error, message",
    [
        (X[0], ValueError, r"X must be 2-D of shape \(n_x, m\), one example per column; got shape \(6,\)"),
        (X[None], ValueError, r"X must be 2-D .* got shape \(1, 2, 6\)"),
        (np.zeros((2, 0)), ValueError, r"X must hold at least one example \(m >= 1\); got shape \(2, 0\)"),
        (np.full((2, 6), "a"), TypeError, r"X must hold real numbers \(bool, integer or float\); got dtype <U1"),
        (X + 1j, TypeError, r"X must hold real numbers .* got dtype complex128"),
        (np.where(X > 1, np.nan, X), ValueError, r"X must be finite; it contains NaN or Inf"),
        (np.where(X > 1, np.inf, X), ValueError, r"X must be finite; it contains NaN or Inf"),
        ("X", TypeError, r"X must be an array \(NumPy, CuPy, PyTorch or another Array API library\); got str"),
        ([[1.0, 2.0], [3.0]], ValueError, r"X must be a rectangular array; got a ragged list"),
        (X[:1], ValueError, r"X must have n_x = 2 rows \(features\) for this model; got shape \(1, 6\)"),
    ],
    ids=["1-D", "3-D", "m=0", "strings", "complex", "NaN", "Inf", "not an array", "ragged", "wrong n_x"],
)
def test_bad_X_at_fit(bad_X, error, message):
    with pytest.raises(error, match=message):
        network().fit(bad_X, Y)


@pytest.mark.parametrize(
    "bad_Y, error, message",
    [
        (Y[0], ValueError, r"Y must have shape \(1, m\) = \(1, 6\) to match X of shape \(2, 6\); got shape \(6,\)"),
        (Y.T, ValueError, r"Y must have shape \(1, m\) = \(1, 6\) .* got shape \(6, 1\)"),
        (Y[:, :5], ValueError, r"Y must have shape \(1, m\) = \(1, 6\) .* got shape \(1, 5\)"),
        (Y * 2, ValueError, r"Y must hold binary labels: every entry 0 or 1; got other values"),
        (np.where(Y > 0, np.nan, Y), ValueError, r"Y must be finite; it contains NaN or Inf"),
        (np.full((1, 6), "1"), TypeError, r"Y must hold the labels 0 and 1; got dtype <U1"),
    ],
    ids=["1-D", "transposed", "other m", "labels 0/2", "NaN", "strings"],
)
def test_bad_Y_at_fit(bad_Y, error, message):
    with pytest.raises(error, match=message):
        network().fit(X, bad_Y)


@pytest.mark.parametrize("learning_rate", [0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_learning_rate_must_be_finite_and_positive(learning_rate):
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number > 0; got"):
        network().fit(X, Y, learning_rate=learning_rate)


@pytest.mark.parametrize("argument, value, minimum", [("num_iterations", -1, 0), ("num_iterations", 2.5, 0), ("record_every", 0, 1)])
def test_counts_must_be_integers_in_range(argument, value, minimum):
    with pytest.raises(ValueError, match=rf"{argument} must be an integer >= {minimum}; got {value}"):
        network().fit(X, Y, **{argument: value})


def test_predict_checks_n_x():
    with pytest.raises(ValueError, match=r"X must have n_x = 2 rows \(features\) for this model; got shape \(3, 6\)"):
        fitted().predict(np.zeros((3, 6)))


def test_logistic_regression_checks_n_x_once_fitted():
    model = arraynet.LogisticRegression()
    model.fit(X, Y, num_iterations=1)
    with pytest.raises(ValueError, match=r"X must have n_x = 2 rows"):
        model.predict_proba(np.zeros((5, 6)))


def test_floating_X_must_match_the_parameters_dtype():
    with pytest.raises(TypeError, match=r"X has dtype float32 but the model is float64; convert X with xp.astype"):
        fitted().predict(X.astype(np.float32))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer_dims": [2]}, r"layer_dims must be a list of at least 2 positive integers .* got \[2\]"),
        ({"layer_dims": [2, 0, 1]}, r"layer_dims must be a list of at least 2 positive integers"),
        ({"layer_dims": [2, 3, 2], "output_activation": "sigmoid"}, r"a sigmoid output has one unit \(binary labels\); layer_dims \[2, 3, 2\] ends in 2"),
        ({"layer_dims": [2, 3, 1], "hidden_activation": "swish"}, r"activations\[0\] must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'softmax' or an Activation; got 'swish'"),
        ({"layer_dims": [2, 3, 1], "output_activation": "relu"}, r"the output layer's activation must be 'sigmoid'"),
        ({"layer_dims": [2, 3, 1], "activations": ["relu"]}, r"activations must name one activation per layer \(L = 2\); got \['relu'\]"),
        ({"layer_dims": [2, 3, 1], "init": "uniform"}, r"init must be one of 'small', 'xavier', 'he', 'zeros'; got 'uniform'"),
        ({"layer_dims": [2, 3, 1], "init": "zeros"}, r"init='zeros' would make every hidden unit compute the same function"),
    ],
)
def test_bad_network_configuration(kwargs, message):
    with pytest.raises(ValueError, match=message):
        arraynet.NeuralNetwork(**kwargs)


def test_logistic_regression_rejects_an_unknown_init():
    with pytest.raises(ValueError, match=r"init must be one of .* got 'random'"):
        arraynet.LogisticRegression(init="random")


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda p: p.pop("b2"), ValueError, r"parameters must have exactly the keys W1, b1, W2, b2; missing \['b2'\], unexpected none"),
        (lambda p: p.update(W3=p["W2"]), ValueError, r"missing none, unexpected \['W3'\]"),
        (lambda p: p.update(W1=p["W1"].T), ValueError, r"parameters\['W1'\] must have shape \(3, 2\); got \(2, 3\)"),
        (lambda p: p.update(b1=p["b1"][:, 0]), ValueError, r"parameters\['b1'\] must have shape \(3, 1\); got \(3,\)"),
        (lambda p: p.update(W2=p["W2"].astype(np.float32)), TypeError, r"parameters\['W2'\] must have the floating dtype of parameters\['W1'\] \(float64\); got float32"),
        (lambda p: p.update(W2="W2"), TypeError, r"parameters\['W2'\] must be an array"),
        (lambda p: p["W2"].__setitem__((0, 0), np.nan), ValueError, r"parameters\['W2'\] must be finite; it contains NaN or Inf"),
    ],
    ids=["missing", "extra", "W shape", "b shape", "dtype", "not an array", "NaN"],
)
def test_set_parameters_checks_every_entry(change, error, message):
    parameters = arraynet.initialize_parameters([2, 3, 1], seed=0)
    change(parameters)
    with pytest.raises(error, match=message):
        network().set_parameters(parameters)


def test_logistic_regression_set_parameters_checks_w_and_b():
    with pytest.raises(ValueError, match=r"parameters\['b'\] must have shape \(\); got \(1, 1\)"):
        arraynet.LogisticRegression().set_parameters({"w": np.zeros((2, 1)), "b": np.zeros((1, 1))})
    with pytest.raises(ValueError, match=r"parameters must have exactly the keys w, b; missing \['w'\]"):
        arraynet.LogisticRegression().set_parameters({"b": np.zeros(())})
    with pytest.raises(ValueError, match=r"parameters\['w'\] must have shape \(n_x, 1\); got \(2,\)"):
        arraynet.LogisticRegression().set_parameters({"w": np.zeros(2), "b": np.zeros(())})
    model = arraynet.LogisticRegression()
    model.set_parameters({"w": [[0.5], [0.25]], "b": np.asarray(0.0)})  # a nested list, as for a network
    assert model.get_parameters()["w"].shape == (2, 1)


def test_arrays_from_two_libraries_in_one_call():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"Y is a torch array but X is numpy: arrays from two libraries cannot be mixed; move it with arraynet.asarray"):
        network().fit(X, torch.asarray(Y))
    with pytest.raises(TypeError, match=r"X is a torch array but the model is numpy"):
        fitted().predict(torch.asarray(X))
    parameters = arraynet.initialize_parameters([2, 3, 1], seed=0)
    parameters["b1"] = torch.asarray(parameters["b1"])
    with pytest.raises(TypeError, match=r"parameters\['b1'\] is a torch array but parameters\['W1'\] is numpy"):
        network().set_parameters(parameters)


def test_arrays_on_two_devices_in_one_call():
    strict = pytest.importorskip("array_api_strict")
    X_1 = arraynet.asarray(X, "array_api_strict", device="device1")
    Y_2 = arraynet.asarray(Y, "array_api_strict", device="device2")
    with pytest.raises(ValueError, match=r"Y is on device .*device2.* but X is on device .*device1.*: data is never moved silently"):
        network().fit(X_1, Y_2)
    model = network()
    model.fit(X_1, arraynet.asarray(Y, "array_api_strict", device=strict.Device("device1")), num_iterations=1)
    with pytest.raises(ValueError, match=r"X is on device .*CPU_DEVICE.* but the model is on device .*device1"):
        model.predict(arraynet.asarray(X, "array_api_strict"))


@pytest.mark.parametrize("seed", [-1, 1.5, "a", True])
def test_seed_must_be_none_or_a_non_negative_integer(seed):
    for make in (
        lambda: arraynet.initialize_parameters([2, 3, 1], seed=seed),
        lambda: arraynet.NeuralNetwork([2, 3, 1], seed=seed),
        lambda: arraynet.LogisticRegression(init="small", seed=seed),
    ):
        with pytest.raises(ValueError, match=r"seed must be None or an integer >= 0; got"):
            make()


def test_numpy_numbers_are_numbers():
    """NumPy scalars pass where Python numbers do: a learning rate, layer sizes, a seed."""
    model = arraynet.NeuralNetwork(np.array([2, 3, 1]), seed=np.int64(0))
    model.fit(X, Y, learning_rate=np.float32(0.1), num_iterations=np.int64(2))
    assert model.layer_dims == [2, 3, 1] and all(type(n) is int for n in model.layer_dims)


def test_torch_arrays_that_require_grad_are_used_detached():
    """arraynet computes its own gradients: no autograd graph may grow across the updates."""
    torch = pytest.importorskip("torch")
    model = network()
    model.fit(torch.tensor(X, requires_grad=True), torch.tensor(Y), num_iterations=5)
    assert all(value.grad_fn is None and not value.requires_grad for value in model.get_parameters().values())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. torch's "converting a tensor with requires_grad to a scalar"
        model.cost(torch.tensor(X, requires_grad=True), torch.tensor(Y))


def test_a_device_the_backend_cannot_use_is_a_clear_error():
    with pytest.raises(ValueError, match=r"device must be one of numpy's devices usable here \(cpu\); got 'gpu'"):
        arraynet.asarray(X, "numpy", device="gpu")
    with pytest.raises(ValueError, match=r"dtype must name a dtype of numpy, one of .*float64.*; got 'asarray'"):
        arraynet.asarray(X, "numpy", dtype="asarray")


def _half_dtypes(xp):
    dtypes = [getattr(xp, name) for name in ("float16", "bfloat16") if hasattr(xp, name)]
    if not dtypes:
        pytest.skip(f"{backend_name(xp)} has no half-precision dtype")
    return dtypes


def test_half_precision_is_refused_with_how_to_convert(xp, to_xp):
    """docs/guides/backends.md: a model works in float32 or float64 (integer and bool data become a float). float16
    and bfloat16, in which the updates underflow, are refused wherever they come in: X, Y or the
    parameters; the conversion the message names is the way out."""
    name = backend_name(xp)
    for half in _half_dtypes(xp):
        X_half, Y_half = to_xp(X, dtype=half), to_xp(Y, dtype=half)
        got = re.escape(str(X_half.dtype))
        with pytest.raises(
            TypeError,
            match=rf"X must be float32 or float64 \(or integer or bool, which become a float\); got dtype {got}: "
            rf"convert it with arraynet.asarray\(X, '{name}', dtype='float32'\) \(or 'float64'\)",
        ):
            network().fit(X_half, to_xp(Y))
        with pytest.raises(TypeError, match=rf"Y must be float32 or float64 .*; got dtype {got}: convert it with"):
            network().fit(to_xp(X), Y_half)
        parameters = {key: to_xp(value, dtype=half) for key, value in arraynet.initialize_parameters([2, 3, 1], seed=0).items()}
        message = rf"parameters\['W1'\] must be float32 or float64; got dtype {got}: convert it with arraynet.asarray"
        with pytest.raises(TypeError, match=message):
            network().set_parameters(parameters)
        with pytest.raises(TypeError, match=message):
            arraynet.forward(parameters, to_xp(X), ["tanh", "sigmoid"])
        model = network()
        model.fit(arraynet.asarray(X_half, name, dtype="float32"), Y_half == 1, num_iterations=2)
        assert model.get_parameters()["W1"].dtype == xp.float32


# -- input that looked valid but was not --------------------------------------------------------------
def test_a_numpy_masked_array_is_refused_as_np_matrix_is():
    model = arraynet.LogisticRegression()
    with pytest.raises(TypeError, match=r"X is a NumPy masked array, which arraynet does not support .* X\.filled\(value\)"):
        model.fit(np.ma.masked_array(X, mask=X > 1), Y, num_iterations=1)
    model.fit(X, Y, num_iterations=1)
    with pytest.raises(TypeError, match=r"Y is a NumPy masked array"):
        model.accuracy(X, np.ma.masked_array(Y))


def test_labels_are_checked_before_they_are_cast_to_xs_dtype():
    near = Y.copy()
    near[0, :3] = 1 + 1e-9  # rounds to 1 in float32
    with pytest.raises(ValueError, match=r"Y must hold binary labels: every entry 0 or 1; got other values: 1\.000000001"):
        arraynet.LogisticRegression().fit(X.astype(np.float32), near, num_iterations=1)
    with pytest.raises(ValueError, match=r"got other values: 1e\+39$"):  # inf in float32, not "must be finite"
        arraynet.LogisticRegression().fit(X.astype(np.float32), np.full_like(Y, 1e39), num_iterations=1)
    with pytest.raises(ValueError, match=r"got other values: -1, 2, 3, 4$"):
        arraynet.LogisticRegression().fit(X, np.arange(-1, Y.shape[1] - 1, dtype=float).reshape(Y.shape), num_iterations=1)


def test_bool_and_integer_labels_are_labels_on_every_backend(xp, to_xp):
    X_here = to_xp(X)
    for labels in (Y.astype(bool), Y.astype(np.int64)):
        model = arraynet.LogisticRegression()
        model.fit(X_here, to_xp(labels), num_iterations=5)
        assert model.accuracy(X_here, to_xp(labels)) == model.accuracy(X_here, to_xp(Y))


def test_big_endian_data_is_converted_to_the_same_numbers():
    model, native = arraynet.LogisticRegression(), arraynet.LogisticRegression()
    costs = model.fit(X.astype(">f8"), Y.astype(">f8"), num_iterations=20, record_every=5).costs
    assert costs == native.fit(X, Y, num_iterations=20, record_every=5).costs
    np.testing.assert_array_equal(model.predict_proba(X.astype(">f4").astype(">f8")), native.predict_proba(X.astype(np.float32).astype(np.float64)))


def test_examples_given_as_rows_are_named_with_the_fix():
    rows = np.zeros((569, 30))
    with pytest.raises(ValueError, match=r"X has shape \(569, 30\): one example per column is expected, \(n_x, m\); pass X\.T, or use arraynet\.sklearn"):
        arraynet.NeuralNetwork([30, 4, 1], seed=0).fit(rows, np.zeros((1, 569)), num_iterations=1)
    with pytest.raises(ValueError, match=r"X has shape \(569, 30\): .*\(Y holds 569 labels\)"):
        arraynet.LogisticRegression().fit(rows, np.zeros((1, 569)), num_iterations=1)


def test_x_without_features_is_named_as_such():
    with pytest.raises(ValueError, match=r"X must hold at least one feature \(n_x >= 1\); got shape \(0, 5\)"):
        arraynet.LogisticRegression().fit(np.zeros((0, 5)), np.zeros((1, 5)), num_iterations=1)


def test_a_list_given_to_a_model_of_another_library_is_named_as_a_list():
    torch = pytest.importorskip("torch")
    model = arraynet.LogisticRegression()
    model.fit(torch.asarray(X), torch.asarray(Y), num_iterations=1)
    with pytest.raises(TypeError, match=r"X is a list \(read as a numpy array\) but the model is torch"):
        model.predict([[1.0], [2.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_finiteness_check_names_the_first_array_with_nan_or_inf_on_every_backend(xp, to_xp, dtype):
    """``non_finite`` reads one sum when all is finite; a NaN, an Inf, or +Inf and -Inf together
    (whose sum is NaN) are found wherever they are, and finite values whose sum overflows are
    finite."""
    big = float(np.finfo(dtype).max)
    finite = to_xp(np.full((3, 4), big / 2), dtype)  # its sum overflows to inf
    assert non_finite({"a": finite, "b": to_xp(np.zeros((2, 2)), dtype)}, xp) is None
    assert non_finite({}, xp) is None
    for bad in (np.nan, np.inf, -np.inf):
        values = np.zeros((3, 4))
        values[2, 3] = bad
        assert non_finite({"a": to_xp(np.ones((2, 2)), dtype), "b": to_xp(values, dtype), "c": to_xp(values, dtype)}, xp) == "b"
    opposite = np.zeros((2, 3))
    opposite[0, 0], opposite[1, 2] = np.inf, -np.inf
    assert non_finite({"W": to_xp(opposite, dtype)}, xp) == "W"
    with pytest.raises(ValueError, match=r"parameters\['W'\] must be finite; it contains NaN or Inf"):
        check_finite({"W": to_xp(opposite, dtype)}, xp)


def test_finite_x_whose_sum_overflows_is_accepted():
    X_huge = np.full((2, 6), np.finfo(np.float32).max / 2, dtype=np.float32)
    checked, _, _ = check_X(X_huge)
    assert checked is X_huge


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_a_sparse_pytorch_tensor_is_refused_with_what_to_do(layout, needs):
    needs("torch")
    import torch

    X, Y = arraynet.load_flower()
    dense = torch.from_numpy(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's "sparse CSR support is in beta"
        sparse = dense.to_sparse() if layout == "coo" else dense.to_sparse_csr()
    with pytest.raises(TypeError, match=rf"X is a sparse PyTorch tensor \(layout sparse_{layout}\), .*pass X\.to_dense\(\)"):
        arraynet.NeuralNetwork([2, 3, 1]).fit(sparse, torch.from_numpy(Y), num_iterations=2)
