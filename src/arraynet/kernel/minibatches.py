"""Mini-batches [C2 1.1]: an epoch is one pass over the ``m`` examples, shuffled by one permutation
of the columns of ``X`` and ``Y`` and cut into ``floor(m / b)`` batches of ``b`` examples, then,
when ``b`` does not divide ``m``, a last one of the ``m - b floor(m / b)`` left over.

The permutation is drawn on the host by the steps' epoch plan (``arraynet.steps.plan``), so every
backend, device and step gathers the same examples in the same order; here is the partition.
"""

from __future__ import annotations

__all__ = ["partition"]


def partition(m: int, batch_size: int) -> list[tuple[int, int]]:
    """The ``(start, stop)`` of each mini-batch of an epoch of ``m`` examples: ``floor(m / b)`` of
    ``b``, then the rest [C2 1.1]. A ``batch_size`` of ``m`` or more is one batch of all ``m``."""
    full = [(start, start + batch_size) for start in range(0, m - batch_size + 1, batch_size)]
    done = full[-1][1] if full else 0
    return full + ([(done, m)] if done < m else [])
