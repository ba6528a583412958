"""Where a GPU starts to beat the CPU: arraynet's float32 step of an n_x-H-1 ReLU net over a sweep
of m (H fixed) and of the hidden width H (m fixed), on every target."""

from __future__ import annotations

import pytest
from workloads import (
    SWEEP_HIDDEN,
    SWEEP_M,
    SWEEP_M_WIDTH,
    SWEEP_N_X,
    SWEEP_WIDTH,
    arraynet_step,
    describe,
    sweep_net,
)


def _run(benchmark, target, group, kind, net):
    step = arraynet_step(net, target, "float32")
    step()
    describe(
        benchmark,
        group,
        kind=kind,
        implementation="arraynet",
        target=target.name,
        dtype="float32",
        m=net.m,
        hidden=net.layer_dims[1],
        layer_dims=list(net.layer_dims),
        flops=net.flops(),
    )
    benchmark(step)


@pytest.mark.parametrize("m", SWEEP_M)
def test_sweep_examples(benchmark, target, m):
    _run(
        benchmark,
        target,
        f"sweep m ({SWEEP_N_X}-{SWEEP_HIDDEN}-1 float32)",
        "sweep-m",
        sweep_net(m, SWEEP_HIDDEN),
    )


@pytest.mark.parametrize("hidden", SWEEP_WIDTH)
def test_sweep_width(benchmark, target, hidden):
    _run(
        benchmark,
        target,
        f"sweep width ({SWEEP_N_X}-H-1 m={SWEEP_M_WIDTH} float32)",
        "sweep-width",
        sweep_net(SWEEP_M_WIDTH, hidden),
    )
