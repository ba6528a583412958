"""The compiled step: the generic kernel's iteration (``train_step``) under the library's compiler,
and the iterations between two recorded ones as one compiled loop, one dispatch.

JAX: ``jax.jit`` of ``train_step`` for the recorded iterations, and ``jax.lax.fori_loop`` of it for
``advance(n)``. ``n`` and the learning rate are arguments of the compiled call, not constants baked
into it, so one compilation serves every stretch (the last, shorter one too) and every learning
rate of a sweep. The compiled functions are cached by the model's math (``Kernel.key``) and
``jax.jit`` caches them by shapes and dtypes, so a second ``fit``, a sweep or a grid search over the
same shapes compiles nothing new. The time a compilation takes is logged (logger ``"arraynet"``,
DEBUG) and counts in ``History.seconds``.

The numbers are the generic kernel's to rounding, not bit for bit: XLA fuses the elementwise
operations and may reorder them (float64 costs agree within 1e-9 relative after hundreds of
iterations; ``tests/test_steps.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping
from types import ModuleType
from typing import Any, ClassVar

from ..backends import backend_name, is_jax_namespace
from .base import Kernel, NotApplicable
from .generic import train_step

__all__ = ["CompiledStep"]

logger = logging.getLogger("arraynet")

# Kernel.key -> (one iteration, n iterations), jitted
_COMPILED: dict[Hashable, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _compiled(kernel: Kernel, xp: ModuleType) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The jitted ``(one, many)`` of ``kernel``: ``one(parameters, X, Y, learning_rate) ->
    (parameters, Z^[L])`` and ``many(parameters, X, Y, learning_rate, n) -> parameters``."""
    if kernel.key not in _COMPILED:
        import jax

        step = train_step(kernel, xp)

        def many(parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, n: int) -> Any:
            return jax.lax.fori_loop(0, n, lambda _, current: step(current, X, Y, learning_rate)[0], dict(parameters))

        _COMPILED[kernel.key] = (jax.jit(step), jax.jit(many))
    return _COMPILED[kernel.key]


def _call(function: Any, what: str, *arguments: Any) -> Any:
    """``function(*arguments)``, saying at DEBUG how long it took when the call compiled it."""
    before = function._cache_size()
    start = time.perf_counter()
    result = function(*arguments)
    if function._cache_size() > before:
        logger.debug("compiled %s in %.3f s", what, time.perf_counter() - start)
    return result


class CompiledStep:
    """Batch gradient descent on JAX arrays, compiled: see the module's docstring."""

    name: ClassVar[str] = "compiled"

    @classmethod
    def create(
        cls, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> CompiledStep:
        if not is_jax_namespace(xp):
            raise NotApplicable(f"no compiler is used for {backend_name(xp)} arrays (JAX's is)")
        if kernel.key is None:
            raise NotApplicable("the model's math has no Kernel.key to cache its compilation by")
        one, many = _compiled(kernel, xp)
        return cls(one, many, parameters, X, Y, learning_rate)

    def __init__(
        self, one: Any, many: Any, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float
    ) -> None:
        self._one, self._many = one, many
        self.parameters = dict(parameters)  # JAX arrays are immutable: nothing here is changed in place
        self._X, self._Y, self._learning_rate = X, Y, learning_rate
        self._updated = self.parameters

    def forward(self) -> Any:
        self._updated, ZL = _call(self._one, "the training step", self.parameters, self._X, self._Y, self._learning_rate)
        return ZL

    def update(self) -> None:
        self.parameters = self._updated

    def snapshot(self) -> dict[str, Any]:
        return self.parameters

    def advance(self, n: int) -> None:
        if n:
            self.parameters = _call(
                self._many, "the loop of training steps", self.parameters, self._X, self._Y, self._learning_rate, n
            )
