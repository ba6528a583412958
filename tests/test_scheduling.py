"""The command line's Dask schedulers (``arraynet.cli.scheduling``): what --dask accepts, said in one
line naming it before anything starts, and a cluster started here that replaces a lost worker."""

from __future__ import annotations

import argparse
import os
import signal
import time

import pytest

from arraynet.cli.scheduling import dask_scheduler, scheduler_spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("inproc://x", r"a scheduler address is tcp://HOST:PORT \(or tls://HOST:PORT\); got 'inproc://x': inproc:// addresses exist only inside one process"),
        ("ucx://host:1234", r"got 'ucx://host:1234': the ucx protocol needs ucx-py"),
        ("foo://bar", r"a scheduler address is tcp://HOST:PORT .*got 'foo://bar'"),
        ("tcp://", r"a scheduler address is tcp://HOST:PORT with a port from 1 to 65535, e.g. tcp://127.0.0.1:8786; got 'tcp://'"),
        ("tcp://localhost:70000", r"with a port from 1 to 65535.*got 'tcp://localhost:70000'"),
        ("tcp://localhost", r"with a port from 1 to 65535.*got 'tcp://localhost'"),
        ("local:0", r"local:N starts N worker processes on this machine, which has \d+ cores: expected 1 <= N <= \d+; got 'local:0'"),
        (f"local:{(os.cpu_count() or 1) + 1}", r"local:N starts N worker processes on this machine, which has \d+ cores"),
        ("cluster", r"expected threads, local:N \(N worker processes here\) or a scheduler address such as tcp://host:8786; got 'cluster'"),
    ],
)
def test_an_odd_scheduler_is_refused_at_once_saying_what_is_expected(spec, message):
    start = time.perf_counter()
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        scheduler_spec(spec)
    assert time.perf_counter() - start < 1


def test_the_command_line_names_dask_in_the_error(tmp_path, capsys):
    from arraynet.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["train", "flower", "--dask", "tcp://localhost:99999"])
    assert exited.value.code == 2
    assert "argument --dask: a scheduler address is tcp://HOST:PORT with a port from 1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize("spec", ["threads", "local:1", "tcp://127.0.0.1:8786", "tls://scheduler.example:8786"])
def test_good_schedulers_pass(spec):
    assert scheduler_spec(spec) == spec


def test_a_local_clusters_lost_worker_is_replaced_and_computes_go_on():
    """The nanny restarts a killed worker (it could not while Dask's config held the client, which it
    pickles), and computes in the block run on the cluster."""
    pytest.importorskip("distributed")
    import dask.array as da
    from distributed import get_client

    with dask_scheduler("local:1") as description:
        assert description == "Dask cluster of 1 local worker process"
        client = get_client()
        (pid,) = client.run(os.getpid).values()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:  # the scheduler may still list the killed worker for a moment: its run fails
                pids = list(client.run(os.getpid).values()) if client.scheduler_info()["workers"] else []
            except OSError:  # distributed's CommClosedError
                pids = []
            if pids and pids[0] != pid:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the killed worker was not replaced within 60 s")
        assert int(da.ones(100, chunks=10).sum().compute()) == 100


def test_a_label_error_on_a_local_cluster_is_one_line_on_stderr(tmp_path):
    """A chunk's bad label fails its task in a worker process: the command says so in one line, without
    distributed.worker's "Compute Failed" report (the cluster's workers log only CRITICAL)."""
    pytest.importorskip("distributed")
    import subprocess
    import sys

    import numpy as np

    zarr = pytest.importorskip("zarr")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 50))
    labels = (X[0] > 0).astype(np.float64)
    labels[7] = 2.5  # read chunk by chunk, where the task that reads it checks it
    group = zarr.open_group(str(tmp_path / "bad.zarr"), mode="w")
    group.create_array("X", data=X, chunks=(2, 25))
    group.create_array("Y", data=labels, chunks=(25,))
    done = subprocess.run(
        [sys.executable, "-m", "arraynet", "train", "bad.zarr", "--dask", "local:1", "-o", "m.npz"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("arraynet: error: ") and "must be class labels" in line and "bad.zarr" in line, line
    assert not (tmp_path / "m.npz").exists()
