"""``arraynet demo``: the course's planar example, a 2-4-1 tanh network on the flower data set."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._version import __version__
from ..backends import BACKENDS, asarray
from ..io.datasets import load_flower
from ..models import NeuralNetwork
from .train import (
    add_threads_argument,
    backend_header,
    check_plot_directory,
    count,
    prepare_backend,
    thread_limit,
    write_line,
    write_plots,
)


def run(args: argparse.Namespace) -> int:
    if args.plot is not None:
        check_plot_directory(args.plot)
    prepare_backend(args, "float64")
    X_host, Y_host = load_flower()
    X = asarray(X_host, args.backend)
    Y = asarray(Y_host, args.backend)
    model = NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=args.seed)
    write_line(f"arraynet {__version__}: 2-4-1 tanh network on the flower data set (m = {X.shape[1]}), {backend_header(X, args)}")
    with thread_limit(args.threads):
        history = model.fit(
            X, Y, learning_rate=1.2, num_iterations=args.iterations, record_every=1000,
            callback=lambda i, cost, model: write_line(f"cost after iteration {i}: {cost:.6f}"),
        )
    write_line(f"accuracy: {100 * model.accuracy(X, Y):.2f}%")
    if args.plot is not None:
        for path in write_plots(args.plot, model, history, X, Y, 1.2, "2-4-1 tanh network on the flower data"):
            write_line(f"wrote {path}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="train a 2-4-1 tanh network on the flower data set")
    parser.add_argument(
        "--backend", default="auto", choices=("auto",) + BACKENDS,
        help="the array library to train on; auto: CuPy on a usable GPU, else NumPy (default: %(default)s)",
    )
    parser.add_argument("--iterations", type=count(0), default=10000, help="default: %(default)s")
    parser.add_argument("--seed", type=count(0), default=3, help="default: %(default)s")
    add_threads_argument(parser)
    parser.add_argument("--plot", type=Path, metavar="DIR", help="also write cost.png and decision_boundary.png into DIR")
    parser.set_defaults(run=run)
