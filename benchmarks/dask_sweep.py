"""Issue 13's benchmark of the distributed step: whole ``fit`` runs of the network [20, 16, 1]
(ReLU, then sigmoid; float64) on m examples, per iteration, for each engine, round by round
(every engine once per round, in a fixed order), medians over the rounds:

* ``numpy``: NumPy arrays in this process, BLAS as installed (OpenBLAS, one thread per core); fit
  runs its buffered step there.
* ``numpy-1blas``: the same, BLAS pinned to one thread (threadpoolctl).
* ``numpy-generic-1blas``: the same, ``fast_paths=False``: the generic kernel that each Dask task
  runs, on one core (the per-core reference of the two engines below).
* ``dask-threads``: the data as a Dask array (``da.from_array``, persisted), Dask's threaded
  scheduler (one thread per core), BLAS pinned to one thread so that the threads do not
  oversubscribe the cores.
* ``cluster``: ``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``
  with the data persisted on its workers (made there from the same seeds, so nothing big goes
  through the scheduler); the nanny pins each worker's BLAS to one thread.

Chunks along m: about 4 per core, at least 10,000 examples each (``max(10_000, ceil(m / (4 *
cores)))``). Beside the sweep: the scheduler floor (the smallest m, where compute is negligible),
the client's graph building per iteration (``DaskStep._graph`` timed alone, then with dask's own
graph handling, then the cluster's submission), the chunk size at m = 1e6, and distributed's
nanny setting ``MALLOC_TRIM_THRESHOLD_`` at m = 1e6 (its default against a larger threshold,
none, and a larger mmap threshold too; each verified inside the workers).

Before each timed fit that runs in other processes than the last one (this process or the
workers), those processes touch fresh memory first, untimed (see ``Absorber``).

    python benchmarks/dask_sweep.py
    python benchmarks/dask_sweep.py --m 1e4 1e5 --rounds 2 --no-chunks --no-malloc --output /tmp/dask-quick
    python benchmarks/dask_sweep.py --report-only benchmarks/results/dask-2026-12-01.json

Writes PREFIX.json (every raw timing, the machine, versions, date), PREFIX.md (the report) and
PREFIX.png (seconds per iteration against m, log-log); PREFIX defaults to
benchmarks/results/dask-2026-12-01 (``--report-only`` rewrites only the last two from a JSON).
Needs dask[array], distributed, threadpoolctl, psutil and matplotlib. Takes about 9 minutes on 2
cores with the default sizes, and about 11 GiB of memory above what is in use at the start
(m = 1e7: the data in this process and on the workers, NumPy's buffers or the memory touched
before a fit).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import itertools
import json
import math
import operator
import os
import platform
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from workloads import LEARNING_RATE

import arraynet

N_X = 20
LAYER_DIMS = [N_X, 16, 1]
SEED = 0
GEN = 10_000  # examples per block of generated data: the same blocks in this process and on the workers
MIN_CHUNK = 10_000
ENGINES = ["numpy", "numpy-1blas", "numpy-generic-1blas", "dask-threads", "cluster"]
MALLOC_M = 1_000_000
MALLOC_VARIANTS: dict[str, dict[str, int | None]] = {
    "default": {},
    "trim-1GiB": {"MALLOC_TRIM_THRESHOLD_": 2**30},
    "unset": {"MALLOC_TRIM_THRESHOLD_": None},
    "trim-1GiB+mmap-32MiB": {"MALLOC_TRIM_THRESHOLD_": 2**30, "MALLOC_MMAP_THRESHOLD_": 2**25},
}
MALLOC_KEYS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
# the sweep's cluster: distributed's default nanny setting, or the two the MALLOC experiment measured faster
SWEEP_MALLOC: dict[str, dict[str, int | None]] = {
    "default": {},
    "unset": {"MALLOC_TRIM_THRESHOLD_": None},
    "tuned": {"MALLOC_TRIM_THRESHOLD_": 2**30, "MALLOC_MMAP_THRESHOLD_": 33554432},
}
# fresh memory touched (untimed) before a fit whose processes differ from the last fit's: see Absorber
CLIENT_ABSORB_BYTES = 600  # per example, in this process (about what NumPy's fit allocates at m = 1e7)
WORKERS_ABSORB_BYTES = 300  # per example, split over the workers


# -- the data ----------------------------------------------------------------------------------
def gen_block(n: int, j: int) -> np.ndarray:
    """Block ``j`` of X: ``n`` examples of N_X standard normal features, from seed (SEED, j)."""
    return np.random.default_rng([SEED, j]).standard_normal((N_X, n))


def labels(X: np.ndarray) -> np.ndarray:
    """Labels of the examples of ``X``, shape (1, m): the sign of x0 x1 + 0.3 x2."""
    return ((X[0] * X[1] + 0.3 * X[2]) > 0).astype(np.float64)[None, :]


def host_data(m: int) -> tuple[np.ndarray, np.ndarray]:
    X = np.empty((N_X, m))
    for j, start in enumerate(range(0, m, GEN)):
        n = min(GEN, m - start)
        X[:, start : start + n] = gen_block(n, j)
    return X, labels(X)


def _gen_chunk(block_info: Any = None) -> np.ndarray:
    info = block_info[None]
    return gen_block(info["chunk-shape"][1], info["chunk-location"][1])


def cluster_data(client: Any, m: int, chunk: int) -> tuple[Any, Any]:
    """X and Y made and persisted on the cluster's workers, the same values as ``host_data(m)``,
    chunked ``(N_X, chunk)``."""
    import dask.array as da
    import distributed

    sizes = tuple(min(GEN, m - start) for start in range(0, m, GEN))
    X = da.map_blocks(_gen_chunk, chunks=((N_X,), sizes), dtype=np.float64, meta=np.empty((0, 0)))
    X = X.rechunk({1: chunk})
    Y = X.map_blocks(labels, chunks=((1,), X.chunks[1]), dtype=np.float64)
    X, Y = client.persist([X, Y])
    with client.as_current():
        distributed.wait([X, Y])
    return X, Y


def threaded_data(X: np.ndarray, Y: np.ndarray, chunk: int) -> tuple[Any, Any]:
    import dask
    import dask.array as da

    return dask.persist(da.from_array(X, chunks=(N_X, chunk)), da.from_array(Y, chunks=(1, chunk)), scheduler="threads")


def chunk_for(m: int, cores: int) -> int:
    """About 4 chunks per core, at least MIN_CHUNK examples each (one chunk if m is smaller)."""
    return min(m, max(MIN_CHUNK, -(-m // (4 * cores))))


def iterations_for(m: int) -> int:
    return 50 if m <= 10_000 else 20 if m <= 100_000 else 10 if m <= 1_000_000 else 3


# -- measuring ---------------------------------------------------------------------------------
def _usage() -> tuple[float, float, int]:
    """(user + system CPU seconds, system CPU seconds, minor page faults) of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_stime, r.ru_minflt


def _worker_env() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    return {
        **{key: os.environ.get(key) for key in MALLOC_KEYS},
        "blas_threads": [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"],
    }


def workers_usage(client: Any) -> tuple[float, float, int]:
    """``_usage`` summed over the cluster's worker processes."""
    values = client.run(_usage).values()
    return tuple(sum(v[i] for v in values) for i in range(3))  # type: ignore[return-value]


class MemoryWatch:
    """The machine's peak memory in use (total - available), sampled every 0.2 s in a thread."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self.baseline = self._used()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _used(self) -> int:
        vm = self._psutil.virtual_memory()
        return vm.total - vm.available

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._used())

    def reset(self) -> int:
        """The peak since the last reset, in bytes; starts a new window."""
        peak, self.peak = max(self.peak, self._used()), self._used()
        return peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _absorb(nbytes: int) -> tuple[float, float]:
    """Touch ``nbytes`` of fresh memory and free it; (wall seconds, system CPU seconds)."""
    before, start = resource.getrusage(resource.RUSAGE_SELF).ru_stime, time.perf_counter()
    block = np.ones(max(1, nbytes // 8))
    del block
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_stime - before


class Absorber:
    """On this machine the first fresh memory a process takes after other processes released
    theirs costs several times the usual system time (a fit of NumPy right after the cluster's at
    m = 1e7 took twice as long, all of it system time, with the same page faults). So before each
    timed fit whose processes (this one, or a cluster's workers) differ from the last timed fit's,
    the same amount of fresh memory is touched there, untimed; each such step is logged."""

    def __init__(self) -> None:
        self.side: Any = None
        self.log: list[dict[str, Any]] = []
        self.controls: list[dict[str, Any]] = []

    def moved(self, client: Any = None) -> None:
        """Memory was just taken in this process (None) or on ``client``'s workers, untimed."""
        self.side = "process" if client is None else id(client)

    def before(self, m: int, client: Any = None, control: bool = False) -> None:
        side = "process" if client is None else id(client)
        if side == self.side:
            return
        self.side = side
        if client is None:
            nbytes = CLIENT_ABSORB_BYTES * m
            wall, system = _absorb(nbytes)
        else:
            n = len(client.scheduler_info()["workers"])
            nbytes = WORKERS_ABSORB_BYTES * m // n
            done = client.run(_absorb, nbytes).values()
            wall, system = max(d[0] for d in done), sum(d[1] for d in done)
            nbytes *= n
        self.log.append({"m": m, "where": "process" if client is None else "workers", "bytes": nbytes,
                         "wall": wall, "sys": system})
        if control:  # the same again at once, in the same processes: the usual cost
            if client is None:
                wall, system = _absorb(nbytes)
            else:
                done = client.run(_absorb, nbytes // n).values()
                wall, system = max(d[0] for d in done), sum(d[1] for d in done)
            self.controls.append({"m": m, "where": self.log[-1]["where"], "bytes": nbytes, "wall": wall, "sys": system,
                                  "first_wall": self.log[-1]["wall"], "first_sys": self.log[-1]["sys"]})


ABSORBER = Absorber()


@contextlib.contextmanager
def engine_context(engine: str, scheduler: Any = "distributed") -> Iterator[None]:
    import dask
    from threadpoolctl import threadpool_limits

    if engine == "numpy":
        yield
    elif engine in ("numpy-1blas", "numpy-generic-1blas"):
        with threadpool_limits(1):
            yield
    elif engine == "dask-threads":
        with dask.config.set(scheduler="threads"), threadpool_limits(1):
            yield
    elif engine == "dask-threads-blas":  # BLAS as installed: threads x BLAS threads on the cores
        with dask.config.set(scheduler="threads"):
            yield
    elif engine == "cluster":
        with dask.config.set(scheduler=scheduler):
            yield
    else:
        raise ValueError(engine)


def timed_fit(
    engine: str, X: Any, Y: Any, iterations: int, client: Any = None, scheduler: Any = "distributed", control: bool = False
) -> dict[str, Any]:
    """One whole fit of ``iterations`` iterations (costs recorded at the first and the last only);
    its wall time, fit's own ``history.seconds``, and the CPU and page faults of this process
    (and of the workers, on a cluster), per iteration."""
    ABSORBER.before(X.shape[1], client, control=control)
    model = arraynet.NeuralNetwork(LAYER_DIMS, seed=SEED)
    fast = False if engine == "numpy-generic-1blas" else None
    worker_before = workers_usage(client) if client is not None else None
    with engine_context(engine, scheduler):
        before = _usage()
        start = time.perf_counter()
        history = model.fit(X, Y, LEARNING_RATE, iterations, record_every=iterations, progress=False, fast_paths=fast)
        wall = time.perf_counter() - start
        after = _usage()
    record: dict[str, Any] = {
        "wall_per_it": wall / iterations,
        "fit_seconds_per_it": history.seconds / iterations,
        "cpu_per_it": (after[0] - before[0]) / iterations,
        "sys_per_it": (after[1] - before[1]) / iterations,
        "faults_per_it": (after[2] - before[2]) / iterations,
        "step": history.step,
        "costs": [float(c) for c in history.costs],
    }
    if client is not None:
        worker_after = workers_usage(client)
        record["worker_cpu_per_it"] = (worker_after[0] - worker_before[0]) / iterations
        record["worker_sys_per_it"] = (worker_after[1] - worker_before[1]) / iterations
        record["worker_faults_per_it"] = (worker_after[2] - worker_before[2]) / iterations
    return record


SAMPLES: dict[str, list[float]] = {}  # every timing of median_ms, in ms, by label (for the JSON)


def median_ms(fn: Callable[[], Any], n: int, label: str) -> float:
    """The median of ``n`` timed calls of ``fn``, in ms; the samples are kept in SAMPLES[label]."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    SAMPLES.setdefault(label, []).extend(times)
    return statistics.median(times)


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over rounds of each numeric field of ``records``."""
    out: dict[str, Any] = {"rounds": len(records), "step": records[0]["step"]}
    for key, value in records[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = statistics.median(r[key] for r in records)
    out["wall_per_it_min"] = min(r["wall_per_it"] for r in records)
    out["wall_per_it_max"] = max(r["wall_per_it"] for r in records)
    return out


def new_cluster(env: dict[str, int | None], default: bool = False) -> tuple[Any, Any]:
    """A LocalCluster of 2 single-threaded worker processes with the nanny's pre-spawn-environ
    overridden by ``env``, and its client (the default one if ``default``).

    The nanny writes its pre-spawn variables into this process's os.environ (distributed says so
    in its config), and there they override the config of every later cluster: they are removed
    first, so each cluster gets the value asked for (verified in its workers)."""
    import dask
    import distributed

    for key in MALLOC_KEYS:
        os.environ.pop(key, None)
    overrides = {f"distributed.nanny.pre-spawn-environ.{key}": value for key, value in env.items()}
    with dask.config.set(overrides):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster, set_as_default=default)
    return cluster, client


# -- the graph: building, submitting -------------------------------------------------------------
class _GraphBuilt(Exception):
    pass


def _handle_graph_only(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    """A 'scheduler' that does what the threaded one does with the graph before running it
    (materialize, convert, order), then stops."""
    from dask._task_spec import convert_legacy_graph
    from dask.order import order

    order(convert_legacy_graph(dsk.__dask_graph__()))
    raise _GraphBuilt


def graph_timings(X: Any, Y: Any, client: Any) -> dict[str, Any]:
    """The client's graph work per iteration of a DaskStep on (X, Y): ``_graph`` alone, ``_graph``
    plus dask.compute's graph handling, and (on the cluster) ``client.compute``'s submission."""
    import dask
    import distributed

    from arraynet.steps import DaskStep

    kernel = arraynet.NeuralNetwork(LAYER_DIMS)._kernel()
    parameters = arraynet.initialize_parameters(LAYER_DIMS, "he", seed=SEED, xp=np, dtype=np.float64)
    with dask.config.set(scheduler="threads" if client is None else client.get):  # the step persists Y there
        step = DaskStep.create(kernel, parameters, X, Y, LEARNING_RATE, np)
    built = step._graph(False)
    tasks = len(built.dask.layers[built._layer])
    where = f"m={X.shape[1]} {'threads' if client is None else 'cluster'}"
    graph_ms = median_ms(lambda: step._graph(False), 200, f"_graph {where}")

    def with_dask() -> None:
        with contextlib.suppress(_GraphBuilt):
            dask.compute(step._graph(False), optimize_graph=False, scheduler=_handle_graph_only)

    out = {"tasks": tasks, "graph_ms": graph_ms, "graph_and_dask_ms": median_ms(with_dask, 50, f"_graph+dask {where}")}
    if client is not None:
        submits, round_trips = [], []
        for _ in range(15):
            step._iteration += 1  # new keys each time
            start = time.perf_counter()
            future = client.compute(step._graph(False), optimize_graph=False)
            submits.append(time.perf_counter() - start)
            distributed.wait(future)
            round_trips.append(time.perf_counter() - start)
            del future
        out["submit_ms"] = statistics.median(submits) * 1e3
        out["compute_ms"] = statistics.median(round_trips) * 1e3
        SAMPLES[f"submit {where}"] = [t * 1e3 for t in submits]
        SAMPLES[f"compute round trip {where}"] = [t * 1e3 for t in round_trips]
    return out


# -- the floor: what a round trip costs, and the step's own graph shape ---------------------------
def _inline_step_class() -> type:
    """DaskStep with the parameters and the kernel bound into each block's task, instead of two
    keys of their own (DataNode) that the block tasks depend on: a diagnostic, to size what those
    keys cost on a cluster (a worker-to-worker fetch before the block tasks can start)."""
    import functools

    from dask.delayed import Delayed
    from dask.highlevelgraph import HighLevelGraph
    from dask.task_spec import List, Task, TaskRef

    from arraynet.steps import DaskStep
    from arraynet.steps import distributed as dist

    class InlineDaskStep(DaskStep):
        def _graph(self, check: bool) -> Any:
            name = f"{self._name}-{self._iteration}"
            # the current parameters: an attribute of their own (newer steps: _parameters, behind a property)
            own = vars(self)
            current = own["_parameters"] if "_parameters" in own else own["parameters"]
            fn = functools.partial(dist._block_partials, parameters=current, kernel=self._kernel, m=self._m, check=check)
            graph: dict[Any, Any] = {}
            keys = []
            for j, (x_key, y_key) in enumerate(self._blocks):
                key = (f"{name}-block", j)
                graph[key] = Task(key, fn, TaskRef(x_key), TaskRef(y_key))
                keys.append(key)
            level = 0
            while len(keys) > 1 or level == 0:
                level += 1
                groups = [keys[i : i + dist._FAN_IN] for i in range(0, len(keys), dist._FAN_IN)]
                keys = [(f"{name}-sum{level}", i) for i in range(len(groups))]
                for key, group in zip(keys, groups):
                    graph[key] = Task(key, dist._add, List(*map(TaskRef, group)))
            return Delayed(keys[0], HighLevelGraph.from_collections(name, graph, dependencies=[self._X, self._Y]), layer=name)

    return InlineDaskStep


def floor_diagnostics(Xt: Any, Yt: Any, Xc: Any, Yc: Any, client: Any, rounds: int) -> dict[str, Any]:
    """At a small m: a trivial compute's round trip on each scheduler; on the cluster, one
    iteration of DaskStep (cost + update) against the same with parameters and kernel bound into
    the block tasks, alternating; and how many block tasks waited for a transfer."""
    import dask
    import distributed

    from arraynet.steps import DaskStep

    out: dict[str, Any] = {}

    def trivial() -> Any:
        return dask.delayed(operator.add, pure=False)(1, 2)  # a new key each time

    out["trivial_compute_ms"] = {
        "threads": median_ms(lambda: dask.compute(trivial(), scheduler="threads"), 50, f"trivial m={Xc.shape[1]} threads"),
        "cluster": median_ms(lambda: dask.compute(trivial(), scheduler=client.get), 50, f"trivial m={Xc.shape[1]} cluster"),
    }
    kernel = arraynet.NeuralNetwork(LAYER_DIMS)._kernel()
    parameters = arraynet.initialize_parameters(LAYER_DIMS, "he", seed=SEED, xp=np, dtype=np.float64)
    try:
        inline = _inline_step_class()
    except Exception as exc:  # noqa: BLE001 - a diagnostic on private API: say why it did not run
        out["inline_error"] = repr(exc)
        inline = None
    classes = {"DaskStep": DaskStep, **({"inline": inline} if inline else {})}
    times: dict[str, list[float]] = {name: [] for name in classes}
    with dask.config.set(scheduler=client.get):
        steps = {name: cls.create(kernel, parameters, Xc, Yc, LEARNING_RATE, np) for name, cls in classes.items()}
        for step in steps.values():
            step.cost()  # the first compute checks the data
            step.update()
        for _ in range(rounds):
            for name, step in steps.items():
                times[name].append(median_ms(lambda step=step: (step.cost(), step.update()), 20, f"{name} m={Xc.shape[1]} cluster"))
        out["iteration_ms"] = {name: statistics.median(t) for name, t in times.items()}
        if inline:
            a, b = steps["DaskStep"].parameters, steps["inline"].parameters
            out["inline_same_parameters"] = all(np.array_equal(a[k], b[k]) for k in a)
        with distributed.get_task_stream(client=client) as stream:
            step = steps["DaskStep"]
            for _ in range(10):
                step.cost()
                step.update()
    blocks = [t for t in stream.data if "-block" in str(t["key"])]
    out["block_tasks"] = len(blocks)
    out["block_tasks_with_transfer"] = sum(any(s["action"] == "transfer" for s in t["startstops"]) for t in blocks)
    with dask.config.set(scheduler="threads"):
        step = DaskStep.create(kernel, parameters, Xt, Yt, LEARNING_RATE, np)
        step.cost()
        step.update()
        out["iteration_ms"]["DaskStep-threads"] = median_ms(
            lambda: (step.cost(), step.update()), 30, f"DaskStep m={Xc.shape[1]} threads")
    return out


# -- the phases ---------------------------------------------------------------------------------
def sweep(args: argparse.Namespace, cores: int, watch: MemoryWatch, log: Callable[..., None]) -> dict[str, Any]:
    cluster, client = new_cluster(SWEEP_MALLOC[args.sweep_malloc], default=True)
    results: dict[str, Any] = {
        "cluster_workers": client.run(_worker_env), "sweep_malloc": args.sweep_malloc, "chunk": args.chunk, "points": []
    }
    try:
        with client.as_current():
            # warm-up: every engine once, tiny, untimed (imports, the workers' first tasks)
            X, Y = host_data(GEN)
            Xt, Yt = threaded_data(X, Y, GEN)
            Xc, Yc = cluster_data(client, GEN, GEN)
            for engine in ENGINES:
                data = (Xt, Yt) if engine == "dask-threads" else (Xc, Yc) if engine == "cluster" else (X, Y)
                timed_fit(engine, *data, 3, client if engine == "cluster" else None)
            del X, Y, Xt, Yt, Xc, Yc
            watch.reset()
            for m in args.m:
                point = run_point(m, args, cores, client, watch, log)
                results["points"].append(point)
    finally:
        client.close()
        cluster.close()
    return results


def run_point(m: int, args: argparse.Namespace, cores: int, client: Any, watch: MemoryWatch, log: Callable[..., None]) -> dict[str, Any]:
    chunk = min(m, args.chunk) if args.chunk else chunk_for(m, cores)
    iterations = args.iterations or iterations_for(m)
    started = time.perf_counter()
    X, Y = host_data(m)
    Xt, Yt = threaded_data(X, Y, chunk)
    Xc, Yc = cluster_data(client, m, chunk)
    ABSORBER.moved(client)
    setup = time.perf_counter() - started
    tail = slice(max(0, m - GEN), m)
    same_data = bool(
        np.array_equal(Xc[:, tail].compute(scheduler=client.get), X[:, tail])
        and np.array_equal(Yc[:, tail].compute(scheduler=client.get), Y[:, tail])
        and np.array_equal(Xc[:, :GEN].compute(scheduler=client.get), X[:, :GEN])
    )
    log(f"m={m:.0e}: chunk {chunk} ({len(Xc.chunks[1])} chunks), {iterations} iterations, data ready in {setup:.1f} s, same data on the cluster: {same_data}")
    records: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
    data = {"dask-threads": (Xt, Yt), "cluster": (Xc, Yc)}
    for r in range(args.rounds):
        for engine in ENGINES:
            record = timed_fit(engine, *data.get(engine, (X, Y)), iterations, client if engine == "cluster" else None,
                               control=r == 0)
            records[engine].append(record)
        log(f"  round {r + 1}: " + ", ".join(f"{e} {records[e][-1]['wall_per_it'] * 1e3:.2f} ms/it" for e in ENGINES))
    medians = {engine: summarize(recs) for engine, recs in records.items()}
    last_costs = [recs[-1]["costs"][-1] for recs in records.values()]
    point: dict[str, Any] = {
        "m": m,
        "chunk": chunk,
        "chunks": len(Xc.chunks[1]),
        "iterations": iterations,
        "setup_seconds": setup,
        "same_data_on_cluster": same_data,
        "raw": records,
        "median": medians,
        "last_cost_max_relative_spread": (max(last_costs) - min(last_costs)) / abs(statistics.median(last_costs)),
        "graph": {"threads": graph_timings(Xt, Yt, None), "cluster": graph_timings(Xc, Yc, client)},
    }
    if m <= 100_000 and not args.no_floor:
        point["floor"] = floor_diagnostics(Xt, Yt, Xc, Yc, client, args.rounds)
        log(f"  floor diagnostics: {json.dumps(point['floor'])}")
    if m == MALLOC_M and not args.no_chunks:
        point["chunk_sizes"] = chunk_experiment(X, Y, Xc, Yc, client, cores, args, log)
    del X, Y, Xt, Yt, Xc, Yc
    gc.collect()
    client.run(gc.collect)
    point["peak_memory_bytes"] = watch.reset() - watch.baseline
    point["seconds"] = time.perf_counter() - started
    log(f"  m={m:.0e} done in {point['seconds']:.0f} s, peak memory {point['peak_memory_bytes'] / 2**30:.1f} GiB above the start")
    return point


def chunk_experiment(X: np.ndarray, Y: np.ndarray, Xc: Any, Yc: Any, client: Any, cores: int, args: argparse.Namespace, log: Callable[..., None]) -> dict[str, Any]:
    """At m = 1e6: per-iteration time against the chunk size, dask-threads (BLAS pinned, and as
    installed) and the cluster, alternating round by round."""
    import distributed

    m = X.shape[1]
    iterations = 6
    rounds = max(2, min(3, args.rounds))
    sizes = [m // cores, chunk_for(m, cores), m // (16 * cores), MIN_CHUNK]
    configs: dict[str, tuple[str, Any, Any]] = {}
    for size in sizes:
        configs[f"dask-threads chunk {size}"] = ("dask-threads", *threaded_data(X, Y, size))
    configs[f"dask-threads-blas chunk {chunk_for(m, cores)}"] = ("dask-threads-blas", *threaded_data(X, Y, chunk_for(m, cores)))
    for size in sizes[:3]:
        Xr, Yr = client.persist([Xc.rechunk({1: size}), Yc.rechunk({1: size})])
        distributed.wait([Xr, Yr])
        configs[f"cluster chunk {size}"] = ("cluster", Xr, Yr)
    ABSORBER.moved(client)
    records: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, (engine, Xa, Ya) in configs.items():
            records[name].append(timed_fit(engine, Xa, Ya, iterations, client if engine == "cluster" else None))
    out = {
        name: {"engine": engine, "chunk": int(Xa.chunks[1][0]), "chunks": len(Xa.chunks[1]), **summarize(records[name])}
        for name, (engine, Xa, Ya) in configs.items()
    }
    log("  chunk sizes at m=1e6: " + ", ".join(f"{n} {v['wall_per_it'] * 1e3:.1f} ms/it" for n, v in out.items()))
    return {"iterations": iterations, "rounds": rounds, "configs": out, "raw": records}


def malloc_experiment(args: argparse.Namespace, cores: int, watch: MemoryWatch, log: Callable[..., None]) -> dict[str, Any]:
    """At m = 1e6: a LocalCluster per MALLOC variant, all up at once, fits alternating round by
    round between them (and NumPy in this process, for reference)."""
    import dask

    m = MALLOC_M
    chunk = chunk_for(m, cores)
    iterations = iterations_for(m)
    clusters: dict[str, tuple[Any, Any, Any, Any]] = {}
    out: dict[str, Any] = {"m": m, "chunk": chunk, "iterations": iterations, "variants": {}}
    try:
        for name, env in MALLOC_VARIANTS.items():
            cluster, client = new_cluster(env)
            seen = client.run(_worker_env)
            Xc, Yc = cluster_data(client, m, chunk)
            clusters[name] = (cluster, client, Xc, Yc)
            default = dask.config.get("distributed.nanny.pre-spawn-environ")
            wanted = {key: env[key] if key in env else default.get(key) for key in MALLOC_KEYS}
            expected = {key: None if value is None else str(value) for key, value in wanted.items()}
            took = all({k: v[k] for k in MALLOC_KEYS} == expected for v in seen.values())
            out["variants"][name] = {"config": env, "workers": seen, "took_effect": took}
            log(f"malloc variant {name}: workers' environment {list(seen.values())}, as asked: {took}")
        X, Y = host_data(m)
        ABSORBER.moved(None)
        records: dict[str, list[dict[str, Any]]] = {name: [] for name in [*clusters, "numpy"]}
        for r in range(args.rounds):
            for name, (_, client, Xc, Yc) in clusters.items():
                records[name].append(timed_fit("cluster", Xc, Yc, iterations, client, scheduler=client.get))
            records["numpy"].append(timed_fit("numpy", X, Y, iterations))
            log(f"  round {r + 1}: " + ", ".join(f"{n} {v[-1]['wall_per_it'] * 1e3:.1f} ms/it" for n, v in records.items()))
        for name, recs in records.items():
            out["variants"].setdefault(name, {})["median"] = summarize(recs)
            out["variants"][name]["raw"] = recs
    finally:
        for cluster, client, _, _ in clusters.values():
            client.close()
            cluster.close()
        for key in MALLOC_KEYS:
            os.environ.pop(key, None)
    out["peak_memory_bytes"] = watch.reset() - watch.baseline
    return out


# -- machine, report, plot ------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    import dask
    import distributed
    import psutil
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": psutil.virtual_memory().total,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "libc": " ".join(platform.libc_ver()),
        "versions": {
            "python": platform.python_version(),
            "arraynet": arraynet.__version__,
            "numpy": np.__version__,
            "dask": dask.__version__,
            "distributed": distributed.__version__,
        },
        "blas": [{k: pool.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")} for pool in threadpool_info()],
        "dask_threaded_workers": dask.config.get("num_workers", None) or os.cpu_count(),
        "nanny_pre_spawn_environ_default": dask.config.get("distributed.nanny.pre-spawn-environ"),
        "environment_at_start": {k: os.environ.get(k) for k in (*MALLOC_KEYS, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "git": _git_state(),
    }


def _git_state() -> dict[str, Any]:
    """The commit and the uncommitted changes under src/ (another hand may change them during a run)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]

    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], check=False, cwd=root, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "HEAD"), "src_changes": git("status", "--porcelain", "--", "src")}


def _t(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def _m(m: int) -> str:
    exponent = round(math.log10(m))
    return f"1e{exponent}" if 10**exponent == m else f"{m:,}"


def break_even(points: list[dict[str, Any]], engine: str, reference: str) -> str:
    """Where ``engine`` becomes faster than ``reference`` within the sweep (log-interpolated
    between the two sweep points around the crossing), or that it does not."""
    ratios = [(p["m"], p["median"][engine]["wall_per_it"] / p["median"][reference]["wall_per_it"]) for p in points]
    for (m0, r0), (m1, r1) in itertools.pairwise(ratios):
        if r0 >= 1 > r1:
            t = math.log(r0) / (math.log(r0) - math.log(r1))
            estimate = 10 ** (math.log10(m0) + t * (math.log10(m1) - math.log10(m0)))
            mantissa, exponent = f"{estimate:.1e}".split("e")
            return (f"between m = {_m(m0)} ({r0:.2f}x) and {_m(m1)} ({r1:.2f}x), about m = {mantissa}e{int(exponent)} "
                    "(log-interpolated)")
    if ratios and ratios[0][1] < 1:
        return f"already at the smallest m = {_m(ratios[0][0])} ({ratios[0][1]:.2f}x)"
    best = min(ratios, key=lambda x: x[1])
    return f"not within the sweep (the best ratio is {best[1]:.2f}x, at m = {_m(best[0])})"


def write_report(data: dict[str, Any], path: Path) -> None:
    machine, points = data["machine"], data["sweep"]["points"]
    lines: list[str] = []
    add = lines.append
    v = machine["versions"]
    blas = machine["blas"][0] if machine["blas"] else {}
    add(f"# Dask benchmark of the distributed step ({machine['date'][:10]})")
    add("")
    add("Issue 13: whole `fit` runs of the network [20, 16, 1] (ReLU, sigmoid; float64; n_x = 20) on m")
    add("examples, per iteration, NumPy in one process against the distributed step (`DaskStep`, one")
    add("compute per iteration) on Dask's threaded scheduler and on a 2-worker `LocalCluster`. All")
    add("figures below are from one run of `benchmarks/dask_sweep.py`; raw timings in the JSON beside")
    add("this file.")
    add("")
    add(f"Command: `{machine['command']}` ({data['total_seconds'] / 60:.1f} min), at commit "
        f"{machine['git']['commit'][:7]}" + (" with uncommitted changes under src/" if machine["git"]["src_changes"] else "")
        + ("; src/ changed during the run (`git status` at its end: "
           + ", ".join(f"`{line.strip()}`" for line in machine["git_at_end"]["src_changes"].splitlines()) + ")"
           if machine["git"] != machine["git_at_end"] else "") + ".")
    add("")
    add(f"Machine: {machine['cpu_model']}, {machine['cpu_count']} cores (shared, noisy), "
        f"{machine['memory_bytes'] / 2**30:.0f} GiB, {machine['libc']}; Python {v['python']}, NumPy {v['numpy']} "
        f"({blas.get('internal_api')} {blas.get('version')}, {blas.get('num_threads')} threads by default), "
        f"dask {v['dask']}, distributed {v['distributed']}, arraynet {v['arraynet']}. Load average at the start "
        f"{machine['load_average']}.")
    add("")
    add("## Method")
    add("")
    add(f"* Engines, each timed in every round, in this order, {data['args']['rounds']} rounds; medians over the rounds:")
    add("  * `numpy`: NumPy arrays in this process, BLAS as installed (2 threads); `fit` picks its buffered step.")
    add("  * `numpy-1blas`: the same with BLAS pinned to 1 thread (`threadpoolctl.threadpool_limits(1)`).")
    add("  * `numpy-generic-1blas`: the same, `fast_paths=False`: the generic kernel (the one each Dask task runs), on one core.")
    add("  * `dask-threads`: `da.from_array(X, chunks=(20, chunk))`, persisted; `dask.config.set(scheduler=\"threads\")` "
        f"({machine['dask_threaded_workers']} threads), BLAS pinned to 1 thread so 2 threads use 2 cores.")
    workers = data["sweep"]["cluster_workers"]
    add("  * `cluster`: `LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)`, "
        "`dask.config.set(scheduler=\"distributed\")`; X and Y made on the workers from the same seeds as NumPy's "
        "(checked equal), rechunked, `client.persist`, `distributed.wait`. Workers' BLAS threads "
        f"{sorted({t for w in workers.values() for t in w['blas_threads']})} (the nanny's OMP/OPENBLAS_NUM_THREADS=1), "
        f"MALLOC_TRIM_THRESHOLD_ = {sorted({str(w['MALLOC_TRIM_THRESHOLD_']) for w in workers.values()})} (distributed's default).")
    add("* Chunks along m: `max(10_000, ceil(m / (4 x cores)))`, i.e. about 4 per core, at least 10,000 examples each.")
    add("* Time per iteration: the wall time of the whole `fit` call divided by its iterations (costs recorded at the "
        "first and last only; one compute per iteration all the same). It includes what fit does before its own clock: "
        "NumPy's finiteness check of X and the buffered step's allocation, the Dask step's graph optimization; the Dask "
        "step checks X in its first compute. The ratios on fit's own `history.seconds` are in the JSON "
        "(`fit_seconds_per_it`) and in the table after the next.")
    add("* Two cores are shared by everything: in `cluster`, the two workers, the scheduler and the client.")
    controls = [c for c in data["absorber"]["controls"] if c["bytes"] >= 2**30]
    slow = [c for c in controls if c["first_sys"] > 2 * c["sys"] + 0.1]
    add("* Before each timed fit that runs in other processes than the last timed fit (this process, or the "
        "cluster's workers), the same processes first touch and free fresh memory, untimed "
        f"({CLIENT_ABSORB_BYTES} bytes per example here, {WORKERS_ABSORB_BYTES} over the workers), so that a cost of "
        "moving memory between processes falls there and not on whichever engine comes first after a switch. "
        + ("In this run such a cost showed in " + " and ".join(sorted({c["where"] for c in slow}))
           + " (its cause was not found)" if slow else "No such cost showed in this run")
        + "; first touch after a switch, then the same again at once:")
    for c in controls:
        add(f"  * m = {_m(c['m'])}, {c['where']}, {c['bytes'] / 2**30:.1f} GiB: {c['first_wall']:.2f} s "
            f"({c['first_sys']:.2f} s system) after the switch, {c['wall']:.2f} s ({c['sys']:.2f} s system) again.")
    add("")
    add("## Seconds per iteration")
    add("")
    add("| m | chunks | its | numpy | numpy 1 BLAS | numpy generic 1 BLAS | dask threads | cluster | threads / numpy | cluster / numpy | threads / best numpy | cluster / best numpy |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in points:
        med = {e: p["median"][e]["wall_per_it"] for e in ENGINES}
        best = min(med["numpy"], med["numpy-1blas"])
        add(f"| {_m(p['m'])} | {p['chunks']} x {p['chunk']:,} | {p['iterations']} | {_t(med['numpy'])} | {_t(med['numpy-1blas'])} | "
            f"{_t(med['numpy-generic-1blas'])} | {_t(med['dask-threads'])} | {_t(med['cluster'])} | "
            f"{med['dask-threads'] / med['numpy']:.2f} | {med['cluster'] / med['numpy']:.2f} | "
            f"{med['dask-threads'] / best:.2f} | {med['cluster'] / best:.2f} |")
    add("")
    add("Spread (min - max over the rounds), and how far apart the engines' last costs are (the same data "
        "and initial parameters; the sums over m are added in another order):")
    add("")
    add("| m | " + " | ".join(ENGINES) + " | last costs' relative spread |")
    add("|---|" + "---|" * (len(ENGINES) + 1))
    for p in points:
        add(f"| {_m(p['m'])} | " + " | ".join(f"{_t(p['median'][e]['wall_per_it_min'])} - {_t(p['median'][e]['wall_per_it_max'])}" for e in ENGINES)
            + f" | {p['last_cost_max_relative_spread']:.1e} |")
    add("")
    add("The same ratios on fit's own clock (`history.seconds`, which starts after validation and the step's creation):")
    add("")
    add("| m | numpy | dask threads | cluster | threads / numpy | cluster / numpy |")
    add("|---|---|---|---|---|---|")
    for p in points:
        fs = {e: p["median"][e]["fit_seconds_per_it"] for e in ENGINES}
        add(f"| {_m(p['m'])} | {_t(fs['numpy'])} | {_t(fs['dask-threads'])} | {_t(fs['cluster'])} | "
            f"{fs['dask-threads'] / fs['numpy']:.2f} | {fs['cluster'] / fs['numpy']:.2f} |")
    add("")
    add("CPU seconds and minor page faults per iteration (this process: client, the threaded scheduler's threads, "
        "and the LocalCluster's scheduler, which runs in it; the cluster's workers summed):")
    add("")
    add("| m | numpy CPU | numpy faults | numpy generic 1 BLAS CPU | its faults | dask threads CPU | its faults | cluster: client+scheduler CPU | workers' CPU | workers' sys | workers' faults |")
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    for p in points:
        md = p["median"]
        c = md["cluster"]
        add(f"| {_m(p['m'])} | {_t(md['numpy']['cpu_per_it'])} | {md['numpy']['faults_per_it']:,.0f} | "
            f"{_t(md['numpy-generic-1blas']['cpu_per_it'])} | {md['numpy-generic-1blas']['faults_per_it']:,.0f} | "
            f"{_t(md['dask-threads']['cpu_per_it'])} | {md['dask-threads']['faults_per_it']:,.0f} | {_t(c['cpu_per_it'])} | "
            f"{_t(c['worker_cpu_per_it'])} | {_t(c['worker_sys_per_it'])} | {c['worker_faults_per_it']:,.0f} |")
    add("")
    # floor
    small = points[0]
    add("## Scheduler floor")
    add("")
    md = small["median"]
    add(f"At the smallest m = {_m(small['m'])} ({small['chunks']} chunk(s)), where the compute is small: numpy "
        f"{_t(md['numpy']['wall_per_it'])}, dask threads {_t(md['dask-threads']['wall_per_it'])} "
        f"(+{_t(md['dask-threads']['wall_per_it'] - md['numpy']['wall_per_it'])} over numpy), cluster "
        f"{_t(md['cluster']['wall_per_it'])} (+{_t(md['cluster']['wall_per_it'] - md['numpy']['wall_per_it'])}) per iteration.")
    for p in points:
        floor = p.get("floor")
        if not floor:
            continue
        it = floor["iteration_ms"]
        add("")
        add(f"m = {_m(p['m'])}: a trivial `dask.compute` round trip takes {floor['trivial_compute_ms']['threads']:.2f} ms "
            f"(threads) and {floor['trivial_compute_ms']['cluster']:.2f} ms (cluster); one DaskStep iteration (`cost()` + "
            f"`update()`, medians of 20) {it['DaskStep-threads']:.2f} ms on threads and {it['DaskStep']:.2f} ms on the cluster. "
            f"{floor['block_tasks_with_transfer']} of {floor['block_tasks']} block tasks on the cluster waited for a "
            "worker-to-worker transfer.")
        if "inline" in it:
            add(f"Diagnostic: the same step with the parameters and the kernel bound into each block task (no keys of "
                f"their own) takes {it['inline']:.2f} ms on the cluster, {it['DaskStep'] - it['inline']:.2f} ms less "
                f"({(1 - it['inline'] / it['DaskStep']) * 100:.0f}%); same parameters bit for bit: {floor.get('inline_same_parameters')}.")
    add("")
    add("## Graph building per iteration")
    add("")
    add("`DaskStep._graph(False)` timed alone (median of 200 calls, a `DaskStep.create(model._kernel(), parameters, X, Y, "
        "lr, np)` on each engine's arrays); then with what `dask.compute` does with it before running it on the threaded "
        "scheduler (materialize, convert, order; median of 50); on the cluster, the `client.compute(graph)` call "
        "(graph build, conversion, serialization, send) and its whole round trip (medians of 15).")
    add("")
    add("| m | tasks | `_graph` | `_graph` + dask's handling | cluster submit | cluster compute round trip (min - max) |")
    add("|---|---|---|---|---|---|")
    samples = data.get("micro_samples_ms", {})
    for p in points:
        g, t = p["graph"]["cluster"], p["graph"]["threads"]
        trips = samples.get(f"compute round trip m={p['m']} cluster")
        spread = f" ({min(trips):.1f} - {max(trips):.1f})" if trips else ""
        add(f"| {_m(p['m'])} | {g['tasks']} | {g['graph_ms']:.3f} ms | {t['graph_and_dask_ms']:.3f} ms | {g['submit_ms']:.2f} ms | "
            f"{g['compute_ms']:.1f} ms{spread} |")
    add("")
    add("## Break-even")
    add("")
    add(f"* cluster against numpy: {break_even(points, 'cluster', 'numpy')}.")
    add(f"* cluster against numpy 1 BLAS: {break_even(points, 'cluster', 'numpy-1blas')}.")
    add(f"* dask threads against numpy: {break_even(points, 'dask-threads', 'numpy')}.")
    add(f"* dask threads against numpy 1 BLAS: {break_even(points, 'dask-threads', 'numpy-1blas')}.")
    add("")
    chunk_point = next((p for p in points if "chunk_sizes" in p), None)
    if chunk_point:
        cs = chunk_point["chunk_sizes"]
        add(f"## Chunk size at m = {_m(chunk_point['m'])}")
        add("")
        add(f"{cs['rounds']} rounds of {cs['iterations']}-iteration fits, alternating. `dask-threads-blas`: BLAS as installed (2 threads per scheduler thread).")
        add("")
        add("| engine | chunks | s / iteration | CPU / iteration (process) | workers' CPU | faults (process / workers) |")
        add("|---|---|---|---|---|---|")
        for c in cs["configs"].values():
            add(f"| {c['engine']} | {c['chunks']} x {c['chunk']:,} | {_t(c['wall_per_it'])} | {_t(c['cpu_per_it'])} | "
                f"{_t(c.get('worker_cpu_per_it'))} | {c['faults_per_it']:,.0f} / "
                f"{'-' if 'worker_faults_per_it' not in c else format(c['worker_faults_per_it'], ',.0f')} |")
        add("")
    mal = data.get("malloc")
    if mal:
        add(f"## MALLOC_TRIM_THRESHOLD_ (m = {_m(mal['m'])}, {mal['chunk']:,} examples per chunk)")
        add("")
        add(f"distributed {v['distributed']}'s `distributed.nanny.pre-spawn-environ` is "
            f"`{machine['nanny_pre_spawn_environ_default']}`. One LocalCluster per variant (2 workers x 1 thread), all "
            f"up together, {data['args']['rounds']} rounds of {mal['iterations']}-iteration fits alternating between them "
            "and NumPy in this process. Each variant set with `dask.config.set({\"distributed.nanny.pre-spawn-environ.KEY\": "
            "value})` before its cluster and read back in the workers with `client.run(os.environ.get)`.")
        add("")
        add("| variant | workers' MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ | s / iteration | vs default | workers' CPU / it | workers' sys / it | workers' minor faults / it |")
        add("|---|---|---|---|---|---|---|")
        base = mal["variants"]["default"]["median"]
        for name, var in mal["variants"].items():
            med = var["median"]
            env = "-" if name == "numpy" else " / ".join(
                sorted({f"{w['MALLOC_TRIM_THRESHOLD_']} / {w['MALLOC_MMAP_THRESHOLD_']}" for w in var["workers"].values()}))
            if name == "numpy":
                add(f"| numpy, in this process (reference) | glibc defaults | {_t(med['wall_per_it'])} | "
                    f"{med['wall_per_it'] / base['wall_per_it']:.2f} | {_t(med['cpu_per_it'])} (process) | "
                    f"{_t(med['sys_per_it'])} (process) | {med['faults_per_it']:,.0f} (process) |")
            else:
                add(f"| {name}{'' if var['took_effect'] else ' (NOT as asked)'} | {env} | {_t(med['wall_per_it'])} | "
                    f"{med['wall_per_it'] / base['wall_per_it']:.2f} | {_t(med['worker_cpu_per_it'])} | "
                    f"{_t(med['worker_sys_per_it'])} | {med['worker_faults_per_it']:,.0f} |")
        add("")
    add("## Targets")
    add("")
    for line in data["targets"]:
        add(f"* {line}")
    add("")
    add("## Notes")
    add("")
    for line in data["notes"]:
        add(f"* {line}")
    add("")
    add("Peak memory in use on the machine above the start: " + ", ".join(
        f"m = {_m(p['m'])} {p['peak_memory_bytes'] / 2**30:.1f} GiB" for p in points)
        + (f", MALLOC experiment {mal['peak_memory_bytes'] / 2**30:.1f} GiB" if mal else "") + ".")
    add("")
    add(f"![seconds per iteration against m]({path.name[: -len('.md')]}.png)")
    add("")
    path.write_text("\n".join(lines))


def targets_and_notes(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    points = data["sweep"]["points"]
    med = {p["m"]: {e: p["median"][e]["wall_per_it"] for e in ENGINES} for p in points}
    targets, notes = [], []
    large = [m for m in med if m >= 1_000_000]
    if large:
        worst = max(large, key=lambda m: med[m]["dask-threads"] / med[m]["numpy"])
        ok = all(med[m]["dask-threads"] <= 1.2 * med[m]["numpy"] for m in large)
        ratios = ", ".join(f"{med[m]['dask-threads'] / med[m]['numpy']:.2f}x at m = {_m(m)}" for m in large)
        best_ratios = ", ".join(
            f"{med[m]['dask-threads'] / min(med[m]['numpy'], med[m]['numpy-1blas']):.2f}x" for m in large)
        targets.append(
            f"(i) dask threaded within 1.2x of NumPy for m >= 1e6: **{'met' if ok else 'missed'}**: {ratios} "
            f"(against the faster of numpy and numpy 1 BLAS: {best_ratios})"
            + ("" if ok else f"; worst {med[worst]['dask-threads'] / med[worst]['numpy'] / 1.2:.2f}x the allowed at m = {_m(worst)}") + ".")
    if 10_000_000 in med:
        r = med[10_000_000]["cluster"] / med[10_000_000]["numpy"]
        rb = med[10_000_000]["cluster"] / min(med[10_000_000]["numpy"], med[10_000_000]["numpy-1blas"])
        targets.append(
            f"(ii) cluster of 2 workers <= 0.7x NumPy's time at m = 1e7: **{'met' if r <= 0.7 else 'missed'}**: "
            f"{r:.2f}x ({_t(med[10_000_000]['cluster'])} against {_t(med[10_000_000]['numpy'])}; against the faster "
            f"NumPy {rb:.2f}x)" + ("" if r <= 0.7 else f", {r / 0.7:.2f}x the target") + ".")
    else:
        targets.append("(ii) not measured: m = 1e7 was not in this run.")
    worst_graph = max(max(p["graph"]["cluster"]["graph_ms"], p["graph"]["threads"]["graph_and_dask_ms"]) for p in points)
    worst_submit = max(p["graph"]["cluster"]["submit_ms"] for p in points)
    targets.append(
        f"(iii) graph building <= 10 ms per iteration: **{'met' if worst_graph <= 10 else 'missed'}**: at most "
        f"{max(p['graph']['cluster']['graph_ms'] for p in points):.3f} ms for `_graph` ({max(p['graph']['cluster']['tasks'] for p in points)} tasks), "
        f"{max(p['graph']['threads']['graph_and_dask_ms'] for p in points):.2f} ms with dask's handling, "
        f"{worst_submit:.2f} ms for the cluster's whole submission.")
    # notes from the numbers
    small = points[0]
    c = small["median"]["cluster"]
    floor_note = (
        f"The cluster's floor, {_t(c['wall_per_it'])} per iteration at m = {_m(small['m'])}: per iteration the "
        f"client's process (client and scheduler) spends {_t(c['cpu_per_it'])} of CPU and the workers "
        f"{_t(c['worker_cpu_per_it'])}, against {_t(small['median']['numpy-generic-1blas']['cpu_per_it'])} for the same "
        "kernel in one process: the rest is distributed's own work per task and message, on the same 2 cores. "
        "Graph building is a small part of it (below).")
    floor = small.get("floor")
    if floor:
        it = floor["iteration_ms"]
        floor_note += (
            f" A trivial compute's round trip takes {floor['trivial_compute_ms']['cluster']:.1f} ms; the step's graph "
            "adds a key for the parameters and one for the kernel (DataNode), which the scheduler places as tasks of "
            "their own, often on the other worker than the block's, so each block task waits for them to be computed "
            f"and fetched ({floor['block_tasks_with_transfer']} of {floor['block_tasks']} block tasks waited for a "
            "transfer)")
        if "inline" in it:
            floor_note += (f"; binding them into the block tasks instead takes {it['inline']:.1f} ms per iteration "
                           f"against {it['DaskStep']:.1f} ms")
        floor_note += "."
    notes.append(floor_note)
    if 10_000_000 in med:
        p = next(p for p in points if p["m"] == 10_000_000)
        mc, mg, mn = (p["median"][e] for e in ("cluster", "numpy-generic-1blas", "numpy"))
        budget = 0.7 * mn["wall_per_it"]
        need = mc["worker_cpu_per_it"] + mc["cpu_per_it"]
        cores = data["args"]["cores"]
        notes.append(
            f"Target (ii) at m = 1e7: NumPy's buffered step takes {_t(mn['wall_per_it'])} per iteration on "
            f"{_t(mn['cpu_per_it'])} of CPU ({mn['cpu_per_it'] / mn['wall_per_it']:.2f} cores busy: its matrix products "
            f"use the second BLAS thread), so 0.7x of it, {_t(budget)}, gives the {cores} cores {_t(cores * budget)} of CPU "
            f"per iteration for the workers, the scheduler and the client together. The workers alone take "
            f"{_t(mc['worker_cpu_per_it'])} ({_t(mc['worker_sys_per_it'])} of it system time, "
            f"{mc['worker_faults_per_it']:,.0f} minor page faults: each task's generic kernel allocates its temporaries "
            f"afresh, where the buffered step writes into buffers allocated once, {mn['faults_per_it']:,.0f} faults), "
            f"the client's process {_t(mc['cpu_per_it'])}: {_t(need)} in all, at best {_t(need / cores)} per iteration on "
            f"{cores} cores, {need / cores / mn['wall_per_it']:.2f}x NumPy's time, before any waiting; measured "
            f"{mc['wall_per_it'] / mn['wall_per_it']:.2f}x. So on {cores} shared cores what decides is the CPU the "
            f"tasks' kernel needs ({mc['worker_cpu_per_it'] / mn['cpu_per_it']:.2f}x that of NumPy's whole iteration, "
            "against a NumPy that already keeps more than one core busy), not the scheduler: its floor, "
            f"{_t(points[0]['median']['cluster']['wall_per_it'])} per iteration, is "
            f"{points[0]['median']['cluster']['wall_per_it'] / mc['wall_per_it'] * 100:.1f}% of the cluster's iteration "
            "here.")
        notes.append(
            f"The generic kernel on the whole m = 1e7 in one process takes {_t(mg['wall_per_it'])} per iteration, "
            f"{_t(mg['sys_per_it'])} of it system time (its temporaries are 16 x 1e7 x 8 bytes = 1.28 GB each, fresh "
            f"each iteration); in chunks of {p['chunk']:,} examples the two workers together spend {_t(mc['worker_sys_per_it'])} "
            f"of system time. The cluster is {mg['wall_per_it'] / mc['wall_per_it']:.2f}x faster than the generic "
            "kernel on one core" + (", more than its 2 workers alone would give: the smaller temporaries are part of it."
                                    if mg["wall_per_it"] / mc["wall_per_it"] > 2 else "."))
    chunk_point = next((q for q in points if "chunk_sizes" in q), None)
    if chunk_point:
        configs = chunk_point["chunk_sizes"]["configs"].values()
        rule = chunk_point["chunk"]
        for engine in ("dask-threads", "cluster"):
            mine = [c for c in configs if c["engine"] == engine]
            best = min(mine, key=lambda c: c["wall_per_it"])
            at_rule = next(c for c in mine if c["chunk"] == rule)
            notes.append(
                f"Chunk size, {engine} at m = {_m(chunk_point['m'])}: the rule's {at_rule['chunks']} chunks of {rule:,} take "
                f"{_t(at_rule['wall_per_it'])} per iteration; the best of those tried is {best['chunks']} chunks of "
                f"{best['chunk']:,}, {_t(best['wall_per_it'])} ({best['wall_per_it'] / at_rule['wall_per_it']:.2f}x)"
                + (" (so the rule's chunks are the best tried here)." if best is at_rule else "."))
        blas = next((c for c in configs if c["engine"] == "dask-threads-blas"), None)
        pinned = next((c for c in configs if c["engine"] == "dask-threads" and blas and c["chunk"] == blas["chunk"]), None)
        if blas and pinned:
            notes.append(
                f"BLAS threads under the threaded scheduler (m = {_m(chunk_point['m'])}, {blas['chunks']} chunks): BLAS as "
                f"installed (2 threads in each of 2 scheduler threads) takes {_t(blas['wall_per_it'])} per iteration, "
                f"{blas['wall_per_it'] / pinned['wall_per_it']:.2f}x the {_t(pinned['wall_per_it'])} with BLAS pinned to one "
                f"thread ({_t(blas['cpu_per_it'])} of CPU against {_t(pinned['cpu_per_it'])}): the cores are "
                "oversubscribed. The dask-threads figures above are pinned (`threadpool_limits(1)`); arraynet does not pin "
                "them itself.")
    mal = data.get("malloc")
    if mal:
        var = mal["variants"]
        base = var["default"]["median"]
        others = {n: v["median"] for n, v in var.items() if n not in ("default", "numpy")}
        avoid = [n for n, o in others.items() if o["worker_faults_per_it"] < 0.5 * base["worker_faults_per_it"]]
        keep = [n for n in others if n not in avoid]
        text = (
            f"MALLOC_TRIM_THRESHOLD_ at m = {_m(mal['m'])} (chunks of {mal['chunk']:,}): with distributed's default 65536 the "
            f"workers take {base['worker_faults_per_it']:,.0f} minor faults, {_t(base['worker_sys_per_it'])} of system "
            f"time and {_t(base['worker_cpu_per_it'])} of CPU per iteration, {_t(base['wall_per_it'])} per iteration; "
            + "; ".join(f"{n}: {o['worker_faults_per_it']:,.0f} faults, {_t(o['worker_sys_per_it'])} system, "
                        f"{_t(o['worker_cpu_per_it'])} CPU, {o['wall_per_it'] / base['wall_per_it']:.2f}x the default's time"
                        for n, o in others.items())
            + f" (NumPy in this process: {_t(var['numpy']['median']['wall_per_it'])}). ")
        if avoid:
            text += (
                f"The settings that avoid the cost: {', '.join(avoid)} "
                "(`dask.config.set({\"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_\": None})` leaves glibc "
                "its own thresholds; or add `MALLOC_MMAP_THRESHOLD_`, at most 33554432, glibc's cap)"
                + (f"; {', '.join(keep)} does not" if keep else "")
                + ". mallopt(3): setting M_TRIM_THRESHOLD or M_MMAP_THRESHOLD turns off glibc's dynamic mmap threshold, so "
                "with MALLOC_TRIM_THRESHOLD_ set to any value every allocation over 128 KiB (each temporary of a task) is "
                "mmapped and unmapped, its pages faulted in and zeroed again, every iteration. distributed sets it so that "
                "workers give freed memory back to the OS; without it a worker may keep more memory resident (not "
                "measured here). By glibc's 32 MiB cap, temporaries larger than that (16 x chunk x 8 bytes: chunks over "
                "about 262,000 examples, e.g. m = 1e7's) are mmapped whatever the setting (not measured here).")
        else:
            text += "None of the variants cut the workers' page faults by half in this run."
        notes.append(text)
        notes.append(
            "The nanny writes its pre-spawn-environ into the client process's os.environ, and distributed lets an "
            "existing environment variable override the config: after one LocalCluster, `dask.config.set` of "
            "MALLOC_TRIM_THRESHOLD_ has no effect on a second cluster made in the same process unless the variable is "
            "removed from os.environ first (this script removes it before each cluster and checks the workers).")
    return targets, notes


def write_plot(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = data["sweep"]["points"]
    ms = [p["m"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 5))
    for engine, marker in zip(ENGINES, "osD^v"):
        med = [p["median"][engine]["wall_per_it"] for p in points]
        low = [m - p["median"][engine]["wall_per_it_min"] for m, p in zip(med, points)]
        high = [p["median"][engine]["wall_per_it_max"] - m for m, p in zip(med, points)]
        ax.errorbar(ms, med, yerr=[low, high], marker=marker, capsize=3, label=engine)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("examples m")
    ax.set_ylabel("seconds per iteration (median; bars: min-max over rounds)")
    machine = data["machine"]
    ax.set_title(f"arraynet fit, [20, 16, 1] float64: {machine['cpu_count']} cores, {machine['date'][:10]}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--m", nargs="+", type=float, default=[1e4, 1e5, 1e6, 1e7], help="examples (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, every engine once each (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=None, help="iterations per fit (default: 50, 20, 10, 3 by m)")
    parser.add_argument("--output", default="benchmarks/results/dask-2026-12-01", help="PREFIX of .json, .md, .png (default: %(default)s)")
    parser.add_argument("--no-malloc", action="store_true", help="skip the MALLOC_TRIM_THRESHOLD_ experiment")
    parser.add_argument("--chunk", type=int, default=None, help="examples per chunk in the sweep (default: about 4 chunks per core)")
    parser.add_argument("--sweep-malloc", choices=tuple(SWEEP_MALLOC), default="default",
                        help="the sweep cluster's nanny MALLOC setting (default: distributed's)")
    parser.add_argument("--no-chunks", action="store_true", help="skip the chunk-size experiment at m = 1e6")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor diagnostics")
    parser.add_argument("--report-only", metavar="JSON", help="only write the report and plot of a run's JSON (to --output)")
    args = parser.parse_args()
    if args.report_only:
        data = json.loads(Path(args.report_only).read_text())
        data["targets"], data["notes"] = targets_and_notes(data)
        write_report(data, Path(f"{args.output}.md"))
        write_plot(data, Path(f"{args.output}.png"))
        return
    args.m = sorted(int(m) for m in args.m)
    if any(m < 1 for m in args.m) or args.rounds < 1:
        parser.error("m and rounds must be >= 1")
    if args.iterations is not None and args.iterations < 2:
        parser.error("--iterations must be >= 2")
    prefix = Path(args.output)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    start = time.perf_counter()

    def log(*parts: Any) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s]", *parts, flush=True)

    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # here and in the workers: no INFO lines
    data: dict[str, Any] = {"machine": machine_info(), "args": {**vars(args), "cores": cores}}
    need = 3 * N_X * 8 * max(args.m) + 6 * 2**30
    import psutil

    if psutil.virtual_memory().available < need:
        sys.exit(f"needs about {need / 2**30:.0f} GiB available for m = {max(args.m):.0e}; "
                 f"{psutil.virtual_memory().available / 2**30:.0f} GiB are")
    watch = MemoryWatch()
    try:
        data["sweep"] = sweep(args, cores, watch, log)
        if not args.no_malloc:
            data["malloc"] = malloc_experiment(args, cores, watch, log)
    finally:
        watch.stop()
    data["absorber"] = {"log": ABSORBER.log, "controls": ABSORBER.controls}
    data["micro_samples_ms"] = SAMPLES
    data["total_seconds"] = time.perf_counter() - start
    data["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    data["machine"]["git_at_end"] = _git_state()
    data["targets"], data["notes"] = targets_and_notes(data)
    Path(f"{prefix}.json").write_text(json.dumps(data, indent=1, default=str))
    write_report(data, Path(f"{prefix}.md"))
    write_plot(data, Path(f"{prefix}.png"))
    log(f"wrote {prefix}.json, .md, .png")
    for line in data["targets"]:
        print(line)


if __name__ == "__main__":
    main()
