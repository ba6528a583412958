"""The buffered step: the generic kernel's forward, backward and update [seed 3.1, 3.5, 4.4]
computed operation by operation in the same order, but each into a buffer allocated once per
``fit``, and the parameters updated in place.

A step of the generic kernel allocates every ``Z``, ``A``, ``dZ`` and gradient afresh; for a large
layer (512 x 8192 in "wide") each is a new ``mmap`` that must be faulted in and zeroed, which shows
as system time, and on PyTorch every operation also goes through the Array API wrappers. Here they
are written over instead, with the library's in-place operations (``arraynet.steps.ops``); each
activation writes itself into its buffer (``Activation.forward_into`` / ``backward_into``), so an
activation the library does not ship keeps the buffered products. The numbers are those of the
generic kernel, bit for bit: same operations, same operands, same order.

Used for L-layer networks on NumPy and PyTorch CPU in float32 or float64 (``ops_for``: PyTorch on
CUDA is not measured yet, so it keeps the generic kernel).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, ClassVar

from array_api_compat import device

from ..kernel.activations import Activation
from ..kernel.inplace import InPlaceOps, Workspace
from .base import Kernel, NotApplicable, OneByOne
from .ops import ops_for

__all__ = ["BufferedStep"]


class BufferedStep(OneByOne):
    """One network's batch gradient descent on ``(X, Y)``, in place.

    ``parameters`` is this step's own copy of the parameters, updated in place by ``update``;
    ``snapshot()`` gives a copy the caller may keep. ``forward()`` returns ``Z^[L]`` (for the cost),
    ``update()`` then does backward and the update of that iteration.
    """

    name: ClassVar[str] = "buffered"

    @classmethod
    def create(
        cls, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> BufferedStep:
        if kernel.activations is None:
            raise NotApplicable("the model is not an L-layer network (W1, b1, ..., WL, bL)")
        ops = ops_for(xp, X)
        if ops is None:
            raise NotApplicable(f"no in-place operations for {type(X).__name__} of dtype {X.dtype} on {device(X)}")
        if any(value.dtype != X.dtype or device(value) != device(X) for value in parameters.values()):
            raise NotApplicable("the parameters are not in X's dtype and on its device")
        return cls(parameters, X, Y, kernel.activations, learning_rate, ops)

    def __init__(
        self,
        parameters: Mapping[str, Any],
        X: Any,
        Y: Any,
        activations: Sequence[Activation],
        learning_rate: float,
        ops: InPlaceOps,
    ) -> None:
        self.ops, self.xp = ops, ops.xp
        self.parameters = {key: ops.copy(value) for key, value in parameters.items()}
        self.X, self.Y, self.activations = X, Y, list(activations)
        self.learning_rate = learning_rate
        self.L = L = len(self.activations)
        m = X.shape[1]
        self.scale = 1.0 / m  # dZ^[L] = (A^[L] - Y) / m [seed 2.7], as the generic kernel does it
        self.W = [None] + [self.parameters[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [self.parameters[f"b{l}"] for l in range(1, L + 1)]
        n = [X.shape[0]] + [W.shape[0] for W in self.W[1:]]

        def buffers(boolean: bool = False) -> list[Any]:
            return [None] + [ops.empty((n[l], m), X, boolean) for l in range(1, L + 1)]

        self.Z, self.A, self.dZ = buffers(), [X] + buffers()[1:], buffers()  # dZ also holds dA^[l]
        self.work: list[Any] = [None] + [Workspace(values, mask) for values, mask in zip(buffers()[1:], buffers(True)[1:])]
        self.dW = [None] + [ops.empty(tuple(W.shape), W) for W in self.W[1:]]
        self.db = [None] + [ops.empty(tuple(b.shape), b) for b in self.b[1:]]

    def snapshot(self) -> dict[str, Any]:
        """A copy of the current parameters, which later steps leave alone."""
        return {key: self.ops.copy(value) for key, value in self.parameters.items()}

    def forward(self) -> Any:
        """``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])`` [seed 3.1]; returns ``Z^[L]``."""
        ops, Z, A, work = self.ops, self.Z, self.A, self.work
        for l, g in enumerate(self.activations, start=1):
            ops.matmul(self.W[l], A[l - 1], out=Z[l])
            ops.add(Z[l], self.b[l], out=Z[l])
            g.forward_into(Z[l], A[l], work[l], ops)
        return Z[self.L]

    def update(self) -> None:
        """Backpropagation [seed 3.5] from the last ``forward``, then ``W -= alpha dW``,
        ``b -= alpha db`` in place; ``W^[l]`` changes only after ``dA^[l-1] = W^[l]^T dZ^[l]``."""
        ops, L, Z, A, dZ, W, dW, db = self.ops, self.L, self.Z, self.A, self.dZ, self.W, self.dW, self.db
        ops.subtract(A[L], self.Y, out=dZ[L])
        ops.multiply(dZ[L], self.scale, out=dZ[L])
        for l in range(L, 0, -1):
            ops.matmul(dZ[l], A[l - 1].T, out=dW[l])
            ops.sum_columns(dZ[l], out=db[l])
            if l > 1:
                ops.matmul(W[l].T, dZ[l], out=dZ[l - 1])  # dA^[l-1], turned into dZ^[l-1] in place
                self.activations[l - 2].backward_into(dZ[l - 1], Z[l - 1], A[l - 1], self.work[l - 1], ops)
            ops.multiply(dW[l], self.learning_rate, out=dW[l])
            ops.subtract(W[l], dW[l], out=W[l])
            ops.multiply(db[l], self.learning_rate, out=db[l])
            ops.subtract(self.b[l], db[l], out=self.b[l])
