"""An epoch of mini-batch Adam on JAX arrays: arraynet's compiled epoch step against what a JAX user
writes, a ``jax.jit``'ed Optax step called in a Python loop over batches gathered with a host
permutation. Not a test: a measurement, printed as a table.

Task: 250,000 examples x 40 features, float32, random normal ``X``, labels from a random linear rule;
net 40-64-32-1, ReLU hidden layers and a sigmoid output, cross-entropy, Adam (learning rate 1e-3,
the course's and Optax's defaults otherwise); batch sizes 32, 256 and 4096 (the short last batch
included, shuffled every epoch).

- A, arraynet: ``NeuralNetwork.fit(X, Y, 1e-3, optimizer="adam", batch_size=b, epochs=E)`` (``E`` =
  ``--epochs``, 2) of a model already trained in this process (compilation excluded), the time of
  the call over ``E`` (its checks, the fit's examples-in-rows copy of ``X``, each epoch's
  permutation, its compiled call over the batches, its cost read back); and the first fit (``E``
  epochs) of a fresh model after every cache is emptied (compilation included).
- B, the JAX user: ``perm = rng.permutation(m)``, then for each batch ``step(params, opt_state,
  X[perm[i:i + b]], y[perm[i:i + b]])`` on host NumPy arrays of examples in rows, ``step`` a
  ``jax.jit`` of ``jax.value_and_grad`` of the same loss (``optax.sigmoid_binary_cross_entropy``),
  ``optax.adam(1e-3).update`` and ``optax.apply_updates``; ``E`` epochs' time up to
  ``block_until_ready``, over ``E``; and its first ``E`` epochs after the caches are emptied
  (compiling its step for the full and the short batch). The user loop accumulates no epoch cost
  (arraynet's does): the comparison favours it.

- C, the floor: the user's same step (same loss, ``optax.adam``) run by ``jax.lax.fori_loop`` over
  the batches inside one ``jax.jit`` call per epoch, each batch gathered inside the call from a
  device copy of ``X`` (examples in rows) with ``jnp.take``: what the arithmetic costs with no
  dispatch per batch, which no loop over batches, arraynet's included, can go below.

A, B and C take turns (their order rotates every round), ``--rounds`` rounds (5), medians; wall time
and the process's CPU time (all its threads: what the machine's other load moves least). XLA is
pinned to one thread (``XLA_FLAGS``, set before JAX is imported, unless already set). The issue's
target: A's epoch <= 0.25 x B's; C / B bounds what any compiled epoch can reach on this machine.

    python benchmarks/minibatch_jax.py [--rounds 5] [--epochs 2] [--m 250000] [--batch-sizes 32,256,4096]
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import arraynet
from arraynet.steps import compiled

LAYER_DIMS = (40, 64, 32, 1)
LEARNING_RATE = 1e-3
TARGET = 0.25


Times = tuple[float, float]  # (wall seconds, CPU seconds of the process)


def timed(run: Callable[[], Any]) -> Times:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def task(m: int, n_x: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (m, n_x) random normal and labels (m,) of a random linear rule, float32, examples in rows."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_x), dtype=np.float32)
    w, b = rng.standard_normal(n_x), rng.standard_normal()
    return X, (X @ w + b > 0).astype(np.float32)


def empty_caches() -> None:
    """Every compilation forgotten: arraynet's cached functions and JAX's caches."""
    compiled._EPOCH_COMPILED.clear()
    jax.clear_caches()


# -- A: arraynet ----------------------------------------------------------------------------------
class Arraynet:
    def __init__(self, X_rows: np.ndarray, y: np.ndarray) -> None:
        self.X = arraynet.asarray(np.ascontiguousarray(X_rows.T), "jax")  # (n_x, m): one example per column
        self.Y = arraynet.asarray(y[None, :], "jax")
        self.model = self.fresh()
        self.last_cost = float("nan")

    def fresh(self) -> arraynet.NeuralNetwork:
        return arraynet.NeuralNetwork(list(LAYER_DIMS), hidden_activation="relu", seed=0)

    def fit(self, batch_size: int, epochs: int) -> None:
        history = self.model.fit(
            self.X, self.Y, LEARNING_RATE, optimizer="adam", batch_size=batch_size, epochs=epochs, progress=False
        )  # fit read the last epoch's cost: the work is done when it returns
        assert history.step == "compiled", history.step
        self.last_cost = history.costs[-1]

    def first(self, batch_size: int, epochs: int) -> Times:
        empty_caches()
        self.model = self.fresh()
        return timed(lambda: self.fit(batch_size, epochs))

    def epochs(self, batch_size: int, epochs: int) -> Times:
        return timed(lambda: self.fit(batch_size, epochs))


# -- B: the JAX user's loop -----------------------------------------------------------------------
def user_parameters(seed: int = 0) -> list[tuple[Any, Any]]:
    """He-initialized ``(W, b)`` per layer, ``W`` of shape (n_in, n_out): examples in rows."""
    keys = jax.random.split(jax.random.PRNGKey(seed), len(LAYER_DIMS) - 1)
    return [
        (jax.random.normal(key, (n_in, n_out), jnp.float32) * np.sqrt(2.0 / n_in), jnp.zeros(n_out, jnp.float32))
        for key, n_in, n_out in zip(keys, LAYER_DIMS[:-1], LAYER_DIMS[1:])
    ]


def user_loss(params: list[tuple[Any, Any]], x: Any, y: Any) -> Any:
    h = x
    for W, b in params[:-1]:
        h = jax.nn.relu(h @ W + b)
    W, b = params[-1]
    return optax.sigmoid_binary_cross_entropy((h @ W + b)[:, 0], y).mean()


class User:
    def __init__(self, X_rows: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X_rows, y
        self.optimizer = optax.adam(LEARNING_RATE)
        self.rng = np.random.default_rng(1)
        self.reset()
        self.last_loss = float("nan")

    def reset(self) -> None:
        optimizer = self.optimizer

        @jax.jit
        def step(params: Any, opt_state: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
            loss, grads = jax.value_and_grad(user_loss)(params, x, y)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        self.step: Callable[..., Any] = step
        self.params = user_parameters()
        self.opt_state = optimizer.init(self.params)

    def train(self, batch_size: int, epochs: int) -> None:
        X, y, m = self.X, self.y, self.X.shape[0]
        params, opt_state, loss = self.params, self.opt_state, None
        for _ in range(epochs):
            perm = self.rng.permutation(m)
            for i in range(0, m, batch_size):
                idx = perm[i : i + batch_size]
                params, opt_state, loss = self.step(params, opt_state, X[idx], y[idx])
        jax.block_until_ready((params, opt_state))
        self.params, self.opt_state, self.last_loss = params, opt_state, float(loss)

    def first(self, batch_size: int, epochs: int) -> Times:
        empty_caches()
        self.reset()
        return timed(lambda: self.train(batch_size, epochs))

    def epochs(self, batch_size: int, epochs: int) -> Times:
        return timed(lambda: self.train(batch_size, epochs))


class UserCompiledLoop:
    def __init__(self, X_rows: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = jnp.asarray(X_rows), jnp.asarray(y)
        self.optimizer = optax.adam(LEARNING_RATE)
        self.rng = np.random.default_rng(2)
        self.reset()

    def reset(self) -> None:
        optimizer, X, y = self.optimizer, self.X, self.y
        m = X.shape[0]

        def step(carry: Any, rows: Any) -> Any:
            params, opt_state = carry
            grads = jax.grad(user_loss)(params, jnp.take(X, rows, axis=0), jnp.take(y, rows))
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

        def epoch(params: Any, opt_state: Any, perm: Any, batch_size: int) -> Any:
            full = m // batch_size
            carry = jax.lax.fori_loop(
                0,
                full,
                lambda k, c: step(c, jax.lax.dynamic_slice_in_dim(perm, k * batch_size, batch_size)),
                (params, opt_state),
            )
            return step(carry, perm[full * batch_size :]) if m % batch_size else carry

        self.epoch = jax.jit(epoch, static_argnums=(3,))
        self.params = user_parameters()
        self.opt_state = optimizer.init(self.params)

    def train(self, batch_size: int, epochs: int) -> None:
        params, opt_state = self.params, self.opt_state
        for _ in range(epochs):
            perm = jnp.asarray(self.rng.permutation(self.X.shape[0]).astype(np.int32))
            params, opt_state = self.epoch(params, opt_state, perm, batch_size)
        jax.block_until_ready((params, opt_state))
        self.params, self.opt_state = params, opt_state

    def first(self, batch_size: int, epochs: int) -> Times:
        empty_caches()
        self.reset()
        return timed(lambda: self.train(batch_size, epochs))

    def epochs(self, batch_size: int, epochs: int) -> Times:
        return timed(lambda: self.train(batch_size, epochs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed fit (per epoch: its time over them)")
    parser.add_argument("--m", type=int, default=250_000)
    parser.add_argument("--batch-sizes", default="32,256,4096")
    args = parser.parse_args()
    batch_sizes = [int(size) for size in args.batch_sizes.split(",")]
    E = args.epochs

    X_rows, y = task(args.m)
    a, b, c = Arraynet(X_rows, y), User(X_rows, y), UserCompiledLoop(X_rows, y)
    runners: list[tuple[str, Any]] = [("A", a), ("B", b), ("C", c)]
    times: dict[tuple[str, int], list[Times]] = {}
    for round_ in range(args.rounds):
        for size in batch_sizes:
            turn = round_ % len(runners)
            for name, runner in runners[turn:] + runners[:turn]:
                times.setdefault((name + " first", size), []).append(runner.first(size, E))
                runner.epochs(size, 1)  # a warm-up epoch: everything compiled and run once
                wall, cpu = runner.epochs(size, E)
                times.setdefault((name, size), []).append((wall / E, cpu / E))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)

    def median(name: str, size: int, which: int = 0) -> float:
        return statistics.median(t[which] for t in times[(name, size)])

    print()
    print(
        f"m = {args.m}, net {'-'.join(map(str, LAYER_DIMS))} relu, Adam lr {LEARNING_RATE}, float32; "
        f"jax {jax.__version__}, optax {optax.__version__}, arraynet {arraynet.__version__}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}; "
        f"medians of {args.rounds} rounds, {E} epochs per timed fit"
    )
    print()
    print(
        "| batch | A: arraynet epoch s | B: Optax user loop epoch s | A / B (target <= 0.25) | C: user step, compiled loop s "
        f"| C / B (the floor) | A / C | CPU s: A, B, C | CPU A / B | first fit s ({E} epochs): A, B, C |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in batch_sizes:
        ratio = median("A", size) / median("B", size)
        cpu = [median(name, size, 1) for name in "ABC"]
        first = [median(name + " first", size) for name in "ABC"]
        print(
            f"| {size} | {median('A', size):.3f} | {median('B', size):.3f} | {ratio:.2f}{'' if ratio <= TARGET else ' (missed)'} "
            f"| {median('C', size):.3f} | {median('C', size) / median('B', size):.2f} | {median('A', size) / median('C', size):.2f} "
            f"| {cpu[0]:.3f}, {cpu[1]:.3f}, {cpu[2]:.3f} | {cpu[0] / cpu[1]:.2f} | {first[0]:.2f}, {first[1]:.2f}, {first[2]:.2f} |"
        )
    print()
    print(f"last epoch's cost: arraynet {a.last_cost:.4f}; the user's last batch loss {b.last_loss:.4f}")


if __name__ == "__main__":
    main()
