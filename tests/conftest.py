"""One ``xp`` fixture runs a test on every backend under test.

Backends: NumPy, array-api-strict (the strict reference, on its extra device "device1" so that an
array created on the default device fails), PyTorch on the CPU, and CuPy where a CUDA device is
usable. Choose with ``pytest --backends numpy,torch`` or ``ARRAYNET_TEST_BACKENDS=numpy,torch``;
by default every one is tried and those not usable here are skipped with the reason. A backend
named explicitly but not usable fails instead.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import arraynet
from arraynet.backends import _unusable_reason, backend_name

TESTED_BACKENDS = ("numpy", "array_api_strict", "torch", "cupy")
TEST_DEVICES = {"array_api_strict": "device1"}


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
    return arraynet.backends.get_namespace(name)


@pytest.fixture
def device(xp):
    """The device tests put their data on: array-api-strict's extra "device1", else the default."""
    name = TEST_DEVICES.get(backend_name(xp))
    return None if name is None else xp.Device(name)


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
