"""The cross-entropy cost [seed 2.3]:
``J = -(1/m) sum_i (y_i log a_i + (1 - y_i) log(1 - a_i))``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .backends import namespace_of

__all__ = ["compute_cost"]


def cost_from_logits(ZL: Any, Y: Any, xp: ModuleType) -> Any:
    """``J`` from the output layer's logits ``Z^[L]``, with ``a = sigma(z)``, as a 0-d array.

    Since ``-log sigma(z) = softplus(-z)`` and ``-log(1 - sigma(z)) = softplus(z)``, the loss is
    ``softplus(z) - y z = max(z, 0) - y z + log1p(exp(-|z|))``: exact for labels in {0, 1} and
    finite for every finite ``z`` (no ``exp`` of a positive number, no ``log(0)``).
    """
    losses = xp.maximum(ZL, 0.0) - Y * ZL + xp.log1p(xp.exp(-xp.abs(ZL)))
    return xp.mean(losses)


def cost_from_probabilities(AL: Any, Y: Any, xp: ModuleType) -> Any:
    """``J`` from the predictions ``A^[L]`` themselves, as a 0-d array.

    Exact while ``0 < a < 1``; where ``a`` has rounded to the wrong end (1 for ``y = 0``) the true
    loss is lost to rounding and the cost is ``inf``. Keep the logits for the stable form.
    """
    return -xp.mean(xp.where(Y == 1, xp.log(AL), xp.log1p(-AL)))


def compute_cost(AL: Any, Y: Any, ZL: Any = None) -> Any:
    """The cross-entropy cost ``J`` [seed 2.3] of predictions ``AL`` against labels ``Y``.

    Pass ``ZL``, the output layer's ``Z`` (``caches[-1].Z`` from ``forward``), for the stable form,
    finite for logits of any size; from ``AL`` alone the cost is ``inf`` where ``AL`` has rounded
    to 0 or 1 against its label. Returns a 0-d array in the namespace and on the device of ``AL``.
    """
    if ZL is not None:
        return cost_from_logits(ZL, Y, namespace_of(ZL))
    xp = namespace_of(AL)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the honest answer here
        return cost_from_probabilities(AL, Y, xp)

