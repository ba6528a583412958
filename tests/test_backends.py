"""``arraynet.asarray``'s errors say what went wrong: the device only when the device is the problem."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name


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
