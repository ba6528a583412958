"""Plots render to files: the cost curve (training, and validation when fit had it), the decision
boundary (for a model on any backend), the confusion matrix and a sweep; each file is a whole,
non-trivial image."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import arraynet
from arraynet.models.history import History

pytest.importorskip("matplotlib")
from arraynet.plots import confusion_matrix, plot_confusion_matrix, plot_cost, plot_decision_boundary, plot_sweep

X_MOONS, Y_MOONS = arraynet.load_moons(m=100)


def trained(xp=None, to_xp=None):
    X, Y = (X_MOONS, Y_MOONS) if to_xp is None else (to_xp(X_MOONS), to_xp(Y_MOONS))
    model = arraynet.NeuralNetwork([2, 6, 1], hidden_activation="tanh", seed=0)
    history = model.fit(X, Y, learning_rate=1.0, num_iterations=300, record_every=20)
    return model, history, X, Y


def assert_image(path, width=None):
    """A whole PNG of more than a few colours (not blank), of the expected width."""
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[-8:-4] == b"IEND"
    assert len(data) > 5000
    pixels = matplotlib.image.imread(path)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20
    if width is not None:
        assert pixels.shape[1] == width
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind
    return pixels


def test_cost_curve(tmp_path):
    _, history, _, _ = trained()
    assert plot_cost(history, tmp_path / "cost.png", learning_rate=1.0) == tmp_path / "cost.png"
    assert_image(tmp_path / "cost.png", width=640)


def test_cost_curve_as_svg(tmp_path):
    _, history, _, _ = trained()
    plot_cost(history, tmp_path / "cost.svg", title="moons")
    text = (tmp_path / "cost.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "</svg>" in text and "moons" in text


def test_decision_boundary_of_a_model_on_any_backend(tmp_path, xp, to_xp):
    """The grid is predicted where the model lives: array-api-strict's device1, PyTorch, CuPy."""
    model, _, X, Y = trained(xp, to_xp)
    plot_decision_boundary(model, X, Y, tmp_path / "boundary.png", resolution=60)
    pixels = assert_image(tmp_path / "boundary.png", width=640)
    reference = tmp_path / "reference"
    reference.mkdir()
    numpy_model, _, _, _ = trained()
    plot_decision_boundary(numpy_model, X_MOONS, Y_MOONS, reference / "boundary.png", resolution=60)
    import matplotlib.image

    np.testing.assert_array_equal(pixels, matplotlib.image.imread(reference / "boundary.png"))


def test_a_sweep_shows_costs_and_accuracies(tmp_path):
    histories = [trained()[1] for _ in range(3)]
    plot_sweep(tmp_path / "sweep.png", "hidden units", [1, 2, 4], histories, [0.8, 0.9, 1.0], [0.7, 0.8, 0.9])
    assert_image(tmp_path / "sweep.png", width=1280)


def test_overwrites_an_existing_file_whole(tmp_path):
    path = tmp_path / "cost.png"
    path.write_bytes(b"old")
    plot_cost(trained()[1], path)
    assert_image(path)


def test_bad_arguments_name_the_problem(tmp_path):
    model, history, X, Y = trained()
    with pytest.raises(ValueError, match=r"path must end in one of .*\.png.*; got 'cost.txt'"):
        plot_cost(history, tmp_path / "cost.txt")
    with pytest.raises(FileNotFoundError, match="directory .*missing does not exist"):
        plot_cost(history, tmp_path / "missing" / "cost.png")
    with pytest.raises(ValueError, match="history must hold at least one recorded cost"):
        plot_cost(History(), tmp_path / "cost.png")
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\).*got shape \(3, 4\)"):
        plot_decision_boundary(model, np.ones((3, 4)), np.ones((1, 4)), tmp_path / "b.png")
    with pytest.raises(ValueError, match=r"Y must have shape \(1, m\) = \(1, 100\); got shape \(100,\)"):
        plot_decision_boundary(model, X, Y[0], tmp_path / "b.png")
    with pytest.raises(ValueError, match="resolution must be an integer >= 2"):
        plot_decision_boundary(model, X, Y, tmp_path / "b.png", resolution=1)
    with pytest.raises(arraynet.NotFittedError):
        plot_decision_boundary(arraynet.NeuralNetwork([2, 3, 1]), X, Y, tmp_path / "b.png")
    with pytest.raises(ValueError, match="must be non-empty and of one length; got 2, 1, 2"):
        plot_sweep(tmp_path / "s.png", "learning rate", [0.1, 1.0], [history], [0.5, 0.6])
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'plots need matplotlib: pip install "arraynet\[plot\]"'):
        plot_cost(trained()[1], tmp_path / "cost.png")


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions draw, kept as they are saved."""
    drawn = []
    save = arraynet.plots._save
    monkeypatch.setattr(arraynet.plots, "_save", lambda figure, path: drawn.append(figure) or save(figure, path))
    return drawn


def test_the_cost_axis_is_logarithmic_when_the_costs_span_decades(tmp_path, figures):
    plot_cost(History(iterations=[0, 100, 200], costs=[0.69, 0.05, 0.001]), tmp_path / "decades.png", title="net on data")
    plot_cost(History(iterations=[0, 100, 200], costs=[0.69, 0.5, 0.3]), tmp_path / "flat.png", learning_rate=0.1)
    (decades,), (flat,) = (figure.axes for figure in figures)
    assert decades.get_yscale() == "log" and flat.get_yscale() == "linear"
    assert decades.get_title() == "net on data" and flat.get_title() == "learning rate = 0.1"


def test_a_diverged_run_of_a_sweep_is_named_in_the_legend(tmp_path, figures):
    good = History(iterations=[0, 10], costs=[0.7, 0.4])
    early = History(iterations=[0], costs=[0.7])
    plot_sweep(tmp_path / "s.png", "learning rate", [0.1], [good], [0.9], diverged=[(100.0, early), (1e9, History())], title="flower")
    costs, _ = figures[0].axes
    labels = [text.get_text() for text in costs.get_legend().get_texts()]
    assert labels == ["learning rate = 0.1", "learning rate = 100: diverged", "learning rate = 1e+09: diverged"]
    assert figures[0].get_suptitle() == "flower"


def test_the_decision_boundary_names_its_axes_and_its_classes(tmp_path, figures):
    model, _, X, Y = trained()
    plot_decision_boundary(model, X, Y, tmp_path / "b.png", feature_names=("petal width", "petal length"), title="2-6-1 on moons")
    (axes,) = figures[0].axes
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_title()) == ("petal width", "petal length", "2-6-1 on moons")
    counts = [int((Y_MOONS == label).sum()) for label in (0, 1)]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [f"label {k} ({counts[k]} examples)" for k in (0, 1)]
    with pytest.raises(ValueError, match="feature_names must name the 2 features"):
        plot_decision_boundary(model, X, Y, tmp_path / "c.png", feature_names=("a",))


def test_the_cli_plots_carry_the_csv_column_names_and_the_model(tmp_path, figures):
    from arraynet.cli import main

    np.savetxt(tmp_path / "d.csv", np.vstack([X_MOONS, Y_MOONS]).T, delimiter=",", header="width,length,label", comments="")
    assert main(["train", str(tmp_path / "d.csv"), "--iterations", "50", "--quiet", "-o", str(tmp_path / "m.npz"), "--plot", str(tmp_path / "p")]) == 0
    cost, boundary = (figure.axes[0] for figure in figures)
    assert cost.get_title().startswith("network 2-4-1 (relu, sigmoid) on d.csv")
    assert (boundary.get_xlabel(), boundary.get_ylabel()) == ("width", "length")


def test_a_sweep_of_optimizers_names_them_and_counts_epochs(tmp_path, figures):
    """Values may be names; the cost axis counts what the runs count (History.unit), and runs of
    batch gradient descent beside full-batch epochs share one axis, named for both."""
    epochs = [History(iterations=[0, 1, 2], costs=[0.7, 0.5, 0.4], unit="epoch") for _ in range(2)]
    plot_sweep(tmp_path / "o.png", "optimizer", ["momentum", "adam"], epochs, [0.8, 0.9], diverged=[("rmsprop", History(unit="epoch"))])
    costs, accuracy = figures[0].axes
    assert costs.get_xlabel() == "epoch"
    assert [text.get_text() for text in costs.get_legend().get_texts()] == ["optimizer = momentum", "optimizer = adam", "optimizer = rmsprop: diverged"]
    assert [label.get_text() for label in accuracy.get_xticklabels()] == ["momentum", "adam"]
    assert accuracy.get_xlabel() == "optimizer"
    iterations = History(iterations=[0, 100], costs=[0.7, 0.6])
    plot_sweep(tmp_path / "mixed.png", "optimizer", ["gd", "adam"], [iterations, epochs[0]], [0.7, 0.9])
    assert figures[1].axes[0].get_xlabel() == "iteration / epoch"
    plot_cost(epochs[0], tmp_path / "cost.png")
    assert figures[2].axes[0].get_xlabel() == "epoch"
    assert_image(tmp_path / "o.png")


def test_a_diverged_runs_huge_costs_do_not_flatten_the_runs_that_trained(tmp_path, figures):
    good = [History(iterations=[0, 10, 20], costs=[0.7, 0.5, 0.3]), History(iterations=[0, 10, 20], costs=[0.7, 0.6, 0.55])]
    blown = History(iterations=[0, 10], costs=[0.7, 1e203])
    plot_sweep(tmp_path / "s.png", "learning rate", [0.1, 0.01], good, [0.9, 0.8], diverged=[(50.0, blown)])
    costs, _ = figures[0].axes
    low, high = costs.get_ylim()
    assert 0.2 < low < 0.3 and 0.7 < high < 1.0


def test_a_long_cost_plot_title_wraps_inside_the_figure(tmp_path, figures):
    title = "network 784-512-256-128-64-1 (relu, relu, relu, relu, sigmoid) on a_rather_long_data_file_name.csv"
    plot_cost(History(iterations=[0, 100], costs=[0.69, 0.3]), tmp_path / "c.png", title=title, learning_rate=0.0075)
    figure = figures[0]
    heading = figure.axes[0].title
    renderer = figure.canvas.get_renderer()
    box = heading.get_window_extent(renderer)
    assert heading.get_wrap() and box.x0 >= 0 and box.x1 <= figure.bbox.width


def test_decision_boundary_of_a_softmax_network_names_its_classes(tmp_path):
    X = np.random.default_rng(0).normal(size=(2, 90))
    Y = np.argmax(np.stack([X[0], X[1], -X[0] - X[1]]), axis=0).reshape(1, -1).astype(float)
    model = arraynet.NeuralNetwork([2, 8, 3], seed=0)
    model.fit(X, Y, learning_rate=0.5, num_iterations=200)
    path = plot_decision_boundary(model, X, Y, tmp_path / "b.png", class_names=["cat", "dog", "eel"])
    assert_image(path)
    with pytest.raises(ValueError, match="class_names must name the 3 classes; got 2 names"):
        plot_decision_boundary(model, X, Y, tmp_path / "c.png", class_names=["cat", "dog"])


def test_a_full_disk_names_the_plot_file(tmp_path, monkeypatch):
    history = trained()[1]
    import matplotlib.figure

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    with pytest.raises(OSError, match=rf"cannot write {tmp_path / 'cost.png'}: No space left on device"):
        plot_cost(history, tmp_path / "cost.png")


def test_the_cost_plot_of_a_fit_with_validation_draws_both_costs(tmp_path, figures):
    order = np.random.default_rng(0).permutation(100)  # both classes in the validation split (the last 20)
    model = arraynet.NeuralNetwork([2, 6, 1], hidden_activation="tanh", seed=0)
    history = model.fit(
        X_MOONS[:, order], Y_MOONS[:, order], learning_rate=0.01, optimizer="adam", batch_size=16, epochs=15,
        validation_split=0.2, progress=False,
    )
    assert len(history.val_costs) == len(history.costs) == 15
    path = plot_cost(history, tmp_path / "cost.png", title="moons")
    assert_image(path, width=640)
    (axes,) = figures[0].axes
    training, validation = axes.get_lines()
    assert list(training.get_xdata()) == list(validation.get_xdata()) == history.iterations
    assert list(training.get_ydata()) == history.costs and list(validation.get_ydata()) == history.val_costs
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["training", "validation"]
    assert (axes.get_xlabel(), axes.get_title()) == ("epoch", "moons")


def test_the_cost_plot_without_validation_has_one_line_and_no_legend(tmp_path, figures):
    plot_cost(History(iterations=[0, 100, 200], costs=[0.69, 0.5, 0.3]), tmp_path / "c.png")
    (axes,) = figures[0].axes
    assert len(axes.get_lines()) == 1 and axes.get_legend() is None
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("iteration", "cost J")


def test_the_cost_axis_spans_the_validation_costs_too(tmp_path, figures):
    history = History(iterations=[0, 1, 2], costs=[0.69, 0.5, 0.4], unit="epoch", val_costs=[0.7, 2.0, 9.0])
    plot_cost(history, tmp_path / "c.png")
    assert figures[0].axes[0].get_yscale() == "log"


TRUE = [0, 0, 1, 1, 2, 2, 2]
PREDICTED = [0, 1, 1, 1, 2, 0, 2]
COUNTS = [[1, 1, 0], [0, 2, 0], [1, 0, 2]]


def test_the_confusion_matrix_counts_true_classes_by_row_and_predictions_by_column():
    np.testing.assert_array_equal(confusion_matrix(np.array([TRUE]), np.array([PREDICTED], dtype=float)), COUNTS)
    counts = confusion_matrix(TRUE, PREDICTED, classes=4)  # (m,) lists; a class with no examples counts 0
    assert counts.dtype == np.int64 and counts.shape == (4, 4)
    np.testing.assert_array_equal(counts[:3, :3], COUNTS)
    assert counts[3].sum() == counts[:, 3].sum() == 0
    np.testing.assert_array_equal(confusion_matrix(np.zeros((1, 3)), np.array([[0, 1, 0]])), [[2, 1], [0, 0]])  # binary: 2 x 2
    np.testing.assert_array_equal(confusion_matrix(np.array([True, False]), np.array([True, True])), [[0, 1], [0, 1]])


def test_the_confusion_matrix_of_labels_of_any_backend(xp, to_xp):
    np.testing.assert_array_equal(confusion_matrix(to_xp(np.array([TRUE])), to_xp(np.array([PREDICTED]))), COUNTS)


def test_the_cli_evaluates_with_the_same_confusion_matrix():
    from arraynet.cli import evaluate

    assert evaluate.confusion_matrix is confusion_matrix


def test_the_confusion_matrix_plot_annotates_each_cell_with_its_count(tmp_path, figures):
    path = plot_confusion_matrix(np.array([TRUE]), np.array([PREDICTED]), tmp_path / "cm.png", class_names=["cat", "dog", "eel"])
    assert path == tmp_path / "cm.png"
    assert_image(path, width=640)
    axes = figures[0].axes[0]
    np.testing.assert_array_equal(axes.get_images()[0].get_array(), COUNTS)
    assert [text.get_text() for text in axes.texts] == [str(value) for row in COUNTS for value in row]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["cat", "dog", "eel"]
    assert [label.get_text() for label in axes.get_yticklabels()] == ["cat", "dog", "eel"]
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_title()) == ("predicted class", "true class", "confusion matrix (7 examples)")


def test_the_normalized_confusion_matrix_shows_each_true_class_s_fractions(tmp_path, figures):
    plot_confusion_matrix(TRUE, PREDICTED, tmp_path / "cm.png", class_names=["a", "b", "c", "d"], normalize=True, title="digits")
    axes = figures[0].axes[0]
    fractions = np.asarray(axes.get_images()[0].get_array())
    np.testing.assert_allclose(fractions[:3].sum(axis=1), 1.0)
    np.testing.assert_allclose(fractions[2], [1 / 3, 0, 2 / 3, 0])
    texts = [text.get_text() for text in axes.texts]
    assert texts[:4] == ["0.50", "0.50", "0.00", "0.00"] and texts[12:] == ["n/a"] * 4  # "d" has no examples
    assert fractions[3].sum() == 0 and axes.get_title() == "digits"
    assert_image(tmp_path / "cm.png")


def test_a_softmax_network_s_confusion_matrix_names_its_ten_classes(tmp_path, figures):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 200))
    Y = np.argmax(rng.normal(size=(10, 4)) @ X, axis=0).reshape(1, -1)  # class indices 0..9, shape (1, m)
    model = arraynet.NeuralNetwork([4, 16, 10], seed=0)
    model.fit(X, Y, learning_rate=0.01, optimizer="adam", batch_size=32, epochs=10, progress=False)
    names = [f"digit {k}" for k in range(10)]
    assert_image(plot_confusion_matrix(Y, model.predict(X), tmp_path / "cm.png", class_names=names))
    axes = figures[0].axes[0]
    assert np.asarray(axes.get_images()[0].get_array()).sum() == 200
    assert [label.get_text() for label in axes.get_xticklabels()] == names
    assert axes.get_xticklabels()[0].get_rotation() == 45  # ten long names slant, never overlap


def test_bad_confusion_matrix_arguments_name_the_problem(tmp_path):
    cases = [
        ((np.ones((2, 3)), np.ones(3)), {}, r"Y_true must have shape \(1, m\) or \(m,\): class indices \(one-hot columns of shape \(C, m\): pass their argmax over axis 0\); got shape \(2, 3\)"),
        ((np.ones(3), np.ones((3, 1, 1))), {}, r"Y_pred must have shape \(1, m\) or \(m,\): class indices; got shape \(3, 1, 1\)"),
        (([0, 1, 2], [0, 1]), {}, r"Y_pred must hold one prediction per label of Y_true \(3\); got 2"),
        (([0, -1, 2], [0, 1, 2]), {}, r"Y_true must hold class indices 0, 1, 2, ... \(integers >= 0\); got -1 at example 1"),
        (([0, 1, 2], [0, 1.5, 2]), {}, r"Y_pred must hold class indices 0, 1, 2, ... \(integers >= 0\); got 1.5 at example 1"),
        (([0, np.nan], [0, 1]), {}, r"Y_true must hold class indices .*; got nan at example 1"),
        ((["cat", "dog"], [0, 1]), {}, r"Y_true must hold class indices 0, 1, 2, ... as numbers; got dtype <U3"),
        (([0.0, 1e20], [0, 1]), {}, r"Y_true must hold class indices below 1000 \(the most classes arraynet takes\); got 1e\+20 at example 1: number the classes 0 to C - 1"),
        (([0, 1], [200_000, 1]), {}, r"Y_pred must hold class indices below 1000 .*; got 200000 at example 0"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            confusion_matrix(*args, **kwargs)
        with pytest.raises(ValueError, match=message):
            plot_confusion_matrix(*args, tmp_path / "cm.png", **kwargs)
    with pytest.raises(ValueError, match=r"classes must be more than the largest class index in Y_true and Y_pred \(2\); got 2"):
        confusion_matrix(TRUE, PREDICTED, classes=2)
    with pytest.raises(ValueError, match=r"classes must be an integer >= 1 \(the number of classes\); got 2.5"):
        confusion_matrix(TRUE, PREDICTED, classes=2.5)
    with pytest.raises(ValueError, match=r"class_names must name at least 3 classes \(Y_true and Y_pred hold class indices up to 2\); got \['cat', 'dog'\]"):
        plot_confusion_matrix(TRUE, PREDICTED, tmp_path / "cm.png", class_names=["cat", "dog"])
    with pytest.raises(ValueError, match=r"class_names must name at least 2 classes .*; got 'ab'"):
        plot_confusion_matrix([0, 1], [1, 1], tmp_path / "cm.png", class_names="ab")
    with pytest.raises(TypeError, match=r"normalize must be True or False; got 'true'"):
        plot_confusion_matrix(TRUE, PREDICTED, tmp_path / "cm.png", normalize="true")
    with pytest.raises(ValueError, match=r"path must end in one of .*; got 'cm.txt'"):
        plot_confusion_matrix(TRUE, PREDICTED, tmp_path / "cm.txt")
    with pytest.raises(ValueError, match=r"history.val_costs must hold one cost per recorded cost \(2\); got 1"):
        plot_cost(History(iterations=[0, 1], costs=[0.7, 0.6], val_costs=[0.7]), tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []
