"""Devices and backends: moving models and data explicitly, errors instead of silent copies, the
``"auto"`` fallback to NumPy, and the same numbers on a GPU as on the CPU."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

import arraynet
from arraynet.backends import _unusable_reason, backend_name, namespace_for_backend, namespace_of, to_numpy

from .conftest import GPU_TARGETS, TESTED_BACKENDS, assert_same_place, backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()


def flower_network() -> arraynet.NeuralNetwork:
    return arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=3)


def trained_on_numpy(num_iterations: int = 50) -> arraynet.NeuralNetwork:
    model = flower_network()
    model.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=num_iterations)
    return model


# -- model.to ----------------------------------------------------------------------------------
def test_model_to_moves_the_parameters_and_training_goes_on_there(xp, device, to_xp):
    reference = trained_on_numpy()
    host_parameters = reference.get_parameters()
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)

    model = trained_on_numpy()
    assert model.to(backend_name(xp), device) is model
    for key, value in model.get_parameters().items():
        assert_same_place(value, X)
        np.testing.assert_array_equal(to_numpy(value), host_parameters[key])  # moved, not changed
    np.testing.assert_allclose(to_numpy(model.predict_proba(X)), reference.predict_proba(X_FLOWER), rtol=1e-12)

    moved = model.fit(X, Y, learning_rate=1.2, num_iterations=100, record_every=25)
    stayed = reference.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=100, record_every=25)
    np.testing.assert_allclose(moved.costs, stayed.costs, rtol=1e-10)
    assert_same_place(model.predict(X), X)

    model.to("numpy")
    for key, value in model.get_parameters().items():
        assert isinstance(value, np.ndarray)
        np.testing.assert_allclose(value, reference.get_parameters()[key], rtol=1e-10, atol=1e-12)


def test_model_to_before_fit_says_there_is_nothing_to_move():
    with pytest.raises(arraynet.NotFittedError, match="no parameters yet: call fit or set_parameters first"):
        flower_network().to("numpy")


def test_model_to_an_unknown_or_unusable_backend_is_refused(fake_cupy):
    fake_cupy(None)
    model = trained_on_numpy(1)
    with pytest.raises(ValueError, match=r"backend must be 'auto' or one of numpy, cupy, .*; got 'gpu'"):
        model.to("gpu")
    with pytest.raises(ValueError, match=r"backend 'cupy' cannot be used: it is not installed"):
        model.to("cupy")
    assert all(isinstance(value, np.ndarray) for value in model.get_parameters().values())


# -- data elsewhere than the model: an error that says how to move it ----------------------------
def test_data_in_another_library_than_the_model_is_an_error_not_a_copy(xp, to_xp):
    name = backend_name(xp)
    other = "array_api_strict" if name == "numpy" else "numpy"
    if _unusable_reason(other) is not None:
        pytest.skip(f"backend {other} is not usable: {_unusable_reason(other)}")
    model = flower_network()
    model.fit(to_xp(X_FLOWER), to_xp(Y_FLOWER), learning_rate=1.2, num_iterations=5)
    parameters = model.get_parameters()
    X_other, Y_other = arraynet.asarray(X_FLOWER, other), arraynet.asarray(Y_FLOWER, other)

    how = (
        rf"X is a {other} array but the model is {name}: arrays from two libraries cannot be mixed; "
        rf"move it with arraynet.asarray\(X, backend='{name}', device=...\) "
        r"or move the model to the data with model.to\(backend, device\)"
    )
    for call in (model.predict, model.predict_proba):
        with pytest.raises(TypeError, match=how):
            call(X_other)
    with pytest.raises(TypeError, match=how):
        model.fit(X_other, Y_other, num_iterations=1)
    with pytest.raises(TypeError, match=rf"Y is a {other} array but X is {name}: .* arraynet.asarray\(Y, backend='{name}'"):
        model.accuracy(to_xp(X_FLOWER), Y_other)
    assert all(model.get_parameters()[key] is value for key, value in parameters.items())

    model.to(other)
    assert model.predict(X_other).shape == (1, X_FLOWER.shape[1])


def _torch_cuda_reason() -> str | None:
    """Why PyTorch cannot compute on a CUDA device here, or None when it can."""
    reason = _unusable_reason("torch")
    if reason is None:
        import torch

        if not torch.cuda.is_available():
            reason = "PyTorch has no usable CUDA device"
    return reason


@pytest.mark.parametrize(
    "backend, model_device, data_device",
    [
        pytest.param("array_api_strict", "device1", "device2", id="array_api_strict"),
        pytest.param(
            "torch", "cuda:0", "cpu", id="torch-cuda",
            marks=pytest.mark.skipif(_torch_cuda_reason() is not None, reason=f"needs a GPU: {_torch_cuda_reason()}"),
        ),
    ],
)
def test_data_on_another_device_than_the_model_is_an_error_not_a_copy(backend, model_device, data_device):
    if _unusable_reason(backend) is not None:
        pytest.skip(f"backend {backend} is not usable: {_unusable_reason(backend)}")
    model = trained_on_numpy(5).to(backend, model_device)
    X_there = arraynet.asarray(X_FLOWER, backend, device=data_device)
    with pytest.raises(
        ValueError,
        match=rf"X is on device .*{data_device}.* but the model is on device .*{model_device}.*: data is never "
        rf"moved silently; move it with arraynet.asarray\(X, backend='{backend}', device=...\) or move the model",
    ):
        model.predict(X_there)
    model.to(backend, data_device)
    assert_same_place(model.predict(X_there), X_there)


# -- backend "auto": CuPy on a usable GPU, else NumPy, said once -----------------------------------
@pytest.mark.parametrize(
    "cupy_devices, reason",
    [
        (None, "CuPy is not usable because it is not installed"),
        (0, "CuPy is not usable because CuPy is installed but no CUDA device is usable"),
        (RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected"), "no CUDA device is usable"),
    ],
    ids=["without-cupy", "no-device", "no-driver"],
)
def test_auto_falls_back_to_numpy_and_says_so_once(fake_cupy, caplog, cupy_devices, reason):
    fake_cupy(cupy_devices)
    caplog.set_level(logging.INFO, logger="arraynet")
    X, Y = arraynet.asarray(X_FLOWER), arraynet.asarray(Y_FLOWER)
    assert isinstance(X, np.ndarray) and isinstance(Y, np.ndarray)
    assert backend_name(namespace_for_backend("auto")) == "numpy"
    model = flower_network()
    model.fit(X, Y, learning_rate=1.2, num_iterations=10)
    assert isinstance(model.predict(arraynet.asarray(X_FLOWER)), np.ndarray)

    said = [record for record in caplog.records if record.name == "arraynet"]
    assert len(said) == 1
    assert said[0].levelno == logging.INFO
    assert "backend 'auto' uses NumPy" in said[0].getMessage()
    assert reason in said[0].getMessage()
    assert "cupy" not in arraynet.available_backends()


def test_auto_picks_cupy_when_a_cuda_device_is_usable(fake_cupy, caplog):
    fake_cupy(1)
    caplog.set_level(logging.INFO, logger="arraynet")
    assert backend_name(namespace_for_backend("auto")) == "cupy"
    assert "cupy" in arraynet.available_backends()
    assert not caplog.records


# -- arraynet.asarray: explicit moves that keep every value --------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_asarray_round_trips_between_backends_keep_every_value(xp, device, dtype):
    host = np.random.default_rng(0).standard_normal((3, 5)).astype(dtype)
    name = backend_name(xp)
    here = arraynet.asarray(host, name, device=device)
    assert namespace_of(here) is xp and here.dtype == getattr(xp, dtype)
    assert arraynet.asarray(here, name, device=device) is here  # already there: no copy
    for other in set(arraynet.available_backends()) & set(TESTED_BACKENDS):
        there = arraynet.asarray(here, other)
        assert backend_name(namespace_of(there)) == other
        back = arraynet.asarray(there, name, device=device)
        assert_same_place(back, here)
        np.testing.assert_array_equal(to_numpy(back), host)


def test_asarray_converts_the_dtype_by_name_or_refuses_a_name_it_does_not_know(xp, to_xp):
    x = to_xp(np.arange(4.0).reshape(2, 2))
    assert arraynet.asarray(x, backend_name(xp), dtype="float32").dtype == xp.float32
    with pytest.raises(ValueError, match=r"dtype must name a dtype of .*; got 'float99'"):
        arraynet.asarray(x, backend_name(xp), dtype="float99")


# -- a GPU gives the CPU's numbers ---------------------------------------------------------------
# float64 within 1e-10 relative; float32 within sqrt(eps) = 3.5e-4, the usual bound for float32
# results that went through many rounded steps: the two BLAS libraries sum in different orders,
# and where the cost falls fastest (the planar net near iteration 200) a rounding difference grows
# for a while (NumPy vs PyTorch on one CPU differ by up to 9e-5 there, and by 2e-13 in float64).
RTOL = {"float64": 1e-10, "float32": float(np.sqrt(np.finfo(np.float32).eps))}


def _wide_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 1024))
    Y = (X[:3].sum(axis=0, keepdims=True) + 0.5 * rng.standard_normal((1, 1024)) > 0).astype(np.float64)
    return X, Y


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), GPU_TARGETS), indirect=True)
@pytest.mark.parametrize(
    "make_model, data, learning_rate",
    [
        (flower_network, (X_FLOWER, Y_FLOWER), 1.2),
        (lambda: arraynet.NeuralNetwork([64, 128, 64, 1], seed=0), _wide_data(), 0.1),
        (arraynet.LogisticRegression, _wide_data(), 0.1),
    ],
    ids=["planar", "wide", "logistic"],
)
def test_same_seed_trains_to_the_same_costs_on_the_gpu_as_on_numpy(backend_case, make_model, data, learning_rate):
    backend, device, dtype = backend_case.case
    X_host, Y_host = (array.astype(dtype) for array in data)
    on_cpu = make_model().fit(X_host, Y_host, learning_rate=learning_rate, num_iterations=300, record_every=50)
    model = make_model()
    X = arraynet.asarray(X_host, backend, device=device)
    on_gpu = model.fit(X, arraynet.asarray(Y_host, backend, device=device), learning_rate=learning_rate, num_iterations=300, record_every=50)
    assert on_gpu.iterations == on_cpu.iterations
    np.testing.assert_allclose(on_gpu.costs, on_cpu.costs, rtol=RTOL[dtype])
    assert on_gpu.costs[-1] < on_gpu.costs[0]
    assert_same_place(model.predict_proba(X), X)


def test_a_read_only_array_moved_to_pytorch_gets_memory_of_its_own():
    """A JAX array (or a read-only NumPy one) reaches PyTorch as a copy: PyTorch would otherwise
    share the read-only buffer (and warn that writing to the tensor is undefined)."""
    torch = pytest.importorskip("torch")
    host = np.arange(6.0, dtype=np.float32).reshape(2, 3)  # float32: JAX's float64 mode may be off
    read_only = host.copy()
    read_only.flags.writeable = False
    sources = [read_only]
    if "jax" in arraynet.available_backends():
        sources.append(arraynet.asarray(host, "jax"))
    for source in sources:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tensor = arraynet.asarray(source, "torch")
        tensor += 1  # its own memory: the source keeps its values
        np.testing.assert_array_equal(to_numpy(source), host)
        assert isinstance(tensor, torch.Tensor)
