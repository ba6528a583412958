"""The in-place operations the buffered step needs, for each library that writes results into a
given array (``out=``): NumPy and PyTorch. Each method performs the same arithmetic as the generic
kernel's expression it stands for, so the buffered step's numbers are the kernel's, bit for bit.

The Array API standard has no ``out=``; this is the one place where the two libraries' spellings of
it differ (PyTorch has no ``where=`` and no scalar-first ``subtract``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NumpyOps", "TorchOps"]


class NumpyOps:
    """NumPy's ufuncs with ``out=``."""

    matmul = staticmethod(np.matmul)
    add = staticmethod(np.add)
    subtract = staticmethod(np.subtract)
    multiply = staticmethod(np.multiply)
    divide = staticmethod(np.divide)
    tanh = staticmethod(np.tanh)
    exp = staticmethod(np.exp)
    abs = staticmethod(np.abs)
    negative = staticmethod(np.negative)
    maximum = staticmethod(np.maximum)

    @staticmethod
    def empty(shape: tuple[int, ...], like: Any, boolean: bool = False) -> Any:
        """An uninitialized array of ``shape`` with ``like``'s dtype (or bool)."""
        return np.empty(shape, bool if boolean else like.dtype)

    @staticmethod
    def copy(a: Any) -> Any:
        return np.array(a, copy=True)

    @staticmethod
    def sum_columns(a: Any, out: Any) -> None:
        """``sum(a, axis=1, keepdims=True)`` into ``out``."""
        np.sum(a, axis=1, keepdims=True, out=out)

    @staticmethod
    def relu(Z: Any, out: Any) -> None:
        """``max(Z, 0)``."""
        np.maximum(Z, 0.0, out=out)

    @staticmethod
    def one_minus(a: Any, out: Any) -> None:
        """``1 - a``."""
        np.subtract(1.0, a, out=out)

    @staticmethod
    def fill_where_nonnegative(a: Any, Z: Any, value: float, mask: Any) -> None:
        """``where(Z >= 0, value, a)`` over ``a``."""
        np.greater_equal(Z, 0.0, out=mask)
        np.copyto(a, value, where=mask)

    @staticmethod
    def positive(Z: Any, out: Any) -> None:
        """``Z > 0`` as 1/0 in ``out``'s dtype."""
        np.greater(Z, 0.0, out=out)

    @staticmethod
    def leaky_relu_backward(dA: Any, Z: Any, slope: float, scratch: Any, mask: Any) -> None:
        """``where(Z > 0, dA, slope dA)`` over ``dA``: ``dA`` scaled where not ``Z > 0``."""
        np.greater(Z, 0.0, out=mask)
        np.logical_not(mask, out=mask)
        np.multiply(dA, slope, out=dA, where=mask)


class TorchOps:
    """PyTorch's functions with ``out=``, for tensors on any device."""

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.matmul, self.add, self.subtract = torch.matmul, torch.add, torch.sub
        self.multiply, self.divide, self.maximum = torch.mul, torch.div, torch.maximum
        self.tanh, self.exp, self.abs, self.negative = torch.tanh, torch.exp, torch.abs, torch.neg

    def empty(self, shape: tuple[int, ...], like: Any, boolean: bool = False) -> Any:
        dtype = self.torch.bool if boolean else like.dtype
        return self.torch.empty(shape, dtype=dtype, device=like.device)

    def copy(self, a: Any) -> Any:
        return a.clone()

    def sum_columns(self, a: Any, out: Any) -> None:
        self.torch.sum(a, dim=1, keepdim=True, out=out)

    def relu(self, Z: Any, out: Any) -> None:
        self.torch.clamp_min(Z, 0.0, out=out)

    def one_minus(self, a: Any, out: Any) -> None:
        # -a + 1 is 1 - a exactly: IEEE subtraction is the addition of the negation
        self.torch.neg(a, out=out)
        out.add_(1.0)

    def fill_where_nonnegative(self, a: Any, Z: Any, value: float, mask: Any) -> None:
        self.torch.ge(Z, 0.0, out=mask)
        a.masked_fill_(mask, value)

    def positive(self, Z: Any, out: Any) -> None:
        self.torch.gt(Z, 0.0, out=out)

    def leaky_relu_backward(self, dA: Any, Z: Any, slope: float, scratch: Any, mask: Any) -> None:
        self.torch.gt(Z, 0.0, out=mask)
        self.torch.mul(dA, slope, out=scratch)
        self.torch.where(mask, dA, scratch, out=dA)
