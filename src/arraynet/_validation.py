"""Checks of user input at the public entry points: each failure is a ValueError or TypeError that
names the argument, what was expected and what was received.

Dask arrays are checked on their metadata alone (shape, chunks, dtype, the chunks' library): their
values are read where training or prediction reads them, and checked there, in the same compute
(``arraynet.steps.distributed``)."""

from __future__ import annotations

import functools
import math
import numbers
import operator
import warnings
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

from .backends import (
    backend_name,
    compute_device,
    compute_namespace,
    is_array,
    is_dask_array,
    is_dask_namespace,
    namespace_of,
    to_numpy,
)


def as_array(x: Any, argument: str) -> Any:
    """``x`` itself if it is an Array API array; a NumPy array if it is a list or tuple of numbers.

    A NumPy array of the other byte order comes converted to the native one (the same values); a
    masked array is a TypeError, and so is a sparse PyTorch tensor. A PyTorch tensor comes detached from autograd: arraynet computes its own gradients, and a graph
    recorded through 10,000 updates would hold every intermediate array in memory. One on PyTorch's
    "meta" device (shapes without values) is a ValueError.
    """
    masked = isinstance(x, np.ma.MaskedArray) or (is_dask_array(x) and isinstance(x._meta, np.ma.MaskedArray))
    if masked:  # NumPy's arithmetic would apply or ignore the mask by turns
        raise TypeError(
            f"{argument} is a NumPy masked array, which arraynet does not support (its mask would be "
            f"ignored by some operations and applied by others); pass {argument}.filled(value) or drop "
            "the masked examples"
        )
    if isinstance(x, np.ndarray) and not x.dtype.isnative:  # big-endian data, e.g. from a FITS or .npy file
        return x.astype(x.dtype.newbyteorder("="))
    if is_array(x):
        if not array_api_compat.is_torch_array(x):
            return x
        if x.is_meta:
            raise ValueError(
                f"{argument} is on PyTorch's 'meta' device, which holds no values; make it on a device "
                f"with data, e.g. arraynet.asarray(..., 'torch', device='cpu')"
            )
        if str(x.layout) != "torch.strided":  # sparse COO, CSR, CSC, BSR, ...
            raise TypeError(
                f"{argument} is a sparse PyTorch tensor (layout {str(x.layout).removeprefix('torch.')}), which arraynet "
                f"does not train on (its steps need dense arrays); pass {argument}.to_dense()"
            )
        return x.detach()
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x)
        except ValueError as exc:  # ragged nesting
            raise ValueError(f"{argument} must be a rectangular array; got a ragged {type(x).__name__}") from exc
    raise TypeError(
        f"{argument} must be an array (NumPy, CuPy, PyTorch or another Array API library); "
        f"got {type(x).__name__}"
    )


def check_same_place(xp: ModuleType, device: Any, x: Any, argument: str, other: str, given: str | None = None) -> None:
    """``x`` must live in namespace ``xp`` on ``device``, like ``other``; data is never moved
    silently, so the error says how to move it (or, when ``other`` is the model, the model).
    ``given``: the type the caller passed when ``x`` is its conversion (a list read as NumPy)."""
    hint = f"move it with arraynet.asarray({argument}, backend={backend_name(xp)!r}, device=...)"
    if other == "the model":
        hint += " or move the model to the data with model.to(backend, device)"
    # a Dask array is checked against a model by its chunks' library, against Dask arrays as one
    x_xp = namespace_of(x) if is_dask_namespace(xp) else compute_namespace(x)
    if x_xp is not xp:
        what = f"a {backend_name(x_xp)} array" if given is None else f"a {given} (read as a {backend_name(x_xp)} array)"
        if is_dask_array(x) and not is_dask_namespace(xp):
            what = f"a Dask array of {backend_name(x_xp)} chunks"
            hint = f"Dask's chunks can be numpy or cupy arrays: compute it ({argument}.compute()) or move the model to its chunks' library with model.to(backend)"
        raise TypeError(
            f"{argument} is {what} but {other} is {backend_name(xp)}: "
            f"arrays from two libraries cannot be mixed; {hint}"
        )
    x_device = compute_device(x)
    if x_device != device:
        raise ValueError(
            f"{argument} is on device {x_device} but {other} is on device {device}: "
            f"data is never moved silently; {hint}"
        )


def check_float_dtype(xp: ModuleType, dtype: Any, argument: str, also: str = "", fix: str | None = None) -> None:
    """``dtype`` (of ``argument``) must be float32 or float64, the floating dtypes arraynet computes
    in: in float16 or bfloat16 the updates ``alpha dW`` underflow and ``1/m`` is subnormal for large
    m, so training stalls or drifts without a word. ``also`` names what else the caller accepts;
    ``fix`` says how to comply (by default: convert with ``arraynet.asarray``). Metadata only."""
    if dtype != xp.float32 and dtype != xp.float64:
        if fix is None:
            fix = f"convert it with arraynet.asarray({argument}, {backend_name(xp)!r}, dtype='float32') (or 'float64')"
        raise TypeError(f"{argument} must be float32 or float64{also}; got dtype {dtype}: {fix}")


def check_mapping(value: Any, argument: str) -> None:
    """``value`` must be a mapping of name to array (parameters, gradients)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{argument} must be a mapping of name to array; got {type(value).__name__}")


def as_matrix(x: Any, argument: str, shape: str) -> Any:
    """``as_array(x)``, which must be 2-D (``shape`` says which shape, e.g. ``"(n_x, 1)"``), so that
    its ``shape`` can be read before the full check. Metadata only."""
    x = as_array(x, argument)
    if x.ndim != 2:
        raise ValueError(f"{argument} must have shape {shape}; got {tuple(x.shape)}")
    return x


def float_dtype(xp: ModuleType, x: Any, device: Any, like: Any = None) -> Any:
    """The floating dtype for data ``x``: its own if floating, else ``like``'s or the default float."""
    if xp.isdtype(x.dtype, "real floating"):
        return x.dtype
    if like is not None:
        return like
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def _is_numeric(xp: ModuleType, dtype: Any) -> bool:
    try:
        return bool(xp.isdtype(dtype, ("bool", "integral", "real floating")))
    except (TypeError, ValueError):  # a dtype outside the namespace's, e.g. NumPy strings
        return False


def _check_data_dtype(xp: ModuleType, x: Any, argument: str, expected: str) -> None:
    """Data ``x`` (X or Y) must be bool, integer (both become a float) or float32/float64."""
    if not _is_numeric(xp, x.dtype):
        raise TypeError(f"{argument} must hold {expected}; got dtype {x.dtype}")
    if xp.isdtype(x.dtype, "real floating"):
        check_float_dtype(xp, x.dtype, argument, also=" (or integer or bool, which become a float)")


def _check_known_chunks(x: Any, argument: str) -> None:
    """A Dask array ``x`` must know its chunks' sizes (not so after boolean indexing or reading
    data of unknown length)."""
    if any(math.isnan(size) for size in x.shape):
        raise ValueError(
            f"{argument} is a Dask array of unknown chunk sizes (shape {tuple(x.shape)}); call "
            f"{argument}.compute_chunk_sizes() (or {argument} = {argument}.persist() first) before training or predicting"
        )


_MANY_CHUNKS = 1000  # chunks along m past which a small chunk's per-task overhead dominates
_SMALL_CHUNK = 10_000  # examples: below this, a chunk's task costs more in overhead than it computes


def _along_m(X: Any) -> Any:
    """Dask ``X`` in one chunk along ``n_x``: each task of an iteration then holds whole examples.
    Data chunked along ``n_x`` is joined on the way, each iteration, which costs: say so once. Far
    too many small chunks along ``m`` (each task costs about a millisecond of Dask's overhead) are
    said too, with the chunk size to use."""
    chunks = X.chunks[1]
    if len(chunks) > _MANY_CHUNKS and X.shape[1] / len(chunks) < _SMALL_CHUNK:
        suggested = max(_SMALL_CHUNK, -(-X.shape[1] // 100))
        warnings.warn(
            f"X is a Dask array of {len(chunks)} chunks of about {X.shape[1] // len(chunks)} examples each: every "
            f"iteration or epoch runs a task per chunk, whose overhead then dominates (thousands of times NumPy's "
            f"time); rechunk it once, e.g. X = X.rechunk({{1: {suggested}}}).persist()",
            UserWarning,
            stacklevel=5,  # fit's caller
        )
    if X.numblocks[0] == 1:
        return X
    warnings.warn(
        f"X is a Dask array chunked along n_x too ({X.numblocks[0]} chunks of rows), so every iteration "
        "joins them again; chunk it along m only, once: X = X.rechunk({0: -1}).persist()",
        UserWarning,
        stacklevel=5,  # fit's caller
    )
    return X.rechunk({0: -1})


def check_X(X: Any, n_x: int | None = None, like: Any = None, other: str = "the model") -> tuple[Any, ModuleType, Any]:
    """Validate ``X`` of shape ``(n_x, m)``; return it as floating, with its namespace and device.

    With ``like`` (the parameters' first array, named ``other`` in errors), X must share its
    library, device and floating dtype; integer or bool X takes that dtype. Without it, integer
    or bool X becomes the namespace's default float.

    A Dask array is checked on its metadata and cast lazily; the namespace and device returned
    are its chunks' (``compute_namespace``), and X comes in one chunk along ``n_x``. Whether its
    values are finite is checked where they are first read.
    """
    given = type(X).__name__ if isinstance(X, (list, tuple)) else None
    X = as_array(X, "X")
    if like is not None:
        check_same_place(namespace_of(like), array_api_compat.device(like), X, "X", other, given)
    xp = compute_namespace(X)
    device = compute_device(X)
    dtype = None if like is None else like.dtype
    _check_data_dtype(xp, X, "X", "real numbers (bool, integer or float)")
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D of shape (n_x, m), one example per column; got shape {tuple(X.shape)}"
        )
    lazy = is_dask_array(X)
    if lazy:
        _check_known_chunks(X, "X")
    n, m = X.shape
    if m == 0:
        raise ValueError(f"X must hold at least one example (m >= 1); got shape {tuple(X.shape)}")
    if n == 0:
        raise ValueError(f"X must hold at least one feature (n_x >= 1); got shape {tuple(X.shape)}")
    if n_x is not None and n != n_x:
        if m == n_x:
            raise ValueError(_as_rows(X))
        raise ValueError(
            f"X must have n_x = {n_x} rows (features) for this model; got shape {tuple(X.shape)}"
        )
    target = float_dtype(xp, X, device, like=dtype)
    if dtype is not None and target != dtype:
        raise TypeError(
            f"X has dtype {X.dtype} but {other} is {dtype}; "
            f"convert X with xp.astype(X, {dtype}) or train the model in {X.dtype}"
        )
    if X.dtype != target:
        X = X.astype(target) if lazy else xp.astype(X, target)
    elif not lazy and non_finite({"X": X}, xp) is not None:
        raise ValueError("X must be finite; it contains NaN or Inf")
    return (_along_m(X) if lazy else X), xp, device


def _as_rows(X: Any) -> str:
    """What to say of ``X`` that holds one example per row."""
    return (
        f"X has shape {tuple(X.shape)}: one example per column is expected, (n_x, m); "
        "pass X.T, or use arraynet.sklearn's estimators for examples as rows"
    )


def check_Y(Y: Any, X: Any, xp: ModuleType, device: Any, other: str = "X") -> Any:
    """Validate labels ``Y`` of shape ``(1, m)`` in {0, 1} for ``X`` (named ``other`` in errors);
    return them in X's dtype. The labels are checked in their own dtype, before the cast (in
    float32, 1 + 1e-9 would round to 1 and 1e39 to inf).

    For a Dask ``X`` (``xp`` and ``device`` its chunks'), ``Y`` may be a Dask array or an array of
    the chunks' library; it is returned as a Dask array chunked like X's columns, its values
    neither read nor cast: they are checked, then cast, where they are first read."""
    given = type(Y).__name__ if isinstance(Y, (list, tuple)) else None
    Y = as_array(Y, "Y")
    check_same_place(xp, device, Y, "Y", other, given)
    _check_data_dtype(xp, Y, "Y", "the labels 0 and 1")
    if is_dask_array(Y) and not is_dask_array(X):
        raise TypeError(
            f"Y is a Dask array but {other} is not: make {other} a Dask array too (chunked along m), "
            "or compute Y"
        )
    if is_dask_array(Y):
        _check_known_chunks(Y, "Y")
    m = X.shape[1]
    if tuple(Y.shape) != (1, m):
        if other == "X" and math.prod(Y.shape) == X.shape[0] != m:
            raise ValueError(_as_rows(X) + f" (Y holds {X.shape[0]} labels)")
        raise ValueError(
            f"Y must have shape (1, m) = (1, {m}) to match {other} of shape {tuple(X.shape)}; "
            f"got shape {tuple(Y.shape)}"
        )
    if is_dask_array(X):
        return _chunked_like(Y, X)
    if not xp.isdtype(Y.dtype, "bool") and not bool(xp.all((Y == 0) | (Y == 1))):  # one sync when all is well
        if xp.isdtype(Y.dtype, "real floating") and not bool(xp.all(xp.isfinite(Y))):
            raise ValueError("Y must be finite; it contains NaN or Inf")
        found = np.unique(to_numpy(Y))
        other_values = found[(found != 0) & (found != 1)]
        shown = ", ".join(f"{value:.10g}" for value in other_values[:5]) + (", ..." if other_values.size > 5 else "")
        raise ValueError(f"Y must hold binary labels: every entry 0 or 1; got other values: {shown}")
    return xp.astype(Y, X.dtype)


def check_class_labels(Y: Any, X: Any, xp: ModuleType, device: Any, C: int, other: str = "X") -> Any:
    """Validate the labels of ``C`` classes [C2 3] for ``X``: class indices of shape ``(1, m)``
    (integers 0..C-1, in any integer or floating dtype) or one-hot columns of shape ``(C, m)``;
    return them one-hot, ``(C, m)``, in X's dtype. One device sync when they are good.

    For a Dask ``X``, ``Y`` must be class indices ``(1, m)`` (a Dask array or one of the chunks'
    library), returned as a Dask array chunked like X's columns, neither read nor cast: the tasks
    that first read a chunk check its indices, then make them one-hot
    (``arraynet.steps.distributed``)."""
    given = type(Y).__name__ if isinstance(Y, (list, tuple)) else None
    Y = as_array(Y, "Y")
    check_same_place(xp, device, Y, "Y", other, given)
    _check_data_dtype(xp, Y, "Y", f"class indices 0..{C - 1} or one-hot columns")
    m = X.shape[1]
    if is_dask_array(Y) and not is_dask_array(X):
        raise TypeError(
            f"Y is a Dask array but {other} is not: make {other} a Dask array too (chunked along m), or compute Y"
        )
    if is_dask_array(X):  # class indices, neither read nor cast: checked, then made one-hot, where first read
        if is_dask_array(Y):
            _check_known_chunks(Y, "Y")
        if tuple(Y.shape) != (1, m):
            raise ValueError(
                f"Y for a Dask {other} must hold class indices of shape (1, m) = (1, {m}) (one-hot columns are made "
                f"chunk by chunk where the data is); got shape {tuple(Y.shape)}"
                + (": pass argmax(Y, axis=0) of one-hot columns" if tuple(Y.shape) == (C, m) else "")
            )
        return _chunked_like(Y, X)
    if tuple(Y.shape) == (C, m) and C > 1:
        if not bool(xp.all(((Y == 0) | (Y == 1)) & (xp.sum(xp.astype(Y, X.dtype), axis=0, keepdims=True) == 1))):
            raise ValueError(
                f"Y of shape (C, m) = ({C}, {m}) must hold one-hot columns (one 1 and {C - 1} zeros each); got columns "
                "with other values or sums: pass class indices of shape (1, m) instead, or fix those columns"
            )
        return xp.astype(Y, X.dtype)
    if tuple(Y.shape) != (1, m):
        raise ValueError(
            f"Y must hold class indices of shape (1, m) = (1, {m}) or one-hot columns of shape (C, m) = ({C}, {m}) "
            f"to match {other} of shape {tuple(X.shape)}; got shape {tuple(Y.shape)}"
        )
    if xp.isdtype(Y.dtype, "real floating") and not bool(xp.all(xp.isfinite(Y))):
        raise ValueError("Y must be finite; it contains NaN or Inf")
    if xp.isdtype(Y.dtype, "bool"):
        Y = xp.astype(Y, xp.int32)
    if not bool(xp.all((Y >= 0) & (Y < C) & (Y == xp.floor(Y) if xp.isdtype(Y.dtype, "real floating") else Y >= 0))):
        found = np.unique(to_numpy(Y))
        bad = found[(found < 0) | (found >= C) | (found != np.floor(found))]
        shown = ", ".join(f"{value:.10g}" for value in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise ValueError(
            f"Y must hold class indices 0..{C - 1} (whole numbers, one per example) for a model of {C} output units; "
            f"got {shown}"
        )
    classes = xp.reshape(xp.arange(C, device=device), (C, 1))
    return xp.astype(xp.astype(Y, xp.int64 if C > 2**31 - 1 else xp.int32) == classes, X.dtype)


def _chunked_like(Y: Any, X: Any) -> Any:
    """Labels ``Y`` of shape ``(1, m)`` as a Dask array chunked like the columns of Dask ``X``
    (rechunked lazily where they differ)."""
    import dask.array as da

    if not is_dask_array(Y):
        return da.from_array(Y, chunks=(1, X.chunks[1]), meta=Y[:0, :0])
    return Y if Y.chunks[1] == X.chunks[1] else Y.rechunk((1, X.chunks[1]))


def check_learning_rate(learning_rate: Any) -> float:
    """The learning rate alpha [C1 2.5] as a float: finite and > 0."""
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, numbers.Real)
        or not math.isfinite(learning_rate)
        or learning_rate <= 0
    ):
        raise ValueError(f"learning_rate must be a finite number > 0; got {learning_rate!r}")
    return float(learning_rate)


def check_count(value: Any, argument: str, minimum: int) -> int:
    """``value`` as an int, which must be an integer (Python or NumPy) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{argument} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_shapes(
    arrays: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]], argument: str
) -> dict[str, Any]:
    """``arrays`` (named ``argument``) must have exactly the keys of ``shapes``, each an array
    (``as_array``) of its shape; returned as arrays. Shapes only: no sync, no namespace lookup."""
    check_mapping(arrays, argument)
    missing = [key for key in shapes if key not in arrays]
    extra = [key for key in arrays if key not in shapes]
    if missing or extra:
        raise ValueError(
            f"{argument} must have exactly the keys {', '.join(shapes)}; "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    checked = {key: as_array(arrays[key], f"{argument}[{key!r}]") for key in shapes}
    for key, expected in shapes.items():
        if tuple(checked[key].shape) != tuple(expected):
            raise ValueError(
                f"{argument}[{key!r}] must have shape {tuple(expected)}; got {tuple(checked[key].shape)}"
            )
    return checked


def check_parameters(
    parameters: Mapping[str, Any],
    shapes: Mapping[str, tuple[int, ...]],
    argument: str = "parameters",
    like: Any = None,
) -> tuple[dict[str, Any], ModuleType, Any]:
    """Validate a mapping of arrays (``argument``: the parameters, or their gradients) against the
    expected ``shapes`` (``check_shapes``); return it with its namespace and device. All entries
    must share one library, one device and one floating dtype (float32 or float64): ``like``'s
    when given. Metadata only: no sync."""
    checked = check_shapes(parameters, shapes, argument)
    first = next(iter(shapes))
    reference, reference_name = (checked[first], f"{argument}[{first!r}]") if like is None else (like, "the parameters")
    xp = namespace_of(reference)
    device = array_api_compat.device(reference)
    dtype = reference.dtype
    if like is None:
        check_float_dtype(xp, dtype, reference_name)
    for key, value in checked.items():
        check_same_place(xp, device, value, f"{argument}[{key!r}]", reference_name)
        if not xp.isdtype(value.dtype, "real floating") or value.dtype != dtype:
            raise TypeError(
                f"{argument}[{key!r}] must have the floating dtype of {reference_name} ({dtype}); "
                f"got {value.dtype}"
            )
    return checked, xp, device


def check_logistic_n_x(parameters: Mapping[str, Any]) -> int:
    """``n_x`` of logistic regression parameters ``{"w": (n_x, 1), "b": ()}``, read from ``w``
    (an array or a nested list); ``check_parameters`` then checks them against that shape."""
    if not isinstance(parameters, Mapping) or "w" not in parameters:
        check_parameters(parameters, {"w": (0, 1), "b": ()})  # reports the missing key or the wrong type
    return int(as_matrix(parameters["w"], "parameters['w']", "(n_x, 1)").shape[0])


def non_finite(arrays: Mapping[str, Any], xp: ModuleType) -> str | None:
    """The key of the first array of ``arrays`` (floating, of namespace ``xp``) that holds NaN or
    Inf, or None when every one is finite.

    One device sync, reading one sum, when they are all finite: a NaN or an infinity anywhere makes
    the sum of all the elements NaN or infinite (IEEE arithmetic keeps them through any order of
    additions), so a finite sum proves every element finite. It reads the data once and allocates
    nothing of its size (``all(isfinite(x))`` is about 20 times slower on PyTorch CPU). Only a sum
    that is not finite (a non-finite element, or finite ones whose sum overflows) checks the arrays
    one by one."""
    if not arrays:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # an inf or NaN sum is an answer here, not a warning
        total = functools.reduce(operator.add, (xp.sum(value) for value in arrays.values()))
        finite = bool(xp.isfinite(total))
    if finite:
        return None
    return next((key for key, value in arrays.items() if not bool(xp.all(xp.isfinite(value)))), None)


def check_finite(arrays: Mapping[str, Any], xp: ModuleType, argument: str = "parameters") -> None:
    """Every array of ``arrays`` must be finite (``non_finite``: one device sync when they are)."""
    if (key := non_finite(arrays, xp)) is not None:
        raise ValueError(f"{argument}[{key!r}] must be finite; it contains NaN or Inf")


def check_layer_dims(layer_dims: Sequence[int]) -> list[int]:
    """``layer_dims`` as a list of ints: at least 2 sizes, each an integer >= 1."""
    dims = list(layer_dims) if isinstance(layer_dims, (list, tuple, np.ndarray)) else None
    if (
        dims is None
        or len(dims) < 2
        or not all(isinstance(n, numbers.Integral) and not isinstance(n, (bool, np.bool_)) and int(n) >= 1 for n in dims)
    ):
        raise ValueError(
            "layer_dims must be a list of at least 2 positive integers [n_x, n_1, ..., n_L]; "
            f"got {layer_dims!r}"
        )
    return [int(n) for n in dims]


def check_batch_size(batch_size: Any, m: int) -> int | None:
    """``fit``'s ``batch_size``: None (one batch of all ``m``: batch gradient descent) or a whole
    number >= 1; one larger than ``m`` is ``m`` (one batch), as scikit-learn's MLP takes it."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(
            f"batch_size must be None (all m examples in one batch) or a whole number of examples >= 1, "
            f"e.g. 64; got {batch_size!r}"
        )
    return min(int(batch_size), m)
