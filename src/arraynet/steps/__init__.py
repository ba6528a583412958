"""How training runs: one iteration of batch gradient descent, or an epoch of mini-batches with an
optimizer (``EpochStep``). How one iteration of batch gradient descent runs: the Step protocol (``base``), the generic
kernel's step (``generic``), the fast steps beside it (``buffered``, over each library's in-place
operations in ``ops``; ``compiled``, under JAX's compiler), the step for data spread over chunks
(``distributed``: Dask arrays, one compute per iteration, or per epoch of mini-batches) and the choice among them
(``selection``). ``fit`` asks ``choose_step`` for a step and runs it; a new backend or engine is a
new step here, never a branch in the kernel."""

from .base import EpochStep, EvaluatingEpochStep, Kernel, NotApplicable, Step, Validation
from .buffered import BufferedEpochStep, BufferedStep
from .compiled import CompiledEpochStep, CompiledStep
from .distributed import DaskEpochStep, DaskStep
from .generic import GenericEpochStep, GenericStep, batch_step, train_step
from .plan import EpochPlan
from .selection import (
    ENVIRONMENT_VARIABLE,
    FAST_EPOCH_STEPS,
    FAST_STEPS,
    PLACEMENT_EPOCH_STEPS,
    PLACEMENT_STEPS,
    choose_epoch_step,
    choose_step,
    fast_paths_enabled,
)

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "FAST_EPOCH_STEPS",
    "FAST_STEPS",
    "PLACEMENT_EPOCH_STEPS",
    "PLACEMENT_STEPS",
    "BufferedEpochStep",
    "BufferedStep",
    "CompiledEpochStep",
    "CompiledStep",
    "DaskEpochStep",
    "DaskStep",
    "EpochPlan",
    "EpochStep",
    "EvaluatingEpochStep",
    "GenericEpochStep",
    "GenericStep",
    "Kernel",
    "NotApplicable",
    "Step",
    "Validation",
    "batch_step",
    "choose_epoch_step",
    "choose_step",
    "fast_paths_enabled",
    "train_step",
]
