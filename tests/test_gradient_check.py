"""Gradient checking [C2 4]: backpropagation agrees with centered differences of the cost for every
activation and both models, on every backend, and a wrong backward is caught."""

from __future__ import annotations

import pytest

import arraynet

from .conftest import backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()
X, Y = X_FLOWER[:, ::20], Y_FLOWER[:, ::20]  # 20 examples: two forward passes per parameter


@pytest.mark.parametrize("backend_case", backend_cases(("float64",)), indirect=True)
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_backpropagation_agrees_with_centered_differences(hidden, backend_case, to_xp):
    model = arraynet.NeuralNetwork([2, 4, 3, 1], hidden_activation=hidden, seed=1)
    model.fit(to_xp(X), to_xp(Y), 0.1, num_iterations=5)
    assert arraynet.gradient_check(model, to_xp(X), to_xp(Y)) < 1e-7


def test_logistic_regression_and_a_standardizing_model_pass_too():
    logistic = arraynet.LogisticRegression(init="he", seed=2, standardize=True)
    logistic.fit(X * 10, Y, 0.1, num_iterations=3)
    assert arraynet.gradient_check(logistic, X * 10, Y) < 1e-7


def test_a_wrong_backward_is_caught():
    class Wrong(arraynet.NeuralNetwork):
        def _backward(self, AL, Y, caches, xp):
            grads = super()._backward(AL, Y, caches, xp)
            grads["dW1"] = grads["dW1"] * 1.5
            return grads

    model = Wrong([2, 4, 1], hidden_activation="tanh", seed=1)
    model.fit(X, Y, 0.1, num_iterations=2)
    assert arraynet.gradient_check(model, X, Y) > 1e-2


def test_the_parameters_are_left_unchanged_and_bad_input_is_said():
    model = arraynet.NeuralNetwork([2, 3, 1], seed=0)
    with pytest.raises(arraynet.NotFittedError):
        arraynet.gradient_check(model, X, Y)
    model.fit(X, Y, 0.1, num_iterations=1)
    before = {key: value.copy() for key, value in model.get_parameters().items()}
    arraynet.gradient_check(model, X, Y)
    for key, value in model.get_parameters().items():
        assert (value == before[key]).all()
    with pytest.raises(ValueError, match=r"epsilon must be a small positive number, e.g. 1e-7; got 0"):
        arraynet.gradient_check(model, X, Y, epsilon=0)


def test_a_float32_model_is_checked_in_float64():
    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=1)
    model.fit(X.astype("float32"), Y.astype("float32"), 0.1, num_iterations=3)
    assert arraynet.gradient_check(model, X.astype("float32"), Y.astype("float32")) < 1e-7  # was 0.53
    assert model.get_parameters()["W1"].dtype == "float32"
