"""Where the compiled (JAX) step's time goes on one CPU core, and whether handing XLA the data
as examples-in-rows would pay: the evidence behind issue 12's one missed target (the mid net in
float64, 0.8x the JAX user's loop asked).

Part 0 times, per iteration and alternated, the mid net's kernel step in the compiled loop (what
``fit`` runs between two recorded iterations), the JAX user's step (``jax.grad`` and SGD) in the
same kind of loop, and the user's own loop (one ``jax.jit`` dispatch per iteration). Part 1 times
each matrix product of the mid net's step (64-32-16-1, m = 2000) alone, compiled in a
``jax.lax.fori_loop`` (a dependence on the loop's carry keeps XLA from hoisting it), in the
layouts the kernel's step gives XLA and in the alternatives. Part 2 times whole compiled loops of
the kernel's step over a set of shapes with ``X`` as given (features x examples, row-major) and
with ``X`` stored transposed (examples-in-rows, one copy per fit) and read as ``Xr.T``, the
same numbers to rounding, alternated round by round.

    OMP_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
        taskset -c 0 python benchmarks/jax_layout.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from workloads import LEARNING_RATE, NETS, all_targets, arrays, host_data, jax_user_update

import arraynet
from arraynet.steps import train_step

jax.config.update("jax_enable_x64", True)


def _seconds(run: Callable[[], Any], rounds: int = 5) -> float:
    run()  # compiles
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        jax.block_until_ready(run())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def loops(dtype: Any, n: int = 500) -> None:
    """Part 0: where the compiled step's gain comes from, on the mid net."""
    net, target = NETS["mid"], all_targets()["jax"]
    name = jnp.dtype(dtype).name
    parameters, X, Y = arrays(net, target, name)
    step = train_step(arraynet.NeuralNetwork(list(net.layer_dims), hidden_activation=net.hidden, seed=0)._kernel(), jnp)
    update, start = jax_user_update(net, target, name)
    kernel_loop = jax.jit(lambda p, k: jax.lax.fori_loop(0, k, lambda _, c: step(c, X, Y, LEARNING_RATE)[0], dict(p)))
    user_in_loop = jax.jit(lambda p, k: jax.lax.fori_loop(0, k, lambda _, c: update(c), p))

    def user_loop() -> Any:
        current = start
        for _ in range(n):
            current = update(current)
        return current

    runs = {
        "the kernel's step, compiled loop": lambda: kernel_loop(parameters, n),
        "the user's step, compiled loop": lambda: user_in_loop(start, n),
        "the user's loop, a dispatch per step": user_loop,
    }
    times = _alternated(runs)
    base = times["the user's loop, a dispatch per step"]
    print(f"Part 0: the mid net, {name}, us per iteration (median of 5, alternated)")
    for label, seconds in times.items():
        print(f"  {label:40s} {seconds / n * 1e6:8.1f}   {seconds / base:.3f}x the user's loop")


def _alternated(runs: dict[str, Callable[[], Any]], rounds: int = 5) -> dict[str, float]:
    """The median seconds of each run, alternating their order round by round."""
    for run in runs.values():
        jax.block_until_ready(run())
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(rounds):
        for name in runs if r % 2 == 0 else reversed(list(runs)):
            start = time.perf_counter()
            jax.block_until_ready(runs[name]())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def products(dtype: Any, n: int = 2000) -> None:
    """Part 1: the mid net's products, each alone, microseconds per product."""
    rng = np.random.default_rng(0)

    def array(*shape: int) -> Any:
        return jnp.asarray(rng.standard_normal(shape), dtype=dtype)

    X, W1, W2, Z1, Z2 = array(64, 2000), array(32, 64), array(16, 32), array(32, 2000), array(16, 2000)
    Xr = jnp.asarray(np.asarray(X).T.copy())
    cases = {
        "Z1 = W1 @ X          (forward, as the kernel)": (lambda a, b: a @ b, W1, X),
        "Z1 = W1 @ Xr.T       (forward, X in rows)": (lambda a, b: a @ b.T, W1, Xr),
        "dW1 = dZ1 @ X.T      (backward, as the kernel)": (lambda a, b: a @ b.T, Z1, X),
        "dW1 = dZ1 @ Xr       (backward, X in rows)": (lambda a, b: a @ b, Z1, Xr),
        "Z2 = W2 @ A1": (lambda a, b: a @ b, W2, Z1),
        "dW2 = dZ2 @ A1.T": (lambda a, b: a @ b.T, Z2, Z1),
        "dA1 = W2.T @ dZ2     (as the kernel)": (lambda a, b: a.T @ b, W2, Z2),
        "dA1 = (dZ2.T @ W2).T (the same, spelled otherwise)": (lambda a, b: (b.T @ a).T, W2, Z2),
    }
    print(f"Part 1: the mid net's matrix products alone, {jnp.dtype(dtype).name}, us per product")
    for name, (product, a, b) in cases.items():
        print(f"  {name:52s} {_product_seconds(product, a, b, dtype, n) / n * 1e6:8.1f}")


def _product_seconds(product: Callable[[Any, Any], Any], a: Any, b: Any, dtype: Any, n: int) -> float:
    """Seconds of ``n`` products in one compiled loop, each depending on the last."""

    def loop(a: Any, b: Any) -> Any:
        return jax.lax.fori_loop(0, n, lambda _, c: c + product(a + c * 1e-30, b)[0, 0], jnp.zeros((), dtype))

    compiled = jax.jit(loop)
    return _seconds(lambda: compiled(a, b))


def layouts(dtype: Any) -> None:
    """Part 2: whole compiled loops of the kernel's step, X as given against X in rows."""
    print(f"Part 2: compiled loops of the step, {jnp.dtype(dtype).name}, us per iteration (median of 5, alternated)")
    for dims, m in [
        ((2, 4, 1), 400),
        ((64, 32, 16, 1), 500),
        ((64, 32, 16, 1), 2000),
        ((64, 32, 16, 1), 8000),
        ((16, 32, 16, 1), 2000),
        ((256, 32, 16, 1), 2000),
        ((784, 256, 1), 1024),
        ((784, 256, 1), 4096),
        ((20, 20, 7, 5, 1), 2000),
    ]:
        given, rows = _layout_seconds(dims, m, dtype)
        print(f"  {dims!s:20s} m = {m:5d}: X as given {given * 1e6:9.1f}   X in rows {rows * 1e6:9.1f}   rows / given {rows / given:.3f}")


def _layout_seconds(dims: tuple[int, ...], m: int, dtype: Any) -> tuple[float, float]:
    """Seconds per iteration of a compiled loop of the kernel's step with X as given and with X
    in rows, alternated round by round."""
    X, Y = (jnp.asarray(a, dtype=dtype) for a in host_data(dims[0], m))
    Xr = jnp.asarray(np.asarray(X).T.copy())
    model = arraynet.NeuralNetwork(list(dims), hidden_activation="tanh" if dims[0] == 2 else "relu", seed=0)
    parameters = model._initial_parameters(dims[0], jnp, X.dtype, None)
    step = train_step(model._kernel(), jnp)
    n = max(5, int(1e9 / (6 * dims[0] * dims[1] * m)))
    given = jax.jit(lambda p, X, k: jax.lax.fori_loop(0, k, lambda _, c: step(c, X, Y, 0.01)[0], dict(p)))
    rows = jax.jit(lambda p, Xr, k: jax.lax.fori_loop(0, k, lambda _, c: step(c, Xr.T, Y, 0.01)[0], dict(p)))
    times = _alternated({"given": lambda: given(parameters, X, n), "rows": lambda: rows(parameters, Xr, n)})
    return times["given"] / n, times["rows"] / n

if __name__ == "__main__":
    print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}")
    for dtype in (jnp.float64, jnp.float32):
        loops(dtype)
        products(dtype)
        layouts(dtype)
