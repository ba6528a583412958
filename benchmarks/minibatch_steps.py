"""Time per epoch of mini-batch training [C2 1.1-1.4], the buffered epoch step against the generic
one, on one thread (NumPy's BLAS under ``threadpoolctl.threadpool_limits(1)``, PyTorch under
``torch.set_num_threads(1)``).

The task: ``m`` = 250,000 examples of 40 float32 features drawn from a standard normal, labels from
a random linear rule, the network [40, 64, 32, 1] with ReLU hidden layers, Adam, shuffled epochs.
Each round runs one epoch of each step, A then B, then B then A in the next round (a burst of
other work on a shared machine lands on both), each step going on from where it stopped; the
table gives the medians over the rounds and their ratio generic / buffered (above 1: the buffered
step is faster), and the ratio of the fastest rounds (less moved by other work).

    python benchmarks/minibatch_steps.py
    python benchmarks/minibatch_steps.py --batch-sizes 64 256 1024 4096 --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import arraynet
from arraynet.backends import namespace_of
from arraynet.kernel.minibatches import partition
from arraynet.kernel.optimizers import Adam
from arraynet.models.training import Schedule
from arraynet.steps import BufferedEpochStep, GenericEpochStep
from arraynet.steps.ops import ops_for

LAYER_DIMS = [40, 64, 32, 1]


def task(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (40, m) standard normal, ``Y`` (1, m) from a random linear rule, float32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((LAYER_DIMS[0], m), dtype=np.float32)
    w = rng.standard_normal(LAYER_DIMS[0])
    Y = (w @ X + 0.1 > 0).astype(np.float32)[None, :]
    return X, Y


def steps(library: str, X_host: np.ndarray, Y_host: np.ndarray, batch_size: int) -> tuple[dict[str, Any], Schedule]:
    """The generic and the buffered epoch step of one training, from the same start, and its schedule.
    The buffered one is made by its constructor, past any restriction of ``create``: measured here
    wherever it could run."""
    X, Y = arraynet.asarray(X_host, library), arraynet.asarray(Y_host, library)
    xp = namespace_of(X)
    model = arraynet.NeuralNetwork(LAYER_DIMS, hidden_activation="relu", seed=1)
    kernel = model._kernel()
    parameters = {
        key: arraynet.asarray(value, library, dtype="float32")
        for key, value in arraynet.initialize_parameters(LAYER_DIMS, "he", 1).items()
    }
    optimizer = Adam()
    state = optimizer._init(parameters, xp)
    generic = GenericEpochStep.create(kernel, optimizer, parameters, state, X, Y, batch_size, xp)
    ops = ops_for(xp, X)
    assert ops is not None and kernel.activations is not None
    buffered = BufferedEpochStep(optimizer, parameters, state, X, Y, batch_size, kernel.activations, ops, kernel)
    m = X.shape[1]
    schedule = Schedule(optimizer, 0.001, None, True, 1, m, len(partition(m, batch_size)), 0, 0)
    return {"generic": generic, "buffered": buffered}, schedule


def measure(library: str, X: np.ndarray, Y: np.ndarray, batch_size: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per epoch of each step, ``rounds`` rounds alternating the order (after one warm-up epoch each)."""
    runs, schedule = steps(library, X, Y, batch_size)
    for step in runs.values():
        float(step.epoch(schedule.epoch(0)))
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(rounds):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for name in order:
            plan = schedule.epoch(r + 1)
            start = time.perf_counter()
            float(runs[name].epoch(plan))  # the cost read: a sync, as fit reads it
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--m", type=int, default=250_000, help="examples (default 250,000)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--libraries", nargs="+", default=["numpy", "torch"], choices=["numpy", "torch"])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, Y = task(args.m)
    print(f"m = {args.m}, net {LAYER_DIMS} relu, Adam, float32, shuffled, one thread, {args.rounds} rounds (medians)")
    print(f"{'library':8s} {'batch':>6s} {'batches':>8s} {'generic ms':>11s} {'buffered ms':>12s} {'generic/buffered':>17s} {'(of minima)':>12s}")
    with threadpool_limits(1):
        for library in args.libraries:
            for batch_size in args.batch_sizes:
                times = measure(library, X, Y, batch_size, args.rounds)
                generic, buffered = (statistics.median(times[name]) for name in ("generic", "buffered"))
                fastest = min(times["generic"]) / min(times["buffered"])
                print(
                    f"{library:8s} {batch_size:6d} {len(partition(args.m, batch_size)):8d} "
                    f"{generic * 1e3:11.1f} {buffered * 1e3:12.1f} {generic / buffered:17.3f} {fastest:12.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
