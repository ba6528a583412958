"""``arraynet sweep DATA``: the course's "empirical process" [C1 4.5]: train the same model over a
list of hidden layer sizes, learning rates, mini-batch sizes or optimizers [C2 1.1-1.4], and
compare their final cost and accuracy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..kernel.optimizers import OPTIMIZERS
from ..models import DivergenceError
from .scheduling import add_dask_arguments, check_dask_arguments, dask_scheduler, scheduler_of
from .train import (
    _parts,
    add_training_arguments,
    build_model,
    check_data_arguments,
    check_memory,
    check_outputs,
    check_plot_file,
    check_training_arguments,
    describe_training,
    fit,
    float_list,
    int_list,
    load_training_data,
    prepare_backend,
    unit_of,
    write_line,
)

# each swept option: what the table and the plot call it, and the option of one value it replaces
SWEPT = {
    "hidden_sizes": ("hidden units", "hidden"),
    "learning_rates": ("learning rate", "learning_rate"),
    "batch_sizes": ("batch size", "batch_size"),
    "optimizers": ("optimizer", "optimizer"),
}


def optimizer_list(text: str) -> list[str]:
    """``"gd,adam"`` -> ``["gd", "adam"]``, each an optimizer's name."""
    names = _parts(text, "gd,adam")
    if not names:
        raise argparse.ArgumentTypeError("expected at least one optimizer, e.g. gd,adam")
    unknown = [name for name in names if name not in OPTIMIZERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown optimizer {unknown[0]!r}; choose from {', '.join(OPTIMIZERS)}")
    return names


def shown(value: Any) -> str:
    """A swept value as the table prints it: a number in ``g`` format, a name as it is."""
    return value if isinstance(value, str) else f"{value:g}"


def run(args: argparse.Namespace) -> int:
    check_outputs([args.data, args.test], plot=args.plot)
    if args.plot is not None:
        check_plot_file(args.plot)
    prepare_backend(args, args.dtype)
    with dask_scheduler(scheduler_of(args)):
        return sweep(args)


def sweep(args: argparse.Namespace) -> int:
    """The runs of ``run``, each a training of its own (on the Dask scheduler, if any)."""
    say = (lambda text: None) if args.quiet else write_line
    _, X, Y, test, classes = load_training_data(args)
    swept = next(dest for dest in SWEPT if getattr(args, dest) is not None)
    parameter, option = SWEPT[swept]
    values = getattr(args, swept)
    # each run's options: the sweep's, with the swept value in place of the option it replaces
    runs_args = [argparse.Namespace(**{**vars(args), option: [value] if swept == "hidden_sizes" else value}) for value in values]
    header = f"{parameter:>14}  {'final cost':>10}  {'train acc':>9}" + (f"  {'test acc':>8}" if test else "") + f"  {'seconds':>7}"
    models = [build_model(run_args, X.shape[0], len(classes) if classes is not None else 2) for run_args in runs_args]
    for model in models:  # every size checked before the first run
        check_memory(model, X)
    say(header)
    runs, diverged = [], []
    for value, model, run_args in zip(values, models, runs_args):
        try:
            history = fit(model, X, Y, run_args, report=False)
        except DivergenceError as exc:  # a learning rate too large is a result of the sweep
            say(f"{shown(value):>14}  diverged at {unit_of(run_args)} {exc.iteration}")
            diverged.append((value, exc.history))
            continue
        train = model.accuracy(X, Y)
        row = f"{shown(value):>14}  {history.costs[-1]:>10.6f}  {100 * train:>8.2f}%"
        tested = None if test is None else model.accuracy(*test)
        if tested is not None:
            row += f"  {100 * tested:>7.2f}%"
        say(row + f"  {history.seconds:>7.2f}")
        runs.append((value, history, train, tested))
    if not runs:
        if swept == "learning_rates":
            raise ValueError(f"every run of the sweep diverged: try smaller learning rates than {min(values):g}")
        learning_rate = models[0].default_learning_rate if args.learning_rate is None else args.learning_rate
        raise ValueError(f"every run of the sweep diverged: try a smaller learning_rate than {learning_rate:g}")
    if args.plot is not None:
        from ..plots import plot_sweep

        swept_values, histories, train_accuracies, test_accuracies = (list(column) for column in zip(*runs))
        path = plot_sweep(
            args.plot, parameter, swept_values, histories, train_accuracies, None if test is None else test_accuracies,
            diverged=diverged, title=f"{args.data.name}: {describe_sweep(args)}",
        )
        say(f"wrote {path}")
    return 0


def describe_sweep(args: argparse.Namespace) -> str:
    """The models of the sweep and how they train, in a few words, for the plot's title."""
    if args.model == "logistic":
        model = "logistic regression"
    else:
        hidden = "n_h" if args.hidden_sizes is not None else ",".join(map(str, args.hidden or [4]))
        model = f"network with hidden layers {hidden} ({args.activation or 'relu'})"
    training = describe_training(args)  # the swept option is None here: it is left out
    return f"{model}; {training}" if training else model


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "sweep", help="train over a list of hidden sizes, learning rates, batch sizes or optimizers and compare",
        description="The empirical process of choosing a hyperparameter: train one model per value of "
        "--hidden-sizes (a network with one hidden layer of that size), --learning-rates, --batch-sizes or "
        "--optimizers, and print each one's final cost and accuracy (a run that diverges is reported as such).",
    )
    parser.add_argument("data", metavar="DATA", type=Path, help="a data file (.npz, .csv, .h5, .hdf5)")
    swept = parser.add_mutually_exclusive_group(required=True)
    swept.add_argument("--hidden-sizes", type=int_list, metavar="SIZES", help="e.g. 1,2,3,4,5,20,50")
    swept.add_argument("--learning-rates", type=float_list, metavar="RATES", help="e.g. 0.01,0.001,0.0001")
    swept.add_argument("--batch-sizes", type=int_list, metavar="SIZES", help="mini-batch sizes, e.g. 32,128,512 (trained for --epochs)")
    swept.add_argument("--optimizers", type=optimizer_list, metavar="NAMES", help=f"e.g. gd,momentum,adam (of {', '.join(OPTIMIZERS)})")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="also plot the cost curves and accuracies to FILE (.png, .svg, .pdf, ...)")
    add_training_arguments(parser)
    add_dask_arguments(parser)

    def run_unless_conflicting(args: argparse.Namespace) -> int:
        """The swept option replaces its single-value one: both given is a usage error (exit 2),
        as is any other contradiction (``check_training_arguments``)."""
        for swept_option, (_, option) in SWEPT.items():
            if getattr(args, swept_option) is not None and getattr(args, option) is not None:
                parser.error(f"argument --{option.replace('_', '-')}: not allowed with argument --{swept_option.replace('_', '-')}")
        if args.hidden_sizes is not None and args.model == "logistic":
            parser.error("argument --hidden-sizes: sweeps a network's hidden layer; it does not apply to --model logistic")
        check_data_arguments(parser, args, args.data, args.test)
        check_training_arguments(
            parser, args, layers=2 if args.hidden_sizes is not None else None,
            optimizers=args.optimizers, batched=args.batch_sizes is not None,
        )
        check_dask_arguments(parser, args)
        return run(args)

    parser.set_defaults(run=run_unless_conflicting)
