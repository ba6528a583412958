"""The course's optimizers [C2 1.2-1.4] and learning-rate decay [C2 1.5].

An optimizer is a pair of pure functions, as Optax writes them: ``init(parameters) -> state`` and
``update(parameters, grads, state, learning_rate, t) -> (parameters, state)``. ``t`` is the 1-based
number of this update, counted across epochs and fits (the course's Adam counter); ``grads`` are
backpropagation's (``dW1``, ``db1``, ...); the state is a dict of dicts named as the course names
it, ``state["v"]["dW1"]`` and ``state["s"]["db2"]``, arrays of the parameters' library, device and
dtype (a JAX pytree without registration, picklable for Dask tasks). Nothing is changed in place.

Each update is split in two so that every step computes the same numbers: ``scalars(learning_rate,
t)``, the Python floats that depend on ``t`` (the learning rate, Adam's bias corrections
``1 - beta1^t`` and ``1 - beta2^t``), computed on the host in float64, and ``_apply(parameters,
grads, state, scalars, xp)``, the array arithmetic, which takes them as arguments (a compiled loop
passes them in as arrays, one row per update).

Each optimizer also has an in-place form, ``_apply_into(parameters, grads, state, scalars, ops,
scratch)``, which writes ``_apply``'s numbers over the arrays it is given, operation for operation in
``_apply``'s order, with the operations of ``arraynet.kernel.inplace`` (what the buffered epoch step
runs: the same bits, nothing allocated). The base class's form runs ``_apply`` and copies its result
in, so an optimizer defined by ``_apply`` alone works there too (as an activation's in-place form).

The formulas are the course's, not a library's: momentum averages with ``(1 - beta)`` (PyTorch's SGD
momentum does not), and Adam keeps ``v`` and ``s`` uncorrected and divides by
``sqrt(s_corrected) + epsilon`` (Keras and scikit-learn fold the corrections into the learning rate,
which moves ``epsilon``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, ClassVar

from .._validation import check_learning_rate, check_mapping, check_parameters
from ..backends import namespace_of
from .activations import _copy_into
from .inplace import InPlaceOps
from .propagation import _update, check_update_arguments

__all__ = [
    "Adam",
    "Decay",
    "GradientDescent",
    "Momentum",
    "Optimizer",
    "OptimizerLike",
    "RMSprop",
    "get_optimizer",
]

State = dict[str, dict[str, Any]]


def _check_fraction(value: Any, argument: str, owner: str) -> float:
    """A hyperparameter in [0, 1): a decay rate of an average."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{owner}: {argument} must be a number in [0, 1), e.g. 0.9; got {value!r}")
    return float(value)


def _check_epsilon(value: Any, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0.0 < float(value) < math.inf):
        raise ValueError(f"{owner}: epsilon must be a positive number, e.g. 1e-8; got {value!r}")
    return float(value)


class Optimizer:
    """Base class of the optimizers: see the module's docstring. A subclass names its state's
    averages in ``averages`` (``("v",)``, ``("s",)``, ``("v", "s")``), and defines ``scalars`` and
    ``_apply``. Two optimizers of one class whose ``hyperparameters()`` are the same are equal (a fit
    continues from a model's optimizer state only with an equal optimizer, and a compiled step
    reuses what it compiled for an equal one); a subclass that does not define
    ``hyperparameters`` is equal only to itself, since its settings are unknown."""

    name: ClassVar[str]
    averages: ClassVar[tuple[str, ...]] = ()

    def hyperparameters(self) -> dict[str, float]:
        """The optimizer's settings by name, as its constructor takes them."""
        return {}

    def __eq__(self, other: object) -> bool:
        if type(self).hyperparameters is Optimizer.hyperparameters:  # settings it does not declare: itself only
            return other is self
        return type(other) is type(self) and other.hyperparameters() == self.hyperparameters()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        if type(self).hyperparameters is Optimizer.hyperparameters:
            return id(self)
        return hash((type(self), tuple(self.hyperparameters().items())))

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in self.hyperparameters().items())
        return f"{type(self).__name__}({settings})"

    # -- the pure functions ----------------------------------------------------------------------
    def init(self, parameters: Mapping[str, Any]) -> State:
        """The state before the first update: each average zero, in the parameters' shapes,
        library, device and dtype [C2 1.2]."""
        check_update_arguments(parameters, {f"d{key}": value for key, value in parameters.items()}, 1.0)
        return self._init(parameters, namespace_of(next(iter(parameters.values()))))

    def _init(self, parameters: Mapping[str, Any], xp: ModuleType) -> State:
        return {name: {f"d{key}": xp.zeros_like(value) for key, value in parameters.items()} for name in self.averages}

    def update(
        self, parameters: Mapping[str, Any], grads: Mapping[str, Any], state: Mapping[str, Any], learning_rate: float, t: int
    ) -> tuple[dict[str, Any], State]:
        """One update of ``parameters`` by ``grads``: ``(new parameters, new state)``, new arrays."""
        parameters, grads, learning_rate = check_update_arguments(parameters, grads, learning_rate)
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ValueError(f"t must be the 1-based number of this update (an int >= 1); got {t!r}")
        state = self.check_state(state, parameters)
        xp = namespace_of(next(iter(parameters.values())))
        return self._apply(parameters, grads, state, self.scalars(learning_rate, t), xp)

    def check_state(self, state: Any, parameters: Mapping[str, Any]) -> State:
        """``state`` as ``init(parameters)`` makes it, checked: its averages and, in each, one array
        per parameter of its shape, library, device and dtype."""
        check_mapping(state, "state")
        if set(state) != set(self.averages):
            raise ValueError(
                f"state must hold {list(self.averages)} for {self!r} (as its init returns it); got keys {list(state)}: "
                "a state of another optimizer or model? Start from init(parameters)"
            )
        like = next(iter(parameters.values()))
        shapes = {f"d{key}": tuple(value.shape) for key, value in parameters.items()}
        return {name: check_parameters(state[name], shapes, f"state[{name!r}]", like)[0] for name in self.averages}

    def scalars(self, learning_rate: float, t: int) -> tuple[float, ...]:
        """The numbers of update ``t`` that are the same for every array, as host float64 values."""
        return (learning_rate,)

    def _apply(
        self, parameters: Mapping[str, Any], grads: Mapping[str, Any], state: State, scalars: Any, xp: ModuleType
    ) -> tuple[dict[str, Any], State]:
        raise NotImplementedError

    # -- the in-place form -----------------------------------------------------------------------
    # whether ``_apply_into`` computes every element alike whatever array holds it, reading no
    # name and no shape (the built-in forms): a step may then hand it all the parameters packed in
    # one flat array (and the gradients, each average and the scratch alike), one operation per
    # array instead of one per parameter, with the same numbers element for element. False for the
    # default form (``_apply`` may read names and shapes) and for a subclass that redefines
    # ``_apply`` or ``_apply_into`` without setting it.
    _elementwise: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass that redefines ``_apply`` but not ``_apply_into`` gets the default in-place
        form back, not its parent's, which spells the parent's formula."""
        super().__init_subclass__(**kwargs)
        if "_apply" in vars(cls) and "_apply_into" not in vars(cls):
            cls._apply_into = vars(Optimizer)["_apply_into"]  # type: ignore[method-assign]
        if ("_apply" in vars(cls) or "_apply_into" in vars(cls)) and "_elementwise" not in vars(cls):
            cls._elementwise = False

    def _apply_into(
        self,
        parameters: Mapping[str, Any],
        grads: Mapping[str, Any],
        state: State,
        scalars: Any,
        ops: InPlaceOps,
        scratch: Mapping[str, Any],
    ) -> None:
        """``_apply``'s update written in place: ``parameters`` and the arrays of ``state`` become
        ``_apply(parameters, grads, state, scalars, ops.xp)``'s; ``grads`` and ``scratch`` (one array
        per gradient, of its shape and dtype) may be written over. This form runs ``_apply`` and
        copies its result in (each array of the shape and dtype it replaces; a result that is one of
        the arrays given is copied before any of them is written over)."""
        updated, new_state = self._apply(parameters, grads, state, scalars, ops.xp)
        what = f"{type(self).__name__}._apply"
        if set(updated) != set(parameters) or set(new_state) != set(state) or any(
            set(new_state[name]) != set(average) for name, average in state.items()
        ):
            raise TypeError(
                f"{what} must return the parameters it was given, {sorted(parameters)}, and a state with the averages "
                f"and keys of the state it was given; got {sorted(updated)} and "
                f"{ {name: sorted(average) for name, average in new_state.items()} }"
            )
        pairs = [(parameters[key], updated[key]) for key in parameters]
        pairs += [(average[key], new_state[name][key]) for name, average in state.items() for key in average]
        given = {id(array) for array in (*parameters.values(), *grads.values(), *scratch.values())}
        given |= {id(array) for average in state.values() for array in average.values()}
        pairs = [(buffer, ops.copy(result) if id(result) in given and result is not buffer else result) for buffer, result in pairs]
        for buffer, result in pairs:
            if result is not buffer:
                _copy_into(buffer, result, ops, what)


class GradientDescent(Optimizer):
    """``W = W - alpha dW``, ``b = b - alpha db`` [C1 3.5]: the course's gradient descent, with no
    state. On one batch of all ``m`` examples, batch gradient descent; on mini-batches, mini-batch
    gradient descent [C2 1.1]."""

    name = "gd"
    _elementwise = True

    def hyperparameters(self) -> dict[str, float]:
        """None: every ``GradientDescent()`` is the same optimizer."""
        return {}

    def _apply(
        self, parameters: Mapping[str, Any], grads: Mapping[str, Any], state: State, scalars: Any, xp: ModuleType
    ) -> tuple[dict[str, Any], State]:
        return _update(parameters, grads, scalars[0]), state

    def _apply_into(
        self,
        parameters: Mapping[str, Any],
        grads: Mapping[str, Any],
        state: State,
        scalars: Any,
        ops: InPlaceOps,
        scratch: Mapping[str, Any],
    ) -> None:
        """``W = W - (alpha dW)`` over ``W``, ``alpha dW`` over ``dW``."""
        learning_rate = scalars[0]
        for key, value in parameters.items():
            g = grads[f"d{key}"]
            ops.multiply(g, learning_rate, out=g)
            ops.subtract(value, g, out=value)


class Momentum(Optimizer):
    """Gradient descent with momentum [C2 1.2]:
    ``v_dW = beta v_dW + (1 - beta) dW``, ``W = W - alpha v_dW`` (and the same for ``b``), ``v``
    starting at zero, with no bias correction. Not PyTorch's SGD momentum (``v = beta v + dW``)."""

    name = "momentum"
    averages = ("v",)
    _elementwise = True

    def __init__(self, beta: float = 0.9) -> None:
        self.beta = _check_fraction(beta, "beta", "Momentum")

    def hyperparameters(self) -> dict[str, float]:
        return {"beta": self.beta}

    def _apply(
        self, parameters: Mapping[str, Any], grads: Mapping[str, Any], state: State, scalars: Any, xp: ModuleType
    ) -> tuple[dict[str, Any], State]:
        (learning_rate,) = scalars
        beta, rest = self.beta, 1.0 - self.beta
        v = {d: beta * state["v"][d] + rest * grads[d] for d in grads}
        return {key: value - learning_rate * v[f"d{key}"] for key, value in parameters.items()}, {"v": v}

    def _apply_into(
        self,
        parameters: Mapping[str, Any],
        grads: Mapping[str, Any],
        state: State,
        scalars: Any,
        ops: InPlaceOps,
        scratch: Mapping[str, Any],
    ) -> None:
        """``v = (beta v) + ((1 - beta) dW)`` over ``v``, then ``W = W - (alpha v)``; ``dW`` holds
        the products."""
        (learning_rate,) = scalars
        beta, rest = self.beta, 1.0 - self.beta
        for key, value in parameters.items():
            d = f"d{key}"
            g, v = grads[d], state["v"][d]
            ops.multiply(v, beta, out=v)
            ops.multiply(g, rest, out=g)
            ops.add(v, g, out=v)
            ops.multiply(v, learning_rate, out=g)
            ops.subtract(value, g, out=value)


class RMSprop(Optimizer):
    """RMSprop [C2 1.3]: ``s_dW = beta2 s_dW + (1 - beta2) dW^2`` (element-wise), ``W = W - alpha dW
    / (sqrt(s_dW) + epsilon)`` (and the same for ``b``), ``s`` starting at zero."""

    name = "rmsprop"
    averages = ("s",)
    _elementwise = True

    def __init__(self, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.beta2 = _check_fraction(beta2, "beta2", "RMSprop")
        self.epsilon = _check_epsilon(epsilon, "RMSprop")

    def hyperparameters(self) -> dict[str, float]:
        return {"beta2": self.beta2, "epsilon": self.epsilon}

    def _apply(
        self, parameters: Mapping[str, Any], grads: Mapping[str, Any], state: State, scalars: Any, xp: ModuleType
    ) -> tuple[dict[str, Any], State]:
        (learning_rate,) = scalars
        beta2, rest, epsilon = self.beta2, 1.0 - self.beta2, self.epsilon
        s = {d: beta2 * state["s"][d] + rest * (grads[d] * grads[d]) for d in grads}
        updated = {
            key: value - learning_rate * grads[f"d{key}"] / (xp.sqrt(s[f"d{key}"]) + epsilon)
            for key, value in parameters.items()
        }
        return updated, {"s": s}

    def _apply_into(
        self,
        parameters: Mapping[str, Any],
        grads: Mapping[str, Any],
        state: State,
        scalars: Any,
        ops: InPlaceOps,
        scratch: Mapping[str, Any],
    ) -> None:
        """``s = (beta2 s) + ((1 - beta2) (dW dW))`` over ``s``, then ``W = W - (alpha dW) /
        (sqrt(s) + epsilon)`` (Python's grouping of ``_apply``'s expression); ``dW`` and the
        scratch hold the intermediates."""
        (learning_rate,) = scalars
        beta2, rest, epsilon = self.beta2, 1.0 - self.beta2, self.epsilon
        for key, value in parameters.items():
            d = f"d{key}"
            g, s, work = grads[d], state["s"][d], scratch[d]
            ops.multiply(s, beta2, out=s)
            ops.multiply(g, g, out=work)
            ops.multiply(work, rest, out=work)
            ops.add(s, work, out=s)
            ops.multiply(g, learning_rate, out=g)
            ops.sqrt(s, out=work)
            ops.add(work, epsilon, out=work)
            ops.divide(g, work, out=g)
            ops.subtract(value, g, out=value)


class Adam(Optimizer):
    """Adam [C2 1.4], with ``t`` the 1-based number of the update:

    ``v_dW = beta1 v_dW + (1 - beta1) dW``, ``v_corrected = v_dW / (1 - beta1^t)``,
    ``s_dW = beta2 s_dW + (1 - beta2) dW^2``, ``s_corrected = s_dW / (1 - beta2^t)``,
    ``W = W - alpha v_corrected / (sqrt(s_corrected) + epsilon)`` (and the same for ``b``).

    The state keeps the uncorrected ``v`` and ``s``; ``1 - beta1^t`` and ``1 - beta2^t`` are computed
    on the host in float64 (``scalars``)."""

    name = "adam"
    averages = ("v", "s")
    _elementwise = True

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.beta1 = _check_fraction(beta1, "beta1", "Adam")
        self.beta2 = _check_fraction(beta2, "beta2", "Adam")
        self.epsilon = _check_epsilon(epsilon, "Adam")

    def hyperparameters(self) -> dict[str, float]:
        return {"beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}

    def scalars(self, learning_rate: float, t: int) -> tuple[float, ...]:
        """``(alpha, 1 - beta1^t, 1 - beta2^t)``."""
        return (learning_rate, 1.0 - self.beta1**t, 1.0 - self.beta2**t)

    def _apply(
        self, parameters: Mapping[str, Any], grads: Mapping[str, Any], state: State, scalars: Any, xp: ModuleType
    ) -> tuple[dict[str, Any], State]:
        learning_rate, correction1, correction2 = scalars[0], scalars[1], scalars[2]
        beta1, rest1, beta2, rest2, epsilon = self.beta1, 1.0 - self.beta1, self.beta2, 1.0 - self.beta2, self.epsilon
        v = {d: beta1 * state["v"][d] + rest1 * grads[d] for d in grads}
        s = {d: beta2 * state["s"][d] + rest2 * (grads[d] * grads[d]) for d in grads}
        updated = {}
        for key, value in parameters.items():
            d = f"d{key}"
            updated[key] = value - learning_rate * (v[d] / correction1) / (xp.sqrt(s[d] / correction2) + epsilon)
        return updated, {"v": v, "s": s}

    def _apply_into(
        self,
        parameters: Mapping[str, Any],
        grads: Mapping[str, Any],
        state: State,
        scalars: Any,
        ops: InPlaceOps,
        scratch: Mapping[str, Any],
    ) -> None:
        """``v = (beta1 v) + ((1 - beta1) dW)``, ``s = (beta2 s) + ((1 - beta2) (dW dW))`` over
        ``v`` and ``s``, then ``W = W - (alpha (v / (1 - beta1^t))) / (sqrt(s / (1 - beta2^t)) +
        epsilon)`` (Python's grouping of ``_apply``'s expression); ``dW`` and the scratch hold the
        intermediates."""
        learning_rate, correction1, correction2 = scalars[0], scalars[1], scalars[2]
        beta1, rest1, beta2, rest2, epsilon = self.beta1, 1.0 - self.beta1, self.beta2, 1.0 - self.beta2, self.epsilon
        for key, value in parameters.items():
            d = f"d{key}"
            g, v, s, work = grads[d], state["v"][d], state["s"][d], scratch[d]
            ops.multiply(s, beta2, out=s)
            ops.multiply(g, g, out=work)
            ops.multiply(work, rest2, out=work)
            ops.add(s, work, out=s)
            ops.multiply(v, beta1, out=v)
            ops.multiply(g, rest1, out=g)
            ops.add(v, g, out=v)
            ops.divide(v, correction1, out=g)
            ops.multiply(g, learning_rate, out=g)
            ops.divide(s, correction2, out=work)
            ops.sqrt(work, out=work)
            ops.add(work, epsilon, out=work)
            ops.divide(g, work, out=g)
            ops.subtract(value, g, out=value)


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (GradientDescent, Momentum, RMSprop, Adam)}
OptimizerLike = str | Optimizer


def get_optimizer(optimizer: OptimizerLike, argument: str = "optimizer") -> Optimizer:
    """An ``Optimizer`` from its name ("gd", "momentum", "rmsprop", "adam": the defaults) or itself."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    raise ValueError(
        f"{argument} must be one of {', '.join(map(repr, OPTIMIZERS))} or an optimizer "
        f"(arraynet.Adam(beta1=0.9), ...); got {optimizer!r}"
    )


class Decay:
    """Learning-rate decay [C2 1.5]: ``alpha = alpha0 / (1 + decay_rate * epoch_num)``, or with
    ``time_interval`` the scheduled variant ``alpha0 / (1 + decay_rate * floor(epoch_num /
    time_interval))``. ``epoch_num`` is 0-based and counts the model's epochs across fits; the
    result is a host float64, the same on every backend."""

    def __init__(self, decay_rate: float, time_interval: int = 1) -> None:
        if isinstance(decay_rate, bool) or not isinstance(decay_rate, numbers.Real) or not 0.0 <= decay_rate < math.inf:
            raise ValueError(f"decay_rate must be a finite number >= 0, e.g. 1.0; got {decay_rate!r}")
        if isinstance(time_interval, bool) or not isinstance(time_interval, numbers.Integral) or time_interval < 1:
            raise ValueError(f"time_interval must be a whole number of epochs >= 1; got {time_interval!r}")
        self.decay_rate: float = float(decay_rate)
        self.time_interval: int = int(time_interval)

    def __call__(self, learning_rate: float, epoch: int) -> float:
        return learning_rate / (1.0 + self.decay_rate * (epoch // self.time_interval))

    def __repr__(self) -> str:
        return f"Decay(decay_rate={self.decay_rate!r}, time_interval={self.time_interval!r})"


# decay(learning_rate, epoch) -> the epoch's learning rate
DecayLike = float | Decay | Callable[[float, int], float] | None


def check_decay(decay: DecayLike) -> Callable[[float, int], float] | None:
    """``fit``'s ``decay``: None (no decay), a decay rate (``Decay(rate)``), a ``Decay`` or a
    callable ``decay(learning_rate, epoch) -> learning rate``."""
    if decay is None:
        return None
    if isinstance(decay, numbers.Real) and not isinstance(decay, bool):
        return Decay(float(decay))
    if callable(decay):
        return decay
    raise TypeError(
        f"decay must be None, a decay rate (alpha0 / (1 + decay_rate * epoch)), an arraynet.Decay or a callable "
        f"decay(learning_rate, epoch) -> learning rate; got {decay!r}"
    )


def decayed(decay: Callable[[float, int], float] | None, learning_rate: float, epoch: int) -> float:
    """The learning rate of ``epoch`` under ``decay``, checked to be a positive finite number."""
    if decay is None:
        return learning_rate
    value = decay(learning_rate, epoch)
    if getattr(value, "shape", None) == () and getattr(value, "dtype", None) is not None:  # a 0-d array of any library
        value = float(value)
    try:
        return check_learning_rate(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"decay gave the learning rate {value!r} for epoch {epoch}: {exc}") from None
