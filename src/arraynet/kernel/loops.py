"""The course's formulas with explicit loops: one example, one unit, one weight at a time.

The same ``forward``, ``backward``, ``update`` and ``compute_cost`` as ``arraynet.forward`` and
friends, with the same signatures and results, written as the course writes them before it
vectorizes [C1 2.5, 2.6, 3.1, 3.5]: for every example ``i`` and every unit ``k``,
``z_k = sum_j W_kj a_j + b_k``. They are the reference of the vectorization benchmark, not a way to
train: a 12288-20-7-5-1 step (m = 209) takes about 9 s on a laptop-class CPU core, where the
vectorized kernel takes 6 to 12 ms.

Every element is read as a Python float (``float(W[k, j])``) and every result is assembled with
``xp.asarray``, so the loops run on any Array API backend; on a GPU each read is a round trip to the
device, which is part of what the benchmark shows. Each element's activation, derivative and loss
is computed here with Python's ``math`` from the course's formulas [C1 2.3, 3.2, 3.4], not with the
kernel's functions, so the loops are an independent reference of them (the four built-in
activations; another one is a ``TypeError``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from array_api_compat import device as device_of

from .._validation import check_logistic_n_x, check_parameters, check_X, check_Y
from ..backends import namespace_of
from .activations import Activation, ActivationLike, LeakyReLU, ReLU, Sigmoid, Tanh
from .cost import check_cost_arguments
from .propagation import (
    LayerCache,
    check_backward_arguments,
    check_forward_arguments,
    check_update_arguments,
)

__all__ = ["backward", "compute_cost", "forward", "logistic_regression_gradients", "update"]

_sigmoid = Sigmoid()


def _rows(M: Any) -> list[list[float]]:
    """The 2-D array ``M`` as lists of Python floats, read one element at a time."""
    n_rows, n_cols = M.shape
    return [[float(M[r, c]) for c in range(n_cols)] for r in range(n_rows)]


def _columns(M: Any) -> list[list[float]]:
    """The columns of the 2-D array ``M`` (one list per example), read one element at a time."""
    n_rows, n_cols = M.shape
    return [[float(M[r, c]) for r in range(n_rows)] for c in range(n_cols)]


class _Elementwise:
    """Applies the kernel's elementwise functions to one Python float at a time, as 0-d arrays in
    the namespace, dtype and device of ``like``."""

    def __init__(self, like: Any, xp: ModuleType) -> None:
        self.xp = xp
        self.dtype = like.dtype
        self.device = device_of(like)

    def scalar(self, value: float) -> Any:
        return self.xp.asarray(value, dtype=self.dtype, device=self.device)

    def array(self, rows: Any) -> Any:
        return self.xp.asarray(rows, dtype=self.dtype, device=self.device)



def _g(activation: Activation, z: float) -> float:
    """``g(z)`` of one number [C1 3.2]: ``sigma(z) = 1 / (1 + e^{-z})`` (as ``e^z / (1 + e^z)``
    for ``z < 0``, so that nothing overflows), ``tanh(z)``, ``max(0, z)``, ``max(slope z, z)``."""
    kind = type(activation)
    if kind is Sigmoid:
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    if kind is Tanh:
        return math.tanh(z)
    if kind is ReLU:
        return max(0.0, z)
    if kind is LeakyReLU:
        return z if z > 0 else activation.slope * z  # type: ignore[attr-defined]
    raise TypeError(
        f"arraynet.kernel.loops computes the built-in activations only (sigmoid, tanh, relu, leaky_relu); got {activation!r}"
    )


def _dz(activation: Activation, da: float, z: float, a: float) -> float:
    """``dz = da * g'(z)`` of one number [C1 3.4, 3.5]: ``sigma' = a (1 - a)``,
    ``tanh' = 1 - a^2``, ``ReLU' = 1 if z > 0 else 0``, ``LReLU' = 1 if z > 0 else slope``."""
    kind = type(activation)
    if kind is Sigmoid:
        return da * (a * (1.0 - a))
    if kind is Tanh:
        return da * (1.0 - a * a)
    if kind is ReLU:
        return da if z > 0 else 0.0
    if kind is LeakyReLU:
        return da if z > 0 else activation.slope * da  # type: ignore[attr-defined]
    return _g(activation, z)  # the same TypeError


def _loss_from_logit(z: float, y: float) -> float:
    """``L = -(y log a + (1 - y) log(1 - a))`` with ``a = sigma(z)`` [C1 2.3], written as
    ``max(z, 0) - y z + log(1 + e^{-|z|})``: finite for every finite ``z``."""
    return max(z, 0.0) - y * z + math.log1p(math.exp(-abs(z)))


def _loss(a: float, y: float) -> float:
    """``L = -(y log a + (1 - y) log(1 - a))`` [C1 2.3]; ``inf`` where ``a`` rounded to the
    wrong end (``log(0)``)."""
    p = a if y == 1 else 1.0 - a
    return math.inf if p == 0 else -math.log(p)


def _forward(
    parameters: Mapping[str, Any], X: Any, activations: Sequence[Activation], xp: ModuleType
) -> tuple[Any, list[LayerCache]]:
    """For each example ``i`` and layer ``l``: ``z_k = sum_j W_kj a_j + b_k``,
    ``a_k = g^[l](z_k)`` for each unit ``k`` [C1 3.1]."""
    ew = _Elementwise(X, xp)
    L = len(activations)
    W = [_rows(parameters[f"W{l}"]) for l in range(1, L + 1)]
    b = [[row[0] for row in _rows(parameters[f"b{l}"])] for l in range(1, L + 1)]
    Z_columns: list[list[list[float]]] = [[] for _ in range(L)]
    A_columns: list[list[list[float]]] = [[] for _ in range(L)]
    for x in _columns(X):  # for i in range(m)
        a = x
        for l, g in enumerate(activations):
            z = []
            for k in range(len(W[l])):
                z_k = b[l][k]
                for j in range(len(a)):
                    z_k += W[l][k][j] * a[j]
                z.append(z_k)
            a = [_g(g, z_k) for z_k in z]
            Z_columns[l].append(z)
            A_columns[l].append(a)
    caches = []
    A_prev = X
    for l in range(L):
        Z = ew.array(list(zip(*Z_columns[l])))
        A = ew.array(list(zip(*A_columns[l])))
        caches.append(LayerCache(A_prev, parameters[f"W{l + 1}"], Z, A))
        A_prev = A
    return A_prev, caches


def _backward(
    AL: Any, Y: Any, caches: Sequence[LayerCache], activations: Sequence[Activation], xp: ModuleType
) -> dict[str, Any]:
    """For each example ``i``: ``dz^[L] = a^[L] - y`` [C1 2.7], then for l = L..1
    ``dW_kj += dz_k a_j^[l-1]``, ``db_k += dz_k``, ``da_j^[l-1] = sum_k W_kj dz_k``,
    ``dz_j^[l-1] = da_j g'(z_j^[l-1])``; finally ``dW /= m``, ``db /= m`` [C1 2.6, 3.5]."""
    ew = _Elementwise(AL, xp)
    L = len(caches)
    m = AL.shape[1]
    W = [_rows(cache.W) for cache in caches]
    A_prev = [_columns(cache.A_prev) for cache in caches]
    Z = [_columns(cache.Z) for cache in caches]
    A = [_columns(cache.A) for cache in caches]
    y = _columns(Y)
    dW = [[[0.0] * len(row) for row in W_l] for W_l in W]
    db = [[0.0] * len(W_l) for W_l in W]
    for i in range(m):
        dz = [a_k - y_k for a_k, y_k in zip(A[-1][i], y[i])]
        for l in range(L - 1, -1, -1):
            a_prev = A_prev[l][i]
            for k in range(len(dz)):
                db[l][k] += dz[k]
                for j in range(len(a_prev)):
                    dW[l][k][j] += dz[k] * a_prev[j]
            if l > 0:
                below = activations[l - 1]
                dz_prev = []
                for j in range(len(a_prev)):
                    da_j = 0.0
                    for k in range(len(dz)):
                        da_j += W[l][k][j] * dz[k]
                    dz_prev.append(_dz(below, da_j, Z[l - 1][i][j], A[l - 1][i][j]))
                dz = dz_prev
    grads = {}
    for l in range(1, L + 1):
        grads[f"dW{l}"] = ew.array([[v / m for v in row] for row in dW[l - 1]])
        grads[f"db{l}"] = ew.array([[v / m] for v in db[l - 1]])
    return grads


def _update(parameters: Mapping[str, Any], grads: Mapping[str, Any], learning_rate: float) -> dict[str, Any]:
    """``w := w - alpha dw`` for every single weight and bias [C1 2.5, 3.5], as new arrays."""
    updated = {}
    for key, value in parameters.items():
        xp = namespace_of(value)
        shape = tuple(value.shape)
        flat = xp.reshape(value, (-1,))
        dflat = xp.reshape(grads[f"d{key}"], (-1,))
        new = [float(flat[n]) - learning_rate * float(dflat[n]) for n in range(flat.shape[0])]
        updated[key] = xp.reshape(_Elementwise(value, xp).array(new), shape)
    return updated


def _cost(AL: Any, Y: Any, ZL: Any, xp: ModuleType) -> Any:
    """``J = (1/m) sum_i L(a^(i), y^(i))`` [C1 2.3], one example's loss at a time."""
    ew = _Elementwise(AL, xp)
    y = _columns(Y)
    if ZL is not None:
        losses = [_loss_from_logit(z[0], t[0]) for z, t in zip(_columns(ZL), y)]
    else:
        losses = [_loss(a[0], t[0]) for a, t in zip(_columns(AL), y)]
    J = 0.0
    for loss in losses:
        J += loss
    return ew.scalar(J / len(losses))


def _logistic_regression_gradients(
    parameters: Mapping[str, Any], X: Any, Y: Any, xp: ModuleType
) -> tuple[Any, dict[str, Any]]:
    """The course's loop over the m examples [C1 2.6]: ``J = 0, dw = 0, db = 0``; for each i:
    ``z = sum_j w_j x_j + b``, ``a = sigma(z)``, ``J += L(a, y)``, ``dz = a - y``,
    ``dw_j += x_j dz`` for each j, ``db += dz``; then ``J, dw, db /= m``."""
    ew = _Elementwise(X, xp)
    w = [row[0] for row in _rows(parameters["w"])]
    b = float(parameters["b"])
    n_x = len(w)
    J, dw, db = 0.0, [0.0] * n_x, 0.0
    m = X.shape[1]
    for x, (y,) in zip(_columns(X), _columns(Y)):
        z = b
        for j in range(n_x):
            z += w[j] * x[j]
        a = _g(_sigmoid, z)
        J += _loss_from_logit(z, y)
        dz = a - y
        for j in range(n_x):
            dw[j] += x[j] * dz
        db += dz
    grads = {"dw": ew.array([[v / m] for v in dw]), "db": ew.scalar(db / m)}
    return ew.scalar(J / m), grads


def forward(
    parameters: Mapping[str, Any], X: Any, activations: Sequence[ActivationLike]
) -> tuple[Any, list[LayerCache]]:
    """``arraynet.forward`` [C1 3.1], one example and one unit at a time: ``(AL, caches)``."""
    return _forward(*check_forward_arguments(parameters, X, activations))


def backward(
    AL: Any, Y: Any, caches: Sequence[LayerCache], activations: Sequence[ActivationLike]
) -> dict[str, Any]:
    """``arraynet.backward`` [C1 3.5], one example and one weight at a time: ``dW1, db1, ...``."""
    return _backward(*check_backward_arguments(AL, Y, caches, activations))


def update(parameters: Mapping[str, Any], grads: Mapping[str, Any], learning_rate: float) -> dict[str, Any]:
    """``arraynet.update`` [C1 3.5], one weight at a time: new parameters ``W - alpha dW``."""
    return _update(*check_update_arguments(parameters, grads, learning_rate))


def compute_cost(AL: Any, Y: Any, ZL: Any = None) -> Any:
    """``arraynet.compute_cost`` [C1 2.3], one example at a time: a 0-d array.

    With ``ZL``, each example's loss is the stable form from its logit; without, from ``a`` itself.
    """
    return _cost(*check_cost_arguments(AL, Y, ZL))


def logistic_regression_gradients(
    parameters: Mapping[str, Any], X: Any, Y: Any
) -> tuple[Any, dict[str, Any]]:
    """The cost ``J`` and the gradients ``dw`` (shape ``(n_x, 1)``) and ``db`` (0-d) of logistic
    regression with parameters ``w, b`` on ``(X, Y)`` [C1 2.6]: ``for i in range(m)`` and
    ``for j in range(n_x)``, as the course writes it before vectorizing it [C1 2.7]."""
    n_x = check_logistic_n_x(parameters)
    parameters, xp, _ = check_parameters(parameters, {"w": (n_x, 1), "b": ()})
    X, _, device = check_X(X, n_x, parameters["w"], "the parameters")
    Y = check_Y(Y, X, xp, device)
    return _logistic_regression_gradients(parameters, X, Y, xp)
