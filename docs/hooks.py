"""MkDocs hooks of arraynet's site (``mkdocs.yml``: ``hooks``).

- The measured results (``benchmarks/results/``: reports, plots, logs) are published under
  ``results/`` as they are committed, not copied into ``docs/``: the guides link and show them.
- The home page's picture (``assets/decision_boundary.png``) is drawn at each build by
  ``arraynet.plots`` from the model the page trains, not kept as a file.
- The build fails (``--strict`` or not) when a name of ``arraynet.__all__`` has no entry in the API
  reference (``reference/arraynet.md``, a ``::: arraynet.NAME`` line each) or a function or class
  among them has no docstring of its own.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "src"))  # the checkout's arraynet, documented as it is, not an installed one
PUBLISHED = (".md", ".png", ".txt")


def on_files(files: Files, config: Any) -> Files:
    for path in sorted(RESULTS.iterdir()) if RESULTS.is_dir() else ():  # an sdist has no results
        if path.suffix in PUBLISHED:
            files.append(File.generated(config, f"results/{path.name}", abs_src_path=str(path)))
    files.append(File.generated(config, "assets/decision_boundary.png", content=_decision_boundary()))
    return files


def _decision_boundary() -> bytes:
    """The home page's example, trained and drawn (matplotlib, about a second)."""
    import tempfile

    import arraynet
    from arraynet.plots import plot_decision_boundary

    X, Y = arraynet.load_flower()
    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=3)
    model.fit(X, Y, learning_rate=1.2, num_iterations=10000, progress=False)
    with tempfile.TemporaryDirectory() as folder:
        path = plot_decision_boundary(model, X, Y, Path(folder) / "decision_boundary.png", title="2-4-1 tanh network, flower data")
        return path.read_bytes()


def on_pre_build(config: Any) -> None:
    import arraynet

    page = re.sub(r"<!--.*?-->", "", (Path(config["docs_dir"]) / "reference" / "arraynet.md").read_text(), flags=re.DOTALL)
    listed = set(re.findall(r"^::: arraynet\.(\w+)\s*$", page, re.MULTILINE))
    missing = sorted(set(arraynet.__all__) - listed)
    if missing:
        raise PluginError(f"reference/arraynet.md documents no '::: arraynet.NAME' for {', '.join(missing)} (in arraynet.__all__)")
    undocumented = [name for name in arraynet.__all__ if not _own_docstring(getattr(arraynet, name), name)]
    if undocumented:
        raise PluginError(f"no docstring of their own: {', '.join(undocumented)} (in arraynet.__all__)")


def _own_docstring(obj: Any, name: str) -> bool:
    """Whether a public class or function has a docstring of its own: not inherited, and not the
    one Python makes for a dataclass or a named tuple (its signature, ``Name(field, ...)``)."""
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return True  # data (BACKENDS): its entry says what it is
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return bool(doc) and not doc.startswith(f"{name}(")
