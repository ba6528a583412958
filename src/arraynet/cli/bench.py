"""``arraynet bench``: run the benchmark suite (``benchmarks/``, pytest-benchmark) and write its JSON,
a Markdown report and PNG plots. The suite lives in the source checkout, not in the wheel."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..io._atomic import atomic_path
from .benchreport import write_report

# pytest-benchmark options per size: "smoke" proves the code runs (one round, tiny sizes, for CI)
ROUNDS = {
    "smoke": ["--benchmark-min-rounds=1", "--benchmark-max-time=0", "--benchmark-warmup=off"],
    "quick": ["--benchmark-min-rounds=3", "--benchmark-max-time=0.25"],
    "full": ["--benchmark-min-rounds=5", "--benchmark-max-time=1.0"],
}
TARGETS = ("numpy", "torch-cpu", "jax", "cupy", "torch-cuda")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def find_suite() -> Path:
    """``benchmarks/`` of the source checkout: under the working directory, else beside ``src/``."""
    candidates = [Path.cwd() / "benchmarks", Path(__file__).resolve().parents[3] / "benchmarks"]
    for folder in candidates:
        if (folder / "conftest.py").is_file() and (folder / "workloads.py").is_file():
            return folder
    raise ValueError(
        "arraynet bench runs the suite in benchmarks/ of a source checkout, which the installed "
        "package does not contain: run it from the root of a clone of the repository "
        "(pip install -e '.[test]' there); looked in " + ", ".join(str(c) for c in candidates)
    )


def _label(json_path: Path) -> str:
    """``cpu`` or the GPU's name (``nvidia-h100-80gb-hbm3``), for the file names."""
    with open(json_path) as f:
        bench = json.load(f).get("machine_info", {}).get("arraynet_bench", {})
    gpus = bench.get("gpus") or []
    if gpus and any(t in ("cupy", "torch-cuda") for t in bench.get("targets", [])):
        return re.sub(r"[^a-z0-9]+", "-", gpus[0]["name"].lower()).strip("-")
    return "cpu"


def _backends(value: str) -> str:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(TARGETS)}; got {value!r}"
        )
    return ",".join(names)


def _threads(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value!r}")
    return int(value)


def _cores(threads: int | None) -> set[int] | None:
    """The first ``threads`` cores this process may use, to pin the suite to: XLA ignores its
    thread flags for some work, and only the affinity holds every library to ``--threads``."""
    if threads is None or not hasattr(os, "sched_setaffinity"):
        return None
    return set(sorted(os.sched_getaffinity(0))[:threads])


def run(args: argparse.Namespace) -> int:
    suite = find_suite()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    date = datetime.date.today().isoformat()
    env = dict(os.environ, ARRAYNET_BENCH_SIZE=args.size)
    if args.backends:
        env["ARRAYNET_BENCH_BACKENDS"] = args.backends
    if args.threads is not None:  # read by OpenBLAS, MKL, PyTorch and XLA when the process starts; the
        # affinity below holds them to it
        env.update({name: str(args.threads) for name in THREAD_VARIABLES})
        eigen = "false" if args.threads == 1 else "true"
        env["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={args.threads}"
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "results.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(suite),
            "-p",
            "no:cacheprovider",
            "-q",
            "--benchmark-sort=name",
            "--benchmark-columns=median,iqr,rounds",
            f"--benchmark-json={raw}",
            *ROUNDS[args.size],
        ]
        cores = _cores(args.threads)
        print("running:", " ".join(command) + ("" if cores is None else f" (on cores {sorted(cores)})"), flush=True)
        code = subprocess.call(
            command, env=env, cwd=suite.parent,
            preexec_fn=None if cores is None else lambda: os.sched_setaffinity(0, cores),
        )
        if code != 0:
            raise OSError(f"the benchmark suite failed (pytest exit code {code}); see its output above")
        stem = f"{_label(raw)}-{date}" + ("" if args.size == "full" else f"-{args.size}")
        stem += "" if args.threads is None else f"-{args.threads}thread"
        json_path = output / f"{stem}.json"
        with atomic_path(json_path) as temporary:
            shutil.copyfile(raw, temporary)
    report = write_report(json_path)
    print(f"results: {json_path}\nreport: {report}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bench",
        help="run the benchmark suite and write a Markdown report with plots (from a source checkout)",
        description="Run benchmarks/ (pytest-benchmark) from a source checkout and write "
        "<machine>-<date>.json, .md and -*.png into the output folder.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--full",
        dest="size",
        action="store_const",
        const="full",
        help="the full sizes (the nets of the performance guide), at least 5 rounds each (the default; ~10 minutes on 2 cores)",
    )
    size.add_argument(
        "--quick",
        dest="size",
        action="store_const",
        const="quick",
        help="the same nets, shorter sweeps, fewer rounds",
    )
    size.add_argument(
        "--smoke",
        dest="size",
        action="store_const",
        const="smoke",
        help="tiny sizes, one round: checks that the suite runs, measures nothing",
    )
    parser.set_defaults(size="full")
    parser.add_argument(
        "--backends",
        type=_backends,
        default=None,
        help=f"comma-separated targets of {', '.join(TARGETS)} (default: every usable one)",
    )
    parser.add_argument(
        "--threads",
        type=_threads,
        default=None,
        help="CPU threads of NumPy's BLAS and PyTorch (default: the libraries' own); "
        "1 gives steadier numbers on a machine that other work shares",
    )
    parser.add_argument(
        "--output", default="benchmarks/results", help="folder for the results (default: %(default)s)"
    )
    parser.set_defaults(run=run)
