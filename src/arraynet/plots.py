"""Plots of training, drawn with matplotlib's Agg renderer straight to files (no screen, no pyplot
state): the cost curve (training and validation), the decision boundary of a model on 2-D data,
the confusion matrix of a classifier's predictions, and the results of a sweep of a
hyperparameter [C1 4.5]. The format follows the file's suffix (``.png``, ``.svg``, ``.pdf``,
...); each file is written whole or not at all. Needs matplotlib (``pip install "arraynet[plot]"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .backends import to_numpy
from .io._atomic import atomic_path
from .io.loaders import MAX_CLASSES, as_input_of
from .models import Model
from .models.history import History

__all__ = ["confusion_matrix", "plot_confusion_matrix", "plot_cost", "plot_decision_boundary", "plot_format", "plot_sweep"]


def _figure(ncols: int = 1) -> tuple[Any, list[Any]]:
    """A figure of ``ncols`` axes side by side on an Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError('plots need matplotlib: pip install "arraynet[plot]"') from exc
    figure = Figure(figsize=(6.4 * ncols, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, [figure.add_subplot(1, ncols, k + 1) for k in range(ncols)]


def plot_format(path: str | os.PathLike[str]) -> str:
    """The format matplotlib writes ``path`` in, from its suffix; a ValueError listing them when it
    names none (checked before a long run as well as when the figure is saved)."""
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ValueError(f"path must end in one of {', '.join('.' + f for f in sorted(formats))}; got {path.name!r}")
    return suffix


def _save(figure: Any, path: str | os.PathLike[str]) -> Path:
    """``figure`` written to ``path``; an OSError (a full disk) names ``path``."""
    path = Path(path)
    suffix = plot_format(path)
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format=suffix, dpi=100)
    except OSError as exc:
        if exc.errno is None or str(path) in str(exc):
            raise
        raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def _draw_costs(axes: Any, history: History, label: str | None = None) -> None:
    """The recorded costs against the iterations, or the epochs in mini-batch training (``history.unit``)."""
    if not history.iterations:
        raise ValueError("history must hold at least one recorded cost; got an empty history")
    axes.plot(history.iterations, history.costs, label=label)
    axes.set_xlabel(history.unit)
    axes.set_ylabel("cost J")


def _shown(value: Any) -> str:
    """A swept value in a label: a number in ``g`` format, a name (an optimizer's) as it is."""
    return value if isinstance(value, str) else f"{value:g}"


def _log_scale_over_decades(axes: Any, costs: Sequence[float]) -> None:
    """A log cost axis when the costs span a decade or more (a run that falls from 0.69 to 0.001
    shows its end)."""
    positive = [cost for cost in costs if cost > 0]
    if positive and max(positive) >= 10 * min(positive):
        axes.set_yscale("log")
        axes.set_ylabel("cost J (log scale)")


def _legend_outside(axes: Any) -> None:
    """The legend beside the axes, never over what they show."""
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def plot_cost(
    history: History, path: str | os.PathLike[str], *, learning_rate: float | None = None, title: str | None = None
) -> Path:
    """The cost ``J`` at each recorded iteration (or epoch) of ``history`` (from ``fit``), as the
    course plots it, on a log axis when it spans decades; ``title`` (e.g. the model and the data)
    and the learning rate, if given, title it. Returns the path written.

    A history with validation data (``fit(..., validation_data=...)`` or ``validation_split=``)
    also has its validation costs drawn at the same points, the two lines labelled "training" and
    "validation" in a legend, as Keras users plot ``loss`` and ``val_loss``. In mini-batch
    training an epoch's training cost is that of its batches, each before its update (weighted by
    their sizes), its validation cost that of the parameters at its end; with ``l2`` the training cost holds the penalty, the validation cost is
    the cross-entropy alone."""
    figure, (axes,) = _figure()
    validation = list(history.val_costs)
    _draw_costs(axes, history, label="training" if validation else None)
    if validation:
        if len(validation) != len(history.costs):
            raise ValueError(
                f"history.val_costs must hold one cost per recorded cost ({len(history.costs)}); got {len(validation)}"
            )
        axes.plot(history.iterations, validation, label="validation")
        _legend_outside(axes)
    _log_scale_over_decades(axes, [*history.costs, *validation])
    rate = None if learning_rate is None else f"learning rate = {learning_rate:g}"
    heading = ", ".join(part for part in (title, rate) if part)
    if heading:
        axes.set_title(heading, wrap=True)  # a long title (the model, the data file) wraps, never cut off
    return _save(figure, path)


def plot_decision_boundary(
    model: Model,
    X: Any,
    Y: Any,
    path: str | os.PathLike[str],
    *,
    resolution: int = 200,
    title: str | None = None,
    feature_names: Sequence[str] = ("x1", "x2"),
    class_names: Sequence[str] | None = None,
) -> Path:
    """The examples ``X`` (shape ``(2, m)``) coloured by their labels ``Y`` over the regions the
    fitted ``model`` predicts 0 and 1 (or each class of a softmax network, ``Y`` its class indices)
    on a ``resolution`` x ``resolution`` grid around them, with a legend of the classes, named
    ``class_names`` when given ("label 0", "label 1", ... otherwise); the axes are named
    ``feature_names`` (a CSV's column names).

    The grid is evaluated in one ``predict`` call in the model's own library, device and dtype;
    ``X`` and ``Y`` may be arrays of any library. Returns the path written."""
    model.get_parameters()  # a model that is not fitted fails first
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2; got {resolution!r}")
    if isinstance(feature_names, str) or len(feature_names) != 2:
        raise ValueError(f"feature_names must name the 2 features; got {feature_names!r}")
    X_host, Y_host = np.asarray(to_numpy(X), dtype=float), np.asarray(to_numpy(Y), dtype=float)
    if X_host.ndim != 2 or X_host.shape[0] != 2:
        raise ValueError(f"X must have shape (2, m): a decision boundary is drawn for 2 features; got shape {X_host.shape}")
    if Y_host.shape != (1, X_host.shape[1]):
        raise ValueError(f"Y must have shape (1, m) = (1, {X_host.shape[1]}); got shape {Y_host.shape}")
    margin = 0.1 * (X_host.max(axis=1) - X_host.min(axis=1)) + 0.1
    low, high = X_host.min(axis=1) - margin, X_host.max(axis=1) + margin
    x1, x2 = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = as_input_of(model, np.stack([x1.ravel(), x2.ravel()]))
    predictions = to_numpy(model.predict(grid)).reshape(x1.shape)

    C = max(2, int(getattr(model, "classes", 2)), int(Y_host.max(initial=1)) + 1)
    if class_names is not None and len(class_names) != C:
        raise ValueError(f"class_names must name the {C} classes; got {len(class_names)} names")
    figure, (axes,) = _figure()
    palette = ["#d7301f", "#2b8cbe", "#31a354", "#756bb1", "#fe9929", "#636363", "#e7298a", "#66a61e", "#a6761d", "#1b9e77"]
    colors = [palette[k % len(palette)] for k in range(C)]
    axes.contourf(x1, x2, predictions, levels=[k - 0.5 for k in range(C + 1)], colors=colors, alpha=0.25)
    for label, color in enumerate(colors):
        chosen = Y_host[0] == label
        name = f"label {label}" if class_names is None else str(class_names[label])
        axes.scatter(
            X_host[0, chosen], X_host[1, chosen], color=color, s=12, edgecolors="k", linewidths=0.3,
            label=f"{name} ({int(chosen.sum())} examples)",
        )
    axes.set_xlabel(feature_names[0])
    axes.set_ylabel(feature_names[1])
    axes.set_title(title or f"decision boundary of {type(model).__name__}")
    _legend_outside(axes)
    return _save(figure, path)


def plot_sweep(
    path: str | os.PathLike[str],
    parameter: str,
    values: Sequence[Any],
    histories: Sequence[History],
    train_accuracy: Sequence[float],
    test_accuracy: Sequence[float] | None = None,
    *,
    diverged: Sequence[tuple[Any, History]] = (),
    title: str | None = None,
) -> Path:
    """A sweep of one hyperparameter (named ``parameter``, e.g. "hidden units", "learning rate",
    "batch size" or "optimizer") over ``values`` (numbers, or names): on the left the cost curve of
    each run against its iterations or epochs (``History.unit``; runs of both units, batch gradient
    descent beside full-batch Adam, share an axis: each of their epochs is one iteration), on a log
    axis when they span decades; on the right the final train (and test) accuracy against the
    value, the course's way to choose it [C1 4.5]. ``diverged``: the runs that diverged, ``(value,
    history so far)``, named in the legend (with their finite costs, if any) rather than left out;
    the cost axis fits the runs that trained. ``title`` heads the figure."""
    n = len(values)
    if n == 0 or len(histories) != n or len(train_accuracy) != n or (test_accuracy is not None and len(test_accuracy) != n):
        raise ValueError(
            f"values, histories, train_accuracy (and test_accuracy) must be non-empty and of one length; "
            f"got {n}, {len(histories)}, {len(train_accuracy)}"
            + ("" if test_accuracy is None else f", {len(test_accuracy)}")
        )
    figure, (costs, accuracy) = _figure(ncols=2)
    for value, history in zip(values, histories):
        _draw_costs(costs, history, label=f"{parameter} = {_shown(value)}")
    for value, history in diverged:
        costs.plot(history.iterations, history.costs, "x:", label=f"{parameter} = {_shown(value)}: diverged")
    units = {history.unit for history in histories}
    if len(units) > 1:
        costs.set_xlabel(" / ".join(sorted(units, reverse=True)))  # "iteration / epoch"
    finite = [cost for history in histories for cost in history.costs]
    _log_scale_over_decades(costs, finite)
    if diverged and finite:  # the axis fits the runs that trained: a diverged run's 1e203 would flatten them
        low, high = min(finite), max(finite)
        if costs.get_yscale() == "log":
            costs.set_ylim(low / 1.5, high * 1.5)
        else:
            margin = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
            costs.set_ylim(low - margin, high + margin)
    _legend_outside(costs)
    costs.set_title("cost during training")
    positions = range(n)  # evenly spaced: values are often on a log scale (learning rates)
    line = "" if any(isinstance(value, str) for value in values) else "-"  # names (optimizers) are not on a scale
    accuracy.plot(positions, [100 * a for a in train_accuracy], "o" + line, label="train")
    if test_accuracy is not None:
        accuracy.plot(positions, [100 * a for a in test_accuracy], "s" + line * 2, label="test")
    accuracy.set_xticks(list(positions), [_shown(value) for value in values])
    accuracy.set_xlabel(parameter)
    accuracy.set_ylabel("accuracy (%)")
    accuracy.set_ylim(top=100)
    accuracy.set_title("final accuracy")
    _legend_outside(accuracy)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def _class_indices(Y: Any, name: str) -> np.ndarray:
    """The labels (or predictions) ``Y`` of shape ``(1, m)`` or ``(m,)``, of any array library, as
    NumPy's int64 class indices of shape ``(m,)``; a ValueError naming ``name`` otherwise."""
    values = np.asarray(to_numpy(Y))
    if values.ndim == 2 and values.shape[0] == 1:
        values = values[0]
    elif values.ndim != 1:
        hint = " (one-hot columns of shape (C, m): pass their argmax over axis 0)" if values.ndim == 2 else ""
        raise ValueError(f"{name} must have shape (1, m) or (m,): class indices{hint}; got shape {values.shape}")
    if values.dtype == np.bool_:
        values = values.astype(np.int64)
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise ValueError(f"{name} must hold class indices 0, 1, 2, ... as numbers; got dtype {values.dtype}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{name} must hold class indices 0, 1, 2, ... (integers >= 0); got {values[k].item()!r} at example {k}")
    if values.size and values.max() >= MAX_CLASSES:
        k = int(np.argmax(values))
        raise ValueError(
            f"{name} must hold class indices below {MAX_CLASSES} (the most classes arraynet takes); got {values[k].item()!r} "
            f"at example {k}: number the classes 0 to C - 1"
        )
    return values.astype(np.int64)


def _checked_labels(Y_true: Any, Y_pred: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """The true and predicted class indices, checked, and the largest index in either (-1 for none)."""
    true, predicted = _class_indices(Y_true, "Y_true"), _class_indices(Y_pred, "Y_pred")
    if predicted.shape != true.shape:
        raise ValueError(f"Y_pred must hold one prediction per label of Y_true ({true.shape[0]}); got {predicted.shape[0]}")
    top = max(int(true.max(initial=-1)), int(predicted.max(initial=-1)))
    return true, predicted, top


def _counts(true: np.ndarray, predicted: np.ndarray, C: int) -> np.ndarray:
    counts = np.zeros((C, C), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def confusion_matrix(Y_true: Any, Y_pred: Any, classes: int | None = None) -> np.ndarray:
    """The confusion matrix of a classifier [C2 3]: ``counts[i, j]`` is the number of examples of
    true class ``i`` predicted as class ``j`` (rows: the true classes, columns: the predicted ones),
    a ``(C, C)`` NumPy int64 array. ``Y_true`` and ``Y_pred`` are class indices ``0..C-1`` of shape
    ``(1, m)`` or ``(m,)`` (``model.predict``'s output for either; arrays of any library, any
    integer or float dtype). ``classes`` is ``C``; None takes the largest index in either, plus 1,
    and at least 2 (a binary model's 0 and 1)."""
    true, predicted, top = _checked_labels(Y_true, Y_pred)
    if classes is None:
        C = max(2, top + 1)
    elif isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 1:
        raise ValueError(f"classes must be an integer >= 1 (the number of classes); got {classes!r}")
    elif classes <= top:
        raise ValueError(f"classes must be more than the largest class index in Y_true and Y_pred ({top}); got {classes}")
    else:
        C = int(classes)
    return _counts(true, predicted, C)


def plot_confusion_matrix(
    Y_true: Any,
    Y_pred: Any,
    path: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    title: str | None = None,
) -> Path:
    """The confusion matrix of the predictions ``Y_pred`` against the labels ``Y_true`` (class
    indices of shape ``(1, m)`` or ``(m,)``, as ``confusion_matrix`` takes them) as a heat map:
    rows the true classes, columns the predicted ones [C2 3], each cell annotated with its count,
    or with ``normalize`` the fraction of its true class's examples (each row sums to 1; its
    diagonal cell is that class's recall; a class with no examples shows "n/a").
    ``class_names`` names the classes in order, its length the number of classes ``C`` (at least
    the largest index in either array, plus 1); without it the classes are their indices ``0``,
    ``1``, ... up to the largest (at least 2). ``title`` heads the figure. Returns the path written."""
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False; got {normalize!r}")
    true, predicted, top = _checked_labels(Y_true, Y_pred)
    needed = max(2, top + 1)
    if class_names is None:
        names = [str(k) for k in range(needed)]
    elif isinstance(class_names, str) or len(class_names) < needed:
        raise ValueError(
            f"class_names must name at least {needed} classes (Y_true and Y_pred hold class indices up to {top}); "
            f"got {class_names!r}"
        )
    else:
        names = [str(name) for name in class_names]
    C = len(names)
    counts = _counts(true, predicted, C)
    totals = counts.sum(axis=1, keepdims=True)
    shown = np.divide(counts, totals, out=np.zeros((C, C)), where=totals > 0) if normalize else counts

    figure, (axes,) = _figure()
    image = axes.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(1, int(counts.max(initial=0))))
    colorbar = figure.colorbar(image, ax=axes)
    colorbar.set_label("fraction of the true class" if normalize else "examples")
    size = "medium" if C <= 5 else "small" if C <= 10 else "x-small"
    dark = 0.5 * (1 if normalize else max(1, int(counts.max(initial=0))))
    for i in range(C):
        for j in range(C):
            if normalize:
                text = f"{shown[i, j]:.2f}" if totals[i, 0] else "n/a"
            else:
                text = str(counts[i, j])
            axes.text(j, i, text, ha="center", va="center", fontsize=size, color="white" if shown[i, j] > dark else "black")
    crowded = C * max(len(name) for name in names) > 40  # names that would overlap side by side are slanted
    axes.set_xticks(range(C), names, rotation=45 if crowded else 0, ha="right" if crowded else "center", rotation_mode="anchor")
    axes.set_yticks(range(C), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    m = true.shape[0]
    default = f"confusion matrix{', rows normalized' if normalize else ''} ({m} examples)"
    axes.set_title(title or default, wrap=True)
    return _save(figure, path)
