"""The compiled step: the generic kernel's iteration (``train_step``) under the library's compiler,
and the iterations between two recorded ones as one compiled loop, one dispatch.

JAX: ``jax.jit`` of ``train_step`` with the cost of the parameters it starts from, for the recorded
iterations, and ``jax.lax.fori_loop`` of ``train_step`` for ``advance(n)``. ``n`` and the learning rate are arguments of the compiled call, not constants baked
into it, so one compilation serves every stretch (the last, shorter one too) and every learning
rate of a sweep. The compiled functions are cached by the model's math (``Kernel.key``) and
``jax.jit`` caches them by shapes and dtypes, so a second ``fit``, a sweep or a grid search over the
same shapes compiles nothing new. The time a compilation takes is logged (logger ``"arraynet"``,
DEBUG) and counts in ``History.seconds``.

The numbers are the generic kernel's to rounding, not bit for bit: XLA fuses the elementwise
operations and may reorder them. In float64 the costs agree within 1e-9 relative after hundreds
of iterations; in float32 within 1e-4 over the tests' 60 iterations, but rounding differences grow
along a trajectory (1e-2 after 3,000 iterations of a small ReLU net that a review measured), as
they do between any two float32 libraries. JAX keeps compiled code per shape: a sweep over many
data sizes holds one compilation each (about 25 MB apiece for a small net here).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping
from types import ModuleType
from typing import Any, ClassVar

from ..backends import backend_name, is_jax_namespace
from ..kernel.cost import cost_from_logits
from .base import Kernel, NotApplicable
from .generic import train_step

__all__ = ["CompiledStep"]

logger = logging.getLogger("arraynet")

_CHUNK = 0.25  # seconds a compiled call of advance may run: how soon Ctrl-C is seen
_MAX_CHUNK = 2**31 - 1  # the loop's bound is an int32 where JAX's float64 mode is off

# Kernel.key -> (one iteration, n iterations), jitted
_COMPILED: dict[Hashable, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _compiled(kernel: Kernel, xp: ModuleType) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The jitted ``(one, many)`` of ``kernel``: ``one(parameters, X, Y, learning_rate) ->
    (parameters, J)``, one iteration and the cost [seed 2.3] of the parameters it started from (in
    the same call: eager, the cost's few operations on a (1, m) array were as many dispatches), and
    ``many(parameters, X, Y, learning_rate, n) -> parameters``."""
    if kernel.key not in _COMPILED:
        import jax

        step = train_step(kernel, xp)

        def one(parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float) -> tuple[dict[str, Any], Any]:
            updated, ZL = step(parameters, X, Y, learning_rate)
            return updated, cost_from_logits(ZL, Y, xp)

        def many(parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, n: int) -> Any:
            return jax.lax.fori_loop(0, n, lambda _, current: step(current, X, Y, learning_rate)[0], dict(parameters))

        _COMPILED[kernel.key] = (jax.jit(one), jax.jit(many))
    return _COMPILED[kernel.key]


def _call(function: Any, what: str, *arguments: Any) -> Any:
    """``function(*arguments)``, saying at DEBUG how long it took when the call compiled it
    (jax.jit's cache size tells; where a JAX version lacks it, nothing is said)."""
    cache_size = getattr(function, "_cache_size", lambda: 0)
    before = cache_size()
    start = time.perf_counter()
    result = function(*arguments)
    if cache_size() > before:
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
        try:
            hash(kernel.key)
        except TypeError as exc:  # an activation with unhashable settings (a list of coefficients)
            raise NotApplicable(f"the model's math cannot be a cache key: {exc}") from exc
        new = kernel.key not in _COMPILED
        one, many = _compiled(kernel, xp)
        if new:  # a first trace, without running it: math that JAX cannot trace takes the generic step
            import jax

            try:
                jax.eval_shape(one, dict(parameters), X, Y, learning_rate)
            except Exception as exc:
                del _COMPILED[kernel.key]
                raise NotApplicable(f"JAX cannot compile the model's math ({type(exc).__name__}: {exc})") from exc
        return cls(one, many, parameters, X, Y, learning_rate)

    def __init__(self, one: Any, many: Any, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float) -> None:
        self._one, self._many = one, many
        self.parameters = dict(parameters)  # JAX arrays are immutable: nothing here is changed in place
        self._X, self._Y, self._learning_rate = X, Y, learning_rate
        self._updated = self.parameters
        self._chunk = 1000  # iterations per compiled call, resized to about _CHUNK seconds

    def cost(self) -> Any:
        self._updated, cost = _call(self._one, "the training step", self.parameters, self._X, self._Y, self._learning_rate)
        return cost

    def update(self) -> None:
        self.parameters = self._updated

    def snapshot(self) -> dict[str, Any]:
        return self.parameters

    def advance(self, n: int) -> None:
        """``n`` iterations in compiled calls of at most ``_CHUNK`` seconds' worth each (measured
        on the way): Ctrl-C is seen between two calls, and no count passes int32."""
        while n > 0:
            chunk = min(n, self._chunk, _MAX_CHUNK)
            start = time.perf_counter()
            self.parameters = _call(
                self._many, "the loop of training steps", self.parameters, self._X, self._Y, self._learning_rate, chunk
            )
            n -= chunk
            if n > 0:  # the next chunk sized from this one's time, once the work is done
                import jax

                jax.block_until_ready(self.parameters)
                seconds = time.perf_counter() - start
                self._chunk = max(1, int(chunk * _CHUNK / seconds)) if seconds > 0 else 2 * chunk
