"""The buffered training step: the generic kernel's forward, backward and update [seed 3.1, 3.5,
4.4] computed operation by operation in the same order, but each into a buffer allocated once per
``fit`` (``out=``), and the parameters updated in place.

A step of the generic kernel allocates every ``Z``, ``A``, ``dZ`` and gradient afresh; for a large
layer (512 x 8192 in "wide") each is a new ``mmap`` that must be faulted in and zeroed, which shows
as system time, and on PyTorch every operation also goes through the Array API wrappers. Here they
are written over instead. The numbers are those of the generic kernel, bit for bit: same
operations, same operands, same order (``arraynet.steps.ops`` spells them for each library).

Used for NumPy arrays and PyTorch CPU tensors of float32 or float64 with the four built-in
activations (PyTorch on CUDA is not measured yet, so it keeps the generic kernel); ``make_step``
returns None otherwise and ``fit`` runs the generic kernel.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from array_api_compat import device

from ..kernel.activations import Activation, LeakyReLU, ReLU, Sigmoid, Tanh
from .ops import NumpyOps, TorchOps

__all__ = ["BufferedStep", "make_step"]

_ACTIVATIONS = (Sigmoid, Tanh, ReLU, LeakyReLU)


def _ops_for(X: Any) -> NumpyOps | TorchOps | None:
    """The operations for ``X``'s library, or None where the buffered step is not used."""
    if type(X) is np.ndarray:
        return NumpyOps() if X.dtype in (np.float32, np.float64) else None
    torch = sys.modules.get("torch")  # X cannot be a tensor unless torch is imported
    if torch is not None and type(X) is torch.Tensor and X.device.type == "cpu":
        return TorchOps() if X.dtype in (torch.float32, torch.float64) else None
    return None


def make_step(
    parameters: Mapping[str, Any], X: Any, Y: Any, activations: Sequence[Activation], learning_rate: float
) -> BufferedStep | None:
    """The buffered step for this network and data, or None where it does not apply (another
    library, device or dtype, an activation it does not know)."""
    ops = _ops_for(X)
    if ops is None or any(type(g) not in _ACTIVATIONS for g in activations):
        return None
    if any(
        type(value) is not type(X) or value.dtype != X.dtype or device(value) != device(X)
        for value in parameters.values()
    ):
        return None
    return BufferedStep(parameters, X, Y, activations, learning_rate, ops)


class BufferedStep:
    """One network's batch gradient descent on ``(X, Y)``, in place.

    ``parameters`` is this step's own copy of the parameters, updated in place by ``update``;
    ``snapshot()`` gives a copy the caller may keep. ``forward()`` returns ``Z^[L]`` (for the cost),
    ``update()`` then does backward and the update of that iteration.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any],
        X: Any,
        Y: Any,
        activations: Sequence[Activation],
        learning_rate: float,
        ops: NumpyOps | TorchOps,
    ) -> None:
        self.ops = ops
        self.parameters = {key: ops.copy(value) for key, value in parameters.items()}
        self.X, self.Y, self.activations = X, Y, list(activations)
        self.learning_rate = learning_rate
        self.L = L = len(self.activations)
        m = X.shape[1]
        self.scale = 1.0 / m  # dZ^[L] = (A^[L] - Y) / m [seed 2.7], as the generic kernel does it
        self.W = [None] + [self.parameters[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [self.parameters[f"b{l}"] for l in range(1, L + 1)]
        n = [X.shape[0]] + [W.shape[0] for W in self.W[1:]]

        def buffers(last: int, boolean: bool = False) -> list[Any]:
            return [None] + [ops.empty((n[l], m), X, boolean) for l in range(1, last + 1)]

        self.Z, self.A, self.dZ = buffers(L), [X] + buffers(L)[1:], buffers(L)  # dZ also holds dA^[l]
        self.scratch = buffers(L)
        self.mask = [None] + [
            ops.empty((n[l], m), X, boolean=True) if isinstance(g, (Sigmoid, LeakyReLU)) else None
            for l, g in enumerate(self.activations, start=1)
        ]
        self.dW = [None] + [ops.empty(tuple(W.shape), W) for W in self.W[1:]]
        self.db = [None] + [ops.empty(tuple(b.shape), b) for b in self.b[1:]]

    def snapshot(self) -> dict[str, Any]:
        """A copy of the current parameters, which later steps leave alone."""
        return {key: self.ops.copy(value) for key, value in self.parameters.items()}

    def forward(self) -> Any:
        """``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])`` [seed 3.1]; returns ``Z^[L]``."""
        ops, Z, A = self.ops, self.Z, self.A
        for l in range(1, self.L + 1):
            ops.matmul(self.W[l], A[l - 1], out=Z[l])
            ops.add(Z[l], self.b[l], out=Z[l])
            self._activation_forward(self.activations[l - 1], l)
        return Z[self.L]

    def update(self) -> None:
        """Backpropagation [seed 3.5] from the last ``forward``, then ``W -= alpha dW``,
        ``b -= alpha db`` in place; ``W^[l]`` changes only after ``dA^[l-1] = W^[l]^T dZ^[l]``."""
        ops, L, A, dZ, W, dW, db = self.ops, self.L, self.A, self.dZ, self.W, self.dW, self.db
        ops.subtract(A[L], self.Y, out=dZ[L])
        ops.multiply(dZ[L], self.scale, out=dZ[L])
        for l in range(L, 0, -1):
            ops.matmul(dZ[l], A[l - 1].T, out=dW[l])
            ops.sum_columns(dZ[l], out=db[l])
            if l > 1:
                ops.matmul(W[l].T, dZ[l], out=dZ[l - 1])  # dA^[l-1], turned into dZ^[l-1] in place
                self._activation_backward(self.activations[l - 2], l - 1)
            ops.multiply(dW[l], self.learning_rate, out=dW[l])
            ops.subtract(W[l], dW[l], out=W[l])
            ops.multiply(db[l], self.learning_rate, out=db[l])
            ops.subtract(self.b[l], db[l], out=self.b[l])

    def _activation_forward(self, g: Activation, l: int) -> None:
        """``A^[l] = g(Z^[l])``, the operations of ``g.forward`` written into ``A^[l]``."""
        ops, Z, A = self.ops, self.Z[l], self.A[l]
        if isinstance(g, Sigmoid):  # where(z >= 0, 1, e) / (1 + e), e = exp(-|z|)
            ops.abs(Z, out=A)
            ops.negative(A, out=A)
            ops.exp(A, out=A)
            ops.add(A, 1.0, out=self.scratch[l])
            ops.fill_where_nonnegative(A, Z, 1.0, self.mask[l])
            ops.divide(A, self.scratch[l], out=A)
        elif isinstance(g, Tanh):
            ops.tanh(Z, out=A)
        elif isinstance(g, ReLU):  # max(z, 0)
            ops.relu(Z, out=A)
        elif isinstance(g, LeakyReLU):  # max(z, slope z)
            ops.multiply(Z, g.slope, out=A)
            ops.maximum(Z, A, out=A)

    def _activation_backward(self, g: Activation, l: int) -> None:
        """``dZ^[l] = dA^[l] * g'(Z^[l])`` [seed 3.5] written over ``dA^[l]``, the operations of
        ``g.backward``."""
        ops, dA, Z, A, scratch = self.ops, self.dZ[l], self.Z[l], self.A[l], self.scratch[l]
        if isinstance(g, Sigmoid):  # dA * (a (1 - a))
            ops.one_minus(A, out=scratch)
            ops.multiply(A, scratch, out=scratch)
            ops.multiply(dA, scratch, out=dA)
        elif isinstance(g, Tanh):  # dA * (1 - a^2)
            ops.multiply(A, A, out=scratch)
            ops.one_minus(scratch, out=scratch)
            ops.multiply(dA, scratch, out=dA)
        elif isinstance(g, ReLU):  # dA * (z > 0), the mask as 0/1 in dA's dtype
            ops.positive(Z, out=scratch)
            ops.multiply(dA, scratch, out=dA)
        elif isinstance(g, LeakyReLU):  # where(z > 0, dA, slope dA)
            ops.leaky_relu_backward(dA, Z, g.slope, scratch, self.mask[l])
