"""The record of a training run: the cost at recorded iterations, as the course plots it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History"]


@dataclass
class History:
    """Costs recorded by ``fit``: ``costs[k]`` is the cost of iteration ``iterations[k]``'s forward
    pass, before that iteration's update. Both are plain Python lists."""

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)

    def record(self, iteration: int, cost: float) -> None:
        self.iterations.append(iteration)
        self.costs.append(cost)
