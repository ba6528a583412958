"""``fit``'s loops, read top to bottom: batch gradient descent by iterations [C1 2.5, 3.5], and
mini-batch training by epochs with an optimizer and a decaying learning rate [C2 1.1-1.5].

Both run a step (``arraynet.steps``) and act only at the recorded iterations or epochs: the cost is
read there (a device sync), checked for divergence with the parameters, handed to the progress bar
and the callback, and the model takes the step's parameters there. Nothing runs per batch but the
step itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .._validation import non_finite
from ..kernel.optimizers import GradientDescent, Optimizer, decayed
from ..steps import EpochStep, EvaluatingEpochStep, Step, Validation
from ..steps.plan import EpochPlan, ShuffleLike, dropout_keys_of
from .early_stopping import EarlyStopping
from .history import History
from .progress import progress_bar

__all__ = ["Callback", "DivergenceError", "Schedule", "Watch", "counts_epochs", "recorded", "run_epochs", "run_iterations"]

# called at each recorded iteration (or epoch) as callback(iteration, cost, model); a true value stops
# training (the model: the arraynet.models.Model being trained)
Callback = Callable[[int, float, Any], "bool | None"]


class DivergenceError(FloatingPointError):
    """The cost became NaN or Inf during training; the model kept its last finite parameters.

    ``iteration`` is where the divergence was found (an epoch, in mini-batch training). ``history``
    is the run up to there: the finite costs recorded (the model holds the parameters of
    ``history.iterations[-1]``, or its starting ones when nothing was recorded), ``iterations_run``
    the updates made before it was found (epochs, in mini-batch training) and ``seconds`` the time
    they took.
    """

    def __init__(self, message: str, iteration: int, history: History) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.history = history

    def __reduce__(self) -> tuple[type[DivergenceError], tuple[str, int, History]]:
        # pickled whole (joblib and multiprocessing send exceptions between processes)
        return type(self), (str(self), self.iteration, self.history)


def counts_epochs(optimizer: Optimizer, batch_size: int | None, decay: Any, dropout: bool = False) -> bool:
    """Whether ``fit`` with these settings trains by epochs (``run_epochs``, ``History.unit ==
    "epoch"``): with mini-batches, an optimizer other than gradient descent, a decay, or dropout
    [C2 2.2] (an epoch step draws each update's masks); batch gradient descent counts iterations
    (``run_iterations``)."""
    return batch_size is not None or not isinstance(optimizer, GradientDescent) or decay is not None or dropout


def recorded(count: int, record_every: int) -> Iterator[int]:
    """The iterations (or epochs) whose cost ``fit`` records: 0, ``record_every``, ... and the last
    one (made as they come: a run of 10^8 iterations recording each one holds no list of them)."""
    yield from range(0, count, record_every)
    if count and (count - 1) % record_every:
        yield count - 1


@dataclass
class Watch:
    """What ``fit`` does at each recorded iteration or epoch once the model holds its parameters:
    record the cost, and the validation cost and accuracy when there is ``validation`` data (the
    ``(J, hits)`` that ``evaluated`` gave before the model took the parameters); move the progress
    bar; ask the early stopping and the callback whether to stop. ``running(total, unit)`` holds the
    progress bar for a run."""

    history: History
    callback: Callback | None = None
    progress: bool | None = None
    validation: Validation | None = None
    # (parameters) -> the validation data's (J, hits) with them: Kernel.evaluate's, or on Dask a compute's
    evaluate: Callable[[Mapping[str, Any]], tuple[Any, Any]] | None = None
    early_stopping: EarlyStopping | None = None
    _bar: Any = None
    _errstate: dict[str, Any] = field(default_factory=lambda: dict(np.geterr()))  # the user's settings, for the callback

    @contextmanager
    def running(self, total: int, unit: str) -> Iterator[None]:
        self._bar = progress_bar(total, self.progress, unit)
        if self.early_stopping is not None:
            self.early_stopping.start()
        try:
            yield
        finally:
            if self._bar is not None:
                self._bar.close()

    def evaluated(self, parameters: Mapping[str, Any], evaluated: tuple[Any, Any] | None = None) -> tuple[float, int] | None:
        """The validation data's ``(J, hits)`` with ``parameters``, read on the host: ``evaluated``
        where the step computed them in its own work, else ``evaluate``'s; None without validation
        data. Called before the model takes ``parameters``: bad validation data found here (Dask's,
        checked where it is first read) leaves the model as it was."""
        if self.validation is None:
            return None
        assert self.evaluate is not None  # given with the validation data
        J, hits = self.evaluate(parameters) if evaluated is None else evaluated
        return float(J), int(hits)

    def __call__(self, i: int, cost: float, model: Any, evaluated: tuple[float, int] | None = None) -> bool:
        """Record iteration (or epoch) ``i`` with its ``cost`` and the validation data's
        ``evaluated`` ``(J, hits)``; whether training stops here."""
        history = self.history
        history.record(i, cost)
        if self.validation is not None:
            assert evaluated is not None  # Watch.evaluated's, with validation data
            history.val_costs.append(evaluated[0])
            history.val_accuracies.append(evaluated[1] / self.validation.Y.shape[1])
        if self._bar is not None:
            self._bar.update(i, cost)
        stop = False
        if self.callback is not None:  # first: the model holds this point's parameters
            with np.errstate(**self._errstate):
                stop = bool(self.callback(i, cost, model))
        # then the early stopping, which may give the model its best point's parameters back
        stop = (self.early_stopping is not None and self.early_stopping.update(history, model)) or stop
        history.stopped_early = history.stopped_early or stop
        return stop


def _problem(cost: float, parameters: Mapping[str, Any], xp: ModuleType) -> str | None:
    """What diverged at a recorded point: the cost, or a parameter (a ReLU unit whose weights
    overflowed to -inf is dead with its cost finite); None when nothing did."""
    if not math.isfinite(cost):
        return f"the cost became {cost}"
    if (key := non_finite(parameters, xp)) is not None:
        return f"the parameter {key} became NaN or Inf (with the cost finite, {cost})"
    return None


def run_iterations(
    model: Any,
    step: Step,
    watch: Watch,
    num_iterations: int,
    record_every: int,
    learning_rate: float,
    adopt: Callable[[dict[str, Any], int], None],
    starting: dict[str, Any] | None,
    xp: ModuleType,
) -> History:
    """Batch gradient descent [C1 3.5]: ``num_iterations`` iterations of ``step``, the cost recorded
    at iteration 0, ``record_every``, ... and the last (before that iteration's update, with the
    model holding the parameters that gave it), where ``watch`` acts. ``adopt(parameters, i)`` makes
    the parameters after ``i`` updates the model's; ``starting``, a new model's first parameters,
    are its own where training diverges at iteration 0 (None: the model keeps what it had)."""
    history = watch.history
    last = num_iterations - 1
    start = time.perf_counter()
    # overflow on the way to NaN is what DivergenceError reports: NumPy's warnings would come first, or replace it
    with watch.running(num_iterations, "it"), np.errstate(over="ignore", invalid="ignore"):
        done = 0  # the updates made: the step holds the parameters of iteration `done`
        for i in recorded(num_iterations, record_every):
            step.advance(i - done)  # the iterations in between, in one call where the step can
            cost = float(step.cost())
            snapshot = step.snapshot()
            if (problem := _problem(cost, snapshot, xp)) is not None:
                if not history.iterations and starting is not None:
                    adopt(starting, 0)
                kept = history.iterations[-1] if history.iterations else 0
                history.iterations_run, history.seconds = i, time.perf_counter() - start
                raise DivergenceError(
                    _divergence_message(problem, i, kept, record_every, learning_rate), iteration=i, history=history
                )
            evaluated = watch.evaluated(snapshot)
            adopt(snapshot, i)
            if watch(i, cost, model, evaluated):
                history.iterations_run = i
                break
            step.update()
            done = i + 1
        else:
            parameters = step.parameters
            if num_iterations and (key := non_finite(parameters, xp)) is not None:
                history.iterations_run, history.seconds = num_iterations, time.perf_counter() - start
                raise DivergenceError(
                    f"the parameters became NaN or Inf in the update of iteration {last} ({key}); "
                    f"the model keeps its parameters from iteration {last}. Try a smaller "
                    f"learning_rate than {learning_rate}",
                    iteration=last,
                    history=history,
                )
            adopt(parameters, num_iterations)
            history.iterations_run = num_iterations
    history.seconds = time.perf_counter() - start  # after the last sync: the work is done
    history.updates = history.iterations_run
    return history


def _divergence_message(problem: str, i: int, kept: int, record_every: int, learning_rate: float) -> str:
    """What ``fit`` says when, at the recorded iteration ``i``, ``problem`` ("the cost became nan",
    "W1 became NaN or Inf") was found."""
    if i == 0:
        return (
            f"{problem.replace('became', 'is')} at iteration 0, before any update: the starting parameters give no "
            "finite cost on this data (look for NaN, Inf or huge values in X and in the parameters); "
            "the model keeps them"
        )
    return (
        f"{problem} at iteration {i} (it is checked at the recorded iterations, every record_every = "
        f"{record_every}; the last finite cost was at iteration {kept}); the model keeps "
        f"its parameters from iteration {kept}. Try a smaller learning_rate than {learning_rate}"
    )


@dataclass(frozen=True)
class Schedule:
    """What mini-batch training needs besides the step: the optimizer, whose ``scalars`` give each
    update's numbers; the learning rate ``alpha0`` and its ``decay`` [C2 1.5]; how each epoch orders
    the ``m`` examples (``shuffle``, the model's ``seed``) [C2 1.1]; and where the model's counts
    stand: ``first_epoch`` epochs and ``first_update`` updates made by its earlier fits (the next
    update is ``t = first_update + 1``). ``batches`` is the number of updates an epoch makes (the
    step's: ``EpochStep.batches``). ``dropout_layers``: the hidden layers whose dropout masks
    [C2 2.2] each update keys (0: no dropout), from ``seed`` (None: a key drawn for this fit)."""

    optimizer: Optimizer
    learning_rate: float
    decay: Callable[[float, int], float] | None
    shuffle: ShuffleLike
    seed: int | None
    m: int
    batches: int
    first_epoch: int
    first_update: int
    dropout_layers: int = 0
    _dropout_seed: int = field(default_factory=lambda: int(np.random.default_rng().integers(2**63)))

    def epoch(self, e: int) -> EpochPlan:
        """Epoch ``e`` of this fit (0-based): its number among the model's epochs, its order (one
        batch of all ``m`` examples is never shuffled), its updates' scalars, one row per batch, and
        their dropout keys (``dropout_keys_of``) where there is dropout."""
        epoch = self.first_epoch + e
        alpha = decayed(self.decay, self.learning_rate, epoch)
        t = self.first_update + e * self.batches
        scalars = np.array([self.optimizer.scalars(alpha, t + k) for k in range(1, self.batches + 1)], dtype=np.float64)
        keys = None
        if self.dropout_layers:
            seed = self._dropout_seed if self.seed is None else self.seed
            keys = dropout_keys_of(seed, epoch, self.batches, self.dropout_layers)
        return EpochPlan(epoch, self.shuffle if self.batches > 1 else False, self.seed, self.m, scalars, keys)

    def updates(self, epochs: int) -> int:
        """The model's update count after ``epochs`` epochs of this fit."""
        return self.first_update + epochs * self.batches


def run_epochs(
    model: Any,
    step: EpochStep,
    watch: Watch,
    schedule: Schedule,
    epochs: int,
    record_every: int,
    adopt: Callable[[dict[str, Any], dict[str, Any], int, int], None],
    starting: tuple[dict[str, Any], dict[str, Any]] | None,
    xp: ModuleType,
) -> History:
    """Mini-batch training [C2 1.1]: ``epochs`` epochs of ``step``, the epoch's cost (its batches'
    costs, each before its update, weighted by their sizes) recorded at epoch 0, ``record_every``,
    ... and the last, after that epoch, the model then holding the parameters it ended with.
    ``adopt(parameters, state, epochs, updates)`` makes them, the optimizer state and the counts the
    model's (``starting``, a new model's first parameters and state, where it diverges before its
    first recorded epoch or runs none; None: the model keeps what it had); ``watch`` acts at the
    recorded epochs; what happens between two of them is never read on the host. A step that
    evaluates the validation data in its own work (``EvaluatingEpochStep``) does so at the recorded
    epochs; with another, ``watch.evaluated`` evaluates the epoch's parameters after it, before
    the model takes them."""
    history = watch.history
    validation = watch.validation
    evaluator = step if validation is not None and isinstance(step, EvaluatingEpochStep) else None
    start = time.perf_counter()
    kept: int | None = None  # the last recorded epoch: the model holds what it ended with
    with watch.running(epochs, "epoch"), np.errstate(over="ignore", invalid="ignore"):
        done = 0
        for e in recorded(epochs, record_every):
            in_step = None  # the validation data's (J, hits), where the step evaluates them
            while done <= e:
                plan = schedule.epoch(done)
                if evaluator is not None and validation is not None and done == e:
                    cost, val_cost, val_hits = evaluator.epoch_evaluated(plan, validation)
                    in_step = (val_cost, val_hits)
                else:
                    cost = step.epoch(plan)
                done += 1
            cost = float(cost)
            parameters, state = step.snapshot()
            if (problem := _problem(cost, parameters, xp)) is not None:
                # the epochs run, e + 1 with the one that diverged, and their updates
                history.iterations_run, history.seconds = e + 1, time.perf_counter() - start
                history.updates = schedule.updates(e + 1) - schedule.first_update
                if kept is None and starting is not None:
                    adopt(*starting, schedule.first_epoch, schedule.first_update)
                where = "its starting parameters" if kept is None else f"its parameters from the end of epoch {kept}"
                raise DivergenceError(
                    f"{problem} in epoch {e} (checked at the recorded epochs, every record_every = {record_every}); "
                    f"the model keeps {where}. Try a smaller learning_rate than {schedule.learning_rate}",
                    iteration=e,
                    history=history,
                )
            evaluated = watch.evaluated(parameters, in_step)
            adopt(parameters, state, schedule.first_epoch + e + 1, schedule.updates(e + 1))
            kept = e
            history.iterations_run, history.updates = e + 1, schedule.updates(e + 1) - schedule.first_update
            if watch(e, cost, model, evaluated):
                break
    if epochs == 0:  # a fit of no epochs: a new model holds its starting parameters, once the data pass
        step.snapshot()  # the checks that a step over data it has not read makes there (Dask's)
        if starting is not None:
            adopt(*starting, schedule.first_epoch, schedule.first_update)
    history.seconds = time.perf_counter() - start
    return history
