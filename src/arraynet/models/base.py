"""What every model shares: batch gradient descent [seed 2.5, 3.5], prediction, scoring and its
parameters. A model defines its parameters and its forward and backward steps; this class does
the rest, with the namespace and device resolved once per public call."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .._validation import (
    check_count,
    check_finite,
    check_learning_rate,
    check_parameters,
    check_X,
    check_Y,
    non_finite,
)
from ..backends import asarray, backend_name, is_dask_array, namespace_of
from ..kernel.cost import cost_from_logits
from ..steps import Kernel, choose_step, distributed, fast_paths_enabled
from .history import History
from .progress import progress_bar

__all__ = ["Callback", "DivergenceError", "Model", "NotFittedError"]

# called at each recorded iteration as callback(iteration, cost, model); a true value stops training
Callback = Callable[[int, float, "Model"], "bool | None"]


class NotFittedError(ValueError, AttributeError):
    """The model has no parameters yet: call ``fit`` or ``set_parameters`` first."""


class DivergenceError(FloatingPointError):
    """The cost became NaN or Inf during training; the model kept its last finite parameters.

    ``iteration`` is where the divergence was found. ``history`` is the run up to there: the
    finite costs recorded (the model holds the parameters of ``history.iterations[-1]``, or its
    starting ones when nothing was recorded), ``iterations_run`` the updates made before it was
    found and ``seconds`` the time they took.
    """

    def __init__(self, message: str, iteration: int, history: History) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.history = history

    def __reduce__(self) -> tuple[type[DivergenceError], tuple[str, int, History]]:
        # pickled whole (joblib and multiprocessing send exceptions between processes)
        return type(self), (str(self), self.iteration, self.history)


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


def _recorded_iterations(num_iterations: int, record_every: int) -> Iterator[int]:
    """The iterations whose cost ``fit`` records: 0, ``record_every``, ... and the last one (made
    as they come: a run of 10^8 iterations recording each one holds no list of them)."""
    yield from range(0, num_iterations, record_every)
    if num_iterations and (num_iterations - 1) % record_every:
        yield num_iterations - 1


def _call_with_errstate(errstate: Mapping[str, Any], callback: Callback, *arguments: Any) -> Any:
    """``callback(*arguments)`` under NumPy's floating-point ``errstate``: the user's own
    settings, not those of the training loop around it."""
    with np.errstate(**errstate):
        return callback(*arguments)


class Model:
    """Base class of the models. Subclasses define ``_shapes``, ``_initial_parameters``,
    ``_forward`` and ``_backward``, and the defaults of ``fit``."""

    default_learning_rate: float
    default_num_iterations: int

    def __init__(self, standardize: bool = False) -> None:
        if not isinstance(standardize, bool):
            raise TypeError(f"standardize must be True or False; got {standardize!r}")
        self.standardize = standardize
        self._parameters: dict[str, Any] | None = None
        self._scaling: tuple[Any, Any] | None = None  # (mean, std) of each feature, shape (n_x, 1)

    # -- what a model defines ------------------------------------------------------------------
    def _shapes(self, n_x: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _initial_parameters(self, n_x: int, xp: ModuleType, dtype: Any, device: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _forward(self, parameters: Mapping[str, Any], X: Any, xp: ModuleType) -> tuple[Any, Any, Any]:
        """``(AL, ZL, caches)``: the predictions, the output logits, what backward needs."""
        raise NotImplementedError

    def _backward(self, AL: Any, Y: Any, caches: Any, xp: ModuleType) -> dict[str, Any]:
        raise NotImplementedError

    def _kernel(self) -> Kernel:
        """The model's math as the steps run it (``arraynet.steps``): its bound ``_forward`` and
        ``_backward``, with no key (a compiled step needs a model whose math is pure functions of
        its key: the built-in models say so in their own ``_kernel``)."""
        return Kernel(self._forward, self._backward)

    def _n_x(self) -> int | None:
        """The number of features the model expects, or None while that is unknown."""
        raise NotImplementedError

    def _n_x_of(self, parameters: Mapping[str, Any]) -> int:
        """The number of features that a mapping given to ``set_parameters`` should be for."""
        raise NotImplementedError

    # -- data ----------------------------------------------------------------------------------
    def _check_X(self, X: Any) -> tuple[Any, ModuleType, Any]:
        """X checked against the model: its n_x, and the parameters' library, device and dtype."""
        like = None if self._parameters is None else next(iter(self._parameters.values()))
        return check_X(X, self._n_x(), like)

    def _learn_scaling(self, X: Any, xp: ModuleType) -> tuple[Any, Any]:
        """Each feature's ``(mean, std)`` over the examples of ``X`` (a constant feature's std
        taken as 1), for ``_standardized``, as arrays of ``xp``. For a Dask ``X`` (``xp`` its
        chunks' library): two computes, each streaming over the chunks (the largest ``|x|``, then
        the moments), so data past memory is never held whole."""
        data = namespace_of(X)
        # over each feature divided by its largest |x|, so that squares of huge values cannot overflow
        largest = data.max(data.abs(X), axis=1, keepdims=True)
        largest = data.where(largest > 0, largest, data.ones_like(largest))
        if is_dask_array(X):
            import dask

            (largest,) = dask.compute(largest)  # known before the moments: no chunk waits for the others
        scaled = X / largest
        mean = data.mean(scaled, axis=1, keepdims=True) * largest
        std = data.std(scaled, axis=1, keepdims=True) * largest
        std = data.where(std > 0, std, data.ones_like(std))
        if is_dask_array(X):
            mean, std = dask.compute(mean, std)
        if not (bool(xp.all(xp.isfinite(std))) and bool(xp.all(xp.isfinite(1.0 / std)))):
            raise ValueError(
                f"standardize: a feature's standard deviation is not representable in {X.dtype} "
                "(too large or too small); train in float64 or rescale that feature"
            )
        return mean, std

    def _standardized(self, X: Any, scaling: tuple[Any, Any] | None = None) -> Any:
        """``(x - mean) / std`` feature by feature with ``scaling`` (by default the model's: the
        first fit's mean and standard deviation) when there is one; ``X`` itself otherwise."""
        scaling = self._scaling if scaling is None else scaling
        if scaling is None:
            return X
        mean, std = scaling
        return (X - mean) / std

    def _fitted_parameters(self) -> dict[str, Any]:
        if self._parameters is None:
            raise NotFittedError(
                f"this {type(self).__name__} has no parameters yet: call fit or set_parameters first"
            )
        return self._parameters

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        Y: Any,
        learning_rate: float | None = None,
        num_iterations: int | None = None,
        record_every: int = 100,
        *,
        callback: Callback | None = None,
        progress: bool | None = None,
        fast_paths: bool | None = None,
    ) -> History:
        """Batch gradient descent on ``X`` of shape ``(n_x, m)`` and labels ``Y`` of shape ``(1, m)``.

        ``learning_rate`` and ``num_iterations`` default (None) to the model's
        ``default_learning_rate`` and ``default_num_iterations``: 0.0075 and 2500 for a
        ``NeuralNetwork``, 0.005 and 2000 for ``LogisticRegression``.

        Starts from the current parameters (from ``set_parameters`` or an earlier ``fit``), else
        draws them with the model's ``init`` and ``seed`` in X's namespace, device and dtype. A
        model made with ``standardize=True`` learns each feature's mean and standard deviation on
        the data of its first ``fit`` and trains and predicts on ``(x - mean) / std`` from then on
        (saved with the model).
        Records the cost at iterations 0, ``record_every``, ... and the last one. A cost or a
        parameter that becomes NaN or Inf (both are checked at the recorded iterations, and the
        parameters after the last update) raises ``DivergenceError``; the model then keeps the
        parameters of the last iteration recorded with a finite cost, so whatever ends a fit, the
        model holds finite parameters. ``KeyboardInterrupt`` (Ctrl-C) goes through ``fit``, the
        model holding the parameters of the last recorded iteration.

        At each recorded iteration ``i``, ``callback(i, cost, model)`` is called, the model holding
        that iteration's parameters (those that gave ``cost``); if it returns a true value, training stops
        there, the model keeps those parameters and ``history.stopped_early`` is True. The callback
        may read and score the model; parameters it sets (``set_parameters``) do not redirect the
        running training, which goes on from its own.
        ``progress``: a progress bar with the iteration and the cost (see ``arraynet.models.progress``);
        None shows it when standard error is a terminal and the run lasts over a second, False
        never. Both act only at recorded iterations, so they cost the other iterations nothing.
        ``fast_paths``: False runs the generic kernel even where a fast path applies (see
        ``arraynet.steps``; same numbers, the environment variable ``ARRAYNET_FAST_PATHS=0``
        does the same for every fit); None follows that variable.
        """
        learning_rate = check_learning_rate(
            self.default_learning_rate if learning_rate is None else learning_rate
        )
        num_iterations = check_count(
            self.default_num_iterations if num_iterations is None else num_iterations,
            "num_iterations",
            0,
        )
        record_every = check_count(record_every, "record_every", 1)
        use_fast_paths = fast_paths_enabled(fast_paths)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable as callback(iteration, cost, model); got {callback!r}")
        X, xp, device = self._check_X(X)
        Y = check_Y(Y, X, xp, device)
        scaling = self._scaling
        if self.standardize and scaling is None:
            scaling = self._learn_scaling(X, xp)
        X = self._standardized(X, scaling)
        # new parameters (and a new scaling) become the model's at the first recorded iteration:
        # data that fails a check made there (a Dask array's values) leaves the model as it was
        starting = self._parameters
        if starting is None:
            starting = self._initial_parameters(X.shape[0], xp, X.dtype, device)

        def adopt(parameters: dict[str, Any]) -> None:
            self._parameters, self._scaling = parameters, scaling

        step = choose_step(self._kernel(), starting, X, Y, learning_rate, xp, use_fast_paths)
        history = History(backend=backend_name(xp), device=str(device), step=step.name)
        bar = progress_bar(num_iterations, progress)
        last = num_iterations - 1
        start = time.perf_counter()
        outer = np.geterr()  # the user's settings, for the callback
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # overflow on the way to NaN is
                # what DivergenceError reports: NumPy's warnings would come first, or replace it
                done = 0  # the updates made: the step holds the parameters of iteration `done`
                for i in _recorded_iterations(num_iterations, record_every):
                    step.advance(i - done)  # the iterations in between, in one call where the step can
                    cost = float(step.cost())
                    snapshot = step.snapshot()
                    problem = f"the cost became {cost}" if not math.isfinite(cost) else None
                    if problem is None and (key := non_finite(snapshot, xp)) is not None:
                        # e.g. a ReLU unit whose weights overflowed to -inf: dead, its cost finite
                        problem = f"the parameter {key} became NaN or Inf (with the cost finite, {cost})"
                    if problem is not None:
                        if not history.iterations:
                            adopt(starting)
                        kept = history.iterations[-1] if history.iterations else 0
                        history.iterations_run, history.seconds = i, time.perf_counter() - start
                        raise DivergenceError(
                            _divergence_message(problem, i, kept, record_every, learning_rate),
                            iteration=i,
                            history=history,
                        )
                    adopt(snapshot)
                    history.record(i, cost)
                    if bar is not None:
                        bar.update(i, cost)
                    if callback is not None and _call_with_errstate(outer, callback, i, cost, self):
                        history.stopped_early = True
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
                    adopt(parameters)
                    history.iterations_run = num_iterations
        finally:
            if bar is not None:
                bar.close()
        history.seconds = time.perf_counter() - start  # after the last sync: the work is done
        return history

    # -- using a trained model -----------------------------------------------------------------
    def _outputs(self, X: Any, Y: Any = None) -> tuple[Any, Any, Any, ModuleType]:
        """``(A^[L], Z^[L], Y, xp)`` of the fitted model on ``X``, both checked against it (``Y``
        None when not given).

        ``Z^[L]`` holding NaN is a ValueError, not probabilities outside [0, 1]: finite features so
        large that the network's arithmetic overflows (``inf - inf``) give no answer. One device
        sync. On a Dask ``X``, lazy Dask arrays and the Dask namespace, no sync: each chunk's task
        checks its data and its logits when it runs (``arraynet.steps.distributed.outputs``)."""
        parameters = self._fitted_parameters()
        X, xp, device = self._check_X(X)
        if Y is not None:
            Y = check_Y(Y, X, xp, device)
        X = self._standardized(X)
        if is_dask_array(X):  # lazy outputs, each chunk checked where its task runs
            AL, ZL = distributed.outputs(self._kernel().forward, parameters, X)
            return AL, ZL, (None if Y is None else distributed.checked_labels(Y, X.dtype)), namespace_of(ZL)
        with np.errstate(over="ignore", invalid="ignore"):  # what overflows is said below, once
            AL, ZL, _ = self._forward(parameters, X, xp)
        if bool(xp.any(xp.isnan(ZL))):
            count = int(xp.count_nonzero(xp.isnan(ZL)))
            largest = float(xp.max(xp.abs(X)))
            raise ValueError(
                f"the model's output is NaN for {count} of the {X.shape[1]} examples of X: their features "
                f"(|X| up to {largest:.3g}) overflow {X.dtype} arithmetic in the network; scale the "
                "features (e.g. standardize them) before training and predicting"
            )
        return AL, ZL, Y, xp

    def predict_proba(self, X: Any) -> Any:
        """``A^[L]``: the probability that each example's label is 1, shape ``(1, m)``, in [0, 1]."""
        return self._outputs(X)[0]

    def decision_function(self, X: Any) -> Any:
        """``Z^[L] = W^[L] A^[L-1] + b^[L]`` [seed 3.1] (``w^T X + b`` for logistic regression
        [seed 2.2]): each example's logit, shape ``(1, m)``, in X's namespace and device.
        ``A^[L] = sigma(Z^[L])``, so ``Z^[L] = log(A^[L] / (1 - A^[L]))``: positive where label 1
        is the likelier, and still finite and ordered where ``A^[L]`` has rounded to 0 or 1."""
        return self._outputs(X)[1]

    def predict(self, X: Any) -> Any:
        """Labels 0 or 1, shape ``(1, m)``, in the parameters' dtype: 1 where ``A^[L] > 0.5``, read
        as ``Z^[L] > 0`` (the same in exact arithmetic, and ``sigma`` rounds to 0.5 for ``|z|``
        up to about 1e-7 in float32, 1e-16 in float64), so the labels agree with
        ``decision_function``'s signs."""
        ZL = self.decision_function(X)
        return namespace_of(ZL).astype(ZL > 0, ZL.dtype)

    def cost(self, X: Any, Y: Any) -> float:
        """The cross-entropy cost ``J`` [seed 2.3] on ``(X, Y)``, computed stably from the logits."""
        _, ZL, Y, xp = self._outputs(X, Y)
        return float(cost_from_logits(ZL, Y, xp))

    def accuracy(self, X: Any, Y: Any) -> float:
        """The fraction of examples whose predicted label (``predict``'s) equals ``Y``, as a float in
        [0, 1]."""
        _, ZL, Y, xp = self._outputs(X, Y)
        return int(xp.count_nonzero((ZL > 0) == (Y == 1))) / ZL.shape[1]

    # -- parameters ----------------------------------------------------------------------------
    def get_parameters(self) -> dict[str, Any]:
        """The parameters by the seed's names (``W1, b1, ...`` or ``w, b``), in their namespace."""
        return dict(self._fitted_parameters())

    def set_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Replace the parameters with arrays of any Array API library, checked key by key and
        shape by shape. Training and prediction then run in that library and on that device. A
        standardization learned before is dropped: these parameters take the raw input (a model
        made with ``standardize=True`` learns one again at its next ``fit``)."""
        checked, xp, _ = check_parameters(parameters, self._shapes(self._n_x_of(parameters)))
        for key, value in checked.items():
            if is_dask_array(value):
                raise TypeError(
                    f"parameters[{key!r}] is a Dask array; a model's parameters live in memory (on the client, "
                    f"for training on Dask data): pass parameters[{key!r}].compute()"
                )
        check_finite(checked, xp)
        self._parameters = checked
        self._scaling = None  # parameters from elsewhere take raw input; a standardizing model learns it anew

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to one ``.npz`` file at ``path``, atomically; ``arraynet.load(path)``
        reads it back on any backend. See ``arraynet.io.serialization``."""
        from ..io.serialization import save

        return save(self, path)

    def to(self, backend: str, device: Any = None) -> Model:
        """Move the parameters (and the input's standardization) to ``backend`` (see
        ``arraynet.asarray``) and ``device``; returns self."""
        self._parameters = {
            key: asarray(value, backend, device) for key, value in self._fitted_parameters().items()
        }
        if self._scaling is not None:
            mean, std = self._scaling
            self._scaling = (asarray(mean, backend, device), asarray(std, backend, device))
        return self

