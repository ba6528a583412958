"""The seed's vectorization lesson [seed 2.7]: a 1,000,000-element dot product and one gradient
step of logistic regression, as Python loops and vectorized."""

from __future__ import annotations

import numpy as np
import pytest
from workloads import DOT_N, LEARNING_RATE, LR_SHAPE, describe, host_data

from arraynet.kernel import loops
from arraynet.kernel.cost import cost_from_logits
from arraynet.kernel.propagation import _update
from arraynet.models.logistic_regression import LogisticRegression


@pytest.mark.parametrize("implementation", ["loop", "vectorized"])
def test_dot_product(benchmark, target, implementation):
    """``c = sum_i a_i b_i`` for n = 1,000,000: ``for i in range(n)`` against ``a @ b``."""
    if implementation == "loop" and target.backend != "numpy":
        pytest.skip(
            "the loop runs on NumPy only, as the seed's demo: elsewhere each of its 2,000,000 element reads is a library call (on a GPU a device round trip)"
        )
    rng = np.random.default_rng(0)
    xp = target.xp
    a = xp.asarray(rng.random(DOT_N), device=target.device)
    b = xp.asarray(rng.random(DOT_N), device=target.device)
    describe(
        benchmark,
        f"dot n={DOT_N}",
        kind="dot",
        implementation=implementation,
        target=target.name,
        dtype="float64",
        n=DOT_N,
        flops=2 * DOT_N,
    )

    if implementation == "loop":

        def run():
            c = 0.0
            for i in range(DOT_N):
                c += a[i] * b[i]
            return c
    else:

        def run():
            c = a @ b
            target.sync()
            return c

    assert abs(float(run()) - float(a @ b)) <= 1e-9 * DOT_N  # the warm-up call, checked
    benchmark(run)


@pytest.mark.parametrize("implementation", ["loops", "arraynet"])
def test_logistic_regression_step(benchmark, target, implementation):
    """One gradient-descent step of logistic regression (cost, gradients, update): the seed's
    ``for i in range(m)``/``for j in range(n_x)`` [seed 2.6] against [seed 2.7]."""
    n_x, m = LR_SHAPE
    xp, dt = target.xp, target.dtype("float64")
    X_host, Y_host = host_data(n_x, m)
    X = xp.asarray(X_host, dtype=dt, device=target.device)
    Y = xp.asarray(Y_host, dtype=dt, device=target.device)
    parameters = {
        "w": xp.zeros((n_x, 1), dtype=dt, device=target.device),
        "b": xp.zeros((), dtype=dt, device=target.device),
    }
    describe(
        benchmark,
        f"logistic regression step n_x={n_x} m={m}",
        kind="lr",
        implementation=implementation,
        target=target.name,
        dtype="float64",
        n_x=n_x,
        m=m,
        flops=4 * n_x * m,
    )
    model = LogisticRegression()

    if implementation == "loops":

        def run():
            cost, grads = loops.logistic_regression_gradients(parameters, X, Y)
            new = loops.update(parameters, grads, LEARNING_RATE)
            target.sync()
            return cost, new
    else:

        def run():
            AL, ZL, caches = model._forward(parameters, X, xp)
            cost = cost_from_logits(ZL, Y, xp)
            new = _update(parameters, model._backward(AL, Y, caches, xp), LEARNING_RATE)
            target.sync()
            return cost, new

    run()
    benchmark(run)
