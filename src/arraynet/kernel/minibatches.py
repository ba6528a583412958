"""Mini-batches [C2 1.1]: an epoch is one pass over the ``m`` examples, shuffled by one permutation
of the columns of ``X`` and ``Y`` and cut into ``floor(m / b)`` batches of ``b`` examples, then,
when ``b`` does not divide ``m``, a last one of the ``m - b floor(m / b)`` left over.

Batches are indices: the permutation is drawn on the host (NumPy's generator, keyed by the model's
seed and the epoch), so every backend, device and step gathers the same examples in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EpochPlan", "ShuffleLike", "check_batch_size", "epoch_order", "partition"]

# shuffle=True (drawn from the seed), False (in order) or shuffle(epoch) -> a permutation of range(m)
ShuffleLike = bool | Callable[[int], Any]


def partition(m: int, batch_size: int) -> list[tuple[int, int]]:
    """The ``(start, stop)`` of each mini-batch of an epoch of ``m`` examples: ``floor(m / b)`` of
    ``b``, then the rest [C2 1.1]. A ``batch_size`` of ``m`` or more is one batch of all ``m``."""
    full = [(start, start + batch_size) for start in range(0, m - batch_size + 1, batch_size)]
    done = full[-1][1] if full else 0
    return full + ([(done, m)] if done < m else [])


def check_batch_size(batch_size: Any, m: int) -> int | None:
    """``fit``'s ``batch_size``: None (one batch of all ``m``: batch gradient descent) or a whole
    number >= 1; one larger than ``m`` is ``m`` (one batch), as scikit-learn's MLP takes it."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"batch_size must be None (all m examples in one batch) or a whole number of examples >= 1, "
            f"e.g. 64; got {batch_size!r}"
        )
    return min(int(batch_size), m)


def epoch_order(shuffle: ShuffleLike, seed: int | None, epoch: int, m: int) -> np.ndarray | None:
    """The order of the examples in epoch ``epoch`` (0-based, counted across the model's fits): None
    (as they are) for ``shuffle=False``; for ``True``, a permutation drawn by
    ``numpy.random.default_rng([seed, epoch])`` (a seed of None: fresh entropy, not reproducible);
    for a callable, ``shuffle(epoch)``, checked to be a permutation of ``range(m)``."""
    if shuffle is False:
        return None
    if shuffle is True:
        return np.random.default_rng(None if seed is None else [seed, epoch]).permutation(m)
    order = shuffle(epoch)
    try:
        permutation = np.asarray(order)
    except Exception:  # noqa: BLE001 (whatever it returned, the message says what is wanted)
        permutation = np.empty(0)
    if (
        permutation.shape != (m,)
        or not np.issubdtype(permutation.dtype, np.integer)
        or not np.array_equal(np.sort(permutation), np.arange(m))
    ):
        described = f"shape {permutation.shape}, dtype {permutation.dtype}" if permutation.size else repr(order)[:80]
        raise ValueError(
            f"shuffle({epoch}) must return a permutation of range(m) = range({m}), each index once, as integers "
            f"(e.g. numpy.random.permutation(m)); got {described}"
        )
    return permutation.astype(np.int64, copy=False)


@dataclass(frozen=True)
class EpochPlan:
    """What a step needs to run one epoch: its ``number`` (0-based, counted across the model's
    fits), how its ``m`` examples are ordered (``shuffle``, False when they stay as they are, with
    the model's ``seed``), and ``scalars``, one row of the optimizer's host float64 scalars per
    update of the epoch, in order."""

    number: int
    shuffle: ShuffleLike
    seed: int | None
    m: int
    scalars: np.ndarray

    def order(self) -> np.ndarray | None:
        """The epoch's permutation of the ``m`` examples (``epoch_order``), or None for as they are."""
        return epoch_order(self.shuffle, self.seed, self.number, self.m)

    def generator(self) -> np.random.Generator:
        """The epoch's own generator, ``numpy.random.default_rng([seed, number])``, for a step that
        draws its own order (a step over chunks shuffles the chunks and the examples in each)."""
        return np.random.default_rng(None if self.seed is None else [self.seed, self.number])
