"""``arraynet.asarray``'s errors say what went wrong: the device only when the device is the problem."""

from __future__ import annotations

import os
import sys

import array_api_compat
import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_info, backend_name


def test_a_device_the_library_does_not_have_lists_the_usable_ones(xp):
    name = backend_name(xp)
    with pytest.raises(ValueError, match=rf"device must be one of {name}'s devices usable here \(.+\); got 'no-such-device'") as error:
        arraynet.asarray(np.ones((2, 3)), name, device="no-such-device")
    assert error.value.__cause__ is not None  # the library's own words, kept


def test_data_already_on_the_named_device_is_not_copied(xp, device):
    """A device given by name ("cpu", "device1") names the same device as the array's own."""
    x = arraynet.asarray(np.ones((2, 3)), backend_name(xp), device=device)
    named = str(array_api_compat.device(x)) if backend_name(xp) == "torch" else array_api_compat.device(x)
    assert arraynet.asarray(x, backend_name(xp), device=named) is x


def test_text_data_is_named_not_the_device():
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"^cannot convert x \(list\) to an array of torch on device 'cpu': can't convert .*str") as error:
        arraynet.asarray(["a", "b"], "torch", device="cpu")
    assert isinstance(error.value.__cause__, TypeError)


def test_a_dtype_the_device_does_not_support_is_named_not_the_device():
    pytest.importorskip("array_api_strict")
    with pytest.raises(
        ValueError,
        match=r"^cannot convert x \(ndarray of dtype float64 and shape \(2, 2\)\) to an array of array_api_strict "
        r"on device 'no_float64': .*does not support dtype.*float64",
    ) as error:
        arraynet.asarray(np.ones((2, 2)), "array_api_strict", device="no_float64")
    assert isinstance(error.value.__cause__, ValueError)
    converted = arraynet.asarray(np.ones((2, 2)), "array_api_strict", device="no_float64", dtype="float32")
    assert converted.shape == (2, 2)


def test_pytorchs_meta_device_is_not_offered_or_accepted(tmp_path):
    """PyTorch's "meta" device holds shapes without values: nothing can be trained there, so it is
    not a usable device (info, asarray, model.to, load) and tensors made there are refused."""
    torch = pytest.importorskip("torch")
    (info,) = [info for info in backend_info() if info.name == "torch"]
    assert "cpu" in info.devices and "meta" not in info.devices
    refused = r"device must be one of torch's devices usable here \((?:(?!meta)[^)])+\); got"
    for meta in ("meta", torch.device("meta")):
        with pytest.raises(ValueError, match=refused):
            arraynet.asarray(np.ones((2, 3)), "torch", device=meta)
    X, Y = arraynet.load_flower()
    model = arraynet.LogisticRegression()
    model.fit(X, Y, num_iterations=1)
    with pytest.raises(ValueError, match=refused):
        model.to("torch", "meta")
    assert isinstance(model.get_parameters()["w"], np.ndarray)  # left where it was
    path = model.save(tmp_path / "model.npz")
    with pytest.raises(ValueError, match=refused):
        arraynet.load(path, "torch", "meta")
    with pytest.raises(ValueError, match=r"X is on PyTorch's 'meta' device, which holds no values"):
        arraynet.LogisticRegression().fit(torch.ones((2, 3), device="meta"), torch.ones((1, 3), device="meta"))


def test_jax_without_its_64_bit_mode_refuses_what_it_would_wrap_or_round(tmp_path):
    """In a fresh process (JAX's 64-bit mode off, as a user's): int64 values beyond int32 and a
    float64 model file are errors that say what to do, not int32 wraparound or float32 rounding."""
    pytest.importorskip("jax")
    import subprocess
    import sys

    model = arraynet.NeuralNetwork([2, 3, 1], seed=0)
    model.fit(*arraynet.load_flower(), num_iterations=1)
    model.save(tmp_path / "f64.npz")
    script = f"""
import numpy as np, arraynet
for attempt in (lambda: arraynet.asarray(np.array([[1, 2**31 + 5]]), "jax"), lambda: arraynet.load({str(tmp_path / "f64.npz")!r}, backend="jax")):
    try:
        attempt()
        print("no error")
    except ValueError as exc:
        print(exc)
print(arraynet.asarray(np.array([[1, 2]]), "jax").dtype)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**os.environ, "JAX_ENABLE_X64": "0"})
    wrapped, loaded, small = done.stdout.strip().splitlines()
    assert wrapped.startswith("x holds integers from 1 to 2147483653, beyond int32") and "jax_enable_x64" in wrapped
    assert loaded.startswith("model file ") and "holds float64 parameters" in loaded and "dtype=" not in loaded
    assert small == "int32"


def test_limit_threads_caps_the_blas_and_pytorch_pools_for_the_block():
    from threadpoolctl import threadpool_info

    torch = sys.modules.get("torch")
    before = None if torch is None else torch.get_num_threads()
    with arraynet.limit_threads(1):
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        if torch is not None:
            assert torch.get_num_threads() == 1
    if torch is not None:
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match=r"threads must be a whole number from 1 to this machine's \d+ logical cores; got 0"), arraynet.limit_threads(0):
        pass
