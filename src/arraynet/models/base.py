"""What every model shares: training [C1 2.5, 3.5; C2 1.1-1.5] (its loops: ``arraynet.models.training``),
prediction, scoring, its parameters and its optimizer's state. A model defines its parameters and
its forward and backward steps; this class does the rest, with the namespace and device resolved
once per public call."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .._validation import (
    check_batch_size,
    check_count,
    check_finite,
    check_learning_rate,
    check_parameters,
    check_X,
    check_Y,
)
from ..backends import asarray, backend_name, is_dask_array, namespace_of
from ..kernel.optimizers import DecayLike, Optimizer, OptimizerLike, check_decay, get_optimizer
from ..kernel.regularization import check_l2
from ..steps import Kernel, Validation, choose_epoch_step, choose_step, distributed, fast_paths_enabled
from ..steps.plan import ShuffleLike
from .early_stopping import EarlyStopping
from .history import History
from .training import Callback, DivergenceError, Schedule, Watch, counts_epochs, run_epochs, run_iterations

__all__ = ["Callback", "DivergenceError", "Model", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """The model has no parameters yet: call ``fit`` or ``set_parameters`` first."""


class Model:
    """Base class of the models. Subclasses define ``_shapes``, ``_initial_parameters``,
    ``_forward`` and ``_backward``, and the defaults of ``fit``."""

    default_learning_rate: float
    default_num_iterations: int
    default_epochs: int = 10

    def __init__(self, standardize: bool = False) -> None:
        if not isinstance(standardize, bool):
            raise TypeError(f"standardize must be True or False; got {standardize!r}")
        self.standardize = standardize
        self._parameters: dict[str, Any] | None = None
        self._scaling: tuple[Any, Any] | None = None  # (mean, std) of each feature, shape (n_x, 1)
        # the last fit's optimizer and its state [C2 1.2-1.4], and the epochs and updates (t) made
        self._optimizer: Optimizer | None = None
        self._optimizer_state: dict[str, Any] | None = None
        self._epochs = 0
        self._updates = 0

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
        record_every: int | None = None,
        *,
        optimizer: OptimizerLike = "gd",
        batch_size: int | None = None,
        epochs: int | None = None,
        shuffle: ShuffleLike = True,
        decay: DecayLike = None,
        l2: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float | None = None,
        early_stopping: EarlyStopping | None = None,
        callback: Callback | None = None,
        progress: bool | None = None,
        fast_paths: bool | None = None,
    ) -> History:
        """Train on ``X`` of shape ``(n_x, m)`` (one example per column) and labels ``Y`` of shape
        ``(1, m)``: batch gradient descent [C1 2.5, 3.5] by default, mini-batches [C2 1.1] with
        ``batch_size``, and the course's optimizers [C2 1.2-1.4] and learning-rate decay [C2 1.5].

        ``learning_rate`` defaults (None) to the model's ``default_learning_rate`` (0.0075 for a
        ``NeuralNetwork``, 0.005 for ``LogisticRegression``).

        **Batch gradient descent** (``batch_size=None``, ``optimizer="gd"``, no ``decay``): one
        update per iteration on all ``m`` examples, ``num_iterations`` of them (default
        ``default_num_iterations``: 2500, 2000). The cost is recorded at iterations 0,
        ``record_every`` (default 100), ... and the last, each before that iteration's update.

        **Mini-batches and optimizers**: ``batch_size`` cuts each epoch into ``floor(m / b)`` batches
        of ``b`` examples and the rest, one update each; ``epochs`` (default ``default_epochs``: 10)
        counts the passes over the data. ``shuffle``: True draws each epoch's order from
        ``numpy.random.default_rng([seed, epoch])`` with the model's ``seed`` (the same batches on
        every backend), False keeps the examples in order, a callable ``shuffle(epoch)`` returns
        the permutation of ``range(m)`` to use (to reproduce another program's batches). ``optimizer``:
        "gd", "momentum", "rmsprop", "adam" (the course's defaults) or an ``arraynet.Momentum(beta=...)``,
        ``RMSprop``, ``Adam``; with ``batch_size=None`` it runs on one batch of all ``m`` examples,
        ``epochs`` (or ``num_iterations``) times. ``decay``: a decay rate (``alpha0 / (1 + decay_rate
        * epoch)``), an ``arraynet.Decay(decay_rate, time_interval)`` or a callable
        ``decay(learning_rate, epoch) -> learning rate``. The epoch's cost (its batches' costs, each
        before its update, weighted by their sizes) is recorded at epochs 0, ``record_every``
        (default 1), ... and the last, after that epoch. Epochs and updates count across fits: a
        fit continues from the model's parameters and its optimizer's state (``t`` included) when
        its optimizer equals the last fit's (same kind and settings), and starts a new state
        otherwise; shuffles and decay follow the model's epoch count.

        **L2 regularization** [C2 2.1]: ``l2=lambd`` (default 0.0: none) adds
        ``lambd / (2 m) * sum_l ||W^[l]||_F^2`` to the cost and ``(lambd / m) * W^[l]`` to each
        ``dW^[l]``, at every update, ``m`` being the examples of the update's batch (all of them in
        batch gradient descent, the mini-batch's otherwise); the biases ``b`` are not regularized
        (for ``LogisticRegression`` the weight is ``w``). The recorded costs include the term; the
        validation cost and ``cost()`` are the cross-entropy alone. ``l2`` must be a finite number
        >= 0.

        Starts from the current parameters (from ``set_parameters`` or an earlier ``fit``), else
        draws them with the model's ``init`` and ``seed`` in X's namespace, device and dtype. A
        model made with ``standardize=True`` learns each feature's mean and standard deviation on
        the data of its first ``fit`` and trains and predicts on ``(x - mean) / std`` from then on
        (saved with the model).

        A cost or a parameter that becomes NaN or Inf (both are checked at the recorded iterations
        or epochs, and the parameters after the last update) raises ``DivergenceError``; the model
        then keeps the parameters of the last recorded point with a finite cost, so whatever ends
        a fit, the model holds finite parameters. ``KeyboardInterrupt`` (Ctrl-C) goes through
        ``fit``, the model holding the parameters of the last recorded point.

        **Validation**: ``validation_data=(X_val, Y_val)``, or ``validation_split=f`` (the last fraction
        ``f`` of the examples, taken before any shuffling, as Keras does), gives ``history.val_costs``
        and ``history.val_accuracies`` at each recorded point, of the model's parameters there.
        ``early_stopping=arraynet.EarlyStopping(monitor="val_cost", patience=...)`` stops when the
        monitored value stops improving and restores the best recorded point's parameters.

        At each recorded iteration or epoch ``i``, ``callback(i, cost, model)`` is called, the model
        holding that point's parameters; if it returns a true value, training stops there, the
        model keeps those parameters and ``history.stopped_early`` is True. The callback may read
        and score the model; parameters it sets (``set_parameters``) do not redirect the running
        training, which goes on from its own.
        ``progress``: a progress bar with the iteration (or epoch) and the cost (see
        ``arraynet.models.progress``); None shows it when standard error is a terminal and the run
        lasts over a second, False never. Both act only at recorded points, so they cost the others
        nothing.
        ``fast_paths``: False runs the generic kernel even where a fast path applies (see
        ``arraynet.steps``; same numbers, the environment variable ``ARRAYNET_FAST_PATHS=0``
        does the same for every fit); None follows that variable.
        """
        learning_rate = check_learning_rate(
            self.default_learning_rate if learning_rate is None else learning_rate
        )
        optimizer = get_optimizer(optimizer)
        decay = check_decay(decay)
        l2 = check_l2(l2)
        if shuffle is not True and shuffle is not False and not callable(shuffle):
            raise TypeError(f"shuffle must be True, False or a callable shuffle(epoch) -> permutation of range(m); got {shuffle!r}")
        mini_batches = batch_size is not None
        if mini_batches and num_iterations is not None:
            raise ValueError(
                f"num_iterations counts updates on all m examples; with batch_size={batch_size!r} give epochs "
                "(passes over the data) instead"
            )
        if num_iterations is not None and epochs is not None:
            raise ValueError("give num_iterations or epochs, not both: with batch_size=None each epoch is one iteration")
        default = self.default_epochs if mini_batches else self.default_num_iterations
        count_name = "epochs" if mini_batches or epochs is not None else "num_iterations"
        given = epochs if epochs is not None else num_iterations
        count = check_count(default if given is None else given, count_name, 0)
        record_every = check_count((1 if mini_batches else 100) if record_every is None else record_every, "record_every", 1)
        use_fast_paths = fast_paths_enabled(fast_paths)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable as callback(iteration, cost, model); got {callback!r}")
        if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
            raise TypeError(f"early_stopping must be an arraynet.EarlyStopping or None; got {early_stopping!r}")
        X, xp, device = self._check_X(X)
        Y = self._check_labels(Y, X, xp, device)
        X, Y, validation = self._validation(X, Y, xp, device, validation_data, validation_split)
        if early_stopping is not None and early_stopping.needs_validation and validation is None:
            raise ValueError(
                f"early_stopping monitors {early_stopping.monitor!r}, which needs validation data: give validation_data="
                "(X_val, Y_val) or validation_split, or monitor 'cost'"
            )
        m = X.shape[1]
        batch = check_batch_size(batch_size, m)
        scaling = self._scaling
        if self.standardize and scaling is None:
            scaling = self._learn_scaling(X, xp)
        X = self._standardized(X, scaling)
        # new parameters (and a new scaling) become the model's at the first recorded iteration:
        # data that fails a check made there (a Dask array's values) leaves the model as it was
        starting = self._parameters
        if starting is None:
            starting = self._initial_parameters(X.shape[0], xp, X.dtype, device)
        kernel = replace(self._kernel(), l2=l2)
        held_out = None if validation is None else Validation(self._standardized(validation[0], scaling), validation[1])

        def evaluate(parameters: Mapping[str, Any]) -> tuple[Any, Any]:
            """The validation data's ``(J, hits)`` with ``parameters``."""
            assert held_out is not None
            if is_dask_array(held_out.X):
                return distributed.evaluate(kernel, parameters, held_out)
            return kernel.evaluate(parameters, held_out.X, held_out.Y, namespace_of(held_out.X))

        # a model with parameters keeps them, and its optimizer's state and counts, where a fit diverges
        # before its first recorded point; a new model takes its starting ones
        fresh = self._parameters is None
        first_epoch = 0 if fresh else self._epochs
        continues = not fresh and self._optimizer == optimizer and self._optimizer_state is not None
        if not counts_epochs(optimizer, batch_size, decay, bool(kernel.keep_prob)):
            first_update = self._updates if continues else 0

            def adopt(parameters: dict[str, Any], updates: int) -> None:
                # each iteration is an epoch of one batch, for the fits that follow
                self._parameters, self._scaling = parameters, scaling
                self._optimizer, self._optimizer_state = optimizer, {}
                self._epochs, self._updates = first_epoch + updates, first_update + updates

            step = choose_step(kernel, starting, X, Y, learning_rate, xp, use_fast_paths)
            history = History(backend=backend_name(xp), device=str(device), step=step.name)
            watch = Watch(history, callback, progress, held_out, evaluate, early_stopping)
            return run_iterations(self, step, watch, count, record_every, learning_rate, adopt, starting if fresh else None, xp)

        if continues:
            assert self._optimizer_state is not None
            state, first_update = self._optimizer_state, self._updates
        else:
            state, first_update = optimizer._init(starting, xp), 0

        def adopt_all(parameters: dict[str, Any], state: dict[str, Any], epochs: int, updates: int) -> None:
            self._parameters, self._scaling = parameters, scaling
            self._optimizer, self._optimizer_state, self._epochs, self._updates = optimizer, state, epochs, updates

        epoch_step = choose_epoch_step(kernel, optimizer, starting, state, X, Y, batch or m, xp, use_fast_paths)
        history = History(backend=backend_name(xp), device=str(device), step=epoch_step.name, unit="epoch")
        seed = getattr(self, "seed", None)
        schedule = Schedule(
            optimizer, learning_rate, decay, shuffle, seed, m, epoch_step.batches, first_epoch, first_update, len(kernel.keep_prob)
        )
        watch = Watch(history, callback, progress, held_out, evaluate, early_stopping)
        return run_epochs(self, epoch_step, watch, schedule, count, record_every, adopt_all, (starting, state) if fresh else None, xp)

    @staticmethod
    def _warn_of_missing_classes(Y: Any, Y_val: Any, validation_split: float, xp: ModuleType) -> None:
        """A split that leaves a class out of training (a file sorted by class) trains a model that
        never sees it: said, since nothing else would say it."""
        def present(labels: Any) -> Any:  # binary (1, m) labels: classes 0 and 1; one-hot (C, m): each row
            if labels.shape[0] == 1:
                return xp.stack([xp.any(labels == 0), xp.any(labels == 1)])
            return xp.any(labels == 1, axis=1)

        missing = present(Y_val) & ~present(Y)
        if bool(xp.any(missing)):
            warnings.warn(
                f"validation_split={validation_split!r} holds out every example of {int(xp.sum(xp.astype(missing, xp.int32)))} "
                "class(es): training never sees them (the split takes the last examples, unshuffled); shuffle the "
                "examples first, or give validation_data",
                UserWarning,
                stacklevel=4,  # fit's caller
            )

    def _validation(
        self, X: Any, Y: Any, xp: ModuleType, device: Any, validation_data: Any, validation_split: float | None
    ) -> tuple[Any, Any, tuple[Any, Any] | None]:
        """``(X, Y, (X_val, Y_val) or None)``: the training data and the validation data of ``fit``,
        checked like ``X`` and ``Y``; ``validation_split`` takes the last fraction of the examples,
        before any shuffling, as Keras does."""
        if validation_data is not None and validation_split is not None:
            raise ValueError("give validation_data or validation_split, not both")
        if validation_split is not None:
            if (
                isinstance(validation_split, bool)
                or not isinstance(validation_split, (int, float))
                or not 0.0 < validation_split < 1.0
            ):
                raise ValueError(f"validation_split must be a fraction of the examples in (0, 1), e.g. 0.2; got {validation_split!r}")
            m = X.shape[1]
            split = int(m * (1.0 - validation_split))
            if not 0 < split < m:
                raise ValueError(
                    f"validation_split={validation_split!r} of m = {m} examples leaves {split} to train on and {m - split} "
                    "to validate on; both need at least one"
                )
            validation_data = (X[:, split:], Y[:, split:])
            X, Y = X[:, :split], Y[:, :split]
            if not is_dask_array(Y):
                self._warn_of_missing_classes(Y, validation_data[1], validation_split, xp)
        if validation_data is None:
            return X, Y, None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(f"validation_data must be a pair (X_val, Y_val); got {type(validation_data).__name__}")
        X_val, Y_val = validation_data
        like = next(iter(self._parameters.values())) if self._parameters is not None else X
        if is_dask_array(like) and not is_dask_array(X_val):  # in memory beside a Dask X: of its chunks' kind
            like = xp.zeros((0,), dtype=X.dtype, device=device)
        try:  # the checks of X and Y, said of the validation data
            X_val, _, _ = check_X(X_val, X.shape[0], like, "the training X")
            Y_val = self._check_labels(Y_val, X_val, xp, device)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"validation_data (X_val, Y_val): {exc}") from None
        return X, Y, (X_val, Y_val)

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
            Y = self._check_labels(Y, X, xp, device)
        X = self._standardized(X)
        if is_dask_array(X):  # lazy outputs, each chunk checked where its task runs
            AL, ZL = distributed.outputs(self._kernel().forward, parameters, X)
            labels = None if Y is None else distributed.checked_labels(Y, X.dtype, self._softmax_units())
            return AL, ZL, labels, namespace_of(ZL)
        with np.errstate(over="ignore", invalid="ignore"):  # what overflows is said below, once
            AL, ZL, _ = self._forward(parameters, X, xp)
        if bool(xp.any(xp.isnan(ZL))):
            count = int(xp.count_nonzero(xp.any(xp.isnan(ZL), axis=0)))
            largest = float(xp.max(xp.abs(X)))
            raise ValueError(
                f"the model's output is NaN for {count} of the {X.shape[1]} examples of X: their features "
                f"(|X| up to {largest:.3g}) overflow {X.dtype} arithmetic in the network; scale the "
                "features (e.g. standardize them) before training and predicting"
            )
        return AL, ZL, Y, xp

    def _check_labels(self, Y: Any, X: Any, xp: ModuleType, device: Any) -> Any:
        """``Y`` checked for this model's output, in the form training and the cost take: binary
        labels of shape ``(1, m)`` in X's dtype (a softmax network: one-hot columns)."""
        return check_Y(Y, X, xp, device)

    def _softmax_units(self) -> int | None:
        """``C``, the output units of a softmax model (its labels are class indices), else None."""
        return None

    def _labels_from_logits(self, ZL: Any, xp: ModuleType) -> Any:
        """The predicted labels of logits ``Z^[L]``, shape ``(1, m)``, in ZL's dtype."""
        return xp.astype(ZL > 0, ZL.dtype)

    def predict_proba(self, X: Any) -> Any:
        """``A^[L]``: the probability that each example's label is 1, shape ``(1, m)``, in [0, 1]; for a
        softmax network of ``C`` classes, each class's, shape ``(C, m)``, each column summing to 1."""
        return self._outputs(X)[0]

    def decision_function(self, X: Any) -> Any:
        """``Z^[L] = W^[L] A^[L-1] + b^[L]`` [C1 3.1] (``w^T X + b`` for logistic regression
        [C1 2.2]): each example's logit, shape ``(1, m)``, in X's namespace and device.
        ``A^[L] = sigma(Z^[L])``, so ``Z^[L] = log(A^[L] / (1 - A^[L]))``: positive where label 1
        is the likelier, and still finite and ordered where ``A^[L]`` has rounded to 0 or 1. For a
        softmax network, the ``C`` logits of each example, shape ``(C, m)``."""
        return self._outputs(X)[1]

    def predict(self, X: Any) -> Any:
        """Labels 0 or 1, shape ``(1, m)``, in the parameters' dtype: 1 where ``A^[L] > 0.5``, read
        as ``Z^[L] > 0`` (the same in exact arithmetic, and ``sigma`` rounds to 0.5 for ``|z|``
        up to about 1e-7 in float32, 1e-16 in float64), so the labels agree with
        ``decision_function``'s signs. For a softmax network, each example's class index (the
        largest logit), shape ``(1, m)``."""
        ZL = self.decision_function(X)
        return self._labels_from_logits(ZL, namespace_of(ZL))

    def cost(self, X: Any, Y: Any) -> float:
        """The cross-entropy cost ``J`` [C1 2.3] (categorical for a softmax network [C2 3]) on
        ``(X, Y)``, computed stably from the logits."""
        _, ZL, Y, xp = self._outputs(X, Y)
        return float(self._kernel().cost(ZL, Y, xp))

    def accuracy(self, X: Any, Y: Any) -> float:
        """The fraction of examples whose predicted label (``predict``'s) equals ``Y``, as a float in
        [0, 1]."""
        _, ZL, Y, xp = self._outputs(X, Y)
        return int(self._kernel().hits(ZL, Y, xp)) / ZL.shape[1]

    # -- the training state ----------------------------------------------------------------------
    @property
    def optimizer(self) -> Optimizer | None:
        """The optimizer of the last fit (``GradientDescent()`` after batch gradient descent), or
        None before any."""
        return self._optimizer

    @property
    def optimizer_state(self) -> dict[str, Any] | None:
        """The optimizer's state as the next fit with the same optimizer continues from it, named as
        the course names it (``state["v"]["dW1"]``, ``state["s"]["db2"]``), or None before any fit."""
        return self._optimizer_state

    @property
    def epochs(self) -> int:
        """The epochs made by the model's fits since its parameters were drawn or set (an iteration
        of batch gradient descent is an epoch of one batch)."""
        return self._epochs

    @property
    def updates(self) -> int:
        """The updates made by the model's optimizer since its state began (Adam's ``t`` of the last
        one): a fit with another optimizer (or other settings) starts a new state, at 0."""
        return self._updates

    # -- parameters ----------------------------------------------------------------------------
    def get_parameters(self) -> dict[str, Any]:
        """The parameters by the course's names (``W1, b1, ...`` or ``w, b``), in their namespace."""
        return dict(self._fitted_parameters())

    def set_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Replace the parameters with arrays of any Array API library, checked key by key and
        shape by shape. Training and prediction then run in that library and on that device. The
        parameters are for the input as the model sees it: a standardization the model has learned
        (``standardize=True``) is kept, so ``set_parameters(get_parameters())`` changes no
        prediction (parameters for raw input belong in a model made with ``standardize=False``). The
        optimizer's state and the counts of epochs and updates are dropped (the next fit starts
        them anew)."""
        checked, xp, _ = check_parameters(parameters, self._shapes(self._n_x_of(parameters)))
        for key, value in checked.items():
            if is_dask_array(value):
                raise TypeError(
                    f"parameters[{key!r}] is a Dask array; a model's parameters live in memory (on the client, "
                    f"for training on Dask data): pass parameters[{key!r}].compute()"
                )
        check_finite(checked, xp)
        self._parameters = checked
        self._optimizer, self._optimizer_state, self._epochs, self._updates = None, None, 0, 0  # a new start

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
        if self._optimizer_state is not None:
            self._optimizer_state = {
                name: {key: asarray(value, backend, device) for key, value in average.items()}
                for name, average in self._optimizer_state.items()
            }
        return self

