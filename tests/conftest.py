"""One ``xp`` fixture runs a test on every backend under test.

Backends: NumPy, array-api-strict (the strict reference, on its extra device "device1" so that an
array created on the default device fails), PyTorch on the CPU, CuPy where a CUDA device is
usable, and JAX where it is installed (with its float64 mode on, as the float64 tests need). Choose with ``pytest --backends numpy,torch`` or ``ARRAYNET_TEST_BACKENDS=numpy,torch``;
by default every one is tried and those not usable here are skipped with the reason. A backend
named explicitly but not usable fails instead. ``ARRAYNET_TEST_TORCH_DEVICE=cuda:0`` runs the
PyTorch tests on that device instead of the CPU.
"""

from __future__ import annotations

import os
import sys
import types

import array_api_compat
import numpy as np
import pytest

import arraynet
from arraynet.backends import _device_argument, _unusable_reason, backend_name

TESTED_BACKENDS = ("numpy", "array_api_strict", "torch", "cupy", "jax")
TEST_DEVICES = {"array_api_strict": "device1"}
if os.environ.get("ARRAYNET_TEST_TORCH_DEVICE"):
    TEST_DEVICES["torch"] = os.environ["ARRAYNET_TEST_TORCH_DEVICE"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=None,
        help=f"comma-separated backends to test, of {', '.join(TESTED_BACKENDS)} "
        "(default: $ARRAYNET_TEST_BACKENDS, else all usable)",
    )


def _requested(config: pytest.Config) -> list[str] | None:
    value = config.getoption("--backends") or os.environ.get("ARRAYNET_TEST_BACKENDS")
    return None if not value else [name.strip() for name in value.split(",") if name.strip()]


@pytest.fixture(params=TESTED_BACKENDS)
def xp(request: pytest.FixtureRequest):
    """The Array API namespace of the backend under test."""
    name = request.param
    requested = _requested(request.config)
    if requested is not None and name not in requested:
        pytest.skip(f"backend {name} not selected (--backends / ARRAYNET_TEST_BACKENDS)")
    reason = _unusable_reason(name)
    if reason is not None:
        if requested is not None:
            pytest.fail(f"backend {name} was selected but {reason}")
        pytest.skip(f"backend {name} is not usable: {reason}")
    if name == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        os.environ["JAX_ENABLE_X64"] = "1"  # and in the CLI tests' subprocesses
    return arraynet.backends.get_namespace(name)


@pytest.fixture
def device(xp):
    """The device tests put their data on: array-api-strict's extra "device1", PyTorch's
    ``$ARRAYNET_TEST_TORCH_DEVICE`` when set, else the default."""
    name = TEST_DEVICES.get(backend_name(xp))
    if name is None:
        return None
    return array_api_compat.device(xp.empty(0, device=_device_argument(xp, name)))


@pytest.fixture
def to_xp(xp, device):
    """Convert a host (NumPy) array to the backend under test, on its test device."""

    def convert(array, dtype=None):
        return arraynet.asarray(np.asarray(array), backend_name(xp), device=device, dtype=dtype)

    return convert


def assert_same_place(result, like) -> None:
    """``result`` has the namespace, dtype and device of ``like``."""
    from array_api_compat import array_namespace
    from array_api_compat import device as device_of

    assert array_namespace(result) is array_namespace(like)
    assert result.dtype == like.dtype
    assert device_of(result) == device_of(like)


@pytest.fixture
def fake_cupy(monkeypatch):
    """Pretend CuPy is missing or has no usable GPU: ``fake_cupy(None)`` hides CuPy, and
    ``fake_cupy(n)`` installs a fake CuPy whose ``cuda.runtime.getDeviceCount()`` returns ``n``,
    or raises ``n`` when it is an exception (as CuPy does on a machine without a CUDA driver).
    What arraynet found about its backends is forgotten before and after the test."""

    def install(device_count):
        if device_count is None:
            monkeypatch.setitem(sys.modules, "cupy", None)
            monkeypatch.setitem(sys.modules, "array_api_compat.cupy", None)
        else:

            def getDeviceCount():
                if isinstance(device_count, Exception):
                    raise device_count
                return device_count

            cupy = types.ModuleType("cupy")
            cupy.__version__ = "0.0+fake"
            cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=getDeviceCount))
            namespace = types.ModuleType("array_api_compat.cupy")
            devices = tuple(f"<CUDA Device {i}>" for i in range(device_count if isinstance(device_count, int) else 0))
            namespace.__array_namespace_info__ = lambda: types.SimpleNamespace(devices=lambda: devices)
            monkeypatch.setitem(sys.modules, "cupy", cupy)
            monkeypatch.setitem(sys.modules, "array_api_compat.cupy", namespace)
        _forget_backends()

    _forget_backends()
    yield install
    monkeypatch.undo()
    _forget_backends()


def _forget_backends() -> None:
    arraynet.backends._unusable_reason.cache_clear()
    arraynet.backends._auto_backend.cache_clear()
