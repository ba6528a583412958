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


def test_the_built_pages_show_rendered_formulas_plots_and_the_reference(tmp_path):
    """Built with mkdocs and opened in headless Chromium (Debian's), as a reader's browser would:
    the math page's formulas are KaTeX's output, the performance page's plots are images the site
    holds, the API page lists the models' methods; a screenshot of each at desktop and phone
    widths is written (``ARRAYNET_DOCS_SCREENSHOTS=DIR`` keeps them)."""
    import os
    import shutil
    import subprocess

    pytest.importorskip("mkdocs")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs Chromium (apt-get install chromium)")
    site = tmp_path / "site"
    built = subprocess.run(
        ["mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        check=False, cwd=DOCS.parent, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    browser = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"]

    def dom(page):
        return subprocess.run(
            [*browser, "--dump-dom", (site / page).as_uri()], check=True, capture_output=True, text=True, timeout=120
        ).stdout

    math = dom("guides/math.html")
    assert math.count('class="katex"') >= 10  # rendered
    text = re.sub(r"<(script|style)\b.*?</\1>", "", math, flags=re.DOTALL)
    assert "\\(" not in text and "\\[" not in text, "a formula KaTeX could not render is left as LaTeX"
    performance = dom("guides/performance.html")
    plots = re.findall(r'<img[^>]+src="([^"]+\.png)"', performance)
    assert plots and all((site / "guides" / plot).resolve().is_file() for plot in plots)
    reference = dom("reference/arraynet.html")
    assert 'id="arraynet.NeuralNetwork.fit"' in reference and 'id="arraynet.load_zarr"' in reference
    assert "= check_layer_dims(" not in reference and "standardize = standardize" not in reference  # no __init__ lines
    home = dom("index.html")  # opened from disk, every link to a page names its file: no directory listings
    links = re.findall(r'href="([^"#:]+)"', home)
    pages = [link for link in links if not link.endswith((".css", ".js", ".png", ".svg", ".ico", ".json", ".xml"))]
    assert pages and all(link.endswith(".html") for link in pages), [link for link in pages if not link.endswith(".html")]
    shots = Path(os.environ.get("ARRAYNET_DOCS_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    for page in ("index.html", "guides/math.html", "reference/arraynet.html"):
        for label, width in (("desktop", 1280), ("phone", 390)):
            path = shots / f"{page.replace('/', '-').removesuffix('.html')}-{label}.png"
            subprocess.run(
                [*browser, f"--window-size={width},900", f"--screenshot={path}", (site / page).as_uri()],
                check=True, capture_output=True, timeout=120,
            )
            assert path.stat().st_size > 10_000, path  # a page, not a blank


def test_the_command_line_guides_name_every_command_and_option():
    """What ``arraynet COMMAND --help`` lists, the guides document (the command line's page, or
    the Dask guide for --dask and --chunks)."""
    import argparse

    from arraynet.cli import _parser

    guides = (DOCS / "guides" / "cli.md").read_text() + (DOCS / "guides" / "dask.md").read_text()
    parser = _parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    missing = []
    for name, command in commands.choices.items():
        if f"`{name}" not in guides and f"`arraynet {name}" not in guides:
            missing.append(name)
        for action in command._actions:
            missing += [f"{name} {option}" for option in action.option_strings if option.startswith("--") and option != "--help" and option not in guides]
    missing += [option for action in parser._actions for option in action.option_strings if option.startswith("--") and option != "--help" and option not in guides]
    assert not missing, missing
