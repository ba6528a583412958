"""An epoch's plan [C2 1.1]: the order of its examples, drawn on the host (NumPy's generator, keyed
by the model's seed and the epoch, or given by the user's ``shuffle``), and its updates' scalars,
which every epoch step (``arraynet.steps.base.EpochStep``) runs. Drawn on the host, the same
permutation reaches every backend, device and step, as the kernel's initial parameters do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..kernel.dropout import dropout_keys

__all__ = ["EpochPlan", "ShuffleLike", "dropout_keys_of", "epoch_order"]

# shuffle=True (drawn from the seed), False (in order) or shuffle(epoch) -> a permutation of range(m)
ShuffleLike = bool | Callable[[int], Any]


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


def dropout_keys_of(seed: int, epoch: int, updates: int, layers: int) -> np.ndarray:
    """The dropout keys [C2 2.2] (``arraynet.kernel.dropout.dropout_keys``) of the ``updates`` updates
    of epoch ``epoch``, int32 of shape ``(updates, layers, 2)``: the epoch's ``EpochPlan.keys``."""
    keys = [dropout_keys(seed, epoch, k, layers) for k in range(updates)]
    return np.array(keys, dtype=np.int32).reshape(updates, layers, 2)


@dataclass(frozen=True)
class EpochPlan:
    """What a step needs to run one epoch: its ``number`` (0-based, counted across the model's
    fits), how its ``m`` examples are ordered (``shuffle``, False when they stay as they are, with
    the model's ``seed``), ``scalars``, one row of the optimizer's host float64 scalars per
    update of the epoch, in order, and, with dropout [C2 2.2], ``keys``: each update's masks' keys,
    int32 of shape ``(updates, hidden layers, 2)`` (``dropout_keys_of``), the
    masks drawn for the examples' indices in the data set, ``offset`` plus their index here (a
    chunk's plan: the chunk's first example's)."""

    number: int
    shuffle: ShuffleLike
    seed: int | None
    m: int
    scalars: np.ndarray
    keys: np.ndarray | None = None
    offset: int = 0

    def order(self) -> np.ndarray | None:
        """The epoch's permutation of the ``m`` examples (``epoch_order``), or None for as they are."""
        return epoch_order(self.shuffle, self.seed, self.number, self.m)

    def generator(self) -> np.random.Generator:
        """The epoch's own generator, ``numpy.random.default_rng([seed, number])``, for a step that
        draws its own order (a step over chunks shuffles the chunks and the examples in each)."""
        return np.random.default_rng(None if self.seed is None else [self.seed, self.number])
