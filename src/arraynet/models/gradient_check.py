"""Gradient checking [C2 4]: backpropagation's gradients against centered differences of the cost.

All parameters are flattened into one vector ``theta`` and backpropagation's gradients into
``dtheta``; for each component ``i``,
``gradapprox_i = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)``, and the check returns

    difference = ||dtheta - gradapprox||_2 / (||dtheta||_2 + ||gradapprox||_2)

About 1e-7 or less (in float64): backpropagation is right; above 2e-7 the course says look for a
mistake. It costs two forward passes per parameter: a check for small networks, not training.
With ``l2``, ``J`` and the gradients are those of L2 regularization [C2 2.1], as ``fit(l2=...)``
trains with.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..backends import asarray, backend_name, to_numpy
from ..kernel.regularization import check_l2
from .base import Model

__all__ = ["gradient_check"]


def gradient_check(model: Model, X: Any, Y: Any, epsilon: float = 1e-7, l2: float = 0.0) -> float:
    """The course's relative difference [C2 4] between ``model``'s backpropagation gradients on
    ``(X, Y)`` and centered differences of its cost ``J`` with step ``epsilon``, over all its
    parameters (the model must have parameters: ``fit`` or ``set_parameters`` first; they are left
    unchanged). It computes in float64 whatever the model's dtype (on its backend and device: JAX
    needs its 64-bit mode), since in float32 the differences of ``J`` lose most of their digits.
    ``l2=lambd`` (> 0) checks the regularized cost and gradients [C2 2.1]:
    ``J + lambd / (2 m) * sum_l ||W^[l]||_F^2`` and ``dW^[l] + (lambd / m) * W^[l]``, as ``fit``
    trains with ``l2``; 0 (default), the cross-entropy alone."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0.0 < epsilon < math.inf:
        raise ValueError(f"epsilon must be a small positive number, e.g. 1e-7; got {epsilon!r}")
    l2 = check_l2(l2)
    X, xp, device = model._check_X(X)
    Y = model._check_labels(Y, X, xp, device)
    backend = backend_name(xp)

    def in_float64(array: Any) -> Any:
        return asarray(array, backend, device, "float64")

    X, Y = in_float64(model._standardized(X)), in_float64(Y)
    parameters = {key: in_float64(value) for key, value in model._fitted_parameters().items()}
    kernel = replace(model._kernel(), l2=l2)
    m = X.shape[1]

    def cost(values: dict[str, Any]) -> float:
        _, ZL, _ = model._forward(values, X, xp)
        return float(kernel.regularized_cost(kernel.cost(ZL, Y, xp), values, m, xp))

    AL, _, caches = model._forward(parameters, X, xp)
    grads = kernel.regularized_gradients(model._backward(AL, Y, caches, xp), parameters, m)
    host = {key: to_numpy(value) for key, value in parameters.items()}
    dtheta, approx = [], []
    for key, value in host.items():
        dtheta.append(to_numpy(grads[f"d{key}"]).ravel())
        for i in range(value.size):
            shifted = []
            for sign in (1.0, -1.0):
                moved = value.copy().ravel()
                moved[i] += sign * epsilon
                shifted.append(
                    cost({**parameters, key: asarray(moved.reshape(value.shape).astype(value.dtype), backend, device)})
                )
            approx.append((shifted[0] - shifted[1]) / (2 * epsilon))
    d, a = np.concatenate(dtheta), np.asarray(approx)
    denominator = np.linalg.norm(d) + np.linalg.norm(a)
    return 0.0 if denominator == 0 else float(np.linalg.norm(d - a) / denominator)
