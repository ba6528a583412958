"""Loading a user's data from files into arraynet's layout [C1 2.1]: ``X`` of shape ``(n_x, m)``,
one example per column, and labels ``Y`` of shape ``(1, m)`` in {0, 1}, as NumPy float64 arrays
(move them with ``arraynet.asarray``).

- ``.npz``: arrays ``X`` of shape ``(n_x, m)`` and ``Y`` of shape ``(1, m)`` or ``(m,)``.
- ``.csv`` (UTF-8, with or without a BOM): one example per row, the label in the last column unless
  told otherwise; a first line in which no cell is a number is taken as the column names.
- ``.h5`` / ``.hdf5``: the course's image sets, ``train_set_x`` of shape ``(m, height, width,
  channels)`` and ``train_set_y`` of shape ``(m,)`` or ``(1, m)`` (``test_set_...`` for the test
  split); each image is flattened into a column and integer pixels are scaled to [0, 1] (``/ 255``).
  Needs h5py (``pip install "arraynet[h5]"``).
- ``.zarr``: a Zarr store, always read as Dask arrays (``arraynet.io.chunked``).

``load_data(..., chunks=N)`` gives Dask arrays of ``N`` examples per chunk instead of NumPy arrays:
HDF5 files and Zarr stores are then read chunk by chunk as training reads them, the others read
whole first (``arraynet.io.chunked``).

Every problem is a ``FileNotFoundError`` (no such file), ``ValueError`` (a missing key, a ragged or
non-numeric row, a wrong shape, labels other than 0 and 1) or ``TypeError`` naming the file.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import array_api_compat
import numpy as np

from ..backends import asarray, backend_name, namespace_of
from ..models import Model

__all__ = ["DATA_SUFFIXES", "as_input_of", "class_labels", "csv_column_names", "load_csv", "load_data", "load_h5", "load_npz"]

DATA_SUFFIXES = (".npz", ".csv", ".h5", ".hdf5", ".zarr")


def _existing_file(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike naming a data file; got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"data file {path} is not a file")
    return path


def check_numeric_dtype(dtype: np.dtype, what: str) -> None:
    """Data of ``dtype`` (named ``what``) must be real numbers: bool, integer or float."""
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_) or np.issubdtype(dtype, np.complexfloating):
        raise TypeError(f"{what} must hold real numbers; got dtype {dtype}")


def check_label_shape(shape: tuple[int, ...], m: int, what: str) -> None:
    """Labels (named ``what``) must have shape ``(m,)`` or ``(1, m)`` for ``m`` examples."""
    if tuple(shape) not in ((m,), (1, m)):
        rows = " (X holds one example per row? it must be (n_x, m), one example per column)" if math.prod(shape) != m else ""
        raise ValueError(f"{what} must have shape (1, m) or (m,) with m = {m} examples; got shape {tuple(shape)}{rows}")


def check_image_shape(shape: tuple[int, ...], what: str) -> None:
    """Images (named ``what``) must have shape ``(m, ...)`` with ``m >= 1``."""
    if len(shape) < 2 or shape[0] == 0:
        raise ValueError(f"{what} must have shape (m, ...) with m >= 1 examples, e.g. (m, height, width, 3); got shape {tuple(shape)}")


def available_memory() -> int | None:
    """The bytes of memory this machine has free now (Linux's MemAvailable), or None where that
    cannot be read."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_fits_in_memory(shapes: Mapping[str, tuple[int, ...]], path: Path, source_bytes: int = 0) -> None:
    """Loading arrays of ``shapes`` (as float64, plus ``source_bytes`` read from the file before the
    conversion) must fit in the memory free now: checked from the file's metadata, before any data is
    read, so a small file that declares gigabytes (a deflated archive, an HDF5 data set) costs
    nothing. A ValueError names the file and the sizes, and says how to read it chunk by chunk."""
    needed = source_bytes + sum(math.prod(shape) * 8 for shape in shapes.values())
    free = available_memory()
    if free is not None and needed > free:
        declared = ", ".join(f"{key} {shape}" for key, shape in shapes.items())
        raise ValueError(
            f"data file {path} declares {declared}: {needed / 2**30:.1f} GiB to load as float64, more than the "
            f"{free / 2**30:.1f} GiB of memory free; read it chunk by chunk (load_data(path, chunks='auto'), "
            "arraynet train --chunks N) or on a machine with more memory"
        )


def scaled_pixels(images: np.ndarray, what: str) -> np.ndarray:
    """Integer pixels (0 to 255) divided by 255; others are a ValueError naming ``what``."""
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(
            f"{what} holds integer pixels outside [0, 255] (from {images.min()} to {images.max()}): cannot scale them to [0, 1]"
        )
    return images / 255.0


def _numeric(array: np.ndarray, what: str) -> np.ndarray:
    """``array`` as float64; it must hold finite real numbers."""
    check_numeric_dtype(array.dtype, what)
    array = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite; it contains NaN or Inf")
    return array


MAX_CLASSES = 1000  # more distinct labels than this are not classes (a regression target, an id)


def whole_labels(Y: np.ndarray, m: int, what: str) -> np.ndarray:
    """``Y`` (named ``what``) of shape ``(m,)`` or ``(1, m)`` holding whole numbers >= 0 (labels 0 and
    1, or class indices), as float64 of shape ``(1, m)``; a ValueError naming ``what`` otherwise."""
    check_label_shape(Y.shape, m, what)
    Y = _numeric(Y, what).reshape(1, m)
    other = np.unique(Y[(Y < 0) | (Y != np.round(Y))])
    if other.size:
        shown = ", ".join(f"{value:.15g}" for value in other[:5]) + (", ..." if other.size > 5 else "")
        raise ValueError(f"{what} must be class labels, whole numbers >= 0 (0 and 1 for two classes); got also {shown}")
    return Y


def class_labels(Y: np.ndarray, m: int, what: str) -> tuple[np.ndarray, list[str] | None]:
    """Class labels ``Y`` (named ``what``) of shape ``(m,)`` or ``(1, m)`` as float64 class indices of
    shape ``(1, m)`` and the class names, or None for labels that are all 0 and 1 (kept as they are,
    as float64). Other labels, integers or text (a CSV's "setosa", an .npz's
    strings), are the classes: sorted (as scikit-learn sorts them) and numbered 0 to C - 1, their
    names the labels as text. Labels that are numbers must be whole numbers; a ValueError names
    ``what`` otherwise."""
    check_label_shape(Y.shape, m, what)
    Y = np.asarray(Y).reshape(m)
    if Y.dtype.kind in "USO":  # text: each distinct label a class
        text = np.array([str(label).strip() for label in Y.tolist()]) if m else np.array([], dtype=str)
        if any(not label for label in text.tolist()):
            raise ValueError(f"{what} holds an empty label (missing values are not supported)")
        names, indices = np.unique(text, return_inverse=True)
        classes = [str(name) for name in names.tolist()]
    else:
        numbers = _numeric(Y, what)
        if np.all((numbers == 0) | (numbers == 1)):
            return numbers.reshape(1, m), None
        fractional = np.unique(numbers[numbers != np.round(numbers)])
        if fractional.size:
            shown = ", ".join(f"{value:.15g}" for value in fractional[:5]) + (", ..." if fractional.size > 5 else "")
            raise ValueError(
                f"{what} must be class labels: 0 and 1, whole numbers (0 to K) or names; got also {shown}"
            )
        values, indices = np.unique(numbers, return_inverse=True)
        classes = [f"{value:.15g}" for value in values.tolist()]
    check_class_count(len(classes), what)
    return np.asarray(indices, dtype=np.float64).reshape(1, m), classes


def check_class_count(count: int, what: str) -> None:
    """At most ``MAX_CLASSES`` distinct labels in ``what``; more are a ValueError."""
    if count > MAX_CLASSES:
        raise ValueError(
            f"{what} holds {count} distinct labels, more than the {MAX_CLASSES} classes arraynet takes: "
            "are they class labels (not a regression target or an id)?"
        )


def _features(X: np.ndarray, what: str) -> np.ndarray:
    X = _numeric(X, what)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(
            f"{what} must be 2-D of shape (n_x, m), one example per column, with m >= 1; got shape {X.shape}"
        )
    return X


def load_npz(
    path: str | os.PathLike[str], x_key: str = "X", y_key: str | None = "Y", *, return_classes: bool = False
) -> Any:
    """``X`` (shape ``(n_x, m)``) and ``Y`` (shape ``(1, m)`` or ``(m,)``) from a NumPy ``.npz``
    archive, read with ``allow_pickle=False``; ``Y`` is None when ``y_key`` is None. Labels other
    than 0 and 1 (integers, strings) are class indices 0 to C - 1 (``class_labels``); with
    ``return_classes`` the class names (None for 0/1 labels) come third: ``(X, Y, classes)``."""
    path = _existing_file(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"data file {path} is not a .npz archive (a zip of named NumPy arrays)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = [key for key in (x_key, y_key) if key is not None]
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise KeyError(
                    f"it has no array {missing[0]!r}; it holds {', '.join(map(repr, archive.files)) or 'no arrays'}"
                )
            declared = _npz_declared(path, keys)
            if y_key in declared and len(x_shape := declared[x_key][0]) == 2 and math.prod(declared[y_key][0]) != x_shape[0]:
                check_label_shape(declared[y_key][0], x_shape[1], f"{y_key!r} in {path}")  # examples in rows: said below
            source = sum(math.prod(shape) * dtype.itemsize for shape, dtype in declared.values() if dtype != np.float64)
            check_fits_in_memory({key: shape for key, (shape, _) in declared.items()}, path, source)
            arrays = [archive[key] for key in keys]
    except KeyError as exc:
        raise ValueError(f"data file {path}: {exc.args[0]}") from exc
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"data file {path} is not a readable .npz archive: {exc}") from exc
    X = _features(arrays[0], f"{x_key!r} in {path}")
    if y_key is None:
        return (X, None, None) if return_classes else (X, None)
    if arrays[1].size == X.shape[0] != X.shape[1]:
        raise ValueError(
            f"{x_key!r} in {path} has shape {X.shape}, one example per row, but arraynet's layout is "
            f"(n_x, m), one example per column: store its transpose"
        )
    Y, classes = class_labels(arrays[1], X.shape[1], f"{y_key!r} in {path}")
    return (X, Y, classes) if return_classes else (X, Y)


def _npz_declared(path: Path, keys: list[str]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype each of ``keys`` declares in its ``.npy`` header inside the archive at
    ``path``, read without decompressing its data."""
    declared = {}
    with zipfile.ZipFile(path) as archive:
        for key in keys:
            with archive.open(key + ".npy") as member:
                version = np.lib.format.read_magic(member)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(member)
            declared[key] = (tuple(shape), np.dtype(dtype))
    return declared


def _floats(row: list[str]) -> tuple[list[float], list[int]]:
    """The numbers of a CSV row, and the indexes of its cells that are not numbers."""
    values, bad = [], []
    for index, cell in enumerate(row):
        try:
            values.append(float(cell))
        except ValueError:
            bad.append(index)
    return values, bad


def _float_or(text: str, default: float) -> float:
    """``text`` as a number, or ``default`` when it is none."""
    try:
        return float(text)
    except ValueError:
        return default


def _numbers_header(row: list[str]) -> bool:
    """A first line of the column numbers ``0,1,...,n-1`` (n >= 3): the header pandas writes for
    unnamed columns (``DataFrame.to_csv()`` of a NumPy array), not an example."""
    return len(row) >= 3 and [cell.strip() for cell in row] == [str(i) for i in range(len(row))]


def _pandas_index_header(row: list[str]) -> bool:
    """A first line ``,0,1,...``: pandas' header with the index column (``to_csv`` without ``index=False``)."""
    return len(row) >= 3 and not row[0].strip() and [cell.strip() for cell in row[1:]] == [str(i) for i in range(len(row) - 1)]


def csv_column_names(path: str | os.PathLike[str], delimiter: str = ",") -> list[str] | None:
    """The column names of a CSV file's header line (read as ``load_csv`` reads it: the first line
    that is not blank or a ``#`` comment, when one of its cells is text or it is pandas' ``0,1,...``),
    or None without one."""
    path = _existing_file(path)
    with open(path, newline="", encoding="utf-8-sig") as file:
        for row in csv.reader(file, delimiter=delimiter):
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            _, bad = _floats(row)
            header = any(row[i].strip() for i in bad) or _numbers_header(row)
            return [cell.strip() for cell in row] if header else None
    return None


def _not_a_number(path: Path, line: int, row: list[str], index: int, names: list[str] | None) -> str:
    """What is wrong with cell ``index`` of ``row``, with its file, line and column (counted from 1)."""
    name = f" ({names[index]!r})" if names is not None and index < len(names) else ""
    cell = row[index].strip()
    problem = "the cell is empty (missing values are not supported)" if not cell else f"{cell!r} is not a number"
    return f"data file {path}, line {line}, column {index + 1}{name}: {problem}"


def _other_delimiter(row: list[str], delimiter: str) -> str | None:
    """When a whole line was read as one cell holding another separator: that separator."""
    if len(row) == 1:
        cell = row[0].strip()
        for other in (";", "\t", "|", ","):
            if other != delimiter and other in cell:
                return other
        if delimiter != " " and len(cell.split()) > 1:
            _, bad = _floats(cell.split())
            if not bad:
                return " "
    return None


def _label_index(label_column: int | str, names: list[str] | None, columns: int) -> int | None:
    """The index of the label column in a row of ``columns`` cells, or None if it names none."""
    if isinstance(label_column, str):
        return names.index(label_column) if names is not None and label_column in names else None
    if isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool) and -columns <= label_column < columns:
        return int(label_column) % columns
    return None


def _column_index(label_column: int | str, names: list[str] | None, columns: int, path: Path) -> int:
    if isinstance(label_column, str):
        if names is None or label_column not in names:
            raise ValueError(
                f"label_column {label_column!r} names no column of {path}; "
                f"its columns are {', '.join(names) if names else 'unnamed (no header line)'}"
            )
        return names.index(label_column)
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)):
        raise TypeError(f"label_column must be a column index, a column name or None; got {label_column!r}")
    if not -columns <= label_column < columns:
        raise ValueError(f"label_column must be in [{-columns}, {columns - 1}] for the {columns} columns of {path}; got {label_column}")
    return int(label_column) % columns


def _label_values(texts: list[str]) -> np.ndarray:
    """A CSV's label cells as numbers when they all are, else as text (class names)."""
    try:
        return np.array([float(text) for text in texts], dtype=np.float64)
    except ValueError:
        return np.array(texts, dtype=str)


def load_csv(
    path: str | os.PathLike[str],
    label_column: int | str | None = -1,
    delimiter: str = ",",
    *,
    read_labels: bool = True,
    return_classes: bool = False,
) -> Any:
    """``X`` of shape ``(n_x, m)`` and ``Y`` of shape ``(1, m)`` from a CSV file of one example per
    row. ``label_column`` (an index, negative from the end, or a header name) holds the labels; with
    None every column is a feature and ``Y`` is None. With ``read_labels`` False the label column is
    left out of ``X`` and not read (``Y`` is None): the labels of a file to predict. Blank lines and
    lines starting with ``#`` are skipped; a first line with a feature cell of text, or pandas'
    ``0,1,...,n-1``, is the header of column names (a first line whose only text is its label, as in
    pandas' ``0,1,y``, is the header when that text is no other line's label). Labels are 0 and 1,
    or classes, whole numbers or names (``class_labels``: numbered 0 to C - 1 in sorted order); with
    ``return_classes`` their names come third, ``(X, Y, classes)``. Every feature cell must be a
    number: an empty or non-numeric cell is a ``ValueError`` naming the file, the line and the
    column (both counted from 1); so is a line read as one cell that holds another separator."""
    path = _existing_file(path)
    names: list[str] | None = None
    rows: list[list[float]] = []
    texts: list[str] = []  # the label cells, as written
    pending: tuple[int, list[str]] | None = None  # a first line whose only text is its label: a header or an example

    def example(line: int, row: list[str], label: int | None, header_line: bool = False) -> tuple[list[float], str]:
        """The numbers of a data line (the label's cell read as 0) and its label as written."""
        text = ""
        cells = row
        if label is not None:
            text = row[label].strip()
            if not text and read_labels:
                raise ValueError(_not_a_number(path, line, row, label, names))
            if read_labels and not math.isfinite(_float_or(text, 0.0)):  # "nan", "inf": no class, a missing value
                raise ValueError(f"data file {path}, line {line}, column {label + 1}: {text!r} is not a finite number")
            cells = [*row[:label], "0", *row[label + 1 :]]
        values, bad = _floats(cells)
        if bad:
            hint = " (a first line is the header when one of its cells is text)" if header_line else ""
            raise ValueError(_not_a_number(path, line, row, bad[0], names) + hint)
        for index, value in enumerate(values):
            if index != label and (not math.isfinite(value) or "_" in row[index]):
                what = "is not a finite number" if not math.isfinite(value) else "has '_' in it, which is not read as a digit separator"
                raise ValueError(f"data file {path}, line {line}, column {index + 1}: {row[index].strip()!r} {what}")
        width = len(rows[0]) if rows else len(names) if names is not None else len(values)
        if len(values) != width:
            raise ValueError(
                f"data file {path}, line {line}: {len(values)} values where the "
                f"{'rows above have' if rows else 'header has'} {width}: every row needs the same number"
            )
        return values, text

    try:
        with open(path, newline="", encoding="utf-8-sig") as file:  # -sig: drops the BOM of Excel's "CSV UTF-8"
            reader = csv.reader(file, delimiter=delimiter)
            for row in reader:
                if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                    continue
                other = _other_delimiter(row, delimiter)
                if other is not None:
                    raise ValueError(
                        f"is the file separated by {other!r}? pass --delimiter {other!r} on the command line "
                        f"(delimiter={other!r} in Python): data file {path}, line {reader.line_num} is read as one cell, "
                        f"{row[0].strip()[:40]!r}, with the delimiter {delimiter!r}"
                    )
                first = names is None and not rows and pending is None
                if first and _pandas_index_header(row):
                    raise ValueError(
                        f"data file {path}, line {reader.line_num}: the header {','.join(row)[:40]!r} is pandas' with its index "
                        "as the first column, which is no feature: write the file with DataFrame.to_csv(path, index=False)"
                    )
                if first:
                    _, bad = _floats(row)
                    label = None if label_column is None else _label_index(label_column, None, len(row))
                    text_cells = [i for i in bad if row[i].strip()]
                    if _numbers_header(row) or (isinstance(label_column, str) and label_column in [c.strip() for c in row]):
                        names = [cell.strip() for cell in row]
                        continue
                    if text_cells and (label is None or text_cells != [label]):
                        names = [cell.strip() for cell in row]  # (names may be numbers: pandas' "0,1,y")
                        continue
                    if text_cells:  # only the label is text: "0,1,y" (a header) or "5.1,3.5,setosa" (an example)
                        pending = (reader.line_num, row)
                        continue
                label = None if label_column is None else _label_index(label_column, names, len(row))
                values, text = example(reader.line_num, row, label, header_line=first)
                rows.append(values)
                texts.append(text)
            if pending is not None:
                line, row = pending
                label = None if label_column is None else _label_index(label_column, None, len(row))
                assert label is not None
                if row[label].strip() in texts:  # a class that other lines have: an example
                    if rows and len(row) != len(rows[0]):
                        raise ValueError(
                            f"data file {path}, line {line}: {len(row)} values where the rows below have "
                            f"{len(rows[0])}: every row needs the same number"
                        )
                    values, text = example(line, row, label)
                    rows.insert(0, values)
                    texts.insert(0, text)
                else:
                    names = [cell.strip() for cell in row]
                    if rows and len(names) != len(rows[0]):
                        raise ValueError(
                            f"data file {path}, line {line}: the header has {len(names)} names where the rows have "
                            f"{len(rows[0])} values: every row needs the same number"
                        )
    except UnicodeDecodeError as exc:
        raise ValueError(f"data file {path} is not a UTF-8 text (CSV) file: {exc}") from exc
    except csv.Error as exc:
        raise ValueError(f"data file {path} is not a readable CSV file: {exc}") from exc
    if not rows:
        raise ValueError(f"data file {path} holds no rows of numbers")
    table = np.array(rows).T  # (columns, m): one example per column
    if label_column is None:
        X = _features(table, f"data in {path}")
        return (X, None, None) if return_classes else (X, None)
    index = _column_index(label_column, names, table.shape[0], path)
    if table.shape[0] < 2:
        raise ValueError(f"data file {path} has one column: it needs at least one feature besides the labels")
    X = _features(np.delete(table, index, axis=0), f"features in {path}")
    if not read_labels:
        return (X, None, None) if return_classes else (X, None)
    column = repr(names[index]) if names is not None else index + 1  # counted from 1, as the other errors count
    Y, classes = class_labels(_label_values(texts), X.shape[1], f"labels (column {column}) in {path}")
    return (X, Y, classes) if return_classes else (X, Y)


def _pixels(images: np.ndarray, what: str) -> np.ndarray:
    """Images of shape ``(m, ...)`` as ``X`` of shape ``(n_x, m)``, one flattened image per column
    [C1 2.1]; integer pixels (0 to 255) divided by 255, floating ones kept as they are. One float64
    array is made, filled a block of images at a time (no second full copy)."""
    check_image_shape(images.shape, what)
    check_numeric_dtype(images.dtype, what)
    integer = np.issubdtype(images.dtype, np.integer)
    if integer and images.size and (images.min() < 0 or images.max() > 255):
        scaled_pixels(images, what)  # raises, naming what
    m = images.shape[0]
    flat = images.reshape(m, -1)
    X = np.empty((flat.shape[1], m), dtype=np.float64)
    block = max(1, (16 << 20) // max(1, flat.shape[1] * 8))
    for start in range(0, m, block):
        part = flat[start : start + block].T
        X[:, start : start + block] = part / 255.0 if integer else part
    if not integer and not np.all(np.isfinite(X)):
        raise ValueError(f"{what} must be finite; it contains NaN or Inf")
    return X


@contextlib.contextmanager
def open_h5(path: str | os.PathLike[str], *keys: str | None) -> Iterator[tuple[Any, Path, list[str]]]:
    """``(file, path, keys)``: the HDF5 file at ``path`` open for reading, its path, and the
    ``keys`` that are not None, each checked to be a data set of it. A missing h5py is an
    ImportError that says how to install it; a missing key or an unreadable file, here or in the
    block, a ValueError naming the file."""
    path = _existing_file(path)
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(f'reading {path} needs h5py: pip install "arraynet[h5]"') from exc
    try:
        with h5py.File(path, "r") as file:
            wanted = [key for key in keys if key is not None]
            for key in wanted:
                if not isinstance(file.get(key), h5py.Dataset):
                    datasets = sorted(name for name, item in file.items() if isinstance(item, h5py.Dataset))
                    raise KeyError(f"it has no data set {key!r}; it holds {', '.join(map(repr, datasets)) or 'no data sets'}")
            yield file, path, wanted
    except KeyError as exc:
        raise ValueError(f"data file {path}: {exc.args[0]}") from exc
    except OSError as exc:
        raise ValueError(f"data file {path} is not a readable HDF5 file: {exc}") from exc


def load_h5(
    path: str | os.PathLike[str], x_key: str = "train_set_x", y_key: str | None = "train_set_y", *, return_classes: bool = False
) -> Any:
    """An image set in the course's HDF5 layout: images ``x_key`` of shape ``(m, height, width,
    channels)`` (any shape ``(m, ...)``) flattened into ``X`` of shape ``(n_x, m)`` and scaled to
    [0, 1], labels ``y_key`` of shape ``(m,)`` or ``(1, m)``; ``Y`` is None when ``y_key`` is None."""
    with open_h5(path, x_key, y_key) as (file, found, _):
        images = file[x_key]
        what = f"{x_key!r} in {found}"
        check_numeric_dtype(images.dtype, what)
        check_image_shape(images.shape, what)
        if y_key is not None:  # from the metadata, before anything is read
            check_label_shape(file[y_key].shape, images.shape[0], f"{y_key!r} in {found}")
        shapes = {x_key: (math.prod(images.shape[1:]), images.shape[0])}
        check_fits_in_memory(shapes, found, math.prod(images.shape) * images.dtype.itemsize)
        X = _pixels(images[()], what)
        labels = None if y_key is None else np.asarray(file[y_key][()])
    if labels is None:
        return (X, None, None) if return_classes else (X, None)
    Y, classes = class_labels(labels, X.shape[1], f"{y_key!r} in {found}")
    return (X, Y, classes) if return_classes else (X, Y)


def load_data(
    path: str | os.PathLike[str],
    *,
    label_column: int | str = -1,
    split: str = "train",
    labels: bool = True,
    delimiter: str = ",",
    x_key: str = "X",
    y_key: str = "Y",
    chunks: int | str | None = None,
    return_classes: bool = False,
) -> Any:
    """``(X, Y)`` in arraynet's layout from a ``.npz``, ``.csv`` or ``.h5``/``.hdf5`` file or a
    ``.zarr`` store, by its suffix (see the module's description of each). ``label_column`` and
    ``delimiter`` are the CSV's; ``x_key`` and ``y_key`` name an ``.npz``'s or a Zarr store's
    arrays; ``split`` picks an HDF5 file's ``{split}_set_x`` / ``{split}_set_y``. With
    ``labels=False`` the file's labels are not read (a CSV is then all features) and ``Y`` is None.
    NumPy float64 arrays, or Dask arrays of ``chunks`` examples per chunk when ``chunks`` is given
    (always for a Zarr store); ``chunks="auto"``: each format's default (a Zarr store's own chunks,
    about 64 MiB of HDF5 images, else ``arraynet.io.chunked.DEFAULT_CHUNK``). Labels other than 0
    and 1 (integers, a CSV's text) are class indices 0 to C - 1, the classes sorted; with
    ``return_classes`` their names come third, ``(X, Y, classes)`` (None for labels 0 and 1). The
    chunked HDF5 and Zarr readers take whole numbers as they are unless ``return_classes``, which
    reads their labels once to number the classes (``arraynet.io.chunked``)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike naming a data file; got {type(path).__name__}")
    from . import chunked  # builds on this module's checks

    suffix = Path(path).suffix.lower()
    per_chunk = chunks if isinstance(chunks, int) and not isinstance(chunks, bool) and chunks >= 1 else None
    if chunks is not None and chunks != "auto" and per_chunk is None:
        raise ValueError(f"chunks must be None, 'auto' or a number of examples per chunk >= 1; got {chunks!r}")
    if suffix == ".zarr":
        return chunked.load_zarr(path, x_key, y_key if labels else None, chunks=per_chunk, return_classes=return_classes)
    if suffix in (".h5", ".hdf5") and chunks is not None:
        return chunked.load_h5_chunked(
            path, f"{split}_set_x", f"{split}_set_y" if labels else None, chunks=per_chunk, return_classes=return_classes
        )
    X, Y, classes = _read_whole(path, suffix, label_column, split, labels, delimiter, x_key, y_key)
    if chunks is not None:
        X, Y = chunked.chunked(X, Y, per_chunk or chunked.DEFAULT_CHUNK)
    return (X, Y, classes) if return_classes else (X, Y)


def _read_whole(
    path: str | os.PathLike[str], suffix: str, label_column: int | str, split: str, labels: bool,
    delimiter: str, x_key: str, y_key: str,
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    if suffix == ".npz":
        return load_npz(path, x_key=x_key, y_key=y_key if labels else None, return_classes=True)  # type: ignore[no-any-return]
    if suffix == ".csv":
        return load_csv(  # type: ignore[no-any-return]
            path, label_column=label_column if labels else None, delimiter=delimiter, return_classes=True
        )
    if suffix in (".h5", ".hdf5"):
        return load_h5(path, f"{split}_set_x", f"{split}_set_y" if labels else None, return_classes=True)  # type: ignore[no-any-return]
    raise ValueError(f"data file {path} must end in one of {', '.join(DATA_SUFFIXES)}; got {suffix or 'no suffix'!r}")


def as_input_of(model: Model, x: Any) -> Any:
    """Host data ``x`` (what the loaders return) moved to where the fitted ``model`` lives: its
    parameters' library, device and floating dtype, ready for ``predict``, ``accuracy`` or ``cost``."""
    W = next(iter(model.get_parameters().values()))
    return asarray(x, backend_name(namespace_of(W)), array_api_compat.device(W), W.dtype)
