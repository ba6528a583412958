"""The in-place operations that the kernel's in-place forms are written against.

The Array API standard has no ``out=``: every operation makes a new array. A step that writes its
results into buffers allocated once (``arraynet.steps.buffered``) needs each operation in a form
that writes into a given array, and each library spells that differently (NumPy's ufuncs take
``out=`` and ``where=``; PyTorch has ``out=``, ``masked_fill_`` and no scalar-first subtraction).
``InPlaceOps`` declares those operations once; ``arraynet.steps.ops`` implements them per library,
and a test holds every implementation to these methods and signatures.

Each operation performs exactly the arithmetic of the Array API expression its docstring gives, so
a computation written with them gives the generic kernel's numbers bit for bit. ``out`` is passed
by keyword and may be one of the inputs. An implementation may bind a library function directly
(``matmul = staticmethod(np.matmul)``) where it takes that call as it is: a Python method around it
costs a frame per operation, about 5% of a small network's step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import ModuleType
from typing import Any, NamedTuple

__all__ = ["InPlaceOps", "Workspace"]


class Workspace(NamedTuple):
    """Scratch arrays of one layer's shape ``(n_l, m)`` that an in-place form may write over."""

    values: Any  # in the layer's floating dtype
    mask: Any  # bool


class InPlaceOps(ABC):
    """One library's operations that write their result into ``out`` (or into ``a``)."""

    def __init__(self, xp: ModuleType) -> None:
        self.xp = xp  # the library's Array API namespace, for what has no in-place form here

    @abstractmethod
    def empty(self, shape: tuple[int, ...], like: Any, boolean: bool = False) -> Any:
        """An uninitialized array of ``shape`` with ``like``'s dtype (bool when ``boolean``) and device."""

    @abstractmethod
    def copy(self, a: Any) -> Any:
        """A new array equal to ``a``."""

    @abstractmethod
    def assign(self, out: Any, a: Any) -> None:
        """``out[...] = a``."""

    @abstractmethod
    def matmul(self, a: Any, b: Any, *, out: Any) -> None:
        """``a @ b``."""

    @abstractmethod
    def add(self, a: Any, b: Any, *, out: Any) -> None:
        """``a + b``; ``b`` an array (broadcast) or a Python float."""

    @abstractmethod
    def subtract(self, a: Any, b: Any, *, out: Any) -> None:
        """``a - b``; ``b`` an array (broadcast) or a Python float."""

    @abstractmethod
    def subtract_from(self, value: float, a: Any, *, out: Any) -> None:
        """``value - a``."""

    @abstractmethod
    def multiply(self, a: Any, b: Any, *, out: Any) -> None:
        """``a * b``; ``b`` an array (broadcast) or a Python float."""

    @abstractmethod
    def divide(self, a: Any, b: Any, *, out: Any) -> None:
        """``a / b``; ``b`` an array (broadcast) or a Python float."""

    @abstractmethod
    def negative(self, a: Any, *, out: Any) -> None:
        """``-a``."""

    @abstractmethod
    def abs(self, a: Any, *, out: Any) -> None:
        """``xp.abs(a)``."""

    @abstractmethod
    def exp(self, a: Any, *, out: Any) -> None:
        """``xp.exp(a)``."""

    @abstractmethod
    def sqrt(self, a: Any, *, out: Any) -> None:
        """``xp.sqrt(a)``."""

    @abstractmethod
    def tanh(self, a: Any, *, out: Any) -> None:
        """``xp.tanh(a)``."""

    @abstractmethod
    def maximum(self, a: Any, b: Any, *, out: Any) -> None:
        """``xp.maximum(a, b)`` of two arrays."""

    @abstractmethod
    def clamp_min(self, a: Any, value: float, *, out: Any) -> None:
        """``xp.maximum(a, value)`` of an array and a Python float."""

    @abstractmethod
    def greater(self, a: Any, value: float, *, out: Any) -> None:
        """``a > value``, into a bool ``out`` or, as 1 and 0, a floating one."""

    @abstractmethod
    def greater_equal(self, a: Any, value: float, *, out: Any) -> None:
        """``a >= value``, into a bool ``out`` or, as 1 and 0, a floating one."""

    @abstractmethod
    def keep_where_positive(self, a: Any, z: Any, work: Workspace) -> None:
        """``a = a * xp.astype(z > 0, a.dtype)``, over ``a`` (ReLU's backward step); ``work``'s
        arrays (of ``a``'s shape) may be written over: the mask goes where the library multiplies
        by it fastest."""

    @abstractmethod
    def fill_where(self, a: Any, mask: Any, value: float) -> None:
        """``a = xp.where(mask, value, a)``, over ``a``; ``mask`` of ``a``'s shape."""

    @abstractmethod
    def scale_where_not(self, a: Any, mask: Any, value: float, scratch: Any) -> None:
        """``a = xp.where(mask, a, value * a)``, over ``a``; ``mask`` and ``scratch`` (of ``a``'s
        shape and dtype) may be written over."""

    @abstractmethod
    def sum_columns(self, a: Any, *, out: Any) -> None:
        """``xp.sum(a, axis=1, keepdims=True)``."""

    @abstractmethod
    def take_rows(self, a: Any, indices: Any, *, out: Any) -> None:
        """``xp.take(a, indices, axis=0)``: the rows of ``a`` at ``indices`` (a 1-D integer array
        of the library, every index in ``range(a.shape[0])``), in their order (a mini-batch gathered
        from an epoch's permutation [C2 1.1], from the examples in rows)."""
