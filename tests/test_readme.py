"""README.md holds what it must (what arraynet is, the two commands, a short example, where the
documentation is), and its example runs as a reader would and prints what the README says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"
BLOCK = re.compile(r"^```(python|text|bash)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(README.read_text())


def test_the_readme_gives_the_install_and_the_test_command():
    commands = [code.strip() for kind, code in blocks() if kind == "bash"]
    assert "pip install -e . && arraynet demo" in commands
    assert 'pip install -e ".[test]" && python -m pytest' in commands


def test_the_example_runs_and_prints_what_the_readme_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = blocks()
    examples = [(code, found[i + 1][1] if i + 1 < len(found) and found[i + 1][0] == "text" else None)
                for i, (kind, code) in enumerate(found) if kind == "python"]
    assert examples and all(expected is not None for _, expected in examples)
    namespace: dict = {"__name__": "readme"}
    for number, (code, expected) in enumerate(examples, start=1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"README.md python block {number}", "exec"), namespace)  # noqa: S102 (the README is ours)
        assert printed.getvalue() == expected
    assert (tmp_path / "flower.npz").is_file()


def test_the_readme_links_the_documentation_that_exists():
    links = re.findall(r"\]\(([^)#]+)\)", README.read_text())
    local = [link for link in links if not link.startswith("http")]
    assert "docs/getting-started.md" in local and "ARCHITECTURE.md" in local
    for link in local:
        assert (README.parent / link).exists(), link


def test_ci_runs_the_readme_commands_first_with_nothing_else_installed():
    """.ci/run's first environment runs the README's two commands, each `A && B` as A then B (under
    `set -e` only a list's last command stops the script), and installs nothing else before them."""
    lines = [line.strip() for line in (README.parent / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    first = commands.index("fresh_venv", commands.index("fresh_venv() {") + 1)
    contract = commands[first + 1 : commands.index("deactivate", first)]
    readme = [part.strip() for kind, code in blocks() if kind == "bash" for part in code.strip().split("&&")]
    assert contract == readme[:4]
