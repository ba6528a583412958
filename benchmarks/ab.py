"""Interleaved A/B timing of training steps, for ratios close to a target.

pytest-benchmark times one implementation after the other, so on a shared machine a burst of other
work lands on one of them; alternating the implementations round by round spreads it over all.

    python benchmarks/ab.py wide float32 --rounds 15 arraynet/numpy numpy-hand/numpy torch-autograd/torch-cpu

prints each one's median (and minimum) and its ratio to the first.
"""

from __future__ import annotations

import argparse
import statistics
import time

from workloads import IMPLEMENTATIONS, NETS, all_targets


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("net", choices=list(NETS))
    parser.add_argument("dtype", choices=["float32", "float64"])
    parser.add_argument("steps", nargs="+", help="IMPLEMENTATION/TARGET, e.g. arraynet/numpy")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    targets = all_targets()
    steps = {}
    for spec in args.steps:
        implementation, _, target = spec.partition("/")
        if implementation not in IMPLEMENTATIONS or target not in targets:
            parser.error(
                f"{spec!r}: expected IMPLEMENTATION/TARGET of {list(IMPLEMENTATIONS)} / {list(targets)}"
            )
        steps[spec] = IMPLEMENTATIONS[implementation](NETS[args.net], targets[target], args.dtype)
        steps[spec]()  # warm-up
    times: dict[str, list[float]] = {spec: [] for spec in steps}
    for i in range(args.rounds):
        order = list(steps) if i % 2 == 0 else list(steps)[::-1]
        for spec in order:
            start = time.perf_counter()
            steps[spec]()
            times[spec].append(time.perf_counter() - start)
    first = statistics.median(times[args.steps[0]])
    for spec, values in times.items():
        median = statistics.median(values)
        print(
            f"{spec:32s} median {median * 1e3:10.3f} ms  min {min(values) * 1e3:10.3f} ms  "
            f"ratio to {args.steps[0]}: {median / first:.3f}"
        )


if __name__ == "__main__":
    main()
