"""The buffered steps: the generic kernel's forward, backward and update [C1 3.1, 3.5, 4.4]
computed operation by operation in the same order, but each into a buffer allocated once per
``fit``, and the parameters (and the optimizer's state) updated in place.

A step of the generic kernel allocates every ``Z``, ``A``, ``dZ`` and gradient afresh; for a large
layer (512 x 8192 in "wide") each is a new ``mmap`` that must be faulted in and zeroed, which shows
as system time, and on PyTorch every operation also goes through the Array API wrappers. Here they
are written over instead, with the library's in-place operations (``arraynet.steps.ops``); each
activation writes itself into its buffer (``Activation.forward_into`` / ``backward_into``), and
each optimizer its update (``Optimizer._apply_into``); the base classes' forms copy the generic
result in, so an activation or an optimizer the library does not ship keeps the buffered products.
The numbers are those of the generic kernel, bit for bit: same operations, same operands, same
order. L2 regularization [C2 2.1] too: each ``dW^[l]`` gains ``(lambd / m) W^[l]`` in place
(``Kernel.regularize_into``, into a scratch array of the weight's shape allocated once), and the
cost its term (``Kernel.regularized_cost``, the generic kernel's own operations).

- ``BufferedStep``: batch gradient descent [C1 3.5], the buffers of all ``m`` examples.
- ``BufferedEpochStep``: mini-batches with an optimizer [C2 1.1-1.4], ``GenericEpochStep``'s numbers
  (every recorded cost, the parameters and the optimizer's state). The buffers hold ``batch_size``
  examples; the short last batch [C2 1.1] runs on views of their first ``n_l r`` elements (the same
  storage, contiguous), and a shuffled epoch's batches are gathered into buffers too, as rows of
  the examples in rows (``examples_in_rows``, ``InPlaceOps.take_rows``), as ``GenericEpochStep``
  gathers them; in order, they are slices of ``X`` (``X`` itself for one batch of all ``m``). The epoch's cost is ``GenericEpochStep``'s sum.
  The parameters, gradients and each average of the optimizer's state are packed in one flat array
  each, so that a built-in optimizer's update is one operation per array for all the layers (the
  same arithmetic element by element; at small batches the per-parameter calls were a fifth of
  NumPy's batch time and near a third of PyTorch's).

Used for L-layer networks on NumPy and PyTorch CPU in float32 or float64 (``ops_for``: PyTorch on
CUDA is not measured yet, so it keeps the generic kernel).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, ClassVar, NamedTuple

from array_api_compat import device

from ..kernel.activations import Activation
from ..kernel.dropout import Dropout
from ..kernel.inplace import InPlaceOps, Workspace
from ..kernel.minibatches import partition
from ..kernel.optimizers import Optimizer
from .base import Kernel, NotApplicable, OneByOne
from .generic import ROWS_COPY_BYTES, batch_dropout, dropout_examples, examples_in_rows, gather, rows_copy_bytes
from .ops import ops_for
from .plan import EpochPlan

__all__ = ["BufferedEpochStep", "BufferedStep"]


def _in_place_ops(kernel: Kernel, parameters: Mapping[str, Any], X: Any, xp: ModuleType) -> InPlaceOps:
    """The in-place operations a buffered step runs this training with, or ``NotApplicable``: an
    L-layer network whose math is the library's (``Kernel.key``: not a subclass's own ``_forward``
    or ``_backward``), data of a library with in-place operations (``ops_for``), parameters in X's
    dtype and on its device."""
    if kernel.activations is None:
        raise NotApplicable("the model is not an L-layer network (W1, b1, ..., WL, bL)")
    if kernel.key is None:  # the in-place forward and backward would not run the model's own
        raise NotApplicable("the model's math is its own (a subclass's _forward or _backward)")
    ops = ops_for(xp, X)
    if ops is None:
        raise NotApplicable(f"no in-place operations for {type(X).__name__} of dtype {X.dtype} on {device(X)}")
    if any(value.dtype != X.dtype or device(value) != device(X) for value in parameters.values()):
        raise NotApplicable("the parameters are not in X's dtype and on its device")
    return ops


def _check_rows_copy(X: Any, Y: Any) -> None:
    """``NotApplicable`` where a shuffled epoch's ``examples_in_rows`` would copy more than
    ``ROWS_COPY_BYTES`` (the buffered epoch gathers rows only; the generic one then takes columns)."""
    if max(rows_copy_bytes(X), rows_copy_bytes(Y)) > ROWS_COPY_BYTES:
        raise NotApplicable(
            f"a shuffled epoch would copy X ({X.shape[0]} x {X.shape[1]}, C order) to gather its batches as rows, "
            f"more than {ROWS_COPY_BYTES >> 30} GiB: pass X in Fortran order (X_rows.T) to gather without a copy"
        )


def _forward(
    ops: InPlaceOps,
    activations: Sequence[Activation],
    W: Sequence[Any],
    b: Sequence[Any],
    Z: list[Any],
    A: list[Any],
    work: list[Any],
    dropped: _Dropped | None = None,
) -> Any:
    """``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])`` [C1 3.1] into ``Z`` and ``A``
    (``A[0]`` the examples); returns ``Z^[L]``. With ``dropped``, a hidden layer with a mask has
    ``A^[l] * D^[l] / keep_prob`` [C2 2.2] written into ``dropped.A[l]``, the next layer's input
    (``A[l]`` keeps ``g^[l](Z^[l])`` for backward)."""
    inputs = A if dropped is None else dropped.inputs
    for l, g in enumerate(activations, start=1):
        ops.matmul(W[l], inputs[l - 1], out=Z[l])
        ops.add(Z[l], b[l], out=Z[l])
        g.forward_into(Z[l], A[l], work[l], ops)
        if dropped is not None and dropped.D[l] is not None:
            ops.multiply(A[l], dropped.D[l], out=dropped.A[l])
            ops.divide(dropped.A[l], dropped.keep_prob[l - 1], out=dropped.A[l])
    return Z[len(activations)]


class _Dropped(NamedTuple):
    """A batch's dropout [C2 2.2] in the buffered epoch step: ``D[l]``, the mask of hidden layer ``l``
    (None where it is kept whole), ``keep_prob``, ``A[l]``, the buffer of its thinned activations,
    and ``inputs[l]``, what layer ``l + 1`` takes (``A[l]`` thinned or not; ``inputs[0]`` the batch)."""

    D: list[Any]
    keep_prob: tuple[float, ...]
    A: list[Any]
    inputs: list[Any]


def _backward(
    ops: InPlaceOps,
    activations: Sequence[Activation],
    W: Sequence[Any],
    Z: Sequence[Any],
    A: Sequence[Any],
    dZ: Sequence[Any],
    dW: Sequence[Any],
    db: Sequence[Any],
    work: Sequence[Any],
    Y: Any,
    dropped: _Dropped | None = None,
) -> Iterator[int]:
    """Backpropagation [C1 3.5] after ``_forward``, as the generic kernel's ``_backward``:
    ``dZ^[L] = (A^[L] - Y) * (1/m)`` (``m`` the examples of ``A``), then for l = L..1 ``dW^[l]``,
    ``db^[l]`` and ``dZ^[l-1]`` (over ``dA^[l-1] = W^[l]^T dZ^[l]``, times ``D^[l-1] / keep_prob``
    where ``dropped`` has a mask [C2 2.2]). Yields ``l`` once ``W^[l]`` is no longer needed (a step
    may update it then)."""
    L = len(activations)
    inputs = A if dropped is None else dropped.inputs
    ops.subtract(A[L], Y, out=dZ[L])
    ops.multiply(dZ[L], 1.0 / A[L].shape[1], out=dZ[L])
    for l in range(L, 0, -1):
        ops.matmul(dZ[l], inputs[l - 1].T, out=dW[l])
        ops.sum_columns(dZ[l], out=db[l])
        if l > 1:
            ops.matmul(W[l].T, dZ[l], out=dZ[l - 1])  # dA^[l-1], turned into dZ^[l-1] in place
            if dropped is not None and dropped.D[l - 1] is not None:
                ops.multiply(dZ[l - 1], dropped.D[l - 1], out=dZ[l - 1])
                ops.divide(dZ[l - 1], dropped.keep_prob[l - 2], out=dZ[l - 1])
            activations[l - 2].backward_into(dZ[l - 1], Z[l - 1], A[l - 1], work[l - 1], ops)
        yield l


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
        ops = _in_place_ops(kernel, parameters, X, xp)
        assert kernel.activations is not None  # checked there
        return cls(parameters, X, Y, kernel.activations, learning_rate, ops, kernel)

    def __init__(
        self,
        parameters: Mapping[str, Any],
        X: Any,
        Y: Any,
        activations: Sequence[Activation],
        learning_rate: float,
        ops: InPlaceOps,
        kernel: Kernel,
    ) -> None:
        self.ops, self.xp, self.kernel = ops, ops.xp, kernel
        self.parameters = {key: ops.copy(value) for key, value in parameters.items()}
        self.X, self.Y, self.activations = X, Y, list(activations)
        self.learning_rate = learning_rate
        self.L = L = len(self.activations)
        m = X.shape[1]
        self.W = [None] + [self.parameters[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [self.parameters[f"b{l}"] for l in range(1, L + 1)]
        n = [X.shape[0]] + [W.shape[0] for W in self.W[1:]]

        def buffers(boolean: bool = False) -> list[Any]:
            return [None] + [ops.empty((n[l], m), X, boolean) for l in range(1, L + 1)]

        self.Z, self.A, self.dZ = buffers(), [X] + buffers()[1:], buffers()  # dZ also holds dA^[l]
        self.work: list[Any] = [None] + [Workspace(values, mask) for values, mask in zip(buffers()[1:], buffers(True)[1:])]
        self.dW = [None] + [ops.empty(tuple(W.shape), W) for W in self.W[1:]]
        self.db = [None] + [ops.empty(tuple(b.shape), b) for b in self.b[1:]]
        # (lambd / m) W^[l] of L2 regularization [C2 2.1], where the kernel regularizes
        self._regularized = kernel is not None and bool(kernel.l2)
        self._l2_scratch = [None] + [ops.empty(tuple(W.shape), W) if self._regularized else None for W in self.W[1:]]

    def snapshot(self) -> dict[str, Any]:
        """A copy of the current parameters, which later steps leave alone."""
        return {key: self.ops.copy(value) for key, value in self.parameters.items()}

    def forward(self) -> Any:
        """``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])`` [C1 3.1]; returns ``Z^[L]``."""
        return _forward(self.ops, self.activations, self.W, self.b, self.Z, self.A, self.work)

    def update(self) -> None:
        """Backpropagation [C1 3.5] from the last ``forward`` (``dW^[l]`` with the kernel's L2
        term [C2 2.1]), then ``W -= alpha dW``, ``b -= alpha db`` in place; ``W^[l]`` changes only
        after ``dA^[l-1] = W^[l]^T dZ^[l]``."""
        ops, W, b, dW, db = self.ops, self.W, self.b, self.dW, self.db
        m = self.A[0].shape[1]
        for l in _backward(ops, self.activations, W, self.Z, self.A, self.dZ, dW, db, self.work, self.Y):
            if self._regularized:
                assert self.kernel is not None
                self.kernel.regularize_into(dW[l], W[l], m, ops, self._l2_scratch[l])
            ops.multiply(dW[l], self.learning_rate, out=dW[l])
            ops.subtract(W[l], dW[l], out=W[l])
            ops.multiply(db[l], self.learning_rate, out=db[l])
            ops.subtract(b[l], db[l], out=b[l])


class _Batch(NamedTuple):
    """The buffers of a batch of ``size`` examples: ``Z``, ``A`` (``A[0]`` set to the batch's
    examples), ``dZ`` and the workspaces of every layer, indexed by l (index 0 unused), and with
    dropout [C2 2.2] each layer's thinned ``A`` (None without)."""

    size: int
    Z: list[Any]
    A: list[Any]
    dZ: list[Any]
    work: list[Any]
    thinned: list[Any] | None

    def dropped(self, dropout: Dropout | None, xp: ModuleType) -> _Dropped | None:
        """``_Dropped`` of this batch for ``dropout``'s masks (drawn here), or None without dropout."""
        if dropout is None or self.thinned is None:
            return None
        L = len(self.A) - 1
        D = [None] + [dropout.mask(l, self.A[l], xp) for l in range(1, L)] + [None]
        inputs = [self.A[0]] + [self.A[l] if D[l] is None else self.thinned[l] for l in range(1, L + 1)]
        return _Dropped(D, dropout.keep_prob, self.thinned, inputs)


class BufferedEpochStep:
    """One network's mini-batch training with an optimizer [C2 1.1-1.4], in place: ``EpochStep``.

    ``parameters`` and ``state`` are this step's own copies (views of one flat array each: the
    parameters, the gradients, each average, the scratch), updated in place by each batch's
    ``optimizer._apply_into``; an optimizer whose in-place form is elementwise
    (``Optimizer._elementwise``: the built-in ones) is handed the flat arrays, one operation for all
    the parameters. ``snapshot()`` gives copies the caller may keep. The buffers of every layer are
    allocated once, for ``batch_size`` examples; a short last batch uses views of their first
    elements (contiguous, the same storage), and a shuffled epoch gathers each batch into buffers
    allocated on the first one.

    It applies at every batch size, since it pays at every one measured
    (``benchmarks/minibatch_steps.py``: 250,000 x 40 float32, [40, 64, 32, 1] ReLU, Adam, one
    thread, medians of 5 alternated rounds on a busy 2-core machine): ``GenericEpochStep``'s epoch
    takes 1.2-1.4x its time on NumPy and 1.8-1.9x on PyTorch at batches of 256, 1.8-2.1x and 1.7x
    at 4096, and (m = 20,000) 1.5x and 2.4x at batches of 1, where Python's calls are all the time.
    """

    name: ClassVar[str] = "buffered"

    @classmethod
    def create(
        cls,
        kernel: Kernel,
        optimizer: Any,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        xp: ModuleType,
    ) -> BufferedEpochStep:
        ops = _in_place_ops(kernel, parameters, X, xp)
        _check_rows_copy(X, Y)
        assert kernel.activations is not None  # checked there
        if not isinstance(optimizer, Optimizer):
            raise NotApplicable(f"the optimizer is not an arraynet Optimizer: {type(optimizer).__name__}")
        shapes = {f"d{key}": tuple(value.shape) for key, value in parameters.items()}
        if not all(
            isinstance(average, Mapping) and {key: tuple(getattr(value, "shape", ())) for key, value in average.items()} == shapes
            for average in state.values()
        ):
            raise NotApplicable("the optimizer's state is not one array per parameter, of its shape, in each average")
        if any(
            type(value) is not type(X) or value.dtype != X.dtype or device(value) != device(X)
            for average in state.values()
            for value in average.values()
        ):
            raise NotApplicable("the optimizer's state is not arrays of X's library, dtype and device")
        return cls(optimizer, parameters, state, X, Y, batch_size, kernel.activations, ops, kernel)

    def __init__(
        self,
        optimizer: Optimizer,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        activations: Sequence[Activation],
        ops: InPlaceOps,
        kernel: Kernel,
    ) -> None:
        self.ops, self.xp, self.optimizer = ops, ops.xp, optimizer
        # the kernel's cost of each batch (a sigmoid's or a softmax's) and, where it regularizes
        # [C2 2.1], its L2 term and (lambd / m_b) W^[l] added to each dW^[l] in place, through a
        # scratch array per weight
        self._kernel = kernel
        self.activations = list(activations)
        self._X, self._Y = X, Y
        self._m = m = X.shape[1]
        self._batches = partition(m, batch_size)
        self.batches = len(self._batches)
        L = len(self.activations)
        # the parameters, the gradients, each average of the state and the optimizer's scratch: each
        # one flat array holding one view per parameter (every view at a multiple of 16 elements, 64
        # bytes or more, as PyTorch aligns an array of its own; the gaps zero, which every update
        # keeps zero), so that an elementwise in-place form updates them all in one operation each
        shapes = {key: tuple(value.shape) for key, value in parameters.items()}
        offsets, end = {}, 0
        for key, shape in shapes.items():
            offsets[key] = end
            end += -(-math.prod(shape) // 16) * 16

        def packed(values: Mapping[str, Any] | None = None, prefix: str = "") -> tuple[Any, dict[str, Any]]:
            flat = self.xp.zeros((end,), dtype=X.dtype, device=device(X))
            views = {key: flat[offsets[key] : offsets[key] + math.prod(shape)].reshape(shape) for key, shape in shapes.items()}
            if values is not None:
                for key, view in views.items():
                    ops.assign(view, values[prefix + key])
            return flat, {prefix + key: view for key, view in views.items()}

        flat_parameters, self.parameters = packed(parameters)
        flat_grads, self.grads = packed(prefix="d")
        flat_scratch, self.scratch = packed(prefix="d")
        flat_state = {name: packed(average, "d") for name, average in state.items()}
        self.state = {name: views for name, (_, views) in flat_state.items()}
        # what the optimizer's in-place form is handed: the flat arrays where it is elementwise
        self._update_arguments = (
            ({"all": flat_parameters}, {"dall": flat_grads}, {name: {"dall": flat} for name, (flat, _) in flat_state.items()}, {"dall": flat_scratch})
            if optimizer._elementwise
            else (self.parameters, self.grads, self.state, self.scratch)
        )
        self.W = [None] + [self.parameters[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [self.parameters[f"b{l}"] for l in range(1, L + 1)]
        self.dW = [None] + [self.grads[f"dW{l}"] for l in range(1, L + 1)]
        self.db = [None] + [self.grads[f"db{l}"] for l in range(1, L + 1)]
        self._l2_scratch = [None] + [ops.empty(tuple(W.shape), W) if kernel.l2 else None for W in self.W[1:]]
        # the storage of every layer's buffers, flat, for the batches' largest size
        self._n = n = [X.shape[0]] + [W.shape[0] for W in self.W[1:]]
        size = self._batches[0][1] - self._batches[0][0]

        def storage(boolean: bool = False) -> list[Any]:
            return [None] + [ops.empty((n[l] * size,), X, boolean) for l in range(1, L + 1)]

        self._storage = {"Z": storage(), "A": storage(), "dZ": storage(), "values": storage(), "mask": storage(True)}
        if kernel.keep_prob:  # the thinned activations of dropout [C2 2.2]
            self._storage["thinned"] = storage()
        self._sizes = {size: self._views(size) for size in {stop - start for start, stop in self._batches}}
        self._gathered: tuple[Any, Any, dict[int, tuple[Any, Any]]] | None = None  # _gather_buffers

    def _views(self, size: int) -> _Batch:
        """The buffers of a batch of ``size`` examples: the first ``n_l size`` elements of the storage."""
        n, storage = self._n, self._storage

        def view(name: str) -> list[Any]:
            return [None] + [flat[: n[l] * size].reshape(n[l], size) for l, flat in enumerate(storage[name]) if l]

        work = [None] + [Workspace(values, mask) for values, mask in zip(view("values")[1:], view("mask")[1:])]
        return _Batch(size, view("Z"), view("A"), view("dZ"), work, view("thinned") if "thinned" in storage else None)

    def _gather_buffers(self) -> tuple[Any, Any, dict[int, tuple[Any, Any]]]:
        """``X`` and ``Y`` with the examples in rows (``examples_in_rows``) and the buffers that a
        shuffled epoch gathers each batch's rows into, by batch size (``(r, n_x)`` and ``(r, n_y)``,
        views of one storage; the batch's ``X_b`` and ``Y_b`` are their transposes), made on the
        first shuffled epoch."""
        if self._gathered is None:
            ops, X, Y = self.ops, self._X, self._Y
            size = max(self._sizes)
            flat_X, flat_Y = ops.empty((X.shape[0] * size,), X), ops.empty((Y.shape[0] * size,), Y)
            self._gathered = (
                examples_in_rows(X),
                examples_in_rows(Y),
                {r: (flat_X[: X.shape[0] * r].reshape(r, X.shape[0]), flat_Y[: Y.shape[0] * r].reshape(r, Y.shape[0])) for r in self._sizes},
            )
        return self._gathered

    def epoch(self, plan: EpochPlan) -> Any:
        """The epoch's batches [C2 1.1], each forward [C1 3.1], its cost ``J^{t}`` (the kernel's:
        [C1 2.3] for a sigmoid output, [C2 3] for a softmax one), backward [C1 3.5] and the optimizer's update in place [C2 1.2-1.4]; returns the epoch's
        cost as ``GenericEpochStep`` sums it. With L2 regularization [C2 2.1], the batch's cost
        has its term and each ``dW^[l]`` its ``(lambd / m_b) W^[l]``, before the update."""
        ops, xp, X, Y, activations = self.ops, self.xp, self._X, self._Y, self.activations
        W, b, dW, db, optimizer = self.W, self.b, self.dW, self.db, self.optimizer
        kernel, l2_scratch = self._kernel, self._l2_scratch
        parameters, grads, state, scratch = self._update_arguments
        index = gather(plan.order(), X, xp)
        if index is not None:
            X_rows, Y_rows, gathered = self._gather_buffers()
        examples = dropout_examples(kernel.keep_prob, plan, index, X, xp)
        total: Any = 0.0
        for k, ((start, stop), row) in enumerate(zip(self._batches, plan.scalars.tolist())):
            batch = self._sizes[stop - start]
            if index is not None:
                X_at, Y_at = gathered[batch.size]
                at = index[start:stop]
                ops.take_rows(X_rows, at, out=X_at)
                ops.take_rows(Y_rows, at, out=Y_at)
                X_b, Y_b = X_at.T, Y_at.T
            elif batch.size == self._m:
                X_b, Y_b = X, Y
            else:
                X_b, Y_b = X[:, start:stop], Y[:, start:stop]
            A = batch.A
            A[0] = X_b
            dropped = batch.dropped(batch_dropout(kernel.keep_prob, plan, k, examples, start, stop), xp)
            ZL = _forward(ops, activations, W, b, batch.Z, A, batch.work, dropped)
            cost = kernel.regularized_cost(kernel.cost(ZL, Y_b, xp), self.parameters, batch.size, xp)
            for l in _backward(ops, activations, W, batch.Z, A, batch.dZ, dW, db, batch.work, Y_b, dropped):
                kernel.regularize_into(dW[l], W[l], batch.size, ops, l2_scratch[l])
            optimizer._apply_into(parameters, grads, state, tuple(row), ops, scratch)
            total = total + cost * (stop - start)
        return total / self._m

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Copies of the current parameters and optimizer state, which later epochs leave alone."""
        copy = self.ops.copy
        return (
            {key: copy(value) for key, value in self.parameters.items()},
            {name: {key: copy(value) for key, value in average.items()} for name, average in self.state.items()},
        )
