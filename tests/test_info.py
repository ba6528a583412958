"""``arraynet info``: every backend with its version, devices and whether it is usable (with the
reason when it is not), and the backend that "auto" picks."""

from __future__ import annotations

import numpy as np
import pytest

from arraynet.backends import BACKENDS, backend_info
from arraynet.cli import main


def info_lines(capsys) -> dict[str, str]:
    """Run ``arraynet info``; its lines keyed by their first word (a backend name, or "backend")."""
    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("arraynet ")
    return {line.split()[0]: line for line in lines[1:]}


def test_info_lists_every_backend_and_what_auto_picks(capsys):
    lines = info_lines(capsys)
    assert set(lines) == set(BACKENDS) | {"backend"}
    assert lines["numpy"].split()[:2] == ["numpy", np.__version__]
    assert lines["numpy"].endswith("usable, devices: cpu")
    for info in backend_info():
        if info.usable:
            assert lines[info.name].split() == [info.name, info.version, "usable,", "devices:", *", ".join(info.devices).split()]
        else:
            assert lines[info.name].endswith(f"not usable: {info.reason}")
    assert lines["backend"].startswith('backend "auto" picks: ')


def test_backend_info_names_pytorchs_version_and_the_cpu():
    torch = pytest.importorskip("torch")
    (info,) = [info for info in backend_info() if info.name == "torch"]
    assert info.usable and info.reason is None
    assert info.version == torch.__version__
    assert "cpu" in info.devices


@pytest.mark.parametrize(
    "cupy_devices, version, reason",
    [
        (None, "not installed", "it is not installed"),
        (RuntimeError("cudaErrorNoDevice"), "0.0+fake", "CuPy is installed but no CUDA device is usable"),
    ],
    ids=["without-cupy", "no-device"],
)
def test_info_says_why_cupy_is_not_usable_and_that_auto_picks_numpy(fake_cupy, capsys, cupy_devices, version, reason):
    fake_cupy(cupy_devices)
    lines = info_lines(capsys)
    assert lines["cupy"].split()[: 1 + len(version.split())] == ["cupy", *version.split()]
    assert f"not usable: {reason}" in lines["cupy"]
    assert lines["backend"].startswith(f'backend "auto" picks: numpy (CuPy is not usable: {reason}')
    (cupy,) = [info for info in backend_info() if info.name == "cupy"]
    assert not cupy.usable and cupy.devices == ()


def test_info_says_auto_picks_cupy_when_a_cuda_device_is_usable(fake_cupy, capsys):
    fake_cupy(2)
    lines = info_lines(capsys)
    assert lines["cupy"].split() == ["cupy", "0.0+fake", "usable,", "devices:", "<CUDA", "Device", "0>,", "<CUDA", "Device", "1>"]
    assert lines["backend"] == 'backend "auto" picks: cupy'
