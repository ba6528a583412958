"""The documentation site's examples, run as a reader would: every ```python block of each page of
``docs/``, in order, in one namespace per page, in an empty folder; a ```text block right after a
python block is what that block prints, checked exactly. And the site's own check: every name of
``arraynet.__all__`` has its entry in the API reference (``docs/hooks.py``)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import arraynet

DOCS = Path(__file__).parents[1] / "docs"
PAGES = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
BLOCK = re.compile(r"^```(python|text)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def examples(page: str) -> list[tuple[str, str | None]]:
    """The page's python blocks, each with the text block that follows it (None if none does)."""
    blocks = BLOCK.findall((DOCS / page).read_text())
    found = []
    for i, (kind, code) in enumerate(blocks):
        if kind == "python":
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            found.append((code, after[1] if after and after[0] == "text" else None))
    return found


def test_the_guides_and_the_home_page_have_examples():
    with_examples = {page for page in PAGES if examples(page)}
    assert {"index.md", "getting-started.md", "guides/math.md", "guides/dask.md", "guides/training.md"} <= with_examples


@pytest.mark.parametrize("page", [page for page in PAGES if examples(page)])
def test_every_example_runs_and_prints_what_the_page_says(page, tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    pytest.importorskip("dask")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs"}
    for number, (code, expected) in enumerate(examples(page), start=1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"docs/{page} python block {number}", "exec"), namespace)  # noqa: S102 (our docs)
        if expected is not None:
            assert printed.getvalue() == expected, f"docs/{page} python block {number}"


def test_the_site_fails_to_build_when_a_public_name_has_no_reference_entry(tmp_path):
    pytest.importorskip("mkdocs")
    import importlib.util

    from mkdocs.exceptions import PluginError

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    hooks.on_pre_build({"docs_dir": str(DOCS)})  # the site as it is: complete
    reference = tmp_path / "reference"
    reference.mkdir()
    page = (DOCS / "reference" / "arraynet.md").read_text()
    (reference / "arraynet.md").write_text(page.replace("::: arraynet.load_zarr\n", ""))
    with pytest.raises(PluginError, match="documents no '::: arraynet.NAME' for load_zarr"):
        hooks.on_pre_build({"docs_dir": str(tmp_path)})
    assert "load_zarr" in arraynet.__all__
