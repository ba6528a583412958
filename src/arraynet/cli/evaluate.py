"""``arraynet evaluate MODEL DATA``: the accuracy and cost of a saved model on a labelled data file,
its confusion matrix and each class's precision and recall."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..backends import enable_jax_float64, to_numpy
from ..io.loaders import as_input_of
from ..io.serialization import load
from ..models import Model
from ..plots import confusion_matrix
from .train import (
    DATA_HELP,
    add_data_arguments,
    add_placement_arguments,
    align_labels,
    check_data_arguments,
    check_features,
    read_labelled,
)


def class_names_of(model: Model) -> list[str]:
    """The names of the model's classes (saved by ``arraynet train``), else their indices."""
    names = getattr(model, "class_names", None)
    if names is not None:
        return list(names)
    return [str(k) for k in range(int(getattr(model, "classes", 2)))]


def confusion_report(counts: np.ndarray, names: list[str]) -> list[str]:
    """The confusion matrix (rows: the true classes, columns: the predicted ones), then each class's
    precision (of the examples predicted as it, the share that are) and recall (of its examples,
    the share predicted as it); "n/a" where nothing is counted."""
    width = max(6, *(len(name) for name in names), len(str(counts.max(initial=0))))
    lines = ["confusion matrix (rows: true class, columns: predicted class):"]
    lines.append(" " * (width + 2) + " ".join(f"{name:>{width}}" for name in names))
    for name, row in zip(names, counts):
        lines.append(f"  {name:>{width}}" + "".join(f" {value:>{width}}" for value in row))
    lines.append(f"  {'class':>{width}} {'precision':>9} {'recall':>9} {'support':>8}")
    for k, name in enumerate(names):
        predicted, actual = counts[:, k].sum(), counts[k, :].sum()
        precision = f"{100 * counts[k, k] / predicted:.2f}%" if predicted else "n/a"
        recall = f"{100 * counts[k, k] / actual:.2f}%" if actual else "n/a"
        lines.append(f"  {name:>{width}} {precision:>9} {recall:>9} {actual:>8}")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.backend == "jax":  # a float64 model loads in float64 (float32 ones stay float32)
        enable_jax_float64()
    model = load(args.model, backend=args.backend, device=args.device)
    X, Y, classes = read_labelled(args.data, args)
    check_features(args.data, X, model, labelled=True)
    names = class_names_of(model)
    Y = align_labels(Y, classes, names, args.data)
    if int(np.max(np.asarray(Y), initial=0)) >= len(names):
        raise ValueError(f"the labels of {args.data} go up to {int(np.max(np.asarray(Y)))}; the model has {len(names)} classes")
    X, Y = as_input_of(model, X), as_input_of(model, Y)
    print(f"accuracy: {100 * model.accuracy(X, Y):.2f}% (m = {X.shape[1]})")
    print(f"cost: {model.cost(X, Y):.6g}")
    labels = np.asarray(to_numpy(Y)).reshape(-1)
    predictions = np.asarray(to_numpy(model.predict(X))).reshape(-1)
    for line in confusion_report(confusion_matrix(labels, predictions, len(names)), names):
        print(line)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate", help="accuracy and cost of a saved model on a data file",
        description="Print the accuracy and the cross-entropy cost of the model saved in MODEL on the labelled DATA, "
        "its confusion matrix and each class's precision and recall.",
    )
    parser.add_argument("model", metavar="MODEL", type=Path, help="a model file written by 'arraynet train' or model.save")
    parser.add_argument("data", metavar="DATA", type=Path, help=DATA_HELP)
    add_data_arguments(parser, split="test")
    add_placement_arguments(parser)

    def checked(args: argparse.Namespace) -> int:
        check_data_arguments(parser, args, args.data)
        return run(args)

    parser.set_defaults(run=checked)
