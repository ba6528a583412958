"""The distributed steps, on Dask arrays chunked along ``m``, where the data lives (threads of one
process, or the workers of a cluster): batch gradient descent [C1 2.6, 3.5], one compute per
iteration (``DaskStep``), and mini-batch training with an optimizer [C2 1.1-1.4], one compute per
epoch (``DaskEpochStep``, below).

Every sum over the ``m`` examples of an iteration (the cost ``J`` [C1 2.3], ``dW`` and ``db``
[C1 2.7, 3.5]) is a sum over the chunks of ``X``, chunked along ``m``. So one task per chunk runs
the generic kernel, unchanged, on its block ``(X_b, Y_b)`` of ``m_b`` examples in the chunks' own
library (NumPy, CuPy) and returns one small vector: its gradients times ``m_b / m`` (the kernel
divides by its block's ``m_b``; the iteration's gradients divide by ``m``) and its cost times
``m_b``. Dask adds the vectors in a tree (``_FAN_IN`` at a time) and the client gets one vector,
from which it updates the parameters with the generic kernel's ``_update``. The parameters live
on the client as arrays of the chunks' library, never as Dask arrays, and go to the workers with
each iteration's graph: inside each chunk's task when small, else as one input of their own.

L2 regularization [C2 2.1] (``Kernel.l2``) is not a sum over the examples: the client adds its term
once per iteration, ``(lambd / m) W^[l]`` to the summed ``dW^[l]`` and ``lambd / (2 m) sum_l
||W^[l]||_F^2`` to the summed cost (``Kernel.regularized_gradients``, ``regularized_cost``), never a
share per chunk. In an epoch's chain, each mini-batch's ``batch_step`` adds it over its own ``m_b``
examples, as on data in memory.

The numbers are NumPy's on the whole data to rounding, not bit for bit: the sums over ``m`` are
added in another order (chunk by chunk, then in the tree), and each chunk's share is scaled once
more. In float64 the parameters agree within 1e-12 relative over the tests' fits.

The data's values are read only by the tasks: whether ``X`` is finite and ``Y`` holds labels 0
and 1 is checked in the first iteration's compute (no pass of its own), and a failure is the
ValueError that NumPy data gets before training. Labels come in their own dtype and are cast in
the tasks, after that check. Prediction on a Dask ``X`` (``outputs``) is lazy: one task per chunk,
which checks its block the same way when it runs.

Each task casts its chunk of ``X`` to the Dask array's declared dtype (no copy when it already is:
a ``map_blocks`` that declares float32 but makes float64 would otherwise give float64 parameters).
A softmax network's labels [C2 3] come as class indices ``(1, m)``: each task checks them (0..C-1,
whole numbers, finite), makes them one-hot and adds the kernel's cost (``Kernel.cost``, the
categorical cross-entropy) to its share. ``DaskStep.cost`` makes the iteration's update at once, as
the generic step does: the parameters a snapshot hands out are never read again by the step.

Mini-batch training with an optimizer [C2 1.1-1.4] (``DaskEpochStep``) runs one compute per
epoch: a chain of tasks, one per chunk with examples, as dask-ml's ``_partial.py`` fits an
incremental model. Task ``j`` takes the parameters and the optimizer's state from task ``j - 1``
(the first, from the client) and its own chunk ``(X_j, Y_j)``, and runs that chunk's mini-batches
in the chunk's library with an in-memory epoch step (``EpochStep``) over the chunk's share of the
epoch's plan (``_ChunkPlan``: the order of its examples and its rows of the epoch's scalars): the
step ``choose_epoch_step`` picks for the chunk as for data in memory, ``BufferedEpochStep`` on NumPy
in float32 and float64 with an arraynet optimizer (the generic loop's numbers bit for bit), else
``GenericEpochStep`` (the generic kernel's ``batch_step``, new arrays per operation: CuPy, other
dtypes, a user's optimizer). The task runs ``GenericEpochStep`` also where the fast paths are off
(``fast_paths_enabled``, read on the client when the step is made), where the model's math is its
own (a ``Kernel`` without a ``key``: a subclass's ``_forward`` or ``_backward``, which only the
generic loop calls) and for a chunk of fewer than ``_FAST_MIN_BATCHES`` = 4 batches, where the
buffered step's setup in each task (its packed copies of the parameters and the state, its
buffers, the snapshot's copies) costs more than it saves. Measured, one chunk's task against the
generic loop's (``python benchmarks/minibatch_dask.py --chunk-tasks``: nets [40, 8, 1],
[40, 64, 32, 1] and [40, 512, 256, 1], batches of 32 and 256, Adam, float32, one thread, medians
of 31 alternated rounds): 1.2-2.4x its time at 1 batch, 0.95-1.2x at 2, 0.9-1.1x at 3, 0.85-1.04x
at 4 and 0.7-0.95x at 32 (the widest net gains least, about 5% at batches of 256). The step
leaves what it is handed alone (every epoch step does); the task hands on its new parameters and
state with the weighted sum of its batches' costs (the step's epoch cost times ``c_j``) and the
step's name (``DaskEpochStep.chunk_steps``); the client adds those sums. The data never moves:
only the parameters and the state travel. Batches never cross chunks: a chunk of ``c_j`` examples
makes ``len(partition(c_j, b))`` batches (``floor(c_j / b)`` of ``b``, then the rest), so an epoch
makes their sum of updates, more than ``len(partition(m, b))`` where a chunk's size is not a
multiple of ``b`` (with ``batch_size=None``, ``b = m``: one batch per chunk). With every chunk but
the last a multiple of ``b`` and ``shuffle=False``, the batches are those of the examples in
memory, and so are the operations on them: in float64 the parameters agree within 1e-12 relative
over the tests' fits, the epoch's cost too (it adds the chunks' sums). The first epoch's compute
checks the data as the first iteration's does.

Measured (``python benchmarks/minibatch_dask.py --m 1e7 --tuned``: m = 1e7, chunks of 262,144,
[40, 64, 32, 1], Adam, batches of 256, float32, 2 worker processes of one thread on a shared
2-core machine; medians of 4 runs alternated with 5 of the same code but the generic loop in each
task; benchmarks/results/minibatch-dask-2026-12-05.md): an epoch takes 9.2 s on the tuned cluster
(9.3 s with distributed's default malloc settings) against 7.0 s for NumPy's buffered epoch on
one BLAS thread, 1.29x (1.33x), where the generic loop in each task took 11.9 s (14.0 s), 1.63x
(1.95x); the issue's target is 1.5x. About half of what is left is distributed's statistical
profiler, which samples each worker's running task every 10 ms from another thread (a task of many
small NumPy calls, which it interrupts for the GIL): with it off
(``distributed.worker.profile.enabled: False``, the script's ``--no-worker-profile``; 2 runs of
each) the tuned cluster's epoch is 1.17x (8.2 s; 1.49x with the generic loop), and Dask's threaded
scheduler in one process ran the chain at 1.03x (one run).

Shuffling on Dask (``shuffle=True``) permutes the order of the chunks in the chain and the examples
within each chunk, never across chunks (that would move the data), drawn on the client from the
epoch's generator ``rng = plan.generator()`` (``numpy.random.default_rng([seed, epoch])``: the same
for a given model seed): first ``rng.permutation(k)``, the chain's order of the ``k`` chunks with
examples (numbered in their order in ``X``), then, for each chunk in that order, the order of its
examples, ``rng.permutation(c_j)``. ``shuffle=False`` keeps both in order. A callable ``shuffle``
(a permutation of all ``m`` examples, which would mix the chunks) is a ValueError.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, NamedTuple

import array_api_compat
import numpy as np

from ..backends import is_dask_array, namespace_of
from ..kernel.activations import Softmax
from ..kernel.minibatches import partition
from ..kernel.optimizers import Optimizer
from ..kernel.propagation import _update
from .base import Forward, Kernel, NotApplicable, Validation
from .plan import EpochPlan

__all__ = ["DaskEpochStep", "DaskStep", "checked_labels", "evaluate", "outputs"]

_FAN_IN = 8  # partial results added by one task of the tree
# parameters up to this size travel inside each chunk's task; larger ones as an input of their own,
# which a cluster sends to each worker once but which makes every task wait for that transfer
# (25.6 ms against 17.0 ms per iteration of a 20-16-1 net on 2 workers: benchmarks/results/dask-2026-12-01.md)
_INLINE_BYTES = 1 << 20

_NOT_FINITE_X = "X must be finite; it contains NaN or Inf"
_NOT_FINITE_Y = "Y must be finite; it contains NaN or Inf"


def _raise_problems(not_finite_X: int, other_labels: int, not_finite_Y: int, classes: int | None = None) -> None:
    """The ValueError data in memory gets from ``check_X`` / ``check_Y`` (``check_class_labels``
    for ``classes``, the ``C > 1`` output units of a softmax), for these counts of bad entries found
    in chunks (nothing when all are 0)."""
    if not_finite_X:
        raise ValueError(_NOT_FINITE_X)
    if not_finite_Y:
        raise ValueError(_NOT_FINITE_Y)
    if other_labels and classes is not None:
        raise ValueError(
            f"Y must hold class indices 0..{classes - 1} (whole numbers, one per example) for a model of {classes} "
            f"output units; got {other_labels} entries with other values"
        )
    if other_labels:
        raise ValueError(f"Y must hold binary labels: every entry 0 or 1; got {other_labels} entries with other values")


def _label_problems(Y: Any, xp: ModuleType, classes: int | None = None) -> tuple[int, int]:
    """How many entries of labels ``Y`` (in their own dtype) are not 0 or 1 (not class indices
    ``0..classes - 1``, whole numbers, for a softmax of ``classes`` units), and how many of those
    are NaN or Inf."""
    if xp.isdtype(Y.dtype, "bool"):
        return 0, 0
    if classes is None:
        other = ~((Y == 0) | (Y == 1))
    else:
        good = (Y >= 0) & (Y < classes)
        other = ~(good & (Y == xp.floor(Y)) if xp.isdtype(Y.dtype, "real floating") else good)
    not_finite = ~xp.isfinite(Y) if xp.isdtype(Y.dtype, "real floating") else xp.zeros_like(other)
    return int(xp.count_nonzero(other)), int(xp.count_nonzero(not_finite))


def _chunk_problems(X: Any, Y: Any, classes: int | None) -> tuple[int, int, int]:
    """``_block_problems`` of a chunk, in its own library: what a check's task counts."""
    return _block_problems(X, Y, namespace_of(X), classes)


def _block_problems(X: Any, Y: Any, xp: ModuleType, classes: int | None = None) -> tuple[int, int, int]:
    """What a chunk's task counts for ``_raise_problems``, in its order: the block's non-finite
    ``X`` entries, its labels other than 0 and 1 (or class indices of ``classes``), and its
    non-finite labels (``Y`` in its own dtype)."""
    other_labels, not_finite_Y = _label_problems(Y, xp, classes)
    return int(xp.count_nonzero(~xp.isfinite(X))), other_labels, not_finite_Y


def _placed(X: Any, Y: Any, parameters: Mapping[str, Any], persist: bool = True) -> tuple[Any, Any, list[tuple[Any, Any, int]], int]:
    """What both steps hold of the data, once per fit: ``X``'s graph optimized (lazy casts and
    standardization fused into the chunks' tasks); ``Y`` persisted where the tasks run (in-memory
    labels would otherwise travel in every compute's graph; the collection holds the persisted
    chunks, on a cluster their futures), unless not ``persist`` (data used by one compute); each
    chunk with examples as ``(X key, Y key, m_b)`` (a chunk without any has no share); and the
    parameters' bytes (what decides whether they travel inside each task or once per worker)."""
    import dask

    (X,) = dask.optimize(X)
    Y = Y.persist() if persist else Y
    keys = zip(X.__dask_keys__()[0], Y.__dask_keys__()[0], X.chunks[1])
    blocks = [(x_key, y_key, width) for x_key, y_key, width in keys if width > 0]
    return X, Y, blocks, sum(math.prod(value.shape) * value.dtype.itemsize for value in parameters.values())


def _classes(kernel: Kernel, parameters: Mapping[str, Any]) -> int | None:
    """``C``, the output units of a network with a softmax output [C2 3] (whose labels the chunks
    hold as class indices of shape ``(1, m)``), else None (labels 0 and 1)."""
    activations = kernel.activations
    if not activations or not isinstance(activations[-1], Softmax):
        return None
    return int(parameters[f"W{len(activations)}"].shape[0])


def _block_data(X: Any, Y: Any, xp: ModuleType, dtype: Any, classes: int | None) -> tuple[Any, Any]:
    """A chunk's ``(X, Y)`` as the kernel takes them, after its checks: ``X`` in the Dask array's
    declared ``dtype`` (a chunk of another real dtype, e.g. from a ``map_blocks`` that declared
    float32 but made float64, would otherwise make float64 parameters; no copy when it already is),
    ``Y`` in that dtype, one-hot ``(C, m_b)`` from class indices for ``classes``."""
    X = xp.astype(X, dtype, copy=False)
    if classes is None:
        return X, xp.astype(Y, dtype, copy=False)
    indices = xp.astype(Y, xp.int64 if classes > 2**31 - 1 else xp.int32)
    rows = xp.reshape(xp.arange(classes, dtype=indices.dtype, device=array_api_compat.device(Y)), (classes, 1))
    return X, xp.astype(indices == rows, dtype)


def _block_partials(
    X: Any,
    Y: Any,
    parameters: Mapping[str, Any],
    kernel: Kernel,
    m: int,
    check: bool,
    dtype: Any = None,
    classes: int | None = None,
) -> tuple[Any, tuple[int, int, int]]:
    """One chunk's share of an iteration, run by a task where the chunk is: the generic kernel's
    forward [C1 3.1] and backward [C1 3.5] on the block ``(X, Y)`` of ``m_b`` examples.

    Returns ``(vector, problems)``: the vector holds each parameter's gradient (in the order of
    ``parameters``) times ``m_b / m``, flattened, then the block's cost times ``m_b``, i.e. its
    share of the iteration's sums; ``problems`` counts the block's non-finite ``X`` entries, labels
    other than 0 and 1 (class indices for ``classes``), and non-finite labels when ``check`` (zeros
    otherwise). ``X`` is cast to ``dtype`` (the Dask array's declared one; None: as it is) and
    the labels made the kernel's (``_block_data``); the cost is the kernel's."""
    xp = namespace_of(X)
    problems = _block_problems(X, Y, xp, classes) if check else (0, 0, 0)
    if any(problems):  # the client raises: nothing to compute (a bad class index would be no column)
        return xp.zeros((1,), dtype=X.dtype), problems
    X, Y = _block_data(X, Y, xp, X.dtype if dtype is None else dtype, classes)
    AL, ZL, caches = kernel.forward(parameters, X, xp)
    grads = kernel.backward(AL, Y, caches, xp)
    m_b = X.shape[1]
    share = m_b / m
    parts = [xp.reshape(grads[f"d{key}"], (-1,)) * share for key in parameters]
    parts.append(xp.reshape(kernel.cost(ZL, Y, xp) * m_b, (1,)))
    return xp.concat(parts), problems


def _add(partials: list[tuple[Any, tuple[int, ...]]]) -> tuple[Any, tuple[int, ...]]:
    """The sum of chunks' ``(vector, problems)``: one task of the tree."""
    vectors, problems = zip(*partials)
    return functools.reduce(lambda a, b: a + b, vectors), tuple(map(sum, zip(*problems)))


class DaskStep:
    """Batch gradient descent on a Dask ``X`` (and ``Y``), one compute per iteration: see the
    module's docstring. ``cost()`` computes the whole iteration (its cost and gradients);
    ``update()`` applies its gradients on the client."""

    name: ClassVar[str] = "dask"

    @classmethod
    def create(
        cls, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> DaskStep:
        if not is_dask_array(X):
            raise NotApplicable(f"X is not a Dask array but {type(X).__name__}")
        return cls(kernel, parameters, X, Y, learning_rate)

    def __init__(self, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float) -> None:
        self._parameters = dict(parameters)
        self._kernel, self._learning_rate, self._m = kernel, learning_rate, X.shape[1]
        self._dtype, self._classes = X.dtype, _classes(kernel, parameters)
        self._X, self._Y, self._blocks, self._parameter_bytes = _placed(X, Y, parameters)
        self._name = f"arraynet-iteration-{uuid.uuid4().hex}"
        self._iteration = 0
        self._checked = False
        self._updated: dict[str, Any] | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        """The current parameters. Read before any iteration has run (a fit of 0 iterations), they
        come after one compute that checks the data, as data in memory is checked before training."""
        if not self._checked:
            self.cost()
            self._updated = None
        return self._parameters

    @parameters.setter
    def parameters(self, parameters: dict[str, Any]) -> None:
        self._parameters = parameters

    def _graph(self, check: bool) -> Any:
        """This iteration's compute: a task per chunk, the tree that adds them, as one Delayed."""
        from dask.delayed import Delayed
        from dask.highlevelgraph import HighLevelGraph
        from dask.task_spec import DataNode, List, Task, TaskRef

        name = f"{self._name}-{self._iteration}"
        graph: dict[Any, Any] = {}
        inputs: tuple[Any, Any] = (self._parameters, self._kernel)
        if self._parameter_bytes > _INLINE_BYTES:  # sent once per worker as inputs of their own
            keys_of_inputs = (f"{name}-parameters", f"{name}-kernel")
            graph.update({key: DataNode(key, value) for key, value in zip(keys_of_inputs, inputs)})
            inputs = (TaskRef(keys_of_inputs[0]), TaskRef(keys_of_inputs[1]))
        keys = []
        for j, (x_key, y_key, _) in enumerate(self._blocks):
            key = (f"{name}-block", j)
            graph[key] = Task(
                key, _block_partials, TaskRef(x_key), TaskRef(y_key), *inputs, self._m, check, self._dtype, self._classes
            )
            keys.append(key)
        level = 0
        while len(keys) > 1 or level == 0:
            level += 1
            groups = [keys[i : i + _FAN_IN] for i in range(0, len(keys), _FAN_IN)]
            keys = [(f"{name}-sum{level}", i) for i in range(len(groups))]
            for key, group in zip(keys, groups):
                graph[key] = Task(key, _add, List(*map(TaskRef, group)))
        return Delayed(keys[0], HighLevelGraph.from_collections(name, graph, dependencies=[self._X, self._Y]), layer=name)

    def cost(self) -> Any:
        """The whole iteration in one compute; returns its cost ``J``. Its update is made here too,
        from its gradients (the chunks' sums, then the L2 term [C2 2.1] of the parameters added
        once, where the kernel has one), into new arrays that ``update()`` adopts: as the generic
        step's, the parameters ``snapshot()`` hands out are then never read again, so a callback
        that edits them in place does not change the training."""
        import dask

        check = not self._checked
        vector, problems = dask.compute(self._graph(check), optimize_graph=False)[0]
        self._iteration += 1
        if check:
            not_finite_X, other_labels, not_finite_Y = problems
            _raise_problems(not_finite_X, other_labels, not_finite_Y, self._classes)
            self._checked = True
        xp = namespace_of(vector)
        grads, start = {}, 0
        for key, value in self._parameters.items():
            size = math.prod(value.shape)
            grads[f"d{key}"] = xp.reshape(vector[start : start + size], tuple(value.shape))
            start += size
        kernel, m = self._kernel, self._m
        grads = kernel.regularized_gradients(grads, self._parameters, m)
        self._updated = _update(self._parameters, grads, self._learning_rate)
        return kernel.regularized_cost(vector[start] / m, self._parameters, m, xp)

    def update(self) -> None:
        """``W = W - alpha dW``, ``b = b - alpha db`` [C1 3.5], computed on the client by ``cost()``."""
        assert self._updated is not None, "update() follows cost()"
        self._parameters = self._updated
        self._updated = None

    def snapshot(self) -> dict[str, Any]:
        return self._parameters  # each update makes new arrays, computed before the caller may edit these

    def advance(self, n: int) -> None:
        for _ in range(n):
            self.cost()
            self.update()


# the carry from one task of an epoch's chain to the next: the parameters, the optimizer's state,
# each chunk's weighted cost sum so far (in chain order), _raise_problems's counts so far, and the
# name of the epoch step each chunk's task ran so far (in chain order; None where it found bad data)
Carry = tuple[dict[str, Any], dict[str, Any], tuple[Any, ...], tuple[int, int, int], tuple[str | None, ...]]

# a chunk of fewer batches than this runs the generic loop even where a fast step applies: below
# it, the buffered step's setup per task (its packed copies of the parameters and the state, its
# buffers, the snapshot's copies) costs more than its batches gain (measured: the module's docstring)
_FAST_MIN_BATCHES = 4


@dataclass(frozen=True)
class _ChunkPlan(EpochPlan):
    """One chunk's share of an epoch's plan (``EpochPlan``), what its task hands the in-memory epoch
    step it runs: ``m`` is the chunk's ``c_j`` examples, ``scalars`` (and, with dropout [C2 2.2],
    ``keys``) the rows of its updates, ``offset`` its first example's index in ``X``, and ``drawn``
    the order of its examples drawn on the client (a permutation of ``range(c_j)`` from
    the epoch's generator, see the module's docstring), or None: as they are. ``order()`` hands
    ``drawn`` over as it is (``rng.permutation`` made it, so it needs no check)."""

    drawn: np.ndarray | None = None

    def order(self) -> np.ndarray | None:
        return self.drawn


def _chunk_epoch(
    carry: Carry,
    X: Any,
    Y: Any,
    kernel: Kernel,
    optimizer: Optimizer,
    batch_size: int,
    plan: _ChunkPlan,
    fast: bool,
    check: bool,
    dtype: Any = None,
    classes: int | None = None,
) -> Carry:
    """One chunk's share of an epoch, run by a task of the chain where the chunk is [C2 1.1]: the
    epoch ``plan`` of its ``c_j`` examples (``partition(c_j, batch_size)``, taken in ``plan.order()``,
    each batch with its row of ``plan.scalars``) run by an in-memory epoch step from the parameters
    and state in ``carry``, which it leaves alone (every epoch step does): the step
    ``choose_epoch_step`` picks for the chunk with fast paths ``fast`` (the buffered one on NumPy
    in float32 and float64 with an arraynet optimizer), else ``GenericEpochStep``.

    Returns the carry for the next task: the step's new parameters and state, this chunk's
    ``sum(J_batch * batch size)`` appended to the sums (the step's epoch cost times ``c_j``), the
    step's name appended to the names, and, when ``check``, this chunk's bad entries added to the
    counts (nothing is trained once any is found: the client raises). ``X`` is cast to ``dtype``
    (None: as it is) and the labels made the kernel's (``_block_data``)."""
    from .selection import choose_epoch_step  # which imports this module

    parameters, state, sums, problems, names = carry
    xp = namespace_of(X)
    if check:
        found = _block_problems(X, Y, xp, classes)
        problems = (problems[0] + found[0], problems[1] + found[1], problems[2] + found[2])
    if any(problems):
        return parameters, state, (*sums, 0.0), problems, (*names, None)
    X, Y = _block_data(X, Y, xp, X.dtype if dtype is None else dtype, classes)
    step = choose_epoch_step(kernel, optimizer, parameters, state, X, Y, batch_size, xp, fast)
    total = step.epoch(plan) * X.shape[1]
    parameters, state = step.snapshot()
    return parameters, state, (*sums, total), problems, (*names, step.name)


def _chunk_evaluation(
    X: Any, Y: Any, parameters: Mapping[str, Any], kernel: Kernel, check: bool, dtype: Any, classes: int | None
) -> tuple[float, int, tuple[int, int, int]]:
    """One chunk of the validation data evaluated where it is, by a task: ``(J m_b, hits,
    problems)``, ``Kernel.evaluate``'s cost of its ``m_b`` examples times ``m_b`` and how many it
    labels right, as host numbers, and, when ``check``, its bad entries (``_block_problems``; nothing
    is evaluated once any is found: the client raises)."""
    xp = namespace_of(X)
    problems = _block_problems(X, Y, xp, classes) if check else (0, 0, 0)
    if any(problems):
        return 0.0, 0, problems
    X, Y = _block_data(X, Y, xp, X.dtype if dtype is None else dtype, classes)
    J, hits = kernel.evaluate(parameters, X, Y, xp)
    return float(J) * X.shape[1], int(hits), problems


def _block_tasks(graph: dict[Any, Any], name: str, function: Any, blocks: list[tuple[Any, Any, int]], *arguments: Any) -> list[Any]:
    """Adds to ``graph`` one task per chunk of ``blocks`` (as ``_placed`` gives them),
    ``function(X_b, Y_b, *arguments)`` (an argument may reference another task's result); their keys."""
    from dask.task_spec import Task, TaskRef

    keys = [(name, j) for j in range(len(blocks))]
    for key, (x_key, y_key, _) in zip(keys, blocks):
        graph[key] = Task(key, function, TaskRef(x_key), TaskRef(y_key), *arguments)
    return keys


def _computed(graph: dict[Any, Any], name: str, keys: list[Any], dependencies: list[Any]) -> list[Any]:
    """The results of the tasks ``keys`` of ``graph`` (over the collections ``dependencies``), in
    order, from one compute."""
    import dask
    from dask.delayed import Delayed
    from dask.highlevelgraph import HighLevelGraph
    from dask.task_spec import List, Task, TaskRef

    graph[name] = Task(name, list, List(*map(TaskRef, keys)))
    graphs = HighLevelGraph.from_collections(name, graph, dependencies=dependencies)
    return list(dask.compute(Delayed(name, graphs, layer=name), optimize_graph=False)[0])


def _raise_found(counts: list[tuple[int, int, int]], classes: int | None) -> None:
    """``_raise_problems`` of the sums of chunks' counts of bad entries (``_block_problems``'s)."""
    not_finite_X, other_labels, not_finite_Y = (sum(column) for column in zip(*counts))
    _raise_problems(not_finite_X, other_labels, not_finite_Y, classes)


def _evaluated(results: list[tuple[float, int, tuple[int, int, int]]], m: int, check: bool, classes: int | None) -> tuple[float, int]:
    """The validation data's ``(J, hits)`` from its chunks' ``_chunk_evaluation`` results (``m``
    examples in all): the ValueError of bad data, said of the validation data, when ``check``."""
    if check:
        try:
            _raise_found([problems for _, _, problems in results], classes)
        except ValueError as exc:
            raise ValueError(f"validation_data (X_val, Y_val): {exc}") from None
    return math.fsum(J for J, _, _ in results) / m, sum(hits for _, hits, _ in results)


def evaluate(kernel: Kernel, parameters: Mapping[str, Any], validation: Validation) -> tuple[float, int]:
    """``Kernel.evaluate``'s ``(J, hits)`` of ``parameters`` on Dask validation data, in one compute of
    its own: one task per chunk, which checks its block first (finite ``X``, labels as for training)."""
    X, Y, blocks, _ = _placed(validation.X, validation.Y, parameters, persist=False)
    classes = _classes(kernel, parameters)
    name = f"arraynet-evaluation-{uuid.uuid4().hex}"
    graph: dict[Any, Any] = {}
    keys = _block_tasks(graph, name, _chunk_evaluation, blocks, dict(parameters), kernel, True, X.dtype, classes)
    return _evaluated(_computed(graph, name, keys, [X, Y]), X.shape[1], True, classes)


class _Placed(NamedTuple):
    """Dask validation data as ``DaskEpochStep`` holds it once per fit: the ``Validation`` given,
    its ``X`` and ``Y`` and its chunks with examples (``_placed``'s), and whether the next
    evaluation checks them (its first does)."""

    validation: Validation
    X: Any
    Y: Any
    blocks: list[tuple[Any, Any, int]]
    check: bool = True


def _finished(carry: Carry, evaluations: list[Any]) -> tuple[Carry, list[Any]]:
    """The last task of an evaluated epoch's compute: the chain's carry and the evaluation's results."""
    return carry, evaluations


class DaskEpochStep:
    """Mini-batch training with an optimizer on a Dask ``X`` (and ``Y``) chunked along ``m``, one
    compute per epoch: a chain of one task per chunk (``EpochStep``; see the module's docstring).

    ``batches``, the updates an epoch makes, is ``len(partition(c_j, batch_size))`` summed over the
    chunks with examples (batches never cross chunks). ``epoch(plan)`` takes row ``k`` of
    ``plan.scalars`` for the ``k``-th update of the chain (each task its own rows), orders the
    chunks and the examples within them from ``plan.generator()`` (``shuffle=True``) or keeps them
    (``shuffle=False``), and returns the epoch's cost: the chunks' weighted cost sums added on the
    client, over ``m``. The first epoch's compute also checks the data (finite ``X``, labels 0 and
    1), raising the ValueError of data in memory before the step takes that epoch's parameters.
    ``snapshot()`` gives the client's ``(parameters, state)``: arrays of the chunks' library in
    memory, new ones each epoch.

    Each chunk's task runs its batches with an in-memory epoch step (``_chunk_epoch``): the fast
    one that applies where ``fast_paths`` (``fast_paths_enabled``: by default the environment
    variable ``ARRAYNET_FAST_PATHS``) is on, the model's math is the library's own (a ``Kernel``
    with a ``key``; a subclass's own ``_forward`` or ``_backward`` is run as it is, by the generic
    loop) and the chunk makes ``_FAST_MIN_BATCHES`` batches or more; else ``GenericEpochStep``.
    ``chunk_steps`` names the step each chunk's task ran in the last epoch, one name per chunk
    with examples, in their order in ``X`` (empty before the first epoch)."""

    name: ClassVar[str] = "dask"

    @classmethod
    def create(
        cls,
        kernel: Kernel,
        optimizer: Optimizer,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        xp: ModuleType,
        fast_paths: bool | None = None,
    ) -> DaskEpochStep:
        if not is_dask_array(X):
            raise NotApplicable(f"X is not a Dask array but {type(X).__name__}")
        return cls(kernel, optimizer, parameters, state, X, Y, batch_size, fast_paths)

    def __init__(
        self,
        kernel: Kernel,
        optimizer: Optimizer,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        fast_paths: bool | None = None,
    ) -> None:
        from .selection import fast_paths_enabled  # which imports this module

        self.parameters, self.state = dict(parameters), dict(state)
        self._kernel, self._optimizer, self._batch_size, self._m = kernel, optimizer, batch_size, X.shape[1]
        self._dtype, self._classes = X.dtype, _classes(kernel, parameters)
        self._X, self._Y, self._blocks, self._parameter_bytes = _placed(X, Y, parameters)
        self._updates = [len(partition(width, batch_size)) for _, _, width in self._blocks]
        self.batches = sum(self._updates)
        # each chunk's first example's index in X (a chunk without examples has none to skip)
        self._starts = list(itertools.accumulate((width for _, _, width in self._blocks[:-1]), initial=0))
        # decided here, on the client: whether each chunk's task may run a fast in-memory step
        fast = fast_paths_enabled(fast_paths) and kernel.key is not None
        self._fast = [fast and updates >= _FAST_MIN_BATCHES for updates in self._updates]
        self.chunk_steps: tuple[str, ...] = ()
        self._name = f"arraynet-epoch-{uuid.uuid4().hex}"
        self._epochs = 0  # the computes made, for the keys of the next one
        self._checked = False
        self._evaluation: _Placed | None = None  # the Dask validation data, placed at its first evaluation

    def _orders(self, plan: EpochPlan) -> tuple[list[int], list[np.ndarray | None]]:
        """The chain's order of the chunks (indices into ``_blocks``) and each one's order of its
        examples, in chain order (None: as they are), as the module's docstring draws them."""
        if plan.shuffle is False:
            return list(range(len(self._blocks))), [None] * len(self._blocks)
        if plan.shuffle is not True:
            raise ValueError(
                "shuffle: a callable shuffle(epoch) orders all m examples of X, which a Dask X cannot follow: its "
                "epochs run chunk by chunk where the chunks are, and batches never cross chunks. Pass shuffle=True "
                "(each epoch permutes the order of the chunks and the examples within each, drawn from the "
                "model's seed) or shuffle=False, or compute X into memory"
            )
        rng = plan.generator()
        chain = [int(j) for j in rng.permutation(len(self._blocks))]
        orders: list[np.ndarray | None] = []
        for j in chain:
            width = self._blocks[j][2]
            orders.append(rng.permutation(width).astype(np.int32 if width < 2**31 else np.int64))  # half the bytes
        return chain, orders

    def _graph(self, plan: EpochPlan, check: bool, evaluation: _Placed | None = None) -> tuple[Any, list[int]]:
        """This epoch's compute: the chain of one task per chunk, as one Delayed, and the chain's
        order of the chunks; with the validation data's ``evaluation`` (``_Placed``), one
        ``_chunk_evaluation`` task per chunk of it after the chain, with the parameters it ends with,
        and the Delayed gives ``(carry, their results)``."""
        from dask.delayed import Delayed
        from dask.highlevelgraph import HighLevelGraph
        from dask.task_spec import DataNode, List, Task, TaskRef

        chain, orders = self._orders(plan)
        if plan.scalars.shape[0] != self.batches:
            raise ValueError(f"the epoch's plan has {plan.scalars.shape[0]} rows of scalars for {self.batches} updates")
        name = f"{self._name}-{self._epochs}"
        graph: dict[Any, Any] = {}
        shared: tuple[Any, Any] = (self._kernel, self._optimizer)
        if self._parameter_bytes > _INLINE_BYTES:  # a large model's kernel (bound methods) sent once per worker
            keys_of_shared = (f"{name}-kernel", f"{name}-optimizer")
            graph.update({key: DataNode(key, value) for key, value in zip(keys_of_shared, shared)})
            shared = (TaskRef(keys_of_shared[0]), TaskRef(keys_of_shared[1]))
        carry: Any = (self.parameters, self.state, (), (0, 0, 0), ())
        first = 0
        key: Any = None
        for position, (j, order) in enumerate(zip(chain, orders)):
            x_key, y_key, width = self._blocks[j]
            updates = slice(first, first + self._updates[j])
            first += self._updates[j]
            chunk_plan = _ChunkPlan(
                number=plan.number,
                shuffle=plan.shuffle,
                seed=plan.seed,
                m=width,
                scalars=plan.scalars[updates],
                keys=None if plan.keys is None else plan.keys[updates],
                offset=self._starts[j],
                drawn=order,
            )
            key = (f"{name}-chunk", position)
            graph[key] = Task(
                key,
                _chunk_epoch,
                carry,
                TaskRef(x_key),
                TaskRef(y_key),
                *shared,
                self._batch_size,
                chunk_plan,
                self._fast[j],
                check,
                self._dtype,
                self._classes,
            )
            carry = TaskRef(key)
        dependencies = [self._X, self._Y]
        if evaluation is not None:
            parameters_key = f"{name}-parameters"
            graph[parameters_key] = Task(parameters_key, operator.itemgetter(0), carry)
            keys = _block_tasks(
                graph, f"{name}-evaluation", _chunk_evaluation, evaluation.blocks, TaskRef(parameters_key), shared[0],
                evaluation.check, self._dtype, self._classes,
            )
            key = f"{name}-finished"
            graph[key] = Task(key, _finished, carry, List(*map(TaskRef, keys)))
            dependencies += [evaluation.X, evaluation.Y]
        graphs = HighLevelGraph.from_collections(name, graph, dependencies=dependencies)
        return Delayed(key, graphs, layer=name), chain

    def epoch(self, plan: EpochPlan) -> Any:
        """One epoch in one compute; its cost, ``sum(J_batch * batch size) / m`` [C2 1.1]."""
        return self._run(plan, None)[0]

    def epoch_evaluated(self, plan: EpochPlan, validation: Validation) -> tuple[Any, Any, Any]:
        """One epoch and the evaluation of Dask validation data with the parameters it ends with, in
        one compute: ``(cost, J, hits)``. The validation data's chunks are evaluated where they are,
        each by a task of its own after the chain (the first such compute also checks them, as the
        training data's first compute checks those), and their sums added on the client (in another
        order than over the data in memory: the same to rounding). Validation data in memory (of the
        chunks' library) is evaluated on the client, after the compute."""
        if not is_dask_array(validation.X):
            cost = self.epoch(plan)
            return (cost, *self._kernel.evaluate(self.parameters, validation.X, validation.Y, namespace_of(validation.X)))
        if self._evaluation is None or self._evaluation.validation is not validation:
            self._evaluation = _Placed(validation, *_placed(validation.X, validation.Y, self.parameters)[:3])
        cost, results = self._run(plan, self._evaluation)
        J, hits = _evaluated(results, self._evaluation.X.shape[1], self._evaluation.check, self._classes)
        self._evaluation = self._evaluation._replace(check=False)
        return cost, J, hits

    def _run(self, plan: EpochPlan, evaluation: _Placed | None) -> tuple[Any, list[Any]]:
        """One epoch in one compute (``_graph``): its cost and, with ``evaluation``, its results."""
        import dask

        check = not self._checked
        graph, chain = self._graph(plan, check, evaluation)
        result = dask.compute(graph, optimize_graph=False)[0]
        carry, results = result if evaluation is not None else (result, [])
        parameters, state, sums, problems, names = carry
        self._epochs += 1
        if check:
            not_finite_X, other_labels, not_finite_Y = problems
            _raise_problems(not_finite_X, other_labels, not_finite_Y, self._classes)
            self._checked = True
        self.parameters, self.state = parameters, state
        in_order = dict(zip(chain, names))
        self.chunk_steps = tuple(str(in_order[j]) for j in range(len(self._blocks)))
        return functools.reduce(lambda a, b: a + b, sums) / self._m, results

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The parameters and state (each epoch makes new arrays). Read before any epoch has run (a
        fit of 0 epochs), they come after one compute that checks the data, as data in memory is
        checked before training."""
        if not self._checked:
            self._check()
        return self.parameters, self.state

    def _check(self) -> None:
        """The data's checks (finite ``X``, labels as the model takes them) in a compute of their
        own: one task per chunk, the ValueError of data in memory where one finds a bad entry."""
        name = f"{self._name}-check"
        graph: dict[Any, Any] = {}
        keys = _block_tasks(graph, name, _chunk_problems, self._blocks, self._classes)
        _raise_found(_computed(graph, name, keys, [self._X, self._Y]), self._classes)
        self._checked = True


def checked_labels(Y: Any, dtype: Any, classes: int | None = None) -> Any:
    """Dask labels ``Y`` (``_validation.check_Y``'s) in ``dtype``, lazily: each chunk's task
    checks its labels (0 or 1, as ``check_Y`` does), then casts them. For ``classes``, the ``C``
    units of a softmax output, ``Y`` holds class indices (``check_class_labels``'s), which each
    task checks, then makes one-hot ``(C, m_b)``."""

    def block(Y_b: Any) -> Any:
        xp = namespace_of(Y_b)
        other, not_finite = _label_problems(Y_b, xp, classes)
        _raise_problems(0, other, not_finite, classes)
        return _block_data(Y_b, Y_b, xp, dtype, classes)[1]

    if classes is None:
        return Y.map_blocks(block, dtype=dtype)
    return Y.map_blocks(block, chunks=((classes,), Y.chunks[1]), dtype=dtype)


def outputs(forward: Forward, parameters: Mapping[str, Any], X: Any) -> tuple[Any, Any]:
    """``(A^[L], Z^[L])`` of a model's ``forward`` [C1 3.1] on Dask ``X``, lazily: one task per
    chunk, which first checks that its block is finite, and after that its logits (NaN where the
    features overflow the network's arithmetic is a ValueError, as on NumPy data)."""

    dtype = X.dtype
    xp_parameters = namespace_of(next(iter(parameters.values())))
    # the output units C (1, or a softmax's classes), from the forward of no examples
    C = int(forward(parameters, xp_parameters.zeros((X.shape[0], 0), dtype=dtype), xp_parameters)[1].shape[0])

    def block(X_b: Any) -> Any:
        xp = namespace_of(X_b)
        _raise_problems(int(xp.count_nonzero(~xp.isfinite(X_b))), 0, 0)
        X_b = xp.astype(X_b, dtype, copy=False)  # a chunk of another dtype than X's declared one
        AL, ZL, _ = forward(parameters, X_b, xp)
        if bool(xp.any(xp.isnan(ZL))):
            raise ValueError(
                f"the model's output is NaN for {int(xp.count_nonzero(xp.isnan(ZL)))} examples of a chunk of X: "
                "their features overflow the network's arithmetic; scale the features (e.g. standardize them)"
            )
        return xp.concat([AL, ZL], axis=0)

    both = X.map_blocks(block, chunks=((2 * C,), X.chunks[1]), dtype=X.dtype)
    return both[:C], both[C:]

