"""The Step protocol: what ``fit`` relies on to run batch gradient descent [C1 2.5, 3.5], whatever
runs the iterations (the generic kernel, buffers written in place, a compiler, a cluster).

``fit`` makes one step per run and then, for each recorded iteration ``i`` (0, ``record_every``,
..., the last):

1. ``step.advance(n)``: the ``n`` iterations since the last recorded one (forward, backward and
   update each, no cost read), in one call where the step can (a compiled loop, one compute on a
   cluster per iteration) or one by one.
2. ``J = step.cost()``: the cost [C1 2.3] of the current parameters, a 0-d array (or a float)
   that ``fit`` reads with ``float``. A step may compute the whole iteration here; its update takes
   effect at 4.
3. ``step.snapshot()``: the current parameters, as arrays that later iterations leave alone (the
   model keeps them if training stops there).
4. ``step.update()``: the parameters become those after this iteration's update.

``step.parameters`` is the current parameters (after the last ``update``), which the step may
change in place. A step class is made by ``create(kernel, parameters, X, Y, learning_rate, xp)``,
which raises ``NotApplicable``, saying why, where it cannot run this training (another library,
device or dtype, a model it does not know); ``arraynet.steps.choose_step`` then tries the next
one, down to the generic kernel's, which applies everywhere. It never changes the arrays in
``parameters``: a step that updates in place works on its own copy.

Every step gives the generic kernel's numbers: bit for bit where it runs the same operations in the
same order (the buffered step), within a stated tolerance where a compiler reorders them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

from ..kernel.accuracy import hits_from_logits
from ..kernel.activations import Activation
from ..kernel.cost import cost_from_logits
from ..kernel.dropout import Dropout
from ..kernel.inplace import InPlaceOps
from ..kernel.regularization import add_l2_gradient_into, add_l2_gradients, l2_cost

__all__ = ["EpochStep", "EvaluatingEpochStep", "Kernel", "NotApplicable", "OneByOne", "PlacementEpochStep", "Step", "Validation"]

# (parameters, X, xp[, dropout]) -> (A^[L], Z^[L], caches); dropout: an update's Dropout [C2 2.2],
# given only where the kernel has a keep_prob
Forward = Callable[..., tuple[Any, Any, Any]]
# (A^[L], Y, caches, xp) -> gradients {"dW1": ..., ...}, one per parameter
Backward = Callable[[Any, Any, Any, ModuleType], dict[str, Any]]
# (Z^[L], Y, xp) -> the cost J as a 0-d array
Cost = Callable[[Any, Any, ModuleType], Any]
# (Z^[L], Y, xp) -> how many examples the output labels right, as a 0-d integer array
Hits = Callable[[Any, Any, ModuleType], Any]


class NotApplicable(Exception):
    """A step cannot run this training; the message says why."""


@dataclass(frozen=True)
class Kernel:
    """A model's math as a step runs it: its ``forward`` [C1 3.1] and ``backward`` [C1 3.5]
    functions (the generic kernel's, taking ``xp``), and, for an L-layer network with parameters
    ``W1, b1, ..., WL, bL``, its activations ``g^[1], ..., g^[L]``, which steps that work layer by
    layer need (None for another model); ``key`` names the math for the steps that compile it;
    ``cost`` computes ``J`` from the logits ``Z^[L]`` and the labels as the step holds them, and
    ``hits`` how many examples the output labels right (``evaluate``: both, of validation data).

    ``l2`` is the ``lambd`` of L2 regularization [C2 2.1] (0: none), the one place a step learns of
    it: every step adds its term to the cost with ``regularized_cost`` and to the weights' gradients
    with ``regularized_gradients`` (in place: ``regularize_into``), over the batch's ``m`` examples,
    once per update. With ``l2 == 0`` they return what they were given, so an unregularized training
    runs exactly the operations it ran without them. ``l2`` is not part of ``key``: a compiled step
    takes ``lambd`` as an argument of its call (one compilation for every ``lambd`` but 0)."""

    forward: Forward
    backward: Backward
    activations: Sequence[Activation] | None = None
    # what forward and backward compute, as a hashable value: two kernels with one key compute the
    # same functions, which must then be pure functions of the key (not bound to a model whose state
    # could change), so a step that compiles them caches by it (None: not cached, not compiled)
    key: Hashable = None
    # the cost from the output's logits: the binary cross-entropy [C1 2.3] of a sigmoid output, the
    # categorical one [C2 3] of a softmax output (part of the math the key names)
    cost: Cost = cost_from_logits
    # how many examples the output's logits label right: Z^[L] > 0 for a sigmoid output, the largest
    # logit for a softmax one (the output's rule, as cost is its cost)
    hits: Hits = hits_from_logits
    # lambd of L2 regularization [C2 2.1], >= 0 (checked where fit takes it: check_l2)
    l2: float = 0.0
    # keep_prob of inverted dropout [C2 2.2], one per hidden layer, () for none (check_keep_prob):
    # training's forward (``training_forward``) then takes each update's Dropout, which the steps
    # make from the epoch's plan (its keys) and the batch's examples
    keep_prob: tuple[float, ...] = ()

    def training_forward(self, parameters: Mapping[str, Any], X: Any, xp: ModuleType, dropout: Dropout | None) -> tuple[Any, Any, Any]:
        """``forward`` in training: with ``dropout``'s masks [C2 2.2] where this kernel drops units."""
        if not self.keep_prob or dropout is None:
            return self.forward(parameters, X, xp)
        return self.forward(parameters, X, xp, dropout)

    def evaluate(self, parameters: Mapping[str, Any], X: Any, Y: Any, xp: ModuleType) -> tuple[Any, Any]:
        """``(J, hits)`` of ``parameters`` on data ``(X, Y)`` (validation data: no dropout, and the
        cross-entropy alone, without L2's term [C2 2.1]): its cost and how many examples it labels
        right, 0-d arrays."""
        _, ZL, _ = self.forward(parameters, X, xp)
        return self.cost(ZL, Y, xp), self.hits(ZL, Y, xp)

    def regularized_cost(self, J: Any, parameters: Mapping[str, Any], m: int, xp: ModuleType, l2: Any = None) -> Any:
        """``J + lambd / (2 m) * sum_l ||W^[l]||_F^2`` [C2 2.1] of ``parameters`` (those whose cost
        ``J`` is, over ``m`` examples) when this kernel regularizes, ``J`` itself otherwise.
        ``l2``: ``lambd`` as the caller holds it (a compiled call's argument), else ``self.l2``."""
        if not self.l2:
            return J
        return J + l2_cost(parameters, self.l2 if l2 is None else l2, m, xp)

    def regularized_gradients(
        self, grads: dict[str, Any], parameters: Mapping[str, Any], m: int, l2: Any = None
    ) -> dict[str, Any]:
        """Backpropagation's ``grads`` of ``parameters`` over ``m`` examples with ``(lambd / m) *
        W^[l]`` added to each ``dW^[l]`` [C2 2.1] when this kernel regularizes, ``grads`` itself
        otherwise. ``l2`` as in ``regularized_cost``."""
        if not self.l2:
            return grads
        return add_l2_gradients(grads, parameters, self.l2 if l2 is None else l2, m)

    def regularize_into(self, dW: Any, W: Any, m: int, ops: InPlaceOps, scratch: Any) -> None:
        """``regularized_gradients`` of one weight in place: ``dW = dW + (lambd / m) * W`` over
        ``dW`` (``scratch``, of ``W``'s shape and dtype, written over), the same operations in the
        same order; nothing when this kernel does not regularize."""
        if self.l2:
            add_l2_gradient_into(dW, W, self.l2, m, ops, scratch)


@runtime_checkable
class Step(Protocol):
    """One run of batch gradient descent on ``(X, Y)``: see the module's docstring."""

    name: ClassVar[str]  # how History.step and the logs name it: "generic", "buffered", ...
    parameters: dict[str, Any]

    @classmethod
    def create(
        cls, kernel: Kernel, parameters: Mapping[str, Any], X: Any, Y: Any, learning_rate: float, xp: ModuleType
    ) -> Step:
        """The step for this training, or ``NotApplicable`` saying why it cannot run it."""
        ...

    def cost(self) -> Any:
        """The cost ``J`` of the current parameters on the training data."""
        ...

    def update(self) -> None:
        """The parameters become those after the update of the iteration ``forward`` began."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """The current parameters, as arrays that later iterations leave alone."""
        ...

    def advance(self, n: int) -> None:
        """``n`` whole iterations (forward, backward, update), no cost read."""
        ...


@runtime_checkable
class EpochStep(Protocol):
    """Mini-batch training [C2 1.1] with an optimizer [C2 1.2-1.4], an epoch at a time.

    Made by ``create(kernel, optimizer, parameters, state, X, Y, batch_size, xp)`` (or
    ``NotApplicable`` saying why not), from the parameters and the optimizer's state (``state``, as
    ``optimizer.init`` makes it), which it never changes in place. ``batches`` is the number of
    updates an epoch makes: ``len(partition(m, batch_size))`` for a step over the whole data (the
    course's ``floor(m / b)`` batches and the rest), more for one whose batches never cross its
    chunks. ``epoch(plan)`` runs epoch ``plan`` (``arraynet.steps.plan.EpochPlan``): its
    batches taken from the examples in ``plan.order()`` (a host permutation of ``range(m)``, or
    None: as they are), one update each, forward, backward and ``optimizer._apply`` with row ``k``
    of ``plan.scalars`` for batch ``k``; it returns the epoch's cost, the batches' costs (each before
    its update) weighted by their sizes, over ``m`` [C2 1.1], as a 0-d array or a float that ``fit``
    reads at recorded epochs only. ``snapshot()`` gives the current ``(parameters, state)`` as
    arrays that later epochs leave alone.

    Every epoch step gives the generic one's numbers: bit for bit where it runs the same operations
    in the same order, within a stated tolerance otherwise.
    """

    name: ClassVar[str]
    parameters: dict[str, Any]
    batches: int

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
    ) -> EpochStep:
        """The step for this training, or ``NotApplicable`` saying why it cannot run it."""
        ...

    def epoch(self, plan: Any) -> Any:
        """One epoch's updates; its cost."""
        ...

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The current parameters and optimizer state, as arrays that later epochs leave alone."""
        ...


@runtime_checkable
class PlacementEpochStep(EpochStep, Protocol):
    """An ``EpochStep`` that runs where the data lives (a Dask array's chunks) and, there, in-memory
    epoch steps: ``create`` takes ``fast_paths`` too, whether those may be the fast ones."""

    @classmethod
    def create(  # type: ignore[override]
        cls,
        kernel: Kernel,
        optimizer: Any,
        parameters: Mapping[str, Any],
        state: Mapping[str, Any],
        X: Any,
        Y: Any,
        batch_size: int,
        xp: ModuleType,
        fast_paths: bool | None = None,
    ) -> PlacementEpochStep:
        """The step for this training, or ``NotApplicable`` saying why it cannot run it."""
        ...


class Validation(NamedTuple):
    """The validation data of a fit: ``X`` as the steps take the training ``X`` (standardized with
    the same scaling, in its library and dtype: in memory, or a Dask array) and ``Y`` checked (labels
    0 and 1, or class indices for a softmax output, as the training ``Y``)."""

    X: Any
    Y: Any


@runtime_checkable
class EvaluatingEpochStep(EpochStep, Protocol):
    """An ``EpochStep`` that also evaluates the validation data with the parameters an epoch ends
    with, in the epoch's own work where it can (JAX: inside its compiled call, one dispatch and one
    sync; Dask validation data: in the epoch's compute, on the workers that hold the data; validation
    data in memory beside a Dask X: on the client) rather than in a forward of its own after it.
    ``epoch_evaluated(plan, validation)`` runs epoch ``plan`` as ``epoch`` does and returns ``(cost,
    val_cost, val_hits)``: its cost, then ``Kernel.evaluate``'s ``(J, hits)`` of the validation data
    (``Validation``), 0-d arrays (or numbers) that ``fit`` reads at recorded epochs only."""

    def epoch_evaluated(self, plan: Any, validation: Validation) -> tuple[Any, Any, Any]:
        """One epoch's updates; its cost and the validation data's cost and hits after it."""
        ...


class OneByOne:
    """``cost`` and ``advance`` for a step that runs one iteration as ``forward()``, which returns
    ``Z^[L]``, then ``update()``, in one process: the cost is its ``kernel``'s (``Kernel.cost``, a
    sigmoid's or a softmax's, with the L2 term [C2 2.1] of the ``parameters`` that ``forward()`` ran
    with) of ``Z^[L]`` and its labels ``Y`` in its namespace ``xp``, computed only where ``fit``
    reads it."""

    Y: Any
    xp: ModuleType
    parameters: dict[str, Any]
    kernel: Kernel

    def forward(self) -> Any:
        raise NotImplementedError

    def cost(self) -> Any:
        kernel, ZL = self.kernel, self.forward()
        return kernel.regularized_cost(kernel.cost(ZL, self.Y, self.xp), self.parameters, ZL.shape[1], self.xp)

    def update(self) -> None:
        raise NotImplementedError

    def advance(self, n: int) -> None:
        for _ in range(n):
            self.forward()
            self.update()
