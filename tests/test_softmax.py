"""A softmax output for C classes [C2 3]: the activation and the categorical cross-entropy from the
logits, labels as class indices or one-hot columns, prediction, scoring, the gradient check, the
same numbers on every backend, and bad labels said clearly."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy
from arraynet.kernel.cost import softmax_cost_from_logits

from .conftest import assert_same_place, backend_cases

RNG = np.random.default_rng(0)
C, M = 3, 90
CENTERS = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
LABELS = np.repeat(np.arange(C), M // C)
X3 = (CENTERS[LABELS] + RNG.normal(size=(M, 2))).T  # (2, 90): three blobs, one example per column
Y3 = LABELS.reshape(1, -1)
ONE_HOT = (np.arange(C)[:, None] == Y3).astype(np.float64)


def network(**settings):
    return arraynet.NeuralNetwork([2, 6, C], hidden_activation="tanh", seed=1, **settings)


def test_softmax_columns_are_probabilities_and_stay_finite_for_huge_logits():
    Z = np.array([[1e4, -1e4, 1.0], [0.0, 1e4, 2.0], [-3.0, 0.0, 3.0]], dtype=np.float32)
    A = arraynet.Softmax()(Z)
    assert np.all(np.isfinite(A)) and np.allclose(A.sum(axis=0), 1.0)
    np.testing.assert_allclose(A[:, 2], np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum(), rtol=1e-6)
    right = np.eye(3, dtype=np.float32)  # the huge logits are the labels': losses 0, 0 and log(e + e^2 + e^3) - 3
    wrong = right[[1, 0, 2]]  # the huge logits are not: losses 1e4 and 2e4
    tail = np.log(np.exp([1.0, 2.0, 3.0]).sum()) - 3
    assert float(softmax_cost_from_logits(Z, right, np)) == pytest.approx(tail / 3, rel=1e-5)
    assert float(softmax_cost_from_logits(Z, wrong, np)) == pytest.approx((1e4 + 2e4 + tail) / 3, rel=1e-5)


def test_the_categorical_cost_is_minus_the_mean_log_probability_of_the_label():
    Z = RNG.normal(size=(C, 7))
    A = np.exp(Z) / np.exp(Z).sum(axis=0)
    Y = np.eye(C)[:, RNG.integers(0, C, 7)]
    assert float(softmax_cost_from_logits(Z, Y, np)) == pytest.approx(-np.mean(np.sum(Y * np.log(A), axis=0)), rel=1e-13)


def test_the_default_output_is_softmax_for_several_units_and_sigmoid_for_one():
    assert isinstance(network().activations[-1], arraynet.Softmax) and network().classes == 3
    assert isinstance(arraynet.NeuralNetwork([2, 1]).activations[-1], arraynet.Sigmoid)
    logistic = arraynet.NeuralNetwork([2, C], seed=0)  # multi-class logistic regression
    logistic.fit(X3, Y3, 0.5, num_iterations=200)
    assert logistic.accuracy(X3, Y3) > 0.9


def test_indices_and_one_hot_labels_train_to_the_same_parameters_and_score_the_same():
    by_index, by_one_hot = network(), network()
    by_index.fit(X3, Y3, 0.3, optimizer="adam", batch_size=16, epochs=5)
    by_one_hot.fit(X3, ONE_HOT, 0.3, optimizer="adam", batch_size=16, epochs=5)
    for key, value in by_index.get_parameters().items():
        np.testing.assert_array_equal(by_one_hot.get_parameters()[key], value)
    assert by_index.accuracy(X3, Y3) == by_index.accuracy(X3, ONE_HOT) > 0.9
    assert by_index.cost(X3, Y3) == by_index.cost(X3, ONE_HOT)
    assert by_index.cost(X3, Y3.astype(np.float32)) == by_index.cost(X3, Y3)  # indices in any dtype


def test_prediction_gives_class_indices_probabilities_and_logits():
    model = network()
    model.fit(X3, Y3, 0.5, num_iterations=300)
    labels, probabilities, logits = model.predict(X3), model.predict_proba(X3), model.decision_function(X3)
    assert labels.shape == (1, M) and probabilities.shape == logits.shape == (C, M)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(labels[0], np.argmax(logits, axis=0))
    assert set(np.unique(labels)) <= {0.0, 1.0, 2.0}
    assert model.accuracy(X3, Y3) == np.mean(labels[0] == LABELS)


def test_backpropagation_through_a_softmax_output_passes_the_gradient_check():
    model = arraynet.NeuralNetwork([2, 4, C], hidden_activation="relu", seed=2)
    model.fit(X3, Y3, 0.1, num_iterations=3)
    assert arraynet.gradient_check(model, X3[:, ::5], Y3[:, ::5]) < 1e-7


@pytest.mark.parametrize("backend_case", backend_cases(("float64",)), indirect=True)
def test_every_backend_trains_a_softmax_network_to_numpys_numbers(backend_case, to_xp):
    model, reference = network(), network()
    history = model.fit(to_xp(X3), to_xp(Y3), 0.05, optimizer="adam", batch_size=32, epochs=4)
    expected = reference.fit(X3, Y3, 0.05, optimizer="adam", batch_size=32, epochs=4, fast_paths=False)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-9)
    for key, value in model.get_parameters().items():
        np.testing.assert_allclose(to_numpy(value), reference.get_parameters()[key], rtol=1e-9, atol=1e-12)
    assert_same_place(model.predict_proba(to_xp(X3)), to_xp(X3))
    assert model.accuracy(to_xp(X3), to_xp(Y3)) == reference.accuracy(X3, Y3)


def test_batch_gradient_descent_trains_a_softmax_network_on_every_step():
    fast, generic = network(), network()
    fast_history = fast.fit(X3, Y3, 0.5, num_iterations=30, record_every=10)
    generic_history = generic.fit(X3, Y3, 0.5, num_iterations=30, record_every=10, fast_paths=False)
    np.testing.assert_array_equal(fast_history.costs, generic_history.costs)
    assert generic_history.costs[-1] < generic_history.costs[0]


@pytest.mark.parametrize(
    ("Y", "message"),
    [
        (np.array([[0, 1, 3] * 30]), r"Y must hold class indices 0\.\.2 \(whole numbers, one per example\) for a model of 3 output units; got 3"),
        (np.array([[0, -1, 2] * 30]), r"class indices 0\.\.2 .*got -1"),
        (np.array([[0, 1.5, 2] * 30]), r"class indices 0\.\.2 .*got 1\.5"),
        (np.array([[0, np.nan, 2] * 30]), r"Y must be finite; it contains NaN or Inf"),
        (np.tile([[1.0], [1.0], [0.0]], (1, 90)), r"Y of shape \(C, m\) = \(3, 90\) must hold one-hot columns \(one 1 and 2 zeros each\)"),
        (np.zeros((2, 90)), r"Y must hold class indices of shape \(1, m\) = \(1, 90\) or one-hot columns of shape \(C, m\) = \(3, 90\) .*got shape \(2, 90\)"),
    ],
    ids=["index too large", "negative", "fractional", "nan", "one-hot sums", "shape"],
)
def test_bad_labels_say_what_is_wrong(Y, message):
    model = network()
    with pytest.raises(ValueError, match=message):
        model.fit(X3, Y, 0.1, num_iterations=2)


def test_an_output_that_does_not_fit_its_units_is_refused():
    with pytest.raises(ValueError, match=r"a softmax output needs C >= 2 units \(classes\); layer_dims \[2, 1\] ends in 1"):
        arraynet.NeuralNetwork([2, 1], output_activation="softmax")
    with pytest.raises(ValueError, match=r"a sigmoid output has one unit \(binary labels\); layer_dims \[2, 4, 3\] ends in 3: .*output_activation='softmax'"):
        arraynet.NeuralNetwork([2, 4, 3], output_activation="sigmoid")
    with pytest.raises(ValueError, match=r"activations\[0\] is 'softmax', which is an output activation only"):
        arraynet.NeuralNetwork([2, 4, 3], hidden_activation="softmax")
