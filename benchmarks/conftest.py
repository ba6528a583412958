"""The benchmark suite's options and the machine it ran on.

Run from a source checkout: ``python -m pytest benchmarks`` (the default ``python -m pytest`` runs
only ``tests/``). Targets: ``--bench-backends numpy,torch-cpu,cupy,torch-cuda`` or
``ARRAYNET_BENCH_BACKENDS``; by default every usable one. Sizes: ``ARRAYNET_BENCH_SIZE`` =
``full`` (default), ``quick`` or ``smoke`` (see workloads.py). ``arraynet bench`` wraps all this.
"""

from __future__ import annotations

import datetime
import os
import platform
from typing import Any

import pytest
from workloads import SIZE, Target, all_targets

import arraynet

_LOAD_AT_START: list[float] | None = None


def _load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _LOAD_AT_START
    _LOAD_AT_START = _load_average()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-backends",
        default=None,
        help="comma-separated targets of numpy, torch-cpu, jax, cupy, torch-cuda "
        "(default: $ARRAYNET_BENCH_BACKENDS, else every usable one)",
    )


def selected_targets(config: pytest.Config) -> list[Target]:
    """The targets to run on: those asked for (an error if one is not usable here), else all usable."""
    usable = all_targets()
    value = config.getoption("--bench-backends") or os.environ.get("ARRAYNET_BENCH_BACKENDS")
    if not value:
        return list(usable.values())
    names = [name.strip() for name in value.split(",") if name.strip()]
    missing = [name for name in names if name not in usable]
    if missing:
        raise pytest.UsageError(
            f"--bench-backends: {', '.join(missing)} not usable here; usable: {', '.join(usable)}"
        )
    return [usable[name] for name in names]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``target`` over the selected targets."""
    if "target" in metafunc.fixturenames:
        targets = selected_targets(metafunc.config)
        metafunc.parametrize("target", targets, ids=[t.name for t in targets])


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, Any]:
    import array_api_compat
    import numpy as np

    versions: dict[str, Any] = {
        "arraynet": arraynet.__version__,
        "numpy": np.__version__,
        "array_api_compat": array_api_compat.__version__,
        "python": platform.python_version(),
    }
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    versions["numpy_blas"] = f"{blas.get('name', '?')} {blas.get('version', '?')}"
    try:
        import torch

        versions["torch"] = torch.__version__
        versions["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        import cupy

        versions["cupy"] = cupy.__version__
    except ImportError:
        pass
    try:
        import jax

        versions["jax"] = jax.__version__
    except ImportError:
        pass
    return versions


def _gpus() -> list[dict[str, Any]]:
    gpus = []
    targets = all_targets()
    if "cupy" in targets:
        import cupy

        runtime = cupy.cuda.runtime
        for index in range(runtime.getDeviceCount()):
            props = runtime.getDeviceProperties(index)
            gpus.append(
                {
                    "name": props["name"].decode(),
                    "memory_bytes": int(props["totalGlobalMem"]),
                    "cuda_runtime": runtime.runtimeGetVersion(),
                    "driver": runtime.driverGetVersion(),
                }
            )
    elif "torch-cuda" in targets:
        import torch

        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gpus.append(
                {"name": props.name, "memory_bytes": int(props.total_memory), "cuda": torch.version.cuda}
            )
    return gpus


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """Record what the numbers depend on: CPU, cores, GPUs, library versions, sizes, date."""
    machine_info["arraynet_bench"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpus": _gpus(),
        "versions": _versions(),
        # the machine may be shared: other processes' load is part of the noise of the run
        "load_average_at_start": _LOAD_AT_START,
        "load_average_at_end": _load_average(),
        "thread_settings": {
            name: os.environ.get(name)
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
        },
        "size": SIZE,
        "targets": [t.name for t in selected_targets(config)],
    }
