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
from .train import (
    DATA_HELP,
    add_data_arguments,
    add_placement_arguments,
    check_data_arguments,
    check_outputs,
    read_data,
)

OUTPUT_SUFFIXES = (".csv", ".npz")


def _write_csv(file: TextIO, predictions: np.ndarray, probabilities: np.ndarray) -> None:
    file.write("prediction,probability\n")
    file.writelines(
        f"{int(label)},{float(probability)!r}\n" for label, probability in zip(predictions, probabilities)
    )


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
    ZL = model.decision_function(X)  # one forward pass for both: A^[L] = sigma(Z^[L]) as predict_proba
    probabilities = np.asarray(to_numpy(Sigmoid()(ZL)), dtype=np.float64)[0]
    predictions = (np.asarray(to_numpy(ZL))[0] > 0).astype(np.int64)  # model.predict's rule
    if output is None:
        _write_csv(sys.stdout, predictions, probabilities)
        return 0
    with atomic_path(output) as temporary:
        if output.suffix.lower() == ".npz":
            np.savez(temporary, predictions=predictions[np.newaxis, :], probabilities=probabilities[np.newaxis, :])
        else:
            with open(temporary, "w", encoding="utf-8") as file:
                _write_csv(file, predictions, probabilities)
    if not args.quiet:
        print(f"wrote {predictions.size} predictions ({int(predictions.sum())} of class 1) to {output}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict", help="predictions of a saved model on a data file",
        description="Predict the label (0 or 1) and the probability of label 1 of each example of DATA "
        "with the model saved in MODEL. A CSV has one column per feature of the model, and one more if "
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
