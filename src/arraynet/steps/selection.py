"""Which step runs a training: the step the data's placement needs (the distributed step for Dask
arrays), else the first fast step that applies, else the generic kernel's.

Fast steps sit beside the generic kernel, never instead of it, and every one can be switched off:
by ``fit(..., fast_paths=False)`` for one run, or for the whole process by the environment
variable ``ARRAYNET_FAST_PATHS=0``. An explicit argument wins over the variable. What is kept, and
the measurements that justify it: docs/guides/performance.md. A placement step is no fast path: it runs
the generic kernel where the data is, and applies whatever ``fast_paths`` says.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..kernel.optimizers import Optimizer
from .base import EpochStep, Kernel, NotApplicable, PlacementEpochStep, Step
from .buffered import BufferedEpochStep, BufferedStep
from .compiled import CompiledEpochStep, CompiledStep
from .distributed import DaskEpochStep, DaskStep
from .generic import GenericEpochStep, GenericStep

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "FAST_EPOCH_STEPS",
    "FAST_STEPS",
    "PLACEMENT_EPOCH_STEPS",
    "PLACEMENT_STEPS",
    "choose_epoch_step",
    "choose_step",
    "fast_paths_enabled",
]

logger = logging.getLogger("arraynet")

ENVIRONMENT_VARIABLE = "ARRAYNET_FAST_PATHS"
_OFF = ("0", "false", "no", "off")
_ON = ("", "1", "true", "yes", "on")

# tried first, whatever fast_paths says: data that only these can train on (Dask arrays)
PLACEMENT_STEPS: tuple[type[Step], ...] = (DaskStep,)
# tried in this order; the first whose create() does not raise NotApplicable runs
FAST_STEPS: tuple[type[Step], ...] = (BufferedStep, CompiledStep)
# the same for mini-batch training with an optimizer (fit with a batch_size, an optimizer or a decay)
PLACEMENT_EPOCH_STEPS: tuple[type[PlacementEpochStep], ...] = (DaskEpochStep,)
FAST_EPOCH_STEPS: tuple[type[EpochStep], ...] = (BufferedEpochStep, CompiledEpochStep)


def fast_paths_enabled(fast_paths: bool | None = None) -> bool:
    """Whether to use the fast steps: ``fast_paths`` when it is a bool, else what
    ``ARRAYNET_FAST_PATHS`` says (on when unset)."""
    if fast_paths is not None:
        if not isinstance(fast_paths, bool):
            raise TypeError(f"fast_paths must be True, False or None; got {fast_paths!r}")
        return fast_paths
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ValueError(
        f"the environment variable {ENVIRONMENT_VARIABLE} must be one of "
        f"{', '.join(map(repr, _OFF + _ON[1:]))} or unset; got {os.environ[ENVIRONMENT_VARIABLE]!r}"
    )


def choose_step(
    kernel: Kernel,
    parameters: Mapping[str, Any],
    X: Any,
    Y: Any,
    learning_rate: float,
    xp: ModuleType,
    fast_paths: bool | None = None,
) -> Step:
    """The step that runs batch gradient descent on checked ``(X, Y)`` in namespace ``xp`` (the
    parameters') from ``parameters``: the first of ``PLACEMENT_STEPS`` that applies, else the first
    of ``FAST_STEPS`` that applies when the fast paths are on (``fast_paths_enabled(fast_paths)``),
    else ``GenericStep``. Why a fast step did not apply is logged (logger ``"arraynet"``, level
    DEBUG)."""
    candidates = PLACEMENT_STEPS + (FAST_STEPS if fast_paths_enabled(fast_paths) else ())
    for step in candidates:
        try:
            return step.create(kernel, parameters, X, Y, learning_rate, xp)
        except NotApplicable as reason:
            logger.debug("the %s step does not apply: %s", step.name, reason)
    return GenericStep.create(kernel, parameters, X, Y, learning_rate, xp)


def choose_epoch_step(
    kernel: Kernel,
    optimizer: Optimizer,
    parameters: Mapping[str, Any],
    state: Mapping[str, Any],
    X: Any,
    Y: Any,
    batch_size: int,
    xp: ModuleType,
    fast_paths: bool | None = None,
) -> EpochStep:
    """The step that runs mini-batch training with ``optimizer`` (``EpochStep``), chosen as
    ``choose_step`` chooses: ``PLACEMENT_EPOCH_STEPS``, then ``FAST_EPOCH_STEPS`` when the fast paths
    are on, else ``GenericEpochStep``. A placement step is told whether the fast paths are on, for
    the in-memory steps it runs where the data is (``create(..., fast_paths=)``)."""
    fast = fast_paths_enabled(fast_paths)
    arguments = (kernel, optimizer, parameters, state, X, Y, batch_size, xp)
    for placement in PLACEMENT_EPOCH_STEPS:
        try:
            return placement.create(*arguments, fast_paths=fast)
        except NotApplicable as reason:
            logger.debug("the %s step does not apply: %s", placement.name, reason)
    for step in FAST_EPOCH_STEPS if fast else ():
        try:
            return step.create(*arguments)
        except NotApplicable as reason:
            logger.debug("the %s step does not apply: %s", step.name, reason)
    return GenericEpochStep.create(*arguments)
