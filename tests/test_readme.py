"""README.md's Python examples, run as a reader would: every ```python block, in order, in one
namespace, in an empty folder (the examples write files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory):
    """What each block leaves bound (a shallow copy after each block), running them in order."""
    pytest.importorskip("sklearn")
    folder = tmp_path_factory.mktemp("readme")
    namespace: dict = {"__name__": "readme"}
    after = []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for number, block in enumerate(python_blocks(), start=1):
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)  # noqa: S102 (the README is ours)
            after.append(dict(namespace))
    return after


def test_the_readme_has_python_examples():
    assert len(python_blocks()) >= 5


def test_every_python_block_runs_in_order(namespaces):
    assert len(namespaces) == len(python_blocks())


def test_the_use_example_trains_the_flower_network_to_its_documented_accuracy(namespaces):
    use = next(names for names in namespaces if "lr" in names)
    assert use["model"].accuracy(use["X"], use["Y"]) == pytest.approx(0.94, abs=0.01)
    assert use["lr"].accuracy(use["X"], use["Y"]) == pytest.approx(0.5, abs=0.05)


def test_the_callback_example_stops_training_early_after_some_training(namespaces):
    """Run after the "Use" block too: the example trains a fresh model, so it does not stop at
    iteration 0 with the Use block's model already trained."""
    callback = next(names for names in namespaces if "stop_when_good" in names)
    history = callback["history"]
    assert history.stopped_early and 0 < history.iterations[-1] < 10000
    assert history.costs[-1] < 0.3 <= history.costs[-2]
