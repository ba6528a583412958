"""``arraynet train DATA``: train a network (or logistic regression) on a data file, print the train
(and test) accuracy, and save the model. Also the options, data loading and model building that
``sweep`` shares."""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..backends import BACKENDS, asarray, backend_name, namespace_of
from ..io.loaders import DATA_SUFFIXES, load_data
from ..kernel.activations import ACTIVATIONS
from ..kernel.initialization import INITS
from ..models import LogisticRegression, Model, NeuralNetwork
from ..models.history import History

DATA_HELP = f"a data file ({', '.join(DATA_SUFFIXES)}); see 'Data formats' in README.md"


def int_list(text: str) -> list[int]:
    """``"4,4"`` -> ``[4, 4]``."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, e.g. 4,4; got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one size, e.g. 4 or 8,4")
    if any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"sizes must be >= 1; got {text!r}")
    return values


def float_list(text: str) -> list[float]:
    """``"0.1,1.2"`` -> ``[0.1, 1.2]``."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. 0.1,1.2; got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def name_list(text: str) -> list[str]:
    """``"tanh, sigmoid"`` -> ``["tanh", "sigmoid"]``."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected at least one name, e.g. tanh,sigmoid")
    return names


def column(text: str) -> int | str:
    """A CSV column given by index (``-1``: the last) or by its header name."""
    try:
        return int(text)
    except ValueError:
        return text


def add_data_arguments(parser: argparse.ArgumentParser, split: str, labels: bool = True) -> None:
    """``--label-column`` and ``--split``; with ``labels`` False (predict) a CSV has no label
    column unless ``--label-column`` names one."""
    default = "the last" if labels else "none, every column is a feature"
    parser.add_argument(
        "--label-column", type=column, default=-1 if labels else None, metavar="COLUMN",
        help=f"CSV: the label column, an index (negative from the end) or a header name; default: {default}",
    )
    parser.add_argument(
        "--split", default=split,
        help="HDF5: read the image set {SPLIT}_set_x / {SPLIT}_set_y; default: %(default)s",
    )


def add_placement_arguments(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS, help="default: %(default)s")
    parser.add_argument("--device", default=None, help="the backend's device, e.g. cuda:0 (default: its default)")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The model and training options shared by ``train`` and ``sweep``."""
    parser.add_argument("--test", metavar="DATA", type=Path, help="a test set to report the accuracy on (HDF5: its 'test' split)")
    add_data_arguments(parser, split="train")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model", choices=("network", "logistic"), default="network",
        help="an L-layer network or logistic regression; default: %(default)s",
    )
    model.add_argument(
        "--hidden", type=int_list, metavar="SIZES",
        help="the hidden layer sizes n_1,...,n_{L-1}: layer_dims = [n_x, SIZES..., 1]; default: 4",
    )
    activations = model.add_mutually_exclusive_group()
    activations.add_argument("--activation", choices=tuple(ACTIVATIONS), help="of the hidden layers; default: relu")
    activations.add_argument(
        "--activations", type=name_list, metavar="NAMES",
        help="one activation per layer instead, e.g. tanh,tanh,sigmoid",
    )
    model.add_argument("--init", choices=tuple(INITS), help="default: he for a network, zeros for logistic regression")
    model.add_argument("--seed", type=int, default=1, help="of the initial weights; default: %(default)s")
    training = parser.add_argument_group("training")
    training.add_argument("--learning-rate", type=float, help="default: 0.0075 for a network, 0.005 for logistic regression")
    training.add_argument("--iterations", type=int, help="default: 2500 for a network, 2000 for logistic regression")
    training.add_argument("--record-every", type=int, default=100, metavar="K", help="record the cost every K iterations; default: %(default)s")
    training.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="default: %(default)s")
    add_placement_arguments(training)
    training.add_argument("--quiet", action="store_true", help="print only the results: no costs, no progress bar")


def load_split(path: Path, args: argparse.Namespace, split: str | None = None) -> tuple[Any, Any]:
    """``(X, Y)`` of the data file at ``path`` on the backend, device and dtype of ``args``."""
    X, Y = load_data(path, label_column=args.label_column, split=split or args.split)
    return tuple(asarray(array, args.backend, args.device, args.dtype) for array in (X, Y))


def build_model(args: argparse.Namespace, n_x: int, hidden: list[int] | None = None) -> Model:
    """The model the options describe, for ``n_x`` features (``hidden`` replaces ``--hidden``)."""
    if args.model == "logistic":
        given = [f"--{name}" for name in ("hidden", "activation", "activations") if getattr(args, name) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} describe a network's layers; they do not apply to --model logistic")
        return LogisticRegression(init=args.init or "zeros", seed=args.seed)
    layer_dims = [n_x, *(hidden or args.hidden or [4]), 1]  # int_list is never empty: `or` skips only None
    return NeuralNetwork(
        layer_dims,
        hidden_activation=args.activation or "relu",
        activations=args.activations,
        init=args.init or "he",
        seed=args.seed,
    )


def fit(model: Model, X: Any, Y: Any, args: argparse.Namespace, learning_rate: float | None = None) -> History:
    """``model.fit`` with the options (``learning_rate`` replaces ``--learning-rate``)."""
    return model.fit(
        X, Y,
        learning_rate=args.learning_rate if learning_rate is None else learning_rate,
        num_iterations=args.iterations,
        record_every=args.record_every,
        progress=False if args.quiet else None,
    )


def describe(model: Model) -> str:
    if isinstance(model, NeuralNetwork):
        names = ", ".join(g.name for g in model.activations)
        return f"network {'-'.join(map(str, model.layer_dims))} ({names})"
    return "logistic regression"


def check_plot_directory(directory: Path) -> None:
    """Before a training: matplotlib is there and ``directory`` (``--plot``) exists or is made, so
    that no plot fails after the training."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError('--plot needs matplotlib: pip install "arraynet[plot]"')
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--plot: cannot make the folder {directory}: {exc.strerror or exc}") from exc
    if not os.access(directory, os.W_OK):
        raise ValueError(f"--plot: cannot write into the folder {directory}")


def write_plots(directory: Path, model: Model, history: History, X: Any, Y: Any, learning_rate: float) -> list[Path]:
    """The cost curve, and the decision boundary when the data has 2 features, into ``directory``
    (made by ``check_plot_directory``)."""
    from ..plots import plot_cost, plot_decision_boundary

    paths = [plot_cost(history, directory / "cost.png", learning_rate=learning_rate)]
    if X.shape[0] == 2:
        paths.append(plot_decision_boundary(model, X, Y, directory / "decision_boundary.png"))
    return paths


def run(args: argparse.Namespace) -> int:
    # the places to write, checked before the training, not after it
    if args.output.is_dir():
        raise ValueError(f"--output {args.output} is a folder: name the model file, e.g. {args.output / 'model.npz'}")
    if not args.output.parent.is_dir():
        raise ValueError(f"--output: the folder {args.output.parent} does not exist")
    if args.plot is not None:
        check_plot_directory(args.plot)
    X, Y = load_split(args.data, args)
    test = None if args.test is None else load_split(args.test, args, split="test")
    model = build_model(args, X.shape[0])
    if not args.quiet:
        print(
            f"arraynet {__version__}: {describe(model)} on {args.data} (m = {X.shape[1]}), "
            f"backend {backend_name(namespace_of(X))}, {args.dtype}"
        )
    history = fit(model, X, Y, args)
    if not args.quiet:
        for i, cost in zip(history.iterations, history.costs):
            print(f"cost after iteration {i}: {cost:.6f}")
    print(f"train accuracy: {100 * model.accuracy(X, Y):.2f}% (m = {X.shape[1]})")
    if test is not None:
        print(f"test accuracy: {100 * model.accuracy(*test):.2f}% (m = {test[0].shape[1]})")
    print(f"saved the model to {model.save(args.output)}")  # before the plots: a plot that fails keeps it
    if args.plot is not None:
        learning_rate = model.default_learning_rate if args.learning_rate is None else args.learning_rate
        for path in write_plots(args.plot, model, history, X, Y, learning_rate):
            print(f"wrote {path}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train", help="train a model on a data file and save it",
        description="Train a network (or logistic regression) on DATA, print the train (and test) "
        "accuracy and save the model to --output.",
    )
    parser.add_argument("data", metavar="DATA", type=Path, help=DATA_HELP)
    parser.add_argument("-o", "--output", type=Path, default=Path("model.npz"), help="the model file to write; default: %(default)s")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="also write cost.png (and decision_boundary.png for 2 features) into DIR")
    add_training_arguments(parser)
    parser.set_defaults(run=run)
