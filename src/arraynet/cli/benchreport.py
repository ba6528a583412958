"""The benchmark report: a Markdown file and PNG plots made from the pytest-benchmark JSON that the
suite in ``benchmarks/`` writes (``arraynet bench`` runs both).

Every figure is a median over the rounds of one run, and every ratio divides two medians of that
same run, since timings from different runs on a shared machine do not compare.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io._atomic import atomic_path

__all__ = ["Result", "load_results", "write_report"]

CPU_TARGETS = ("numpy", "torch-cpu", "jax")
GPU_TARGETS = ("cupy", "torch-cuda")
STEP_ORDER = ["arraynet", "arraynet-buffered", "numpy-hand", "torch-autograd", "jax-jit", "loops"]  # the steps table's columns


@dataclass(frozen=True)
class Result:
    """One benchmark of the JSON: what it ran (``info``, the suite's ``extra_info``) and its times."""

    name: str
    info: dict[str, Any]
    median: float  # seconds
    iqr: float
    rounds: int

    def get(self, key: str, default: Any = None) -> Any:
        return self.info.get(key, default)

    @property
    def gflops(self) -> float | None:
        flops = self.get("flops")
        return None if not flops else flops / self.median / 1e9


def load_results(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[Result]]:
    """``(machine_info, results)`` from a pytest-benchmark JSON file written by the suite."""
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or "benchmarks" not in data:
        raise ValueError(f"{path} is not a pytest-benchmark JSON file (no 'benchmarks' key)")
    results = [
        Result(
            b["name"], b.get("extra_info", {}), b["stats"]["median"], b["stats"]["iqr"], b["stats"]["rounds"]
        )
        for b in data["benchmarks"]
        if b.get("extra_info", {}).get("kind")
    ]
    if not results:
        raise ValueError(f"{path} holds no results of arraynet's benchmark suite")
    return data.get("machine_info", {}), results


def _find(results: Iterable[Result], **match: Any) -> Result | None:
    for r in results:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _ratio(a: Result | None, b: Result | None) -> float | None:
    return None if a is None or b is None else a.median / b.median


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _machine_lines(machine: dict[str, Any]) -> list[str]:
    bench = machine.get("arraynet_bench", {})
    versions = bench.get("versions", {})
    gpus = bench.get("gpus") or []
    load = bench.get("load_average_at_start")
    load_end = bench.get("load_average_at_end")
    lines = [
        (
            f"- date: {bench.get('date', '?')}; suite size: {bench.get('size', '?')}; "
            f"targets: {', '.join(bench.get('targets', []))}"
        ),
        f"- CPU: {bench.get('cpu_model', '?')}, {bench.get('cpu_count', '?')} logical cores"
        + (f"; load average (1 min) at start {load[0]:.2f}" if load else "")
        + (f", at end {load_end[0]:.2f}" if load_end else ""),
        "- GPU: "
        + ("; ".join(f"{g['name']} ({g['memory_bytes'] / 2**30:.0f} GiB)" for g in gpus) or "none usable"),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "- threads: "
        + (
            ", ".join(f"{k}={v}" for k, v in (bench.get("thread_settings") or {}).items() if v)
            or "the libraries' defaults"
        ),
        "",
    ]
    return lines


def _is_gpu(target: str) -> bool:
    return target in GPU_TARGETS


def _vectorization(results: list[Result]) -> tuple[list[str], list[tuple[str, float]]]:
    rows, speedups = [], []
    cases = [
        ("dot", "loop", "vectorized", "dot product, n = {n}"),
        ("lr", "loops", "arraynet", "logistic regression step, n_x = {n_x}, m = {m}"),
        ("step", "loops", "arraynet", "{net} step, {dtype}"),
    ]
    for kind, slow, fast, label in cases:
        for loop in [r for r in results if r.get("kind") == kind and r.get("implementation") == slow]:
            match = {k: loop.get(k) for k in ("target", "dtype", "net") if loop.get(k) is not None}
            vec = _find(results, kind=kind, implementation=fast, **match)
            if vec is None:
                continue
            title = label.format(**loop.info) + f" ({loop.get('target')})"
            speedup = loop.median / vec.median
            speedups.append((title, speedup))
            rows.append([title, _time(loop.median), _time(vec.median), f"{speedup:,.0f}x"])
    return _table(["case", "loop", "vectorized", "speed-up"], rows), speedups


def _steps(results: list[Result]) -> list[str]:
    steps = [r for r in results if r.get("kind") == "step"]
    columns = sorted(
        {(r.get("implementation"), r.get("target")) for r in steps},
        key=lambda c: (STEP_ORDER.index(c[0]) if c[0] in STEP_ORDER else len(STEP_ORDER), c[1]),
    )
    header = ["net", "dtype"] + [f"{impl} ({target})" for impl, target in columns]
    header += [
        "arraynet/hand (numpy)",
        "arraynet (numpy)/autograd",
        "arraynet (torch-cpu)/autograd",
        "buffered (torch-cpu)/autograd",
    ]
    rows = []
    for net in dict.fromkeys(r.get("net") for r in steps):
        for dtype in ("float32", "float64"):
            row = [net, dtype]
            for impl, target in columns:
                r = _find(steps, net=net, dtype=dtype, implementation=impl, target=target)
                row.append(_time(r.median if r else None))
            an_np = _find(steps, net=net, dtype=dtype, implementation="arraynet", target="numpy")
            an_t = _find(steps, net=net, dtype=dtype, implementation="arraynet", target="torch-cpu")
            buf_t = _find(steps, net=net, dtype=dtype, implementation="arraynet-buffered", target="torch-cpu")
            hand = _find(steps, net=net, dtype=dtype, implementation="numpy-hand")
            autograd = _find(steps, net=net, dtype=dtype, implementation="torch-autograd", target="torch-cpu")
            row += [_x(_ratio(an_np, hand)), _x(_ratio(an_np, autograd))]
            row += [_x(_ratio(an_t, autograd)), _x(_ratio(buf_t, autograd))]
            rows.append(row)
    return _table(header, rows)


def _peak(results: list[Result], target: str, dtype: str) -> float | None:
    """The GEMM peak of ``target`` in ``dtype``: the best GFLOP/s of the sizes measured."""
    rates = [
        rate
        for r in results
        if r.get("kind") == "gemm" and r.get("target") == target and r.get("dtype") == dtype and (rate := r.gflops) is not None
    ]
    return max(rates) if rates else None


def _gflops(results: list[Result]) -> list[str]:
    rows = []
    for target, dtype in dict.fromkeys((r.get("target"), r.get("dtype")) for r in results if r.get("kind") == "gemm"):
        peak = _peak(results, target, dtype)
        if peak is None:  # no flops recorded: no peak to read the steps against
            continue
        for step in [
            r
            for r in results
            if r.get("kind") == "step"
            and r.get("target") == target
            and r.get("dtype") == dtype
            and r.get("implementation") != "loops"
        ]:
            gflops = step.gflops
            if gflops is None:
                continue
            rows.append(
                [
                    step.get("net"),
                    dtype,
                    f"{step.get('implementation')} ({target})",
                    f"{gflops:.1f}",
                    f"{peak:.1f}",
                    f"{100 * gflops / peak:.0f}%",
                ]
            )
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return _table(["net", "dtype", "implementation", "step GFLOP/s", "GEMM peak GFLOP/s", "of peak"], rows)


def _memory(results: list[Result]) -> list[str]:
    rows = []
    for r in results:
        if r.get("kind") == "step" and r.get("peak_bytes") and r.get("implementation") != "loops":
            rows.append(
                [
                    r.get("net"),
                    r.get("dtype"),
                    f"{r.get('implementation')} ({r.get('target')})",
                    f"{r.get('peak_bytes') / 2**20:.2f}",
                    f"{r.get('min_bytes') / 2**20:.2f}",
                    f"{r.get('peak_bytes') / r.get('min_bytes'):.2f}x",
                ]
            )
    return _table(["net", "dtype", "implementation", "peak MiB", "minimum MiB", "peak/minimum"], rows)


def _sweep(results: list[Result], kind: str, key: str) -> tuple[list[str], str]:
    sweep = [r for r in results if r.get("kind") == kind]
    targets = list(dict.fromkeys(r.get("target") for r in sweep))
    values = sorted({r.get(key) for r in sweep})
    rows, crossover = [], None
    for value in values:
        row = [str(value)]
        by_target = {t: _find(sweep, target=t, **{key: value}) for t in targets}
        row += [_time(r.median if r else None) for r in by_target.values()]
        rows.append(row)
        cpu = [r.median for t, r in by_target.items() if r and not _is_gpu(t)]
        gpu = [r.median for t, r in by_target.items() if r and _is_gpu(t)]
        if crossover is None and cpu and gpu and min(gpu) < min(cpu):
            crossover = value
    if not any(_is_gpu(t) for t in targets):
        note = "No GPU was usable in this run, so there is no crossover to show."
    elif crossover is None:
        note = f"The CPU stayed faster at every {key} of the sweep."
    else:
        note = f"The fastest GPU target first beats the fastest CPU target at {key} = {crossover}."
    return _table([key] + targets, rows), note


def _targets(results: list[Result]) -> list[str]:
    """The issue's CPU targets, each with its measured ratio and whether it was met."""
    lines = []

    def check(label: str, ratio: float | None, limit: float, above: bool = False) -> None:
        if ratio is None:
            lines.append(f"- {label}: not measured in this run")
            return
        met = ratio >= limit if above else ratio <= limit
        lines.append(
            f"- {label}: {ratio:.2f} ({'met' if met else 'MISSED'}; target {'>=' if above else '<='} {limit})"
        )

    steps = [r for r in results if r.get("kind") == "step"]
    for net, limit in (("cat", 1.05), ("wide", 1.05), ("planar", 1.3)):
        for dtype in ("float32", "float64"):
            an = _find(steps, net=net, dtype=dtype, implementation="arraynet", target="numpy")
            check(
                f"{net} {dtype}: arraynet (numpy) / hand-written NumPy",
                _ratio(an, _find(steps, net=net, dtype=dtype, implementation="numpy-hand")),
                limit,
            )
    for net in ("planar", "cat", "wide"):
        for dtype in ("float32", "float64"):
            autograd = _find(steps, net=net, dtype=dtype, implementation="torch-autograd", target="torch-cpu")
            for target in ("numpy", "torch-cpu"):  # arraynet on each CPU backend with a step: the generic
                for implementation in ("arraynet", "arraynet-buffered"):  # kernel, and the buffered step fit runs there
                    an = _find(steps, net=net, dtype=dtype, implementation=implementation, target=target)
                    check(
                        f"{net} {dtype}: {implementation} ({target}) / PyTorch autograd (CPU)",
                        _ratio(an, autograd),
                        1.0,
                    )
    wide = _find(steps, net="wide", dtype="float32", implementation="arraynet", target="numpy")
    wide_gflops, peak = (None if wide is None else wide.gflops), _peak(results, "numpy", "float32")
    check(
        "wide float32: arraynet (numpy) GFLOP/s / GEMM peak (numpy)",
        None if wide_gflops is None or peak is None else wide_gflops / peak,
        0.8,
        above=True,
    )
    fits = [r for r in results if r.get("kind") == "fit"]
    for net, limit in (("planar", 0.5), ("mid", 0.8)):
        for dtype in ("float32", "float64"):
            check(
                f"{net} {dtype}: arraynet fit (jax) / the JAX user's jax.jit loop, per iteration",
                _ratio(
                    _find(fits, net=net, dtype=dtype, implementation="arraynet-fit", target="jax"),
                    _find(fits, net=net, dtype=dtype, implementation="jax-jit-loop", target="jax"),
                ),
                limit,
            )
    for net in ("cat", "wide"):
        for dtype in ("float32", "float64"):
            for what, (best, peer) in (
                ("whole trainings, per iteration", _best_fit(results, net, dtype)),
                ("steady state, per step", _best_step(results, net, dtype)),
            ):
                check(
                    f"{net} {dtype}: the best arraynet ({best[0] if best else '-'}) / the best peer "
                    f"({peer[0] if peer else '-'}), {what}",
                    None if best is None or peer is None else best[1] / peer[1],
                    1.0,
                )
    return lines + [""]


Labeled = tuple[str, float]  # what was measured (implementation, target) and its seconds per iteration


def _fastest(
    results: list[Result], kind: str, labels: dict[str, str], net: str, dtype: str, cpu_only: bool = True
) -> Labeled | None:
    """The result of ``kind`` for ``net`` in ``dtype`` (on a CPU target, unless not ``cpu_only``)
    with the fewest seconds per iteration among the implementations of ``labels`` (implementation
    -> how the report names it, before its target), as (name, seconds per iteration); a step's
    median is one iteration."""
    found = [
        (f"{labels[r.get('implementation')]}{r.get('target')}", r.median / r.get("iterations", 1))
        for r in results
        if r.get("kind") == kind
        and r.get("implementation") in labels
        and r.get("net") == net
        and r.get("dtype") == dtype
        and not (cpu_only and _is_gpu(r.get("target")))
    ]
    return min(found, key=lambda pair: pair[1], default=None)


def _best_fit(results: list[Result], net: str, dtype: str) -> tuple[Labeled | None, Labeled | None]:
    """The fastest arraynet fit of ``net`` on a CPU target (named by its target) and the fastest
    peer's whole training on one (the JAX user's loop; the PyTorch user's network built, then its
    autograd loop): whole trainings against whole trainings."""
    peers = {"jax-jit-loop": "jax.jit loop, ", "torch-autograd-loop": "torch autograd loop, "}
    return _fastest(results, "fit", {"arraynet-fit": ""}, net, dtype), _fastest(results, "fit", peers, net, dtype)


def _best_step(results: list[Result], net: str, dtype: str) -> tuple[Labeled | None, Labeled | None]:
    """The fastest step ``fit`` runs for ``net`` on a CPU target (the buffered step: NumPy,
    PyTorch CPU) and the fastest peer step (PyTorch autograd, the JAX user's jax.jit step): the
    steady state, warm, setup left out."""
    peers = {"torch-autograd": "torch autograd, ", "jax-jit": "jax.jit step, "}
    return (
        _fastest(results, "step", {"arraynet-buffered": "buffered, "}, net, dtype),
        _fastest(results, "step", peers, net, dtype),
    )


def _fits(results: list[Result]) -> list[str]:
    """Per iteration of whole fits, each (implementation, target), and the target to pick."""
    fits = [r for r in results if r.get("kind") == "fit"]
    columns = list(dict.fromkeys((r.get("implementation"), r.get("target")) for r in fits))
    with_jax = any(impl == "jax-jit-loop" for impl, _ in columns)
    header = ["net", "dtype"] + [f"{impl} ({target})" for impl, target in columns]
    header += (["arraynet (jax) / jax.jit loop"] if with_jax else []) + ["pick"]
    rows = []
    for net in dict.fromkeys(r.get("net") for r in fits):
        for dtype in ("float32", "float64"):
            row = [net, dtype]
            for impl, target in columns:
                r = _find(fits, net=net, dtype=dtype, implementation=impl, target=target)
                row.append(_time(None if r is None else r.median / r.get("iterations")) + ("" if r is None or impl != "arraynet-fit" else f" ({r.get('step')})"))
            ratio = _ratio(
                _find(fits, net=net, dtype=dtype, implementation="arraynet-fit", target="jax"),
                _find(fits, net=net, dtype=dtype, implementation="jax-jit-loop", target="jax"),
            )
            pick = _fastest(results, "fit", {"arraynet-fit": ""}, net, dtype, cpu_only=False)
            rows.append(row + ([_x(ratio)] if with_jax else []) + ["-" if pick is None else pick[0]])
    return _table(header, rows)


def _cold_fits(results: list[Result]) -> list[str]:
    """Whole fits from nothing (compilation included) of the planar net as num_iterations grows."""
    cold = [r for r in results if r.get("kind") == "fit-cold"]
    columns = list(dict.fromkeys((r.get("implementation"), r.get("target")) for r in cold))
    rows = []
    for n in sorted({r.get("iterations") for r in cold}):
        row = [str(n)]
        for impl, target in columns:
            r = _find(cold, iterations=n, implementation=impl, target=target)
            row.append(_time(None if r is None else r.median))
        rows.append(row)
    lines = _table(["num_iterations"] + [f"{impl} ({target})" for impl, target in columns], rows)
    compiled = sorted((r for r in cold if r.get("implementation") == "arraynet-compiled"), key=lambda r: r.get("iterations"))
    buffered = {r.get("iterations"): r.median for r in cold if r.get("implementation") == "arraynet-buffered"}
    steady = [_find(results, kind="fit", net="planar", dtype="float64", implementation="arraynet-fit", target=t) for t in ("jax", "numpy")]
    if compiled and all(r is not None for r in steady):
        wins = [r.get("iterations") for r in compiled if r.get("iterations") in buffered and r.median < buffered[r.get("iterations")]]
        jax_it, numpy_it = (r.median / r.get("iterations") for r in steady if r is not None)
        first = compiled[0].median - compiled[0].get("iterations") * jax_it  # what the compilation costs
        if wins:
            lines += [f"The compiled JAX fit beats NumPy's buffered one from num_iterations = {wins[0]} of these.", ""]
        elif numpy_it > jax_it:
            pays = first / (numpy_it - jax_it)
            note = (
                f"Compiling costs about {_time(first)} here; at {_time(jax_it)} against {_time(numpy_it)} per "
                f"iteration it pays from about {pays:,.0f} iterations."
            )
            lines += [note, ""]
    return lines


def _plots(results: list[Result], prefix: Path, speedups: list[tuple[str, float]]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []

    def legend_below(ax: Any, entries: int) -> None:
        """The legend under the bars, in columns, at the size of the axis labels: beside them it made
        the figure wide, and shrunk to a page's width its text was about 6 px high."""
        ax.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(3, entries), frameon=False)

    def save(fig: Any, suffix: str) -> None:
        path = prefix.with_name(f"{prefix.name}-{suffix}.png")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    if speedups:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(speedups) + 1.2))
        factors = [s[1] for s in speedups]
        # each bar from 1x (no speed-up) to its factor: rightwards and green when faster, leftwards and red when slower
        bars = ax.barh(
            [s[0] for s in speedups], [f - 1 for f in factors], left=1,
            color=["tab:green" if f >= 1 else "tab:red" for f in factors],
        )
        ax.bar_label(bars, labels=[f"{f:,.0f}x" if f >= 10 else f"{f:.2f}x" for f in factors], padding=3, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(min(1, *factors) / 2, 3 * max(1, *factors))
        ax.axvline(1, color="gray", linewidth=1)
        ax.set_xlabel("speed-up of the vectorized code over the loop (median / median, log scale)")
        ax.invert_yaxis()
        save(fig, "vectorization")

    steps = [r for r in results if r.get("kind") == "step" and r.get("implementation") != "loops"]
    if steps:
        groups = list(dict.fromkeys((r.get("net"), r.get("dtype")) for r in steps))
        series = list(dict.fromkeys((r.get("implementation"), r.get("target")) for r in steps))
        def grouped_bars(value: Any) -> Any:
            """One bar per (implementation, target) in each (net, dtype) group: ``value(result)``, none
            where that is None."""
            fig, ax = plt.subplots(figsize=(min(10, max(6, 1.3 * len(groups))), 4.5))
            width = 0.8 / len(series)
            for i, (impl, target) in enumerate(series):
                xs, ys = [], []
                for j, (net, dtype) in enumerate(groups):
                    r = _find(steps, net=net, dtype=dtype, implementation=impl, target=target)
                    y = None if r is None else value(r)
                    if y is not None:
                        xs.append(j + i * width)
                        ys.append(y)
                ax.bar(xs, ys, width, label=f"{impl} ({target})")
            ax.set_xticks([j + 0.4 - width / 2 for j in range(len(groups))], [f"{n}\n{d}" for n, d in groups])
            return fig, ax

        fig, ax = grouped_bars(lambda r: r.median * 1e3)
        ax.set_yscale("log")
        ax.set_ylabel("median time of one training step (ms, log scale)")
        legend_below(ax, len(series))
        save(fig, "steps")

        gemms = [r for r in results if r.get("kind") == "gemm" and r.gflops is not None]  # with flops recorded
        peaks = {(r.get("target"), r.get("dtype")): r.gflops for r in gemms}
        if peaks:
            fig, ax = grouped_bars(lambda r: r.gflops)
            for (target, dtype), peak in peaks.items():
                ax.axhline(peak, linestyle="--", linewidth=1, color="gray")
                ax.annotate(
                    f"GEMM peak {target} {dtype}",
                    (len(groups) - 0.5, peak),
                    fontsize=7,
                    ha="right",
                    va="bottom",
                )
            ax.set_ylabel("GFLOP/s of one training step (matrix products)")
            legend_below(ax, len(series))
            save(fig, "gflops")

    for kind, key, label in (("sweep-m", "m", "examples m"), ("sweep-width", "hidden", "hidden units")):
        sweep = [r for r in results if r.get("kind") == kind]
        if not sweep:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        for target in dict.fromkeys(r.get("target") for r in sweep):
            points = sorted((r.get(key), r.median) for r in sweep if r.get("target") == target)
            ax.plot(
                [p[0] for p in points],
                [p[1] * 1e3 for p in points],
                marker="o",
                label=target,
                linestyle="--" if _is_gpu(target) else "-",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("median step time (ms)")
        ax.set_title(f"arraynet step, float32: {kind}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
        save(fig, kind)
    return written


def write_report(json_path: str | os.PathLike[str], output: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<stem>.md`` and ``<stem>-*.png`` next to ``json_path`` (or in ``output``) from the
    suite's pytest-benchmark JSON; returns the Markdown file's path."""
    json_path = Path(json_path)
    machine, results = load_results(json_path)
    folder = Path(output) if output is not None else json_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    prefix = folder / json_path.stem

    vectorization, speedups = _vectorization(results)
    lines = [f"# arraynet benchmarks: {json_path.stem}", ""]
    lines += [
        "Medians of one run of `benchmarks/` (pytest-benchmark); every ratio divides two medians of",
        f"this run. Raw data: `{json_path.name}`.",
        "",
    ]
    lines += _machine_lines(machine)
    lines += ["## Targets", ""] + _targets(results)
    lines += ["## Loops vs vectorized", ""] + vectorization
    lines += [
        "## One training step (forward, backward, update)",
        "",
        "arraynet's vectorized kernel on each target, the hand-written NumPy floor, PyTorch autograd",
        "with `torch.optim.SGD`, and the loops (small case only). Ratios below 1 mean arraynet is faster.",
        "",
    ]
    lines += _steps(results)
    lines += [
        "## GFLOP/s against the GEMM peak",
        "",
        "FLOPs count a step's matrix products (2 n_l n_(l-1) m each: forward, dW and, above layer 1, dA);",
        "the peak is an n x n matrix product on the same target in the same run.",
        "",
    ]
    lines += _gflops(results)
    lines += [
        "## Peak memory of a step",
        "",
        "Peak: tracemalloc on NumPy, CuPy's pool or PyTorch's CUDA allocator on a GPU (PyTorch CPU",
        "tensors are invisible to tracemalloc), inputs included. Minimum: data, parameters,",
        "gradients and the cached Z and A of every layer.",
        "",
    ]
    lines += _memory(results)
    lines += [
        "## Whole fits, per iteration",
        "",
        "Median time of a whole `fit` (a new model: its initialization and input checks included), of",
        "the JAX user's loop around one `jax.jit` step (from parameters it initializes), or of a PyTorch",
        "user's whole training (the `torch.nn` network built, then autograd steps), divided by its",
        "iterations, after a first call that compiles; in brackets the step `fit` chose. \"pick\" is",
        "the fastest arraynet target (a GPU one too) for that net and dtype in this run.",
        "",
    ]
    lines += _fits(results)
    lines += [
        "## Where compiling pays",
        "",
        "The planar net in float64, whole fits from nothing (a new model, on JAX no compiled code kept),",
        "compilation included, as num_iterations grows.",
        "",
    ]
    lines += _cold_fits(results)
    for kind, key, title in (
        ("sweep-m", "m", "Sweep of m"),
        ("sweep-width", "hidden", "Sweep of the hidden width"),
    ):
        table, note = _sweep(results, kind, key)
        lines += [f"## {title}", ""] + table + [note, ""]
    plots = _plots(results, prefix, speedups)
    if plots:
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots] + [""]
    report = prefix.with_suffix(".md")
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines))
    return report
