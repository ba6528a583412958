"""One ``xp`` fixture runs a test on every backend under test.

``backend_cases`` generates the test matrix (backend, device, dtype) that every module uses.
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
from collections.abc import Sequence
from typing import Any, NamedTuple

import array_api_compat
import numpy as np
import pytest

import arraynet
from arraynet.backends import _device_argument, _unusable_reason, backend_name

# (backend, device) of every target under test: the device tests put their data on (None: the
# backend's default); array-api-strict's extra "device1", so that an array made on the default
# device fails
_TORCH_DEVICE = os.environ.get("ARRAYNET_TEST_TORCH_DEVICE") or None
TARGETS: tuple[tuple[str, str | None], ...] = (
    ("numpy", None),
    ("array_api_strict", "device1"),
    ("torch", _TORCH_DEVICE),
    ("cupy", None),
    ("jax", None),
)
# the targets that compute on a GPU
GPU_TARGETS: tuple[tuple[str, str | None], ...] = (("cupy", None), ("torch", "cuda:0"))
TESTED_BACKENDS = tuple(backend for backend, _ in TARGETS)
TEST_DEVICES = {backend: device for backend, device in TARGETS if device is not None}


class Case(NamedTuple):
    """One case of the test matrix: a backend, the device its data goes on, a floating dtype."""

    backend: str
    device: str | None
    dtype: str | None  # "float32", "float64", or None for the data's own


def backend_cases(
    dtypes: Sequence[str | None] = (None,), targets: Sequence[tuple[str, str | None]] = TARGETS
) -> list[Any]:
    """The test matrix, backend x device x dtype, as ``pytest.param``s with ids ("numpy",
    "torch-cuda:0-float32"): the one generator that every test module parametrizes with (as
    scikit-learn's ``yield_namespace_device_dtype_combinations``). Whether a case can run here is
    decided when it runs (``resolve_case``), so that ``--backends`` applies."""
    params = []
    for backend, device in targets:
        for dtype in dtypes:
            label = "-".join(part for part in (backend, device if backend != "array_api_strict" else None, dtype) if part)
            params.append(pytest.param(Case(backend, device, dtype), id=label))
    return params


class Resolved(NamedTuple):
    """A case made concrete: its namespace, device object and dtype object."""

    xp: types.ModuleType
    device: Any
    dtype: Any
    case: Case


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


def resolve_case(case: Case, config: pytest.Config) -> Resolved:
    """The case's namespace, device and dtype; skipped with the reason when its backend is not
    selected or not usable here, or its device is not there (failed instead when the backend was
    selected by name)."""
    requested = _requested(config)
    if requested is not None and case.backend not in requested:
        pytest.skip(f"backend {case.backend} not selected (--backends / ARRAYNET_TEST_BACKENDS)")
    reason = _unusable_reason(case.backend)
    if reason is not None:
        if requested is not None:
            pytest.fail(f"backend {case.backend} was selected but {reason}")
        pytest.skip(f"backend {case.backend} is not usable: {reason}")
    if case.backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        os.environ["JAX_ENABLE_X64"] = "1"  # and in the CLI tests' subprocesses
    xp = arraynet.backends.namespace_for_backend(case.backend)
    device = None
    if case.device is not None:
        try:
            device = array_api_compat.device(xp.empty(0, device=_device_argument(xp, case.device)))
        except (RuntimeError, AssertionError, ValueError) as exc:  # PyTorch without CUDA: AssertionError
            if (case.backend, case.device) in GPU_TARGETS and case.device != _TORCH_DEVICE:
                pytest.skip(f"needs a GPU: {case.backend} has no device {case.device} here ({exc})")
            raise
    dtype = None if case.dtype is None else getattr(xp, case.dtype)
    return Resolved(xp, device, dtype, case)


@pytest.fixture(params=backend_cases())
def backend_case(request: pytest.FixtureRequest) -> Resolved:
    """The case under test (``backend_cases``), resolved; tests parametrize it indirectly with
    dtypes or other targets."""
    return resolve_case(request.param, request.config)


@pytest.fixture
def xp(backend_case: Resolved) -> types.ModuleType:
    """The Array API namespace of the backend under test."""
    return backend_case.xp


@pytest.fixture
def device(backend_case: Resolved) -> Any:
    """The device tests put their data on: array-api-strict's extra "device1", PyTorch's
    ``$ARRAYNET_TEST_TORCH_DEVICE`` when set, else the default."""
    return backend_case.device


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
def one_torch_thread():
    """PyTorch on one thread while a test runs (``pytestmark = pytest.mark.usefixtures(...)``): small
    arrays are far below its parallel grain, and on a busy machine its thread pool's handoffs cost
    several times the arithmetic."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def needs():
    """``needs("torch")`` skips the test, with the reason, where that backend is not usable here:
    the parts of a test about one particular library, for a test that otherwise runs anywhere."""

    def skip_unless_usable(backend: str) -> None:
        reason = _unusable_reason(backend)
        if reason is not None:
            pytest.skip(f"needs {backend}: {reason}")

    return skip_unless_usable


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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The skipped tests counted by reason, one line a reason (``-ra``'s line per test location
    ran to hundreds and buried the failures, which ``-rfE`` lists as before)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.write_sep("-", "skipped, by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:5d}  {reason}")


def _forget_backends() -> None:
    arraynet.backends._unusable_reason.cache_clear()
    arraynet.backends._auto_backend.cache_clear()
