"""The GEMM peak of each target, measured in the same run as the steps: an n x n matrix product
(2 n^3 flops), the ceiling a training step's GFLOP/s is read against."""

from __future__ import annotations

import numpy as np
import pytest
from workloads import GEMM_N, describe


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm(benchmark, target, dtype):
    rng = np.random.default_rng(0)
    xp, dt = target.xp, target.dtype(dtype)
    A = xp.asarray(rng.standard_normal((GEMM_N, GEMM_N)), dtype=dt, device=target.device)
    B = xp.asarray(rng.standard_normal((GEMM_N, GEMM_N)), dtype=dt, device=target.device)
    describe(
        benchmark,
        f"gemm n={GEMM_N}",
        kind="gemm",
        implementation="matmul",
        target=target.name,
        dtype=dtype,
        n=GEMM_N,
        flops=2 * GEMM_N**3,
    )

    def run():
        C = A @ B
        target.sync()
        return C

    run()
    benchmark(run)
