"""``arraynet evaluate MODEL DATA``: the accuracy and cost of a saved model on a labelled data file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..backends import enable_jax_float64
from ..io.loaders import as_input_of
from ..io.serialization import load
from .train import (
    DATA_HELP,
    add_data_arguments,
    add_placement_arguments,
    check_data_arguments,
    check_features,
    read_data,
)


def run(args: argparse.Namespace) -> int:
    if args.backend == "jax":  # a float64 model loads in float64 (float32 ones stay float32)
        enable_jax_float64()
    model = load(args.model, backend=args.backend, device=args.device)
    X, Y = read_data(args.data, args)
    check_features(args.data, X, model, labelled=True)
    X, Y = as_input_of(model, X), as_input_of(model, Y)
    print(f"accuracy: {100 * model.accuracy(X, Y):.2f}% (m = {X.shape[1]})")
    print(f"cost: {model.cost(X, Y):.6g}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate", help="accuracy and cost of a saved model on a data file",
        description="Print the accuracy and the cross-entropy cost of the model saved in MODEL on the labelled DATA.",
    )
    parser.add_argument("model", metavar="MODEL", type=Path, help="a model file written by 'arraynet train' or model.save")
    parser.add_argument("data", metavar="DATA", type=Path, help=DATA_HELP)
    add_data_arguments(parser, split="test")
    add_placement_arguments(parser)

    def checked(args: argparse.Namespace) -> int:
        check_data_arguments(parser, args, args.data)
        return run(args)

    parser.set_defaults(run=checked)
