"""``arraynet predict MODEL DATA``: a saved model's predictions on a data file, to CSV or NPZ."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from ..backends import enable_jax_float64, to_numpy
from ..io._atomic import atomic_path
from ..io.loaders import as_input_of, load_csv
from ..io.serialization import load
from ..kernel.activations import Sigmoid
from ..models import NeuralNetwork
from .train import (
    DATA_HELP,
    add_data_arguments,
    add_placement_arguments,
    check_data_arguments,
    check_outputs,
    read_data,
)

OUTPUT_SUFFIXES = (".csv", ".npz")


def _write_csv(file: TextIO, predictions: np.ndarray, probabilities: np.ndarray, names: list[str] | None = None) -> None:
    """One row per example: its prediction (the class's name when the model has names) and the
    probability of label 1 (binary), or of each class (columns ``probability_NAME``, softmax)."""
    shown = [str(int(label)) for label in predictions] if names is None else [_cell(names[int(label)]) for label in predictions]
    if probabilities.ndim == 1:
        file.write("prediction,probability\n")
        file.writelines(f"{label},{float(probability)!r}\n" for label, probability in zip(shown, probabilities))
        return
    classes = names if names is not None else [str(k) for k in range(probabilities.shape[0])]
    file.write("prediction," + ",".join(_cell(f"probability_{name}") for name in classes) + "\n")
    file.writelines(
        label + "," + ",".join(repr(float(p)) for p in column) + "\n" for label, column in zip(shown, probabilities.T)
    )


def _cell(text: str) -> str:
    """``text`` as a CSV cell (quoted when it holds a comma, a quote or a line break)."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def _features(args: argparse.Namespace, n_x: int | None) -> np.ndarray:
    """The features of DATA. A CSV must have the model's ``n_x`` columns, or ``n_x + 1`` of which
    ``--label-column`` names the labels (left out, not read); the labels of .npz and HDF5 files are
    not read."""
    if args.data.suffix.lower() != ".csv":
        return read_data(args.data, args, labels=False)[0]
    labelled = args.label_column is not None
    X, _ = load_csv(args.data, label_column=args.label_column, delimiter=args.delimiter, read_labels=False)
    if n_x is not None and X.shape[0] != n_x:
        columns = X.shape[0] + labelled
        needed = (
            f"with --label-column {args.label_column} it needs n_x + 1 = {n_x + 1}" if labelled else
            f"it needs {n_x}, or {n_x + 1} with --label-column naming the label column (an index or a header name)"
        )
        raise ValueError(f"data file {args.data} has {columns} columns and the model takes n_x = {n_x} features: {needed}")
    return X


def run(args: argparse.Namespace) -> int:
    output = args.output
    if output is not None and output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"--output must end in {' or '.join(OUTPUT_SUFFIXES)}; got {output.name!r}")
    check_outputs([args.model, args.data], output=output)
    if args.backend == "jax":  # a float64 model loads in float64 (float32 ones stay float32)
        enable_jax_float64()
    model = load(args.model, backend=args.backend, device=args.device)
    X = as_input_of(model, _features(args, model._n_x()))
    names = getattr(model, "class_names", None)
    if isinstance(model, NeuralNetwork) and model.layer_dims[-1] > 1:  # softmax: each class's probability
        probabilities = np.asarray(to_numpy(model.predict_proba(X)), dtype=np.float64)  # (C, m)
        predictions = np.argmax(probabilities, axis=0).astype(np.int64)  # model.predict's rule
    else:
        ZL = model.decision_function(X)  # one forward pass for both: A^[L] = sigma(Z^[L]) as predict_proba
        probabilities = np.asarray(to_numpy(Sigmoid()(ZL)), dtype=np.float64)[0]
        predictions = (np.asarray(to_numpy(ZL))[0] > 0).astype(np.int64)  # model.predict's rule
    if output is None:
        _write_csv(sys.stdout, predictions, probabilities, names)
        return 0
    try:
        with atomic_path(output) as temporary:
            if output.suffix.lower() == ".npz":
                arrays = {"predictions": predictions[np.newaxis, :], "probabilities": np.atleast_2d(probabilities)}
                if names is not None:
                    arrays["classes"] = np.array(names, dtype=str)
                np.savez(temporary, **arrays)  # type: ignore[arg-type]
            else:
                with open(temporary, "w", encoding="utf-8") as file:
                    _write_csv(file, predictions, probabilities, names)
    except OSError as exc:
        if exc.errno is None or str(output) in str(exc):
            raise
        raise type(exc)(exc.errno, f"cannot write the predictions to {output}: {exc.strerror or exc}") from exc
    if not args.quiet:
        labels = names if names is not None else [str(k) for k in range(max(2, int(predictions.max(initial=0)) + 1))]
        counts = np.bincount(predictions, minlength=len(labels))
        if names is None and probabilities.ndim == 1:
            print(f"wrote {predictions.size} predictions ({int(predictions.sum())} of class 1) to {output}")
        else:
            shown = ", ".join(f"{count} of {name}" for name, count in zip(labels, counts.tolist()))
            print(f"wrote {predictions.size} predictions ({shown}) to {output}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict", help="predictions of a saved model on a data file",
        description="Predict the label (0 or 1) and the probability of label 1 of each example of DATA "
        "with the model saved in MODEL (for a model of more classes, the class and each class's probability; "
        "the classes by their names when the model was trained on named classes). A CSV has one column per feature of the model, and one more if "
        "--label-column names it (that column is not used); the labels of .npz and HDF5 files are not read.",
    )
    parser.add_argument("model", metavar="MODEL", type=Path, help="a model file written by 'arraynet train' or model.save")
    parser.add_argument("data", metavar="DATA", type=Path, help=DATA_HELP)
    parser.add_argument(
        "-o", "--output", type=Path,
        help="write the predictions to this .csv (columns prediction, probability) or .npz (arrays "
        "predictions and probabilities, shape (1, m)); default: CSV on standard output",
    )
    add_data_arguments(parser, split="test", labels=False)
    add_placement_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors (and the predictions, without -o)")

    def checked(args: argparse.Namespace) -> int:
        check_data_arguments(parser, args, args.data)
        return run(args)

    parser.set_defaults(run=checked)
