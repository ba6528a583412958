"""Array backends: which Array API libraries arraynet can use, and moving data between them.

The kernel never imports an array library: it receives the namespace ``xp`` resolved here, once per
public call, from the data (``namespace_of``) or from a backend name (``namespace_for_backend``).
Which library a namespace belongs to is asked with one family of predicates, array-api-compat's
(``is_numpy_namespace(xp)``, ``is_torch_namespace(xp)``, ...), re-exported here.

A Dask array is data spread over chunks (in one process or on a cluster), each chunk an array of
another library (NumPy, CuPy): its ``compute_namespace`` and ``compute_device`` are those of the
chunks, where the kernel runs and a model's parameters live (``arraynet.steps.distributed``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import math
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np
from array_api_compat import (
    is_array_api_strict_namespace,
    is_cupy_namespace,
    is_dask_array,
    is_dask_namespace,
    is_jax_namespace,
    is_numpy_namespace,
    is_torch_namespace,
)

__all__ = [
    "BackendInfo",
    "asarray",
    "auto_reason",
    "available_backends",
    "backend_info",
    "backend_name",
    "compute_device",
    "compute_namespace",
    "enable_jax_float64",
    "get_namespace",
    "is_array_api_strict_namespace",
    "is_cupy_namespace",
    "is_dask_array",
    "is_dask_namespace",
    "is_jax_namespace",
    "is_numpy_namespace",
    "is_torch_namespace",
    "jax_float64_enabled",
    "limit_threads",
    "namespace_for_backend",
    "to_numpy",
]

logger = logging.getLogger("arraynet")

# backend name -> module that is (or wraps) its Array API namespace
_NAMESPACES = {
    "numpy": "array_api_compat.numpy",
    "cupy": "array_api_compat.cupy",
    "torch": "array_api_compat.torch",
    "array_api_strict": "array_api_strict",
    "jax": "jax.numpy",
}
BACKENDS: tuple[str, ...] = tuple(_NAMESPACES)


def _cuda_device_count() -> int:
    """Number of CUDA devices CuPy can use; 0 when CuPy or the driver is missing.

    CuPy imports fine on a machine without a GPU, so the device count is the real test.
    """
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    # whatever CuPy raises here (no driver, no CUDA runtime, a broken install) means no usable device
    except Exception:  # noqa: BLE001
        return 0


@functools.cache
def _unusable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot be used here, or None when it can."""
    try:
        importlib.import_module(_NAMESPACES[name])
    except ImportError as exc:
        return f"it is not installed ({exc})"
    if name == "cupy" and _cuda_device_count() == 0:
        return "CuPy is installed but no CUDA device is usable"
    return None


def available_backends() -> tuple[str, ...]:
    """The backends usable on this machine, in the order of ``BACKENDS``."""
    return tuple(name for name in BACKENDS if _unusable_reason(name) is None)


@dataclass(frozen=True)
class BackendInfo:
    """What ``backend_info`` reports of one backend."""

    name: str
    version: str | None  # the library's version; None when it is not installed
    devices: tuple[str, ...]  # the devices its namespace reports; empty when it is not usable
    reason: str | None  # why it cannot be used here; None when it can

    @property
    def usable(self) -> bool:
        return self.reason is None


def _library_version(name: str) -> str | None:
    """The ``__version__`` of the library behind backend ``name`` (``jax`` for ``jax.numpy``)."""
    try:
        library = importlib.import_module(_NAMESPACES[name].removeprefix("array_api_compat.").split(".")[0])
    except ImportError:
        return None
    return str(getattr(library, "__version__", "unknown"))


def _holds_no_data(device: Any) -> bool:
    """Whether ``device`` is PyTorch's "meta" device: its tensors have shapes and dtypes but no
    values, so nothing can be computed, read or trained there."""
    return str(device) == "meta"


def _devices(xp: ModuleType) -> tuple[Any, ...]:
    """The devices of namespace ``xp`` that can hold data (without PyTorch's warning about its
    legacy device types)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return tuple(d for d in xp.__array_namespace_info__().devices() if not _holds_no_data(d))


def backend_info() -> tuple[BackendInfo, ...]:
    """Each backend of ``BACKENDS``: its version, its devices, and whether it is usable here."""
    infos = []
    for name in BACKENDS:
        reason = _unusable_reason(name)
        devices: tuple[str, ...] = ()
        if reason is None:
            with warnings.catch_warnings():  # PyTorch warns while it probes its device types
                warnings.simplefilter("ignore")
                devices = tuple(str(d) for d in _devices(namespace_for_backend(name)))
        infos.append(BackendInfo(name, _library_version(name), devices, reason))
    return tuple(infos)


@functools.cache
def _auto_backend() -> str:
    """CuPy when a CUDA device is really usable, else NumPy (the laptop fallback), said once."""
    reason = _unusable_reason("cupy")
    if reason is None:
        return "cupy"
    logger.info("backend 'auto' uses NumPy: CuPy is not usable because %s", reason)
    return "numpy"


def auto_reason() -> str:
    """Why backend "auto" uses NumPy ("CuPy is not usable: ..."), or "" when it uses CuPy."""
    reason = _unusable_reason("cupy")
    return "" if reason is None else f"CuPy is not usable because {reason}"


def namespace_for_backend(backend: str = "auto") -> ModuleType:
    """The Array API namespace of ``backend`` ("auto", "numpy", "cupy", "torch", ...), by name
    (``namespace_of`` gives that of an array)."""
    if backend == "auto":
        backend = _auto_backend()
    if backend not in _NAMESPACES:
        raise ValueError(
            f"backend must be 'auto' or one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    reason = _unusable_reason(backend)
    if reason is not None:
        raise ValueError(f"backend {backend!r} cannot be used: {reason}")
    return importlib.import_module(_NAMESPACES[backend])


get_namespace = namespace_for_backend  # its name before 0.2.0, kept as an alias


def as_namespace(xp: Any) -> ModuleType:
    """The namespace arraynet computes with for ``xp``: one that ``namespace_for_backend`` returns, or the
    plain library module (``numpy``, ``torch``, ``cupy``) mapped to its array-api-compat wrapper,
    which is what ``namespace_of`` gives for that library's arrays."""
    if isinstance(xp, ModuleType) and backend_name(xp) in _IS_NAMESPACE:
        return namespace_for_backend(backend_name(xp))
    raise TypeError(
        f"xp must be the Array API namespace of one of {', '.join(BACKENDS)} (e.g. "
        f"arraynet.backends.namespace_for_backend('torch'), or the module torch itself); got {xp!r}"
    )


def dtype_argument(xp: ModuleType, dtype: Any) -> Any:
    """``dtype`` as a dtype of namespace ``xp``: a dtype itself, its name ("float32"), or Python's
    ``float`` (float64, as NumPy reads it)."""
    if dtype is float:
        dtype = "float64"
    if is_jax_namespace(xp):
        _check_jax_float64(None, dtype)
    if not isinstance(dtype, str):
        return dtype
    dtypes = xp.__array_namespace_info__().dtypes()
    if dtype not in dtypes:
        raise ValueError(f"dtype must name a dtype of {backend_name(xp)}, one of {', '.join(dtypes)}; got {dtype!r}")
    return dtypes[dtype]


# backend name -> whether a namespace is that backend's: its library's module or its Array API
# namespace (array-api-compat's predicates)
_IS_NAMESPACE: dict[str, Callable[[Any], bool]] = {
    "numpy": is_numpy_namespace,
    "cupy": is_cupy_namespace,
    "torch": is_torch_namespace,
    "array_api_strict": is_array_api_strict_namespace,
    "jax": is_jax_namespace,
}


def backend_name(xp: ModuleType) -> str:
    """The backend name of namespace ``xp`` (the inverse of ``namespace_for_backend``), or the
    module's own name for a library that is not one of ``BACKENDS``."""
    for name, is_namespace in _IS_NAMESPACE.items():
        if is_namespace(xp):
            return name
    return xp.__name__


def namespace_of(x: Any) -> ModuleType:
    """The Array API namespace of array ``x``."""
    return array_api_compat.array_namespace(x)


def _chunk_of(x: Any) -> Any:
    """``x`` itself, or for a Dask array an empty array of its chunks' library (its "meta")."""
    if is_dask_array(x):
        from dask.array.utils import meta_from_array

        return meta_from_array(x)
    return x


def compute_namespace(x: Any) -> ModuleType:
    """The namespace that computes on ``x``'s values: ``namespace_of(x)``, or for a Dask array
    that of its chunks (NumPy's for NumPy chunks). Metadata only."""
    return namespace_of(_chunk_of(x))


def compute_device(x: Any) -> Any:
    """The device of ``x``, or for a Dask array that of its chunks' library (``"cpu"`` for NumPy
    chunks). Metadata only."""
    return array_api_compat.device(_chunk_of(x))


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array of a library that arraynet can work with."""
    return array_api_compat.is_array_api_obj(x)


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy (or view, for NumPy input) of ``x``, explicitly brought to the host (a Dask
    array computed)."""
    if is_dask_array(x):
        return to_numpy(x.compute())
    if isinstance(x, (np.ndarray, np.generic)):  # NumPy's 0-d results are scalars (np.float64)
        return np.asarray(x)
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if is_array(x):
        return np.from_dlpack(x)
    return np.asarray(x)


def _device_argument(xp: ModuleType, device: Any) -> Any:
    """Turn a device given by name into the backend's device object where the backend needs one."""
    if isinstance(device, str) and is_array_api_strict_namespace(xp):
        return xp.Device(device)
    if isinstance(device, str) and is_jax_namespace(xp):  # JAX takes device objects only: "cpu", "cpu:0"
        for candidate in _devices(xp):
            if device in (str(candidate), candidate.platform, f"{candidate.platform}:{candidate.id}"):
                return candidate
    if device is not None and is_cupy_namespace(xp):
        import cupy

        return device if isinstance(device, cupy.cuda.Device) else cupy.cuda.Device(device)
    return device


# what array libraries raise for a device or a conversion they cannot do (PyTorch built without
# CUDA raises AssertionError; JAX given a device name it does not have, AttributeError)
_LIBRARY_ERRORS = (TypeError, ValueError, RuntimeError, NotImplementedError, AssertionError, AttributeError)


def _checked_device(xp: ModuleType, device: Any) -> Any:
    """The device object of namespace ``xp`` that ``device`` names, checked by making an empty
    array there; a ValueError listing the usable devices when it cannot be used."""
    reason = None
    try:
        checked = array_api_compat.device(xp.empty((0,), device=_device_argument(xp, device)))
    except _LIBRARY_ERRORS as exc:
        reason = exc
    else:
        if not _holds_no_data(checked):
            return checked
    devices = ", ".join(map(str, _devices(xp)))
    raise ValueError(
        f"device must be one of {backend_name(xp)}'s devices usable here ({devices}); got {device!r}"
    ) from reason


def _describe(x: Any) -> str:
    """``x`` in a few words for an error: its type, and its dtype and shape when it has them."""
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return f"{type(x).__name__} of dtype {x.dtype} and shape {tuple(x.shape)}"
    return type(x).__name__


def jax_float64_enabled() -> bool:
    """Whether JAX computes in float64 where asked (its ``jax_enable_x64`` mode)."""
    import jax

    return bool(jax.config.read("jax_enable_x64"))


def enable_jax_float64() -> bool:
    """Switch JAX's float64 mode on (before any array is made); True when it was off."""
    import jax

    was_off = not jax_float64_enabled()
    jax.config.update("jax_enable_x64", True)
    return was_off


def _wants_float64(x: Any, dtype: Any) -> bool:
    """Whether converting ``x`` with ``dtype`` asks for float64: ``dtype`` itself (a name, Python's
    float, NumPy's or JAX's float64), else the dtype of ``x`` (a list of floats is float64)."""
    if dtype is not None:
        try:
            return bool(np.dtype(dtype if dtype is not float else "float64") == np.float64)
        except TypeError:
            return str(dtype).endswith("float64")
    found = getattr(x, "dtype", None)
    if found is None:
        try:
            found = np.asarray(x).dtype
        except (TypeError, ValueError):
            return False
    return str(found).endswith("float64")


def _check_jax_float64(x: Any, dtype: Any) -> None:
    """float64 data for JAX with its float64 mode off is an error: JAX would silently compute it in
    float32; so are 64-bit integers beyond int32's range kept as integers, which JAX would wrap
    around into int32 (2**31 + 5 becomes -2**31 + 5)."""
    if jax_float64_enabled():
        return
    if _wants_float64(x, dtype):
        raise ValueError(
            "JAX computes float64 data in float32 unless its float64 mode is on: call "
            "jax.config.update('jax_enable_x64', True) before making arrays (arraynet train --backend jax "
            "does for --dtype float64), or ask for dtype='float32'"
        )
    if dtype is None and not is_dask_array(x):
        try:
            host = np.asarray(to_numpy(x) if is_array(x) else x)
        except (TypeError, ValueError):
            return
        if host.dtype.kind in "iu" and host.dtype.itemsize == 8 and host.size:
            low, high = int(host.min()), int(host.max())
            bounds = np.iinfo(np.int32)
            if low < bounds.min or high > bounds.max:
                raise ValueError(
                    f"x holds integers from {low} to {high}, beyond int32 (+-2**31), which JAX uses unless its "
                    "64-bit mode is on: they would wrap around. Call jax.config.update('jax_enable_x64', True) "
                    "before making arrays, or ask for dtype='float32' (or 'float64' with that mode)"
                )


def _check_range(x: Any, xp: ModuleType, dtype: Any) -> None:
    """Finite data that a cast to a narrower floating ``dtype`` of ``xp`` would turn into inf
    (1e39 in float32) is an error that says so, not NaN or Inf found later. One sync, only for a
    narrowing cast."""
    if dtype is None or not xp.isdtype(dtype, "real floating"):
        return
    x_xp = namespace_of(x)
    if not x_xp.isdtype(x.dtype, "real floating") or x_xp.finfo(x.dtype).bits <= xp.finfo(dtype).bits:
        return
    if math.prod(x.shape) == 0:
        return
    magnitude = x_xp.where(x_xp.isfinite(x), x_xp.abs(x), x_xp.zeros_like(x))
    found, largest = float(x_xp.max(magnitude)), float(xp.finfo(dtype).max)
    if found > largest:
        raise ValueError(
            f"x holds values up to {found:.3g}, beyond the range of {dtype} (+-{largest:.3g}): they would "
            "become inf; keep float64 or rescale the data"
        )


def _dask_asarray(x: Any, xp: ModuleType, device: Any, dtype: Any) -> Any:
    """Dask ``x`` with chunks of ``xp`` (NumPy or CuPy, the libraries Dask computes with) on
    ``device`` in ``dtype``, lazily: each chunk converted by its task (NumPy chunks to CuPy ones for
    GPUs); ``x`` itself when they already are."""
    if not (is_numpy_namespace(xp) or is_cupy_namespace(xp)):
        raise TypeError(
            f"a Dask array's chunks can be NumPy or CuPy arrays, not {backend_name(xp)}: compute it "
            f"(x.compute()) to convert it whole, or train on it with backend 'numpy' or 'cupy'"
        )
    same_place = compute_namespace(x) is xp and (device is None or compute_device(x) == device)
    if same_place and (dtype is None or x.dtype == dtype):
        return x

    def convert(chunk: Any) -> Any:
        _check_range(chunk, xp, dtype)  # as for data in memory: 1e39 to float32 is an error, not inf
        return xp.astype(chunk, dtype) if same_place else xp.asarray(to_numpy(chunk), dtype=dtype, device=device)

    meta = xp.asarray(np.empty((0,) * x.ndim, dtype=x.dtype), dtype=dtype, device=device)
    return x.map_blocks(convert, dtype=meta.dtype, meta=meta)


def asarray(x: Any, backend: str = "auto", device: Any = None, dtype: Any = None) -> Any:
    """``x`` as an array of ``backend`` on ``device``, copied through the host when it must move.

    A Dask array stays a Dask array, lazily: its chunks become arrays of ``backend`` on ``device``
    (in ``dtype``) as its tasks compute them; no data moves here.

    ``dtype`` may be a dtype of the target library or its name ("float32"); by default the dtype
    of ``x`` is kept. Moving data is always this explicit call: arraynet never moves data silently.
    A device the backend cannot use is a ValueError listing those it can; data it cannot convert
    (text, or a dtype the device does not support) is a ValueError or TypeError naming ``x``, the
    target and the library's reason.
    """
    xp = namespace_for_backend(backend)
    if is_jax_namespace(xp):
        _check_jax_float64(x, dtype)
    dtype = dtype_argument(xp, dtype)
    target = None if device is None else _checked_device(xp, device)
    if is_dask_array(x):
        return _dask_asarray(x, xp, target, dtype)
    try:
        if is_array(x):
            _check_range(x, xp, dtype)
        if is_array(x) and namespace_of(x) is xp and (target is None or array_api_compat.device(x) == target):
            return x if dtype is None else xp.astype(x, dtype)
        host = to_numpy(x)
        if not is_array(x):
            _check_range(host, xp, dtype)
        if is_torch_namespace(xp) and isinstance(host, np.ndarray) and not host.flags.writeable:
            # a read-only view (of a JAX array's buffer, say): PyTorch would share it and warn that
            # writing to the tensor is undefined; the tensor gets memory of its own
            host = host.copy()
        return xp.asarray(host, dtype=dtype, device=target)
    except _LIBRARY_ERRORS as exc:
        where = "" if device is None else f" on device {device!r}"
        as_dtype = "" if dtype is None else f" of dtype {dtype}"
        error = TypeError if isinstance(exc, TypeError) else ValueError
        raise error(f"cannot convert x ({_describe(x)}) to an array of {backend_name(xp)}{as_dtype}{where}: {exc}") from exc


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """At most ``threads`` threads in the BLAS and OpenMP pools (NumPy's and SciPy's, through
    threadpoolctl) and in PyTorch's, for the block; what ``arraynet train --threads N`` does::

        with arraynet.limit_threads(1):
            model.fit(X, Y)

    On a shared or busy machine the libraries' default (every core) can be many times slower than
    1 or 2 threads (a grid search of small fits: 309 s against 7.5 s). JAX's CPU threads are set by
    XLA's flags before JAX is imported: ``XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
    intra_op_parallelism_threads=1"``."""
    cores = os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 1 <= threads <= cores:
        raise ValueError(f"threads must be a whole number from 1 to this machine's {cores} logical cores; got {threads!r}")
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = None if torch is None else torch.get_num_threads()
    with threadpool_limits(limits=int(threads)):
        if torch is not None:
            torch.set_num_threads(int(threads))
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)
