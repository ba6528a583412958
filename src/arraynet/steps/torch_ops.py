"""``InPlaceOps`` for PyTorch: its functions with ``out=``, for tensors on any device, bound
directly where they take the declared call as it is. Imported only where a tensor is trained."""

from __future__ import annotations

from typing import Any

import torch

from ..kernel.inplace import InPlaceOps, Workspace

__all__ = ["TorchOps"]


class TorchOps(InPlaceOps):
    """PyTorch's functions with ``out=``."""

    matmul = staticmethod(torch.matmul)
    add = staticmethod(torch.add)
    subtract = staticmethod(torch.sub)
    multiply = staticmethod(torch.mul)
    divide = staticmethod(torch.div)
    negative = staticmethod(torch.neg)
    abs = staticmethod(torch.abs)
    exp = staticmethod(torch.exp)
    sqrt = staticmethod(torch.sqrt)
    tanh = staticmethod(torch.tanh)
    maximum = staticmethod(torch.maximum)
    clamp_min = staticmethod(torch.clamp_min)
    greater = staticmethod(torch.gt)
    greater_equal = staticmethod(torch.ge)

    def empty(self, shape: tuple[int, ...], like: Any, boolean: bool = False) -> Any:
        return torch.empty(shape, dtype=torch.bool if boolean else like.dtype, device=like.device)

    def copy(self, a: Any) -> Any:
        return a.clone()

    def assign(self, out: Any, a: Any) -> None:
        out.copy_(a)

    def subtract_from(self, value: float, a: Any, *, out: Any) -> None:
        # -a + value is value - a exactly: IEEE subtraction is the addition of the negation
        torch.neg(a, out=out)
        out.add_(value)

    def keep_where_positive(self, a: Any, z: Any, work: Workspace) -> None:
        # by a 1/0 mask in a's dtype: PyTorch multiplies by a bool tensor 3.6x slower (float32)
        torch.gt(z, 0.0, out=work.values)
        torch.mul(a, work.values, out=a)

    def fill_where(self, a: Any, mask: Any, value: float) -> None:
        a.masked_fill_(mask, value)

    def scale_where_not(self, a: Any, mask: Any, value: float, scratch: Any) -> None:
        torch.mul(a, value, out=scratch)
        torch.where(mask, a, scratch, out=a)

    def sum_columns(self, a: Any, *, out: Any) -> None:
        torch.sum(a, dim=1, keepdim=True, out=out)

    def take_rows(self, a: Any, indices: Any, *, out: Any) -> None:
        torch.index_select(a, 0, indices, out=out)
