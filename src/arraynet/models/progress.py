"""The progress bar of ``fit``: iteration and cost on long runs, drawn with tqdm (the optional
extra ``arraynet[progress]``) on standard error.

The bar is touched only at recorded iterations, never inside the training loop's other
iterations, so it costs nothing there. It appears only after ``DELAY`` seconds: short runs stay
silent.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["DELAY", "ProgressBar", "progress_bar"]

DELAY = 1.0  # seconds a run must last before its bar appears


class ProgressBar:
    """A tqdm bar over ``total`` iterations (or epochs), moved to each recorded one with its cost."""

    def __init__(self, tqdm: Any, total: int, unit: str = "it") -> None:
        self._bar = tqdm(total=total, unit=unit, file=sys.stderr, delay=DELAY, dynamic_ncols=True)

    def update(self, iteration: int, cost: float) -> None:
        """Show that iterations ``0..iteration`` ran and that iteration's cost."""
        self._bar.set_postfix_str(f"cost {cost:.6g}", refresh=False)
        self._bar.update(iteration + 1 - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def progress_bar(total: int, progress: bool | None, unit: str = "it") -> ProgressBar | None:
    """A bar for a run of ``total`` iterations (``unit`` "it") or epochs (``unit`` "epoch"), or None
    when there is to be none.

    ``progress=None`` (automatic): a bar when tqdm is installed and standard error is a terminal.
    ``True``: a bar wherever standard error goes (tqdm must be installed). ``False``: none.
    """
    if progress is False:
        return None
    if progress is not None and progress is not True:
        raise ValueError(f"progress must be True, False or None (automatic); got {progress!r}")
    try:
        from tqdm import tqdm
    except ImportError as exc:
        if progress:
            raise ImportError(
                "progress=True needs tqdm: pip install 'arraynet[progress]' (or pip install tqdm)"
            ) from exc
        return None
    if progress is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    return ProgressBar(tqdm, total, unit)
