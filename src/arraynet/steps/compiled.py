"""The compiled steps: the generic kernel's iteration (``train_step``) and mini-batch update
(``batch_step``) under the library's compiler, and the work between two recorded points as one
compiled loop, one dispatch.

JAX, batch gradient descent (``CompiledStep``): ``jax.jit`` of ``train_step`` with the cost of the
parameters it starts from, for the recorded iterations, and ``jax.lax.fori_loop`` of ``train_step``
for ``advance(n)``. ``n`` and the learning rate are arguments of the compiled call, not constants baked
into it, so one compilation serves every stretch (the last, shorter one too) and every learning
rate of a sweep. The compiled functions are cached by the model's math (``Kernel.key``) and
``jax.jit`` caches them by shapes and dtypes, so a second ``fit``, a sweep or a grid search over the
same shapes compiles nothing new. The time a compilation takes is logged (logger ``"arraynet"``,
DEBUG) and counts in ``History.seconds``.

JAX, mini-batches with an optimizer [C2 1.1-1.4] (``CompiledEpochStep``): an epoch is one compiled
call, a ``jax.lax.fori_loop`` over the ``floor(m / b)`` full batches, then, when ``b`` does not
divide ``m``, the short last batch: the same body traced for its own shape (no padding), run under a
``jax.lax.cond`` in the same call. The body is ``batch_step`` as it is. A shuffled epoch gathers
each batch inside the call from the epoch's permutation, as rows of a copy of ``X`` with the
examples in rows (made once per fit, at its first shuffled epoch, and dropped with the step: it
holds ``X``'s size again while the fit runs), which XLA's CPU gather reads several times faster than
the same, strided, columns of ``X`` as ``fit`` has it, ``(n_x, m)`` (2 ms against 0.3 ms for 4096
examples of 40 features); an epoch in order cuts ``X`` with ``dynamic_slice``. The permutation (int32
indices), the updates' scalars (``EpochPlan.scalars``, an array of the parameters' dtype) and the
range of batches are arguments, so one compilation serves every epoch, every learning rate and
decay, and every fit of the same shapes (one for shuffled epochs, one for epochs in order); the
functions are cached by ``(Kernel.key, optimizer)``, with ``CompiledStep``'s trial trace. The
epoch's cost, the batches' costs times their sizes over ``m`` [C2 1.1], is summed inside the call.
The parameters' and the state's buffers are donated to the call (updated in place): the arrays
``create`` was given and those ``snapshot`` handed out are copied once before the next call
instead. An epoch that would run longer than ``_CHUNK`` seconds is cut into several calls (measured
on the way), so Ctrl-C is seen between them; several epochs per call would save one dispatch (tens
of microseconds) per epoch, nothing an epoch of more than a few batches notices.

What the epoch step saves is the dispatch per batch, not arithmetic: its loop body costs what a JAX
user's own ``jax.jit``'ed Optax Adam step costs in the same compiled loop (within a few percent, on
one CPU thread). On a CPU the batches' arithmetic dominates from small batches up:
``benchmarks/minibatch_jax.py`` measures it against the user's Python loop over batches.

The numbers are the generic kernel's to rounding, not bit for bit: XLA fuses the elementwise
operations and may reorder them. In float64 the costs agree within 1e-9 relative after hundreds
of iterations; in float32 within 1e-4 over the tests' 60 iterations, but rounding differences grow
along a trajectory (1e-2 after 3,000 iterations of a small ReLU net that a review measured), as
they do between any two float32 libraries. The epoch step against ``GenericEpochStep`` on the same
arrays (tests/test_epoch_compiled.py, 8 and 15 epochs of 4 to 100 updates, every optimizer): costs,
parameters and optimizer state within 1e-9 relative in float64 (measured: 1e-14, 2e-12 for RMSprop)
and 1e-4 in float32 (measured: 4e-6), except RMSprop in float32, 2e-2 (measured: 3e-3 on one weight
array; its ``dW / (sqrt(s) + epsilon)`` turns a gradient that is rounding noise into a step of
about the learning rate, and the generic step on NumPy and on JAX part further than that).

L2 regularization [C2 2.1] (``Kernel.l2``): ``lambd`` is an argument of the compiled calls, like the
learning rate, so one compilation serves every ``lambd``; a training without it (``l2=0``) runs the
functions compiled without the term (cached apart, under the key with ``_L2`` appended where there
is one), so its numbers are those it had before regularization existed.

JAX keeps compiled code per shape: a sweep over many data sizes holds one compilation each (about
25 MB apiece for a small net here).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from array_api_compat import device

from ..backends import backend_name, is_jax_namespace
from ..kernel.dropout import Dropout
from ..kernel.optimizers import Optimizer
from .base import Kernel, NotApplicable, Validation
from .generic import batch_step, gather, train_step
from .plan import EpochPlan

__all__ = ["CompiledEpochStep", "CompiledStep"]

logger = logging.getLogger("arraynet")

_CHUNK = 0.25  # seconds a compiled call of advance may run: how soon Ctrl-C is seen
_MAX_CHUNK = 2**31 - 1  # the loop's bound is an int32 where JAX's float64 mode is off
_FIRST_CHUNK = 1000  # mini-batches in an epoch step's first compiled call, before any is timed

# Kernel.key -> (one iteration, n iterations), jitted; (Kernel.key, _L2) for those with the L2 term
_COMPILED: dict[Hashable, tuple[Callable[..., Any], Callable[..., Any]]] = {}
# held while a step looks up, builds and first traces a cache entry: threads fitting at once see an entry
# only after its trial trace worked (a thread that took another's entry before its trace failed crashed)
_LOCK = threading.RLock()


# (Kernel.key, optimizer) -> the jitted run of an epoch's batches (CompiledEpochStep);
# (Kernel.key, optimizer, _L2) for those with the L2 term
_EPOCH_COMPILED: dict[tuple[Hashable, ...], Callable[..., Any]] = {}


class _Regularized:
    """The marker that a cache key of a compiled function with the L2 term [C2 2.1] ends in
    (``lambd`` is its argument: one function for every ``lambd`` > 0)."""

    def __repr__(self) -> str:
        return "_L2"


_L2 = _Regularized()


def _iteration_key(kernel: Kernel) -> Hashable:
    """What ``_COMPILED`` holds ``kernel``'s functions under: its key, with ``_L2`` where it regularizes."""
    return (kernel.key, _L2) if kernel.l2 else kernel.key


def _epoch_key(kernel: Kernel, optimizer: Optimizer) -> tuple[Hashable, ...]:
    """What ``_EPOCH_COMPILED`` holds the epoch's run of ``kernel`` and ``optimizer`` under, with its
    dropout's keep_prob [C2 2.2] where it has one (which layers drop, and how many, are traced)."""
    key = (kernel.key, optimizer, _L2) if kernel.l2 else (kernel.key, optimizer)
    return (*key, ("keep_prob", kernel.keep_prob)) if kernel.keep_prob else key


def _checked_key(kernel: Kernel, xp: ModuleType, *more: Hashable) -> tuple[Hashable, ...]:
    """``(kernel.key, *more)``, the key a compiled step caches by, or ``NotApplicable`` saying why
    this training cannot be compiled (not JAX, a model whose math has no key or an unhashable one)."""
    if not is_jax_namespace(xp):
        raise NotApplicable(f"no compiler is used for {backend_name(xp)} arrays (JAX's is)")
    if kernel.key is None:
        raise NotApplicable("the model's math has no Kernel.key to cache its compilation by")
    key = (kernel.key, *more)
    try:
        hash(key)
    except TypeError as exc:  # an activation with unhashable settings (a list of coefficients)
        raise NotApplicable(f"the model's math cannot be a cache key: {exc}") from exc
    return key


def _traced(cache: dict[Any, Any], key: Hashable, build: Callable[[], Any], trial: Callable[[Any], tuple[Any, tuple[Any, ...]]]) -> Any:
    """``cache[key]``, built by ``build()`` (which stores it there) the first time, when a first trace
    of it works: ``trial(entry)`` gives the function and the arguments that ``jax.eval_shape``
    traces without running; math JAX cannot trace is ``NotApplicable`` (the generic step runs it) and
    leaves no entry. Under ``_LOCK``, so that threads fitting at once see an entry only after its
    trial trace worked."""
    with _LOCK:
        new = key not in cache
        entry = build()
        if new:
            import jax

            function, arguments = trial(entry)
            try:
                jax.eval_shape(function, *arguments)
            except Exception as exc:
                del cache[key]
                raise NotApplicable(f"JAX cannot compile the model's math ({type(exc).__name__}: {exc})") from exc
        return entry


def _compiled(kernel: Kernel, xp: ModuleType) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The jitted ``(one, many)`` of ``kernel``: ``one(parameters, X, Y, learning_rate, l2) ->
    (parameters, J)``, one iteration and the cost (``kernel.cost``: [C1 2.3], [C2 3] for a softmax
    output) of the parameters it started from (in the same call: eager, the cost's few operations
    on a (1, m) array were as many dispatches), and ``many(parameters, X, Y, learning_rate, l2, n) ->
    parameters``. ``l2`` is ``lambd`` [C2 2.1], used where ``kernel`` regularizes (and ignored
    otherwise)."""
    key = _iteration_key(kernel)
    if key not in _COMPILED:
        import jax

        step, cost, regularized_cost = train_step(kernel, xp), kernel.cost, kernel.regularized_cost

        def one(parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, l2: Any) -> tuple[dict[str, Any], Any]:
            updated, ZL = step(parameters, X, Y, learning_rate, l2)
            return updated, regularized_cost(cost(ZL, Y, xp), parameters, X.shape[1], xp, l2)

        def many(parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, l2: Any, n: int) -> Any:
            return jax.lax.fori_loop(0, n, lambda _, current: step(current, X, Y, learning_rate, l2)[0], dict(parameters))

        _COMPILED[key] = (jax.jit(one), jax.jit(many))
    return _COMPILED[key]


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
        _checked_key(kernel, xp)

        def trial(compiled: tuple[Any, Any]) -> tuple[Any, Any]:
            return compiled[0], (dict(parameters), X, Y, learning_rate, kernel.l2)

        one, many = _traced(_COMPILED, _iteration_key(kernel), lambda: _compiled(kernel, xp), trial)
        return cls(one, many, parameters, X, Y, learning_rate, kernel.l2)

    def __init__(
        self, one: Any, many: Any, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, l2: float = 0.0
    ) -> None:
        self._one, self._many = one, many
        self.parameters = dict(parameters)  # JAX arrays are immutable: nothing here is changed in place
        self._X, self._Y, self._learning_rate, self._l2 = X, Y, learning_rate, l2
        self._updated = self.parameters
        self._chunk = 1000  # iterations per compiled call, resized to about _CHUNK seconds

    def cost(self) -> Any:
        self._updated, cost = _call(
            self._one, "the training step", self.parameters, self._X, self._Y, self._learning_rate, self._l2
        )
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
                self._many, "the loop of training steps", self.parameters, self._X, self._Y, self._learning_rate, self._l2,
                chunk,
            )
            n -= chunk
            if n > 0:  # the next chunk sized from this one's time, once the work is done
                import jax

                jax.block_until_ready(self.parameters)
                seconds = time.perf_counter() - start
                self._chunk = max(1, int(chunk * _CHUNK / seconds)) if seconds > 0 else 2 * chunk


def _compiled_epoch(kernel: Kernel, optimizer: Optimizer, xp: ModuleType) -> Callable[..., Any]:
    """The jitted run of an epoch's batches for ``kernel`` and ``optimizer``:

    ``run(parameters, state, X, Y, index, scalars, total, first, last, finish, batch_size, l2, keys, offset,
    X_val, Y_val, evaluate) -> (parameters, state, total, total / m, evaluated)``: the full batches
    ``first, ..., last - 1``, then, where
    ``finish`` and ``b`` does not divide ``m``, the short last batch; each one ``batch_step`` with
    row ``k`` of ``scalars`` (batch ``k``) and ``lambd = l2`` (where ``kernel`` regularizes [C2
    2.1]), its cost times its size added to ``total``. Batch ``k``
    is the examples ``index[k b : (k + 1) b]``, rows of ``X`` given with the examples in rows,
    ``(m, n_x)``, and columns of ``Y``; or, where ``index`` is None, the columns ``k b : (k + 1) b``
    of ``X`` as ``fit`` has it, ``(n_x, m)``, and of ``Y``. Where ``kernel`` has dropout [C2 2.2],
    batch ``k`` drops the units of the masks of ``keys[k]`` for its examples' indices (as
    ``dropout_examples`` gives them: ``offset`` plus their index here). With validation data
    ``(X_val, Y_val)`` (None: none), ``evaluated`` is ``Kernel.evaluate``'s ``(J, hits)`` of the
    parameters the call ends with where ``evaluate`` (zeros otherwise: a call that does not end a
    recorded epoch), else None. ``batch_size`` is static; everything else is an argument, so one
    compilation per shapes and dtypes (and per ``index`` and validation data given or None) serves
    every epoch. ``parameters`` and ``state`` are donated."""
    key = _epoch_key(kernel, optimizer)
    if key not in _EPOCH_COMPILED:
        import jax

        step = batch_step(kernel, optimizer, xp)
        whole_rows = jax.lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))

        def run(
            parameters: Mapping[str, Any],
            state: Mapping[str, Any],
            X: Any,
            Y: Any,
            index: Any,
            scalars: Any,
            total: Any,
            first: Any,
            last: Any,
            finish: Any,
            batch_size: int,
            l2: Any,
            keys: Any,
            offset: Any,
            X_val: Any,
            Y_val: Any,
            evaluate: Any,
        ) -> tuple[dict[str, Any], dict[str, Any], Any, Any, tuple[Any, Any] | None]:
            m = Y.shape[1]
            full = m // batch_size
            rest = m - full * batch_size

            def batch(start: Any, size: int) -> tuple[Any, Any]:
                if index is None:  # X as given, (n_x, m): the batch is a slice
                    if size == m:
                        return X, Y
                    return (
                        jax.lax.dynamic_slice_in_dim(X, start, size, axis=1),
                        jax.lax.dynamic_slice_in_dim(Y, start, size, axis=1),
                    )
                # X as examples in rows, (m, n_x): a batch is `size` rows of n_x contiguous values, which
                # XLA's CPU gather reads several times faster than the same (strided) columns of (n_x, m)
                rows = jax.lax.dynamic_slice_in_dim(index, start, size)
                X_b = jax.lax.gather(
                    X,
                    rows[:, None],
                    whole_rows,
                    (1, X.shape[1]),
                    unique_indices=True,
                    mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS,  # a permutation of range(m)
                )
                return X_b.T, xp.take(Y, rows, axis=1)

            def dropout(k: Any, start: Any, size: int) -> Dropout | None:
                if not kernel.keep_prob:
                    return None
                if index is None:
                    examples = start + xp.arange(size, dtype=xp.int32)
                else:
                    examples = jax.lax.dynamic_slice_in_dim(index, start, size)
                return Dropout(kernel.keep_prob, keys[k], examples + offset)  # indices in the data

            def update(k: Any, size: int, carry: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
                parameters, state, total = carry
                X_b, Y_b = batch(k * batch_size, size)
                parameters, state, cost = step(parameters, state, X_b, Y_b, scalars[k], l2, dropout(k, k * batch_size, size))
                return parameters, state, total + cost * size

            carry: tuple[Any, Any, Any] = (dict(parameters), dict(state), total)
            carry = jax.lax.fori_loop(first, last, lambda k, current: update(k, batch_size, current), carry)
            if rest:
                carry = jax.lax.cond(finish, lambda current: update(full, rest, current), lambda current: current, carry)
            updated, new_state, total = carry
            if X_val is None:
                return updated, new_state, total, total / m, None

            def evaluated(parameters: Mapping[str, Any]) -> tuple[Any, Any]:
                return kernel.evaluate(parameters, X_val, Y_val, xp)

            zeros = tuple(xp.zeros(value.shape, dtype=value.dtype) for value in jax.eval_shape(evaluated, updated))
            pair = jax.lax.cond(evaluate, evaluated, lambda _: zeros, updated)
            return updated, new_state, total, total / m, pair

        _EPOCH_COMPILED[key] = jax.jit(run, static_argnums=(10,), donate_argnums=(0, 1))
    return _EPOCH_COMPILED[key]


class CompiledEpochStep:
    """Mini-batch training with an optimizer on JAX arrays, an epoch per compiled call: see the
    module's docstring. Satisfies ``arraynet.steps.EpochStep``."""

    name: ClassVar[str] = "compiled"

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
    ) -> CompiledEpochStep:
        _checked_key(kernel, xp, optimizer)

        def make(run: Any) -> CompiledEpochStep:
            return cls(run, optimizer, parameters, state, X, Y, batch_size, xp, kernel.l2, len(kernel.keep_prob))

        def trial(run: Any) -> tuple[Any, tuple[Any, ...]]:  # the shapes of an epoch of this training
            step = make(run)
            return run, step._arguments(None, step._scalars_shape(), 0, step._full, True, keys=step._keys_shape())

        return make(_traced(_EPOCH_COMPILED, _epoch_key(kernel, optimizer), lambda: _compiled_epoch(kernel, optimizer, xp), trial))

    def __init__(
        self,
        run: Any,
        optimizer: Optimizer,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        xp: ModuleType,
        l2: float = 0.0,
        dropout_layers: int = 0,
    ) -> None:
        self._run, self.xp, self._l2, self._dropout_layers = run, xp, l2, dropout_layers
        self.parameters, self.state = dict(parameters), dict(state)
        self._shared = True  # the arrays are someone else's: copied before a call that donates them
        self._X, self._Y = X, Y
        self._rows: Any = None  # X as examples in rows, (m, n_x), once an epoch is shuffled
        self._m = X.shape[1]
        self._batch_size = min(batch_size, self._m)
        self._full = self._m // self._batch_size
        self.batches = self._full + (1 if self._m % self._batch_size else 0)
        like = next(iter(self.parameters.values()))
        self._dtype, self._device = like.dtype, device(like)
        self._width = len(optimizer.scalars(1.0, 1))
        self._zero = xp.zeros((), dtype=self._dtype, device=self._device)
        self._chunk = _FIRST_CHUNK  # full batches per compiled call, resized to about _CHUNK seconds
        self._validation: Validation | None = None  # the validation data, from the first evaluated epoch on

    def _scalars_shape(self) -> Any:
        import jax

        return jax.ShapeDtypeStruct((self.batches, self._width), self._dtype)

    def _keys_shape(self) -> Any:
        import jax

        return jax.ShapeDtypeStruct((self.batches, self._dropout_layers, 2), self.xp.int32) if self._dropout_layers else None

    def _arguments(
        self,
        index: Any,
        scalars: Any,
        first: int,
        last: int,
        finish: bool,
        total: Any = None,
        keys: Any = None,
        offset: int = 0,
        evaluate: bool = False,
    ) -> tuple[Any, ...]:
        if index is not None and self._rows is None:  # X as examples in rows, for the gathers: one copy
            self._rows = self.xp.permute_dims(self._X, (1, 0))  # per fit, made at its first shuffled epoch
        return (
            self.parameters,
            self.state,
            self._X if index is None else self._rows,
            self._Y,
            index,
            scalars,
            self._zero if total is None else total,
            first,
            last,
            finish,
            self._batch_size,
            self._l2,
            keys,
            offset,
            *((None, None) if self._validation is None else self._validation),
            evaluate,
        )

    def epoch(self, plan: EpochPlan) -> Any:
        """The epoch's batches in compiled calls of at most ``_CHUNK`` seconds' worth each (one call
        unless an epoch takes longer): Ctrl-C is seen between two calls. Returns the epoch's cost, a
        0-d array that nothing waits for until ``fit`` reads it."""
        return self._epoch(plan, False)[0]

    def epoch_evaluated(self, plan: EpochPlan, validation: Validation) -> tuple[Any, Any, Any]:
        """``epoch``, and the validation data's ``(J, hits)`` (``Kernel.evaluate``) with the
        parameters it ends with, computed in its last compiled call: ``(cost, J, hits)``, 0-d arrays.
        The validation data stays an argument of the epochs' calls that follow (which skip the
        evaluation), so the fit's epochs share one compilation."""
        self._validation = validation
        cost, (J, hits) = self._epoch(plan, True)
        return cost, J, hits

    def _epoch(self, plan: EpochPlan, evaluate: bool) -> tuple[Any, Any]:
        """The epoch's cost and, where ``evaluate``, the validation data's ``(J, hits)`` after it."""
        xp = self.xp
        index = gather(plan.order(), self._X, xp)
        scalars = xp.asarray(np.asarray(plan.scalars), dtype=self._dtype, device=self._device)
        keys = None if plan.keys is None else xp.asarray(plan.keys, dtype=xp.int32, device=self._device)
        if self._shared:  # the donated buffers must be ours alone: copies, committed to the device as
            # the call's outputs are (an uncommitted first input would be one more entry in jit's cache)
            import jax

            copies = jax.tree_util.tree_map(lambda value: xp.asarray(value, copy=True), (self.parameters, self.state))
            self.parameters, self.state = jax.device_put(copies, self._device)
            self._shared = False
        first, total = 0, None
        while True:
            last = min(self._full, first + self._chunk)
            finish = last == self._full
            start = time.perf_counter()
            self.parameters, self.state, total, cost, evaluated = _call(
                self._run,
                "an epoch of mini-batch updates",
                *self._arguments(index, scalars, first, last, finish, total, keys, plan.offset, evaluate and finish),
            )
            if finish:
                return cost, evaluated
            import jax  # the next chunk sized from this one's time, once the work is done

            jax.block_until_ready(total)
            seconds = time.perf_counter() - start
            chunk = last - first
            self._chunk = max(1, int(chunk * _CHUNK / seconds)) if seconds > 0 else 2 * chunk
            first = last

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The current parameters and state, handed out as they are: the next epoch copies them
        before it donates their buffers."""
        self._shared = True
        return self.parameters, self.state
