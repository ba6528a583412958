"""Logistic regression [C1 2.2-2.7]: ``w`` of shape ``(n_x, 1)`` and a scalar ``b``."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._validation import check_logistic_n_x
from ..kernel.activations import Sigmoid
from ..kernel.initialization import check_init, check_seed, initialize_parameters
from ..steps import Kernel
from .base import Model

__all__ = ["LogisticRegression"]

_sigmoid = Sigmoid()


class LogisticRegression(Model):
    """``y_hat = sigma(w^T x + b)`` [C1 2.2], trained by gradient descent on the cross-entropy
    cost [C1 2.3, 2.6]. ``w`` starts at zero (``init="zeros"``, the course's choice) or is drawn
    with another init from ``seed``; ``standardize=True`` standardizes the input with the first
    fit's feature means and standard deviations (see ``fit``)."""

    default_learning_rate = 0.005
    default_num_iterations = 2000

    def __init__(self, init: str = "zeros", seed: int | None = None, standardize: bool = False) -> None:
        super().__init__(standardize)
        self.init = check_init(init)
        self.seed = check_seed(seed)

    def __repr__(self) -> str:
        return f"LogisticRegression(init={self.init!r}, seed={self.seed!r}" + (", standardize=True)" if self.standardize else ")")

    def _n_x(self) -> int | None:
        return None if self._parameters is None else self._parameters["w"].shape[0]

    def _n_x_of(self, parameters: Mapping[str, Any]) -> int:
        return check_logistic_n_x(parameters)

    def _shapes(self, n_x: int) -> dict[str, tuple[int, ...]]:
        return {"w": (n_x, 1), "b": ()}

    def _initial_parameters(self, n_x: int, xp: ModuleType, dtype: Any, device: Any) -> dict[str, Any]:
        W1 = initialize_parameters([n_x, 1], self.init, self.seed, xp=xp, dtype=dtype, device=device)["W1"]
        return {"w": xp.reshape(W1, (n_x, 1)), "b": xp.zeros((), dtype=dtype, device=device)}

    def _kernel(self) -> Kernel:
        """Logistic regression's math, keyed, unless a subclass redefines it (then no key)."""
        if type(self)._forward is not LogisticRegression._forward or type(self)._backward is not LogisticRegression._backward:
            return Kernel(self._forward, self._backward)
        return Kernel(logistic_forward, logistic_backward, key=(LogisticRegression,))

    def _forward(self, parameters: Mapping[str, Any], X: Any, xp: ModuleType) -> tuple[Any, Any, Any]:
        return logistic_forward(parameters, X, xp)

    def _backward(self, AL: Any, Y: Any, caches: Any, xp: ModuleType) -> dict[str, Any]:
        return logistic_backward(AL, Y, caches, xp)


def logistic_forward(parameters: Mapping[str, Any], X: Any, xp: ModuleType) -> tuple[Any, Any, Any]:
    """``Z = w^T X + b``, ``A = sigma(Z)`` [C1 2.2]: ``(A, Z, X)``."""
    Z = parameters["w"].T @ X + parameters["b"]
    A = _sigmoid.forward(Z, xp)
    return A, Z, X


def logistic_backward(AL: Any, Y: Any, caches: Any, xp: ModuleType) -> dict[str, Any]:
    """``dZ = A - Y``, ``dw = (1/m) X dZ^T``, ``db = (1/m) sum_i dz^(i)`` [C1 2.7]."""
    X = caches
    dZ = (AL - Y) * (1.0 / X.shape[1])
    return {"dw": X @ dZ.T, "db": xp.sum(dZ)}
