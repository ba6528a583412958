"""The generic kernel's step: one iteration of batch gradient descent [seed 3.5] as a pure function
of the parameters, ``train_step(kernel, xp)(parameters, X, Y, learning_rate) -> (parameters,
Z^[L])``, and ``GenericStep``, which runs it for ``fit``.

The pure function makes new arrays and changes none (what ``jax.jit`` can take as it is, and what
every other step must equal). It applies to every model, library, device and dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, ClassVar

from ..kernel.propagation import _update
from .base import Kernel, OneByOne

__all__ = ["GenericStep", "TrainStep", "train_step"]

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
        return cls(train_step(kernel, xp), parameters, X, Y, learning_rate, xp)

    def forward(self) -> Any:
        self._updated, ZL = self._step(self.parameters, self._X, self.Y, self._learning_rate)
        return ZL

    def update(self) -> None:
        self.parameters = self._updated

    def snapshot(self) -> dict[str, Any]:
        return self.parameters
