"""The GEMM peak of each target, measured in the same run as the steps: n x n matrix products
(2 n^3 flops) of a few sizes, many rounds each; the best of them is the ceiling a training step's
GFLOP/s is read against, so that no step can read above 100%."""

from __future__ import annotations

import numpy as np
import pytest
from workloads import GEMM_SIZES, SIZE, describe

ROUNDS = {"smoke": 1, "quick": 7, "full": 21}[SIZE]


@pytest.mark.parametrize("n", GEMM_SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm(benchmark, target, dtype, n):
    rng = np.random.default_rng(0)
    xp, dt = target.xp, target.dtype(dtype)
    A = xp.asarray(rng.standard_normal((n, n)), dtype=dt, device=target.device)
    B = xp.asarray(rng.standard_normal((n, n)), dtype=dt, device=target.device)
    describe(
        benchmark, f"gemm n={n}", kind="gemm", implementation="matmul", target=target.name, dtype=dtype, n=n,
        flops=2 * n**3,
    )

    def run():
        C = A @ B
        target.sync(C)
        return C

    run()
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
