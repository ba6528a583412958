"""Interleaved A/B timing of whole ``fit`` runs with the fast paths on and off (``fast_paths=True``
against ``False``: the buffered step on NumPy and PyTorch CPU, the compiled one on JAX, against the
generic kernel), round by round; prints the median seconds per iteration of each, their ratio, and
the minor page faults per iteration (allocation of fresh memory shows there). On JAX the first
round includes the compilation; the median leaves it out.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/ab_fit.py planar:1000:9 cat:150:7 wide:10:5
    OMP_NUM_THREADS=1 python benchmarks/ab_fit.py --backend torch planar:1000:9

Each argument is NET:ITERATIONS:ROUNDS; ``--backend`` is the array library the data is on.
"""

from __future__ import annotations

import argparse
import resource
import statistics

from workloads import LEARNING_RATE, NETS, host_data

import arraynet


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="*", default=["planar:1000:9", "cat:150:7", "wide:10:5"])
    parser.add_argument("--backend", default="numpy", help="numpy (default), torch or jax")
    args = parser.parse_args()
    if args.backend == "jax":
        arraynet.backends.enable_jax_float64()  # the float64 runs in float64
    for spec in args.runs:
        name, iterations, rounds = spec.split(":")
        net, iterations, rounds = NETS[name], int(iterations), int(rounds)
        for dtype in ("float32", "float64"):
            X, Y = (arraynet.asarray(a, args.backend, dtype=dtype) for a in host_data(net.layer_dims[0], net.m))
            seconds: dict[bool, list[float]] = {True: [], False: []}
            faults = {True: 0, False: 0}
            for r in range(rounds):
                for fast in (True, False) if r % 2 == 0 else (False, True):
                    model = arraynet.NeuralNetwork(list(net.layer_dims), hidden_activation=net.hidden, seed=0)
                    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                    history = model.fit(X, Y, LEARNING_RATE, iterations, progress=False, fast_paths=fast)
                    faults[fast] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
                    seconds[fast].append(history.seconds / iterations)
            generic, fast = statistics.median(seconds[False]), statistics.median(seconds[True])
            print(
                f"{args.backend} {name:6s} {dtype}  generic {generic * 1e3:9.3f} ms/it  fast {fast * 1e3:9.3f} ms/it  "
                f"ratio {fast / generic:.3f}  page faults/it: generic "
                f"{faults[False] / iterations / rounds:.0f}, fast {faults[True] / iterations / rounds:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
