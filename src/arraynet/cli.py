"""The ``arraynet`` command line: ``arraynet demo`` trains on the embedded flower data set."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .backends import BACKENDS, asarray, backend_name, namespace_of
from .datasets import load_flower
from .models import NeuralNetwork

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    """A 2-4-1 tanh network on the flower data set, the course's planar example."""
    X_host, Y_host = load_flower()
    X = asarray(X_host, args.backend)
    Y = asarray(Y_host, args.backend)
    xp = namespace_of(X)
    model = NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=args.seed)
    print(f"arraynet {__version__}: 2-4-1 tanh network on the flower data set (m = {X.shape[1]}), "
          f"backend {backend_name(xp)}")
    history = model.fit(X, Y, learning_rate=1.2, num_iterations=args.iterations, record_every=1000)
    for i, cost in zip(history.iterations, history.costs):
        print(f"cost after iteration {i}: {cost:.6f}")
    print(f"accuracy: {100 * model.accuracy(X, Y):.2f}%")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arraynet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"arraynet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train a 2-4-1 tanh network on the flower data set")
    demo.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS)
    demo.add_argument("--iterations", type=int, default=10000)
    demo.add_argument("--seed", type=int, default=3)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as exc:
        print(f"arraynet: error: {exc}", file=sys.stderr)
        return 2
