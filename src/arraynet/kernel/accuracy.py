"""How many examples a model labels right, the numerator of its accuracy, from the output layer's
logits ``Z^[L]`` and the labels as training holds them: ``(1, m)`` labels 0 and 1 for a sigmoid
output [C1 2.1], one-hot ``(C, m)`` columns for a softmax one [C2 3].
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["hits_from_logits", "softmax_hits_from_logits"]


def hits_from_logits(ZL: Any, Y: Any, xp: ModuleType) -> Any:
    """The examples whose predicted label, 1 where ``A^[L] = sigma(Z^[L]) > 0.5`` (read as ``Z^[L]
    > 0``), equals their label, as a 0-d integer array."""
    return xp.count_nonzero((ZL > 0) == (Y == 1))


def softmax_hits_from_logits(ZL: Any, Y: Any, xp: ModuleType) -> Any:
    """The examples whose predicted class, the largest of their ``C`` logits, is their one-hot
    label's, as a 0-d integer array."""
    return xp.count_nonzero(xp.argmax(ZL, axis=0) == xp.argmax(Y, axis=0))
