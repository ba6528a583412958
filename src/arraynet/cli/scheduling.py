"""``--dask [SCHEDULER]`` and ``--chunks N``: training on Dask arrays (``arraynet.steps.distributed``),
the data read chunk by chunk, on this process's threads, a cluster started here, or a running one.

- ``--dask`` (or ``--dask threads``): Dask's threaded scheduler in this process;
- ``--dask local:N``: a ``distributed.LocalCluster`` of N worker processes (one thread each) on
  this machine, started for the command and closed after it, without the nanny's
  ``MALLOC_TRIM_THRESHOLD_`` (measured slower), its workers' logs below CRITICAL silenced (a
  failing task is the command's own error line, not also distributed's "Compute Failed");
- ``--dask tcp://HOST:PORT``: the scheduler of a running cluster (``dask scheduler`` and
  ``dask worker``, or Dask-CUDA's ``dask cuda worker``), whose workers must reach the data file.

A Zarr store (``DATA.zarr``) is always read through Dask (threads unless ``--dask`` says more).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["add_dask_arguments", "check_dask_arguments", "dask_scheduler", "scheduler_of"]

_LOCAL = re.compile(r"local:(\d+)")
_TRIM = "MALLOC_TRIM_THRESHOLD_"
_CONNECT_SECONDS = 10


def scheduler_spec(text: str) -> str:
    """``--dask``'s value: "threads", "local:N" with 1 <= N <= the cores here, or a scheduler's
    address ``tcp://HOST:PORT`` (or ``tls://``), checked before anything is started or reached."""
    match = _LOCAL.fullmatch(text)
    if text == "threads":
        return text
    if match:
        workers, cores = int(match.group(1)), os.cpu_count() or 1
        if not 1 <= workers <= cores:
            raise argparse.ArgumentTypeError(
                f"local:N starts N worker processes on this machine, which has {cores} cores: expected 1 <= N <= {cores}; got {text!r}"
            )
        return text
    if "://" not in text:
        raise argparse.ArgumentTypeError(
            f"expected threads, local:N (N worker processes here) or a scheduler address such as tcp://host:8786; got {text!r}"
        )
    scheme, _, rest = text.partition("://")
    if scheme not in ("tcp", "tls"):
        raise argparse.ArgumentTypeError(
            f"a scheduler address is tcp://HOST:PORT (or tls://HOST:PORT); got {text!r}"
            + (": inproc:// addresses exist only inside one process" if scheme == "inproc" else "")
            + (": the ucx protocol needs ucx-py and a ucx:// scheduler, which arraynet does not set up" if scheme == "ucx" else "")
        )
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(
            f"a scheduler address is {scheme}://HOST:PORT with a port from 1 to 65535, e.g. {scheme}://127.0.0.1:8786; got {text!r}"
        )
    return text


def add_dask_arguments(parser: argparse._ActionsContainer) -> None:
    group = parser.add_argument_group("past one machine (Dask)")
    group.add_argument(
        "--dask", nargs="?", const="threads", type=scheduler_spec, metavar="SCHEDULER",
        help="train on Dask arrays, one compute per iteration: threads (the default without a value), "
        "local:N (N worker processes here) or a scheduler's address (tcp://host:8786)",
    )
    group.add_argument(
        "--chunks", type=int, metavar="N",
        help="with --dask: examples per chunk; default: a Zarr store's own, 64 MiB of HDF5 images, else 100000",
    )


def scheduler_of(args: argparse.Namespace) -> str | None:
    """The Dask scheduler the command runs on: ``--dask``'s, threads for a Zarr store, else None."""
    data = [path for path in (getattr(args, "data", None), getattr(args, "test", None)) if path is not None]
    spec: str | None = getattr(args, "dask", None)
    if spec is None and any(Path(path).suffix.lower() == ".zarr" for path in data):
        return "threads"
    return spec


def check_dask_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors before any data is read."""
    if args.chunks is not None and args.chunks < 1:
        parser.error(f"argument --chunks: expected an integer >= 1; got {args.chunks}")
    if scheduler_of(args) is None:
        if args.chunks is not None:
            parser.error("argument --chunks: only data read through Dask (--dask, or a .zarr store) has chunks")
        return
    if args.backend not in ("auto", "numpy", "cupy"):
        parser.error(f"argument --backend: Dask's chunks are NumPy or CuPy arrays; got --backend {args.backend} with Dask")


def chunks_of(args: argparse.Namespace) -> int | str | None:
    """What ``load_data``'s ``chunks`` is for the command: None without Dask, else ``--chunks``
    or "auto" (each format's default)."""
    if scheduler_of(args) is None:
        return None
    chunks: int | None = getattr(args, "chunks", None)
    return "auto" if chunks is None else chunks


@contextlib.contextmanager
def dask_scheduler(spec: str | None) -> Iterator[str | None]:
    """Dask's scheduler for the block (nothing without ``spec``); yields its description for the
    command's first line. A cluster started here is closed after the block."""
    if spec is None:
        yield None
        return
    import dask

    if spec == "threads":
        with dask.config.set(scheduler="threads"):
            yield "Dask threads"
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(f'--dask {spec} needs distributed: pip install "arraynet[dask]"') from exc
    with contextlib.ExitStack() as stack:
        match = _LOCAL.fullmatch(spec)
        if match:
            workers = int(match.group(1))
            # the nanny's MALLOC_TRIM_THRESHOLD_ makes glibc map and unmap every large temporary:
            # without it a 2-worker iteration at m = 1e7 took 0.68x NumPy's time, with it 0.76x
            # (docs/guides/dask.md, benchmarks/results/dask-2026-12-01-unset-1e5.md)
            os.environ.pop(_TRIM, None)  # where an earlier cluster of this process left it
            with dask.config.set({f"distributed.nanny.pre-spawn-environ.{_TRIM}": None}):
                cluster: Any = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                        # a task that raises (a chunk's bad labels) is the command's one error line, not
                        # also distributed.worker's "Compute Failed" report from each worker process
                        silence_logs=logging.CRITICAL,
                    )
                )
            client = stack.enter_context(Client(cluster))
            description = f"Dask cluster of {workers} local worker process{'es' if workers > 1 else ''}"
        else:
            try:
                client = stack.enter_context(Client(spec, timeout=_CONNECT_SECONDS))
            except (OSError, TimeoutError) as exc:
                raise OSError(f"--dask: cannot reach a Dask scheduler at {spec} within {_CONNECT_SECONDS} s: {exc}") from None
            try:
                client.wait_for_workers(1, timeout=_CONNECT_SECONDS)
            except (OSError, TimeoutError):
                raise OSError(f"--dask: the Dask scheduler at {spec} has no workers (waited {_CONNECT_SECONDS} s): start some with dask worker {spec}") from None
            description = f"Dask cluster at {spec} ({len(client.scheduler_info()['workers'])} workers)"
        # the Client is Dask's default scheduler while it is open (set_as_default): no config that holds
        # it, which the nanny would pickle to restart a lost worker ("cannot pickle '_asyncio.Future'")
        yield description
