"""Saved models: ``model.save(path)`` and ``arraynet.load(path, backend=..., device=...)``.

A model file is one ``.npz`` archive: the parameters under the course's names (``W1, b1, ..., WL,
bL`` or ``w, b``) as plain NumPy arrays, the input's standardization (``input_mean``,
``input_std``, shape ``(n_x, 1)``) for a model that has one, the optimizer's state [C2 1.2-1.4]
(``v.dW1``, ``s.db2``, ...) for a model trained with mini-batches or an optimizer, and a JSON
header (format version, model kind, layer dims, activations, init, seed, dtype, standardize, the
optimizer and its settings with the epochs and updates made, the classes' names when the model
has them (``class_names``, as ``arraynet train`` sets them), arraynet version) stored as UTF-8
bytes under ``__arraynet__``. A loaded model's next ``fit`` with the same optimizer resumes exactly
where the saved one stopped (``t``, the shuffles and the decay included).
It is written whole or not at all (a temporary file in the same directory, then ``os.replace``)
and read with ``allow_pickle=False``, so loading a model file can never run code.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_finite, check_parameters
from .._version import __version__
from ..backends import asarray, is_jax_namespace, jax_float64_enabled, namespace_for_backend, to_numpy
from ..kernel.activations import ACTIVATIONS, Activation
from ..kernel.optimizers import OPTIMIZERS, Optimizer
from ..models import LogisticRegression, Model, NeuralNetwork
from ._atomic import atomic_path

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save"]

FORMAT = "arraynet.model"
# 2: the input's standardization (input_mean, input_std); 3: the optimizer's averages (v.dW1, ...). The
# optimizer and the counts of epochs and updates are header keys that older readers ignore. A file is
# written with the lowest version that holds it (readers before 0.3.0 still read a model trained by
# gradient descent)
FORMAT_VERSION = 3
SCALING_KEYS = ("input_mean", "input_std")
HEADER_KEY = "__arraynet__"
_ZIP_MAGIC = b"PK"  # how a .npz (a zip archive) begins, even a truncated one
_NPY_MAGIC = b"\x93NUMPY"  # how a single array's .npy begins
_MAX_HEADER_BYTES = 1 << 16  # a header takes a few hundred bytes
_MAX_MEMBERS = 4096  # a network of 2,000 layers and its header
_NPY_HEADER_BYTES = 1 << 12  # room for a member's own .npy header beside its data


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


def _saves_training(model: Model) -> bool:
    """Whether the model's file holds its training state: the optimizer, its settings and the counts
    of epochs and updates in the header (so that shuffles and decay resume where they stopped), and
    the optimizer's averages as arrays when it has any. Only a model never trained has none."""
    return model._optimizer is not None


def _optimizer_spec(optimizer: Optimizer) -> dict[str, Any]:
    """``{"name": ..., **its settings}``, e.g. ``{"name": "adam", "beta1": 0.9, ...}``."""
    if OPTIMIZERS.get(optimizer.name) is not type(optimizer):
        raise ValueError(
            f"cannot save optimizer {optimizer!r}: only the built-in optimizers ({', '.join(OPTIMIZERS)}) can be saved"
        )
    return {"name": optimizer.name, **optimizer.hyperparameters()}


def _optimizer_from_spec(spec: Any) -> Optimizer:
    if not isinstance(spec, dict) or spec.get("name") not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}")
    return OPTIMIZERS[spec["name"]](**{key: value for key, value in spec.items() if key != "name"})


def _state_arrays(model: Model) -> dict[str, np.ndarray]:
    """The optimizer's state as the file's members ``v.dW1``, ``s.db2``, ..."""
    state = model._optimizer_state or {}
    return {f"{name}.{key}": to_numpy(value) for name, average in state.items() for key, value in average.items()}


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
    scaled = model._scaling is not None
    training = {}
    if _saves_training(model):
        assert model._optimizer is not None
        training = {"optimizer": _optimizer_spec(model._optimizer), "epochs": model._epochs, "updates": model._updates}
    # the lowest version that holds the file: readers before 0.3.0 ignore the counts of a model without
    # optimizer averages (batch gradient descent's) and read its parameters as before
    averages = bool(model._optimizer is not None and model._optimizer.averages)
    names = getattr(model, "class_names", None)  # the classes' names, in the order of their indices (arraynet train)
    if names is not None:
        training["classes"] = [str(name) for name in names]  # a header key that older readers ignore
    keep_prob = getattr(model, "keep_prob", ())  # dropout [C2 2.2], to resume training as it was
    if keep_prob:
        training["keep_prob"] = list(keep_prob)  # a header key that older readers ignore
    return {
        **training,
        "format": FORMAT,
        "format_version": 3 if averages else 2 if scaled else 1,
        "arraynet_version": __version__,
        "model": type(model).__name__,
        "layer_dims": layer_dims,
        "activations": activations,
        "init": model.init,
        "seed": None if seed is None else int(seed),
        "dtype": next(iter(parameters.values())).dtype.name,
        "standardize": model.standardize,
        "input_scaling": scaled,
    }


def save(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (fitted) to ``path`` exactly as named; returns the path.

    The parameters are copied to the host as NumPy arrays in their dtype. The archive is written to
    a temporary file in the same directory and renamed over ``path`` only once complete
    (``atomic_path``), so an existing file is replaced whole (keeping its permission bits) and a crash
    never leaves half a model behind; a missing directory raises ``FileNotFoundError``, a folder
    that cannot be written ``PermissionError``, parameters with NaN or Inf ``ValueError``.
    """
    path = Path(path)
    parameters = {key: to_numpy(value) for key, value in model.get_parameters().items()}
    scaling = {} if model._scaling is None else dict(zip(SCALING_KEYS, map(to_numpy, model._scaling)))
    state = _state_arrays(model) if _saves_training(model) else {}
    for key, value in {**parameters, **scaling, **state}.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"cannot save the model to {path}: parameter {key!r} holds NaN or Inf, which load refuses")
    header = json.dumps(_header(model, parameters), sort_keys=True).encode("utf-8")
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        arrays = {HEADER_KEY: np.frombuffer(header, dtype=np.uint8), **parameters, **scaling, **state}
        # numpy's stub: a **dict of arrays could bind savez's keyword allow_pickle (a bool); these keys (the
        # header's and the parameters' names) never do
        np.savez(file, **arrays)  # type: ignore[arg-type]
        file.flush()
        os.fsync(file.fileno())
    return path


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the parameter arrays of the file at ``path``, checked as a file.

    Bounded work before trust: the zip directory's member names and sizes, the header (at most
    ``_MAX_HEADER_BYTES``) and each member's own ``.npy`` header (its dtype and shape) are checked
    against what the header declares before any parameter is decompressed, so reading a file costs
    at most about the size of the parameters it declares. Whatever a damaged file makes the zip or
    ``.npy`` readers raise is a ``ModelFileError`` naming the file.
    """
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    if not path.is_file():
        raise ModelFileError(f"model file {path} is not a file")
    try:
        with open(path, "rb") as file:
            start = file.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise ModelFileError(f"model file {path} cannot be read: {exc}") from exc
    if start.startswith(_NPY_MAGIC):
        raise ModelFileError(f"{path} holds a single NumPy array, not an arraynet model (.npz archive)")
    if start and not start.startswith(_ZIP_MAGIC):  # empty: truncated, said below
        raise ModelFileError(
            f"model file {path} is not a readable .npz archive: it is another kind of file, not an "
            f"arraynet model (a model file is written by arraynet train or model.save)"
        )
    entries = _entry_count(path)
    if entries is not None and entries > _MAX_MEMBERS:
        raise ModelFileError(
            f"model file {path} is not an arraynet model: its zip directory declares {entries} members, where a "
            f"model has at most {_MAX_MEMBERS}"
        )
    try:
        archive = zipfile.ZipFile(path)
    # damaged bytes make the zip reader raise almost anything (BadZipFile, OSError, ValueError, ...)
    except Exception as exc:
        raise ModelFileError(
            f"model file {path} is not a readable .npz archive (truncated, corrupted or another "
            f"kind of file): {type(exc).__name__}: {exc}"
        ) from exc
    with archive:
        infos = archive.infolist()
        members = {info.filename: info for info in infos}
        if len(members) != len(infos):
            duplicate = next(name for name in members if [info.filename for info in infos].count(name) > 1)
            raise ModelFileError(f"model file {path} is corrupted: it holds two members named {duplicate!r}")
        if HEADER_KEY + ".npy" not in members:
            names = [name.removesuffix(".npy") for name in members]
            shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
            raise ModelFileError(
                f"{path} is not an arraynet model file: it has no arraynet header; it holds the "
                f"arrays {shown or 'none'}"
            )
        compressed = [info.filename for info in infos if info.compress_type != zipfile.ZIP_STORED]
        if compressed:  # save stores them: a member's size in the file is then its size in memory
            raise ModelFileError(
                f"model file {path} is not one arraynet wrote: its member {compressed[0]!r} is compressed "
                "(arraynet stores every member as it is, so that a file's size bounds what reading it takes)"
            )
        header = _read_header(path, archive, members[HEADER_KEY + ".npy"])
        try:
            expected = _expected_parameters(header)
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFileError(f"model file {path} is inconsistent: {exc}") from exc
        stored = _check_members(path, archive, members, expected)
        arrays = {key: _read_member(path, archive, members[key + ".npy"]) for key in stored}
    return header, arrays


def _entry_count(path: Path) -> int | None:
    """The number of members the zip's end-of-directory record declares, read from the file's
    last 64 KiB before the directory itself is parsed; None where there is no such record."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - (1 << 16) - 22))
            tail = file.read()
    except OSError:
        return None
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 12 > len(tail):
        return None
    (entries,) = struct.unpack("<H", tail[end + 10 : end + 12])
    zip64 = tail.rfind(b"PK\x06\x06", 0, end)
    if entries == 0xFFFF and zip64 >= 0 and zip64 + 40 <= len(tail):
        (entries,) = struct.unpack("<Q", tail[zip64 + 32 : zip64 + 40])
    return int(entries)


def _read_npy(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, header_only: bool = False) -> Any:
    """Member ``info`` as an array (``allow_pickle=False``), or only its ``.npy`` header
    ``(shape, fortran_order, dtype)``; any failure of a damaged member is a ``ModelFileError``."""
    try:
        with archive.open(info) as member:
            if not header_only:
                return np.lib.format.read_array(member, allow_pickle=False)
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                return np.lib.format.read_array_header_1_0(member)
            return np.lib.format.read_array_header_2_0(member)
    # CRC errors, an unknown compression method, the "encrypted" flag, a bad .npy header, ...
    except Exception as exc:
        raise ModelFileError(f"model file {path} is truncated or corrupted: {type(exc).__name__}: {exc}") from exc


def _read_header(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    """The JSON header, read only if its member is at most ``_MAX_HEADER_BYTES``."""
    if info.file_size > _MAX_HEADER_BYTES:
        raise ModelFileError(
            f"model file {path} has a corrupted header: {info.file_size} bytes, where an arraynet "
            f"header takes at most {_MAX_HEADER_BYTES}"
        )
    raw = _read_npy(path, archive, info)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"it is an array of dtype {raw.dtype} and shape {raw.shape}, not bytes")
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelFileError(f"model file {path} has a corrupted header: {type(exc).__name__}: {exc}") from exc
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
    return header


def _expected_parameters(header: dict[str, Any]) -> tuple[dict[str, tuple[int, ...]], np.dtype]:
    """The parameter shapes and the dtype that the header declares (a ValueError or TypeError when
    it declares no model arraynet can build)."""
    shapes = _shapes(_build(header), header)
    dtype = header.get("dtype")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"the header's dtype must be 'float32' or 'float64'; got {dtype!r}")
    return shapes, np.dtype(dtype)


def _check_members(
    path: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], expected: tuple[dict[str, tuple[int, ...]], np.dtype]
) -> list[str]:
    """The parameter names stored, checked from the zip directory and the members' ``.npy`` headers
    against the header's shapes and dtype before any data is decompressed."""
    shapes, dtype = expected
    others = [name for name in members if not name.endswith(".npy")]
    if others:
        raise ModelFileError(f"model file {path} is corrupted: its member {others[0]!r} is not a NumPy array (.npy)")
    stored = [name.removesuffix(".npy") for name in members if name != HEADER_KEY + ".npy"]
    for key in stored:
        if key in shapes:
            limit = _NPY_HEADER_BYTES + math.prod(shapes[key]) * dtype.itemsize
            if members[key + ".npy"].file_size > limit:
                raise ModelFileError(
                    f"model file {path} is corrupted: its member {key!r} holds {members[key + '.npy'].file_size} "
                    f"bytes, where the {dtype.name} array of shape {shapes[key]} that the header declares takes "
                    f"at most {limit}"
                )
    # stand-ins of the stored shapes and dtypes, no memory behind them, for the checks of set_parameters
    described = {}
    for key in stored:
        shape, _, stored_dtype = _read_npy(path, archive, members[key + ".npy"], header_only=True)
        if stored_dtype.hasobject:
            raise ModelFileError(f"model file {path} is truncated or corrupted: {key!r} holds Python objects (a pickle)")
        # a file written on a big-endian machine holds the same numbers in the other byte order
        native = stored_dtype.newbyteorder("=") if stored_dtype.byteorder in "<>" else stored_dtype
        described[key] = np.broadcast_to(np.zeros((), native), shape)
    try:
        for key, value in described.items():
            if value.dtype != dtype:
                raise ValueError(f"the header says dtype {dtype.name!r} but {key!r} is {value.dtype.name}")
        check_parameters(described, shapes)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"model file {path} is inconsistent: {exc}") from exc
    for key in stored:
        needed = math.prod(shapes[key]) * dtype.itemsize
        if members[key + ".npy"].file_size < needed:
            raise ModelFileError(
                f"model file {path} is truncated or corrupted: its member {key!r} holds "
                f"{members[key + '.npy'].file_size} bytes, fewer than the {needed} of its {dtype.name} array of shape {shapes[key]}"
            )
    return stored


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    array = _read_npy(path, archive, info)
    if not isinstance(array, np.ndarray):
        raise ModelFileError(f"model file {path} is truncated or corrupted: {info.filename!r} is not an array")
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def _shapes(model: Model, header: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The arrays a file of ``model`` holds: its parameters, and its input's standardization when
    the header says it has one."""
    n_x = header["layer_dims"][0]
    shapes = model._shapes(n_x)
    scaled = header.get("input_scaling", False)
    if not isinstance(scaled, bool):
        raise TypeError(f"input_scaling must be true or false; got {scaled!r}")
    if scaled and not model.standardize:
        raise ValueError("the header says the input is standardized (input_scaling) but standardize is false")
    if scaled:
        shapes.update({key: (n_x, 1) for key in SCALING_KEYS})
    if "optimizer" in header:
        optimizer = _optimizer_from_spec(header["optimizer"])
        for name in ("epochs", "updates"):
            count = header.get(name)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{name} must be a whole number >= 0; got {count!r}")
        parameters = model._shapes(n_x)
        shapes.update({f"{name}.d{key}": shape for name in optimizer.averages for key, shape in parameters.items()})
    return shapes


def _build(header: dict[str, Any]) -> Model:
    """An unfitted model as the header describes it."""
    kind = header.get("model")
    activations = [_activation_from_spec(spec) for spec in header.get("activations", [])]
    # JSON values, possibly missing (None) or of any type: the constructors check them
    layer_dims: Any = header.get("layer_dims")
    init: Any = header.get("init")
    standardize: Any = header.get("standardize", False)
    if kind == "NeuralNetwork":
        keep_prob: Any = header.get("keep_prob", 1.0)
        return NeuralNetwork(
            layer_dims, activations=activations, init=init, seed=header.get("seed"), standardize=standardize, keep_prob=keep_prob
        )
    if kind == "LogisticRegression":
        if not isinstance(layer_dims, list) or len(layer_dims) != 2 or layer_dims[1] != 1:
            raise ValueError(f"a LogisticRegression has layer_dims [n_x, 1]; got {layer_dims!r}")
        if [g.name for g in activations] != ["sigmoid"]:
            raise ValueError(f"a LogisticRegression has one sigmoid activation; got {activations!r}")
        return LogisticRegression(init=init, seed=header.get("seed"), standardize=standardize)
    raise ValueError(f"unknown model kind {kind!r}; expected 'NeuralNetwork' or 'LogisticRegression'")


def load(path: str | os.PathLike[str], backend: str = "auto", device: Any = None) -> Model:
    """The model saved at ``path``, its parameters on ``backend`` ("auto", "numpy", "cupy",
    "torch", ...) and ``device``, in the dtype it was saved in.

    Raises ``ModelFileError`` (a ``ValueError``) naming the file and the problem for a missing,
    truncated, corrupted, foreign (not written by arraynet), newer-format or inconsistent file.
    """
    xp = namespace_for_backend(backend)  # an unknown or unusable backend fails before the file is read
    path = Path(path)
    header, arrays = _read(path)
    if is_jax_namespace(xp) and header["dtype"] == "float64" and not jax_float64_enabled():
        raise ValueError(
            f"model file {path} holds float64 parameters, which JAX computes in float32 unless its float64 mode "
            "is on: call jax.config.update('jax_enable_x64', True) before loading it with backend='jax'"
        )
    model = _build(header)  # _read built it once already: the header is consistent
    names = header.get("classes")
    if names is not None:
        C = max(2, header["layer_dims"][-1])
        if not isinstance(names, list) or len(names) != C or not all(isinstance(name, str) for name in names):
            raise ModelFileError(f"model file {path} is inconsistent: its header's classes must be the {C} names of its classes; got {names!r}")
        model.class_names = names  # type: ignore[attr-defined]
    try:
        parameters, xp, _ = check_parameters(arrays, _shapes(model, header))
        check_finite(parameters, xp)  # on the host, before they move
        if SCALING_KEYS[1] in parameters:
            std = parameters[SCALING_KEYS[1]]
            with np.errstate(divide="ignore", over="ignore"):
                if not (np.all(std > 0) and np.all(np.isfinite(1.0 / std))):
                    raise ValueError("input_std must be > 0, with 1 / input_std finite")
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"model file {path} is inconsistent: {exc}") from exc
    scaling = [parameters.pop(key) for key in SCALING_KEYS if key in parameters]
    state = {key: parameters.pop(key) for key in list(parameters) if "." in key}
    model.set_parameters({key: asarray(value, backend, device) for key, value in parameters.items()})
    if scaling:
        mean, std = (asarray(value, backend, device) for value in scaling)
        model._scaling = (mean, std)
    if "optimizer" in header:
        optimizer = _optimizer_from_spec(header["optimizer"])
        model._optimizer, model._epochs, model._updates = optimizer, header["epochs"], header["updates"]
        model._optimizer_state = {
            name: {key.partition(".")[2]: asarray(value, backend, device) for key, value in state.items() if key.startswith(name + ".")}
            for name in optimizer.averages
        }
    return model
