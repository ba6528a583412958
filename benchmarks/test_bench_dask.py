"""One iteration of ``fit`` on NumPy arrays in this process against the same data as a Dask array
on the threaded scheduler (the distributed step, ``arraynet.steps.DaskStep``: one compute per
iteration), at one modest m: the step ``fit`` chooses for each (the buffered one on NumPy), run as
``fit`` runs it (``cost()``, then ``update()``), after a first iteration (the Dask step checks the
data in its first compute). The Dask threads run with BLAS pinned to one thread where threadpoolctl
is installed, so its threads do not oversubscribe the cores. Skipped without dask.

The whole sweep over m, with a LocalCluster, the scheduler floor and the nanny's malloc setting:
``python benchmarks/dask_sweep.py`` (benchmarks/results/dask-*.md).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from workloads import LEARNING_RATE, SIZE, describe

import arraynet
from arraynet.steps import choose_step

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

M = {"smoke": 2_000, "quick": 50_000, "full": 200_000}[SIZE]
CHUNKS = 8  # about 4 per core on 2 cores
LAYER_DIMS = [20, 16, 1]
ROUNDS = {"smoke": 1, "quick": 5, "full": 10}[SIZE]
ITERATIONS = {"smoke": 1, "quick": 3, "full": 5}[SIZE]  # per round


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((LAYER_DIMS[0], M))
    Y = ((X[0] * X[1] + 0.3 * X[2]) > 0).astype(np.float64)[None, :]
    return X, Y


def _blas_one_thread() -> tuple[contextlib.AbstractContextManager, bool]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext(), False
    return threadpool_limits(1), True


@pytest.mark.parametrize("engine", ["numpy", "dask-threads"])
def test_dask_fit_iteration(benchmark, engine):
    X, Y = _data()
    chunk = -(-M // CHUNKS)
    model = arraynet.NeuralNetwork(LAYER_DIMS, seed=0)
    if engine == "dask-threads":
        X, Y = dask.persist(da.from_array(X, chunks=(LAYER_DIMS[0], chunk)), da.from_array(Y, chunks=(1, chunk)),
                            scheduler="threads")
    X, xp, _ = model._check_X(X)
    Y = arraynet._validation.check_Y(Y, X, xp, "cpu")
    parameters = arraynet.initialize_parameters(LAYER_DIMS, "he", seed=0, xp=np, dtype=np.float64)
    pinned, limits = _blas_one_thread() if engine == "dask-threads" else (contextlib.nullcontext(), False)
    scheduler = dask.config.set(scheduler="threads") if engine == "dask-threads" else contextlib.nullcontext()
    with scheduler, pinned:
        step = choose_step(model._kernel(), parameters, X, Y, LEARNING_RATE, xp, None)

        def iteration():
            cost = step.cost()
            step.update()
            return cost

        iteration()  # the Dask step's first compute checks the data
        describe(
            benchmark, f"dask fit iteration m={M}", kind="dask-fit", implementation=engine, target="numpy",
            dtype="float64", m=M, chunks=CHUNKS if engine == "dask-threads" else 1, step=step.name,
            blas_one_thread=limits,
        )
        cost = benchmark.pedantic(iteration, rounds=ROUNDS, iterations=ITERATIONS)
    assert np.isfinite(float(cost))
    assert (step.name == "dask") == (engine == "dask-threads")
