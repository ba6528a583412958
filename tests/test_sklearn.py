"""The scikit-learn estimators: scikit-learn's own estimator checks, Pipeline and GridSearchCV, labels
of any classes (two: bit for bit the models' sigmoid; more: a softmax), early stopping, the warning on
unscaled features, the same networks as arraynet's models, their solvers and mini-batches,
partial_fit, and array API dispatch on every backend."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is an optional extra: pip install -e '.[sklearn]'")

from sklearn import config_context
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import arraynet
from arraynet.backends import backend_name, to_numpy
from arraynet.sklearn import LogisticRegressionClassifier, NeuralNetworkClassifier

from .conftest import assert_same_place

X_FLOWER, Y_FLOWER = arraynet.load_flower()
X_ROWS, Y_LABELS = X_FLOWER.T, Y_FLOWER[0]  # scikit-learn's layout: samples as rows, 1-D labels


def test_import_arraynet_needs_neither_scikit_learn_nor_tqdm():
    script = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import arraynet\n"
        "assert 'tqdm' not in sys.modules, 'tqdm imported'\n"
        "try:\n"
        "    import arraynet.sklearn\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "arraynet.sklearn needs scikit-learn >= 1.6: pip install 'arraynet[sklearn]'" in result.stdout


@pytest.mark.parametrize(
    "estimator",
    [NeuralNetworkClassifier(), LogisticRegressionClassifier(), NeuralNetworkClassifier(solver="adam", batch_size="auto", learning_rate_init=0.01)],
    ids=["NeuralNetworkClassifier", "LogisticRegressionClassifier", "adam on mini-batches"],
)
def test_scikit_learns_estimator_checks_pass(estimator, monkeypatch):
    """All of them, with none expected to fail; SCIPY_ARRAY_API=1 lets the array API checks run on
    the namespaces and devices installed here (array-api-strict, PyTorch CPU, ...)."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped checks (pandas, CUDA, ...) warn
        results = check_estimator(estimator.set_params(max_iter=200 if estimator.batch_size is None else 50), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert failed == []
    ran = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_classifiers_train", "check_classifiers_classes", "check_estimators_pickle",
            "check_classifiers_one_label", "check_array_api_input",
            "check_decision_proba_consistency", "check_estimators_partial_fit_n_features", "check_fit_idempotent"} <= ran


def test_the_estimator_trains_the_network_arraynet_trains_with_the_same_seed():
    estimator = NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", init="small",
                                        learning_rate_init=1.2, max_iter=300, random_state=3)
    estimator.fit(X_ROWS, Y_LABELS)
    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=3)
    history = model.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=300)
    assert estimator.history_.costs == history.costs
    assert estimator.n_iter_ == 300
    proba = estimator.predict_proba(X_ROWS)
    np.testing.assert_array_equal(proba[:, 1], model.predict_proba(X_FLOWER)[0])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert estimator.score(X_ROWS, Y_LABELS) == model.accuracy(X_FLOWER, Y_FLOWER)


def test_any_two_labels_are_learnt_as_0_and_1_and_predicted_back():
    labels = np.where(Y_LABELS == 1, "red", "blue")
    estimator = LogisticRegressionClassifier(max_iter=50).fit(X_ROWS, labels)
    assert list(estimator.classes_) == ["blue", "red"]
    reference = arraynet.LogisticRegression()
    reference.fit(X_FLOWER, Y_FLOWER, learning_rate=0.1, num_iterations=50)
    expected = np.where(reference.predict(X_FLOWER)[0] == 1, "red", "blue")
    np.testing.assert_array_equal(estimator.predict(X_ROWS), expected)


def test_a_pipeline_and_a_grid_search_pick_the_better_network():
    """One hidden unit draws a straight boundary (about 70% on the flower); eight learn the petals."""
    X = X_ROWS * 10.0 + 3.0  # unscaled: the pipeline's scaler puts it back
    pipeline = make_pipeline(StandardScaler(), NeuralNetworkClassifier(activation="tanh", learning_rate_init=1.2, max_iter=500, random_state=0))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)  # the flower's samples come ordered by class
    search = GridSearchCV(pipeline, {"neuralnetworkclassifier__hidden_layer_sizes": [(1,), (8,)]}, cv=folds)
    search.fit(X, Y_LABELS)
    assert search.best_params_ == {"neuralnetworkclassifier__hidden_layer_sizes": (8,)}
    low, high = search.cv_results_["mean_test_score"]
    assert low < 0.75 and high > 0.85
    assert search.score(X, Y_LABELS) > 0.85


@pytest.mark.parametrize("make_estimator", [
    lambda: NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", learning_rate_init=1.2, max_iter=300, random_state=3),
    lambda: LogisticRegressionClassifier(max_iter=300),
], ids=["network", "logistic"])
def test_decision_function_is_the_logit_whose_sign_gives_the_class(make_estimator):
    """``Z^[L]`` of each sample, shape (n_samples,): log(p / (1 - p)) for p = predict_proba's
    classes_[1] column; positive predicts classes_[1]."""
    labels = np.where(Y_LABELS == 1, "red", "blue")
    estimator = make_estimator().fit(X_ROWS, labels)
    scores = estimator.decision_function(X_ROWS)
    assert scores.shape == (X_ROWS.shape[0],) and scores.dtype == np.float64
    np.testing.assert_array_equal(scores, estimator.model_.decision_function(X_FLOWER)[0])
    assert 0 < np.count_nonzero(scores > 0) < scores.shape[0]  # both classes predicted
    np.testing.assert_array_equal(estimator.classes_[(scores > 0).astype(int)], estimator.predict(X_ROWS))
    p = estimator.predict_proba(X_ROWS)[:, 1]
    np.testing.assert_allclose(scores, np.log(p / (1.0 - p)), rtol=1e-9, atol=1e-12)


def test_decision_function_before_fit_raises_scikit_learns_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LogisticRegressionClassifier().decision_function(X_ROWS)


def test_the_roc_auc_scorer_ranks_by_decision_function_in_a_pipeline():
    """scoring="roc_auc" (which asks for decision_function first) scores a pipeline ending in the
    network: each fold's score is the AUC of the pipeline's decision_function on that fold."""
    X = X_ROWS * 10.0 + 3.0
    pipeline = make_pipeline(StandardScaler(), NeuralNetworkClassifier(hidden_layer_sizes=(8,), activation="tanh", learning_rate_init=1.2, max_iter=500, random_state=0))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    aucs = cross_val_score(pipeline, X, Y_LABELS, scoring="roc_auc", cv=folds)
    assert aucs.min() > 0.9
    train, test = next(folds.split(X, Y_LABELS))
    fitted = clone(pipeline).fit(X[train], Y_LABELS[train])
    assert aucs[0] == roc_auc_score(Y_LABELS[test], fitted.decision_function(X[test]))


def test_random_state_may_be_a_random_state_object():
    first = NeuralNetworkClassifier(max_iter=5, random_state=np.random.RandomState(1)).fit(X_ROWS, Y_LABELS)
    second = NeuralNetworkClassifier(max_iter=5, random_state=np.random.RandomState(1)).fit(X_ROWS, Y_LABELS)
    np.testing.assert_array_equal(first.predict_proba(X_ROWS), second.predict_proba(X_ROWS))


@pytest.mark.parametrize(
    "estimator, y, message",
    [
        (NeuralNetworkClassifier(), np.ones(400), "needs samples of at least 2 classes in y; got 1 class"),
        (NeuralNetworkClassifier(), np.linspace(0, 1, 400), "Unknown label type"),
        (NeuralNetworkClassifier(hidden_layer_sizes=(4, 0)), Y_LABELS, r"hidden_layer_sizes must be a positive integer or a sequence of them; got \(4, 0\)"),
        (NeuralNetworkClassifier(activation="swish"), Y_LABELS, "must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu'"),
        (LogisticRegressionClassifier(learning_rate_init=-1.0), Y_LABELS, "learning_rate_init must be a finite number > 0, e.g. 0.01; got -1.0"),
        (NeuralNetworkClassifier(solver="lbfgs"), Y_LABELS, "solver must be one of 'sgd', 'rmsprop', 'adam'; got 'lbfgs'"),
        (NeuralNetworkClassifier(batch_size=0), Y_LABELS,
         r"batch_size must be None \(all the samples in one batch\), 'auto' \(min\(200, n_samples\)\) or an integer >= 1, e.g. 32; got 0"),
        (NeuralNetworkClassifier(batch_size="all"), Y_LABELS, r"batch_size must be None .* or an integer >= 1, e.g. 32; got 'all'"),
        (NeuralNetworkClassifier(batch_size=32.0), Y_LABELS, r"batch_size must be None .* or an integer >= 1, e.g. 32; got 32.0"),
        (NeuralNetworkClassifier(max_iter=-1), Y_LABELS, r"max_iter must be an integer >= 0 \(the epochs: passes over the data\), e.g. 200; got -1"),
        (NeuralNetworkClassifier(momentum=1.0), Y_LABELS, r"momentum must be a number in \[0, 1\), e.g. 0.9 \(0: plain gradient descent\); got 1.0"),
        (NeuralNetworkClassifier(beta_1=-0.1), Y_LABELS, r"beta_1 must be a number in \[0, 1\), e.g. 0.9; got -0.1"),
        (NeuralNetworkClassifier(beta_2=True), Y_LABELS, r"beta_2 must be a number in \[0, 1\), e.g. 0.999; got True"),
        (NeuralNetworkClassifier(epsilon=0), Y_LABELS, r"epsilon must be a finite number > 0, e.g. 1e-8; got 0"),
        (NeuralNetworkClassifier(shuffle="yes"), Y_LABELS, "shuffle must be True or False; got 'yes'"),
        (NeuralNetworkClassifier(record_every=0), Y_LABELS, r"record_every must be None \(every 100 iterations, or every epoch\) or an integer >= 1; got 0"),
        (NeuralNetworkClassifier(early_stopping=1), Y_LABELS, "early_stopping must be True or False; got 1"),
        (NeuralNetworkClassifier(validation_fraction=1.0), Y_LABELS, r"validation_fraction must be a number in \(0, 1\), e.g. 0.1; got 1.0"),
        (NeuralNetworkClassifier(n_iter_no_change=0), Y_LABELS, r"n_iter_no_change must be an integer >= 1 \(epochs\), e.g. 10; got 0"),
        (NeuralNetworkClassifier(tol=-1.0), Y_LABELS, "tol must be a finite number >= 0, e.g. 1e-4; got -1.0"),
        (NeuralNetworkClassifier(standardize="yes"), Y_LABELS, "standardize must be True or False; got 'yes'"),
    ],
    ids=["one class", "continuous", "hidden_layer_sizes", "activation", "learning_rate", "solver", "batch_size 0",
         "batch_size word", "batch_size float", "max_iter", "momentum", "beta_1", "beta_2", "epsilon", "shuffle", "record_every",
         "early_stopping", "validation_fraction", "n_iter_no_change", "tol", "standardize"],
)
def test_bad_labels_and_hyperparameters_are_named(estimator, y, message):
    """One line: the parameter, what it must be, what it is."""
    with pytest.raises(ValueError, match=message) as raised:
        estimator.fit(X_ROWS, y)
    assert "\n" not in str(raised.value)


# -- solvers, mini-batches and partial_fit -------------------------------------------------------
def network_estimator(**parameters):
    return NeuralNetworkClassifier(hidden_layer_sizes=(6,), activation="tanh", random_state=1, **parameters)


def network_model():
    return arraynet.NeuralNetwork([2, 6, 1], hidden_activation="tanh", seed=1)


@pytest.mark.parametrize(
    "parameters, training",
    [
        ({}, {"optimizer": "gd", "batch_size": None}),
        ({"batch_size": 32}, {"optimizer": "gd", "batch_size": 32}),
        ({"momentum": 0.8, "batch_size": 50}, {"optimizer": arraynet.Momentum(beta=0.8), "batch_size": 50}),
        ({"solver": "rmsprop", "beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-6, "batch_size": 64},
         {"optimizer": arraynet.RMSprop(beta2=0.99, epsilon=1e-6), "batch_size": 64}),
        ({"solver": "adam", "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7, "momentum": 0.5, "batch_size": "auto"},
         {"optimizer": arraynet.Adam(beta1=0.8, beta2=0.99, epsilon=1e-7), "batch_size": 200}),
        ({"solver": "adam"}, {"optimizer": "adam", "batch_size": None}),
        ({"solver": "adam", "batch_size": 64, "shuffle": False}, {"optimizer": "adam", "batch_size": 64, "shuffle": False}),
    ],
    ids=["default: batch gradient descent", "sgd on mini-batches", "momentum", "rmsprop", "adam, auto batches",
         "adam on all samples", "no shuffle"],
)
def test_each_solver_trains_with_the_optimizer_and_batches_it_names(parameters, training):
    """The same numbers as arraynet's fit with the optimizer the parameters name (the others
    ignored), on batches of batch_size ("auto": min(200, n_samples)), max_iter epochs."""
    estimator = network_estimator(learning_rate_init=0.05, max_iter=4, **parameters).fit(X_ROWS, Y_LABELS)
    model = network_model()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.05, epochs=4, **training)
    assert estimator.history_.costs == history.costs and estimator.history_.unit == history.unit
    assert estimator.n_iter_ == 4 and estimator.history_.updates == history.updates
    for key, value in model.get_parameters().items():
        np.testing.assert_array_equal(estimator.model_.get_parameters()[key], value)


def test_adam_on_mini_batches_learns_the_flower_in_ten_epochs_where_gradient_descent_does_not():
    fast = network_estimator(solver="adam", batch_size=32, learning_rate_init=0.05, max_iter=10).fit(X_ROWS, Y_LABELS)
    slow = network_estimator(learning_rate_init=0.05, max_iter=10).fit(X_ROWS, Y_LABELS)
    assert fast.history_.unit == "epoch" and fast.history_.updates == 10 * 13  # 12 batches of 32 and one of 16
    assert fast.score(X_ROWS, Y_LABELS) > 0.85 and slow.score(X_ROWS, Y_LABELS) < 0.75


def test_random_state_draws_the_shuffles_too():
    def proba(**parameters):
        estimator = network_estimator(solver="adam", batch_size=32, learning_rate_init=0.05, max_iter=3, **parameters)
        return estimator.fit(X_ROWS, Y_LABELS).predict_proba(X_ROWS)

    np.testing.assert_array_equal(proba(), proba())
    assert not np.array_equal(proba(), proba(shuffle=False))  # the same network, its batches in another order


@pytest.mark.parametrize(
    "parameters",
    [{}, {"momentum": 0.9, "batch_size": 64}, {"solver": "adam", "batch_size": 32}, {"solver": "rmsprop", "batch_size": 100, "shuffle": False}],
    ids=["batch gradient descent", "momentum", "adam", "rmsprop in order"],
)
def test_two_partial_fits_are_a_fit_of_two_epochs_bit_for_bit(parameters):
    """Each partial_fit is one epoch, with the optimizer's state (Adam's t included) and the epoch
    count (which draws the shuffles) kept from the call before; a partial_fit after a fit goes on
    from it the same way."""
    fitted = network_estimator(learning_rate_init=0.05, max_iter=2, **parameters).fit(X_ROWS, Y_LABELS)
    partial = network_estimator(learning_rate_init=0.05, max_iter=1000, **parameters)  # max_iter: not partial_fit's
    assert partial.partial_fit(X_ROWS, Y_LABELS, classes=np.array([0.0, 1.0])) is partial
    assert partial.n_iter_ == 1 and partial.history_.costs == fitted.history_.costs[:1]
    partial.partial_fit(X_ROWS, Y_LABELS)
    assert partial.n_iter_ == 2 and partial.history_.costs == fitted.history_.costs[1:]
    after_fit = network_estimator(learning_rate_init=0.05, max_iter=1, **parameters).fit(X_ROWS, Y_LABELS).partial_fit(X_ROWS, Y_LABELS)
    for estimator in (partial, after_fit):
        for key, value in fitted.model_.get_parameters().items():
            np.testing.assert_array_equal(estimator.model_.get_parameters()[key], value)
    np.testing.assert_array_equal(partial.classes_, fitted.classes_)


def test_partial_fit_learns_from_batches_of_one_class_and_says_what_it_needs():
    labels = np.where(Y_LABELS == 1, "red", "blue")
    estimator = network_estimator(solver="adam", learning_rate_init=0.05)
    with pytest.raises(ValueError, match=r"^classes must be passed on the first call to partial_fit: all the labels of the whole data, "
                                         r"e.g. classes=numpy.unique\(y_all\); got classes=None$"):
        estimator.partial_fit(X_ROWS, labels)
    with pytest.raises(ValueError, match=r"^classes must hold all the classes of y, at least 2, e.g. numpy.unique\(y_all\); got \['red'\]$"):
        estimator.partial_fit(X_ROWS, labels, classes=["red"])
    assert not hasattr(estimator, "classes_")
    reds, blues = labels == "red", labels == "blue"
    estimator.partial_fit(X_ROWS[reds], labels[reds], classes=["red", "blue"])  # any order: sorted, as fit sorts them
    estimator.partial_fit(X_ROWS[blues], labels[blues])
    assert list(estimator.classes_) == ["blue", "red"] and estimator.n_iter_ == 2
    with pytest.raises(ValueError, match=r"^classes must be the classes_ of the first call to partial_fit \(array\(\['blue', 'red'\].*\); got \['red', 'green'\]$"):
        estimator.partial_fit(X_ROWS, labels, classes=["red", "green"])
    with pytest.raises(ValueError, match=r"^y must hold only the labels of classes, array\(\['blue', 'red'\].*\); got also array\(\['green'\]"):
        estimator.partial_fit(X_ROWS, np.where(reds, "green", labels))
    with pytest.raises(ValueError, match=r"^y must hold only the labels of classes, array\(\['blue', 'red'\].*\); got also array\(\[0, 1, 2\]\)$"):
        estimator.partial_fit(X_ROWS, np.arange(400) % 3)
    assert estimator.n_iter_ == 2  # the refused calls trained nothing
    for _ in range(30):
        estimator.partial_fit(X_ROWS, labels)
    assert estimator.score(X_ROWS, labels) > 0.85


def test_clone_and_a_grid_search_over_solver_and_batch_size():
    estimator = network_estimator(learning_rate_init=0.05, max_iter=10, solver="adam", batch_size=32, momentum=0.5)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params() and not hasattr(copy, "model_")
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(network_estimator(learning_rate_init=0.05, max_iter=10), {"solver": ["sgd", "adam"], "batch_size": [None, 32]}, cv=folds)
    search.fit(X_ROWS, Y_LABELS)
    assert search.best_params_ == {"batch_size": 32, "solver": "adam"}
    scores = {(p["solver"], p["batch_size"]): score for p, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])}
    assert scores[("sgd", None)] < 0.75 and scores[("adam", 32)] > 0.85
    assert search.best_estimator_.history_.unit == "epoch"


def test_the_names_before_learning_rate_init_and_max_iter_still_train_with_a_future_warning():
    renamed = NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", learning_rate=1.2, num_iterations=50, random_state=3)
    with pytest.warns(FutureWarning) as warned:
        renamed.fit(X_ROWS, Y_LABELS)
    assert [str(warning.message) for warning in warned] == [
        ("NeuralNetworkClassifier: learning_rate is renamed learning_rate_init (scikit-learn's MLPClassifier's name) in 0.3.0 "
         "and will be removed in 0.4.0; use learning_rate_init=1.2"),
        ("NeuralNetworkClassifier: num_iterations is renamed max_iter (scikit-learn's MLPClassifier's name) in 0.3.0 "
         "and will be removed in 0.4.0; use max_iter=50"),
    ]
    assert {warning.filename for warning in warned} == {__file__}  # the caller's line
    current = NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", learning_rate_init=1.2, max_iter=50, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        current.fit(X_ROWS, Y_LABELS)
    assert renamed.history_.costs == current.history_.costs and renamed.n_iter_ == 50
    with pytest.raises(ValueError, match=r"^num_iterations is the deprecated name of max_iter; set max_iter only \(got num_iterations=50 and max_iter=20\)$"):
        LogisticRegressionClassifier(num_iterations=50, max_iter=20).fit(X_ROWS, Y_LABELS)


# -- array API dispatch ---------------------------------------------------------------------------
@pytest.mark.parametrize("make_estimator", [
    lambda: NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", learning_rate_init=1.2, max_iter=200, random_state=3),
    lambda: LogisticRegressionClassifier(max_iter=200),
    lambda: NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="adam", batch_size=64, learning_rate_init=0.05, max_iter=5, random_state=3),
], ids=["network", "logistic", "adam on mini-batches"])
def test_with_array_api_dispatch_arrays_stay_in_their_namespace_and_device(xp, to_xp, make_estimator, monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    reference = make_estimator().fit(X_ROWS, Y_LABELS)
    X, y = to_xp(X_ROWS), to_xp(Y_LABELS)
    with config_context(array_api_dispatch=True):
        estimator = make_estimator().fit(X, y)
        proba, labels = estimator.predict_proba(X), estimator.predict(X)
        scores = estimator.decision_function(X)
        assert estimator.history_.backend == backend_name(xp)
    assert_same_place(proba, X)
    assert_same_place(scores, X)
    assert tuple(scores.shape) == (X_ROWS.shape[0],)
    assert_same_place(labels, y)
    assert_same_place(estimator.classes_, y)
    np.testing.assert_allclose(to_numpy(proba), reference.predict_proba(X_ROWS), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(scores), reference.decision_function(X_ROWS), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(to_numpy(labels), reference.predict(X_ROWS))


def test_with_array_api_dispatch_partial_fit_trains_in_the_namespace_of_x(xp, to_xp, monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    reference = network_estimator(solver="adam", batch_size=64, learning_rate_init=0.05, max_iter=2).fit(X_ROWS, Y_LABELS)
    X, y = to_xp(X_ROWS), to_xp(Y_LABELS)
    with config_context(array_api_dispatch=True):
        estimator = network_estimator(solver="adam", batch_size=64, learning_rate_init=0.05)
        estimator.partial_fit(X, y, classes=[0.0, 1.0]).partial_fit(X, y)
        proba = estimator.predict_proba(X)
    assert_same_place(proba, X)
    assert_same_place(estimator.classes_, y)
    np.testing.assert_allclose(to_numpy(proba), reference.predict_proba(X_ROWS), rtol=1e-10)


def test_with_array_api_dispatch_a_dask_array_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    da = pytest.importorskip("dask.array")
    with config_context(array_api_dispatch=True), pytest.raises(TypeError, match=r"X is a Dask array: .*X.compute\(\)"):
        NeuralNetworkClassifier(max_iter=5).fit(da.from_array(X_ROWS), da.from_array(Y_LABELS))


def test_with_array_api_dispatch_predicting_on_another_namespace_is_refused(monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    torch = pytest.importorskip("torch")
    with config_context(array_api_dispatch=True):
        estimator = LogisticRegressionClassifier(max_iter=5).fit(torch.asarray(X_ROWS), torch.asarray(Y_LABELS))
        with pytest.raises(ValueError, match=r"LogisticRegressionClassifier.predict\(\): X is a numpy array .*must use the same namespace"):
            estimator.predict(X_ROWS)


def test_alpha_is_fits_l2_and_mlpclassifiers_l2_penalty():
    """``alpha`` is ``fit(l2=alpha)`` [C2 2.1], bit for bit, and means what it means to MLPClassifier:
    from the same weights, on the same batches, an epoch of its gradient descent with that alpha
    records our epoch's cost and ends at our parameters (to rounding: the operations differ in
    order). A bad alpha is a ValueError naming it."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    alpha = 3.0
    estimator = network_estimator(alpha=alpha, learning_rate_init=0.5, max_iter=1, batch_size=100, shuffle=False)
    estimator.fit(X_ROWS, Y_LABELS)
    model = network_model()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.5, epochs=1, batch_size=100, shuffle=False, l2=alpha)
    assert estimator.history_.costs == history.costs
    for key, value in model.get_parameters().items():
        np.testing.assert_array_equal(estimator.model_.get_parameters()[key], value)
    unregularized = network_estimator(learning_rate_init=0.5, max_iter=1, batch_size=100, shuffle=False).fit(X_ROWS, Y_LABELS)
    assert unregularized.history_.costs[0] < history.costs[0]

    start = arraynet.initialize_parameters([2, 6, 1], "he", 1)  # network_model()'s
    mlp = MLPClassifier(
        hidden_layer_sizes=(6,), activation="tanh", solver="sgd", alpha=alpha, batch_size=100, learning_rate_init=0.5,
        momentum=0.0, max_iter=1, shuffle=False, warm_start=True, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch each
        mlp.fit(X_ROWS, Y_LABELS)  # its layers made; then the weights set and one epoch from them
        mlp.coefs_ = [start["W1"].T.copy(), start["W2"].T.copy()]
        mlp.intercepts_ = [start["b1"][:, 0].copy(), start["b2"][:, 0].copy()]
        mlp.fit(X_ROWS, Y_LABELS)
    assert mlp.loss_curve_[-1] == pytest.approx(history.costs[0], rel=1e-12)
    trained = model.get_parameters()
    for l in (1, 2):
        np.testing.assert_allclose(mlp.coefs_[l - 1], trained[f"W{l}"].T, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(mlp.intercepts_[l - 1], trained[f"b{l}"][:, 0], rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match=r"alpha must be a finite number >= 0 \(the L2 penalty; 0: none\), e.g. 1e-4; got -1.0"):
        LogisticRegressionClassifier(alpha=-1.0).fit(X_ROWS, Y_LABELS)


# -- more than two classes ------------------------------------------------------------------------
def digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    return train_test_split(digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target)


def iris_rows():
    from sklearn.datasets import load_iris

    iris = load_iris()
    return StandardScaler().fit_transform(iris.data), iris.target_names[iris.target]  # string labels


@pytest.mark.parametrize("estimator", [
    NeuralNetworkClassifier(hidden_layer_sizes=(32,), solver="adam", batch_size=32, learning_rate_init=0.003, max_iter=30, random_state=0),
    LogisticRegressionClassifier(solver="adam", batch_size=32, learning_rate_init=0.01, max_iter=30, random_state=0),
], ids=["network", "multinomial logistic"])
def test_ten_digits_are_learnt_by_a_softmax_output(estimator):
    """10 classes: the network ends in 10 softmax units; predict_proba (n, 10), rows summing to 1,
    decision_function the (n, 10) logits, predict the class of the largest."""
    X_train, X_test, y_train, y_test = digits_split()
    estimator.fit(X_train, y_train)
    np.testing.assert_array_equal(estimator.classes_, np.arange(10))
    assert estimator.model_.classes == 10 and estimator.score(X_test, y_test) > 0.9
    proba, scores, labels = estimator.predict_proba(X_test), estimator.decision_function(X_test), estimator.predict(X_test)
    assert proba.shape == scores.shape == (X_test.shape[0], 10) and labels.shape == (X_test.shape[0],)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(labels, estimator.classes_[scores.argmax(axis=1)])
    np.testing.assert_array_equal(labels, estimator.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(proba, estimator.model_.predict_proba(X_test.T).T)


def test_string_labels_of_three_classes_train_the_softmax_network_arraynet_trains():
    """classes_ sorted as scikit-learn sorts them, learnt as 0, 1, 2: bit for bit NeuralNetwork([4, 8, 3])
    on the class indices; the logistic estimator is NeuralNetwork([4, 3]) (multinomial)."""
    X, labels = iris_rows()
    estimator = NeuralNetworkClassifier(hidden_layer_sizes=(8,), random_state=2, max_iter=300).fit(X, labels)
    assert list(estimator.classes_) == ["setosa", "versicolor", "virginica"]
    indices = np.searchsorted(estimator.classes_, labels)[None, :].astype(float)
    model = arraynet.NeuralNetwork([4, 8, 3], seed=2)
    history = model.fit(X.T, indices, learning_rate=0.1, num_iterations=300)
    assert estimator.history_.costs == history.costs
    np.testing.assert_array_equal(estimator.predict(X), estimator.classes_[model.predict(X.T)[0].astype(int)])
    assert estimator.score(X, labels) > 0.95

    logistic = LogisticRegressionClassifier(max_iter=300).fit(X, labels)
    reference = arraynet.NeuralNetwork([4, 3], init="zeros")
    assert logistic.history_.costs == reference.fit(X.T, indices, learning_rate=0.1, num_iterations=300).costs
    assert logistic.score(X, labels) > 0.9
    assert logistic.predict_proba(X).shape == (150, 3)


def test_two_classes_keep_one_sigmoid_unit_and_two_probability_columns():
    estimator = LogisticRegressionClassifier(max_iter=20).fit(X_ROWS, Y_LABELS)
    assert isinstance(estimator.model_, arraynet.LogisticRegression)
    network = NeuralNetworkClassifier(max_iter=5).fit(X_ROWS, np.where(Y_LABELS == 1, "b", "a"))
    assert network.model_.layer_dims[-1] == 1 and network.model_.classes == 2
    assert estimator.predict_proba(X_ROWS).shape == (400, 2) and estimator.decision_function(X_ROWS).shape == (400,)


def test_partial_fit_with_classes_trains_three_classes_from_batches_of_one():
    X, labels = iris_rows()
    fitted = network_estimator(learning_rate_init=0.05, max_iter=2, solver="adam", batch_size=16).fit(X, labels)
    partial = network_estimator(learning_rate_init=0.05, solver="adam", batch_size=16)
    partial.partial_fit(X, labels, classes=np.unique(labels)).partial_fit(X, labels)
    assert partial.history_.costs == fitted.history_.costs[1:]
    np.testing.assert_array_equal(partial.predict_proba(X), fitted.predict_proba(X))
    online = network_estimator(learning_rate_init=0.05, solver="adam", batch_size=16)
    for _ in range(20):
        for name in ("virginica", "setosa", "versicolor"):  # each batch one class
            online.partial_fit(X[labels == name], labels[labels == name], classes=["virginica", "setosa", "versicolor"])
    assert list(online.classes_) == ["setosa", "versicolor", "virginica"] and online.predict_proba(X).shape == (150, 3)
    with pytest.raises(ValueError, match=r"^classes must be the classes_ of the first call to partial_fit .*; got \['setosa', 'versicolor'\]$"):
        online.partial_fit(X, labels, classes=["setosa", "versicolor"])


# -- early stopping -------------------------------------------------------------------------------
def test_early_stopping_holds_out_a_stratified_fraction_stops_and_restores_the_best_epoch():
    """MLPClassifier's early_stopping: validation_fraction held out (stratified, drawn from
    random_state), stopped after n_iter_no_change epochs without a validation accuracy better by tol,
    the best epoch's parameters restored: bit for bit arraynet's EarlyStopping on that split."""
    from sklearn.model_selection import StratifiedShuffleSplit

    X_train, X_test, y_train, y_test = digits_split()
    parameters = {"hidden_layer_sizes": (32,), "solver": "adam", "batch_size": 32, "learning_rate_init": 0.003, "random_state": 0}
    estimator = NeuralNetworkClassifier(**parameters, max_iter=500, early_stopping=True, validation_fraction=0.2,
                                        n_iter_no_change=5, tol=0.0).fit(X_train, y_train)
    assert estimator.n_iter_ < 500 and estimator.history_.stopped_early
    assert len(estimator.validation_scores_) == estimator.n_iter_  # after each epoch
    assert estimator.best_validation_score_ == max(estimator.validation_scores_)
    assert estimator.score(X_test, y_test) > 0.9

    train, val = next(StratifiedShuffleSplit(1, test_size=0.2, random_state=0).split(X_train, y_train))
    train, val = np.sort(train), np.sort(val)
    assert np.abs(np.bincount(y_train[val]) - np.bincount(y_train) * 0.2).max() <= 1  # each class in its proportion
    model = arraynet.NeuralNetwork([64, 32, 10], seed=0)
    early = arraynet.EarlyStopping(monitor="val_accuracy", patience=5, min_delta=0.0)
    history = model.fit(X_train[train].T, y_train[train][None, :].astype(float), 0.003, optimizer=arraynet.Adam(), batch_size=32,
                        epochs=500, validation_data=(X_train[val].T, y_train[val][None, :].astype(float)), early_stopping=early)
    assert estimator.history_.costs == history.costs and estimator.validation_scores_ == history.val_accuracies
    for key, value in model.get_parameters().items():  # restored: the best epoch's
        np.testing.assert_array_equal(estimator.model_.get_parameters()[key], value)
    assert estimator.score(X_train[val], y_train[val]) == early.best == estimator.best_validation_score_
    assert early.best_at == early.stopped_at - 5 and early.stopped_at == estimator.n_iter_ - 1  # epochs counted from 0


def test_without_early_stopping_tol_and_n_iter_no_change_change_nothing():
    first = network_estimator(max_iter=30).fit(X_ROWS, Y_LABELS)
    second = network_estimator(max_iter=30, tol=10.0, n_iter_no_change=1).fit(X_ROWS, Y_LABELS)
    assert first.history_.costs == second.history_.costs and second.n_iter_ == 30


# -- issue 21: unscaled features, float32 overflow -------------------------------------------------
def test_unscaled_features_warn_once_naming_the_fix_and_scaled_ones_do_not():
    """Raw breast cancer data (a feature's mean 881, std 569) trains to the majority rate: a
    UserWarning says so; standardized data, or standardize=True, trains without one."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(UserWarning) as warned:
        raw = NeuralNetworkClassifier(random_state=0).fit(X, y)
    messages = [str(w.message) for w in warned if issubclass(w.category, UserWarning)]
    assert len(messages) == 1 and "far from unit scale" in messages[0]
    assert "standardize=True" in messages[0] and "StandardScaler" in messages[0]
    assert {w.filename for w in warned} == {__file__}
    assert raw.score(X, y) < 0.65
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = make_pipeline(StandardScaler(), NeuralNetworkClassifier(random_state=0)).fit(X, y)
        standardized = NeuralNetworkClassifier(random_state=0, standardize=True).fit(X, y)
        LogisticRegressionClassifier(max_iter=10).fit(X_ROWS, Y_LABELS)
    assert scaled.score(X, y) > 0.95 and standardized.score(X, y) > 0.95


def test_a_float64_value_that_overflows_float32_is_named_with_what_to_do():
    estimator = LogisticRegressionClassifier(max_iter=5).fit(X_ROWS.astype(np.float32), Y_LABELS)
    X = X_ROWS.copy()
    X[3, 1] = 1e39  # finite in float64, Inf in float32
    message = (r"^LogisticRegressionClassifier.predict\(\): X holds 1e39, which overflows float32, the dtype the estimator "
               r"was trained in \(float32's range is \+-3.4e38\); scale the features \(e.g. StandardScaler in a Pipeline\) "
               r"or train in float64 \(fit on float64 X\)$")
    with pytest.raises(ValueError, match=message):
        estimator.predict(X)
    with pytest.raises(ValueError, match=r"partial_fit\(\): X holds 1e39, which overflows float32"):
        estimator.partial_fit(X, Y_LABELS)
    assert estimator.predict(X_ROWS).shape == (400,)  # float64 within range: cast as before


def test_with_array_api_dispatch_three_classes_stay_in_their_namespace(xp, to_xp, monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    X_np, labels = iris_rows()
    y_np = np.searchsorted(np.unique(labels), labels)
    make = lambda: NeuralNetworkClassifier(hidden_layer_sizes=(8,), random_state=2, max_iter=5, batch_size="auto", early_stopping=True, n_iter_no_change=3)
    reference = make().fit(X_np, y_np)
    X, y = to_xp(X_np), to_xp(y_np)
    with config_context(array_api_dispatch=True):
        estimator = make().fit(X, y)
        proba, scores, predicted = estimator.predict_proba(X), estimator.decision_function(X), estimator.predict(X)
    assert_same_place(proba, X)
    assert_same_place(predicted, y)
    assert tuple(proba.shape) == tuple(scores.shape) == (150, 3)
    assert estimator.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(to_numpy(proba), reference.predict_proba(X_np), rtol=1e-10)
    np.testing.assert_array_equal(to_numpy(predicted), reference.predict(X_np))


def test_early_stopping_on_batch_gradient_descent_warns_that_it_counts_updates():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    with pytest.warns(UserWarning, match=r"early_stopping=True, batch_size=None\) checks the validation score after each update"):
        NeuralNetworkClassifier(hidden_layer_sizes=(4,), max_iter=20, early_stopping=True, standardize=True, random_state=0).fit(X, y)
