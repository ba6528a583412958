"""Mini-batch training on Dask against NumPy in memory: seconds per epoch of the net [40, 64, 32, 1]
(ReLU, then sigmoid), Adam (learning rate 1e-3), batches of 256, float32, ``shuffle=False``, on
``m`` examples, whole ``fit`` runs:

* ``numpy``: NumPy arrays in this process, BLAS as installed; ``fit`` runs whatever epoch step it
  picks for NumPy (``history.step`` says which).
* ``numpy-1blas``: the same with BLAS pinned to one thread (threadpoolctl), as in each worker.
* ``numpy-generic-1blas``: the same, ``fast_paths=False``: the generic kernel's ``batch_step``, on
  one core (what each Dask task ran before it ran the buffered step, and still runs where that does
  not apply: ``DaskEpochStep.chunk_steps``).
* ``cluster``: ``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``,
  the data made and persisted on its workers (the same values, from the same seeds: nothing big
  goes through the scheduler); ``fit`` runs ``DaskEpochStep``, one compute per epoch, a chain of
  one task per chunk. The nanny pins each worker's BLAS to one thread (distributed's default).
* ``cluster-tuned`` (with ``--tuned``): the same cluster, its nanny giving the workers
  ``MALLOC_TRIM_THRESHOLD_=1GiB`` and ``MALLOC_MMAP_THRESHOLD_=32MiB`` instead of distributed's
  default trim threshold of 64 KiB, under which every batch's new arrays cost the workers page
  faults (the setting benchmarks/dask_sweep.py measured as "tuned").
* ``--no-worker-profile``: both clusters with distributed's statistical profiler off in the
  workers (``distributed.worker.profile.enabled: False``; on by default, it samples the running
  task's stack every 10 ms from another thread, which takes the GIL from a task of many small
  NumPy calls).
* ``dask-threads`` (with ``--threads``): the data as a Dask array in this process, Dask's threaded
  scheduler: the chain without a cluster.

Chunks of ``--chunk`` examples (default 262,144 = 1024 batches; a multiple of 256), so every chunk
but the last is a multiple of the batch: the batches are those of the data in memory, and so are
the numbers (the costs are compared). An epoch's seconds are the time between two recorded epochs
(``record_every=1``, a callback timestamps each): the first epoch (which on Dask also checks the
data, after the labels are persisted) is reported apart; the others' median is the steady state.
The issue's target: a cluster epoch within 1.5 times NumPy's in-memory epoch at m = 1e7.

    python benchmarks/minibatch_dask.py                 # m = 100,000, 3 epochs
    python benchmarks/minibatch_dask.py --m 1000000
    python benchmarks/minibatch_dask.py --m 10000000 --tuned --output /tmp/minibatch-dask.json

``--chunk-tasks`` times one chunk's task of the chain instead (``_chunk_epoch``, in this process,
BLAS on one thread, as a worker runs it; no cluster): a chunk of ``k`` batches run by the in-memory
epoch step a task picks (``fast=True``: the buffered step on NumPy) against the generic loop
(``fast=False``), for several ``k``, nets and batch sizes, alternated, medians of ``--repeat``
rounds: whether the fast step's setup per task (its packed copies of the parameters and the
optimizer's state, its buffers, the snapshot's copies) eats its gain on small chunks, which sets
``_FAST_MIN_BATCHES`` in ``arraynet.steps.distributed``.

    python benchmarks/minibatch_dask.py --chunk-tasks --output /tmp/chunk-tasks.json

Memory: about 170 bytes per example in this process (X in float32 and what NumPy's fit makes) and
160 over the workers: 1.7 GiB and 1.6 GiB at m = 1e7. Needs dask[array], distributed and, for
``numpy-1blas``, threadpoolctl.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

import arraynet

N_X = 40
LAYER_DIMS = [N_X, 64, 32, 1]
BATCH = 256
LEARNING_RATE = 1e-3
SEED = 0
MALLOC_KEYS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
TUNED = {"MALLOC_TRIM_THRESHOLD_": 2**30, "MALLOC_MMAP_THRESHOLD_": 2**25}
GEN = 65_536  # examples per block of generated data: the same blocks in this process and on the workers


def gen_block(n: int, j: int) -> np.ndarray:
    """Block ``j`` of X: ``n`` examples of N_X standard normal features in float32, seed (SEED, j)."""
    return np.random.default_rng([SEED, j]).standard_normal((N_X, n), dtype=np.float32)


def labels(X: np.ndarray) -> np.ndarray:
    """Labels of the examples of ``X``, shape (1, m): the sign of x0 x1 + 0.3 x2 - 0.2 x3 x4."""
    return ((X[0] * X[1] + 0.3 * X[2] - 0.2 * X[3] * X[4]) > 0).astype(np.float32)[None, :]


def host_data(m: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.empty((N_X, m), dtype=np.float32)
    for j, start in enumerate(range(0, m, GEN)):
        n = min(GEN, m - start)
        X[:, start : start + n] = gen_block(n, j)
    return X, labels(X)


def _gen_chunk(block_info: Any = None) -> np.ndarray:
    info = block_info[None]
    return gen_block(info["chunk-shape"][1], info["chunk-location"][1])


def dask_data(m: int, chunk: int) -> tuple[Any, Any]:
    """X and Y as lazy Dask arrays of the same values as ``host_data(m)``, chunked ``(N_X, chunk)``."""
    import dask.array as da

    sizes = tuple(min(GEN, m - start) for start in range(0, m, GEN))
    X = da.map_blocks(_gen_chunk, chunks=((N_X,), sizes), dtype=np.float32, meta=np.empty((0, 0), dtype=np.float32))
    X = X.rechunk({1: chunk})
    Y = X.map_blocks(labels, chunks=((1,), X.chunks[1]), dtype=np.float32)
    return X, Y


def timed_fit(X: Any, Y: Any, epochs: int, fast_paths: bool | None = None) -> dict[str, Any]:
    """One whole fit of ``epochs`` epochs; each epoch's seconds (from the fit's start, then between
    recorded epochs), its step and its costs."""
    stamps: list[float] = []
    model = arraynet.NeuralNetwork(LAYER_DIMS, seed=SEED)
    start = time.perf_counter()
    history = model.fit(
        X, Y, LEARNING_RATE, optimizer="adam", batch_size=BATCH, epochs=epochs, shuffle=False, record_every=1,
        progress=False, fast_paths=fast_paths, callback=lambda i, cost, model: stamps.append(time.perf_counter()),
    )
    seconds = np.diff([start, *stamps]).tolist()
    return {
        "step": history.step,
        "updates_per_epoch": history.updates // epochs,
        "epoch_seconds": seconds,
        "first_epoch": seconds[0],
        "epoch": statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0],
        "costs": [float(c) for c in history.costs],
    }


def chunk_tasks(repeat: int) -> dict[str, Any]:
    """Seconds of one chunk's task (``_chunk_epoch``, data in memory, BLAS on one thread) with the
    fast in-memory step (``fast=True``) and the generic loop (``fast=False``), by net, batch size
    and the chunk's batches ``k``: medians of ``repeat`` alternated rounds, Adam, float32, in order."""
    from arraynet.kernel.optimizers import Adam
    from arraynet.steps.distributed import _chunk_epoch, _ChunkPlan

    records = []
    with one_blas_thread():
        for dims in ([N_X, 8, 1], LAYER_DIMS, [N_X, 512, 256, 1]):
            for batch in (32, BATCH):
                model = arraynet.NeuralNetwork(dims, seed=SEED)
                X0 = gen_block(batch, 0)
                model.fit(X0, labels(X0), LEARNING_RATE, 0)  # the starting parameters
                kernel, optimizer = model._kernel(), Adam()
                parameters = model.get_parameters()
                carry = (parameters, optimizer.init(parameters), (), (0, 0, 0), ())
                for k in (1, 2, 3, 4, 6, 8, 16, 32):
                    X = gen_block(k * batch, 1)
                    Y = labels(X)
                    scalars = np.array([optimizer.scalars(LEARNING_RATE, t) for t in range(1, k + 1)])
                    plan = _ChunkPlan(number=0, shuffle=False, seed=SEED, m=k * batch, scalars=scalars)
                    seconds: dict[bool, list[float]] = {True: [], False: []}
                    names = {}
                    for _ in range(repeat):
                        for fast in (True, False):
                            start = time.perf_counter()
                            out = _chunk_epoch(carry, X, Y, kernel, optimizer, batch, plan, fast, False)
                            seconds[fast].append(time.perf_counter() - start)
                            names[fast] = out[4][0]
                    record = {
                        "layer_dims": dims, "batch": batch, "batches": k, "fast_step": names[True],
                        "fast": statistics.median(seconds[True]), "generic": statistics.median(seconds[False]),
                    }
                    record["fast_over_generic"] = record["fast"] / record["generic"]
                    records.append(record)
                    print(f"{dims!s:>18} batch {batch:>3} k {k:>2}: {names[True]} {1e3 * record['fast']:8.3f} ms, "
                          f"generic {1e3 * record['generic']:8.3f} ms: {record['fast_over_generic']:.2f}x", flush=True)
    return {"repeat": repeat, "records": records}


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--m", type=float, default=100_000, help="examples (default 1e5)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit (default 3: the first, then 2 timed)")
    parser.add_argument("--chunk", type=int, default=1024 * BATCH, help="examples per chunk, a multiple of 256")
    parser.add_argument("--threads", action="store_true", help="time the dask-threads engine too")
    parser.add_argument("--tuned", action="store_true", help="time the cluster-tuned engine too")
    parser.add_argument("--no-1blas", dest="one_blas", action="store_false", help="skip numpy-1blas and numpy-generic-1blas")
    parser.add_argument("--no-worker-profile", dest="worker_profile", action="store_false",
                        help="the clusters' workers without distributed's statistical profiler")
    parser.add_argument("--chunk-tasks", action="store_true", help="time one chunk's task, fast step against generic loop")
    parser.add_argument("--repeat", type=int, default=21, help="rounds of --chunk-tasks (default 21)")
    parser.add_argument("--output", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.chunk_tasks:
        tasks = chunk_tasks(args.repeat)
        if args.output:
            with open(args.output, "w") as file:
                json.dump(tasks, file, indent=1)
        return tasks
    m, chunk = int(args.m), min(int(args.chunk), int(args.m))
    if chunk % BATCH and chunk != m:
        parser.error(f"--chunk must be a multiple of the batch ({BATCH}) for the batches of the data in memory")

    import dask
    import distributed

    results: dict[str, Any] = {
        "m": m, "chunk": chunk, "chunks": -(-m // chunk), "epochs": args.epochs, "layer_dims": LAYER_DIMS,
        "batch": BATCH, "dtype": "float32", "optimizer": "adam", "machine": platform.machine(),
        "processor": platform.processor(), "cores": os.cpu_count(), "python": sys.version.split()[0],
        "numpy": np.__version__, "dask": dask.__version__, "distributed": distributed.__version__,
        "worker_profile": args.worker_profile, "engines": {},
    }
    engines = results["engines"]

    def report(name: str, record: dict[str, Any]) -> None:
        engines[name] = record
        print(f"{name:>19}: {record['epoch']:8.3f} s/epoch (first {record['first_epoch']:.3f} s), "
              f"{record['updates_per_epoch']} updates/epoch, step {record['step']}", flush=True)

    print(f"m = {m:,}, chunks of {chunk:,} ({results['chunks']}), net {LAYER_DIMS} relu, Adam, batch {BATCH}, float32",
          flush=True)
    X, Y = host_data(m)
    report("numpy", timed_fit(X, Y, args.epochs))
    if args.one_blas:
        with one_blas_thread():
            report("numpy-1blas", timed_fit(X, Y, args.epochs))
            report("numpy-generic-1blas", timed_fit(X, Y, args.epochs, fast_paths=False))
    if args.threads:
        with dask.config.set(scheduler="threads"), one_blas_thread():
            lazy_X, lazy_Y = dask.persist(*dask_data(m, chunk))
            report("dask-threads", timed_fit(lazy_X, lazy_Y, args.epochs))
            del lazy_X, lazy_Y
    del X, Y

    for name, env in [("cluster", {}), *([("cluster-tuned", TUNED)] if args.tuned else [])]:
        # the nanny writes its pre-spawn variables into os.environ, where they would override the
        # next cluster's: removed first (as benchmarks/dask_sweep.py does)
        for key in MALLOC_KEYS:
            os.environ.pop(key, None)
        overrides: dict[str, Any] = {f"distributed.nanny.pre-spawn-environ.{key}": value for key, value in env.items()}
        if not args.worker_profile:
            overrides["distributed.worker.profile.enabled"] = False
        with dask.config.set(overrides), \
                distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            dask_X, dask_Y = client.persist(list(dask_data(m, chunk)))
            distributed.wait([dask_X, dask_Y])
            results[f"{name}_workers_holding_data"] = len({w for ws in client.who_has(dask_X).values() for w in ws})
            with dask.config.set(scheduler="distributed"):
                report(name, timed_fit(dask_X, dask_Y, args.epochs))
            del dask_X, dask_Y

    numpy_costs, cluster_costs = np.array(engines["numpy"]["costs"]), np.array(engines["cluster"]["costs"])
    results["costs_max_relative_difference"] = float(np.max(np.abs(cluster_costs - numpy_costs) / np.abs(numpy_costs)))
    baselines = [name for name in engines if name.startswith("numpy")]
    for name in engines:
        for baseline in baselines:
            if name != baseline and not name.startswith("numpy"):
                ratio = results[f"{name}_over_{baseline}"] = engines[name]["epoch"] / engines[baseline]["epoch"]
                print(f"{name} / {baseline}: {ratio:.2f}x per epoch", flush=True)
    print(f"(the issue's target: cluster / numpy <= 1.5x at m = 1e7); costs agree to "
          f"{results['costs_max_relative_difference']:.1e} relative", flush=True)
    if args.output:
        with open(args.output, "w") as file:
            json.dump(results, file, indent=1)
    return results


if __name__ == "__main__":
    main()
