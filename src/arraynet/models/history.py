"""The record of a training run: the cost at recorded iterations, as the course plots it, with
where and how fast the run went."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History"]


@dataclass
class History:
    """What ``fit`` records: ``costs[k]`` is the cost of iteration ``iterations[k]``'s forward
    pass, before that iteration's update; both are plain Python lists. In mini-batch training
    (``unit == "epoch"``) ``iterations[k]`` is an epoch of this fit (0-based) and ``costs[k]`` that
    epoch's cost [C2 1.1] (its batches' costs, each before its update, weighted by their sizes),
    recorded after it; ``epochs`` names the same list.

    ``backend`` and ``device`` say where the run went (``"torch"``, ``"cuda:0"``), ``step`` what ran
    its iterations (``"generic"``: the generic kernel; ``"buffered"``: the fast path that writes
    into buffers; ``"compiled"``: JAX's compiler; ``"dask"``: one compute per iteration on Dask
    arrays; see ``arraynet.steps``); ``seconds`` is
    its wall-clock time and ``iterations_run`` the number of updates it made: ``num_iterations``,
    or fewer when a callback stopped it early (``stopped_early``), at the last recorded iteration;
    in mini-batch training, the number of epochs run, and ``updates`` the updates they made.
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    backend: str = ""
    device: str = ""
    seconds: float = 0.0
    iterations_run: int = 0
    stopped_early: bool = False
    step: str = ""  # last: a field added in 0.2.0 keeps the positions of the others
    unit: str = "iteration"  # "iteration", or "epoch" in mini-batch training (0.3.0)
    updates: int = 0  # the updates made (0.3.0)
    # with validation data: its cost and accuracy at each recorded point, after the model took its parameters (0.3.0)
    val_costs: list[float] = field(default_factory=list)
    val_accuracies: list[float] = field(default_factory=list)

    def record(self, iteration: int, cost: float) -> None:
        self.iterations.append(iteration)
        self.costs.append(cost)

    @property
    def epochs(self) -> list[int]:
        """The recorded epochs (``iterations``, in mini-batch training)."""
        return self.iterations

    @property
    def seconds_per_iteration(self) -> float | None:
        """Wall-clock seconds per iteration (forward, backward, update and the recording), or None
        when no iteration ran."""
        return self.seconds / self.iterations_run if self.iterations_run else None
