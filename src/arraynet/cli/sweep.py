"""``arraynet sweep DATA``: the seed's "empirical process" [seed 4.5]: train the same model over a
list of hidden layer sizes or of learning rates, and compare their final cost and accuracy."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..models import DivergenceError
from .scheduling import add_dask_arguments, check_dask_arguments, dask_scheduler, scheduler_of
from .train import (
    add_training_arguments,
    build_model,
    check_data_arguments,
    check_memory,
    check_outputs,
    check_plot_file,
    check_test_features,
    check_training_arguments,
    fit,
    float_list,
    int_list,
    load_split,
    prepare_backend,
    write_line,
)


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
    X, Y = load_split(args.data, args)
    test = None if args.test is None else load_split(args.test, args, split="test")
    check_test_features(args, X, test)
    if args.hidden_sizes is not None:
        parameter, values = "hidden units", args.hidden_sizes
    else:
        parameter, values = "learning rate", args.learning_rates
    header = f"{parameter:>14}  {'final cost':>10}  {'train acc':>9}" + (f"  {'test acc':>8}" if test else "") + f"  {'seconds':>7}"
    models = [build_model(args, X.shape[0], hidden=[value] if parameter == "hidden units" else None) for value in values]
    for model in models:  # every size checked before the first run
        check_memory(model, X)
    say(header)
    runs, diverged = [], []
    for value, model in zip(values, models):
        learning_rate = args.learning_rate if parameter == "hidden units" else value
        try:
            history = fit(model, X, Y, args, learning_rate, report=False)
        except DivergenceError as exc:  # a learning rate too large is a result of the sweep
            say(f"{value:>14g}  diverged at iteration {exc.iteration}")
            diverged.append((value, exc.history))
            continue
        train = model.accuracy(X, Y)
        row = f"{value:>14g}  {history.costs[-1]:>10.6f}  {100 * train:>8.2f}%"
        tested = None if test is None else model.accuracy(*test)
        if tested is not None:
            row += f"  {100 * tested:>7.2f}%"
        say(row + f"  {history.seconds:>7.2f}")
        runs.append((value, history, train, tested))
    if not runs:
        raise ValueError(f"every run of the sweep diverged: try smaller learning rates than {min(values):g}")
    if args.plot is not None:
        from ..plots import plot_sweep

        swept, histories, train_accuracies, test_accuracies = (list(column) for column in zip(*runs))
        path = plot_sweep(
            args.plot, parameter, swept, histories, train_accuracies, None if test is None else test_accuracies,
            diverged=diverged, title=f"{args.data.name}: {describe_sweep(args)}",
        )
        say(f"wrote {path}")
    return 0


def describe_sweep(args: argparse.Namespace) -> str:
    """The models of the sweep in a few words, for the plot's title."""
    if args.model == "logistic":
        return "logistic regression"
    hidden = "n_h" if args.hidden_sizes is not None else ",".join(map(str, args.hidden or [4]))
    return f"network with hidden layers {hidden} ({args.activation or 'relu'})"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "sweep", help="train over a list of hidden sizes or learning rates and compare",
        description="The empirical process of choosing a hyperparameter: train one model per value of "
        "--hidden-sizes (a network with one hidden layer of that size) or --learning-rates, and print "
        "each one's final cost and accuracy (a run that diverges is reported as such).",
    )
    parser.add_argument("data", metavar="DATA", type=Path, help="a data file (.npz, .csv, .h5, .hdf5)")
    swept = parser.add_mutually_exclusive_group(required=True)
    swept.add_argument("--hidden-sizes", type=int_list, metavar="SIZES", help="e.g. 1,2,3,4,5,20,50")
    swept.add_argument("--learning-rates", type=float_list, metavar="RATES", help="e.g. 0.01,0.001,0.0001")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="also plot the cost curves and accuracies to FILE (.png, .svg, .pdf, ...)")
    add_training_arguments(parser)
    add_dask_arguments(parser)

    def run_unless_conflicting(args: argparse.Namespace) -> int:
        """The swept option replaces its single-value one: both given is a usage error (exit 2),
        as is any other contradiction (``check_training_arguments``)."""
        for swept_option, option in (("hidden_sizes", "hidden"), ("learning_rates", "learning_rate")):
            if getattr(args, swept_option) is not None and getattr(args, option) is not None:
                parser.error(f"argument --{option.replace('_', '-')}: not allowed with argument --{swept_option.replace('_', '-')}")
        if args.hidden_sizes is not None and args.model == "logistic":
            parser.error("argument --hidden-sizes: sweeps a network's hidden layer; it does not apply to --model logistic")
        check_data_arguments(parser, args, args.data, args.test)
        check_training_arguments(parser, args, layers=2 if args.hidden_sizes is not None else None)
        check_dask_arguments(parser, args)
        return run(args)

    parser.set_defaults(run=run_unless_conflicting)
