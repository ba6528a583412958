"""Data larger than memory: files read as Dask arrays in arraynet's layout [C1 2.1], ``X`` of shape
``(n_x, m)`` chunked along ``m`` (whole examples per chunk) and ``Y`` of shape ``(1, m)`` chunked
alike, for training with ``arraynet.steps.distributed`` (one compute per iteration).

Nothing is read when they are made but the files' metadata: each chunk is read from disk by the
task that uses it, every iteration, so data that does not fit in the workers' memory still trains
(at the cost of reading it each iteration; ``persist()`` the arrays when they do fit). The values
are checked where they are read: by the training's first compute, or, for what only a loader knows
(pixels in [0, 255]), by each chunk's read.

- Zarr (``load_zarr``): a store (a folder, e.g. ``data.zarr``) holding arrays ``X`` of shape
  ``(n_x, m)`` and ``Y`` of shape ``(1, m)`` or ``(m,)``. Each task opens the store and reads its
  chunk (workers of a cluster read it themselves: a shared file system); a store of tiny chunks
  (more than 1,000 along m) is read several to a task, so it never makes millions of tasks.
- HDF5 (``load_h5_chunked``): the course's image sets, as ``arraynet.io.loaders.load_h5`` reads
  them, each image a column, integer pixels scaled by ``1 / 255``. Each chunk's task opens the
  file, reads its images and closes it, so the arrays travel to a cluster's workers.

Needs Dask (``pip install "arraynet[dask]"``; Zarr stores need zarr, HDF5 files h5py).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .loaders import (
    check_class_count,
    check_image_shape,
    check_label_shape,
    check_numeric_dtype,
    open_h5,
    scaled_pixels,
    whole_labels,
)

__all__ = ["DEFAULT_CHUNK", "chunked", "load_h5_chunked", "load_zarr"]

DEFAULT_CHUNK = 100_000  # examples per chunk where neither the caller nor the file says


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError as exc:
        raise ImportError('data as Dask arrays needs Dask: pip install "arraynet[dask]"') from exc
    return da


def _check_chunks(chunks: Any) -> int | None:
    if chunks is None:
        return None
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise ValueError(f"chunks must be a number of examples per chunk, an integer >= 1, or None; got {chunks!r}")
    return chunks


def _as_float(x: Any) -> Any:
    """Float32 or float64 data as it is, any other number as float64 (as the loaders give), lazily."""
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def _labels_of(Y: Any, m: int, what: str, chunks: tuple[int, ...], return_classes: bool) -> tuple[Any, list[str] | None]:
    """Dask labels of shape ``(m,)`` or ``(1, m)`` as float64 ``(1, m)`` chunked as ``chunks``
    along m, and the classes' names. Each chunk's values are checked where it is read
    (``whole_labels``: finite whole numbers >= 0), so an error names ``what``, the file, and not
    only the training's ``Y``; whether they are 0 and 1 or indices below ``C`` is the model's check.
    Without ``return_classes`` the labels are class indices as they are (names None); with it the
    labels are read once (``dask.array.unique``: a pass over ``Y`` alone) and, unless they are all
    0 and 1 (names None), numbered 0 to C - 1 in sorted order, named as ``class_labels`` names
    them, as the eager loaders do."""
    check_numeric_dtype(Y.dtype, what)
    check_label_shape(Y.shape, m, what)
    labels = Y.reshape(1, m).rechunk((1, chunks)).map_blocks(_whole_block, what, dtype=np.float64)
    if not return_classes:
        return labels, None
    values = np.asarray(_dask_array().unique(labels).compute())
    if np.all((values == 0) | (values == 1)):
        return labels, None
    check_class_count(values.size, what)
    indices = labels.map_blocks(lambda block: np.searchsorted(values, block).astype(np.float64), dtype=np.float64)
    return indices, [f"{value:.15g}" for value in values.tolist()]


def _whole_block(block: np.ndarray, what: str) -> np.ndarray:
    return whole_labels(block, block.shape[1], what)


def chunked(X: Any, Y: Any = None, chunks: int = DEFAULT_CHUNK) -> tuple[Any, Any]:
    """In-memory ``(X, Y)`` (the loaders' NumPy arrays) as Dask arrays of ``chunks`` examples per
    chunk (``Y`` None stays None)."""
    da = _dask_array()
    chunks = _check_chunks(chunks) or DEFAULT_CHUNK
    dask_X = da.from_array(X, chunks=(X.shape[0], chunks))
    return dask_X, None if Y is None else da.from_array(Y, chunks=(1, chunks))


def load_zarr(
    path: str | os.PathLike[str],
    x_key: str = "X",
    y_key: str | None = "Y",
    chunks: int | None = None,
    *,
    return_classes: bool = False,
) -> Any:
    """``(X, Y)`` of the Zarr store at ``path`` as Dask arrays (``Y`` None when ``y_key`` is None):
    arrays ``x_key`` of shape ``(n_x, m)`` and ``y_key`` of shape ``(1, m)`` or ``(m,)``, numbers
    (integers and bools become float64); the labels 0 and 1, or class indices. ``chunks``:
    examples per chunk; by default the store's own chunks along m. Only metadata is read here,
    unless ``return_classes``: then the labels are read once to number their classes 0 to C - 1,
    whose names come third, ``(X, Y, classes)`` (None for labels 0 and 1)."""
    da = _dask_array()
    chunks = _check_chunks(chunks)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike naming a Zarr store; got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Zarr store {path} does not exist")
    try:
        import zarr
    except ImportError as exc:
        raise ImportError(f'reading {path} needs zarr: pip install "arraynet[dask]"') from exc
    try:
        group = zarr.open_group(str(path), mode="r")
        names = sorted(group.array_keys())
        for key in (key for key in (x_key, y_key) if key is not None):
            if key not in names:
                raise KeyError(f"Zarr store {path} has no array {key!r}; it holds {', '.join(map(repr, names)) or 'no arrays'}")
        arrays = {key: group[key] for key in (x_key, y_key) if key is not None}
        described = {key: (tuple(array.shape), np.dtype(array.dtype), tuple(array.chunks)) for key, array in arrays.items()}  # type: ignore[union-attr]
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    # damaged metadata makes zarr raise almost anything (UnicodeDecodeError, MemoryError, ZeroDivisionError, ...)
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable Zarr store (a group holding {x_key!r} and {y_key!r}): {type(exc).__name__}: {exc}"
        ) from exc
    shape, dtype, store_chunks = described[x_key]
    what = f"{x_key!r} in {path}"
    check_numeric_dtype(dtype, what)
    if len(shape) != 2 or shape[1] == 0:
        raise ValueError(f"{what} must be 2-D of shape (n_x, m), one example per column, with m >= 1; got shape {shape}")
    n_x, m = shape
    per_chunk = chunks or _examples_per_chunk(store_chunks, m, what)
    version = f"{path.resolve()}-{path.stat().st_mtime_ns}"
    X = da.from_array(_ZarrArray(path, x_key, shape, dtype), chunks=(n_x, per_chunk), name=f"zarr-{version}-{x_key}")
    X = _as_float(X)
    if y_key is None:
        return (X, None, None) if return_classes else (X, None)
    y_shape, y_dtype, _ = described[y_key]
    y_what = f"{y_key!r} in {path}"
    check_label_shape(y_shape, m, y_what)  # from the metadata, before anything is read
    y_chunks = (1, per_chunk) if len(y_shape) == 2 else (per_chunk,)
    labels = da.from_array(_ZarrArray(path, y_key, y_shape, y_dtype), chunks=y_chunks, name=f"zarr-{version}-{y_key}")
    Y, classes = _labels_of(labels, m, y_what, X.chunks[1], return_classes)
    return (X, Y, classes) if return_classes else (X, Y)


_MOST_CHUNKS = 1000  # Dask chunks along m from a store's own chunks; more are read several to a task


def _examples_per_chunk(store_chunks: tuple[int, ...], m: int, what: str) -> int:
    """The examples per Dask chunk for a store of ``store_chunks``: its own along m, unless that
    makes more than ``_MOST_CHUNKS`` chunks (a store of (1, 1) chunks would make a task per number:
    millions of tasks and gigabytes of graph before any training); then ``m / _MOST_CHUNKS``,
    each task reading several of the store's chunks, slowly: a warning says so and how to rewrite
    the store."""
    own, fewest = store_chunks[1], math.ceil(m / _MOST_CHUNKS)
    if own >= fewest:
        return min(own, m)
    warnings.warn(
        f"{what} is stored in chunks of shape {store_chunks}, {math.ceil(m / own)} along m: each task reads {fewest} "
        f"examples from many of them, slowly; rewrite the store with chunks of whole examples (e.g. "
        f"(n_x, {max(fewest, 10_000)}))",
        UserWarning,
        stacklevel=3,
    )
    return fewest


class _ZarrArray:
    """An array of a Zarr store as Dask reads it (``shape``, ``dtype``, ``ndim``, indexing), the
    store opened for each read: it pickles as its path and key, so it travels to a worker, and a
    damaged chunk is a ValueError naming the store, not the codec's own error."""

    def __init__(self, path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path, self.key, self.shape, self.dtype, self.ndim = str(path.resolve()), key, shape, dtype, len(shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        import zarr

        try:
            return np.asarray(zarr.open_array(self.path, path=self.key, mode="r")[index])
        except Exception as exc:  # a damaged chunk: Zstd, Blosc, ... errors of any type
            raise ValueError(
                f"Zarr store {self.path}: {self.key!r} cannot be read ({type(exc).__name__}: {exc}); the store is damaged"
            ) from exc


class _H5Dataset:
    """A data set of an HDF5 file as Dask reads it (``shape``, ``dtype``, ``ndim``, indexing), the
    file opened for each read: it pickles as its path and key, so it can travel to a worker."""

    def __init__(self, path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        # the absolute path: a worker (or a later os.chdir) reads it from elsewhere
        self.path, self.key, self.shape, self.dtype, self.ndim = str(path.resolve()), key, shape, dtype, len(shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        import h5py

        with h5py.File(self.path, "r") as file:
            return np.asarray(file[self.key][index])


def load_h5_chunked(
    path: str | os.PathLike[str],
    x_key: str = "train_set_x",
    y_key: str | None = "train_set_y",
    chunks: int | None = None,
    *,
    return_classes: bool = False,
) -> Any:
    """``arraynet.io.loaders.load_h5``'s ``(X, Y)`` as Dask arrays read chunk by chunk: images
    ``x_key`` of shape ``(m, ...)``, each flattened into a column, integer pixels scaled to [0, 1];
    labels ``y_key`` of shape ``(m,)`` or ``(1, m)``. ``chunks``: examples per chunk (default
    about 64 MiB of images each). Only metadata is read here, unless ``return_classes`` (as
    ``load_zarr``'s)."""
    da = _dask_array()
    chunks = _check_chunks(chunks)
    with open_h5(path, x_key, y_key) as (file, found, keys):
        shapes = {key: (tuple(file[key].shape), file[key].dtype) for key in keys}
    shape, dtype = shapes[x_key]
    what = f"{x_key!r} in {found}"
    check_numeric_dtype(dtype, what)
    check_image_shape(shape, what)
    m, n_x = shape[0], math.prod(shape[1:])
    if chunks is None:
        chunks = max(1, min(m, (64 << 20) // max(1, n_x * dtype.itemsize)))
    version = f"{found.resolve()}-{found.stat().st_mtime_ns}"  # Dask's name of the data: another file, another name
    images = da.from_array(_H5Dataset(found, x_key, shape, dtype), chunks=(chunks, *shape[1:]), name=f"h5-{version}-{x_key}")
    if np.issubdtype(dtype, np.integer):
        images = images.map_blocks(scaled_pixels, what, dtype=np.float64)
    X = _as_float(images.reshape(m, n_x).T)
    if y_key is None:
        return (X, None, None) if return_classes else (X, None)
    labels = da.from_array(_H5Dataset(found, y_key, *shapes[y_key]), name=f"h5-{version}-{y_key}")
    Y, classes = _labels_of(labels, m, f"{y_key!r} in {found}", X.chunks[1], return_classes)
    return (X, Y, classes) if return_classes else (X, Y)
