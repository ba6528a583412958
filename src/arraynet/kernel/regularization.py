"""L2 regularization [C2 2.1]: the cost of a batch of ``m`` examples becomes

    J = (1/m) sum_i L(y_hat_i, y_i) + lambd / (2 m) * sum_l ||W^[l]||_F^2

and backpropagation's ``dW^[l]`` gains ``(lambd / m) * W^[l]``. The weights are the parameters named
``W1, ..., WL`` (an L-layer network) or ``w`` (logistic regression); the biases ``b`` are never
regularized. ``m`` is the number of examples the cost is taken over: all of them in batch gradient
descent, the mini-batch's in mini-batch training [C2 1.1].

These are the formulas, written once against the Array API (``l2_cost``, ``add_l2_gradients``) and
in place (``add_l2_gradient_into``, the same operations in the same order, over ``InPlaceOps``).
Which training uses them, and with which ``lambd``, is the ``Kernel``'s (``arraynet.steps.Kernel``:
its ``l2`` field, ``regularized_cost`` and ``regularized_gradients``), which every step calls.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .inplace import InPlaceOps

__all__ = ["add_l2_gradient_into", "add_l2_gradients", "check_l2", "is_weight", "l2_cost"]


def check_l2(l2: Any) -> float:
    """``lambd`` of L2 regularization [C2 2.1] as a float: a finite number >= 0 (0: none)."""
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(
            f"l2 must be a finite number >= 0, the lambda of L2 regularization (0: none), e.g. 0.1; got {l2!r}"
        )
    return float(l2)


def is_weight(key: str) -> bool:
    """Whether the parameter named ``key`` is a weight that L2 regularizes: ``W1``, ..., ``WL`` or
    logistic regression's ``w``; a bias ``b`` never is."""
    return key == "w" or (key[:1] == "W" and key[1:].isdigit())


def l2_cost(parameters: Mapping[str, Any], l2: Any, m: int, xp: ModuleType) -> Any:
    """``lambd / (2 m) * sum_l ||W^[l]||_F^2`` [C2 2.1] as a 0-d array: each weight's sum of
    squares, added in the order of ``parameters``. ``l2`` is ``lambd``: a float, or a traced scalar
    under a compiler."""
    squares = [xp.sum(value * value) for key, value in parameters.items() if is_weight(key)]
    if not squares:
        return 0.0
    return functools.reduce(operator.add, squares) * (l2 / (2 * m))


def add_l2_gradients(grads: Mapping[str, Any], parameters: Mapping[str, Any], l2: Any, m: int) -> dict[str, Any]:
    """The gradients with ``dW^[l] = dW^[l] + (lambd / m) * W^[l]`` [C2 2.1] for every weight (new
    arrays; the biases' gradients as they are), in the order of ``grads``."""
    scale = l2 / m
    return {
        name: (grad + scale * parameters[name[1:]]) if is_weight(name[1:]) and name[1:] in parameters else grad
        for name, grad in grads.items()
    }


def add_l2_gradient_into(dW: Any, W: Any, l2: float, m: int, ops: InPlaceOps, scratch: Any) -> None:
    """``dW = dW + (lambd / m) * W`` [C2 2.1] over ``dW``, ``add_l2_gradients``' operations in its
    order: ``(lambd / m) * W`` into ``scratch`` (of ``W``'s shape and dtype), then the sum."""
    ops.multiply(W, l2 / m, out=scratch)
    ops.add(dW, scratch, out=dW)
