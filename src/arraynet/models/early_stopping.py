"""Early stopping, as Keras names it: stop training when a monitored quantity has stopped improving,
and keep the model of its best recorded point.

``fit(..., early_stopping=arraynet.EarlyStopping(monitor="val_cost", patience=5))`` checks the
monitored value at each recorded iteration or epoch (``"val_cost"`` and ``"val_accuracy"`` need
validation data: ``validation_data`` or ``validation_split``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .history import History

__all__ = ["EarlyStopping"]

_MONITORED = {"cost": "costs", "val_cost": "val_costs", "val_accuracy": "val_accuracies"}


class EarlyStopping:
    """Stop when ``monitor`` ("val_cost", "cost" or "val_accuracy") has not improved by more than
    ``min_delta`` for ``patience`` recorded points in a row (at the first one for ``patience`` 0 or 1) (a cost improves downwards, an accuracy
    upwards). With ``restore_best`` (True), the stopped model takes back its parameters (and its
    optimizer's state and counts) of the best recorded point; its input standardization is the same
    throughout. One object serves one fit at a time; each fit starts it afresh.

    After the fit: ``best`` (the best value), ``best_at`` (its iteration or epoch) and
    ``stopped_at`` (where training stopped, None if it ran to the end).
    """

    def __init__(self, monitor: str = "val_cost", patience: int = 0, min_delta: float = 0.0, restore_best: bool = True) -> None:
        if monitor not in _MONITORED:
            raise ValueError(f"monitor must be one of {', '.join(map(repr, _MONITORED))}; got {monitor!r}")
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"patience must be a whole number of recorded points >= 0; got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) or not 0.0 <= min_delta < math.inf:
            raise ValueError(f"min_delta must be a finite number >= 0; got {min_delta!r}")
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best must be True or False; got {restore_best!r}")
        self.monitor: str = monitor
        self.patience: int = int(patience)
        self.min_delta: float = float(min_delta)
        self.restore_best: bool = restore_best
        self._reset()

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience!r}, min_delta={self.min_delta!r}, "
            f"restore_best={self.restore_best!r})"
        )

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_at: int | None = None
        self.stopped_at: int | None = None
        self._wait = 0
        self._kept: tuple[Any, ...] | None = None

    @property
    def needs_validation(self) -> bool:
        return self.monitor != "cost"

    def start(self) -> None:
        """A new fit begins."""
        self._reset()

    def update(self, history: History, model: Any) -> bool:
        """At a recorded point (the last of ``history``, the model holding its parameters): whether
        to stop now."""
        value = getattr(history, _MONITORED[self.monitor])[-1]
        sign = 1.0 if self.monitor == "val_accuracy" else -1.0
        if self.best is None or sign * (value - self.best) > self.min_delta:
            self.best, self.best_at, self._wait = value, history.iterations[-1], 0
            if self.restore_best:
                self._kept = (model._parameters, model._optimizer_state, model._epochs, model._updates)
            return False
        self._wait += 1
        if self._wait < self.patience:  # Keras's count: patience 0 and 1 both stop at the first miss
            return False
        self.stopped_at = history.iterations[-1]
        if self.restore_best and self._kept is not None:
            model._parameters, model._optimizer_state, model._epochs, model._updates = self._kept
        return True
