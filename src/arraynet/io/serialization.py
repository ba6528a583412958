"""Saved models: ``model.save(path)`` and ``arraynet.load(path, backend=..., device=...)``.

A model file is one ``.npz`` archive: the parameters under the seed's names (``W1, b1, ..., WL,
bL`` or ``w, b``) as plain NumPy arrays, and a JSON header (format version, model kind, layer dims,
activations, init, seed, dtype, arraynet version) stored as UTF-8 bytes under ``__arraynet__``.
It is written whole or not at all (a temporary file in the same directory, then ``os.replace``)
and read with ``allow_pickle=False``, so loading a model file can never run code.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_finite, check_parameters
from .._version import __version__
from ..backends import asarray, namespace_for_backend, to_numpy
from ..kernel.activations import ACTIVATIONS, Activation
from ..models import LogisticRegression, Model, NeuralNetwork
from ._atomic import atomic_path

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save"]

FORMAT = "arraynet.model"
FORMAT_VERSION = 1
HEADER_KEY = "__arraynet__"
_ZIP_MAGIC = b"PK"  # how a .npz (a zip archive) begins, even a truncated one
_NPY_MAGIC = b"\x93NUMPY"  # how a single array's .npy begins
# what may go wrong while reading an archive, its members or its header
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)


class ModelFileError(ValueError):
    """A model file that cannot be loaded: missing, truncated, corrupted, foreign, from a newer
    arraynet, or inconsistent. The message names the file and the problem."""


def _activation_spec(g: Activation) -> dict[str, Any]:
    """``{"name": ..., **its settings}``, e.g. ``{"name": "leaky_relu", "slope": 0.01}``."""
    if ACTIVATIONS.get(g.name) is not type(g):
        raise ValueError(
            f"cannot save activation {g!r}: only the built-in activations "
            f"({', '.join(ACTIVATIONS)}) can be saved"
        )
    return {"name": g.name, **vars(g)}


def _activation_from_spec(spec: Any) -> Activation:
    if not isinstance(spec, dict) or spec.get("name") not in ACTIVATIONS:
        raise ValueError(f"unknown activation {spec!r}")
    settings = {key: value for key, value in spec.items() if key != "name"}
    return ACTIVATIONS[spec["name"]](**settings)


def _header(model: Model, parameters: dict[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(model, NeuralNetwork):
        layer_dims = list(model.layer_dims)
        activations = [_activation_spec(g) for g in model.activations]
    elif isinstance(model, LogisticRegression):
        layer_dims = [int(parameters["w"].shape[0]), 1]
        activations = [{"name": "sigmoid"}]
    else:
        raise TypeError(f"model must be a NeuralNetwork or a LogisticRegression; got {type(model).__name__}")
    seed = model.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"cannot save a model whose seed is not an integer or None; got {seed!r}")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arraynet_version": __version__,
        "model": type(model).__name__,
        "layer_dims": layer_dims,
        "activations": activations,
        "init": model.init,
        "seed": None if seed is None else int(seed),
        "dtype": next(iter(parameters.values())).dtype.name,
    }


def save(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (fitted) to ``path`` exactly as named; returns the path.

    The parameters are copied to the host as NumPy arrays in their dtype. The archive is written to
    a temporary file in the same directory and renamed over ``path`` only once complete
    (``atomic_path``), so an existing file is replaced whole and a crash never leaves half a model
    behind; a missing directory raises ``FileNotFoundError``.
    """
    path = Path(path)
    parameters = {key: to_numpy(value) for key, value in model.get_parameters().items()}
    header = json.dumps(_header(model, parameters), sort_keys=True).encode("utf-8")
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        arrays = {HEADER_KEY: np.frombuffer(header, dtype=np.uint8), **parameters}
        # numpy's stub: a **dict of arrays could bind savez's keyword allow_pickle (a bool); these keys (the
        # header's and the parameters' names) never do
        np.savez(file, **arrays)  # type: ignore[arg-type]
        file.flush()
        os.fsync(file.fileno())
    return path


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the parameter arrays of the file at ``path``, checked as a file."""
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    if not path.is_file():
        raise ModelFileError(f"model file {path} is not a file")
    try:
        with open(path, "rb") as file:
            start = file.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise ModelFileError(f"model file {path} cannot be read: {exc}") from exc
    if start and not start.startswith((_ZIP_MAGIC, _NPY_MAGIC)):  # empty: truncated, said below
        raise ModelFileError(
            f"model file {path} is not a readable .npz archive: it is another kind of file, not an "
            f"arraynet model (a model file is written by arraynet train or model.save)"
        )
    try:
        archive = np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise ModelFileError(
            f"model file {path} is not a readable .npz archive (truncated, corrupted or another "
            f"kind of file): {exc}"
        ) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{path} holds a single NumPy array, not an arraynet model (.npz archive)")
    with archive:
        if HEADER_KEY not in archive.files:
            raise ModelFileError(
                f"{path} is not an arraynet model file: it has no arraynet header; it holds the "
                f"arrays {', '.join(archive.files) or 'none'}"
            )
        try:
            arrays = {name: archive[name] for name in archive.files}
        except _READ_ERRORS as exc:
            raise ModelFileError(f"model file {path} is truncated or corrupted: {exc}") from exc
    raw = arrays.pop(HEADER_KEY)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"it is an array of dtype {raw.dtype} and shape {raw.shape}, not bytes")
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"model file {path} has a corrupted header: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an arraynet model file: its header is not arraynet's")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"model file {path} has a corrupted header: format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"model file {path} has format version {version} (written by arraynet "
            f"{header.get('arraynet_version', '?')}); this arraynet {__version__} reads format "
            f"version {FORMAT_VERSION} and older: upgrade arraynet to load it"
        )
    return header, arrays


def _build(header: dict[str, Any]) -> Model:
    """An unfitted model as the header describes it."""
    kind = header.get("model")
    activations = [_activation_from_spec(spec) for spec in header.get("activations", [])]
    # JSON values, possibly missing (None) or of any type: the constructors check them
    layer_dims: Any = header.get("layer_dims")
    init: Any = header.get("init")
    if kind == "NeuralNetwork":
        return NeuralNetwork(layer_dims, activations=activations, init=init, seed=header.get("seed"))
    if kind == "LogisticRegression":
        if not isinstance(layer_dims, list) or len(layer_dims) != 2 or layer_dims[1] != 1:
            raise ValueError(f"a LogisticRegression has layer_dims [n_x, 1]; got {layer_dims!r}")
        if [g.name for g in activations] != ["sigmoid"]:
            raise ValueError(f"a LogisticRegression has one sigmoid activation; got {activations!r}")
        return LogisticRegression(init=init, seed=header.get("seed"))
    raise ValueError(f"unknown model kind {kind!r}; expected 'NeuralNetwork' or 'LogisticRegression'")


def load(path: str | os.PathLike[str], backend: str = "auto", device: Any = None) -> Model:
    """The model saved at ``path``, its parameters on ``backend`` ("auto", "numpy", "cupy",
    "torch", ...) and ``device``, in the dtype it was saved in.

    Raises ``ModelFileError`` (a ``ValueError``) naming the file and the problem for a missing,
    truncated, corrupted, foreign (not written by arraynet), newer-format or inconsistent file.
    """
    namespace_for_backend(backend)  # an unknown or unusable backend fails before the file is read
    path = Path(path)
    header, arrays = _read(path)
    try:
        model = _build(header)
        layer_dims = header["layer_dims"]
        dtype = header.get("dtype")
        for key, value in arrays.items():
            if value.dtype.name != dtype:
                raise ValueError(f"the header says dtype {dtype!r} but {key!r} is {value.dtype.name}")
        shapes = model._shapes(layer_dims[0])
        parameters, xp, _ = check_parameters(arrays, shapes)
        check_finite(parameters, xp)  # on the host, before they move
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"model file {path} is inconsistent: {exc}") from exc
    model.set_parameters({key: asarray(value, backend, device) for key, value in parameters.items()})
    return model
