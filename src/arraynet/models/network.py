"""The L-layer neural network [C1 3.1-3.7, 4.1-4.4]: binary classification with a sigmoid output, or
``C`` classes with a softmax output [C2 3]."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from .._validation import check_class_labels, check_layer_dims
from ..kernel.accuracy import hits_from_logits, softmax_hits_from_logits
from ..kernel.activations import Activation, ActivationLike, Softmax
from ..kernel.cost import cost_from_logits, softmax_cost_from_logits
from ..kernel.dropout import Dropout, check_keep_prob
from ..kernel.initialization import check_init, check_seed, initialize_parameters
from ..kernel.propagation import _backward, _forward, check_activations, network_shapes
from ..steps import Kernel
from .base import Model

__all__ = ["NeuralNetwork"]


class NeuralNetwork(Model):
    """An L-layer network of sizes ``layer_dims = [n_x, n_1, ..., n_L]``.

    Hidden layers use ``hidden_activation`` ("relu", "tanh", "leaky_relu", "sigmoid" or an
    ``Activation``) and the output layer ``output_activation``: by default a sigmoid when ``n_L = 1``
    (binary labels 0 and 1) and a softmax when ``n_L = C > 1`` (``C`` classes [C2 3]: labels as class
    indices of shape ``(1, m)`` or one-hot columns ``(C, m)``; ``predict`` gives class indices,
    ``predict_proba`` the ``(C, m)`` probabilities). Multi-class logistic regression is
    ``NeuralNetwork([n_x, C])``. ``activations`` may instead name one per layer. Parameters ``W1, b1, ...,
    WL, bL`` are drawn with ``init`` ("he", "xavier", "small") from ``seed`` at the first ``fit``.
    ``standardize=True``: the input is standardized with the first fit's feature means and
    standard deviations (see ``fit``). ``keep_prob`` (one value, or one per hidden layer; 1: none)
    trains with inverted dropout on the hidden layers [C2 2.2], never at prediction: each update
    drops the units of its masks, drawn from ``seed``, the epoch (counted across fits), the update's
    place in it, the layer, the unit and the example's index in the training data (the same masks
    on every backend and step).
    """

    default_learning_rate = 0.0075
    default_num_iterations = 2500

    def __init__(
        self,
        layer_dims: Sequence[int],
        hidden_activation: ActivationLike = "relu",
        output_activation: ActivationLike | None = None,
        activations: Sequence[ActivationLike] | None = None,
        init: str = "he",
        seed: int | None = None,
        standardize: bool = False,
        keep_prob: float | Sequence[float] = 1.0,
    ) -> None:
        super().__init__(standardize)
        self.layer_dims = check_layer_dims(layer_dims)
        L = len(self.layer_dims) - 1
        self.keep_prob = keep_prob  # type: ignore[assignment]  # checked by the property
        C = self.layer_dims[-1]
        if activations is None:
            output = ("sigmoid" if C == 1 else "softmax") if output_activation is None else output_activation
            activations = [hidden_activation] * (L - 1) + [output]
        self.activations = check_activations(activations, L)
        softmax = isinstance(self.activations[-1], Softmax)
        if softmax and C < 2:
            raise ValueError(
                f"a softmax output needs C >= 2 units (classes); layer_dims {self.layer_dims} ends in {C}: use a sigmoid "
                "output for binary labels, or end layer_dims in the number of classes"
            )
        if not softmax and C != 1:
            raise ValueError(
                f"a sigmoid output has one unit (binary labels); layer_dims {self.layer_dims} ends in {C}: end it in 1, "
                f"or use output_activation='softmax' for {C} classes"
            )
        self.init = check_init(init)
        if init == "zeros" and L > 1:
            raise ValueError(
                "init='zeros' would make every hidden unit compute the same function [C1 3.7]; "
                "use 'he', 'xavier' or 'small'"
            )
        self.seed = check_seed(seed)

    @property
    def keep_prob(self) -> tuple[float, ...]:
        """The keep_prob of each hidden layer's inverted dropout [C2 2.2]; ``()`` for none. Set to one
        value or one per hidden layer, checked as the constructor checks it."""
        return self._keep_prob

    @keep_prob.setter
    def keep_prob(self, value: float | Sequence[float]) -> None:
        self._keep_prob = check_keep_prob(value, len(self.layer_dims) - 2)

    def __repr__(self) -> str:
        return (
            f"NeuralNetwork(layer_dims={self.layer_dims}, activations={self.activations}, "
            f"init={self.init!r}, seed={self.seed!r}"
            + (", standardize=True" if self.standardize else "")
            + (f", keep_prob={list(self.keep_prob)}" if self.keep_prob else "")
            + ")"
        )

    def _n_x(self) -> int:
        return self.layer_dims[0]

    def _n_x_of(self, parameters: Mapping[str, Any]) -> int:
        return self.layer_dims[0]

    def _shapes(self, n_x: int) -> dict[str, tuple[int, ...]]:
        return network_shapes(self.layer_dims)

    @property
    def classes(self) -> int:
        """``C``, the number of classes: 2 for a sigmoid output (labels 0 and 1), ``n_L`` for a softmax one."""
        return max(2, self.layer_dims[-1])

    def _softmax(self) -> bool:
        return isinstance(self.activations[-1], Softmax)

    def _softmax_units(self) -> int | None:
        return self.layer_dims[-1] if self._softmax() else None

    def _check_labels(self, Y: Any, X: Any, xp: ModuleType, device: Any) -> Any:
        if self._softmax():
            return check_class_labels(Y, X, xp, device, self.layer_dims[-1])
        return super()._check_labels(Y, X, xp, device)

    def _labels_from_logits(self, ZL: Any, xp: ModuleType) -> Any:
        if self._softmax():
            return xp.astype(xp.argmax(ZL, axis=0, keepdims=True), ZL.dtype)
        return super()._labels_from_logits(ZL, xp)

    def _initial_parameters(self, n_x: int, xp: ModuleType, dtype: Any, device: Any) -> dict[str, Any]:
        return initialize_parameters(self.layer_dims, self.init, self.seed, xp=xp, dtype=dtype, device=device)

    def _kernel(self) -> Kernel:
        """The network's math: pure functions of its activations (which decide forward and
        backward), keyed by them, unless a subclass redefines ``_forward`` or ``_backward`` (then its
        bound methods, and no key: its math may hang on its own state)."""
        activations = tuple(self.activations)
        cost, hits = (softmax_cost_from_logits, softmax_hits_from_logits) if self._softmax() else (cost_from_logits, hits_from_logits)
        if type(self)._forward is not NeuralNetwork._forward or type(self)._backward is not NeuralNetwork._backward:
            if self.keep_prob:
                raise ValueError(
                    f"keep_prob={list(self.keep_prob)} needs NeuralNetwork's own forward and backward (dropout [C2 2.2] "
                    f"is in them); {type(self).__name__} redefines them: drop keep_prob or apply the masks there"
                )
            return Kernel(self._forward, self._backward, activations, cost=cost, hits=hits)
        return Kernel(
            functools.partial(network_forward, activations=activations),
            functools.partial(network_backward, activations=activations),
            activations,
            key=(NeuralNetwork, activations),
            cost=cost,
            hits=hits,
            keep_prob=self.keep_prob,
        )

    def _forward(self, parameters: Mapping[str, Any], X: Any, xp: ModuleType) -> tuple[Any, Any, Any]:
        return network_forward(parameters, X, xp, activations=self.activations)

    def _backward(self, AL: Any, Y: Any, caches: Any, xp: ModuleType) -> dict[str, Any]:
        return network_backward(AL, Y, caches, xp, activations=self.activations)


def network_forward(
    parameters: Mapping[str, Any], X: Any, xp: ModuleType, dropout: Dropout | None = None, *, activations: Sequence[Activation]
) -> tuple[Any, Any, Any]:
    """``(A^[L], Z^[L], caches)`` of forward propagation [C1 3.1] through ``activations``, with
    ``dropout``'s masks on the hidden layers in training [C2 2.2]."""
    AL, caches = _forward(parameters, X, activations, xp, dropout)
    return AL, caches[-1].Z, caches


def network_backward(AL: Any, Y: Any, caches: Any, xp: ModuleType, *, activations: Sequence[Activation]) -> dict[str, Any]:
    """The gradients of backpropagation [C1 3.5] through ``activations``."""
    return _backward(AL, Y, caches, activations, xp)
