"""The generic kernel's steps: one iteration of batch gradient descent [C1 3.5] as a pure function
of the parameters, ``train_step(kernel, xp)(parameters, X, Y, learning_rate) -> (parameters,
Z^[L])``, and ``GenericStep``, which runs it for ``fit``; one mini-batch update with an optimizer
[C2 1.1-1.4], ``batch_step(kernel, optimizer, xp)(parameters, state, X_b, Y_b, scalars) ->
(parameters, state, cost)``, and ``GenericEpochStep``, which runs an epoch of them. Both add the
kernel's L2 regularization [C2 2.1] (``Kernel.l2``, none by default) to the cost and the gradients.

The pure functions make new arrays and change none (what ``jax.jit`` can take as they are, and what
every other step must equal). They apply to every model, library, device and dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar, Protocol

import numpy as np
from array_api_compat import device, is_cupy_array, is_numpy_array, is_torch_array

from ..kernel.dropout import Dropout
from ..kernel.minibatches import partition
from ..kernel.optimizers import Optimizer
from ..kernel.propagation import _update
from .base import Kernel, OneByOne
from .plan import EpochPlan

__all__ = ["ROWS_COPY_BYTES", "BatchStep", "GenericEpochStep", "GenericStep", "TrainStep", "batch_dropout", "batch_step", "dropout_examples", "examples_in_rows", "gather", "rows_copy_bytes", "train_step"]

class TrainStep(Protocol):
    """``(parameters, X, Y, learning_rate[, l2]) -> (the parameters after the update, Z^[L] before
    it)``; ``l2``, the ``lambd`` of L2 regularization [C2 2.1], defaults to the kernel's."""

    def __call__(
        self, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, l2: Any = ...
    ) -> tuple[dict[str, Any], Any]: ...


def train_step(kernel: Kernel, xp: ModuleType) -> TrainStep:
    """One iteration of the generic kernel as a pure function: forward propagation [C1 3.1],
    backpropagation [C1 3.5] (with the L2 term of ``kernel.regularized_gradients`` [C2 2.1]) and
    ``W^[l] = W^[l] - alpha dW^[l]``, ``b^[l] = b^[l] - alpha db^[l]``; returns the new parameters
    and the ``Z^[L]`` of the old ones (whose cost it is). ``l2`` (by default ``kernel.l2``) is
    ``lambd``, an argument for a compiler to trace; whether there is a term at all is the kernel's."""
    forward, backward, regularized = kernel.forward, kernel.backward, kernel.regularized_gradients

    def step(
        parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, l2: Any = kernel.l2
    ) -> tuple[dict[str, Any], Any]:
        AL, ZL, caches = forward(parameters, X, xp)
        grads = regularized(backward(AL, Y, caches, xp), parameters, X.shape[1], l2)
        return _update(parameters, grads, learning_rate), ZL

    return step


class GenericStep(OneByOne):
    """``train_step`` run for ``fit``: ``forward()`` computes the whole iteration and holds its
    result until ``update()``. Every iteration makes new arrays, so ``snapshot()`` needs no copy."""

    name: ClassVar[str] = "generic"

    def __init__(
        self, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> None:
        self.parameters = dict(parameters)
        self.kernel, self._step = kernel, train_step(kernel, xp)
        self._X, self.Y, self._learning_rate, self.xp = X, Y, learning_rate, xp
        self._updated = self.parameters

    @classmethod
    def create(
        cls, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> GenericStep:
        return cls(kernel, parameters, X, Y, learning_rate, xp)

    def forward(self) -> Any:
        self._updated, ZL = self._step(self.parameters, self._X, self.Y, self._learning_rate)
        return ZL

    def update(self) -> None:
        self.parameters = self._updated

    def snapshot(self) -> dict[str, Any]:
        return self.parameters


class BatchStep(Protocol):
    """``(parameters, state, X_b, Y_b, scalars[, l2[, dropout]]) -> (parameters, state, J of the
    batch before the update)``; ``l2``, the ``lambd`` of L2 regularization [C2 2.1], defaults to the
    kernel's; ``dropout``, the update's ``Dropout`` [C2 2.2] where the kernel has a keep_prob."""

    def __call__(
        self, parameters: Mapping[str, Any], state: dict[str, Any], X: Any, Y: Any, scalars: Any, l2: Any = ..., dropout: Dropout | None = ...
    ) -> tuple[dict[str, Any], dict[str, Any], Any]: ...


def batch_step(kernel: Kernel, optimizer: Optimizer, xp: ModuleType) -> BatchStep:
    """One mini-batch update as a pure function [C2 1.1]: forward propagation [C1 3.1] on the batch,
    its cost ``J^{t}`` [C1 2.3, C2 3] (``kernel.cost``), backpropagation [C1 3.5] (``dW`` divided by the batch's own number
    of examples) and the optimizer's update with this update's ``scalars`` [C2 1.2-1.4]. The cost
    and the weights' gradients have the kernel's L2 term [C2 2.1] over the batch's examples
    (``kernel.regularized_cost``, ``regularized_gradients``), ``lambd`` given as ``l2`` (by default
    ``kernel.l2``). Where the kernel has a keep_prob, forward drops the units of ``dropout``'s masks
    [C2 2.2] and backward the same (the cost is that of the thinned network)."""
    forward, backward, apply, cost = kernel.training_forward, kernel.backward, optimizer._apply, kernel.cost
    regularized_cost, regularized_gradients = kernel.regularized_cost, kernel.regularized_gradients

    def step(
        parameters: Mapping[str, Any], state: dict[str, Any], X: Any, Y: Any, scalars: Any, l2: Any = kernel.l2, dropout: Dropout | None = None
    ) -> tuple[dict[str, Any], dict[str, Any], Any]:
        AL, ZL, caches = forward(parameters, X, xp, dropout)
        m = X.shape[1]
        grads = regularized_gradients(backward(AL, Y, caches, xp), parameters, m, l2)
        updated, new_state = apply(parameters, grads, state, scalars, xp)
        return updated, new_state, regularized_cost(cost(ZL, Y, xp), parameters, m, xp, l2)

    return step


def gather(order: np.ndarray | None, like: Any, xp: ModuleType) -> Any:
    """An epoch's host permutation as an index array of ``xp`` on ``like``'s device (int32 while the
    indices fit: JAX has no int64 without its float64 mode), or None for the examples in order."""
    if order is None:
        return None
    dtype = xp.int32 if order.shape[0] < 2**31 else xp.int64
    return xp.asarray(order.astype(np.int32 if dtype == xp.int32 else np.int64), device=device(like))


def dropout_examples(keep_prob: tuple[float, ...], plan: EpochPlan, index: Any, like: Any, xp: ModuleType) -> Any:
    """The indices in the data set of the epoch's examples, in the order its batches take them
    (``index``, the epoch's ``gather``ed order, or None: as they are; ``plan.offset`` added), on
    ``like``'s device, which dropout's masks [C2 2.2] are drawn for; None without dropout. Made once
    an epoch: batch ``start:stop`` slices it (``batch_dropout``)."""
    if not keep_prob:
        return None
    dtype = xp.int32 if plan.offset + plan.m < 2**31 else xp.int64  # a chunk's own order may not fit its offset
    examples = xp.arange(plan.m, dtype=dtype, device=device(like)) if index is None else xp.astype(index, dtype, copy=False)
    return examples + plan.offset if plan.offset else examples


def batch_dropout(keep_prob: tuple[float, ...], plan: EpochPlan, k: int, examples: Any, start: int, stop: int) -> Dropout | None:
    """The ``Dropout`` [C2 2.2] of update ``k`` of ``plan``'s epoch, on the batch ``start:stop`` of
    the epoch's ``dropout_examples``, or None without dropout."""
    if examples is None:
        return None
    assert plan.keys is not None  # the schedule keys every update of a training with dropout
    return Dropout(keep_prob, plan.keys[k].tolist(), examples[start:stop])


# the largest copy of X that examples_in_rows makes (bytes): past it, batches are gathered as columns
ROWS_COPY_BYTES = 1 << 30


def rows_copy_bytes(X: Any) -> int:
    """The bytes ``examples_in_rows`` copies for ``X``: 0 where ``X.T`` is already in C order (or the
    library does not show its layout)."""
    rows = X.T
    if is_numpy_array(X) or is_cupy_array(X):
        return 0 if rows.flags.c_contiguous else int(rows.nbytes)
    if is_torch_array(X):
        return 0 if rows.is_contiguous() else rows.numel() * rows.element_size()
    return 0


def examples_in_rows(X: Any) -> Any:
    """``X.T``, the examples in rows ``(m, n)``, laid out row by row (C order) where the library lets
    one choose: ``X.T`` itself where it already is (``X`` in Fortran order, as ``X_rows.T`` of a
    scikit-learn style ``(m, n)`` matrix is), else a copy, or None where that copy would take more
    than ``ROWS_COPY_BYTES`` (1 GiB: the batches are then gathered as columns of ``X``). A shuffled
    epoch gathers its mini-batches [C2 1.1] as rows of it: each example's ``n`` values are
    contiguous, where a column of ``X`` is spread over its ``n`` rows (gathering 256 columns of a 40
    x 200,000 float32 ``X`` takes 6x the rows' time; from a Fortran-order ``X``, NumPy's ``take``
    along axis 1 copies all of ``X`` first, every batch). The copy costs one pass over ``X`` (8 ms
    for those 32 MB) and its memory, once per fit."""
    copied = rows_copy_bytes(X)
    if not copied:
        return X.T
    if copied > ROWS_COPY_BYTES:
        return None
    return X.T.contiguous() if is_torch_array(X) else X.T.copy(order="C")


class GenericEpochStep:
    """``batch_step`` run over an epoch's batches for ``fit``, each gathered by index (``take``) from
    the epoch's order, as rows of ``examples_in_rows`` (made on the first shuffled epoch), or sliced
    when the examples stay in order. Every update makes new arrays, so ``snapshot()`` needs no copy."""

    name: ClassVar[str] = "generic"

    def __init__(
        self,
        step: BatchStep,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        xp: ModuleType,
        keep_prob: tuple[float, ...] = (),
    ) -> None:
        self.parameters, self.state = dict(parameters), dict(state)
        self._step, self._X, self._Y, self.xp, self._keep_prob = step, X, Y, xp, keep_prob
        self._m = X.shape[1]
        self._batches = partition(self._m, batch_size)
        self.batches = len(self._batches)
        self._rows: tuple[Any, Any] | None = None  # examples_in_rows of X and Y, for shuffled epochs

    @classmethod
    def create(
        cls,
        kernel: Kernel,
        optimizer: Optimizer,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        xp: ModuleType,
    ) -> GenericEpochStep:
        return cls(batch_step(kernel, optimizer, xp), parameters, state, X, Y, batch_size, xp, kernel.keep_prob)

    def _batch(self, index: Any, start: int, stop: int) -> tuple[Any, Any]:
        X, Y, xp = self._X, self._Y, self.xp
        if index is None:
            return (X, Y) if stop - start == self._m else (X[:, start:stop], Y[:, start:stop])
        if self._rows is None:
            self._rows = examples_in_rows(X), examples_in_rows(Y)
        at = index[start:stop]
        X_rows, Y_rows = self._rows
        X_b = xp.take(X, at, axis=1) if X_rows is None else xp.take(X_rows, at, axis=0).T
        return X_b, xp.take(Y, at, axis=1) if Y_rows is None else xp.take(Y_rows, at, axis=0).T

    def epoch(self, plan: EpochPlan) -> Any:
        index = gather(plan.order(), self._X, self.xp)
        examples = dropout_examples(self._keep_prob, plan, index, self._X, self.xp)
        total: Any = 0.0
        for k, ((start, stop), row) in enumerate(zip(self._batches, plan.scalars.tolist())):
            X_b, Y_b = self._batch(index, start, stop)
            dropout = batch_dropout(self._keep_prob, plan, k, examples, start, stop)
            self.parameters, self.state, cost = self._step(self.parameters, self.state, X_b, Y_b, tuple(row), dropout=dropout)
            total = total + cost * (stop - start)
        return total / self._m

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.parameters, self.state
