"""``arraynet predict MODEL DATA``: a saved model's predictions on a data file, to CSV or NPZ."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from .._atomic import atomic_path
from ..backends import to_numpy
from ..loaders import as_input_of, load_data
from ..serialization import load
from .train import DATA_HELP, add_placement_arguments

OUTPUT_SUFFIXES = (".csv", ".npz")


def _write_csv(file: TextIO, predictions: np.ndarray, probabilities: np.ndarray) -> None:
    file.write("prediction,probability\n")
    file.writelines(
        f"{int(label)},{float(probability)!r}\n" for label, probability in zip(predictions, probabilities)
    )


def run(args: argparse.Namespace) -> int:
    output = args.output
    if output is not None and output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"--output must end in {' or '.join(OUTPUT_SUFFIXES)}; got {output.name!r}")
    model = load(args.model, backend=args.backend, device=args.device)
    X, _ = load_data(args.data, split=args.split, labels=False)
    n_x = model._n_x()  # known: a loaded model has its parameters
    if n_x is not None and X.shape[0] == n_x + 1 and args.data.suffix.lower() == ".csv":
        X = np.delete(X, args.label_column, axis=0)  # the file's labels, not used to predict
    X = as_input_of(model, X)
    probabilities = np.asarray(to_numpy(model.predict_proba(X)), dtype=np.float64)[0]
    predictions = (probabilities > 0.5).astype(np.int64)  # model.predict's rule, without a second forward pass
    if output is None:
        _write_csv(sys.stdout, predictions, probabilities)
        return 0
    with atomic_path(output) as temporary:
        if output.suffix.lower() == ".npz":
            np.savez(temporary, predictions=predictions[np.newaxis, :], probabilities=probabilities[np.newaxis, :])
        else:
            with open(temporary, "w", encoding="utf-8") as file:
                _write_csv(file, predictions, probabilities)
    print(f"wrote {predictions.size} predictions ({int(predictions.sum())} of class 1) to {output}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict", help="predictions of a saved model on a data file",
        description="Predict the label (0 or 1) and the probability of label 1 of each example of DATA "
        "with the model saved in MODEL. A CSV with one column more than the model's features has its "
        "label column dropped; the labels of .npz and HDF5 files are not read.",
    )
    parser.add_argument("model", metavar="MODEL", type=Path, help="a model file written by 'arraynet train' or model.save")
    parser.add_argument("data", metavar="DATA", type=Path, help=DATA_HELP)
    parser.add_argument(
        "-o", "--output", type=Path,
        help="write the predictions to this .csv (columns prediction, probability) or .npz (arrays "
        "predictions and probabilities, shape (1, m)); default: CSV on standard output",
    )
    parser.add_argument(
        "--label-column", type=int, default=-1, metavar="INDEX",
        help="CSV: the label column to drop when the file has one (index, negative from the end); default: the last",
    )
    parser.add_argument("--split", default="test", help="HDF5: read the images {SPLIT}_set_x; default: %(default)s")
    add_placement_arguments(parser)
    parser.set_defaults(run=run)
