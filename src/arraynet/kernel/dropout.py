"""Inverted dropout on the hidden layers [C2 2.2]:

    D^[l] = (random values of A^[l]'s shape) < keep_prob
    A^[l] = A^[l] * D^[l] / keep_prob
    backward: dA^[l] = dA^[l] * D^[l] / keep_prob

The random values come from a counter-based hash, not from a library's generator: entry
``(i, j)`` of ``D^[l]`` in update ``k`` of epoch ``e`` is a function of the model's seed, ``e``
(counted across the model's fits, so a later fit never repeats a mask), ``k``, ``l``, the unit
``i`` and the index ``j`` of the example in the whole data set (not its place in the batch), so the
same seed gives the same masks on every library and device, in every step (a Dask chunk or a
compiled epoch draws exactly what NumPy draws for the same examples), with no host round trip per
batch. The hash is written with the Array API's integer operations on ``int32`` arrays (JAX has
no ``int64`` without its float64 mode), and no value ever leaves ``[0, 2^31)``: the standard leaves
integer overflow undefined, so the arithmetic never overflows rather than relying on wrapping.

The hash: the host turns ``(seed, e, k, l)`` into a 32-bit key (BLAKE2b), held as two 16-bit halves
(``dropout_keys``). On the device the state is two 16-bit lanes ``(a, b)``, the key's halves; the
example's index is xored in (its low and high 16 bits), then ``_ROUNDS`` rounds of a Feistel
network, then the unit's index, then ``_ROUNDS`` more. A round is ``p = (a ^ c_r) * M_r`` (a 16-bit
lane times an odd 15-bit multiplier: below 2^31) and ``(a, b) = (b ^ (p >> 16) ^ (p & 0xFFFF),
a)``, a permutation of the state for any key, so distinct examples give distinct states before the
unit is mixed in. An entry is kept where the final ``a < round(keep_prob * 2^16)``: kept with
probability ``keep_prob`` to within ``2^-17``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NamedTuple

from array_api_compat import device

__all__ = ["Dropout", "check_keep_prob", "dropout_keys", "dropout_mask"]

_LANE = 0xFFFF  # a lane's 16 bits
# (c_r, M_r) of each round: round constants below 2^16, odd multipliers below 2^15 (the digits of
# pi and e, made odd)
_ROUNDS = (
    (0x243F, 0x6A89),
    (0x85A3, 0x08D3),
    (0x1319, 0x4A2F),
    (0x0370, 0x7345),
)


def check_keep_prob(keep_prob: float | Sequence[float], hidden: int) -> tuple[float, ...]:
    """``keep_prob`` as one value per hidden layer (one value: the same for every hidden layer), each
    in ``(0, 1]`` and at least ``2^-16`` (the masks' resolution); ``()`` when every one is 1 (no
    dropout). A value below 1 for a network without hidden layers is a ValueError: nothing to drop."""
    given: Any = keep_prob
    if isinstance(given, (str, bytes, bool)) or not (hasattr(given, "__float__") or hasattr(given, "__len__")):
        given = None  # said below
    elif not hasattr(given, "__len__") or getattr(given, "ndim", 1) == 0:  # one number (a NumPy scalar too)
        given = [given] * max(hidden, 1)
    checked: tuple[float, ...] = ()
    if given is not None:
        try:
            checked = tuple(float(value) for value in given if not isinstance(value, (bool, str, bytes)))
        except (TypeError, ValueError):
            checked = ()
    if given is None or len(checked) != len(given) or len(checked) != max(hidden, 1):
        raise ValueError(f"keep_prob must be one number in (0, 1] or a list of one per hidden layer ({hidden}); got {keep_prob!r}")
    if not all(2.0**-16 <= value <= 1.0 for value in checked):  # NaN fails too
        raise ValueError(
            f"keep_prob must be in (0, 1] (the probability of keeping a hidden unit [C2 2.2]; 1 is no dropout), at "
            f"least 2^-16; got {keep_prob!r}"
        )
    if hidden == 0 and checked[0] < 1.0:
        raise ValueError(f"keep_prob={keep_prob!r} drops hidden units [C2 2.2]; this network has none: add hidden layers or drop keep_prob")
    return checked if hidden and any(value < 1.0 for value in checked) else ()


def dropout_keys(seed: int, epoch: int, k: int, layers: int) -> list[tuple[int, int]]:
    """The 32-bit keys of the masks of update ``k`` (0-based) of epoch ``epoch``, one per hidden layer
    ``l = 1..layers``, as ``(high, low)`` 16-bit halves: BLAKE2b of ``(seed, epoch, k, l)``."""
    keys = []
    for l in range(1, layers + 1):
        digest = hashlib.blake2b(f"{seed}/{epoch}/{k}/{l}".encode(), digest_size=4).digest()
        value = int.from_bytes(digest, "little")
        keys.append((value >> 16, value & _LANE))
    return keys


def _rounds(a: Any, b: Any) -> tuple[Any, Any]:
    """``_ROUNDS`` rounds of the Feistel network over the lanes ``a``, ``b`` (int32, in [0, 2^16))."""
    for constant, multiplier in _ROUNDS:
        p = (a ^ constant) * multiplier
        a, b = b ^ (p >> 16) ^ (p & _LANE), a
    return a, b


def dropout_mask(key: Any, examples: Any, units: int, keep_prob: float, xp: ModuleType, dtype: Any) -> Any:
    """``D^[l]`` [C2 2.2] of one hidden layer, ``(units, b)`` in ``dtype``, 1 where a unit is kept and
    0 where it is dropped: ``key`` its ``(high, low)`` halves (Python ints, or 0-d int32 arrays of
    ``xp``), ``examples`` the batch's ``b`` indices in the data set (a 1-D int32 array of ``xp``, on
    the device the mask is made on)."""
    high, low = key
    a = examples & _LANE
    b = examples >> 16
    a, b = _rounds(a ^ low, b ^ high)
    unit = xp.arange(units, dtype=examples.dtype, device=device(examples))[:, None]
    a, b = _rounds(a[None, :] ^ (unit & _LANE), b[None, :] ^ (unit >> 16))
    return xp.astype(a < round(keep_prob * 65536), dtype)


class Dropout(NamedTuple):
    """One update's inverted dropout [C2 2.2]: ``keep_prob[l - 1]`` of each hidden layer ``l`` (1: kept
    whole), ``keys[l - 1]`` its key's ``(high, low)`` halves (``dropout_keys``; an int32 array of
    shape ``(L - 1, 2)`` or a sequence of pairs), and ``examples``, the batch's indices in the data
    set (a 1-D int32 array of the library and device of the data)."""

    keep_prob: tuple[float, ...]
    keys: Any
    examples: Any

    def mask(self, l: int, like: Any, xp: ModuleType) -> Any:
        """``D^[l]`` for ``A^[l]`` = ``like`` (its shape and dtype), or None when layer ``l`` is kept whole."""
        p = self.keep_prob[l - 1]
        return None if p == 1.0 else dropout_mask(self.keys[l - 1], self.examples, like.shape[0], p, xp, like.dtype)
