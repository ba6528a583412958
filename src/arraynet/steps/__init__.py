"""Fast paths beside the generic kernel: a backend-specific training step used where a benchmark
shows it pays, chosen by namespace and dtype, with the generic kernel as the fallback.

Every fast path can be switched off: by ``fit(..., fast_paths=False)`` for one run, or for the
whole process by the environment variable ``ARRAYNET_FAST_PATHS=0``. An explicit argument wins
over the variable. What is kept, and the measurements that justify it: README, "Performance".
"""

from __future__ import annotations

import os

__all__ = ["ENVIRONMENT_VARIABLE", "fast_paths_enabled"]

ENVIRONMENT_VARIABLE = "ARRAYNET_FAST_PATHS"
_OFF = ("0", "false", "no", "off")
_ON = ("", "1", "true", "yes", "on")


def fast_paths_enabled(fast_paths: bool | None = None) -> bool:
    """Whether to use the fast paths: ``fast_paths`` when it is a bool, else what
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
