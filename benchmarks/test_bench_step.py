"""One full training step (forward, backward, update) of each net, by implementation, target and
dtype; its peak memory is measured from before the step is built to the end of its warm-up call
(buffers a step allocates up front count), next to the least it needs."""

from __future__ import annotations

import pytest
from workloads import IMPLEMENTATIONS, LOOP_NETS, NETS, describe, peak_memory, runs_on


@pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net_name", list(NETS))
def test_training_step(benchmark, target, net_name, dtype, implementation):
    net = NETS[net_name]
    if not runs_on(implementation, target):
        pytest.skip(f"{implementation} does not run on {target.name}")
    if implementation == "loops" and net_name not in LOOP_NETS:
        pytest.skip(
            f"the loops run on {', '.join(LOOP_NETS)} only: a cat step takes about 9 s on NumPy, a wide one hours"
        )
    itemsize = 4 if dtype == "float32" else 8
    step, peak = peak_memory(lambda: IMPLEMENTATIONS[implementation](net, target, dtype), target)  # and the warm-up
    describe(
        benchmark,
        f"step {net_name} {dtype}",
        kind="step",
        implementation=implementation,
        target=target.name,
        dtype=dtype,
        net=net_name,
        layer_dims=list(net.layer_dims),
        m=net.m,
        flops=net.flops(),
        peak_bytes=peak,
        min_bytes=net.min_bytes(itemsize),
    )
    benchmark(step)
