"""The Docker images, checked without a Docker engine: each Dockerfile installs exactly the extras
that the Docker guide's table (docs/guides/docker.md) documents for it, those extras exist in pyproject.toml, the CUDA
image's CuPy wheel matches its base image's CUDA, base images are pinned, and every image holds
what it needs to run the demo (its default command), the tests and the benchmarks."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILES = sorted((ROOT / "docker").glob("*.Dockerfile"))


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):  # a comment inside a continued instruction
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, f"{dockerfile.name} ends inside a continued line"
    pairs = []
    for line in logical:
        keyword, _, arguments = line.strip().partition(" ")
        pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def project_installs(dockerfile: Path) -> list[set[str]]:
    """The extras of each ``pip install`` of the project itself (a path like ``./[a,b]``)."""
    installs = []
    for keyword, arguments in instructions(dockerfile):
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;", arguments):
            words = shlex.split(command)
            if "pip" in words and "install" in words:
                for word in words[words.index("install") + 1 :]:
                    match = re.fullmatch(r"\.(?:/)?(?:\[(?P<extras>[^\]]*)\])?", word)
                    if match:
                        extras = match.group("extras") or ""
                        installs.append({extra.strip() for extra in extras.split(",") if extra.strip()})
    return installs


def readme_images() -> dict[str, dict[str, str]]:
    """The Docker guide's table (docs/guides/docker.md): Dockerfile path -> the row (image, base, extras, ...)."""
    section = (ROOT / "docs" / "guides" / "docker.md").read_text()
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table = {}
    for row in rows[2:]:
        cells = dict(zip(header, (cell.strip() for cell in row.strip("|").split("|"))))
        table[cells["Dockerfile"].strip("`")] = cells
    return table


def documented_extras(row: dict[str, str]) -> set[str]:
    return set(re.findall(r"`([^`]+)`", row["extras"]))


def base_image(dockerfile: Path) -> str:
    (base,) = [arguments.split()[0] for keyword, arguments in instructions(dockerfile) if keyword == "FROM"]
    return base


def optional_dependencies() -> dict[str, list[str]]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["optional-dependencies"]


def test_there_is_a_cpu_image_and_a_cuda_image_and_the_readme_documents_each():
    assert [path.name for path in DOCKERFILES] == ["cpu.Dockerfile", "cuda.Dockerfile"]
    assert set(readme_images()) == {f"docker/{path.name}" for path in DOCKERFILES}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.stem)
def test_each_image_installs_exactly_the_extras_the_readme_documents(dockerfile):
    row = readme_images()[f"docker/{dockerfile.name}"]
    assert project_installs(dockerfile) == [documented_extras(row)]
    assert documented_extras(row) <= set(optional_dependencies())
    assert "test" in documented_extras(row)  # the image can run the tests and the benchmarks
    assert row["base"] == f"`{base_image(dockerfile)}`"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.stem)
def test_each_image_is_pinned_holds_the_tests_and_benchmarks_and_runs_the_demo(dockerfile):
    base = base_image(dockerfile)
    _, _, tag = base.partition(":")
    assert re.match(r"\d+\.\d+\.\d+-", tag), f"{dockerfile.name}: base image {base} is not pinned to a full version"
    steps = instructions(dockerfile)
    copied = set()
    for keyword, arguments in steps:
        if keyword == "COPY":
            copied.update([word for word in shlex.split(arguments) if not word.startswith("--")][:-1])
    # what the tests read: the package, the README and the guides they check, the Dockerfiles
    assert {"pyproject.toml", "README.md", "ARCHITECTURE.md", "mkdocs.yml", "docs", "docker", "src", "tests", "benchmarks"} <= copied
    (command,) = [arguments for keyword, arguments in steps if keyword == "CMD"]
    assert command == '["arraynet", "demo"]'
    users = [arguments for keyword, arguments in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_cuda_images_cupy_wheel_matches_its_base_images_cuda():
    dockerfile = ROOT / "docker" / "cuda.Dockerfile"
    base = base_image(dockerfile)
    match = re.fullmatch(r"nvidia/cuda:(?P<major>\d+)\.\d+\.\d+-runtime-\S+", base)
    assert match, f"the CUDA image must start from an nvidia/cuda runtime image; got {base}"
    (extras,) = project_installs(dockerfile)
    cuda_extras = {extra for extra in extras if re.fullmatch(r"cuda\d+", extra)}
    assert cuda_extras == {f"cuda{match.group('major')}"}
    (requirement,) = optional_dependencies()[f"cuda{match.group('major')}"]
    assert requirement.startswith(f"cupy-cuda{match.group('major')}x")


def test_the_cpu_image_installs_no_gpu_library():
    (extras,) = project_installs(ROOT / "docker" / "cpu.Dockerfile")
    assert not {extra for extra in extras if extra.startswith("cuda")}
    assert base_image(ROOT / "docker" / "cpu.Dockerfile").startswith("python:")


def test_the_readme_shows_how_to_build_and_run_each_image_with_the_gpu_for_cuda():
    section = (ROOT / "docs" / "guides" / "docker.md").read_text()
    for dockerfile, row in readme_images().items():
        image = row["image"].strip("`")
        assert f"docker build -f {dockerfile} -t {image} ." in section
        runs = [line for line in section.splitlines() if line.startswith("docker run") and f" {image}" in line]
        assert runs, f"no docker run line for {image}"
        assert all(("--gpus all" in line) == ("cuda" in dockerfile) for line in runs)
