"""Activation functions ``g`` and their derivatives ``g'`` [C1 3.2, 3.4].

Each activation is a small object with ``forward(Z, xp) -> A`` and
``backward(dA, Z, A, xp) -> dZ = dA * g'(Z)`` [C1 3.5]. ``backward`` receives both ``Z`` and
``A = g(Z)`` so that each derivative uses whichever is cheaper (``sigma' = A (1 - A)``,
``tanh' = 1 - A**2``). Calling an activation, or its ``derivative``, on an array works on any
Array API library.

Each also has an in-place form, ``forward_into`` and ``backward_into``, which writes the same
numbers into a given buffer with the operations of ``arraynet.kernel.inplace`` (what the buffered
step runs). The base class's form runs ``forward``/``backward`` and copies the result in, so an
activation defined by ``forward`` and ``backward`` alone works there too; the built-in ones spell
their formula in place and allocate nothing.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..backends import namespace_of
from .inplace import InPlaceOps, Workspace

__all__ = ["Activation", "LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Tanh", "get_activation"]


class Activation:
    """Base class: ``g(Z)`` elementwise, and the backward step through it."""

    name: str = ""

    def forward(self, Z: Any, xp: ModuleType) -> Any:
        raise NotImplementedError

    def backward(self, dA: Any, Z: Any, A: Any, xp: ModuleType) -> Any:
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass that redefines ``forward`` (or ``backward``) but not its in-place form gets
        the default in-place form back, not its parent's, which spells the parent's formula."""
        super().__init_subclass__(**kwargs)
        for generic, in_place in (("forward", "forward_into"), ("backward", "backward_into")):
            if generic in vars(cls) and in_place not in vars(cls):
                setattr(cls, in_place, vars(Activation)[in_place])

    def forward_into(self, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        """``A = g(Z)`` written into ``A``: ``forward``'s result, copied in."""
        _copy_into(A, self.forward(Z, ops.xp), ops, f"{type(self).__name__}.forward")

    def backward_into(self, dA: Any, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        """``dZ = dA * g'(Z)`` [C1 3.5] written over ``dA``: ``backward``'s result, copied in."""
        _copy_into(dA, self.backward(dA, Z, A, ops.xp), ops, f"{type(self).__name__}.backward")

    def __call__(self, Z: Any) -> Any:
        """``g(Z)``."""
        return self.forward(Z, namespace_of(Z))

    def derivative(self, Z: Any) -> Any:
        """``g'(Z)``, elementwise."""
        xp = namespace_of(Z)
        return self.backward(xp.ones_like(Z), Z, self.forward(Z, xp), xp)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


def _copy_into(buffer: Any, result: Any, ops: InPlaceOps, what: str) -> None:
    """``result`` written into ``buffer``, which it must match in shape and dtype: a cast would
    round where the generic kernel keeps (and promotes) the result's dtype."""
    if tuple(result.shape) != tuple(buffer.shape) or result.dtype != buffer.dtype:
        raise TypeError(
            f"{what} must return an array of its input's shape and dtype, {tuple(buffer.shape)} "
            f"{buffer.dtype}; got {tuple(result.shape)} {result.dtype}"
        )
    ops.assign(buffer, result)


class Sigmoid(Activation):
    """``sigma(z) = 1 / (1 + e^{-z})`` [C1 2.2, 3.2], computed with ``e = e^{-|z|}`` as
    ``1 / (1 + e)`` for ``z >= 0`` and ``e / (1 + e)`` for ``z < 0``.

    ``e`` never overflows, and each side is a quotient of two accurate terms, so ``sigma(z)`` keeps
    its relative precision over the whole range (a few ulp), down to the smallest positive numbers:
    ``sigma(-20) = 2.06e-9`` in float32, where ``0.5 tanh(z/2) + 0.5`` has already rounded to 0.
    Derivative: ``sigma'(z) = a (1 - a)`` [C1 2.5].
    """

    name = "sigmoid"

    def forward(self, Z: Any, xp: ModuleType) -> Any:
        e = xp.exp(-xp.abs(Z))
        return xp.where(Z >= 0, 1.0, e) / (1.0 + e)

    def backward(self, dA: Any, Z: Any, A: Any, xp: ModuleType) -> Any:
        return dA * (A * (1.0 - A))

    def forward_into(self, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.abs(Z, out=A)
        ops.negative(A, out=A)
        ops.exp(A, out=A)  # e
        ops.add(A, 1.0, out=work.values)  # 1 + e
        ops.greater_equal(Z, 0.0, out=work.mask)
        ops.fill_where(A, work.mask, 1.0)  # where(z >= 0, 1, e)
        ops.divide(A, work.values, out=A)

    def backward_into(self, dA: Any, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.subtract_from(1.0, A, out=work.values)
        ops.multiply(A, work.values, out=work.values)
        ops.multiply(dA, work.values, out=dA)


class Tanh(Activation):
    """``tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`` [C1 3.2]; ``tanh'(z) = 1 - a^2``."""

    name = "tanh"

    def forward(self, Z: Any, xp: ModuleType) -> Any:
        return xp.tanh(Z)

    def backward(self, dA: Any, Z: Any, A: Any, xp: ModuleType) -> Any:
        return dA * (1.0 - A * A)

    def forward_into(self, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.tanh(Z, out=A)

    def backward_into(self, dA: Any, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.multiply(A, A, out=work.values)
        ops.subtract_from(1.0, work.values, out=work.values)
        ops.multiply(dA, work.values, out=dA)


class ReLU(Activation):
    """``ReLU(z) = max(0, z)`` [C1 3.2]; ``ReLU'(z) = 1`` for ``z > 0``, else 0 (0 at ``z = 0``)."""

    name = "relu"

    def forward(self, Z: Any, xp: ModuleType) -> Any:
        return xp.maximum(Z, 0.0)

    def backward(self, dA: Any, Z: Any, A: Any, xp: ModuleType) -> Any:
        # a product with the 0/1 mask, not ``where(Z > 0, dA, 0)``: NumPy's ``where`` on a mask
        # without pattern is ~8x slower (20 ms against 2.5 ms for the 512 x 8192 layer of "wide")
        return dA * xp.astype(Z > 0, dA.dtype)

    def forward_into(self, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.clamp_min(Z, 0.0, out=A)

    def backward_into(self, dA: Any, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.keep_where_positive(dA, Z, work)


class LeakyReLU(Activation):
    """``LReLU(z) = max(slope z, z)`` [C1 3.2], slope 0.01 by default, ``0 <= slope < 1``.

    Derivative: 1 for ``z > 0``, else ``slope``.
    """

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        if isinstance(slope, bool) or not isinstance(slope, (int, float)) or not 0 <= slope < 1:
            raise ValueError(f"slope must be a number with 0 <= slope < 1; got {slope!r}")
        self.slope = float(slope)

    def forward(self, Z: Any, xp: ModuleType) -> Any:
        return xp.maximum(Z, self.slope * Z)

    def backward(self, dA: Any, Z: Any, A: Any, xp: ModuleType) -> Any:
        return xp.where(Z > 0, dA, self.slope * dA)

    def forward_into(self, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.multiply(Z, self.slope, out=A)
        ops.maximum(Z, A, out=A)

    def backward_into(self, dA: Any, Z: Any, A: Any, work: Workspace, ops: InPlaceOps) -> None:
        ops.greater(Z, 0.0, out=work.mask)
        ops.scale_where_not(dA, work.mask, self.slope, work.values)

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope!r})"


class Softmax(Activation):
    """The output layer of ``C`` classes [C2 3]: ``t = e^{Z^[L]}``, ``A^[L] = t / sum_j t_j``, column by
    column (each example's ``C`` probabilities), computed as ``e^{z - max_j z_j}`` so that no
    exponential overflows. Only an output activation: with the categorical cross-entropy,
    ``dZ^[L] = A^[L] - Y`` [C2 3], which backpropagation uses directly; ``backward`` is the
    general product with its Jacobian, ``dZ = A * (dA - sum_j dA_j A_j)``, for other uses."""

    name = "softmax"

    def forward(self, Z: Any, xp: ModuleType) -> Any:
        t = xp.exp(Z - xp.max(Z, axis=0, keepdims=True))
        return t / xp.sum(t, axis=0, keepdims=True)

    def backward(self, dA: Any, Z: Any, A: Any, xp: ModuleType) -> Any:
        return A * (dA - xp.sum(dA * A, axis=0, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Softmax)
}
ActivationLike = str | Activation


def get_activation(activation: ActivationLike, argument: str = "activation") -> Activation:
    """The activation named ``activation`` ("sigmoid", "tanh", "relu", "leaky_relu", "softmax"), or itself."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]()
    raise ValueError(
        f"{argument} must be one of {', '.join(map(repr, ACTIVATIONS))} or an Activation; "
        f"got {activation!r}"
    )

