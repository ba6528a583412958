"""The generic kernel's steps: one iteration of batch gradient descent [C1 3.5] as a pure function
of the parameters, ``train_step(kernel, xp)(parameters, X, Y, learning_rate) -> (parameters,
Z^[L])``, and ``GenericStep``, which runs it for ``fit``; one mini-batch update with an optimizer
[C2 1.1-1.4], ``batch_step(kernel, optimizer, xp)(parameters, state, X_b, Y_b, scalars) ->
(parameters, state, cost)``, and ``GenericEpochStep``, which runs an epoch of them.

The pure functions make new arrays and change none (what ``jax.jit`` can take as they are, and what
every other step must equal). They apply to every model, library, device and dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from array_api_compat import device

from ..kernel.minibatches import EpochPlan, partition
from ..kernel.optimizers import Optimizer
from ..kernel.propagation import _update
from .base import Kernel, OneByOne

__all__ = ["BatchStep", "GenericEpochStep", "GenericStep", "TrainStep", "batch_step", "gather", "train_step"]

# (parameters, X, Y, learning_rate) -> (the parameters after the update, Z^[L] before it)
TrainStep = Callable[[Mapping[str, Any], Any, Any, float], tuple[dict[str, Any], Any]]


def train_step(kernel: Kernel, xp: ModuleType) -> TrainStep:
    """One iteration of the generic kernel as a pure function: forward propagation [seed 3.1],
    backpropagation [seed 3.5] and ``W^[l] = W^[l] - alpha dW^[l]``, ``b^[l] = b^[l] - alpha db^[l]``;
    returns the new parameters and the ``Z^[L]`` of the old ones (whose cost it is)."""
    forward, backward = kernel.forward, kernel.backward

    def step(parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float) -> tuple[dict[str, Any], Any]:
        AL, ZL, caches = forward(parameters, X, xp)
        return _update(parameters, backward(AL, Y, caches, xp), learning_rate), ZL

    return step


class GenericStep(OneByOne):
    """``train_step`` run for ``fit``: ``forward()`` computes the whole iteration and holds its
    result until ``update()``. Every iteration makes new arrays, so ``snapshot()`` needs no copy."""

    name: ClassVar[str] = "generic"

    def __init__(
        self, step: TrainStep, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> None:
        self.parameters = dict(parameters)
        self._step, self._X, self.Y, self._learning_rate, self.xp = step, X, Y, learning_rate, xp
        self._updated = self.parameters

    @classmethod
    def create(
        cls, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> GenericStep:
        step = cls(train_step(kernel, xp), parameters, X, Y, learning_rate, xp)
        step.cost_of = kernel.cost
        return step

    def forward(self) -> Any:
        self._updated, ZL = self._step(self.parameters, self._X, self.Y, self._learning_rate)
        return ZL

    def update(self) -> None:
        self.parameters = self._updated

    def snapshot(self) -> dict[str, Any]:
        return self.parameters


# (parameters, state, X_b, Y_b, scalars) -> (parameters, state, J of the batch before the update)
BatchStep = Callable[[Mapping[str, Any], dict[str, Any], Any, Any, Any], tuple[dict[str, Any], dict[str, Any], Any]]


def batch_step(kernel: Kernel, optimizer: Optimizer, xp: ModuleType) -> BatchStep:
    """One mini-batch update as a pure function [C2 1.1]: forward propagation [C1 3.1] on the batch,
    its cost ``J^{t}`` [C1 2.3, C2 3] (``kernel.cost``), backpropagation [C1 3.5] (``dW`` divided by the batch's own number
    of examples) and the optimizer's update with this update's ``scalars`` [C2 1.2-1.4]."""
    forward, backward, apply, cost = kernel.forward, kernel.backward, optimizer._apply, kernel.cost

    def step(
        parameters: Mapping[str, Any], state: dict[str, Any], X: Any, Y: Any, scalars: Any
    ) -> tuple[dict[str, Any], dict[str, Any], Any]:
        AL, ZL, caches = forward(parameters, X, xp)
        updated, new_state = apply(parameters, backward(AL, Y, caches, xp), state, scalars, xp)
        return updated, new_state, cost(ZL, Y, xp)

    return step


def gather(order: np.ndarray | None, like: Any, xp: ModuleType) -> Any:
    """An epoch's host permutation as an index array of ``xp`` on ``like``'s device (int32 while the
    indices fit: JAX has no int64 without its float64 mode), or None for the examples in order."""
    if order is None:
        return None
    dtype = xp.int32 if order.shape[0] < 2**31 else xp.int64
    return xp.asarray(order.astype(np.int32 if dtype == xp.int32 else np.int64), device=device(like))


class GenericEpochStep:
    """``batch_step`` run over an epoch's batches for ``fit``, each gathered by index (``take``) from
    the epoch's order, or sliced when the examples stay in order. Every update makes new arrays, so
    ``snapshot()`` needs no copy."""

    name: ClassVar[str] = "generic"

    def __init__(
        self, step: BatchStep, parameters: Mapping[str, Any], state: Mapping[str, Any], X: Any, Y: Any, batch_size: int, xp: ModuleType
    ) -> None:
        self.parameters, self.state = dict(parameters), dict(state)
        self._step, self._X, self._Y, self.xp = step, X, Y, xp
        self._m = X.shape[1]
        self._batches = partition(self._m, batch_size)
        self.batches = len(self._batches)

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
        return cls(batch_step(kernel, optimizer, xp), parameters, state, X, Y, batch_size, xp)

    def _batch(self, index: Any, start: int, stop: int) -> tuple[Any, Any]:
        X, Y, xp = self._X, self._Y, self.xp
        if index is None:
            return (X, Y) if stop - start == self._m else (X[:, start:stop], Y[:, start:stop])
        rows = index[start:stop]
        return xp.take(X, rows, axis=1), xp.take(Y, rows, axis=1)

    def epoch(self, plan: EpochPlan) -> Any:
        index = gather(plan.order(), self._X, self.xp)
        total: Any = 0.0
        for (start, stop), row in zip(self._batches, plan.scalars.tolist()):
            X_b, Y_b = self._batch(index, start, stop)
            self.parameters, self.state, cost = self._step(self.parameters, self.state, X_b, Y_b, tuple(row))
            total = total + cost * (stop - start)
        return total / self._m

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.parameters, self.state
