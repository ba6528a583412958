"""Parameter initialisation [C1 3.7]: small random weights break the symmetry of hidden units;
zero biases are fine.

Weights are drawn on the host from ``numpy.random.default_rng(seed)`` in float64 and only then moved
to the data's namespace, device and dtype, so the same seed gives the same network on every backend.
That host generator is the kernel's one use of NumPy: the Array API standard has no random numbers.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from .._validation import check_float_dtype, check_layer_dims
from ..backends import as_namespace, backend_name, dtype_argument, namespace_for_backend

__all__ = ["INITS", "initialize_parameters"]

# init name -> scale of the standard normal draw for W^[l], given n_{l-1}
INITS: dict[str, Callable[[int], float]] = {
    "small": lambda n_prev: 0.01,  # the course's "very small random values" [C1 3.7]
    "xavier": lambda n_prev: 1.0 / math.sqrt(n_prev),
    "he": lambda n_prev: math.sqrt(2.0 / n_prev),
    "zeros": lambda n_prev: 0.0,  # only for models without hidden units (logistic regression)
}


def check_init(init: str) -> str:
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}; got {init!r}")
    return init


def check_seed(seed: int | None) -> int | None:
    """``seed``: None (fresh randomness) or an integer >= 0 for ``numpy.random.default_rng``."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0; got {seed!r}")
    return None if seed is None else int(seed)


def initialize_parameters(
    layer_dims: Sequence[int],
    init: str = "he",
    seed: int | None = None,
    *,
    xp: ModuleType | None = None,
    dtype: Any = None,
    device: Any = None,
) -> dict[str, Any]:
    """``W1, b1, ..., WL, bL`` for a network of sizes ``layer_dims = [n_x, n_1, ..., n_L]``.

    ``W^[l]`` of shape ``(n_l, n_{l-1})`` is standard normal times the init's scale: ``"small"``
    0.01 [C1 3.7], ``"xavier"`` ``1/sqrt(n_{l-1})``, ``"he"`` ``sqrt(2/n_{l-1})``, ``"zeros"`` 0;
    ``b^[l]`` of shape ``(n_l, 1)`` is zero. Arrays are made in namespace ``xp`` (NumPy by default)
    with ``dtype`` (the namespace's default float by default) on ``device``.

    ``xp`` is a namespace of ``arraynet.backends.namespace_for_backend`` or the plain library module
    (``numpy``, ``torch``, ``cupy``), which stands for its array-api-compat namespace; anything
    else is a ``TypeError``. ``dtype`` is float32 or float64 of that namespace, or its name
    ("float32"): an integer dtype would truncate the weights to zeros [C1 3.7] and float16 or
    bfloat16 underflow in training, so either is a ``TypeError``.
    """
    dims = check_layer_dims(layer_dims)
    scale_of = INITS[check_init(init)]
    xp = namespace_for_backend("numpy") if xp is None else as_namespace(xp)
    if dtype is None:
        dtype = xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]
    dtype = dtype_argument(xp, dtype)
    check_float_dtype(xp, dtype, "dtype", fix=f"pass dtype={backend_name(xp)}'s float32 or float64, or None for its default")
    rng = np.random.default_rng(check_seed(seed))
    parameters = {}
    for l in range(1, len(dims)):
        n, n_prev = dims[l], dims[l - 1]
        W = rng.standard_normal((n, n_prev)) * scale_of(n_prev)
        parameters[f"W{l}"] = xp.asarray(W, dtype=dtype, device=device)
        parameters[f"b{l}"] = xp.zeros((n, 1), dtype=dtype, device=device)
    return parameters
