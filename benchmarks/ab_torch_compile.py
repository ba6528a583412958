"""torch.compile of arraynet's generic step (``arraynet.steps.train_step``) against the buffered step
that ``fit`` runs on PyTorch CPU: a 2,500-iteration run, compile time included, and per iteration
after the compilation (the question of issue 12: does it pay on a 2,500-iteration fit?).

    OMP_NUM_THREADS=1 python benchmarks/ab_torch_compile.py planar mid
"""

from __future__ import annotations

import statistics
import sys
import time

import torch
from workloads import NETS, host_data

import arraynet
from arraynet.backends import namespace_for_backend
from arraynet.steps import train_step

ITERATIONS = 2500


def network(name: str) -> arraynet.NeuralNetwork:
    net = NETS[name]
    return arraynet.NeuralNetwork(list(net.layer_dims), hidden_activation=net.hidden, seed=0)


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    xp = namespace_for_backend("torch")
    for name in names:
        net = NETS[name]
        X_host, Y_host = host_data(net.layer_dims[0], net.m)
        for dtype in ("float32", "float64"):
            X, Y = arraynet.asarray(X_host, "torch", dtype=dtype), arraynet.asarray(Y_host, "torch", dtype=dtype)

            buffered = statistics.median(network(name).fit(X, Y, 0.01, ITERATIONS, progress=False).seconds for _ in range(3))
            torch._dynamo.reset()
            step = torch.compile(train_step(network(name)._kernel(), xp))
            initial = arraynet.initialize_parameters(list(net.layer_dims), seed=0, xp=xp, dtype=dtype)
            start = time.perf_counter()
            parameters, _ = step(initial, X, Y, 0.01)
            first = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(ITERATIONS):
                parameters, _ = step(parameters, X, Y, 0.01)
            steady = time.perf_counter() - start
            print(
                f"{name} {dtype}: buffered fit {buffered:.3f} s ({buffered / ITERATIONS * 1e6:.1f} us/it); torch.compile "
                f"first call {first:.1f} s, then {steady:.3f} s ({steady / ITERATIONS * 1e6:.1f} us/it); whole compiled "
                f"run / buffered fit {(first + steady) / buffered:.1f}x, per iteration {steady / buffered:.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["planar", "mid"])
