"""The benchmark report: ratios of medians of one run, the issue's targets judged from them, plots
written, and a clear error for a file that is not the suite's JSON."""

from __future__ import annotations

import json

import pytest

from arraynet.cli.benchreport import load_results, write_report


def entry(median: float, **info) -> dict:
    return {
        "name": f"test[{info.get('target')}-{info.get('implementation')}]",
        "group": info.get("kind"),
        "extra_info": info,
        "stats": {"median": median, "iqr": median / 10, "rounds": 5},
    }


def step(median, implementation, target, net="wide", dtype="float32", **extra):
    return entry(
        median,
        kind="step",
        implementation=implementation,
        target=target,
        net=net,
        dtype=dtype,
        m=8192,
        flops=int(2e10),
        **extra,
    )


def suite_json(tmp_path, benchmarks) -> str:
    path = tmp_path / "cpu-test.json"
    machine = {
        "arraynet_bench": {
            "date": "2026-01-01",
            "cpu_model": "Test CPU",
            "cpu_count": 2,
            "gpus": [],
            "versions": {"numpy": "2"},
            "size": "full",
            "targets": ["numpy", "torch-cpu"],
        }
    }
    path.write_text(json.dumps({"machine_info": machine, "benchmarks": benchmarks}))
    return str(path)


def test_the_report_divides_medians_of_the_run_and_judges_the_targets(tmp_path):
    path = suite_json(
        tmp_path,
        [
            step(0.21, "arraynet", "numpy", peak_bytes=300 * 2**20, min_bytes=200 * 2**20),
            step(0.20, "numpy-hand", "numpy"),
            step(0.30, "torch-autograd", "torch-cpu"),
            step(0.25, "arraynet", "torch-cpu"),
            step(0.31, "arraynet-buffered", "torch-cpu"),
            entry(
                0.1,
                kind="gemm",
                implementation="matmul",
                target="numpy",
                dtype="float32",
                n=2048,
                flops=int(1.2e11),
            ),
            entry(
                2.0,
                kind="dot",
                implementation="loop",
                target="numpy",
                dtype="float64",
                n=10**6,
                flops=2 * 10**6,
            ),
            entry(
                0.001,
                kind="dot",
                implementation="vectorized",
                target="numpy",
                dtype="float64",
                n=10**6,
                flops=2 * 10**6,
            ),
        ],
    )
    report = write_report(path).read_text()

    assert "wide float32: arraynet (numpy) / hand-written NumPy: 1.05 (met; target <= 1.05)" in report
    assert "wide float32: arraynet (numpy) / PyTorch autograd (CPU): 0.70 (met; target <= 1.0)" in report
    assert "wide float32: arraynet (torch-cpu) / PyTorch autograd (CPU): 0.83 (met; target <= 1.0)" in report
    buffered = "wide float32: arraynet-buffered (torch-cpu) / PyTorch autograd (CPU): 1.03 (MISSED; target <= 1.0)"
    assert buffered in report
    # 2e10 flops in 0.21 s is 95.2 GFLOP/s; 1.2e11 in 0.1 s is 1200: 8% of peak, a miss
    assert "arraynet (numpy) GFLOP/s / GEMM peak (numpy): 0.08 (MISSED; target >= 0.8)" in report
    assert "| dot product, n = 1000000 (numpy) | 2 s | 1 ms | 2,000x |" in report
    assert "| wide | float32 | arraynet (numpy) | 300.00 | 200.00 | 1.50x |" in report
    assert "cat float32: arraynet (numpy) / hand-written NumPy: not measured in this run" in report
    assert "Test CPU, 2 logical cores" in report
    for plot in ("vectorization", "steps", "gflops"):
        assert (tmp_path / f"cpu-test-{plot}.png").stat().st_size > 1000
        assert f"cpu-test-{plot}.png" in report


@pytest.mark.parametrize("without_flops", ["step", "gemm"])
def test_a_result_without_flops_has_no_gflops_and_the_rest_of_the_report_stands(tmp_path, without_flops):
    """GFLOP/s need the flops a benchmark records: a step or a GEMM peak without them is left out of
    the GFLOP/s table and plot, and the peak target is not measured, instead of failing the report."""
    arraynet_step = step(0.21, "arraynet", "numpy")
    gemm = entry(0.1, kind="gemm", implementation="matmul", target="numpy", dtype="float32", n=2048, flops=int(1.2e11))
    del (arraynet_step if without_flops == "step" else gemm)["extra_info"]["flops"]
    report = write_report(suite_json(tmp_path, [arraynet_step, step(0.20, "numpy-hand", "numpy"), gemm])).read_text()

    assert "wide float32: arraynet (numpy) / hand-written NumPy: 1.05 (met; target <= 1.05)" in report
    assert "wide float32: arraynet (numpy) GFLOP/s / GEMM peak (numpy): not measured in this run" in report
    assert "| wide | float32 | arraynet (numpy) | " not in report  # no GFLOP/s row of the step without flops
    # the other step (2e10 flops in 0.2 s) is read against the peak when the GEMM has its flops
    assert ("| wide | float32 | numpy-hand (numpy) | 100.0 | 1200.0 | 8% |" in report) == (without_flops == "step")
    assert (tmp_path / "cpu-test-steps.png").stat().st_size > 1000
    assert (tmp_path / "cpu-test-gflops.png").exists() == (without_flops == "step")


def test_a_file_that_is_not_the_suites_json_is_refused(tmp_path):
    foreign = tmp_path / "other.json"
    foreign.write_text(json.dumps({"something": 1}))
    with pytest.raises(ValueError, match="not a pytest-benchmark JSON"):
        load_results(foreign)
    empty = tmp_path / "empty.json"
    empty.write_text(
        json.dumps({"machine_info": {}, "benchmarks": [{"name": "x", "extra_info": {}, "stats": {}}]})
    )
    with pytest.raises(ValueError, match="no results of arraynet's benchmark suite"):
        load_results(empty)


def test_bench_outside_a_source_checkout_says_where_the_suite_is(tmp_path, monkeypatch, capsys):
    from arraynet.cli import bench, main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench, "__file__", str(tmp_path / "site-packages" / "arraynet" / "cli" / "bench.py"))
    assert main(["bench", "--smoke", "--output", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert (
        "source checkout" in error and "benchmarks/" in error and "\n" == error[-1] and error.count("\n") == 1
    )


def test_bench_refuses_unknown_backends_and_thread_counts(capsys):
    from arraynet.cli import main

    for argv in (["bench", "--backends", "numpy,tpu"], ["bench", "--threads", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert "tpu" in capsys.readouterr().err


def test_a_speed_up_below_one_is_drawn_as_a_bar_to_the_left_of_one(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from arraynet.cli import benchreport

    figures = []
    savefig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *args, **kwargs: figures.append(self) or savefig(self, *args, **kwargs))
    benchreport._plots([], tmp_path / "r", [("loop vs vectorized", 400.0), ("slower", 0.5)])
    (axes,) = figures[0].axes
    spans = sorted((patch.get_x(), patch.get_x() + patch.get_width()) for patch in axes.patches)
    assert spans == [(0.5, 1.0), (1.0, 400.0)] or spans == [(1.0, 0.5), (1.0, 400.0)]
    low, high = axes.get_xlim()
    assert low < 0.5 and high > 400


def test_whole_trainings_are_judged_against_whole_trainings_and_steps_against_steps(tmp_path):
    def fit(median, implementation, target, iterations=10):
        return entry(
            median, kind="fit", implementation=implementation, target=target, net="cat", dtype="float64",
            iterations=iterations, step="buffered",
        )

    path = suite_json(
        tmp_path,
        [
            fit(0.50, "arraynet-fit", "numpy"),
            fit(0.40, "arraynet-fit", "torch-cpu"),
            fit(0.05, "arraynet-fit", "torch-cuda"),  # a GPU: not in the CPU targets
            fit(0.41, "torch-autograd-loop", "torch-cpu"),
            fit(0.50, "jax-jit-loop", "jax"),
            step(0.044, "arraynet-buffered", "torch-cpu", net="cat", dtype="float64"),
            step(0.039, "arraynet", "torch-cpu", net="cat", dtype="float64"),  # not the step fit runs
            step(0.040, "torch-autograd", "torch-cpu", net="cat", dtype="float64"),
        ],
    )
    report = write_report(path).read_text()
    assert (
        "cat float64: the best arraynet (torch-cpu) / the best peer (torch autograd loop, torch-cpu), "
        "whole trainings, per iteration: 0.98 (met; target <= 1.0)"
    ) in report
    assert (
        "cat float64: the best arraynet (buffered, torch-cpu) / the best peer (torch autograd, torch-cpu), "
        "steady state, per step: 1.10 (MISSED; target <= 1.0)"
    ) in report
    # the pick is the fastest target, a GPU one too; the targets above compare CPU with CPU
    assert "| cat | float64 | 50 ms (buffered) | 40 ms (buffered) | 5 ms (buffered) | 41 ms | 50 ms | - | torch-cuda |" in report
