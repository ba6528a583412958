"""The cross-entropy cost [C1 2.3]:
``J = -(1/m) sum_i (y_i log a_i + (1 - y_i) log(1 - a_i))``.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import array_api_compat

from .._validation import as_array, check_float_dtype, check_same_place, check_Y
from ..backends import namespace_of

__all__ = ["compute_cost"]


def cost_from_logits(ZL: Any, Y: Any, xp: ModuleType) -> Any:
    """``J`` from the output layer's logits ``Z^[L]``, with ``a = sigma(z)``, as a 0-d array.

    Since ``-log sigma(z) = softplus(-z)`` and ``-log(1 - sigma(z)) = softplus(z)``, the loss is
    ``softplus(-z)`` for ``y = 1`` and ``softplus(z)`` for ``y = 0``, with ``softplus(t) =
    max(t, 0) + log1p(exp(-|t|))``: exact for labels in {0, 1}, finite for every finite ``z`` (no
    ``exp`` of a positive number, no ``log(0)``), and 0 or inf, not NaN, for an infinite one.
    """
    softplus_term = xp.log1p(xp.exp(-xp.abs(ZL)))
    losses = xp.where(Y == 1, xp.maximum(-ZL, 0.0), xp.maximum(ZL, 0.0)) + softplus_term
    return xp.sum(losses) / ZL.shape[1]  # the (1/m) sum: NumPy's mean is the same numbers, slower


def softmax_cost_from_logits(ZL: Any, Y: Any, xp: ModuleType) -> Any:
    """The categorical cross-entropy ``J = -(1/m) sum_i sum_j y_j log a_j`` [C2 3] of one-hot labels
    ``Y`` (shape ``(C, m)``) from the logits ``Z^[L]``, as a 0-d array.

    With ``a = softmax(z)``, ``-log a_j = logsumexp(z) - z_j``, and ``logsumexp(z) = max(z) +
    log(sum_j e^{z_j - max(z)})`` (the Array API has no ``logsumexp``): no exponential of a positive
    number, no ``log`` of a rounded probability, finite for logits of 1e4 in float32."""
    largest = xp.max(ZL, axis=0, keepdims=True)
    logsumexp = largest + xp.log(xp.sum(xp.exp(ZL - largest), axis=0, keepdims=True))
    return xp.sum(logsumexp - xp.sum(Y * ZL, axis=0, keepdims=True)) / ZL.shape[1]


def cost_from_probabilities(AL: Any, Y: Any, xp: ModuleType) -> Any:
    """``J`` from the predictions ``A^[L]`` themselves, as a 0-d array.

    Exact while ``0 < a < 1``; where ``a`` has rounded to the wrong end (1 for ``y = 0``) the true
    loss is lost to rounding and the cost is ``inf``. Keep the logits for the stable form.
    """
    return -xp.sum(xp.log(xp.where(Y == 1, AL, 1.0 - AL))) / AL.shape[1]


def check_predictions(AL: Any, Y: Any) -> tuple[Any, Any, ModuleType]:
    """Predictions ``AL`` of shape ``(1, m)`` in float32 or float64 and their labels ``Y``
    (``check_Y``), checked: ``(AL, Y, xp)``. ``AL``'s values are not read (no device sync)."""
    AL = as_array(AL, "AL")
    xp = namespace_of(AL)
    device = array_api_compat.device(AL)
    check_float_dtype(xp, AL.dtype, "AL")
    if AL.ndim != 2 or AL.shape[0] != 1:
        raise ValueError(f"AL must have shape (1, m), one prediction per example; got {tuple(AL.shape)}")
    if AL.shape[1] == 0:
        raise ValueError(f"AL must hold at least one prediction (m >= 1); got shape {tuple(AL.shape)}")
    return AL, check_Y(Y, AL, xp, device, other="AL"), xp


def check_probabilities(AL: Any, xp: ModuleType) -> None:
    """Every entry of ``AL`` must be a probability in [0, 1] (NaN is not): outside it the
    cross-entropy is negative or NaN, not a cost. Two device syncs (its min and max)."""
    low, high = float(xp.min(AL)), float(xp.max(AL))  # NaN propagates through min and max
    if not 0.0 <= low <= high <= 1.0:
        found = "NaN" if math.isnan(low) or math.isnan(high) else f"values from {low!r} to {high!r}"
        raise ValueError(
            f"AL must hold probabilities in [0, 1] (the sigmoid output A^[L] that forward returns); got {found}"
        )


def check_cost_arguments(AL: Any, Y: Any, ZL: Any = None) -> tuple[Any, Any, Any, ModuleType]:
    """``compute_cost``'s arguments, checked, and their namespace: ``(AL, Y, ZL, xp)``."""
    AL, Y, xp = check_predictions(AL, Y)
    check_probabilities(AL, xp)
    if ZL is not None:
        ZL = as_array(ZL, "ZL")
        check_same_place(xp, array_api_compat.device(AL), ZL, "ZL", "AL")
        if tuple(ZL.shape) != tuple(AL.shape):
            raise ValueError(f"ZL must have the shape of AL, {tuple(AL.shape)}; got {tuple(ZL.shape)}")
        if ZL.dtype != AL.dtype:
            raise TypeError(f"ZL must have the dtype of AL, {AL.dtype}; got {ZL.dtype}")
    return AL, Y, ZL, xp


def compute_cost(AL: Any, Y: Any, ZL: Any = None) -> Any:
    """The cross-entropy cost ``J`` [C1 2.3] of predictions ``AL`` against labels ``Y``.

    Pass ``ZL``, the output layer's ``Z`` (``caches[-1].Z`` from ``forward``), for the stable form,
    finite for logits of any size; from ``AL`` alone the cost is ``inf`` where ``AL`` has rounded
    to 0 or 1 against its label (NumPy warns of the ``log(0)``). Returns a 0-d array in the
    namespace and on the device of ``AL``.

    ``AL`` must hold probabilities in [0, 1] (float32 or float64), ``Y`` the labels 0 and 1, and
    ``ZL`` AL's shape and dtype; otherwise a ``ValueError`` or ``TypeError`` says which and what it
    got. Checking AL's values costs two device syncs: training computes its cost from the logits
    and skips them.
    """
    AL, Y, ZL, xp = check_cost_arguments(AL, Y, ZL)
    return cost_from_probabilities(AL, Y, xp) if ZL is None else cost_from_logits(ZL, Y, xp)
