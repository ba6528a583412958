"""The command line end to end: ``python -m arraynet ...`` in a subprocess on files the tests
write, exit codes, one-line errors; quick error cases call ``main`` in-process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name
from arraynet.cli import main

from .conftest import TEST_DEVICES

X_MOONS, Y_MOONS = arraynet.load_moons(m=200, seed=0)
X_TEST, Y_TEST = arraynet.load_moons(m=100, seed=1)
NETWORK = ["--hidden", "6", "--activation", "tanh", "--learning-rate", "1.0", "--iterations", "300", "--record-every", "100"]


def arraynet_cli(*args, cwd=None, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "arraynet", *map(str, args)],
        check=False,  # the return code is the test's to check
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def percent(text, label):
    return float(re.search(rf"{label}: ([0-9.]+)%", text).group(1))


def write_csv(path, X, Y=None, header=None):
    columns = X if Y is None else np.vstack([X, Y])
    np.savetxt(path, columns.T, delimiter=",", header=header or "", comments="")
    return path


@pytest.fixture
def moons(tmp_path):
    np.savez(tmp_path / "train.npz", X=X_MOONS, Y=Y_MOONS)
    write_csv(tmp_path / "test.csv", X_TEST, Y_TEST, header="x1,x2,label")
    return tmp_path


def test_train_evaluate_predict_round_trip(moons):
    trained = arraynet_cli("train", moons / "train.npz", "--test", moons / "test.csv", *NETWORK, "-o", moons / "m.npz")
    assert "cost after iteration 0:" in trained.stdout and "cost after iteration 299:" in trained.stdout
    train_accuracy, test_accuracy = percent(trained.stdout, "train accuracy"), percent(trained.stdout, "test accuracy")
    assert train_accuracy > 80 and test_accuracy > 80
    model = arraynet.load(moons / "m.npz")
    assert model.layer_dims == [2, 6, 1] and [g.name for g in model.activations] == ["tanh", "sigmoid"]
    assert train_accuracy == pytest.approx(100 * model.accuracy(X_MOONS, Y_MOONS), abs=0.005)

    evaluated = arraynet_cli("evaluate", moons / "m.npz", moons / "test.csv")
    assert percent(evaluated.stdout, "accuracy") == test_accuracy
    cost = float(re.search(r"cost: ([0-9.]+)", evaluated.stdout).group(1))
    assert cost == pytest.approx(model.cost(X_TEST, Y_TEST), abs=1e-6)

    expected = model.predict(X_TEST)[0]
    arraynet_cli("predict", moons / "m.npz", moons / "test.csv", "--label-column", "label", "-o", moons / "p.npz")
    with np.load(moons / "p.npz") as saved:
        np.testing.assert_array_equal(saved["predictions"], [expected])
        np.testing.assert_array_equal(saved["probabilities"], model.predict_proba(X_TEST))
    write_csv(moons / "unlabelled.csv", X_TEST)  # no label column: every column a feature
    arraynet_cli("predict", moons / "m.npz", moons / "unlabelled.csv", "-o", moons / "p.csv")
    table = np.loadtxt(moons / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 0], expected)
    np.testing.assert_allclose(table[:, 1], model.predict_proba(X_TEST)[0], rtol=1e-12)
    printed = arraynet_cli("predict", moons / "m.npz", moons / "test.csv", "--label-column", "-1").stdout  # to stdout
    assert printed == (moons / "p.csv").read_text()


@pytest.fixture
def saved_model(tmp_path):
    model = arraynet.NeuralNetwork([2, 3, 1], hidden_activation="tanh", seed=0)
    model.fit(X_TEST, Y_TEST, learning_rate=1.0, num_iterations=100)
    return model, model.save(tmp_path / "m.npz")


def test_predict_leaves_out_the_label_column_it_is_given_by_name_or_index(saved_model, tmp_path, capsys):
    model, path = saved_model
    write_csv(tmp_path / "first.csv", np.vstack([Y_TEST, X_TEST]), header="y,x1,x2")  # the label column first
    for label_column in ("y", "0", "-3"):
        assert main(["predict", str(path), str(tmp_path / "first.csv"), "--label-column", label_column]) == 0
        table = np.loadtxt(capsys.readouterr().out.splitlines()[1:], delimiter=",")
        np.testing.assert_array_equal(table[:, 0], model.predict(X_TEST)[0])


def test_predict_refuses_a_csv_whose_columns_do_not_match_the_model(saved_model, tmp_path, capsys):
    """Never a guess: one column too many (labels, or a feature the model lacks) needs --label-column."""
    _, path = saved_model
    write_csv(tmp_path / "first.csv", np.vstack([Y_TEST, X_TEST]), header="y,x1,x2")
    assert error_of(capsys, "predict", path, tmp_path / "first.csv") == (
        f"arraynet: error: data file {tmp_path / 'first.csv'} has 3 columns and the model takes n_x = 2 features: "
        f"it needs 2, or 3 with --label-column naming the label column (an index or a header name)"
    )
    write_csv(tmp_path / "x.csv", X_TEST)
    assert error_of(capsys, "predict", path, tmp_path / "x.csv", "--label-column", "-1") == (
        f"arraynet: error: data file {tmp_path / 'x.csv'} has 2 columns and the model takes n_x = 2 features: "
        f"with --label-column -1 it needs n_x + 1 = 3"
    )
    write_csv(tmp_path / "one.csv", X_TEST[:1])
    assert "has 1 columns and the model takes n_x = 2 features: it needs 2" in error_of(capsys, "predict", path, tmp_path / "one.csv")


def test_train_on_a_course_h5_image_set_with_logistic_regression_in_float32(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=60)
    images = rng.integers(0, 128, size=(60, 4, 4, 3)) + 127 * labels[:, None, None, None]  # class 1 brighter
    with h5py.File(tmp_path / "cats.h5", "w") as file:
        file["train_set_x"], file["train_set_y"] = images[:40].astype(np.uint8), labels[:40]
        file["test_set_x"], file["test_set_y"] = images[40:].astype(np.uint8), labels[None, 40:]
    out = arraynet_cli(
        "train", tmp_path / "cats.h5", "--test", tmp_path / "cats.h5", "--model", "logistic", "--dtype", "float32",
        "--learning-rate", "0.05", "--iterations", "200", "-o", tmp_path / "lr.npz",
    ).stdout
    assert "cost after iteration 199:" in out
    assert "(m = 40)" in out and "(m = 20)" in out
    assert percent(out, "test accuracy") >= 90
    model = arraynet.load(tmp_path / "lr.npz")
    assert isinstance(model, arraynet.LogisticRegression) and model.get_parameters()["w"].shape == (48, 1)
    assert model.get_parameters()["w"].dtype == np.float32
    assert percent(arraynet_cli("evaluate", tmp_path / "lr.npz", tmp_path / "cats.h5").stdout, "accuracy") == percent(out, "test accuracy")


def test_train_on_each_backend_trains_as_numpy_does(moons, xp):
    name = backend_name(xp)
    placement = ["--backend", name] + (["--device", TEST_DEVICES[name]] if name in TEST_DEVICES else [])
    out = arraynet_cli("train", moons / "train.npz", *NETWORK, *placement, "-o", moons / "m.npz").stdout
    reference = arraynet.NeuralNetwork([2, 6, 1], hidden_activation="tanh", seed=1)
    reference.fit(X_MOONS, Y_MOONS, learning_rate=1.0, num_iterations=300)
    assert f"backend {name}" in out
    assert percent(out, "train accuracy") == pytest.approx(100 * reference.accuracy(X_MOONS, Y_MOONS), abs=0.005)


def test_sweep_of_hidden_sizes_prints_a_row_each_and_plots(moons):
    pytest.importorskip("matplotlib")
    out = arraynet_cli(
        "sweep", moons / "train.npz", "--test", moons / "test.csv", "--hidden-sizes", "1,3,6", "--activation", "tanh",
        "--learning-rate", "1.0", "--iterations", "200", "--plot", moons / "sweep.png",
    ).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["hidden", "units", "final", "cost", "train", "acc", "test", "acc", "seconds"]
    rows = [line.split() for line in lines[1:4]]
    assert [row[0] for row in rows] == ["1", "3", "6"]
    assert all(0 < float(row[1]) < 1 and row[2].endswith("%") and row[3].endswith("%") for row in rows)
    assert (moons / "sweep.png").read_bytes()[:4] == b"\x89PNG" and (moons / "sweep.png").stat().st_size > 5000


def test_sweep_of_learning_rates_reports_a_diverging_rate_and_goes_on(moons, capsys):
    """In-process: a learning rate of 1e308 overflows the update; the sweep reports it and goes on."""
    code = main(["sweep", str(moons / "train.npz"), "--learning-rates", "1e308,0.5", "--hidden", "3", "--iterations", "50"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[1].split()[:3] == ["1e+308", "diverged", "at"]
    assert out[2].split()[0] == "0.5" and out[2].endswith(tuple("0123456789"))


def test_demo_writes_its_plots(tmp_path):
    pytest.importorskip("matplotlib")
    out = arraynet_cli("demo", "--iterations", "200", "--plot", tmp_path / "plots").stdout
    assert "accuracy:" in out
    for name in ("cost.png", "decision_boundary.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 5000


@pytest.mark.parametrize("command", ["demo", "train", "evaluate", "predict", "sweep"])
def test_help_of_each_command(command):
    out = arraynet_cli(command, "--help").stdout
    assert out.startswith(f"usage: arraynet {command}")


def test_an_error_is_one_line_and_exit_1_with_a_traceback_only_under_debug(tmp_path):
    result = arraynet_cli("train", tmp_path / "missing.csv", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"arraynet: error: data file {tmp_path / 'missing.csv'} does not exist"]
    assert result.stdout == ""
    debug = arraynet_cli("--debug", "train", tmp_path / "missing.csv", check=False)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "FileNotFoundError" in debug.stderr


def test_a_bad_option_is_a_usage_error(tmp_path):
    result = arraynet_cli("train", tmp_path / "d.csv", "--hidden", "4,x", check=False)
    assert result.returncode == 2 and "argument --hidden: expected integers separated by commas" in result.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--hidden", ""], "argument --hidden: expected at least one size"),
        (["train", "--activations", " , "], "argument --activations: expected at least one name"),
        (["train", "--activations", "tanh,sigmoid", "--activation", "relu"], "argument --activation: not allowed with argument --activations"),
        (["sweep", "--hidden-sizes", "2,4", "--hidden", "7"], "argument --hidden: not allowed with argument --hidden-sizes"),
        (["sweep", "--learning-rates", "0.1,1", "--learning-rate", "2"], "argument --learning-rate: not allowed with argument --learning-rates"),
        (["sweep", "--hidden-sizes", ""], "argument --hidden-sizes: expected at least one size"),
        (["train", "--learning-rate", "-1"], "argument --learning-rate: expected a finite number > 0; got '-1'"),
        (["train", "--learning-rate", "nan"], "argument --learning-rate: expected a finite number > 0; got 'nan'"),
        (["train", "--learning-rate", "inf"], "argument --learning-rate: expected a finite number > 0; got 'inf'"),
        (["train", "--iterations", "-5"], "argument --iterations: expected an integer >= 0; got '-5'"),
        (["train", "--record-every", "0"], "argument --record-every: expected an integer >= 1; got '0'"),
        (["train", "--seed", "-1"], "argument --seed: expected an integer >= 0; got '-1'"),
        (["train", "--hidden", "4,,4"], "argument --hidden: an empty value between commas in '4,,4'"),
        (["train", "--activations", "tanh,sigmoid", "--hidden", "4,4"], "argument --activations: 2 names for the 3 layers"),
        (["train", "--activations", "tanh,swish"], "argument --activations: unknown activation 'swish'; choose from sigmoid, tanh"),
        (["train", "--activations", "tanh,relu"], "argument --activations: the output layer's must be sigmoid"),
        (["train", "--model", "logistic", "--hidden", "4"], "--hidden describe a network's layers; they do not apply to --model logistic"),
        (["sweep", "--hidden-sizes", "2", "--model", "logistic"], "argument --hidden-sizes: sweeps a network's hidden layer"),
        (["sweep", "--learning-rates", "0.1,-1"], "argument --learning-rates: expected finite numbers > 0 separated by commas"),
        (["sweep", "--learning-rates", "0.1,,1"], "argument --learning-rates: expected finite numbers > 0 separated by commas"),
        (["train", "--label-column", "2"], "argument --label-column: only a CSV file has a label column"),
        (["demo", "--iterations", "-1"], "argument --iterations: expected an integer >= 0"),
        (["train", "--threads", "100000"], "argument --threads: expected at most the"),
        (["train", "--init", "zeros"], "argument --init: zeros would make every hidden unit compute the same function"),
        (["train", "--x-key", "Y"], "arguments --x-key and --y-key name the same array 'Y'"),
        (["train", "--delimiter", ";"], "argument --delimiter: only a CSV file has a delimiter"),
        (["train", "--split", "test"], "argument --split: only an HDF5 file has splits"),
        (["train", "--activations", "relu,sigmoid,"], "argument --activations: an empty value between commas"),
        (["train", "--optimizer", "momentum", "--beta1", "0.8"], "argument --beta1: applies to --optimizer adam, not to --optimizer momentum"),
        (["train", "--beta", "0.8"], "argument --beta: applies to --optimizer momentum, not to --optimizer gd (the default)"),
        (["train", "--optimizer", "gd", "--epsilon", "1e-6"], "argument --epsilon: applies to --optimizer rmsprop or adam, not to --optimizer gd"),
        (["train", "--optimizer", "rmsprop", "--beta", "0.5"], "argument --beta: applies to --optimizer momentum, not to --optimizer rmsprop"),
        (["sweep", "--optimizers", "gd,momentum", "--beta2", "0.9"], "argument --beta2: applies to --optimizer rmsprop or adam, not to --optimizers gd,momentum"),
        (["train", "--optimizer", "sgd"], "argument --optimizer: invalid choice: 'sgd'"),
        (["sweep", "--optimizers", "gd,sgd"], "argument --optimizers: unknown optimizer 'sgd'; choose from gd, momentum, rmsprop, adam"),
        (["sweep", "--optimizers", "gd,adam", "--optimizer", "adam"], "argument --optimizer: not allowed with argument --optimizers"),
        (["sweep", "--batch-sizes", "32,64", "--batch-size", "8"], "argument --batch-size: not allowed with argument --batch-sizes"),
        (["sweep", "--batch-sizes", "32,0"], "argument --batch-sizes: sizes must be >= 1"),
        (["train", "--batch-size", "32", "--iterations", "10"],
         "argument --iterations: not allowed with argument --batch-size: mini-batch training counts passes over the data, give --epochs"),
        (["sweep", "--batch-sizes", "32,64", "--iterations", "10"], "argument --iterations: not allowed with argument --batch-sizes"),
        (["train", "--epochs", "3", "--iterations", "10"], "argument --iterations: not allowed with argument --epochs"),
        (["train", "--no-shuffle"], "argument --no-shuffle: only mini-batches are shuffled (one batch of all m examples never is); give --batch-size"),
        (["train", "--decay-interval", "2"], "argument --decay-interval: needs --decay-rate R"),
        (["train", "--batch-size", "0"], "argument --batch-size: expected an integer >= 1; got '0'"),
        (["train", "--beta", "1"], "argument --beta: expected a number in [0, 1), e.g. 0.9; got '1'"),
        (["train", "--beta2", "nan"], "argument --beta2: expected a number in [0, 1), e.g. 0.9; got 'nan'"),
        (["train", "--epsilon", "0"], "argument --epsilon: expected a finite number > 0; got '0'"),
        (["train", "--decay-rate", "-1"], "argument --decay-rate: expected a finite number >= 0, e.g. 1; got '-1'"),
    ],
    ids=[
        "empty hidden", "empty activations", "activation and activations", "hidden-sizes and hidden", "rates and rate",
        "empty sizes", "negative rate", "nan rate", "inf rate", "negative iterations", "record every 0", "negative seed",
        "empty size", "activations count", "unknown activation", "output not sigmoid", "logistic with hidden",
        "logistic sweep of sizes", "negative rate in a list", "empty rate in a list", "label column of an npz", "demo",
        "threads above the cores", "zeros init of a network", "x-key is y-key", "delimiter of an npz", "split of an npz",
        "trailing comma in activations", "beta1 of momentum", "beta of gd", "epsilon of gd", "beta of rmsprop",
        "beta2 of a sweep of neither", "unknown optimizer", "unknown optimizer in a sweep", "optimizer and optimizers",
        "batch-size and batch-sizes", "batch size 0 in a sweep", "iterations of mini-batches", "iterations of a sweep of batch sizes",
        "epochs and iterations", "no-shuffle of one batch", "decay-interval without a rate", "batch size 0", "beta 1",
        "beta2 nan", "epsilon 0", "negative decay rate",
    ],
)
def test_options_that_conflict_or_are_empty_are_usage_errors(tmp_path, capsys, argv, message):
    """Never one option silently dropped for another, no bad value found after the data is read:
    exit 2 with the usage line before any data is read (the data file here does not exist)."""
    with pytest.raises(SystemExit) as exited:
        main([argv[0], *([] if argv[0] == "demo" else [str(tmp_path / "none.npz")]), *argv[1:]])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"arraynet {argv[0]}: error: {message}")


@pytest.fixture
def flower(tmp_path):
    X, Y = arraynet.load_flower()
    np.savez(tmp_path / "flower.npz", X=X, Y=Y)
    return tmp_path / "flower.npz"


FLOWER_NETWORK = ["--hidden", "6", "--activation", "tanh", "--learning-rate", "0.05"]


def flower_network():
    return arraynet.NeuralNetwork([2, 6, 1], hidden_activation="tanh", seed=1)


def test_adam_on_mini_batches_learns_the_flower_in_ten_epochs_and_saves_what_python_trains(flower):
    """Epochs, not iterations, in the output; every epoch's cost (the default in mini-batch
    training); the saved model is the one fit trains with the same arguments and seed."""
    out = arraynet_cli("train", flower, *FLOWER_NETWORK, "--optimizer", "adam", "--batch-size", "32", "--epochs", "10", "-o", flower.parent / "a.npz").stdout
    lines = out.splitlines()
    assert lines[0].endswith("float64; Adam(beta1=0.9, beta2=0.999, epsilon=1e-08), mini-batches of 32")
    assert [line.split(":")[0] for line in lines[1:11]] == [f"cost after epoch {e}" for e in range(10)]
    assert "iteration" not in out and percent(out, "train accuracy") > 85
    model = flower_network()
    model.fit(*arraynet.load_flower(), learning_rate=0.05, optimizer="adam", batch_size=32, epochs=10)
    np.testing.assert_array_equal(arraynet.load(flower.parent / "a.npz").predict_proba(arraynet.load_flower()[0]), model.predict_proba(arraynet.load_flower()[0]))
    plain = arraynet_cli("train", flower, *FLOWER_NETWORK, "--epochs", "10", "-o", flower.parent / "g.npz").stdout  # 10 updates on all m
    assert "cost after iteration 9:" in plain and percent(plain, "train accuracy") < 75


@pytest.mark.parametrize(
    "base, option, training",
    [
        (["--epochs", "5"], ["--batch-size", "50"], {"batch_size": 50, "epochs": 5}),
        (["--batch-size", "50", "--epochs", "3"], ["--no-shuffle"], {"batch_size": 50, "epochs": 3, "shuffle": False}),
        (["--batch-size", "50", "--epochs", "3"], ["--optimizer", "momentum"], {"batch_size": 50, "epochs": 3, "optimizer": "momentum"}),
        (["--batch-size", "50", "--epochs", "3", "--optimizer", "momentum"], ["--beta", "0.5"],
         {"batch_size": 50, "epochs": 3, "optimizer": arraynet.Momentum(beta=0.5)}),
        (["--epochs", "5"], ["--optimizer", "rmsprop"], {"epochs": 5, "optimizer": "rmsprop"}),
        (["--epochs", "5", "--optimizer", "rmsprop"], ["--beta2", "0.9"], {"epochs": 5, "optimizer": arraynet.RMSprop(beta2=0.9)}),
        (["--epochs", "5", "--optimizer", "adam"], ["--beta1", "0.5"], {"epochs": 5, "optimizer": arraynet.Adam(beta1=0.5)}),
        (["--epochs", "5", "--optimizer", "adam"], ["--epsilon", "0.1"], {"epochs": 5, "optimizer": arraynet.Adam(epsilon=0.1)}),
        (["--batch-size", "50", "--epochs", "4"], ["--decay-rate", "1"], {"batch_size": 50, "epochs": 4, "decay": 1.0}),
        (["--batch-size", "50", "--epochs", "4", "--decay-rate", "1"], ["--decay-interval", "2"],
         {"batch_size": 50, "epochs": 4, "decay": arraynet.Decay(1.0, time_interval=2)}),
        (["--epochs", "5"], ["--decay-rate", "1"], {"epochs": 5, "decay": 1.0}),
        (["--batch-size", "50", "--epochs", "8"], ["--record-every", "3"], {"batch_size": 50, "epochs": 8, "record_every": 3}),
    ],
    ids=["batch-size", "no-shuffle", "optimizer", "beta", "rmsprop on all m", "beta2", "beta1", "epsilon", "decay-rate",
         "decay-interval", "decay of one batch", "record-every epochs"],
)
def test_each_training_option_changes_the_training_as_fit_does(moons, capsys, base, option, training):
    """The model saved is fit's with the same arguments and seed, bit for bit, and not the model
    trained without the option; the cost lines count what fit counts (its History.unit) at the
    epochs or iterations it records."""
    def train(*options):
        assert main(["train", str(moons / "train.npz"), "--learning-rate", "0.05", *options, "-o", str(moons / "m.npz")]) == 0
        return arraynet.load(moons / "m.npz").predict_proba(X_MOONS), capsys.readouterr().out

    without, _ = train(*base)
    proba, out = train(*base, *option)
    model = arraynet.NeuralNetwork([2, 4, 1], seed=1)
    history = model.fit(X_MOONS, Y_MOONS, 0.05, **training)
    np.testing.assert_array_equal(proba, model.predict_proba(X_MOONS))
    assert np.array_equal(proba, without) == (option[0] == "--record-every")  # which records, not what trains
    printed = [line.split(":")[0] for line in out.splitlines() if line.startswith("cost after")]
    assert printed == [f"cost after {history.unit} {i}" for i in history.iterations]


def test_epochs_without_a_batch_size_are_iterations_of_batch_gradient_descent(moons, capsys):
    def train(*options):
        assert main(["train", str(moons / "train.npz"), *options, "--quiet", "-o", str(moons / "m.npz")]) == 0
        return arraynet.load(moons / "m.npz").get_parameters()

    by_epochs, by_iterations = train("--epochs", "30"), train("--iterations", "30")
    for key, value in by_epochs.items():
        np.testing.assert_array_equal(value, by_iterations[key])


def test_a_sweep_over_optimizers_prints_a_row_each_and_plots_their_costs_per_epoch(flower):
    pytest.importorskip("matplotlib")
    out = arraynet_cli(
        "sweep", flower, "--optimizers", "gd,momentum,adam", "--batch-size", "32", "--epochs", "10", *FLOWER_NETWORK,
        "--plot", flower.parent / "optimizers.png",
    ).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["optimizer", "final", "cost", "train", "acc", "seconds"]
    rows = {line.split()[0]: line.split() for line in lines[1:4]}
    assert list(rows) == ["gd", "momentum", "adam"]
    assert float(rows["adam"][2].rstrip("%")) > 85 > float(rows["gd"][2].rstrip("%"))
    assert lines[4] == f"wrote {flower.parent / 'optimizers.png'}"
    assert (flower.parent / "optimizers.png").read_bytes()[:4] == b"\x89PNG" and (flower.parent / "optimizers.png").stat().st_size > 5000


def test_a_sweep_over_batch_sizes_trains_each_as_train_does(flower, capsys):
    assert main(["sweep", str(flower), "--batch-sizes", "16,400", "--optimizer", "adam", "--beta1", "0.8", "--epochs", "5", *FLOWER_NETWORK]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    X, Y = arraynet.load_flower()
    for row, batch_size in zip(rows, (16, 400), strict=True):
        model = flower_network()
        history = model.fit(X, Y, 0.05, optimizer=arraynet.Adam(beta1=0.8), batch_size=batch_size, epochs=5)
        assert row[:3] == [str(batch_size), f"{history.costs[-1]:.6f}", f"{100 * model.accuracy(X, Y):.2f}%"]


def test_a_sweep_whose_runs_all_diverge_says_so_by_epoch(moons, capsys):
    assert main(["sweep", str(moons / "train.npz"), "--batch-sizes", "50,100", "--learning-rate", "1e308", "--epochs", "3"]) == 1
    captured = capsys.readouterr()
    assert [line.split()[1:4] for line in captured.out.splitlines()[1:]] == [["diverged", "at", "epoch"]] * 2
    assert captured.err.splitlines()[-1] == "arraynet: error: every run of the sweep diverged: try a smaller --learning-rate than 1e+308"


def test_the_exit_codes_the_guide_documents(tmp_path, capsys):
    readme = (Path(__file__).parents[1] / "docs" / "guides" / "cli.md").read_text()
    documented = re.search(r"exits (\d) on success, (\d) on an\s+error.*?and (\d) on a usage error", readme, re.DOTALL)
    success, error, usage = map(int, documented.groups())
    assert main(["train", str(tmp_path / "none.csv")]) == error
    with pytest.raises(SystemExit) as exited:
        main(["train", str(tmp_path / "none.csv"), "--bogus"])
    assert exited.value.code == usage
    assert main(["info"]) == success


def error_of(capsys, *argv):
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err  # may also hold an INFO line, e.g. the backend "auto" chose
    errors = [line for line in err.splitlines() if line.startswith("arraynet: error: ")]
    assert len(errors) == 1 and "Traceback" not in err
    return errors[0]


def test_errors_name_the_problem(moons, capsys):
    write_csv(moons / "three.csv", X_MOONS, Y_MOONS * 0.5)
    assert "must be class labels: 0 and 1, whole numbers (0 to K) or names; got also 0.5" in error_of(capsys, "train", moons / "three.csv")
    (moons / "ragged.csv").write_text("1,2,0\n1,0\n")
    assert "line 2: 2 values" in error_of(capsys, "train", moons / "ragged.csv")
    assert "must end in one of .npz, .csv" in error_of(capsys, "train", moons / "train.json")
    (moons / "junk.npz").write_bytes(b"junk")
    assert "is not a readable .npz archive" in error_of(capsys, "evaluate", moons / "junk.npz", moons / "test.csv")
    assert "does not exist" in error_of(capsys, "predict", moons / "none.npz", moons / "test.csv")
    assert main(["train", str(moons / "train.npz"), "--iterations", "5", "--quiet", "-o", str(moons / "m.npz")]) == 0
    capsys.readouterr()
    assert "--output must end in .csv or .npz; got 'p.txt'" in error_of(capsys, "predict", moons / "m.npz", moons / "test.csv", "-o", moons / "p.txt")
    write_csv(moons / "wide.csv", np.vstack([X_MOONS, X_MOONS]), Y_MOONS)
    assert "wide.csv has 4 feature columns besides the label column; the model takes 2 features" in error_of(
        capsys, "evaluate", moons / "m.npz", moons / "wide.csv"
    )
    assert not (moons / "p.txt").exists()
    assert f"--output: the folder {moons / 'none'} does not exist" in error_of(
        capsys, "train", moons / "train.npz", "-o", moons / "none" / "m.npz"
    )


def test_train_checks_where_it_writes_before_training(moons, capsys, monkeypatch):
    """A bad -o or --plot is found before the training, not after it; nothing is written."""
    train = ["train", moons / "train.npz", "--iterations", "5"]
    (moons / "folder").mkdir()
    assert error_of(capsys, *train, "-o", moons / "folder") == (
        f"arraynet: error: --output {moons / 'folder'} is a folder: name the model file, e.g. {moons / 'folder' / 'model.npz'}"
    )
    (moons / "file").write_text("")
    assert error_of(capsys, *train, "--plot", moons / "file" / "plots", "-o", moons / "m.npz").startswith(
        f"arraynet: error: --plot: cannot make the folder {moons / 'file' / 'plots'}: "
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    assert error_of(capsys, *train, "--plot", moons / "plots", "-o", moons / "m.npz") == (
        'arraynet: error: --plot needs matplotlib: pip install "arraynet[plot]"'
    )
    assert main(["demo", "--iterations", "5", "--plot", str(moons / "plots")]) == 1
    assert capsys.readouterr().out == ""  # no training started
    assert not (moons / "m.npz").exists() and not (moons / "plots").exists()


def test_train_saves_the_model_before_the_plots_so_a_failing_plot_keeps_it(moons, capsys, monkeypatch):
    pytest.importorskip("matplotlib")

    def fail(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("arraynet.plots.plot_cost", fail)
    assert error_of(capsys, "train", moons / "train.npz", "--iterations", "5", "--plot", moons / "plots", "-o", moons / "m.npz") == (
        f"arraynet: error: the model was saved to {moons / 'm.npz'}, but writing the plots into {moons / 'plots'} failed: "
        "No space left on device"
    )
    assert arraynet.load(moons / "m.npz").layer_dims == [2, 4, 1]


def test_a_diverging_training_is_a_one_line_error(moons, capsys):
    err = error_of(capsys, "train", moons / "train.npz", "--learning-rate", "1e308", "--iterations", "5", "--record-every", "1")
    assert re.search(r"the cost became (nan|inf) at iteration 1 \(it is checked at the recorded iterations, every --record-every 1;", err)
    assert "Try a smaller --learning-rate than 1e+308" in err  # the option, not the Python argument


def test_quiet_turns_the_progress_bar_off_even_on_a_terminal(moons, capsys, monkeypatch):
    """Without --quiet a terminal gets the bar (tqdm, after its delay); with it, never."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(arraynet.models.progress, "DELAY", 0.0)
    train = ["train", str(moons / "train.npz"), "--iterations", "300", "-o", str(moons / "m.npz")]
    assert main(train) == 0
    assert "300/300" in capsys.readouterr().err  # tqdm's bar, at its end
    assert main([*train, "--quiet"]) == 0
    assert "300/300" not in capsys.readouterr().err


# -- the command line contract of 0.2.0 ------------------------------------------------------------
def test_an_output_that_is_one_of_the_inputs_is_refused_before_anything_is_written(moons, capsys):
    data = (moons / "train.npz").read_bytes()
    assert "is one of the input files: writing it would destroy them" in error_of(capsys, "train", moons / "train.npz", "-o", moons / "train.npz")
    assert "is one of the input files" in error_of(
        capsys, "train", moons / "train.npz", "--test", moons / "test.csv", "-o", moons / "test.csv"
    )
    assert main(["train", str(moons / "train.npz"), "--iterations", "5", "--quiet", "-o", str(moons / "m.npz")]) == 0
    csv = (moons / "test.csv").read_bytes()
    assert "is one of the input files" in error_of(capsys, "predict", moons / "m.npz", moons / "test.csv", "--label-column", "label", "-o", moons / "test.csv")
    assert "is one of the input files" in error_of(capsys, "predict", moons / "m.npz", moons / "test.csv", "--label-column", "label", "-o", moons / "m.npz")
    assert (moons / "train.npz").read_bytes() == data and (moons / "test.csv").read_bytes() == csv


@pytest.mark.parametrize("hidden", ["1000000000000", "100000000"])
def test_a_network_too_large_for_the_memory_is_one_line_before_anything_is_allocated(moons, capsys, hidden):
    error = error_of(capsys, "train", moons / "train.npz", "--hidden", hidden, "-o", moons / "m.npz")
    assert re.search(rf"the network 2-{hidden}-1 \(relu, sigmoid\) on m = 200 examples needs about [0-9.]+ [GTP]iB to train; "
                     r"this machine has [0-9.]+ [GMT]iB available: use fewer hidden units", error)
    assert not (moons / "m.npz").exists()


def test_quiet_prints_nothing_but_errors(moons):
    quiet = arraynet_cli("train", moons / "train.npz", "--iterations", "5", "--quiet", "-o", moons / "m.npz")
    assert quiet.stdout == "" and quiet.stderr == ""
    assert arraynet_cli("predict", moons / "m.npz", moons / "test.csv", "--label-column", "label", "-o", moons / "p.csv", "--quiet").stdout == ""
    failed = arraynet_cli("train", moons / "none.npz", "--quiet", check=False)
    assert failed.returncode == 1 and failed.stderr.startswith("arraynet: error: data file")


def test_the_backend_is_said_once_in_the_first_line(moons):
    result = arraynet_cli("train", moons / "train.npz", "--iterations", "5", "-o", moons / "m.npz")
    assert result.stderr == ""  # no separate log line about the backend
    first = result.stdout.splitlines()[0]
    name = arraynet.backends.backend_name(arraynet.backends.namespace_for_backend("auto"))
    assert f"backend {name}" in first
    if name == "numpy":
        assert "(auto: CuPy is not usable because" in first
    assert "backend" not in arraynet_cli("info").stderr


def test_the_cost_lines_reach_a_pipe_while_training_runs(moons):
    process = subprocess.Popen(
        [sys.executable, "-m", "arraynet", "train", str(moons / "train.npz"), "--iterations", "100000000", "--record-every", "50", "-o", str(moons / "m.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]  # blocks until they are written
        assert lines[0].startswith("arraynet ") and lines[1] == "cost after iteration 0: " + lines[1].split(": ")[1]
        assert lines[2].startswith("cost after iteration 50: ")
        assert process.poll() is None  # the training still runs
    finally:
        process.kill()
        process.communicate()


def test_ctrl_c_is_one_line_and_exit_130(moons):
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "arraynet", "train", str(moons / "train.npz"), "--iterations", "100000000", "--record-every", "50", "-o", str(moons / "m.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for _ in range(3):
        process.stdout.readline()  # iteration 50 reached
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert re.fullmatch(r"arraynet: interrupted at iteration \d+ \(the last recorded\)\n", err), err
    assert not (moons / "m.npz").exists()


def test_ctrl_c_in_mini_batch_training_names_the_epoch(moons):
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "arraynet", "train", str(moons / "train.npz"), "--batch-size", "1", "--epochs", "100000000", "-o", str(moons / "m.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for _ in range(3):
        process.stdout.readline()  # epoch 1 reached
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert re.fullmatch(r"arraynet: interrupted at epoch \d+ \(the last recorded\)\n", err), err


def test_the_delimiter_and_the_keys_of_an_npz_are_options(tmp_path):
    np.savetxt(tmp_path / "semi.csv", np.vstack([X_MOONS, Y_MOONS]).T, delimiter=";", header="a;b;y", comments="")
    np.savez(tmp_path / "keys.npz", features=X_MOONS, labels=Y_MOONS)
    by_csv = arraynet_cli("train", tmp_path / "semi.csv", "--delimiter", ";", "--iterations", "50", "-o", tmp_path / "a.npz").stdout
    by_npz = arraynet_cli("train", tmp_path / "keys.npz", "--x-key", "features", "--y-key", "labels", "--iterations", "50", "-o", tmp_path / "b.npz").stdout
    assert percent(by_csv, "train accuracy") == percent(by_npz, "train accuracy")
    evaluated = arraynet_cli("evaluate", tmp_path / "a.npz", tmp_path / "semi.csv", "--delimiter", ";").stdout
    assert percent(evaluated, "accuracy") == percent(by_csv, "train accuracy")


def test_a_label_column_of_words_is_two_named_classes(tmp_path, capsys):
    """Words are classes (issue 20): sorted, "no" learnt as 0 and "yes" as 1, named in the predictions."""
    (tmp_path / "words.csv").write_text("x1,x2,spam\n0.5,1.0,yes\n0.1,0.2,no\n")
    assert main(["train", str(tmp_path / "words.csv"), "--iterations", "5", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "network 2-4-1 (relu, sigmoid)" in out and "2 classes: no, yes" in out
    assert arraynet.load(tmp_path / "m.npz").class_names == ["no", "yes"]
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "words.csv"), "--label-column", "spam"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "prediction,probability" and {row.split(",")[0] for row in rows[1:]} <= {"no", "yes"}


def test_a_training_that_does_not_learn_is_not_silent(moons, capsys):
    scaled = np.vstack([X_MOONS[0] * 1e4, X_MOONS[1] * 1e-2])
    np.savez(moons / "scales.npz", X=scaled, Y=Y_MOONS)
    assert main(["train", str(moons / "scales.npz"), "--iterations", "5", "-o", str(moons / "m.npz")]) == 0
    err = capsys.readouterr().err
    assert "arraynet: warning: the features' scales differ by orders of magnitude (standard deviations from" in err
    assert "train with --standardize" in err
    assert main(["train", str(moons / "scales.npz"), "--iterations", "300", "--learning-rate", "1", "--standardize", "-o", str(moons / "s.npz")]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in err and percent(out, "train accuracy") > 80
    np.savez(moons / "scales-test.npz", X=np.vstack([X_TEST[0] * 1e4, X_TEST[1] * 1e-2]), Y=Y_TEST)
    assert main(["evaluate", str(moons / "s.npz"), str(moons / "scales-test.npz")]) == 0  # the scaling comes with the model
    assert percent(capsys.readouterr().out, "accuracy") > 80
    assert main(["train", str(moons / "train.npz"), "--iterations", "200", "--learning-rate", "30", "--hidden", "20", "-o", str(moons / "m.npz")]) == 0
    assert "arraynet: warning: the cost rose from" in capsys.readouterr().err
    assert main(["train", str(moons / "train.npz"), "--iterations", "200", "--learning-rate", "0.5", "-o", str(moons / "m.npz")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_threads_limits_the_blas_pools_during_the_training(moons, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []
    fit = arraynet.NeuralNetwork.fit

    def spy(self, *args, **kwargs):
        seen.append({pool["num_threads"] for pool in threadpoolctl.threadpool_info()})
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(arraynet.NeuralNetwork, "fit", spy)
    assert main(["train", str(moons / "train.npz"), "--iterations", "5", "--threads", "1", "--quiet", "-o", str(moons / "m.npz")]) == 0
    assert seen == [{1}] or seen == [set()]  # every pool at 1 thread (none where no BLAS pool is loaded)


def test_jax_trains_in_float64_when_asked_and_says_it_switched_float64_on(moons):
    pytest.importorskip("jax")
    env = {key: value for key, value in __import__("os").environ.items() if key != "JAX_ENABLE_X64"}
    result = subprocess.run(
        [sys.executable, "-m", "arraynet", "train", str(moons / "train.npz"), "--backend", "jax", "--iterations", "300", "-o", str(moons / "j.npz")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "arraynet: JAX's float64 mode is switched on for float64 (jax_enable_x64)"
    assert lines[1].endswith("backend jax, float64")
    numpy = arraynet_cli("train", moons / "train.npz", "--backend", "numpy", "--iterations", "300", "-o", moons / "n.npz").stdout
    assert percent(result.stdout, "train accuracy") == percent(numpy, "train accuracy")
    for conversion in (
        "arraynet.asarray(numpy.ones(3), 'jax')",
        "arraynet.asarray(numpy.ones(3), 'jax', dtype=numpy.float64)",
        "arraynet.asarray([1.0, 2.0], 'jax')",
        "arraynet.initialize_parameters([2, 3, 1], xp=__import__('jax').numpy, dtype=numpy.float64)",
    ):
        silent = subprocess.run(
            [sys.executable, "-c", f"import numpy, arraynet; {conversion}"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )
        assert "JAX computes float64 data in float32 unless its float64 mode is on" in silent.stderr, conversion
    evaluated = subprocess.run(  # a float64 model evaluated on JAX, float64 mode off at the start
        [sys.executable, "-m", "arraynet", "evaluate", str(moons / "j.npz"), str(moons / "test.csv"), "--backend", "jax"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert percent(evaluated.stdout, "accuracy") > 50


# -- a second review's findings ------------------------------------------------------------------
def test_a_reader_that_goes_away_does_not_stop_the_training(moons):
    result = subprocess.run(
        f"{sys.executable} -m arraynet train {moons / 'train.npz'} --iterations 3000 -o {moons / 'm.npz'} | head -1",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.stdout.startswith("arraynet ") and result.stderr == ""
    assert arraynet.load(moons / "m.npz").layer_dims == [2, 4, 1]  # trained to the end and saved


def test_sigterm_ends_the_command_with_143_and_no_temporary_file(moons):
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "arraynet", "train", str(moons / "train.npz"), "--iterations", "100000000", "--record-every", "50", "-o", str(moons / "m.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for _ in range(2):
        process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143
    assert sorted(p.name for p in moons.iterdir()) == ["test.csv", "train.npz"]


def test_what_fails_after_loading_fails_before_the_training(moons, capsys):
    write_csv(moons / "three.csv", np.vstack([X_TEST, X_TEST[:1]]), Y_TEST)
    assert error_of(capsys, "train", moons / "train.npz", "--test", moons / "three.csv", "-o", moons / "m.npz") == (
        f"arraynet: error: --test {moons / 'three.csv'} has 3 feature columns; the training data {moons / 'train.npz'} has 2: both need the same features"
    )
    assert "must end in one of" in error_of(capsys, "sweep", moons / "train.npz", "--hidden-sizes", "2", "--plot", moons / "sweep.npz")
    (moons / "pl").mkdir()
    assert "is a file the plots write into --plot" in error_of(
        capsys, "train", moons / "train.npz", "-o", moons / "pl" / "cost.png", "--plot", moons / "pl"
    )
    assert capsys.readouterr().out == "" and not (moons / "m.npz").exists() and not (moons / "pl" / "cost.png").exists()


def test_float32_data_out_of_range_is_said_so(moons, capsys):
    write_csv(moons / "huge.csv", np.vstack([X_MOONS[:1] * 1e39, X_MOONS[1:]]), Y_MOONS)
    assert "x holds values up to" in error_of(capsys, "train", moons / "huge.csv", "--dtype", "float32", "-o", moons / "m.npz")
    assert "beyond the range of float32" in error_of(capsys, "train", moons / "huge.csv", "--dtype", "float32", "-o", moons / "m.npz")


def test_empty_messages_name_what_happened(monkeypatch, moons, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    assert main(["train", str(moons / "train.npz"), "--iterations", "5", "--quiet", "-o", str(moons / "m.npz")]) == 0
    monkeypatch.setattr("arraynet.cli.evaluate.read_labelled", interrupted)  # Ctrl-C while the data is read
    assert main(["evaluate", str(moons / "m.npz"), str(moons / "test.csv")]) == 130
    assert capsys.readouterr().err.splitlines()[-1] == "arraynet: interrupted"


def test_l2_trains_as_fit_does_in_train_and_sweep_and_a_bad_lambda_is_a_usage_error(moons, capsys):
    """``--l2 LAMBDA`` is ``fit(l2=LAMBDA)`` [C2 2.1]: the saved model is fit's bit for bit, the first
    line says it, the sweep trains each run with it; a negative lambda is exit 2 before any data is read."""
    data, output = str(moons / "train.npz"), str(moons / "m.npz")
    assert main(["train", data, "--learning-rate", "0.5", "--iterations", "100", "--l2", "5", "-o", output]) == 0
    out = capsys.readouterr().out
    model = arraynet.NeuralNetwork([2, 4, 1], seed=1)
    history = model.fit(X_MOONS, Y_MOONS, 0.5, num_iterations=100, l2=5.0)
    assert out.splitlines()[0].endswith("float64; L2 lambda 5")
    assert f"cost after iteration 99: {history.costs[-1]:.6f}" in out
    np.testing.assert_array_equal(arraynet.load(output).predict_proba(X_MOONS), model.predict_proba(X_MOONS))
    assert main(["sweep", data, "--learning-rates", "0.5", "--batch-size", "50", "--epochs", "3", "--l2", "5"]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    swept = arraynet.NeuralNetwork([2, 4, 1], seed=1)
    history = swept.fit(X_MOONS, Y_MOONS, 0.5, batch_size=50, epochs=3, l2=5.0)
    assert row[:3] == ["0.5", f"{history.costs[-1]:.6f}", f"{100 * swept.accuracy(X_MOONS, Y_MOONS):.2f}%"]
    with pytest.raises(SystemExit) as exited:
        main(["train", str(moons / "missing.npz"), "--l2", "-1"])
    assert exited.value.code == 2
    assert "argument --l2: expected a finite number >= 0" in capsys.readouterr().err


# -- classes from files, validation, outputs (issues 20 and 21) -----------------------------------
@pytest.fixture
def species(tmp_path):
    """Three named classes of 2 features, well apart, in a CSV with a header."""
    rng = np.random.default_rng(0)
    rows = [
        f"{x:.4f},{y:.4f},{name}"
        for k, name in enumerate(["setosa", "versicolor", "virginica"])
        for x, y in rng.normal([3.0 * k, 3.0 * (k % 2)], 0.5, size=(40, 2))
    ]
    rng.shuffle(rows)
    (tmp_path / "species.csv").write_text("x1,x2,species\n" + "\n".join(rows) + "\n")
    return tmp_path / "species.csv"


def test_train_on_named_classes_picks_softmax_and_predict_and_evaluate_name_them(species, capsys):
    model_path = species.parent / "m.npz"
    assert main(["train", str(species), "--hidden", "8", "--learning-rate", "0.1", "--iterations", "400", "-o", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "network 2-8-3 (relu, softmax)" in out and "3 classes: setosa, versicolor, virginica" in out
    assert percent(out, "train accuracy") > 95
    model = arraynet.load(model_path)
    assert model.layer_dims[-1] == 3 and model.class_names == ["setosa", "versicolor", "virginica"]
    assert main(["predict", str(model_path), str(species), "--label-column", "species"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction,probability_setosa,probability_versicolor,probability_virginica"
    truth = [line.rsplit(",", 1)[1] for line in species.read_text().splitlines()[1:]]
    predicted = [line.split(",")[0] for line in lines[1:]]
    assert set(predicted) <= {"setosa", "versicolor", "virginica"} and np.mean(np.array(predicted) == np.array(truth)) > 0.95
    assert main(["evaluate", str(model_path), str(species)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix (rows: true class, columns: predicted class):" in out
    assert re.search(r"^\s+setosa\s+versicolor\s+virginica$", out, re.MULTILINE)
    assert re.search(r"^\s+virginica\s+[0-9.]+%\s+[0-9.]+%\s+40$", out, re.MULTILINE)  # precision, recall, support


def test_a_sweep_of_named_classes_trains_softmax_networks_and_tests_on_the_same_classes(species, capsys):
    test = species.parent / "test.csv"
    lines = species.read_text().splitlines()
    test.write_text("\n".join([lines[0], *[line for line in lines[1:] if line.endswith("virginica")][:5]]) + "\n")
    arguments = ["--learning-rates", "0.01,0.1", "--hidden", "8", "--optimizer", "adam", "--batch-size", "16", "--epochs", "30"]
    assert main(["sweep", str(species), "--test", str(test), *arguments, "--plot", str(species.parent / "sweep.png")]) == 0
    rows = capsys.readouterr().out.splitlines()[1:3]
    assert [row.split()[0] for row in rows] == ["0.01", "0.1"]
    assert float(rows[1].split()[2].rstrip("%")) > 95 and rows[1].split()[3] == "100.00%"  # the test set's one class, aligned
    assert (species.parent / "sweep.png").stat().st_size > 0


def test_keep_prob_trains_with_dropout_as_fit_does_and_bad_values_are_usage_errors(moons, capsys):
    """``--keep-prob P`` is ``NeuralNetwork(keep_prob=P)`` [C2 2.2]: the saved model is fit's bit for
    bit and keeps it; one value per hidden layer, none for logistic regression."""
    data, output = str(moons / "train.npz"), str(moons / "m.npz")
    options = ["--hidden", "8,6", "--learning-rate", "0.01", "--optimizer", "adam", "--batch-size", "32", "--epochs", "5"]
    assert main(["train", data, *options, "--keep-prob", "0.8,0.9", "-o", output]) == 0
    out = capsys.readouterr().out
    model = arraynet.NeuralNetwork([2, 8, 6, 1], seed=1, keep_prob=[0.8, 0.9])
    history = model.fit(X_MOONS, Y_MOONS, 0.01, optimizer="adam", batch_size=32, epochs=5)
    assert out.splitlines()[0].endswith("dropout keep_prob 0.8,0.9")
    assert f"cost after epoch 4: {history.costs[-1]:.6f}" in out
    saved = arraynet.load(output)
    assert saved.keep_prob == (0.8, 0.9)
    np.testing.assert_array_equal(saved.predict_proba(X_MOONS), model.predict_proba(X_MOONS))
    assert "--keep-prob gives 3 values; the network has 2 hidden layer(s)" in error_of(capsys, "train", data, *options, "--keep-prob", "0.8,0.9,0.7")
    assert "a logistic regression has none" in error_of(capsys, "train", data, "--model", "logistic", "--keep-prob", "0.5")
    for bad in ("0", "1.5", "a", "0.5,"):
        with pytest.raises(SystemExit) as exited:
            main(["train", data, "--keep-prob", bad])
        assert exited.value.code == 2
        assert "argument --keep-prob:" in capsys.readouterr().err


def test_evaluate_of_a_binary_model_prints_its_confusion_matrix_precision_and_recall(moons, capsys):
    assert main(["train", str(moons / "train.npz"), *NETWORK, "--quiet", "-o", str(moons / "m.npz")]) == 0
    assert main(["evaluate", str(moons / "m.npz"), str(moons / "test.csv")]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\s+([01])\s+(\d+)\s+(\d+)$", out, re.MULTILINE)
    assert [row[0] for row in rows] == ["0", "1"]
    assert sum(int(a) + int(b) for _, a, b in rows) == 100
    assert re.search(r"^\s+1\s+[0-9.]+%\s+[0-9.]+%\s+\d+$", out, re.MULTILINE)


def test_validation_split_and_patience_stop_early_on_the_validation_cost(moons, capsys):
    train = ["train", str(moons / "train.npz"), "--learning-rate", "5", "--iterations", "3000", "--record-every", "10", "-o", str(moons / "m.npz")]
    assert main([*train, "--validation-split", "0.25", "--patience", "2"]) == 0
    out = capsys.readouterr().out
    assert "stopped early: the validation cost had not improved for 2 recorded points" in out
    assert re.search(r"validation cost: [0-9.]+, validation accuracy: [0-9.]+%", out)
    assert "cost after iteration 2990" not in out
    with pytest.raises(SystemExit) as exit:
        main([*train, "--patience", "2"])
    assert exit.value.code == 2 and "--patience: early stopping watches the validation cost" in capsys.readouterr().err


def test_a_full_disk_names_the_model_file(moons, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("arraynet.io.serialization.np.savez", full)
    err = error_of(capsys, "train", moons / "train.npz", "--iterations", "10", "-o", moons / "m.npz")
    assert f"cannot write the model to {moons / 'm.npz'}: No space left on device" in err


def test_a_plot_that_fails_after_the_model_is_saved_says_so_even_quiet(moons, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("arraynet.plots.plot_cost", full)
    err = error_of(capsys, "train", moons / "train.npz", "--iterations", "10", "--quiet", "--plot", moons / "plots", "-o", moons / "m.npz")
    assert f"the model was saved to {moons / 'm.npz'}, but writing the plots into {moons / 'plots'} failed: No space left on device" in err
    assert (moons / "m.npz").is_file()


def test_a_terminal_shows_the_bar_and_a_pipe_the_cost_lines(moons, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    train = ["train", str(moons / "train.npz"), "--iterations", "300", "-o", str(moons / "m.npz")]
    assert main(train) == 0  # standard error is no terminal here: a line per recorded cost
    captured = capsys.readouterr()
    assert "cost after iteration 200:" in captured.out and "300/300" not in captured.err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(arraynet.models.progress, "DELAY", 0.0)
    assert main(train) == 0
    captured = capsys.readouterr()
    assert "300/300" in captured.err and "cost after" not in captured.out
    assert "train accuracy:" in captured.out


def test_outputs_inside_an_input_store_are_refused(tmp_path, capsys):
    store = tmp_path / "d.zarr"
    (store / "X").mkdir(parents=True)
    (store / "X" / "zarr.json").write_text("{}")
    assert "is inside the input" in error_of(capsys, "train", store, "-o", store / "X" / "zarr.json")
    assert (store / "X" / "zarr.json").read_text() == "{}"
    assert "--plot" in error_of(capsys, "train", store, "-o", tmp_path / "m.npz", "--plot", store / "plots")
    assert not (store / "plots").exists()


def test_plot_of_more_than_two_features_says_why_there_is_no_decision_boundary(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(3, 50))
    np.savez(tmp_path / "d.npz", X=X, Y=(X[0] > 0).astype(float))
    assert main(["train", str(tmp_path / "d.npz"), "--iterations", "20", "--plot", str(tmp_path / "plots"), "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "no decision_boundary.png: the data has 3 features, and a decision boundary is drawn for 2" in out
    assert not (tmp_path / "plots" / "decision_boundary.png").exists()


def test_softmax_is_no_hidden_activation_choice(moons, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", str(moons / "train.npz"), "--activation", "softmax"])
    assert exit.value.code == 2 and "invalid choice: 'softmax'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "softmax" not in re.search(r"--activation \{([^}]*)\}", capsys.readouterr().out).group(1)


def test_evaluate_takes_a_file_of_some_of_the_models_classes_and_a_python_models_indices(tmp_path, capsys):
    """A file whose labels are all one of the model's classes (1 of 1, 2, 3) is a file; a softmax model
    saved from Python (no class names) is evaluated on its class indices 0..C-1 (both were refused as
    holding a class the model does not know, found by the review)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 2))
    labels = np.repeat([1, 2, 3], 30)
    X[:, 0] += labels * 3
    np.savetxt(tmp_path / "three.csv", np.column_stack([X, labels]), delimiter=",", header="a,b,y", comments="", fmt="%.6g")
    np.savetxt(tmp_path / "ones.csv", np.column_stack([X[:30], labels[:30]]), delimiter=",", header="a,b,y", comments="", fmt="%.6g")
    assert main(["train", str(tmp_path / "three.csv"), "-o", str(tmp_path / "m.npz"), "--quiet"]) == 0
    assert main(["evaluate", str(tmp_path / "m.npz"), str(tmp_path / "ones.csv")]) == 0
    assert "accuracy:" in capsys.readouterr().out
    model = arraynet.NeuralNetwork([2, 5, 3], seed=0)
    model.fit(X.T, (labels - 1).reshape(1, -1), 0.1, num_iterations=50)
    model.save(tmp_path / "python.npz")
    np.savetxt(tmp_path / "indices.csv", np.column_stack([X, labels - 1]), delimiter=",", header="a,b,y", comments="", fmt="%.6g")
    assert main(["evaluate", str(tmp_path / "python.npz"), str(tmp_path / "indices.csv")]) == 0
    assert f"accuracy: {100 * model.accuracy(X.T, (labels - 1).reshape(1, -1)):.2f}%" in capsys.readouterr().out
