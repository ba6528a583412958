"""The NumPy training step with preallocated buffers: the generic kernel's forward, backward and
update [seed 3.1, 3.5, 4.4] computed operation by operation in the same order, but each into a
buffer allocated once per ``fit`` (``out=``), and the parameters updated in place.

A step of the generic kernel allocates every ``Z``, ``A``, ``dZ`` and gradient afresh; for a large
layer (512 x 8192 in "wide") each is a new ``mmap`` that the kernel must fault in and zero, which
shows as system time. Here they are written over instead. The numbers are those of the generic
kernel, bit for bit: same operations, same operands, same order.

Used only for NumPy arrays of float32 or float64 and the four built-in activations; ``make_step``
returns None otherwise and ``fit`` runs the generic kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..activations import Activation, LeakyReLU, ReLU, Sigmoid, Tanh

__all__ = ["NumpyStep", "make_step"]

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ACTIVATIONS = (Sigmoid, Tanh, ReLU, LeakyReLU)


def make_step(
    parameters: Mapping[str, Any], X: Any, Y: Any, activations: Sequence[Activation], learning_rate: float
) -> NumpyStep | None:
    """The buffered step for this network and data, or None where it does not apply (another
    namespace or dtype, an activation it does not know)."""
    if type(X) is not np.ndarray or X.dtype not in _DTYPES:
        return None
    if any(type(g) not in _ACTIVATIONS for g in activations):
        return None
    if any(type(value) is not np.ndarray or value.dtype != X.dtype for value in parameters.values()):
        return None
    return NumpyStep(parameters, X, Y, activations, learning_rate)


class NumpyStep:
    """One network's batch gradient descent on ``(X, Y)``, in place.

    ``parameters`` is this step's own copy of the parameters, updated in place by ``update``;
    ``snapshot()`` gives a copy the caller may keep. ``forward()`` returns ``Z^[L]`` (for the cost),
    ``update()`` then does backward and the update of that iteration.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any],
        X: np.ndarray,
        Y: np.ndarray,
        activations: Sequence[Activation],
        learning_rate: float,
    ) -> None:
        self.parameters = {key: np.array(value, copy=True) for key, value in parameters.items()}
        self.X, self.Y, self.activations = X, Y, list(activations)
        self.learning_rate = learning_rate
        self.L = L = len(self.activations)
        m, dtype = X.shape[1], X.dtype
        self.scale = 1.0 / m  # dZ^[L] = (A^[L] - Y) / m [seed 2.7], as the generic kernel does it
        self.W = [None] + [self.parameters[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [self.parameters[f"b{l}"] for l in range(1, L + 1)]
        n = [X.shape[0]] + [W.shape[0] for W in self.W[1:]]
        self.Z = [None] + [np.empty((n[l], m), dtype) for l in range(1, L + 1)]
        self.A = [X] + [np.empty((n[l], m), dtype) for l in range(1, L + 1)]
        self.dZ = [None] + [np.empty((n[l], m), dtype) for l in range(1, L + 1)]  # also dA^[l]
        self.scratch = [None] + [np.empty((n[l], m), dtype) for l in range(1, L)]
        self.mask = [None] + [
            np.empty((n[l], m), bool) if isinstance(self.activations[l - 1], LeakyReLU) else None
            for l in range(1, L)
        ]
        self.dW = [None] + [np.empty_like(W) for W in self.W[1:]]
        self.db = [None] + [np.empty_like(b) for b in self.b[1:]]

    def snapshot(self) -> dict[str, np.ndarray]:
        """A copy of the current parameters, which later steps leave alone."""
        return {key: value.copy() for key, value in self.parameters.items()}

    def forward(self) -> np.ndarray:
        """``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])`` [seed 3.1]; returns ``Z^[L]``."""
        Z, A = self.Z, self.A
        for l in range(1, self.L + 1):
            np.matmul(self.W[l], A[l - 1], out=Z[l])
            np.add(Z[l], self.b[l], out=Z[l])
            _activation_forward(self.activations[l - 1], Z[l], A[l])
        return Z[self.L]

    def update(self) -> None:
        """Backpropagation [seed 3.5] from the last ``forward``, then ``W -= alpha dW``,
        ``b -= alpha db`` in place; ``W^[l]`` changes only after ``dA^[l-1] = W^[l]^T dZ^[l]``."""
        L, A, dZ, W, dW, db = self.L, self.A, self.dZ, self.W, self.dW, self.db
        np.subtract(A[L], self.Y, out=dZ[L])
        np.multiply(dZ[L], self.scale, out=dZ[L])
        for l in range(L, 0, -1):
            np.matmul(dZ[l], A[l - 1].T, out=dW[l])
            np.sum(dZ[l], axis=1, keepdims=True, out=db[l])
            if l > 1:
                np.matmul(W[l].T, dZ[l], out=dZ[l - 1])  # dA^[l-1], turned into dZ^[l-1] in place
                _activation_backward(
                    self.activations[l - 2],
                    dZ[l - 1],
                    self.Z[l - 1],
                    A[l - 1],
                    self.scratch[l - 1],
                    self.mask[l - 1],
                )
            np.multiply(dW[l], self.learning_rate, out=dW[l])
            np.subtract(W[l], dW[l], out=W[l])
            np.multiply(db[l], self.learning_rate, out=db[l])
            np.subtract(self.b[l], db[l], out=self.b[l])


def _activation_forward(g: Activation, Z: np.ndarray, A: np.ndarray) -> None:
    """``A = g(Z)``, the operations of ``g.forward`` written into ``A``."""
    if isinstance(g, Sigmoid):  # 0.5 tanh(0.5 z) + 0.5
        np.multiply(Z, 0.5, out=A)
        np.tanh(A, out=A)
        np.multiply(A, 0.5, out=A)
        np.add(A, 0.5, out=A)
    elif isinstance(g, Tanh):
        np.tanh(Z, out=A)
    elif isinstance(g, ReLU):  # max(z, 0)
        np.maximum(Z, 0.0, out=A)
    else:  # leaky ReLU: max(z, slope z)
        np.multiply(Z, g.slope, out=A)
        np.maximum(Z, A, out=A)


def _activation_backward(
    g: Activation, dA: np.ndarray, Z: np.ndarray, A: np.ndarray, scratch: np.ndarray, mask: np.ndarray | None
) -> None:
    """``dZ = dA * g'(Z)`` [seed 3.5] written over ``dA``, the operations of ``g.backward``."""
    if isinstance(g, Sigmoid):  # dA * (a (1 - a))
        np.subtract(1.0, A, out=scratch)
        np.multiply(A, scratch, out=scratch)
        np.multiply(dA, scratch, out=dA)
    elif isinstance(g, Tanh):  # dA * (1 - a^2)
        np.multiply(A, A, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        np.multiply(dA, scratch, out=dA)
    elif isinstance(g, ReLU):  # dA * (z > 0), the mask as 0/1 in dA's dtype
        np.greater(Z, 0.0, out=scratch)
        np.multiply(dA, scratch, out=dA)
    else:  # leaky ReLU: where(z > 0, dA, slope dA): dA scaled where not z > 0
        np.greater(Z, 0.0, out=mask)
        np.logical_not(mask, out=mask)
        np.multiply(dA, g.slope, out=dA, where=mask)
