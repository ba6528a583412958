"""The scikit-learn estimators: scikit-learn's own estimator checks, Pipeline and GridSearchCV, labels
of any two classes, the same networks as arraynet's models, and array API dispatch on every backend."""

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


@pytest.mark.parametrize("estimator", [NeuralNetworkClassifier(), LogisticRegressionClassifier()], ids=lambda e: type(e).__name__)
def test_scikit_learns_estimator_checks_pass(estimator, monkeypatch):
    """All of them, with none expected to fail; SCIPY_ARRAY_API=1 lets the array API checks run on
    the namespaces and devices installed here (array-api-strict, PyTorch CPU, ...)."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped checks (pandas, CUDA, ...) warn
        results = check_estimator(estimator.set_params(num_iterations=200), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert failed == []
    ran = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_classifiers_train", "check_classifiers_classes", "check_estimators_pickle",
            "check_classifier_not_supporting_multiclass", "check_array_api_input",
            "check_decision_proba_consistency"} <= ran


def test_the_estimator_trains_the_network_arraynet_trains_with_the_same_seed():
    estimator = NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", init="small",
                                        learning_rate=1.2, num_iterations=300, random_state=3)
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
    estimator = LogisticRegressionClassifier(num_iterations=50).fit(X_ROWS, labels)
    assert list(estimator.classes_) == ["blue", "red"]
    reference = arraynet.LogisticRegression()
    reference.fit(X_FLOWER, Y_FLOWER, learning_rate=0.1, num_iterations=50)
    expected = np.where(reference.predict(X_FLOWER)[0] == 1, "red", "blue")
    np.testing.assert_array_equal(estimator.predict(X_ROWS), expected)


def test_a_pipeline_and_a_grid_search_pick_the_better_network():
    """One hidden unit draws a straight boundary (about 70% on the flower); eight learn the petals."""
    X = X_ROWS * 10.0 + 3.0  # unscaled: the pipeline's scaler puts it back
    pipeline = make_pipeline(StandardScaler(), NeuralNetworkClassifier(activation="tanh", learning_rate=1.2, num_iterations=500, random_state=0))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)  # the flower's samples come ordered by class
    search = GridSearchCV(pipeline, {"neuralnetworkclassifier__hidden_layer_sizes": [(1,), (8,)]}, cv=folds)
    search.fit(X, Y_LABELS)
    assert search.best_params_ == {"neuralnetworkclassifier__hidden_layer_sizes": (8,)}
    low, high = search.cv_results_["mean_test_score"]
    assert low < 0.75 and high > 0.85
    assert search.score(X, Y_LABELS) > 0.85


@pytest.mark.parametrize("make_estimator", [
    lambda: NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", learning_rate=1.2, num_iterations=300, random_state=3),
    lambda: LogisticRegressionClassifier(num_iterations=300),
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
    pipeline = make_pipeline(StandardScaler(), NeuralNetworkClassifier(hidden_layer_sizes=(8,), activation="tanh", learning_rate=1.2, num_iterations=500, random_state=0))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    aucs = cross_val_score(pipeline, X, Y_LABELS, scoring="roc_auc", cv=folds)
    assert aucs.min() > 0.9
    train, test = next(folds.split(X, Y_LABELS))
    fitted = clone(pipeline).fit(X[train], Y_LABELS[train])
    assert aucs[0] == roc_auc_score(Y_LABELS[test], fitted.decision_function(X[test]))


def test_random_state_may_be_a_random_state_object():
    first = NeuralNetworkClassifier(num_iterations=5, random_state=np.random.RandomState(1)).fit(X_ROWS, Y_LABELS)
    second = NeuralNetworkClassifier(num_iterations=5, random_state=np.random.RandomState(1)).fit(X_ROWS, Y_LABELS)
    np.testing.assert_array_equal(first.predict_proba(X_ROWS), second.predict_proba(X_ROWS))


@pytest.mark.parametrize(
    "estimator, y, message",
    [
        (NeuralNetworkClassifier(), np.arange(400) % 3, "Only binary classification is supported. The type of the target is multiclass"),
        (NeuralNetworkClassifier(), np.ones(400), "needs samples of 2 classes in y; got 1 class"),
        (NeuralNetworkClassifier(), np.linspace(0, 1, 400), "Unknown label type"),
        (NeuralNetworkClassifier(hidden_layer_sizes=(4, 0)), Y_LABELS, r"hidden_layer_sizes must be a positive integer or a sequence of them; got \(4, 0\)"),
        (NeuralNetworkClassifier(activation="swish"), Y_LABELS, "must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu'"),
        (LogisticRegressionClassifier(learning_rate=-1.0), Y_LABELS, "learning_rate must be a finite number > 0; got -1.0"),
    ],
    ids=["multiclass", "one class", "continuous", "hidden_layer_sizes", "activation", "learning_rate"],
)
def test_bad_labels_and_hyperparameters_are_named(estimator, y, message):
    with pytest.raises(ValueError, match=message):
        estimator.fit(X_ROWS, y)


# -- array API dispatch ---------------------------------------------------------------------------
@pytest.mark.parametrize("make_estimator", [
    lambda: NeuralNetworkClassifier(hidden_layer_sizes=(4,), activation="tanh", learning_rate=1.2, num_iterations=200, random_state=3),
    lambda: LogisticRegressionClassifier(num_iterations=200),
], ids=["network", "logistic"])
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


def test_with_array_api_dispatch_a_dask_array_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    da = pytest.importorskip("dask.array")
    with config_context(array_api_dispatch=True), pytest.raises(TypeError, match=r"X is a Dask array: .*X.compute\(\)"):
        NeuralNetworkClassifier(num_iterations=5).fit(da.from_array(X_ROWS), da.from_array(Y_LABELS))


def test_with_array_api_dispatch_predicting_on_another_namespace_is_refused(monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    torch = pytest.importorskip("torch")
    with config_context(array_api_dispatch=True):
        estimator = LogisticRegressionClassifier(num_iterations=5).fit(torch.asarray(X_ROWS), torch.asarray(Y_LABELS))
        with pytest.raises(ValueError, match=r"LogisticRegressionClassifier.predict\(\): X is a numpy array .*must use the same namespace"):
            estimator.predict(X_ROWS)
