"""``InPlaceOps`` (``arraynet.kernel.inplace``) for each library that writes results into a given
array: NumPy here (``out=``, ``where=``), PyTorch in ``torch_ops`` (imported only for tensors).
Each method performs the arithmetic of the Array API expression it stands for, so the buffered
step's numbers are the generic kernel's, bit for bit.

A new library is a subclass of ``InPlaceOps`` (in a module of its own if it imports the library),
with a line in ``ops_for``;
``tests/test_steps.py`` holds it to the base's methods and signatures (library functions bound
directly: to the declared call, by running every operation against its Array API expression).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..backends import is_numpy_namespace, is_torch_namespace
from ..kernel.inplace import InPlaceOps, Workspace

__all__ = ["NumpyOps", "ops_for"]


# the largest array of one value that ``clamp_min`` keeps to compare against (4 MiB): past it
# NumPy's loop for a scalar operand is as fast (memory bound), and for float64 faster
CONSTANT_BYTES = 4 << 20


class NumpyOps(InPlaceOps):
    """NumPy's ufuncs with ``out=``, bound directly where they take the declared call as it is."""

    def __init__(self, xp: ModuleType) -> None:
        super().__init__(xp)
        self._constants: dict[tuple[tuple[int, ...], Any, str], Any] = {}

    add = staticmethod(np.add)
    subtract = staticmethod(np.subtract)
    subtract_from = staticmethod(np.subtract)  # (value, a, out=) is value - a
    multiply = staticmethod(np.multiply)
    divide = staticmethod(np.divide)
    negative = staticmethod(np.negative)
    abs = staticmethod(np.abs)
    exp = staticmethod(np.exp)
    sqrt = staticmethod(np.sqrt)
    tanh = staticmethod(np.tanh)
    maximum = staticmethod(np.maximum)
    greater = staticmethod(np.greater)
    greater_equal = staticmethod(np.greater_equal)

    def empty(self, shape: tuple[int, ...], like: Any, boolean: bool = False) -> Any:
        return np.empty(shape, bool if boolean else like.dtype)

    def copy(self, a: Any) -> Any:
        return np.array(a, copy=True)

    def assign(self, out: Any, a: Any) -> None:
        np.copyto(out, a)

    def matmul(self, a: Any, b: Any, *, out: Any) -> None:
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1 == b.shape[0]:
            # an outer product (dA^[L-1] = W^[L]^T dZ^[L] of one output unit) by broadcasting: BLAS
            # takes 10 against 3.3 us for 32 x 256 float32. matmul sums the one product onto 0, so
            # + 0.0 gives its bits (-0.0 products become 0.0)
            np.multiply(a, b, out=out)
            np.add(out, 0.0, out=out)
        else:
            np.matmul(a, b, out=out)

    def clamp_min(self, a: Any, value: float, *, out: Any) -> None:
        # against an array of value (made once per shape): NumPy's maximum with a scalar operand is
        # not vectorized (6.8 against 2.2 us for 64 x 256 float32, ReLU's forward); the same bits
        if a.nbytes > CONSTANT_BYTES:
            np.maximum(a, value, out=out)
            return
        key = (a.shape, a.dtype, float(value).hex())  # -0.0 apart from 0.0, NaN equal to NaN
        constant = self._constants.get(key)
        if constant is None:
            constant = self._constants[key] = np.full(a.shape, value, a.dtype)
        np.maximum(a, constant, out=out)

    def keep_where_positive(self, a: Any, z: Any, work: Workspace) -> None:
        # by the bool mask: a third of the float mask's time in memory traffic (2.6 against 3.9 ms
        # for the 512 x 8192 float32 layer of "wide"), the same products (True and False are 1 and 0)
        np.greater(z, 0.0, out=work.mask)
        np.multiply(a, work.mask, out=a)

    def fill_where(self, a: Any, mask: Any, value: float) -> None:
        # putmask, not copyto(where=): 0.6 against 1.0 us for a sigmoid output's 256 examples
        np.putmask(a, mask, value)

    def scale_where_not(self, a: Any, mask: Any, value: float, scratch: Any) -> None:
        np.logical_not(mask, out=mask)
        np.multiply(a, value, out=a, where=mask)

    def sum_columns(self, a: Any, *, out: Any) -> None:
        # np.sum's own reduction, without its Python wrapper (3 us a call, 3 calls a batch)
        np.add.reduce(a, axis=1, keepdims=True, out=out)

    def take_rows(self, a: Any, indices: Any, *, out: Any) -> None:
        # mode="wrap": NumPy gathers straight into out; with the default mode="raise" it gathers into
        # a temporary and copies it over (424 against 216 us for 4096 columns of 40 float32
        # features of 250,000, one thread). The indices are a permutation's, in range, where every
        # mode takes the same rows. The method, not np.take: two Python frames less a call
        a.take(indices, axis=0, out=out, mode="wrap")


def ops_for(xp: ModuleType, X: Any) -> InPlaceOps | None:
    """The in-place operations for data ``X`` of namespace ``xp``, or None where there are none
    measured to pay: NumPy arrays, and PyTorch tensors on the CPU (PyTorch on CUDA is not
    measured yet), in float32 or float64, of the library's own array type (not a subclass)."""
    if X.dtype not in (xp.float32, xp.float64):
        return None
    # the library's own array type: a subclass (np.matrix, np.memmap views, ...) may change arithmetic
    if is_numpy_namespace(xp) and type(X) is np.ndarray:
        return NumpyOps(xp)
    if is_torch_namespace(xp) and X.device.type == "cpu":
        from .torch_ops import TorchOps, torch  # X is a tensor: PyTorch is imported already

        return TorchOps(xp) if type(X) is torch.Tensor else None
    return None
