"""The module paths of arraynet before 0.2.0, kept as aliases that say where each one went.

``import arraynet.propagation`` (or ``arraynet.propagation`` after ``import arraynet``) still works
and gives the moved module itself, with a ``DeprecationWarning`` naming the new path; the aliases go
in 0.3.0.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["MOVED", "install"]

# old path -> new path
MOVED = {
    "arraynet.activations": "arraynet.kernel.activations",
    "arraynet.cost": "arraynet.kernel.cost",
    "arraynet.initialization": "arraynet.kernel.initialization",
    "arraynet.propagation": "arraynet.kernel.propagation",
    "arraynet.loops": "arraynet.kernel.loops",
    "arraynet.fastpaths": "arraynet.steps",
    "arraynet.fastpaths.buffered": "arraynet.steps.buffered",
    "arraynet.fastpaths.ops": "arraynet.steps.ops",
    "arraynet.loaders": "arraynet.io.loaders",
    "arraynet.serialization": "arraynet.io.serialization",
    "arraynet.datasets": "arraynet.io.datasets",
    "arraynet.history": "arraynet.models.history",
    "arraynet.progress": "arraynet.models.progress",
    "arraynet.benchreport": "arraynet.cli.benchreport",
}


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside the import machinery and this module: the
    user's ``import`` line, where the warning belongs. ``warnings`` itself skips the frames of
    ``importlib._bootstrap``, so they are not counted."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        name = frame.f_code.co_filename
        internal = "importlib" in name and "_bootstrap" in name
        if not internal and name != __file__ and not name.endswith(("importlib/__init__.py", "arraynet/__init__.py")):
            return level
        frame, level = frame.f_back, level + (not internal)  # type: ignore[assignment]
    return 1


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old paths and loads each as the module at its new path."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return ModuleType(spec.name)  # a placeholder: exec_module puts the moved module in its place

    def exec_module(self, module: ModuleType) -> None:
        new = MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} moved to {new} in arraynet 0.2.0; import it from there "
            "(the old path goes in 0.3.0)",
            DeprecationWarning,
            stacklevel=_caller_stacklevel(),
        )
        # the module itself under its old name too: what is set or patched through the old path
        # (arraynet.progress.DELAY = 0, mock.patch) reaches the one the library uses
        sys.modules[module.__name__] = importlib.import_module(new)


_FINDER = _MovedModules()


def install() -> None:
    """Put the finder of the old paths on ``sys.meta_path`` (once)."""
    if _FINDER not in sys.meta_path:  # first: an old path inside a moved package (arraynet.fastpaths.ops)
        sys.meta_path.insert(0, _FINDER)  # must not be found again as a second copy of the module


def old_submodule(package: str, name: str) -> ModuleType:
    """``arraynet.<name>`` by its old path, for the package's ``__getattr__``; AttributeError if
    there is none."""
    if f"{package}.{name}" not in MOVED:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return importlib.import_module(f"{package}.{name}")
