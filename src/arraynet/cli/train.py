"""``arraynet train DATA``: train a network (or logistic regression) on a data file, print the train
(and test) accuracy, and save the model. Also the options, data loading and model building that
``sweep`` shares."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..backends import (
    BACKENDS,
    asarray,
    auto_reason,
    backend_name,
    compute_namespace,
    enable_jax_float64,
    is_dask_array,
    limit_threads,
)
from ..io.loaders import DATA_SUFFIXES, csv_column_names, load_data
from ..kernel.activations import ACTIVATIONS
from ..kernel.initialization import INITS
from ..kernel.optimizers import OPTIMIZERS, Adam, Decay, Momentum, Optimizer, RMSprop
from ..models import EarlyStopping, LogisticRegression, Model, NeuralNetwork
from ..models.history import History
from ..models.training import counts_epochs
from .scheduling import add_dask_arguments, check_dask_arguments, chunks_of, dask_scheduler, scheduler_of

# the activations of hidden layers: softmax is an output layer's only (a network picks it for data of more than two classes)
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "softmax")

DATA_HELP = f"a data file ({', '.join(DATA_SUFFIXES)}); see docs/guides/data.md"


def positive_float(text: str) -> float:
    """A finite number > 0 (a learning rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, e.g. 0.01; got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0; got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1) (the beta of an average)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), e.g. 0.9; got {text!r}")
    return value


def open_fraction(text: str) -> float:
    """A number in (0, 1) (a fraction of the examples)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), e.g. 0.2; got {text!r}")
    return value


def rate(text: str) -> float:
    """A finite number >= 0 (a decay rate, L2's lambda)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, e.g. 1; got {text!r}")
    return value


def count(minimum: int) -> Any:
    """The argparse type of an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, e.g. {max(minimum, 1)}; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}; got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"  # what argparse calls the type in its messages
    return parse


def _parts(text: str, example: str) -> list[str]:
    """The comma-separated parts of ``text``; none of them may be empty."""
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        return []
    if not all(parts):
        raise argparse.ArgumentTypeError(f"an empty value between commas in {text!r}; e.g. {example}")
    return parts


def int_list(text: str) -> list[int]:
    """``"4,4"`` -> ``[4, 4]``."""
    try:
        values = [int(part) for part in _parts(text, "4,4")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, e.g. 4,4; got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one size, e.g. 4 or 8,4")
    if any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"sizes must be >= 1; got {text!r}")
    return values


def float_list(text: str) -> list[float]:
    """``"0.1,1.2"`` -> ``[0.1, 1.2]``, each a finite number > 0."""
    try:
        values = [positive_float(part) for part in _parts(text, "0.1,1.2")]
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"expected finite numbers > 0 separated by commas, e.g. 0.1,1.2; got {text!r} ({exc})") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def keep_prob_list(text: str) -> list[float]:
    """``"0.8"`` or ``"0.8,0.9"`` -> ``[0.8]``, ``[0.8, 0.9]``, each in (0, 1] (dropout's keep_prob)."""
    try:
        values = [float(part) for part in _parts(text, "0.8,0.9")]
    except ValueError:
        values = [math.nan]
    if not values or not all(0.0 < value <= 1.0 for value in values):
        raise argparse.ArgumentTypeError(f"expected numbers in (0, 1] separated by commas, e.g. 0.8 or 0.8,0.9; got {text!r}")
    return values


def name_list(text: str) -> list[str]:
    """``"tanh, sigmoid"`` -> ``["tanh", "sigmoid"]``, each an activation's name."""
    names = _parts(text, "tanh,sigmoid")
    if not names:
        raise argparse.ArgumentTypeError("expected at least one name, e.g. tanh,sigmoid")
    unknown = [name for name in names if name not in ACTIVATIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown activation {unknown[0]!r}; choose from {', '.join(ACTIVATIONS)}")
    return names


def column(text: str) -> int | str:
    """A CSV column given by index (``-1``: the last) or by its header name."""
    try:
        return int(text)
    except ValueError:
        return text


def add_data_arguments(parser: argparse.ArgumentParser, split: str, labels: bool = True) -> None:
    """How a data file is read: ``--label-column`` and ``--delimiter`` (CSV), ``--x-key`` and
    ``--y-key`` (.npz), ``--split`` (HDF5). With ``labels`` False (predict) a CSV has no label
    column unless ``--label-column`` names one."""
    default = "the last" if labels else "none, every column is a feature"
    data = parser.add_argument_group("data files")
    data.add_argument(
        "--label-column", type=column, default=None, metavar="COLUMN",
        help=f"CSV: the label column, an index (negative from the end) or a header name; default: {default}",
    )
    data.add_argument("--delimiter", default=",", help="CSV: the character between cells; default: %(default)r")
    data.add_argument("--x-key", default="X", metavar="KEY", help=".npz, .zarr: the array of features; default: %(default)s")
    data.add_argument("--y-key", default="Y", metavar="KEY", help=".npz, .zarr: the array of labels; default: %(default)s")
    data.add_argument(
        "--split", default=split,
        help="HDF5: read the image set {SPLIT}_set_x / {SPLIT}_set_y; default: %(default)s",
    )


def check_data_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace, *paths: Path | None) -> None:
    """Options of one file format given for another are usage errors, not ignored."""
    suffixes = {path.suffix.lower() for path in paths if path is not None}
    if args.label_column is not None and ".csv" not in suffixes:
        parser.error("argument --label-column: only a CSV file has a label column; an .npz names its labels with --y-key")
    if len(args.delimiter) != 1:
        parser.error(f"argument --delimiter: expected one character; got {args.delimiter!r}")
    if args.delimiter != "," and ".csv" not in suffixes:
        parser.error("argument --delimiter: only a CSV file has a delimiter")
    if (args.x_key, args.y_key) != ("X", "Y") and not suffixes & {".npz", ".zarr"}:
        parser.error("arguments --x-key/--y-key: only an .npz file or a .zarr store names its arrays")
    if args.x_key == args.y_key:
        parser.error(f"arguments --x-key and --y-key name the same array {args.x_key!r}: the features and the labels are two arrays")
    default_split = parser.get_default("split")
    if args.split != default_split and not suffixes & {".h5", ".hdf5"}:
        parser.error("argument --split: only an HDF5 file has splits")


def read_data(path: Path, args: argparse.Namespace, split: str | None = None, labels: bool = True) -> tuple[Any, Any]:
    """``(X, Y)`` of the data file at ``path`` on the host, read as the options say (``Y`` None
    without ``labels``): NumPy arrays, or Dask arrays when the command runs on Dask."""
    X, Y, _ = read_labelled(path, args, split, labels)
    return X, Y


def read_labelled(
    path: Path, args: argparse.Namespace, split: str | None = None, labels: bool = True
) -> tuple[Any, Any, list[str] | None]:
    """``read_data``'s ``(X, Y)`` and the names of the classes, in the order of their indices in
    ``Y`` (None for labels 0 and 1)."""
    label_column = -1 if args.label_column is None else args.label_column
    X, Y, classes = load_data(
        path, label_column=label_column, split=split or args.split, labels=labels,
        delimiter=args.delimiter, x_key=args.x_key, y_key=args.y_key, chunks=chunks_of(args), return_classes=True,
    )
    if is_dask_array(X) and path.suffix.lower() in (".npz", ".csv"):  # read whole: held where the tasks run, once
        import dask

        X, Y = dask.persist(X, Y)
    return X, Y, classes


def align_labels(Y: Any, classes: list[str] | None, known: list[str] | None, path: Path) -> Any:
    """Labels ``Y`` of a file whose classes are ``classes`` (None: labels 0 and 1, their values their
    names) as the indices of the classes ``known`` to a model (or its training data): the same names,
    the same numbers. Only the classes the file holds must be known (a file of one class is a file);
    one the model does not know is a ValueError naming the file."""
    if known is None and classes is None:
        return Y
    names = ["0", "1"] if classes is None else classes
    model_names = ["0", "1"] if known is None else known
    values = np.asarray(Y).astype(np.int64)
    present = [names[k] for k in np.unique(values).tolist()]
    unknown = [name for name in present if name not in model_names]
    if unknown:
        raise ValueError(
            f"the labels of {path} hold the class {unknown[0]!r}, which the model does not know; its classes are "
            f"{', '.join(model_names)}"
        )
    mapping = np.array([model_names.index(name) if name in model_names else -1 for name in names], dtype=np.float64)
    return Y if mapping.tolist() == list(range(len(names))) else mapping[values]


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
    activations.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, help="of the hidden layers; default: relu")
    activations.add_argument(
        "--activations", type=name_list, metavar="NAMES",
        help="one activation per layer instead, e.g. tanh,tanh,sigmoid (softmax: the output of data of more than two classes)",
    )
    model.add_argument("--init", choices=tuple(INITS), help="default: he for a network, zeros for logistic regression")
    model.add_argument("--seed", type=count(0), default=1, help="of the initial weights; default: %(default)s")
    model.add_argument(
        "--standardize", action="store_true",
        help="train on each feature's (x - mean) / std, learned on DATA and saved with the model (evaluate and predict apply it)",
    )
    training = parser.add_argument_group("training")
    training.add_argument("--learning-rate", type=positive_float, help="default: 0.0075 for a network, 0.005 for logistic regression")
    counts = training.add_mutually_exclusive_group()
    counts.add_argument(
        "--iterations", type=count(0),
        help="updates on all m examples (batch gradient descent); default: 2500 for a network, 2000 for logistic regression",
    )
    counts.add_argument(
        "--epochs", type=count(0), metavar="N",
        help="passes over the data: with --batch-size, each cut into mini-batches (default 10); without it, "
        "N updates on all m examples",
    )
    training.add_argument(
        "--batch-size", type=count(1), metavar="N",
        help="train on mini-batches of N examples, one update each (over m: one batch); default: all m examples in one batch",
    )
    training.add_argument(
        "--no-shuffle", action="store_true",
        help="with --batch-size: keep the examples in their order every epoch; default: a new order each epoch, drawn from --seed",
    )
    training.add_argument(
        "--record-every", type=count(1), metavar="K",
        help="record the cost every K iterations (or epochs); default: 100, or 1 with --batch-size",
    )
    training.add_argument(
        "--l2", type=rate, default=0.0, metavar="LAMBDA",
        help="L2 regularization: adds LAMBDA / (2 m) * sum_l ||W^[l]||^2 to the cost and (LAMBDA / m) W^[l] to each "
        "dW^[l] (m: the examples of each update's batch; b not regularized); default: 0, none",
    )
    training.add_argument(
        "--keep-prob", type=keep_prob_list, metavar="P",
        help="inverted dropout on the hidden layers: keep each unit with probability P in training (one value, or one "
        "per hidden layer: 0.8,0.9), never at prediction; default: 1, none",
    )
    training.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="default: %(default)s")
    add_placement_arguments(training)
    add_threads_argument(training)
    training.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_optimizer_arguments(parser)


# the optimizers' hyperparameters, as options: the optimizers that take each one
HYPERPARAMETERS = {
    key: tuple(name for name, optimizer in OPTIMIZERS.items() if key in optimizer().hyperparameters())
    for key in ("beta", "beta1", "beta2", "epsilon")
}


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    """The optimizer, its hyperparameters and the learning rate's decay, shared by ``train`` and ``sweep``."""
    group = parser.add_argument_group("optimizer")
    group.add_argument(
        "--optimizer", choices=tuple(OPTIMIZERS),
        help="gradient descent, with momentum, RMSprop or Adam (each with its usual defaults); default: gd",
    )
    group.add_argument("--beta", type=fraction, help=f"momentum's average: v = beta v + (1 - beta) dW; default: {Momentum().beta:g}")
    group.add_argument("--beta1", type=fraction, help=f"Adam's average of the gradients; default: {Adam().beta1:g}")
    group.add_argument("--beta2", type=fraction, help=f"RMSprop's and Adam's average of the squared gradients; default: {Adam().beta2:g}")
    group.add_argument(
        "--epsilon", type=positive_float, help=f"RMSprop's and Adam's epsilon, added to the root in the update; default: {RMSprop().epsilon:g}",
    )
    group.add_argument(
        "--decay-rate", type=rate, metavar="R",
        help="learning-rate decay: epoch e trains at learning_rate / (1 + R e); default: no decay",
    )
    group.add_argument(
        "--decay-interval", type=count(1), metavar="N",
        help="with --decay-rate, lower the rate every N epochs only: learning_rate / (1 + R floor(e / N))",
    )


def optimizer_of(args: argparse.Namespace) -> Optimizer:
    """The optimizer that ``--optimizer`` names, with the hyperparameters given that apply to it."""
    name = args.optimizer or "gd"
    settings = {key: getattr(args, key) for key, names in HYPERPARAMETERS.items() if name in names and getattr(args, key) is not None}
    return OPTIMIZERS[name](**settings)


def decay_of(args: argparse.Namespace) -> Decay | None:
    return None if args.decay_rate is None else Decay(args.decay_rate, args.decay_interval or 1)


def unit_of(args: argparse.Namespace) -> str:
    """What ``fit`` counts with these options (its ``History.unit``): iterations of batch gradient
    descent, or epochs as soon as there are mini-batches, another optimizer or a decay."""
    dropout = any(p < 1.0 for p in getattr(args, "keep_prob", None) or [])
    return "epoch" if counts_epochs(optimizer_of(args), args.batch_size, args.decay_rate, dropout) else "iteration"


def describe_training(args: argparse.Namespace) -> str:
    """The training options that are not batch gradient descent's, in a few words ("" for it)."""
    parts = []
    if (args.optimizer or "gd") != "gd":
        parts.append(repr(optimizer_of(args)))
    if args.batch_size is not None:
        parts.append(f"mini-batches of {args.batch_size}" + (" in order" if args.no_shuffle else ""))
    if args.decay_rate is not None:
        parts.append(f"decay rate {args.decay_rate:g}" + (f" every {args.decay_interval} epochs" if args.decay_interval else ""))
    if args.l2:
        parts.append(f"L2 lambda {args.l2:g}")
    if any(p < 1.0 for p in getattr(args, "keep_prob", None) or []):
        parts.append("dropout keep_prob " + ",".join(f"{p:g}" for p in args.keep_prob))
    return ", ".join(parts)


def thread_count(text: str) -> int:
    """A number of threads: 1 to the machine's logical cores (more only oversubscribes, and
    thousands crash the OpenMP runtime)."""
    value = count(1)(text)
    cores = os.cpu_count() or 1
    if value > cores:
        raise argparse.ArgumentTypeError(f"expected at most the {cores} logical cores of this machine; got {text!r}")
    return value


def add_threads_argument(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--threads", type=thread_count, metavar="N",
        help="the threads of the BLAS, OpenMP and PyTorch pools; default: the libraries' own (all cores), "
        "which on a shared or busy machine can be many times slower than 1 or 2",
    )


def check_training_arguments(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    layers: int | None = None,
    optimizers: list[str] | None = None,
    batched: bool = False,
) -> None:
    """Options that contradict each other are usage errors (exit 2) before any data is read.
    ``layers``: the number of layers L when something other than ``--hidden`` sets it (sweep);
    ``optimizers`` and ``batched``: a sweep's optimizers, and whether it sweeps batch sizes."""
    check_optimizer_arguments(parser, args, optimizers, batched)
    if args.model == "logistic":
        given = [f"--{name}" for name in ("hidden", "activation", "activations") if getattr(args, name) is not None]
        if given:
            parser.error(f"{', '.join(given)} describe a network's layers; they do not apply to --model logistic")
        return
    L = layers if layers is not None else len(args.hidden or [4]) + 1
    if args.init == "zeros":
        parser.error("argument --init: zeros would make every hidden unit compute the same function; use he, xavier or small")
    if args.activations is not None:
        if len(args.activations) != L:
            parser.error(
                f"argument --activations: {len(args.activations)} names for the {L} layers "
                f"(--hidden {','.join(map(str, args.hidden or [4]))} and the output); give one per layer"
            )
        hidden = [name for name in args.activations[:-1] if name == "softmax"]
        if hidden:
            parser.error(
                f"argument --activations: softmax is an output activation only; use one of {', '.join(HIDDEN_ACTIVATIONS)} for hidden layers"
            )
        if args.activations[-1] not in ("sigmoid", "softmax"):
            parser.error(
                "argument --activations: the output layer's must be sigmoid (labels 0 and 1) or softmax (more classes): "
                "the cost needs probabilities"
            )


def check_optimizer_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace, optimizers: list[str] | None = None, batched: bool = False
) -> None:
    """A hyperparameter of another optimizer than the chosen one(s), a count of iterations for
    mini-batches, or a shuffle or decay interval with nothing to act on are usage errors."""
    chosen, option = (optimizers, "--optimizers") if optimizers else ([args.optimizer or "gd"], "--optimizer")
    for key, names in HYPERPARAMETERS.items():
        if getattr(args, key) is not None and not set(names) & set(chosen):
            default = "" if optimizers or args.optimizer else " (the default)"
            parser.error(
                f"argument --{key}: applies to --optimizer {' or '.join(names)}, not to {option} {','.join(chosen)}{default}"
            )
    given = "--batch-sizes" if batched else "--batch-size" if args.batch_size is not None else None
    if given and args.iterations is not None:
        parser.error(f"argument --iterations: not allowed with argument {given}: mini-batch training counts passes over the data, give --epochs")
    if args.no_shuffle and not given:
        parser.error("argument --no-shuffle: only mini-batches are shuffled (one batch of all m examples never is); give --batch-size")
    if args.decay_interval is not None and args.decay_rate is None:
        parser.error("argument --decay-interval: needs --decay-rate R (the rate is learning_rate / (1 + R floor(e / N)))")


def prepare_backend(args: argparse.Namespace, dtype: str) -> None:
    """JAX's float64 mode on when the run asks for float64 on JAX (said, unless --quiet)."""
    if args.backend == "jax" and dtype == "float64" and enable_jax_float64() and not getattr(args, "quiet", False):
        print("arraynet: JAX's float64 mode is switched on for float64 (jax_enable_x64)", flush=True)


def load_training_data(args: argparse.Namespace) -> tuple[Any, Any, Any, tuple[Any, Any] | None, list[str] | None]:
    """``(X_host, X, Y, test, classes)``: the training data ``args.data`` as read (``X_host``) and on
    the backend, device and dtype of ``args``, the test data ``args.test`` there too (None without
    one; its labels the indices of the training data's classes, ``align_labels``), checked to have
    the training data's features, and the classes' names (None for labels 0 and 1)."""
    X_host, Y_host, classes = read_labelled(args.data, args)
    X, Y = (asarray(array, args.backend, args.device, args.dtype) for array in (X_host, Y_host))
    test = None
    if args.test is not None:
        X_test, Y_test, test_classes = read_labelled(args.test, args, split="test")
        Y_test = align_labels(Y_test, test_classes, classes, args.test)
        test = (asarray(X_test, args.backend, args.device, args.dtype), asarray(Y_test, args.backend, args.device, args.dtype))
    check_test_features(args, X, test)
    return X_host, X, Y, test, classes


def build_model(args: argparse.Namespace, n_x: int, classes: int = 2) -> Model:
    """The model the options describe (``check_training_arguments``), for ``n_x`` features and
    data of ``classes`` classes: a sigmoid output for two, a softmax output of ``classes`` units
    for more (multi-class logistic regression: ``NeuralNetwork([n_x, C])``)."""
    units = 1 if classes <= 2 else classes
    output = args.activations[-1] if getattr(args, "activations", None) else None
    if output == "softmax" and units == 1:
        raise ValueError("--activations ends in softmax, the output of more than two classes; the labels of the data are 0 and 1: end it in sigmoid")
    if output == "sigmoid" and units > 1:
        raise ValueError(f"--activations ends in sigmoid; the data has {classes} classes: end it in softmax")
    keep_prob = getattr(args, "keep_prob", None)
    if args.model == "logistic":
        if keep_prob and any(p < 1.0 for p in keep_prob):
            raise ValueError("--keep-prob drops hidden units [C2 2.2]; a logistic regression has none: use --model network --hidden SIZES")
        if units > 1:
            return NeuralNetwork([n_x, units], init=args.init or "zeros", seed=args.seed, standardize=args.standardize)
        return LogisticRegression(init=args.init or "zeros", seed=args.seed, standardize=args.standardize)
    layer_dims = [n_x, *(args.hidden or [4]), units]  # int_list is never empty: `or` skips only None
    if keep_prob and len(keep_prob) not in (1, len(layer_dims) - 2):
        raise ValueError(
            f"--keep-prob gives {len(keep_prob)} values; the network has {len(layer_dims) - 2} hidden layer(s) "
            f"(--hidden {','.join(map(str, layer_dims[1:-1]))}): give one value, or one per hidden layer"
        )
    return NeuralNetwork(
        layer_dims,
        hidden_activation=args.activation or "relu",
        activations=args.activations,
        init=args.init or "he",
        seed=args.seed,
        standardize=args.standardize,
        keep_prob=(keep_prob[0] if len(keep_prob) == 1 else keep_prob) if keep_prob else 1.0,
    )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a training, with the iteration (or epoch) it reached."""


def fit(model: Model, X: Any, Y: Any, args: argparse.Namespace, report: bool = True) -> History:
    """``model.fit`` with the options; with ``report`` (and not ``--quiet``), each recorded cost is
    printed as it is reached, by iteration or, in mini-batch training, by epoch."""
    reached = [0]
    unit = unit_of(args)
    bar = progress_on_terminal(args)
    patience = getattr(args, "patience", None)
    early_stopping = None if patience is None else EarlyStopping(monitor="val_cost", patience=patience, restore_best=True)

    def print_cost(iteration: int, cost: float, model: Model) -> None:
        reached[0] = iteration
        if report and not args.quiet and not bar:  # a terminal has the bar: a line each would scroll it away
            write_line(f"cost after {unit} {iteration}: {cost:.6f}")

    try:
        with thread_limit(args.threads):
            return model.fit(
                X, Y,
                learning_rate=args.learning_rate,
                num_iterations=args.iterations,
                record_every=args.record_every,
                optimizer=optimizer_of(args),
                batch_size=args.batch_size,
                epochs=args.epochs,
                shuffle=not args.no_shuffle,
                decay=decay_of(args),
                l2=args.l2,
                validation_split=getattr(args, "validation_split", None),
                early_stopping=early_stopping,
                progress=bar,
                callback=print_cost,
            )
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted at {unit} {reached[0]} (the last recorded)") from None


def progress_on_terminal(args: argparse.Namespace) -> bool:
    """Whether the training shows tqdm's bar (standard error a terminal, tqdm installed, not
    --quiet) rather than a line per recorded cost (a pipe, a log), as Keras's verbose 1 and 2."""
    if args.quiet or importlib.util.find_spec("tqdm") is None:
        return False
    return bool(hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def write_line(text: str) -> None:
    """``text`` on standard output now (a pipe or a log sees it as training runs), around the
    progress bar when there is one. A reader that went away (``arraynet train ... | head -1``)
    does not stop the training: the rest of the output goes nowhere, the model is still saved."""
    try:
        try:
            from tqdm import tqdm
        except ImportError:
            print(text, flush=True)
            return
        with tqdm.external_write_mode(file=sys.stderr):
            print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def thread_limit(threads: int | None) -> contextlib.AbstractContextManager[None]:
    """``--threads``: ``arraynet.limit_threads`` for the block; the libraries' own when None."""
    return contextlib.nullcontext() if threads is None else limit_threads(threads)


def training_bytes(layer_dims: list[int], m: int, itemsize: int) -> int:
    """About the memory a training of ``layer_dims`` on ``m`` examples takes: the parameters four
    times (them, their gradients, the update's new arrays, a snapshot) and each layer's ``Z``,
    ``A``, ``dZ`` and a scratch array of ``(n_l, m)``, plus the data."""
    parameters = sum(n * (n_prev + 1) for n_prev, n in itertools.pairwise(layer_dims))
    activations = m * sum(layer_dims[1:])
    return itemsize * (4 * parameters + 4 * activations + m * (layer_dims[0] + 1))


def available_bytes() -> int | None:
    """The memory a new allocation can have here, or None where it is unknown: Linux's
    MemAvailable (free memory and the page cache it can reclaim), or less under a cgroup limit
    (a container's)."""
    found = []
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as file:
            limit = file.read().strip()
        with open("/sys/fs/cgroup/memory.current") as file:
            used = int(file.read().strip())
        if limit != "max":
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def check_memory(model: Model, X: Any) -> None:
    """A network too large for this machine's memory is refused with the estimate, before its
    parameters are allocated (host memory: a GPU's is its library's to report)."""
    if not isinstance(model, NeuralNetwork) or is_dask_array(X):  # Dask's workers hold a chunk at a time
        return
    needed = training_bytes(model.layer_dims, X.shape[1], 4 if str(X.dtype).endswith("float32") else 8)
    available = available_bytes()
    if available is not None and needed > available:
        raise MemoryError(
            f"the {describe(model)} on m = {X.shape[1]} examples needs about {_size(needed)} to train; "
            f"this machine has {_size(available)} available: use fewer hidden units (--hidden)"
        )


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.3g} {unit}" if unit != "bytes" else f"{count} bytes"
        count /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def check_outputs(inputs: list[Path | None], **outputs: Path | None) -> None:
    """No output file may be one of the inputs, nor inside an input that is a folder (a Zarr
    store): writing it would destroy the data."""
    for option, output in outputs.items():
        if output is None:
            continue
        for given in inputs:
            if given is not None and _same_file(output, given):
                raise ValueError(f"--{option} {output} is one of the input files: writing it would destroy them; name another file")
            if given is not None and given.is_dir() and _inside(output, given):
                raise ValueError(
                    f"--{option} {output} is inside the input {given}: writing it would change or destroy that data; "
                    "name a file outside it"
                )


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies in it (links followed)."""
    try:
        resolved, root = path.resolve(), folder.resolve()
    except OSError:
        return False
    return resolved == root or root in resolved.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


PLOT_NAMES = ("cost.png", "decision_boundary.png")  # what --plot DIR writes


def check_test_features(args: argparse.Namespace, X: Any, test: tuple[Any, Any] | None) -> None:
    """The --test set must have the training data's features, said before the training."""
    if test is not None and test[0].shape[0] != X.shape[0]:
        unit = "feature columns" if args.test.suffix.lower() == ".csv" else "features"
        raise ValueError(
            f"--test {args.test} has {test[0].shape[0]} {unit}; the training data {args.data} has {X.shape[0]}: "
            "both need the same features"
        )


def check_plot_file(path: Path) -> None:
    """Before a sweep: matplotlib is there, the folder of ``path`` (``--plot FILE``) exists and
    its suffix names a format matplotlib writes, so that no plot fails after the runs."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError('--plot needs matplotlib: pip install "arraynet[plot]"')
    from ..plots import plot_format

    try:
        plot_format(path)
    except ValueError as exc:
        raise ValueError(f"--plot: {exc}") from None
    if not path.parent.is_dir():
        raise ValueError(f"--plot: the folder {path.parent} does not exist")


def check_features(path: Path, X: Any, model: Model, labelled: bool) -> None:
    """Data for a saved model must have its n_x features, said in the file's own terms (a CSV's
    columns, an .npz's rows)."""
    n_x = model._n_x()
    if n_x is None or X.shape[0] == n_x:
        return
    if path.suffix.lower() == ".csv":
        besides = " besides the label column" if labelled else ""
        raise ValueError(f"data file {path} has {X.shape[0]} feature columns{besides}; the model takes {n_x} features")
    raise ValueError(f"the features of {path} have n_x = {X.shape[0]} rows; the model takes {n_x} features")


def warn(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(f"arraynet: warning: {text}", file=sys.stderr, flush=True)


def warn_of_feature_scales(args: argparse.Namespace, X_host: Any) -> None:
    """Features whose scales differ by orders of magnitude make gradient descent crawl along the
    small ones: said with the fix."""
    spread = np.std(np.asarray(X_host, dtype=np.float64), axis=1)
    spread = spread[spread > 0]
    if spread.size >= 2 and spread.max() > 1e3 * spread.min():
        warn(
            args,
            f"the features' scales differ by orders of magnitude (standard deviations from {spread.min():.3g} to "
            f"{spread.max():.3g}): gradient descent crawls along the small ones; train with --standardize "
            "(each feature's (x - mean) / std, saved with the model)",
        )


def warn_of_rising_cost(args: argparse.Namespace, history: History, learning_rate: float) -> None:
    """A cost that ended above where it started: the learning rate is too large."""
    if len(history.costs) >= 2 and history.costs[-1] > history.costs[0]:
        warn(
            args,
            f"the cost rose from {history.costs[0]:.6g} to {history.costs[-1]:.6g} over the run: the learning "
            f"rate {learning_rate:g} is too large for this data; try a smaller --learning-rate",
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


def write_plots(
    directory: Path, model: Model, history: History, X: Any, Y: Any, learning_rate: float, title: str,
    feature_names: tuple[str, str] = ("x1", "x2"), classes: list[str] | None = None,
) -> list[Path]:
    """The cost curve, and the decision boundary when the data has 2 features, into ``directory``
    (made by ``check_plot_directory``), titled with the model and the data (``title``); the
    classes named ``classes`` (None: labels 0 and 1)."""
    from ..plots import plot_cost, plot_decision_boundary

    paths = [plot_cost(history, directory / "cost.png", learning_rate=learning_rate, title=title)]
    if X.shape[0] == 2 and not is_dask_array(X):  # a scatter of every example: not of data past memory
        paths.append(
            plot_decision_boundary(
                model, X, Y, directory / "decision_boundary.png", title=title, feature_names=feature_names, class_names=classes,
            )
        )
    return paths


def feature_names(path: Path, args: argparse.Namespace) -> tuple[str, str]:
    """The two features' names for a plot: a CSV header's column names (the label's left out),
    else x1 and x2."""
    if path.suffix.lower() == ".csv":
        names = csv_column_names(path, args.delimiter)
        if names is not None:
            label = -1 if args.label_column is None else args.label_column
            index = names.index(label) if isinstance(label, str) else label % len(names)
            features = [name for i, name in enumerate(names) if i != index]
            if len(features) == 2:
                return features[0], features[1]
    return "x1", "x2"


def backend_header(X: Any, args: argparse.Namespace, where: str | None = None) -> str:
    """"backend numpy", with why when "auto" did not choose a GPU, and on which Dask scheduler
    (``where``) for Dask data."""
    name = backend_name(compute_namespace(X))
    header = f"backend {name}"
    if args.backend == "auto" and name == "numpy":
        header = f"backend numpy (auto: {auto_reason()})"
    return header if where is None else f"{header}, chunks on {where}"


def run(args: argparse.Namespace) -> int:
    say = (lambda text: None) if args.quiet else write_line
    # the places to write, checked before the training, not after it
    if args.output.is_dir():
        raise ValueError(f"--output {args.output} is a folder: name the model file, e.g. {args.output / 'model.npz'}")
    if not args.output.parent.is_dir():
        raise ValueError(f"--output: the folder {args.output.parent} does not exist")
    check_outputs([args.data, args.test], output=args.output, plot=args.plot)
    if args.plot is not None:
        check_plot_directory(args.plot)
        if args.output.resolve().parent == args.plot.resolve() and args.output.name in PLOT_NAMES:
            raise ValueError(f"--output {args.output} is a file the plots write into --plot {args.plot}; name the model otherwise")
    prepare_backend(args, args.dtype)
    with dask_scheduler(scheduler_of(args)) as where:
        return train_and_save(args, say, where)


def train_and_save(args: argparse.Namespace, say: Any, where: str | None) -> int:
    """The training of ``run``, its outputs checked (on the Dask scheduler ``where``, if any)."""
    X_host, X, Y, test, classes = load_training_data(args)
    model = build_model(args, X.shape[0], len(classes) if classes is not None else 2)
    if classes is not None:
        model.class_names = classes  # type: ignore[attr-defined]  # saved with it: predict and evaluate name them
    check_memory(model, X)
    training = describe_training(args)
    say(
        f"arraynet {__version__}: {describe(model)} on {args.data} (m = {X.shape[1]}), "
        f"{backend_header(X, args, where)}, {args.dtype}" + (f"; {training}" if training else "")
    )
    if classes is not None:
        say(f"{len(classes)} classes: {', '.join(classes[:20])}{', ...' if len(classes) > 20 else ''}")
    if not args.standardize and not is_dask_array(X_host):  # a pass of its own over data past memory: not for a warning
        warn_of_feature_scales(args, X_host)
    history = fit(model, X, Y, args)
    if args.patience is not None and history.stopped_early:
        say(f"stopped early: the validation cost had not improved for {args.patience} recorded points; kept the best")
    if args.validation_split is not None and history.val_costs:
        kept = int(np.argmin(history.val_costs)) if history.stopped_early and args.patience is not None else -1
        say(f"validation cost: {history.val_costs[kept]:.6f}, validation accuracy: {100 * history.val_accuracies[kept]:.2f}%")
    learning_rate = model.default_learning_rate if args.learning_rate is None else args.learning_rate
    warn_of_rising_cost(args, history, learning_rate)
    if args.validation_split is None:
        say(f"train accuracy: {100 * model.accuracy(X, Y):.2f}% (m = {X.shape[1]})")
    else:  # the first examples trained on, the last validated on
        trained = int(X.shape[1] * (1.0 - args.validation_split))
        say(f"train accuracy: {100 * model.accuracy(X[:, :trained], Y[:, :trained]):.2f}% (m = {trained}, without the validation part)")
    if test is not None:
        say(f"test accuracy: {100 * model.accuracy(*test):.2f}% (m = {test[0].shape[1]})")
    try:
        path = model.save(args.output)  # before the plots: a plot that fails keeps it
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write the model to {args.output}: {exc.strerror or exc}") from exc
    say(f"saved the model to {path}")
    if args.plot is not None:
        title = f"{describe(model)} on {args.data.name}"
        if X.shape[0] != 2:
            say(f"no decision_boundary.png: the data has {X.shape[0]} features, and a decision boundary is drawn for 2")
        elif is_dask_array(X):
            say("no decision_boundary.png: the data is read in chunks (Dask), and the plot draws every example")
        try:
            plots = write_plots(args.plot, model, history, X, Y, learning_rate, title, feature_names(args.data, args), classes)
        except (OSError, ValueError, RuntimeError, MemoryError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise PlotError(f"the model was saved to {path}, but writing the plots into {args.plot} failed: {detail}") from exc
        for plot in plots:
            say(f"wrote {plot}")
    return 0


class PlotError(OSError):
    """A plot that could not be written after the model was saved (an error of its own line)."""


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
    validation = parser.add_argument_group("validation")
    validation.add_argument(
        "--validation-split", type=open_fraction, metavar="F",
        help="hold out the last fraction F of DATA's examples (taken before any shuffling) as validation data, not trained on, "
        "and print their cost and accuracy; default: none",
    )
    validation.add_argument(
        "--patience", type=count(0), metavar="N",
        help="with --validation-split: stop when the validation cost has not improved for N recorded points in a row, "
        "keeping the best recorded point's parameters (early stopping); default: train to the end",
    )
    add_dask_arguments(parser)

    def checked(args: argparse.Namespace) -> int:
        check_data_arguments(parser, args, args.data, args.test)
        check_training_arguments(parser, args)
        check_dask_arguments(parser, args)
        if args.patience is not None and args.validation_split is None:
            parser.error("argument --patience: early stopping watches the validation cost; give --validation-split F")
        return run(args)

    parser.set_defaults(run=checked)
