"""The L-layer neural network for binary classification [seed 3.1-3.7, 4.1-4.4]."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from .._validation import check_layer_dims
from ..kernel.activations import Activation, ActivationLike
from ..kernel.initialization import check_init, check_seed, initialize_parameters
from ..kernel.propagation import _backward, _forward, check_activations, network_shapes
from ..steps import Kernel
from .base import Model

__all__ = ["NeuralNetwork"]


class NeuralNetwork(Model):
    """An L-layer network of sizes ``layer_dims = [n_x, n_1, ..., n_L]`` with ``n_L = 1``.

    Hidden layers use ``hidden_activation`` ("relu", "tanh", "leaky_relu", "sigmoid" or an
    ``Activation``) and the output layer ``output_activation`` (a sigmoid: the cross-entropy cost
    needs probabilities); ``activations`` may instead name one per layer. Parameters ``W1, b1, ...,
    WL, bL`` are drawn with ``init`` ("he", "xavier", "small") from ``seed`` at the first ``fit``.
    ``standardize=True``: the input is standardized with the first fit's feature means and
    standard deviations (see ``fit``).
    """

    default_learning_rate = 0.0075
    default_num_iterations = 2500

    def __init__(
        self,
        layer_dims: Sequence[int],
        hidden_activation: ActivationLike = "relu",
        output_activation: ActivationLike = "sigmoid",
        activations: Sequence[ActivationLike] | None = None,
        init: str = "he",
        seed: int | None = None,
        standardize: bool = False,
    ) -> None:
        super().__init__(standardize)
        self.layer_dims = check_layer_dims(layer_dims)
        L = len(self.layer_dims) - 1
        if self.layer_dims[-1] != 1:
            raise ValueError(
                f"layer_dims must end in 1: the output layer predicts one probability; got {layer_dims!r}"
            )
        if activations is None:
            activations = [hidden_activation] * (L - 1) + [output_activation]
        self.activations = check_activations(activations, L)
        self.init = check_init(init)
        if init == "zeros" and L > 1:
            raise ValueError(
                "init='zeros' would make every hidden unit compute the same function (seed 3.7); "
                "use 'he', 'xavier' or 'small'"
            )
        self.seed = check_seed(seed)

    def __repr__(self) -> str:
        return (
            f"NeuralNetwork(layer_dims={self.layer_dims}, activations={self.activations}, "
            f"init={self.init!r}, seed={self.seed!r}" + (", standardize=True)" if self.standardize else ")")
        )

    def _n_x(self) -> int:
        return self.layer_dims[0]

    def _n_x_of(self, parameters: Mapping[str, Any]) -> int:
        return self.layer_dims[0]

    def _shapes(self, n_x: int) -> dict[str, tuple[int, ...]]:
        return network_shapes(self.layer_dims)

    def _initial_parameters(self, n_x: int, xp: ModuleType, dtype: Any, device: Any) -> dict[str, Any]:
        return initialize_parameters(self.layer_dims, self.init, self.seed, xp=xp, dtype=dtype, device=device)

    def _kernel(self) -> Kernel:
        """The network's math: pure functions of its activations (which decide forward and
        backward), keyed by them, unless a subclass redefines ``_forward`` or ``_backward`` (then its
        bound methods, and no key: its math may hang on its own state)."""
        activations = tuple(self.activations)
        if type(self)._forward is not NeuralNetwork._forward or type(self)._backward is not NeuralNetwork._backward:
            return Kernel(self._forward, self._backward, activations)
        return Kernel(
            functools.partial(network_forward, activations=activations),
            functools.partial(network_backward, activations=activations),
            activations,
            key=(NeuralNetwork, activations),
        )

    def _forward(self, parameters: Mapping[str, Any], X: Any, xp: ModuleType) -> tuple[Any, Any, Any]:
        return network_forward(parameters, X, xp, self.activations)

    def _backward(self, AL: Any, Y: Any, caches: Any, xp: ModuleType) -> dict[str, Any]:
        return network_backward(AL, Y, caches, xp, self.activations)


def network_forward(
    parameters: Mapping[str, Any], X: Any, xp: ModuleType, activations: Sequence[Activation]
) -> tuple[Any, Any, Any]:
    """``(A^[L], Z^[L], caches)`` of forward propagation [seed 3.1] through ``activations``."""
    AL, caches = _forward(parameters, X, activations, xp)
    return AL, caches[-1].Z, caches


def network_backward(AL: Any, Y: Any, caches: Any, xp: ModuleType, activations: Sequence[Activation]) -> dict[str, Any]:
    """The gradients of backpropagation [seed 3.5] through ``activations``."""
    return _backward(AL, Y, caches, activations, xp)
